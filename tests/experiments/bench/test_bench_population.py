"""experiments/bench/population.py: a PSRO mixture's return is the weighted sum of its
members' returns on the same episodes; a mixture seat reads back from a Mixture."""

from __future__ import annotations

import numpy as np
import pytest


def test_a_mixed_seat_returns_the_members_weighted_sum() -> None:
    from lepton_env.experiments.bench.population import mixed_returns, seat_returns
    from lepton_env.scenarios import make_params

    params = make_params("duel_toy")
    seeds = [2_000_000, 2_000_001, 2_000_002]
    mode = "multi_discrete"
    mixed = [[(0.25, "HomeOnlyAgent"), (0.75, "BornGlobalAgent")], "UppsalaAgent"]
    expected = 0.25 * seat_returns(params, ["HomeOnlyAgent", "UppsalaAgent"], seeds, mode)
    expected += 0.75 * seat_returns(params, ["BornGlobalAgent", "UppsalaAgent"], seeds, mode)
    assert mixed_returns(params, mixed, seeds, mode) == pytest.approx(expected)
    # a plain spec in every seat is the profile itself
    plain = ["BornGlobalAgent", "UppsalaAgent"]
    assert np.array_equal(
        mixed_returns(params, plain, seeds, mode), seat_returns(params, plain, seeds, mode)
    )


def test_mixed_seats_leave_out_members_below_the_floor_and_renormalize() -> None:
    from lepton_env.agents.population.strategy_files import heuristic_strategy
    from lepton_env.experiments.bench.population import MIXTURE_FLOOR, mixed_seats
    from lepton_env.games import SmallGame
    from lepton_env.games.strategies import Mixture

    game = SmallGame.make("duel_toy")
    members = tuple(
        heuristic_strategy(game, name, 0)
        for name in ("HomeOnlyAgent", "BornGlobalAgent", "UppsalaAgent")
    )
    weights = np.array([0.6, MIXTURE_FLOOR / 2, 0.4 - MIXTURE_FLOOR / 2])
    (seat,) = mixed_seats([Mixture(members, weights)])
    assert [spec for _, spec in seat] == ["HomeOnlyAgent", "UppsalaAgent"]
    assert sum(w for w, _ in seat) == pytest.approx(1.0)
    assert seat[0][0] == pytest.approx(0.6 / (1 - MIXTURE_FLOOR / 2))
