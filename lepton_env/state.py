"""The state of a batch of episodes: arrays with a leading batch axis.

The world's fields have a row per episode (``B``); each firm's fields have a
row per (episode, firm), episode-major (``B * F`` rows, row ``b * F + f``), so
with one firm every field has ``B`` rows. Shapes: ``R`` regions, ``K``
competitor slots, ``P`` partner candidates per region. Quantities derived from
the state (market potential at a quarter, served demand, revenue) are computed
by the mechanisms, never stored twice.
"""

from __future__ import annotations

import dataclasses
from collections import namedtuple
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class State:
    """Everything that changes within an episode."""

    episode_key: NDArray[np.uint64]  # (B,) counter-RNG key of the episode
    quarter: NDArray[np.int32]  # (B,) quarters elapsed
    cash: NDArray[np.float64]  # (B * F,) $M (a firm's field: a row per (episode, firm))
    revenue: NDArray[
        np.float64
    ]  # (B,) net revenue booked last quarter (at reset: at t=0 shares), $M
    product_quality: NDArray[np.float32]  # (B,) relative to the technology frontier, [0, 1]
    rnd_intensity: NDArray[np.float32]  # (B,) share of the maximum R&D budget, [0, 1]
    market_size: NDArray[np.float32]  # (B, R) episode multiplier of market potential
    psychic_distance: NDArray[np.float32]  # (B, R) episode distance from home, [0, 1]
    market_fit: NDArray[np.float32]  # (B, R) hidden product-market fit, utility units
    fit_mean: NDArray[np.float32]  # (B, R) the firm's belief about the fit: mean
    fit_variance: NDArray[np.float32]  # (B, R) the firm's belief about the fit: variance
    adoption: NDArray[np.float32]  # (B, R) Bass adopted fraction, [0, 1]
    stringency: NDArray[np.float32]  # (B, R) regulatory stringency, [0, 1]
    closed_quarters: NDArray[np.int16]  # (B, R) quarters the region stays closed to the firm
    entry_mode: NDArray[np.int8]  # (B, R) EntryMode
    interim_mode: NDArray[np.int8]  # (B, R) mode served while a greenfield is built
    build_quarters: NDArray[np.int16]  # (B, R) quarters until the greenfield opens
    suspended_quarters: NDArray[np.int16]  # (B, R) quarters of regulator-imposed suspension
    firm_share: NDArray[np.float32]  # (B, R) market share, [0, 1]
    brand: NDArray[np.float32]  # (B, R) Nerlove-Arrow goodwill stock
    localization: NDArray[np.float32]  # (B, R) [0, 1]
    compliance: NDArray[np.float32]  # (B, R) [0, 1]
    diligence_rounds: NDArray[np.int8]  # (B, R)
    partner: NDArray[np.int8]  # (B, R) chosen partner index, -1 for none
    partner_quality: NDArray[np.float32]  # (B, R, P) hidden
    partner_estimate: NDArray[np.float32]  # (B, R, P) the firm's estimate of it
    competitor_active: NDArray[np.bool_]  # (B, R, K)
    competitor_share: NDArray[np.float32]  # (B, R, K) [0, 1]
    competitor_quality: NDArray[np.float32]  # (B, R, K)
    competitor_brand: NDArray[np.float32]  # (B, R, K)
    competitor_price: NDArray[np.float32]  # (B, R, K)
    unfunded_moves: NDArray[np.int16]  # (B,) valid moves refused last quarter: cash + credit short

    @cached_property
    def arrays(self) -> tuple[NDArray[Any], ...]:
        """The arrays in field order, as the compiled core takes them (built once per state)."""
        return StateTuple(*(getattr(self, f.name) for f in FIELDS))

    @property
    def batch_size(self) -> int:
        """B, the episodes."""
        return int(self.quarter.shape[0])

    num_envs = batch_size

    @property
    def num_firms(self) -> int:
        """F, the firms of each episode."""
        return int(self.cash.shape[0]) // self.batch_size

    def replace(self, **changes: Any) -> State:
        """A new State with some arrays replaced (this one is left as it is)."""
        return dataclasses.replace(self, **changes)

    def _rows(self, name: str, index: NDArray[np.intp] | slice) -> NDArray[np.intp] | slice:
        """The rows of field ``name`` that belong to episodes ``index``."""
        firms = self.num_firms
        if firms == 1 or name not in FIRM_FIELDS:
            return index
        envs = np.arange(self.batch_size)[index]
        return (envs[:, None] * firms + np.arange(firms)).ravel()

    def take(self, index: NDArray[np.intp] | slice) -> State:
        """The episodes at ``index``, with all their firms (copies)."""
        return State(
            **{f.name: getattr(self, f.name)[self._rows(f.name, index)].copy() for f in FIELDS}
        )

    def put(self, index: NDArray[np.intp], other: State) -> State:
        """A copy of this batch with episodes ``index`` taken from ``other``."""
        merged = {}
        for f in FIELDS:
            array = getattr(self, f.name).copy()
            array[self._rows(f.name, index)] = getattr(other, f.name)
            merged[f.name] = array
        return State(**merged)

    @staticmethod
    def concatenate(states: list[State]) -> State:
        """Stack batches along the batch axis."""
        return State(
            **{f.name: np.concatenate([getattr(s, f.name) for s in states]) for f in FIELDS}
        )

    def nbytes_per_env(self) -> float:
        """Memory of the state per environment, in bytes."""
        return sum(getattr(self, f.name).nbytes for f in FIELDS) / self.batch_size


FIELDS = dataclasses.fields(State)
#: A state's arrays in :class:`State` field order, as Python hands them over to the compiled
#: core (:mod:`lepton_env.kernel`).
StateTuple = namedtuple("StateTuple", [f.name for f in FIELDS])  # type: ignore[misc]
#: The fields with a row per (episode, firm); the others are the world's.
FIRM_FIELDS = frozenset(
    {"cash", "revenue", "product_quality", "rnd_intensity", "unfunded_moves"}
    | {"psychic_distance", "market_fit", "fit_mean", "fit_variance", "closed_quarters"}
    | {"entry_mode", "interim_mode", "build_quarters", "suspended_quarters", "firm_share"}
    | {"brand", "localization", "compliance", "diligence_rounds", "partner", "partner_estimate"}
)
