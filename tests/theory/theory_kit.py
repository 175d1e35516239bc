"""Helpers of the theory tests: fixed policies played over many seeds in one batch.

Every comparison plays its policies side by side in one batched vector env
(``lepton_env.make_vec_env(..., face="gymnasium")``): rows are (policy, seed)
pairs, each policy on the same seeds, so differences are paired. A comparative
static is asserted with a margin of :data:`STANDARD_ERRORS` standard errors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env import make_params, make_vec_env
from lepton_env.params import Params
from lepton_env.types import NUM_MOVES, Move

SEEDS = tuple(range(20_000, 20_064))
STANDARD_ERRORS = 4.0

#: ``(quarter, valid moves (n, R, NUM_MOVES)) -> moves (n, R)``.
Policy = Callable[[int, NDArray[np.bool_]], NDArray[np.int64]]


@dataclass(frozen=True)
class Episodes:
    """One episode per seed of one policy; per-quarter arrays are (n, horizon[, R])."""

    params: Params
    returns: NDArray[np.float64]  # (n,)
    present_values: NDArray[np.float64]  # (n,) the return: rewards are present values
    components: dict[str, NDArray[np.float64]]  # (n,) each, summed over the episode
    kpis: dict[str, NDArray[np.float64]]  # (n, T) each, per-env KPIs quarter by quarter
    market_share: NDArray[np.float64]  # (n, T, R) after each quarter
    bankrupt: NDArray[np.bool_]  # (n,)

    def total(self, name: str) -> NDArray[np.float64]:
        """A KPI summed over the episode, (n,)."""
        return self.kpis[name].sum(axis=1)


def play(
    policies: Sequence[Policy],
    scenario: str = "global",
    seeds: Sequence[int] = SEEDS,
    **params: Any,
) -> list[Episodes]:
    """Each policy over ``seeds``, all in one batch; the R&D level stays at its start."""
    p = make_params(scenario, **params)
    n, regions, horizon = len(seeds), p.num_regions, p.horizon
    venv = make_vec_env(
        "LeptonExpansion-v0", n * len(policies), face="gymnasium", scenario=scenario, **params
    )
    venv.reset(seed=[int(s) for s in seeds] * len(policies))
    rnd_level = round(p.initial_rnd * (p.rnd_levels - 1))
    rows = n * len(policies)
    returns = np.zeros(rows)
    alive = np.ones(rows, dtype=bool)
    bankrupt = np.zeros(rows, dtype=bool)
    components: dict[str, NDArray[np.float64]] = {}
    kpis: dict[str, NDArray[np.float64]] = {}
    share = np.zeros((rows, horizon, regions))
    for quarter in range(horizon):
        valid = venv.action_masks()[:, : regions * NUM_MOVES].reshape(rows, regions, NUM_MOVES)
        moves = np.concatenate(
            [policy(quarter, valid[i * n : (i + 1) * n]) for i, policy in enumerate(policies)]
        )
        action = np.concatenate([moves, np.full((rows, 1), rnd_level)], axis=1)
        _, reward, terminated, truncated, info = venv.step(action)
        returns += np.where(alive, reward, 0.0)
        for name, value in info["reward_components"].items():
            if not name.startswith("_"):
                components.setdefault(name, np.zeros(rows))
                components[name] += np.where(alive, value, 0.0)
        for name, value in info.items():
            if not name.startswith("_") and isinstance(value, np.ndarray) and value.ndim == 1:
                kpis.setdefault(name, np.zeros((rows, horizon)))
                kpis[name][:, quarter] = np.where(alive, value, 0.0)
        share[:, quarter] = np.where(alive[:, None], info["market_share"], 0.0)
        bankrupt |= alive & info["bankrupt"]
        alive &= ~(terminated | truncated)
    venv.close()
    return [
        Episodes(
            p,
            returns[block],
            returns[block],  # one rate: the return is the present value
            {k: v[block] for k, v in components.items()},
            {k: v[block] for k, v in kpis.items()},
            share[block],
            bankrupt[block],
        )
        for block in (slice(i * n, (i + 1) * n) for i in range(len(policies)))
    ]


def standard_error(values: NDArray[np.float64]) -> float:
    return float(np.std(values, ddof=1) / np.sqrt(values.size)) if values.size > 1 else 0.0


def clearly_positive(values: NDArray[np.float64], errors: float = STANDARD_ERRORS) -> bool:
    """The mean of (paired) ``values`` is above 0 by ``errors`` standard errors."""
    return bool(values.mean() - errors * standard_error(values) > 0.0)


def clearly_less(
    low: NDArray[np.float64], high: NDArray[np.float64], errors: float = STANDARD_ERRORS
) -> bool:
    """``mean(low) < mean(high)`` by ``errors`` standard errors of the paired difference."""
    return clearly_positive(np.asarray(high, dtype=np.float64) - low, errors)


# ---------------------------------------------------------------------- fixed policies
def scheduled(plan: dict[int, dict[int, Move]], upkeep: Sequence[Move] = ()) -> Policy:
    """``plan[quarter][region]``: that move then, where valid (HOLD otherwise). In a
    region with no planned move, the first valid move of ``upkeep``."""

    def policy(quarter: int, valid: NDArray[np.bool_]) -> NDArray[np.int64]:
        moves = np.zeros(valid.shape[:2], dtype=np.int64)
        for move in reversed(upkeep):
            moves = np.where(valid[:, :, move], int(move), moves)
        for region, move in plan.get(quarter, {}).items():
            moves[:, region] = np.where(valid[:, region, move], int(move), 0)
        return moves

    return policy


def hold() -> Policy:
    """Never moves: the home business only."""
    return scheduled({})
