"""Competitor personas: how incumbents react to the entrant.

Each competitor slot has a persona, an index into the tuple of persona objects
the model is built with, so personas are pluggable. The defaults:

* ``Passive``: no reaction.
* ``PriceWarrior``: cuts price by a fraction ``c`` each quarter the entrant's
  share exceeds a threshold, down to a floor (limit pricing, Milgrom & Roberts 1982):
  ``p' = max(floor, p (1 - c))``.
* ``Innovator``: closes the gap to the technology frontier,
  ``q' = q + r (1 - q)``.
* ``Follower``: matches the entrant's marketing, ``B' = B + f max(0, B_firm - B)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numba import vectorize
from numpy.typing import NDArray

from lepton_env.params import Params


@vectorize(cache=True)
def price_war(price: float, firm_share: float, threshold: float, cut: float, floor: float) -> float:
    """``max(floor, p (1 - c))`` while the entrant's share exceeds the threshold, never a rise."""
    if firm_share > threshold:
        return min(max(floor, price * (1.0 - cut)), price)
    return price


@vectorize(cache=True)
def innovate(quality: float, rate: float) -> float:
    """``q + r (1 - q)``."""
    return quality + rate * (1.0 - quality)


@vectorize(cache=True)
def follow(brand: float, firm_brand: float, rate: float) -> float:
    """``B + f max(0, B_firm - B)``."""
    return brand + rate * max(firm_brand - brand, 0.0)


@dataclass(frozen=True)
class Rivals:
    """What a persona sees and changes, all (B, R, K) except the firm's (B, R)."""

    quality: NDArray[np.float32]
    brand: NDArray[np.float32]
    price: NDArray[np.float32]
    share: NDArray[np.float32]
    firm_share: NDArray[np.float32]  # the firm's share as an entrant: 0 in its home region
    firm_brand: NDArray[np.float32]


class Persona(Protocol):
    """A competitor behaviour: returns the rivals' new (quality, brand, price)."""

    @property
    def name(self) -> str: ...

    def react(
        self, rivals: Rivals, params: Params
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]: ...


@dataclass(frozen=True)
class Passive:
    """Does not react."""

    name: str = "passive"

    def react(
        self, rivals: Rivals, params: Params
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        return rivals.quality, rivals.brand, rivals.price


@dataclass(frozen=True)
class PriceWarrior:
    """Cuts price while the entrant's share is above the threshold."""

    name: str = "price_warrior"

    def react(
        self, rivals: Rivals, params: Params
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        price = price_war(
            rivals.price,
            rivals.firm_share[..., None],
            params.price_war_threshold,
            params.price_war_cut,
            params.price_floor,
        )
        return rivals.quality, rivals.brand, price.astype(np.float32)


@dataclass(frozen=True)
class Innovator:
    """Keeps closing the gap to the technology frontier."""

    name: str = "innovator"

    def react(
        self, rivals: Rivals, params: Params
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        quality = innovate(rivals.quality, params.innovation_rate)
        return quality.astype(np.float32), rivals.brand, rivals.price


@dataclass(frozen=True)
class Follower:
    """Matches the entrant's brand building."""

    name: str = "follower"

    def react(
        self, rivals: Rivals, params: Params
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        brand = follow(rivals.brand, rivals.firm_brand[..., None], params.follow_rate)
        return rivals.quality, brand.astype(np.float32), rivals.price


DEFAULT_PERSONAS: tuple[Persona, ...] = (Passive(), PriceWarrior(), Innovator(), Follower())

#: Personas the compiled core applies itself, with the same functions as their ``react``;
#: any other persona (a subclass too) is applied in Python through its ``react``.
BUILT_IN_KINDS: dict[type, int] = {Passive: 0, PriceWarrior: 1, Innovator: 2, Follower: 3}
CUSTOM_KIND = -1


def persona_kinds(
    persona_index: NDArray[np.float64], personas: tuple[Persona, ...]
) -> NDArray[np.int8]:
    """(R, K) kind of each competitor slot's persona for the compiled core."""
    kinds = np.array([BUILT_IN_KINDS.get(type(p), CUSTOM_KIND) for p in personas], dtype=np.int8)
    return kinds[persona_index.astype(np.intp)]


def react(
    rivals: Rivals,
    persona_index: NDArray[np.float64],
    personas: tuple[Persona, ...],
    params: Params,
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Apply each competitor's persona; ``persona_index`` is (R, K)."""
    quality, brand, price = rivals.quality, rivals.brand, rivals.price
    for index, persona in enumerate(personas):
        chosen = persona_index == index
        if not chosen.any():
            continue
        new_quality, new_brand, new_price = persona.react(rivals, params)
        quality = np.where(chosen, new_quality, quality)
        brand = np.where(chosen, new_brand, brand)
        price = np.where(chosen, new_price, price)
    return quality, brand, price
