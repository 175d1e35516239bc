"""Double oracle on a small game: exact best responses as the oracle, nashpy as the meta-solver.

McMahan, Gordon & Blum (2003); PSRO (Lanctot et al. 2017) with an exact
oracle. Each firm keeps a population of pure strategies; each iteration

1. fills the payoff tables of every pair of members (:func:`payoff_tables`),
2. solves the restricted bimatrix game for a Nash equilibrium (a pure one when
   there is one, else ``nashpy``'s support enumeration: :func:`solve_bimatrix`),
3. scores that meta-profile in the full game with the exact NashConv and adds
   each firm's best response to its population,

until NashConv is at most ``tolerance``: the meta-profile is then an
equilibrium of the full game to within ``tolerance`` (it is exact at 0, up to
floating point). The oracle is any callable with :func:`best_response`'s
signature, so a search or a learner can replace it (an approximate oracle gives
an approximate certificate: the final NashConv is only exact with the exact one).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from lepton_env.games.best_response import (
    BestResponse,
    best_response,
    payoff_tables,
)
from lepton_env.games.strategies import Mixture, Strategy
from lepton_env.games.tree import SmallGame

Oracle = Callable[..., BestResponse]


@dataclass(frozen=True)
class Iteration:
    """One iteration of the loop."""

    sizes: tuple[int, ...]  # population sizes
    meta: tuple[NDArray[np.float64], ...]  # the meta-strategy of each firm
    values: NDArray[np.float64]  # (F,) the meta-profile's expected returns
    best_response_values: NDArray[np.float64]  # (F,)

    @property
    def nash_conv(self) -> float:
        return float((self.best_response_values - self.values).sum())


@dataclass
class DoubleOracleResult:
    """The populations, the final meta-profile and the loop's history."""

    populations: list[list[Strategy]]
    profile: list[Mixture]
    history: list[Iteration] = field(default_factory=list)

    @property
    def nash_conv(self) -> float:
        return self.history[-1].nash_conv


def solve_bimatrix(
    row: NDArray[np.float64], column: NDArray[np.float64], tolerance: float = 1e-9
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A Nash equilibrium of the bimatrix game (``row``, ``column`` payoffs): a pure one if
    any (the first in row-major order), else the first of nashpy's support enumeration,
    then vertex enumeration, that is an equilibrium to ``tolerance``.

    nashpy's Lemke-Howson is not used: on degenerate games (ties, which the payoffs
    of a small game have) it can pivot forever (nashpy 0.0.43, even on a 1 x 1 game).
    """
    import nashpy

    best_row = row >= row.max(axis=0, keepdims=True) - tolerance
    best_column = column >= column.max(axis=1, keepdims=True) - tolerance
    pure = np.argwhere(best_row & best_column)
    if pure.size:
        sigma_row, sigma_column = np.zeros(row.shape[0]), np.zeros(row.shape[1])
        sigma_row[pure[0, 0]] = sigma_column[pure[0, 1]] = 1.0
        return sigma_row, sigma_column
    game = nashpy.Game(row, column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for candidates in (game.support_enumeration(), game.vertex_enumeration()):
            for sigma_row, sigma_column in candidates:
                if not (np.all(np.isfinite(sigma_row)) and np.all(np.isfinite(sigma_column))):
                    continue
                sigma_row = np.clip(sigma_row, 0.0, None)
                sigma_column = np.clip(sigma_column, 0.0, None)
                sigma_row, sigma_column = (
                    sigma_row / sigma_row.sum(),
                    sigma_column / sigma_column.sum(),
                )
                gain_row = (row @ sigma_column).max() - sigma_row @ row @ sigma_column
                gain_column = (sigma_row @ column).max() - sigma_row @ column @ sigma_column
                if gain_row <= tolerance and gain_column <= tolerance:
                    return sigma_row, sigma_column
    raise RuntimeError(f"nashpy found no equilibrium of the {row.shape} restricted game")


def bimatrix_equilibria(
    row: NDArray[np.float64], column: NDArray[np.float64], tolerance: float = 1e-9
) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Every equilibrium nashpy's support enumeration finds, and every pure one (deduplicated
    to ``1e-6``): for stating a small game's equilibria once the populations hold them."""
    import nashpy

    found: list[tuple[NDArray[np.float64], NDArray[np.float64]]] = []
    best_row = row >= row.max(axis=0, keepdims=True) - tolerance
    best_column = column >= column.max(axis=1, keepdims=True) - tolerance
    for i, j in np.argwhere(best_row & best_column):
        pure_row, pure_column = np.zeros(row.shape[0]), np.zeros(row.shape[1])
        pure_row[i] = pure_column[j] = 1.0
        found.append((pure_row, pure_column))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sigma_row, sigma_column in nashpy.Game(row, column).support_enumeration():
            if not (np.all(np.isfinite(sigma_row)) and np.all(np.isfinite(sigma_column))):
                continue
            if any(
                np.allclose(sigma_row, a, atol=1e-6) and np.allclose(sigma_column, b, atol=1e-6)
                for a, b in found
            ):
                continue
            gain_row = (row @ sigma_column).max() - sigma_row @ row @ sigma_column
            gain_column = (sigma_row @ column).max() - sigma_row @ column @ sigma_column
            if gain_row <= tolerance and gain_column <= tolerance:
                found.append((sigma_row, sigma_column))
    return found


def double_oracle(
    game: SmallGame,
    initial: Sequence[Sequence[Strategy]],
    seeds: Sequence[int] = (0,),
    kind: str = "feedback",
    tolerance: float = 1e-9,
    max_iterations: int = 30,
    oracle: Oracle = best_response,
    log: Callable[[str], None] | None = None,
) -> DoubleOracleResult:
    """Grow the populations from ``initial`` (a list of pure strategies per firm) until the
    meta-profile's NashConv is at most ``tolerance`` or ``max_iterations`` pass."""
    populations = [list(p) for p in initial]
    result = DoubleOracleResult(populations, [])
    for _ in range(max_iterations):
        tables = payoff_tables(game, populations, seeds)
        meta = solve_bimatrix(tables[0], tables[1])
        profile = [Mixture(tuple(p), m) for p, m in zip(populations, meta, strict=True)]
        on_policy = np.array([meta[0] @ tables[f] @ meta[1] for f in range(2)])
        responses = [oracle(game, profile, f, seeds, kind) for f in range(game.num_firms)]
        iteration = Iteration(
            sizes=tuple(len(p) for p in populations),
            meta=tuple(meta),
            values=on_policy,
            best_response_values=np.array([r.value for r in responses]),
        )
        result.history.append(iteration)
        result.profile = profile
        if log is not None:
            log(
                f"iteration {len(result.history)}: populations {iteration.sizes}, "
                f"values {np.round(on_policy, 6).tolist()}, NashConv {iteration.nash_conv:.6g}"
            )
        if iteration.nash_conv <= tolerance:
            break
        for f, response in enumerate(responses):
            if response.value - on_policy[f] > tolerance:
                populations[f].append(response.strategy)
    return result
