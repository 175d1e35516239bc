"""The composed quarter: every mechanism in order, computed by hand for the toy world."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from lepton_env import make_params
from lepton_env.core import Model
from lepton_env.state import State
from lepton_env.types import EntryMode, Move


def _home_share(quality: float, brand: float) -> float:
    """Toy home logit share: rivals (0.75, brand 5) and (0.7, brand 3) at price 1, U_0 = 3."""
    firm = 3 * quality + 0.5 * math.log(1 + brand) + 1.0 - 1.0 * math.log(0.8)
    rivals = [3 * 0.75 + 0.5 * math.log(6.0) + 1.0, 3 * 0.7 + 0.5 * math.log(4.0) + 1.0]
    total = math.exp(3.0) + math.exp(firm) + sum(math.exp(u) for u in rivals)
    return math.exp(firm) / total


def test_hold_quarter_of_the_toy_world_by_hand(toy_model: Model, toy_start: State, act) -> None:
    output = toy_model.step(toy_start, act(3))
    # share: 30% of the way from the reset target (q 0.8, brand 5) to the new one
    # (q 0.8 * 0.97 with no R&D, brand 5 * 0.9 with no marketing)
    start = _home_share(0.8, 5.0)
    share = start + 0.3 * (_home_share(0.776, 4.5) - start)
    # demand at home: potential 100 (quarter 0) x adoption 0.3 + (0.01 + 0.03) x 0.7
    gross = share * 100.0 * 0.328
    # cost of revenue 35%, greenfield operations 5 + 0.01 x 100, overhead 2
    profit = gross * 0.65 - 6.0 - 2.0
    assert output.kpis["gross_revenue"][0] == pytest.approx(gross, rel=1e-5)
    assert output.kpis["revenue"][0] == pytest.approx(gross, rel=1e-5)
    assert output.kpis["profit"][0] == pytest.approx(profit, rel=1e-5)
    assert output.state.cash[0] == pytest.approx(60.0 + profit, rel=1e-6)
    # the first quarter's profit at present value: delta = (1 + rate)^(-1/4)
    delta = (1.0 + toy_model.params.discount_rate) ** -0.25
    assert output.reward[0] == pytest.approx(delta * profit / 10.0, rel=1e-5)
    assert output.state.quarter[0] == 1
    assert not output.terminated[0] and not output.truncated[0]
    assert output.kpis["invalid_moves"][0] == 0


def test_step_is_pure(toy_model: Model, toy_start: State, act) -> None:
    copies = {f.name: getattr(toy_start, f.name).copy() for f in dataclasses.fields(State)}
    first = toy_model.step(toy_start, act(3, {1: Move.ENTER_PILOT}, rnd=1.0))
    second = toy_model.step(toy_start, act(3, {1: Move.ENTER_PILOT}, rnd=1.0))
    for name, before in copies.items():
        np.testing.assert_array_equal(getattr(toy_start, name), before, err_msg=name)
        np.testing.assert_array_equal(
            getattr(first.state, name), getattr(second.state, name), err_msg=name
        )


def test_kpis_have_a_leading_batch_axis(act) -> None:
    model = Model(make_params("procedural", num_regions=4))
    state = model.reset(np.arange(3, dtype=np.uint64))
    output = model.step(state, act(4, batch=3))
    for name, value in output.kpis.items():
        assert value.shape[0] == 3, name
    assert output.kpis["market_share"].shape == (3, 4)
    assert output.kpis["entries_by_mode"].shape == (3, len(EntryMode))
    assert output.reward.shape == output.terminated.shape == output.truncated.shape == (3,)


def test_greenfield_with_one_quarter_build_serves_from_the_next_quarter(
    toy_model: Model, toy_start: State, act
) -> None:
    far = 2
    built = toy_model.step(toy_start, act(3, {far: Move.ENTER_GREENFIELD}))
    state = built.state
    # toy: one quarter of building, no interim mode, so nothing is served yet
    assert state.build_quarters[0, far] == 1 and state.interim_mode[0, far] == EntryMode.NONE
    assert state.firm_share[0, far] == 0.0
    # entry cost 30 + 0.1 x 200; greenfield operations 5 + 0.01 x 200 start at once
    assert built.kpis["entry_cost"][0] == pytest.approx(50.0)
    assert built.kpis["operating_cost"][0] == pytest.approx(6.0 + 7.0)
    after = toy_model.step(state, act(3)).state
    assert after.build_quarters[0, far] == 0
    assert after.firm_share[0, far] > 0.0


def test_the_horizon_terminates_the_episode(act) -> None:
    """The horizon is part of the task (the terminal value is paid there): terminated."""
    model = Model(make_params("toy", horizon=3))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    flags = []
    for _ in range(3):
        output = model.step(state, act(3))
        state = output.state
        flags.append((bool(output.terminated[0]), bool(output.truncated[0])))
    assert flags == [(False, False), (False, False), (True, False)]
    assert output.kpis["at_horizon"][0] and not output.kpis["bankrupt"][0]


def test_batch_rows_evolve_independently(act) -> None:
    model = Model(make_params("toy"))
    state = model.reset(np.zeros(2, dtype=np.uint64))
    action = act(3, batch=2)
    moves = action.moves.copy()
    moves[1, 1] = Move.ENTER_PILOT
    output = model.step(state, dataclasses.replace(action, moves=moves))
    np.testing.assert_array_equal(output.state.entry_mode, [[4, 0, 0], [4, 1, 0]])
    hold = model.step(state.take(np.array([0])), act(3)).state
    assert output.state.cash[0] == hold.cash[0]
