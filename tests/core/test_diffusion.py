"""Market potential ``M_r(t) = M_r(0) size_r (1 + g_r)^(t/4)`` and Bass (1969) diffusion."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_env import make_params, rng
from lepton_env.core import Action, Model
from lepton_env.mechanisms.diffusion import (
    bass_adoption,
    growth_factor,
    market_potential,
    scaled_potential,
)
from lepton_env.state import State


def test_market_potential_grows_annually_and_scales_with_episode_size() -> None:
    base = np.array([100.0, 80.0])
    growth = np.array([0.1, 0.21])
    size = np.array([[1.0, 2.0], [1.0, 2.0]], dtype=np.float32)
    quarters = np.array([4, 8], dtype=np.int32)
    potential = market_potential(base, growth, size, quarters[:, None])
    # one year: 100 * 1.1 = 110 and 80 * 2 * 1.21 = 193.6; two years: 121 and 160 * 1.4641
    expected = np.array([[110.0, 193.6], [121.0, 160.0 * 1.4641]])
    np.testing.assert_allclose(potential, expected, rtol=1e-6)
    assert potential.shape == (2, 2)


def test_market_potential_within_a_year_compounds_quarterly() -> None:
    potential = market_potential(
        np.array([100.0]),
        np.array([0.21]),
        np.ones((1, 1), np.float32),
        np.array([2], np.int32)[:, None],
    )
    # half a year at 21% a year: 100 * 1.21 ** 0.5 = 110
    np.testing.assert_allclose(potential, [[110.0]], rtol=1e-6)


def test_growth_factor_and_scaled_potential_compose_the_potential() -> None:
    # two years at 21%: 1.21 ** 2 = 1.4641; 100 * 0.5 * 1.4641 = 73.205
    np.testing.assert_allclose(growth_factor(0.21, 8.0), 1.4641, rtol=1e-12)
    np.testing.assert_allclose(scaled_potential(100.0, 0.5, 1.4641), 73.205, rtol=1e-12)
    assert market_potential(100.0, 0.21, 0.5, 8.0) == scaled_potential(
        100.0, 0.5, growth_factor(0.21, 8.0)
    )


@pytest.mark.parametrize("scenario", ["toy", "global"])
def test_the_compiled_quarter_uses_the_same_potential_within_and_past_the_horizon(
    scenario: str,
) -> None:
    # the quarter tabulates (1 + g) ** (t / 4) up to horizon + 1 and computes it beyond
    model = Model(make_params(scenario))
    state = model.reset(rng.episode_key(np.arange(4)))
    horizon = model.params.horizon
    for quarter in (0, 3, horizon, horizon + 1, horizon + 2, horizon + 7):
        at = state.replace(quarter=np.full(4, quarter, dtype=np.int32))
        output = model.step(at, Action.hold(4, model.params.num_regions))
        expected = model.potential(at).astype(np.float64).sum(axis=1)
        np.testing.assert_allclose(output.kpis["total_potential"], expected, rtol=1e-12)


def test_bass_step_matches_hand_computation() -> None:
    adoption = np.array([[0.2, 0.0, 0.5]], dtype=np.float32)
    innovation = np.array([0.01, 0.01, 0.03])
    imitation = np.array([0.1, 0.1, 0.2])
    # 0.2 + (0.01 + 0.1 * 0.2) * 0.8 = 0.224; from zero only innovators: 0.01;
    # 0.5 + (0.03 + 0.2 * 0.5) * 0.5 = 0.565
    np.testing.assert_allclose(
        bass_adoption(adoption, innovation, imitation), [[0.224, 0.01, 0.565]], rtol=1e-6
    )


def test_bass_saturated_market_stays_saturated_and_overshoot_is_clipped() -> None:
    adoption = np.array([[1.0, 0.5]], dtype=np.float32)
    # 0.5 + (1 + 1 * 0.5) * 0.5 = 1.25 -> clipped to 1
    result = bass_adoption(adoption, np.array([0.02, 1.0]), np.array([0.1, 1.0]))
    np.testing.assert_array_equal(result, [[1.0, 1.0]])


def test_bass_path_is_monotone_s_curve_towards_saturation() -> None:
    adoption = np.zeros((1, 1), dtype=np.float32)
    path = []
    for _ in range(200):
        adoption = bass_adoption(adoption, np.array([0.01]), np.array([0.3]))
        path.append(float(adoption[0, 0]))
    increments = np.diff([0.0, *path])
    assert np.all(increments >= 0.0)
    # imitation makes the curve S-shaped: the peak increment comes after the start
    assert 0 < int(np.argmax(increments)) < 199
    assert path[-1] == pytest.approx(1.0, abs=1e-6)


def test_model_quarter_diffuses_adoption_and_values_demand(
    toy_model: Model, toy_start: State, act
) -> None:
    output = toy_model.step(toy_start, act(3))
    # toy: a = 0.3, p = 0.01, q = 0.1 everywhere: 0.3 + (0.01 + 0.03) * 0.7 = 0.328
    np.testing.assert_allclose(output.state.adoption, [[0.328, 0.328, 0.328]], rtol=1e-6)
    # total potential at quarter 0 is the base: 100 + 80 + 200
    assert output.kpis["total_potential"][0] == pytest.approx(380.0)
    # a year later home grows 10% and the others 20%: 110 + 96 + 240
    state = toy_start
    for _ in range(4):
        state = toy_model.step(state, act(3)).state
    np.testing.assert_allclose(toy_model.potential(state), [[110.0, 96.0, 240.0]], rtol=1e-6)
