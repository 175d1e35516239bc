"""Local partners: hidden quality, due diligence estimates, choice and failure."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lepton_env import make_params
from lepton_env.core import Model
from lepton_env.mechanisms.partners import (
    choose_partner,
    estimate,
    failure_probability,
    hidden_quality,
)
from lepton_env.state import State
from lepton_env.types import EntryMode, Move

NEAR = 1


def test_hidden_quality_is_a_clipped_normal_draw() -> None:
    normals = np.array([[[1.0, -1.0, 5.0, -5.0]]])
    # 0.5 + 0.2 z, clipped to [0, 1]
    quality = hidden_quality(np.full((1, 4), 0.5), 0.2, normals)
    np.testing.assert_allclose(quality, [[[0.7, 0.3, 1.0, 0.0]]], rtol=1e-6)


def test_estimate_noise_shrinks_with_diligence_rounds() -> None:
    quality = np.full((1, 3, 1), 0.6, dtype=np.float32)
    rounds = np.array([[0, 3, 8]])
    normals = np.ones((1, 3, 1))
    # 0.6 + 0.3 / sqrt(1 + n): n = 0 -> 0.9, n = 3 -> 0.75, n = 8 -> 0.7
    np.testing.assert_allclose(
        estimate(quality, rounds[..., None], 0.3, normals)[0, :, 0], [0.9, 0.75, 0.7], rtol=1e-6
    )


def test_the_firm_partners_with_the_best_estimate() -> None:
    estimates = np.array([[[0.2, 0.9, 0.5], [0.7, 0.1, 0.6]]], dtype=np.float32)
    chosen = [[choose_partner(row) for row in regions] for regions in estimates]
    np.testing.assert_array_equal(chosen, [[1, 0]])


def test_failure_hazard_falls_with_partner_quality() -> None:
    # 1 - exp(-0.08 (1 - theta)): theta = 0.75 -> 1 - e^-0.02; a perfect partner never fails
    np.testing.assert_allclose(
        failure_probability(np.array([0.75, 1.0, 0.0], np.float32), 0.08),
        [1.0 - math.exp(-0.02), 0.0, 1.0 - math.exp(-0.08)],
        rtol=1e-6,
    )


def test_diligence_round_refines_the_estimate_and_costs(act) -> None:
    model = Model(make_params("toy", max_diligence=2, diligence_noise=0.5, diligence_cost=1.5))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    assert model.valid_moves(state)[0, NEAR, Move.DILIGENCE]
    output = model.step(state, act(3, {NEAR: Move.DILIGENCE}))
    assert output.state.diligence_rounds[0, NEAR] == 1
    assert output.kpis["entry_cost"][0] == pytest.approx(1.5)
    # the same normal draws, their error scaled by 1 / sqrt(1 + 1) where neither was clipped
    quality = state.partner_quality[0, NEAR]
    first, second = state.partner_estimate[0, NEAR], output.state.partner_estimate[0, NEAR]
    inside = (first > 0) & (first < 1) & (second > 0) & (second < 1)
    assert inside.any()
    np.testing.assert_allclose(
        (second - quality)[inside], (first - quality)[inside] / math.sqrt(2.0), atol=1e-6
    )
    state = model.step(output.state, act(3, {NEAR: Move.DILIGENCE})).state
    # the second round is the last one allowed
    assert not model.valid_moves(state)[0, NEAR, Move.DILIGENCE]


def test_partnership_keeps_the_partner_cut_of_revenue(
    toy_model: Model, toy_start: State, act
) -> None:
    output = toy_model.step(toy_start, act(3, {NEAR: Move.ENTER_PARTNERSHIP}))
    state = output.state
    assert state.entry_mode[0, NEAR] == EntryMode.PARTNERSHIP
    output = toy_model.step(state, act(3))
    gross, net = output.kpis["gross_revenue"][0], output.kpis["revenue"][0]
    near_gross = float(output.state.firm_share[0, NEAR]) * float(
        toy_model.potential(state)[0, NEAR] * output.state.adoption[0, NEAR]
    )
    # the partner keeps 30% of near's gross revenue
    assert gross - net == pytest.approx(0.3 * near_gross, rel=1e-5)


def test_certain_partner_failure_ends_the_partnership(act) -> None:
    model = Model(
        make_params(
            "toy",
            partner_failure_rate=1.0,
            partner_quality_mean=np.zeros((3, 2)),
            partner_localization_boost=0.0,
        )
    )
    state = model.reset(np.arange(32, dtype=np.uint64))
    output = model.step(state, act(3, {NEAR: Move.ENTER_PARTNERSHIP}, batch=32))
    # hazard 1 * (1 - 0): a failure with probability 1 - e^-1 = 0.632 per quarter
    failed = output.kpis["partner_failures"] == 1
    assert 10 < failed.sum() < 32
    np.testing.assert_array_equal(output.state.entry_mode[failed, NEAR], EntryMode.NONE)
    np.testing.assert_array_equal(output.state.partner[failed, NEAR], -1)
    np.testing.assert_array_equal(output.state.firm_share[failed, NEAR], 0.0)
    np.testing.assert_array_equal(output.state.entry_mode[~failed, NEAR], EntryMode.PARTNERSHIP)
