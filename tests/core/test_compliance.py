"""Compliance investment and erosion, enforcement hazard, fines and suspensions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lepton_env import make_params
from lepton_env.core import Model
from lepton_env.features import REGION_FEATURES
from lepton_env.mechanisms.compliance import enforcement_probability, erode, fine, invest
from lepton_env.observation import encode_flat
from lepton_env.types import Move


def test_invest_closes_a_fraction_of_the_gap() -> None:
    compliance = np.array([0.3, 0.3, 1.0], dtype=np.float32)
    intensity = np.array([1.0, 0.0, 1.0], dtype=np.float32)
    # 0.3 + 0.3 * 1 * 0.7 = 0.51
    np.testing.assert_allclose(invest(compliance, intensity, 0.3), [0.51, 0.3, 1.0], rtol=1e-6)


def test_erosion_only_when_rules_tighten_and_never_below_zero() -> None:
    compliance = np.array([0.51, 0.51, 0.1], dtype=np.float32)
    old = np.array([0.3, 0.5, 0.2], dtype=np.float32)
    new = np.array([0.5, 0.3, 0.5], dtype=np.float32)
    # 0.51 - 1 * 0.2 = 0.31; loosening keeps 0.51; 0.1 - 0.3 clipped to 0
    np.testing.assert_allclose(erode(compliance, old, new, 1.0), [0.31, 0.51, 0.0], atol=1e-6)


def test_enforcement_probability_rises_with_the_compliance_gap() -> None:
    stringency = np.array([0.7, 0.2], dtype=np.float32)
    compliance = np.array([0.3, 0.6], dtype=np.float32)
    # h = 0.005 + 0.5 * max(0, S - C): 0.205 and 0.005
    expected = [1.0 - math.exp(-0.205), 1.0 - math.exp(-0.005)]
    np.testing.assert_allclose(
        enforcement_probability(stringency, compliance, 0.005, 0.5), expected, rtol=1e-6
    )


def test_fine_is_a_share_of_annual_revenue() -> None:
    np.testing.assert_allclose(fine(np.array([400.0, 0.0]), 0.04), [16.0, 0.0])


def test_comply_move_raises_compliance_abroad(toy_model: Model, act) -> None:
    state = toy_model.reset(np.zeros(1, dtype=np.uint64))
    near = 1
    state = toy_model.step(state, act(3, {near: Move.ENTER_PILOT})).state
    assert state.compliance[0, near] == pytest.approx(0.3)  # initial compliance abroad
    output = toy_model.step(state, act(3, {near: Move.COMPLY}))
    assert output.state.compliance[0, near] == pytest.approx(0.51)
    # full budget at quarter 1: 0.5 + 0.003 * 80 * 1.2 ** 0.25
    assert output.kpis["spend_cost"][0] == pytest.approx(0.5 + 0.003 * 80.0 * 1.2**0.25)


def test_certain_severe_enforcement_fines_and_suspends(act) -> None:
    """Hazard 10 per quarter: an event with probability 1 - e^-10; every event is severe."""
    params = make_params(
        "toy", enforcement_base_hazard=10.0, severe_probability=1.0, suspension_quarters=2
    )
    model = Model(params)
    state = model.reset(np.zeros(1, dtype=np.uint64))
    output = model.step(state, act(3))
    home = 0
    gross = output.kpis["gross_revenue"][0]
    assert gross > 0.0
    assert output.kpis["enforcement_events"][0] == 1  # only home is served
    assert output.kpis["suspensions"][0] == 1
    # 4% of annual (4 quarters of) revenue
    assert output.kpis["fines"][0] == pytest.approx(0.04 * 4.0 * gross)
    assert output.state.suspended_quarters[0, home] == 2
    # suspended for the next two quarters: no revenue, no enforcement, counting down
    for left in (1, 0):
        output = model.step(output.state, act(3))
        assert output.kpis["gross_revenue"][0] == 0.0
        assert output.kpis["enforcement_events"][0] == 0
        assert output.state.suspended_quarters[0, home] == left
    # then home is served again
    assert model.step(output.state, act(3)).kpis["gross_revenue"][0] > 0.0


def test_one_quarter_suspension_idles_one_quarter(act) -> None:
    params = make_params("toy", enforcement_base_hazard=10.0, severe_probability=1.0)
    model = Model(params.replace(suspension_quarters=1))
    output = model.step(model.reset(np.zeros(1, dtype=np.uint64)), act(3))
    assert output.state.suspended_quarters[0, 0] == 1
    assert model.step(output.state, act(3)).kpis["gross_revenue"][0] == 0.0


def test_stringency_rise_erodes_compliance_in_the_model(act) -> None:
    model = Model(make_params("toy", stringency_drift=np.array([0.0, 0.1, 0.0])))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    output = model.step(state, act(3))
    # near: stringency 0.3 -> 0.4; compliance 0.3 - 1.0 * 0.1 = 0.2
    assert output.state.stringency[0, 1] == pytest.approx(0.4)
    assert output.state.compliance[0, 1] == pytest.approx(0.2)
    assert output.state.compliance[0, 2] == pytest.approx(0.3)


def test_comply_is_masked_once_spend_cannot_move_float32_compliance(act) -> None:
    """Just below 1 in float32, ``C + 0.3 (1 - C)`` rounds back to ``C``: no effect, no move."""
    model = Model(make_params("toy"))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    stuck = np.float32(1.0) - np.float32(2.0**-24)
    state = state.replace(compliance=np.array([[stuck, 0.3, 0.3]], dtype=np.float32))
    home = 0
    assert not model.valid_moves(state)[0, home, Move.COMPLY]
    output = model.step(state, act(3, {home: Move.COMPLY}))
    assert output.kpis["invalid_moves"][0] == 1 and output.kpis["spend_cost"][0] == 0.0


def test_marketing_is_masked_when_it_cannot_build_brand() -> None:
    model = Model(make_params("toy", brand_efficiency=0.0))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    assert not model.valid_moves(state)[0, 0, Move.MARKETING]


def test_expected_fine_feature_prices_the_quarter_s_enforcement_to_the_horizon() -> None:
    """``expected_fine`` = P(event) x (fine_rate x 4 gross + severe_probability x
    suspension_quarters x net) x quarters left / reward scale, from the observed state."""
    params = make_params(
        "toy",
        enforcement_base_hazard=0.1,
        enforcement_gap_hazard=0.0,
        fine_rate=0.05,
        severe_probability=0.5,
        suspension_quarters=2,
    )
    model = Model(params)
    state = model.reset(np.zeros(1, dtype=np.uint64))
    names = [f.name for f in REGION_FEATURES]
    table = encode_flat(model, state)[0, : params.num_regions * len(names)].reshape(
        params.num_regions, len(names)
    )
    home = 0
    revenue = float(table[home, names.index("revenue")])  # net / reward scale, no partner cut
    assert revenue > 0.0
    # P = 1 - e^-0.1 = 0.0951626; loss = P x (0.05 x 4 + 0.5 x 2) x net = 0.1141951 x net;
    # 5 quarters left at quarter 0 of toy's 5
    expected = (1.0 - math.exp(-0.1)) * 1.2 * revenue * 5
    assert table[home, names.index("expected_fine")] == pytest.approx(expected, rel=1e-5)
    # regions not served carry no enforcement
    np.testing.assert_array_equal(table[1:, names.index("expected_fine")], 0.0)
