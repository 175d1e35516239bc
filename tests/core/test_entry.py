"""Entry modes: costs, upgrades, greenfield builds, acquisitions, exits and share ceilings."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_env import make_params
from lepton_env.core import Model
from lepton_env.features import FIRM_FEATURES, REGION_FEATURES
from lepton_env.mechanisms.entry import (
    acquisition_target,
    approval_probability,
    entry_cost,
    exit_cost,
    serving_mode,
    share_ceiling,
)
from lepton_env.observation import encode_flat
from lepton_env.state import State
from lepton_env.types import EntryMode, Move

# toy economics by mode (none, pilot, partnership, acquisition, greenfield):
#   entry cost fixed [0, 2, 5, 20, 30] + market [0, 0, 0.02, 0.05, 0.1] x M
#   operating fixed [0, 0.5, 1, 4, 5] + market [0, 0.002, 0.004, 0.01, 0.01] x M
#   exit write-off [0, 0.5, 0.5, 0.3, 0.6] of the entry cost
PARAMS = make_params("toy")
NEAR, FAR = 1, 2


@pytest.fixture
def rich_model() -> Model:
    """The toy world with cash enough for any acquisition."""
    return Model(make_params("toy", initial_cash=2000.0))


def test_entry_operating_and_exit_costs_match_hand_computation() -> None:
    potential = np.array([[80.0, 200.0]], dtype=np.float32)
    partnership = EntryMode.PARTNERSHIP
    np.testing.assert_allclose(
        entry_cost(
            PARAMS.entry_cost_fixed[partnership], PARAMS.entry_cost_market[partnership], potential
        ),
        [[6.6, 9.0]],
    )
    modes = np.array([[0, 1, 2, 3, 4]], dtype=np.int8)
    at_100 = np.full((1, 5), 100.0, dtype=np.float32)
    # 0; 0.5 + 0.2; 1 + 0.4; 4 + 1; 5 + 1 (the operating cost is entry_cost of f_m + o_m M)
    operating = entry_cost(
        PARAMS.operating_cost_fixed[modes], PARAMS.operating_cost_market[modes], at_100
    )
    np.testing.assert_allclose(operating, [[0, 0.7, 1.4, 5, 6]])
    # 0; 0.5 * 2; 0.5 * (5 + 2); 0.3 * (20 + 5); 0.6 * (30 + 10)
    write_off = exit_cost(
        PARAMS.exit_cost_fraction[modes],
        PARAMS.entry_cost_fixed[modes],
        PARAMS.entry_cost_market[modes],
        at_100,
    )
    np.testing.assert_allclose(write_off, [[0, 1, 3.5, 7.5, 24]])


def test_acquisition_targets_the_largest_active_rival() -> None:
    shares = np.array([[[0.2, 0.5, 0.3]]], dtype=np.float32)
    active = np.array([[[True, False, True]]])
    assert acquisition_target(shares[0, 0], active[0, 0]) == 2
    assert acquisition_target(shares[0, 0], np.zeros(3, dtype=bool)) == 0


def _far_demand_value() -> float:
    """Toy far at t=0, by hand: ``sum_{k=1..4} 1.25^(-k/4) 200 1.2^((k-1)/4) a_k`` with
    ``a_k`` Bass steps (p 0.01, q 0.1) from 0.3."""
    total, adopted = 0.0, 0.3
    for k in range(1, 5):
        adopted += (0.01 + 0.1 * adopted) * (1.0 - adopted)
        total += 1.25 ** (-k / 4) * 200.0 * 1.2 ** ((k - 1) / 4) * adopted
    return total


def test_approval_falls_with_screening_times_stringency() -> None:
    probability = approval_probability(np.array([[0.5, 0.0]], np.float32), np.array([0.6, 0.6]))
    np.testing.assert_allclose(probability, [[0.7, 1.0]])


def test_serving_mode_is_the_interim_mode_while_building() -> None:
    mode = np.array([[4, 4, 2]], dtype=np.int8)
    interim = np.array([[1, 0, 0]], dtype=np.int8)
    build = np.array([[2, 0, 0]], dtype=np.int16)
    np.testing.assert_array_equal(serving_mode(mode, interim, build), [[1, 4, 2]])


def test_share_ceiling_by_mode_and_data_localization() -> None:
    modes = np.array([[1, 1, 2, 4]], dtype=np.int8)
    data_rule = np.array([1.0, 0.0, 1.0, 1.0])
    # a pilot under data-localization rules is capped at 0.01, otherwise 0.05
    ceiling = share_ceiling(
        modes,
        PARAMS.share_ceiling[modes],
        data_rule,
        PARAMS.data_localization_pilot_ceiling,
    )
    np.testing.assert_allclose(ceiling, [[0.01, 0.05, 0.3, 1.0]])


def test_pilot_entry_pays_and_caps_share(toy_model: Model, toy_start: State, act) -> None:
    output = toy_model.step(toy_start, act(3, {NEAR: Move.ENTER_PILOT}))
    state = output.state
    assert state.entry_mode[0, NEAR] == EntryMode.PILOT
    assert output.kpis["entry_cost"][0] == pytest.approx(2.0)
    np.testing.assert_array_equal(output.kpis["entries_by_mode"][0], [0, 1, 0, 0, 0])
    # pilot operating cost at potential 80: 0.5 + 0.002 * 80, on top of home greenfield 5 + 1
    assert output.kpis["operating_cost"][0] == pytest.approx(0.66 + 6.0)
    for _ in range(20):
        state = toy_model.step(state, act(3)).state
    assert 0.0 < state.firm_share[0, NEAR] <= 0.05 + 1e-7


def test_upgrades_must_raise_commitment(rich_model: Model, act) -> None:
    state = rich_model.reset(np.zeros(1, dtype=np.uint64))
    state = rich_model.step(state, act(3, {NEAR: Move.ENTER_PARTNERSHIP})).state
    valid = rich_model.valid_moves(state)[0, NEAR]
    assert not valid[Move.ENTER_PILOT] and not valid[Move.ENTER_PARTNERSHIP]
    assert valid[Move.ENTER_ACQUISITION] and valid[Move.ENTER_GREENFIELD] and valid[Move.EXIT]
    # the home region is never entered or exited
    home = rich_model.valid_moves(state)[0, 0]
    assert not home[Move.ENTER_PILOT : Move.EXIT + 1].any()


def test_greenfield_serves_in_the_interim_mode_until_built(act) -> None:
    model = Model(make_params("toy", greenfield_build_quarters=2))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    state = model.step(state, act(3, {NEAR: Move.ENTER_PILOT})).state
    output = model.step(state, act(3, {NEAR: Move.ENTER_GREENFIELD}))
    state = output.state
    assert state.entry_mode[0, NEAR] == EntryMode.GREENFIELD
    assert state.interim_mode[0, NEAR] == EntryMode.PILOT
    assert state.build_quarters[0, NEAR] == 2
    # entry cost 30 + 0.1 x (80 * 1.2 ** 0.25) at quarter 1
    assert output.kpis["entry_cost"][0] == pytest.approx(30.0 + 8.0 * 1.2**0.25)
    state = model.step(state, act(3)).state
    assert state.build_quarters[0, NEAR] == 1 and state.interim_mode[0, NEAR] == EntryMode.PILOT
    assert state.firm_share[0, NEAR] <= 0.05 + 1e-7  # still capped as a pilot
    state = model.step(state, act(3)).state
    assert state.build_quarters[0, NEAR] == 0 and state.interim_mode[0, NEAR] == 0
    assert state.firm_share[0, NEAR] > 0.05  # the subsidiary has no pilot ceiling


def test_acquisition_buys_the_largest_rival(rich_model: Model, act) -> None:
    start = rich_model.reset(np.zeros(1, dtype=np.uint64))
    rivals = start.competitor_share[0, FAR].copy()
    target = int(np.argmax(rivals))
    output = rich_model.step(start, act(3, {FAR: Move.ENTER_ACQUISITION}))
    state = output.state
    assert state.entry_mode[0, FAR] == EntryMode.ACQUISITION
    assert not state.competitor_active[0, FAR, target]
    assert state.competitor_share[0, FAR, target] == 0.0
    # brand: 0.8 of the target's (toy far rivals have brand 6 and 4), then a quarter of decay
    assert state.brand[0, FAR] == pytest.approx(0.9 * 0.8 * 6.0)
    assert state.localization[0, FAR] == 1.0
    # price: 20 + 0.05 * 200 + 1.35 x target share x gross margin 0.65 x the discounted
    # demand of the next four quarters (toy: 25 % a year, a one-year window)
    expected_price = 30.0 + 1.35 * float(rivals[target]) * 0.65 * _far_demand_value()
    assert output.kpis["entry_cost"][0] == pytest.approx(expected_price, rel=1e-6)
    # the firm starts from the bought share
    assert state.firm_share[0, FAR] > 0.5 * rivals[target]


def test_vetoed_acquisition_loses_only_the_filing_fee(act) -> None:
    # screening 1 at stringency 0.7 (far): approval 0.3; over 64 episodes some are vetoed
    model = Model(make_params("toy", initial_cash=2000.0, fdi_screening=np.array([0.0, 0.0, 1.0])))
    state = model.reset(np.arange(64, dtype=np.uint64))
    price = model.move_costs(state)[:, FAR, Move.ENTER_ACQUISITION]
    output = model.step(state, act(3, {FAR: Move.ENTER_ACQUISITION}, batch=64))
    vetoed = output.kpis["acquisitions_vetoed"] == 1
    assert 0 < vetoed.sum() < 64
    np.testing.assert_array_equal(output.state.entry_mode[vetoed, FAR], EntryMode.NONE)
    np.testing.assert_allclose(output.kpis["entry_cost"][vetoed], 0.05 * price[vetoed])
    np.testing.assert_allclose(output.kpis["entry_cost"][~vetoed], price[~vetoed])


def test_exit_writes_off_and_clears_the_region(toy_model: Model, toy_start: State, act) -> None:
    state = toy_model.step(toy_start, act(3, {NEAR: Move.ENTER_PARTNERSHIP})).state
    output = toy_model.step(state, act(3, {NEAR: Move.EXIT}))
    after = output.state
    assert after.entry_mode[0, NEAR] == EntryMode.NONE
    assert after.partner[0, NEAR] == -1
    assert after.firm_share[0, NEAR] == 0.0
    assert output.kpis["exits"][0] == 1
    # 0.5 x (5 + 0.02 x 80 x 1.2 ** 0.25)
    assert output.kpis["exit_cost"][0] == pytest.approx(0.5 * (5.0 + 1.6 * 1.2**0.25))


def test_unaffordable_entry_is_masked_and_a_no_op(act) -> None:
    # cash 10 + credit 20 cannot pay a 30 + 20 greenfield in far
    model = Model(make_params("toy", initial_cash=10.0))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    assert not model.valid_moves(state)[0, FAR, Move.ENTER_GREENFIELD]
    assert model.valid_moves(state)[0, FAR, Move.ENTER_PILOT]
    output = model.step(state, act(3, {FAR: Move.ENTER_GREENFIELD}))
    assert output.state.entry_mode[0, FAR] == EntryMode.NONE
    assert output.kpis["invalid_moves"][0] == 1
    assert output.kpis["entry_cost"][0] == 0.0


def test_moves_are_funded_in_region_order_until_credit_runs_out(act) -> None:
    # cash 30 + credit 20 = 50: near's greenfield (30 + 8) fits, far's (30 + 20) no longer does
    model = Model(make_params("toy", initial_cash=30.0))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    valid = model.valid_moves(state)[0]
    assert valid[NEAR, Move.ENTER_GREENFIELD] and valid[FAR, Move.ENTER_GREENFIELD]
    output = model.step(state, act(3, {NEAR: Move.ENTER_GREENFIELD, FAR: Move.ENTER_GREENFIELD}))
    np.testing.assert_array_equal(output.state.entry_mode[0], [4, 4, 0])
    # far's greenfield was allowed by its mask: refused for the joint budget, not invalid
    assert output.kpis["invalid_moves"][0] == 0
    assert output.kpis["unfunded_moves"][0] == 1
    assert output.kpis["entry_cost"][0] == pytest.approx(38.0)
    assert output.state.unfunded_moves[0] == 1
    # the firm's `unfunded` feature: 1 refused move / 3 regions; gone after a funded quarter
    firm = model.params.num_regions * len(REGION_FEATURES)
    column = firm + [f.name for f in FIRM_FEATURES].index("unfunded")
    assert encode_flat(model, output.state)[0, column] == pytest.approx(1 / 3)
    after = model.step(output.state, act(3))
    assert after.kpis["unfunded_moves"][0] == 0
    assert encode_flat(model, after.state)[0, column] == 0.0
