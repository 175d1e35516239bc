"""The double oracle with the exact best response as its oracle and nashpy as meta-solver."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nashpy", reason='needs nashpy: pip install -e ".[games]"')

from lepton_env.games import PlanStrategy, SmallGame, nash_conv
from lepton_env.games.double_oracle import (
    bimatrix_equilibria,
    double_oracle,
    solve_bimatrix,
)

MENUS = ([12, 13, 16],) * 2
TINY = {"horizon": 3, "market_potential": np.array([100.0, 400.0, 200.0]), "control_premium": 0.0}


def test_the_double_oracle_ends_at_an_exact_equilibrium() -> None:
    game = SmallGame.make("duel_toy", menus=MENUS, **TINY)
    start = [[PlanStrategy((13, 16, 16))], [PlanStrategy((13, 16, 16))]]
    result = double_oracle(game, start, max_iterations=20)
    assert result.nash_conv <= 1e-9
    assert len(result.history) > 1  # the start was not an equilibrium
    checked = nash_conv(game, result.profile)
    assert checked.nash_conv == pytest.approx(0.0, abs=1e-9)
    assert np.allclose(checked.values, result.history[-1].values, atol=1e-9)


def test_the_meta_solver_mixes_where_no_pure_equilibrium_exists() -> None:
    matching = np.array([[1.0, -1.0], [-1.0, 1.0]])
    row, column = solve_bimatrix(matching, -matching)
    assert np.allclose(row, 0.5) and np.allclose(column, 0.5)
    # a degenerate 1 x 1 game (nashpy's Lemke-Howson pivots forever on it)
    assert [a.tolist() for a in solve_bimatrix(np.ones((1, 1)), np.ones((1, 1)))] == [[1.0], [1.0]]
    chicken = np.array([[0.0, 3.0], [1.0, 2.0]])
    equilibria = bimatrix_equilibria(chicken, chicken.T)
    assert len(equilibria) == 3  # two pure, one mixed
