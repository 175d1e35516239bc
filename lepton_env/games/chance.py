"""Chance nodes of a small game: the conflict coins, enumerated or fixed.

In a game whose only randomness is the settlement of conflicts (``duel_toy``,
``duel_market``: every other random rate is zero), the chance of a quarter is a
set of coins drawn from the episode key (docs/model.md, section 5b): per region
``r`` the acquisition winner, ``uniform(key, t, CONFLICT, 2 r)``, and the first
partner pick, ``uniform(key, t, CONFLICT, 2 r + 1)``. With two firms each is a
fair binary coin, and a coin matters only where both firms bid for the target
(both acquire in ``r``) or both partner in ``r``.

A chance node is enumerated without a second copy of the kernel's rules: the
quarter is stepped once per outcome under an episode key that realizes that
outcome (found by scanning keys with the kernel's own generator), and the
episode's key is restored afterwards. With nothing else random, the key changes
nothing else, so every outcome is stepped exactly and weighted ``2^-c`` for
``c`` contested coins. ``chance="fixed"`` steps the episode's own key instead:
the coin as the env would draw it for that seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.params import Params
from lepton_env.types import Move

#: Keys scanned per quarter before giving up on realizing every coin pattern.
MAX_KEY_SCAN = 1 << 20
#: Regions whose coins can be enumerated (2 R coins, ``4^R`` patterns per quarter).
MAX_COIN_REGIONS = 6

CHANCE_MODES = ("enumerate", "fixed")


class RandomGameError(ValueError):
    """The scenario draws random numbers besides the conflict coins."""


def random_parts(params: Params) -> list[str]:
    """The random parts of ``params`` other than the conflict coins (empty for a small game):
    the one-firm oracle's list (:mod:`lepton_env.agents.players.oracle`) and the rivals' own."""
    from lepton_env.agents.players.oracle import _is_deterministic

    rivals = {
        "rival_geopolitical_risk": params.rival_geopolitical_risk,
        "rival_fdi_screening": params.rival_fdi_screening,
    }
    return _is_deterministic(params) + [
        name for name, value in rivals.items() if np.any(np.asarray(value) != 0)
    ]


def check_small_game(params: Params) -> None:
    """Refuse a scenario that is not a two-firm game whose only chance is the conflict coins."""
    if params.num_firms != 2:
        raise RandomGameError(
            f"exact best responses need a two-firm scenario (duel_toy, duel_market); "
            f"this one has {params.num_firms} firms"
        )
    others = random_parts(params)
    if others:
        raise RandomGameError(
            f"exact best responses need the conflict coins to be the only chance; "
            f"these must be 0: {others}"
        )
    if params.num_regions > MAX_COIN_REGIONS:
        raise RandomGameError(
            f"num_regions = {params.num_regions}: the coins of at most {MAX_COIN_REGIONS} "
            "regions are enumerated"
        )


def contested_coins(moves: NDArray[np.int8]) -> NDArray[np.int64]:
    """Per env, the coins its joint moves contest, as a bit mask over the 2 R coins
    (bit ``2 r``: both firms acquire in ``r``; bit ``2 r + 1``: both partner in ``r``).

    ``moves`` (B * 2, R): the decoded moves, env-major firm rows. A contested coin whose
    bids are refused (unfunded, vetoed) is still enumerated: its outcomes then step alike,
    which leaves the expectation exact.
    """
    regions = moves.shape[1]
    pairs = moves.reshape(-1, 2, regions)
    acquire = (pairs == Move.ENTER_ACQUISITION).all(axis=1)
    partner = (pairs == Move.ENTER_PARTNERSHIP).all(axis=1)
    weights = np.int64(1) << (2 * np.arange(regions, dtype=np.int64))
    return (acquire * weights).sum(axis=1) + (partner * (weights << 1)).sum(axis=1)


def coin_bits(key: int, quarter: int, regions: int) -> int:
    """The 2 R coins of ``key`` in ``quarter`` as a bit mask (bit set: the coin is 1, i.e.
    firm 1 wins the target, or picks its partner first)."""
    bits = 0
    for coin in range(2 * regions):
        if rng.uniform_at(np.uint64(key), quarter, rng.Stream.CONFLICT, coin) >= 0.5:
            bits |= 1 << coin
    return bits


@lru_cache(maxsize=64)
def pattern_keys(quarter: int, regions: int) -> NDArray[np.uint64]:
    """For every pattern of the 2 R coins of ``quarter``, an episode key that draws it."""
    patterns = 1 << (2 * regions)
    keys = np.zeros(patterns, dtype=np.uint64)
    found = np.zeros(patterns, dtype=bool)
    for index in range(MAX_KEY_SCAN):
        key = int(rng.mix(np.uint64(index) + np.uint64(0x5EED)))
        bits = coin_bits(key, quarter, regions)
        if not found[bits]:
            found[bits], keys[bits] = True, key
            if found.all():
                return keys
    raise RuntimeError(f"no key draws every coin pattern of quarter {quarter}")


@dataclass(frozen=True)
class ChanceBranches:
    """The chance outcomes of a batch of (node, joint action) rows for one quarter."""

    parent: NDArray[np.intp]  # (C,) the row each outcome continues
    probability: NDArray[np.float64]  # (C,) of the outcome given its row
    keys: NDArray[np.uint64] | None = field(default=None)  # (C,) key to step under; None: own


def branches(
    moves: NDArray[np.int8], quarter: int, chance: str, own_keys: NDArray[np.uint64]
) -> ChanceBranches:
    """Every chance outcome of each row (``chance="enumerate"``) or the one its own key draws
    (``"fixed"``). ``moves`` (B * 2, R) the decoded joint moves of the B rows."""
    rows = moves.shape[0] // 2
    if chance == "fixed":
        return ChanceBranches(np.arange(rows), np.ones(rows))
    if chance != "enumerate":
        raise ValueError(f"chance = {chance!r}: allowed {list(CHANCE_MODES)}")
    regions = moves.shape[1]
    contested = contested_coins(moves)
    count = np.array([bin(int(mask)).count("1") for mask in contested], dtype=np.int64)
    outcomes = np.int64(1) << count
    parent = np.repeat(np.arange(rows), outcomes)
    # the j-th outcome of a row spreads the bits of j over its contested coins
    within = np.arange(parent.size) - np.repeat(np.cumsum(outcomes) - outcomes, outcomes)
    pattern = np.zeros(parent.size, dtype=np.int64)
    for coin in range(2 * regions):
        on = (contested[parent] >> coin) & 1
        rank = _popcount_below(contested[parent], coin)
        pattern |= (on & ((within >> rank) & 1)) << coin
    keys = np.where(
        contested[parent] > 0, pattern_keys(quarter, regions)[pattern], own_keys[parent]
    ).astype(np.uint64)
    return ChanceBranches(parent, 1.0 / outcomes[parent].astype(np.float64), keys)


def _popcount_below(masks: NDArray[np.int64], bit: int) -> NDArray[np.int64]:
    """Per mask, how many of its bits lie below ``bit``."""
    below = masks & ((np.int64(1) << bit) - 1)
    counts = np.zeros_like(below)
    for b in range(bit):
        counts += (below >> b) & 1
    return counts
