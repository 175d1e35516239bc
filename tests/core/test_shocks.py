"""Regulatory shocks (Poisson new laws on a drift) and geopolitical closures."""

from __future__ import annotations

import math

import numpy as np

from lepton_env import make_params
from lepton_env.core import Model
from lepton_env.mechanisms.shocks import closes, closure_probability, quarters_closed, tighten
from lepton_env.rng import poisson_small
from lepton_env.types import Move


def test_laws_are_counted_by_poisson_inversion() -> None:
    # rate 0.1: P(N <= 0) = e^-0.1 = 0.904837, P(N <= 1) = 1.1 e^-0.1 = 0.995321,
    # P(N <= 2) = 1.105 e^-0.1 = 0.999845
    uniforms = np.array([[0.5, 0.95, 0.999, 0.9999]])
    stringency = np.full((1, 4), 0.3, dtype=np.float32)
    drift = np.full(4, 0.01)
    laws = poisson_small(uniforms, np.full(4, 0.1))
    np.testing.assert_array_equal(laws, [[0, 1, 2, 3]])
    new = tighten(stringency, drift, laws, np.full(4, 0.1))
    # S + drift + N * jump
    np.testing.assert_allclose(new, [[0.31, 0.41, 0.51, 0.61]], rtol=1e-6)


def test_stringency_stays_in_the_unit_interval() -> None:
    stringency = np.array([[0.95, 0.02]], dtype=np.float32)
    laws = poisson_small(np.array([[0.99, 0.0]]), np.full(2, 0.5))
    new = tighten(stringency, np.array([0.0, -0.05]), laws, np.full(2, 0.2))
    # 0.95 + 3 * 0.2 clipped to 1; 0.02 - 0.05 clipped to 0
    np.testing.assert_array_equal(new, [[1.0, 0.0]])


def test_zero_rate_never_passes_a_law() -> None:
    laws = poisson_small(np.array([[0.0, 0.5, 0.999999]]), np.zeros(3))
    np.testing.assert_array_equal(laws, [[0, 0, 0]])
    # no law, no drift: stringency unchanged
    np.testing.assert_array_equal(
        tighten(np.zeros((1, 3), np.float32), np.zeros(3), laws, np.ones(3)), [[0.0, 0.0, 0.0]]
    )


def test_closure_arrives_with_probability_one_minus_exp_minus_risk() -> None:
    threshold = 1.0 - math.exp(-0.1)  # 0.0951626
    closed = np.array([[0, 3, 0, 1]], dtype=np.int16)
    uniforms = np.array([[threshold - 1e-6, 0.0, threshold + 1e-6, 0.5]])
    probability = closure_probability(np.full(4, 0.1))
    np.testing.assert_allclose(probability, threshold, rtol=1e-12)
    closing = closes(closed, probability, uniforms)
    remaining = quarters_closed(closed, closing, 8)
    # a new closure lasts 8 quarters; a closed region counts down and cannot close again
    np.testing.assert_array_equal(closing, [[True, False, False, False]])
    np.testing.assert_array_equal(remaining, [[8, 2, 0, 0]])


def test_closed_region_cannot_be_entered_and_earns_nothing(act) -> None:
    model = Model(make_params("toy"))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    near = 1
    entered = model.step(state, act(3, {near: Move.ENTER_GREENFIELD})).state
    entered = model.step(entered, act(3, {near: Move.HOLD})).state  # the greenfield opens
    closed = entered.replace(closed_quarters=np.array([[0, 2, 2]], dtype=np.int16))
    valid = model.valid_moves(closed)
    far = 2
    assert not valid[0, far, 1:5].any()  # no entry into a closed region
    assert not valid[0, far, Move.DILIGENCE]
    assert valid[0, near, Move.EXIT]  # presence can still be wound down
    output = model.step(closed, act(3, {near: Move.HOLD}))
    assert output.state.firm_share[0, near] < entered.firm_share[0, near]
    assert output.state.closed_quarters[0, near] == 1


def test_new_laws_and_closures_are_reported(act) -> None:
    params = make_params(
        "toy",
        regulatory_shock_rate=np.full(3, 2.0),
        regulatory_shock_size=np.full(3, 0.01),
        geopolitical_risk=np.array([0.0, 1.0, 1.0]),
    )
    model = Model(params)
    state = model.reset(np.arange(64, dtype=np.uint64))
    output = model.step(state, act(3, batch=64))
    # rate 2 laws per quarter in 3 regions: 6 expected laws per env, fewer by truncation at 3
    assert 3.0 < output.kpis["new_laws"].mean() < 6.0
    closing = output.state.closed_quarters[:, 1:] == params.closure_quarters
    np.testing.assert_array_equal(output.kpis["closures"], closing.sum(axis=1))
    # 1 - e^-1 = 63% of foreign regions close in a quarter; home never closes
    assert 0.45 < closing.mean() < 0.8
    assert not output.state.closed_quarters[:, 0].any()
