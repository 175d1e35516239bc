"""R&D against a moving frontier: ``q' = clip(q (1 - o) + e (1 - q)(1 - exp(-X / X0)))``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lepton_env.core import Model
from lepton_env.mechanisms.rnd import rnd_quality
from lepton_env.state import State


def test_quality_after_one_quarter_matches_hand_computation() -> None:
    quality = np.array([0.5, 0.5, 1.0], dtype=np.float32)
    spend = np.array([15.0, 0.0, 1000.0])
    # 0.5 * 0.97 + 0.2 * 0.5 * (1 - e^-1); no spend: 0.485; at the frontier: 0.97
    expected = [0.485 + 0.1 * (1.0 - math.exp(-1.0)), 0.485, 0.97]
    np.testing.assert_allclose(rnd_quality(quality, spend, 0.2, 15.0, 0.03), expected, rtol=1e-6)


def test_returns_to_spend_diminish() -> None:
    quality = np.full(3, 0.5, dtype=np.float32)
    gains = rnd_quality(quality, np.array([10.0, 20.0, 30.0]), 0.2, 15.0, 0.0) - 0.5
    assert gains[1] - gains[0] < gains[0]
    assert gains[2] - gains[1] < gains[1] - gains[0]


def test_quality_stays_in_the_unit_interval() -> None:
    result = rnd_quality(np.array([0.0, 1.0], np.float32), np.array([0.0, 1e9]), 1.0, 1.0, 1.0)
    assert np.all((result >= 0.0) & (result <= 1.0))


def test_rnd_level_sets_intensity_spend_and_quality(
    toy_model: Model, toy_start: State, act
) -> None:
    # toy: initial R&D 0, full budget 10 $M, scale 15, efficiency 0.2, obsolescence 0.03
    output = toy_model.step(toy_start, act(3, rnd=1.0))
    assert output.state.rnd_intensity[0] == 1.0
    assert output.kpis["rnd_cost"][0] == pytest.approx(10.0)
    expected = 0.8 * 0.97 + 0.2 * 0.2 * (1.0 - math.exp(-10.0 / 15.0))
    assert output.state.product_quality[0] == pytest.approx(expected, rel=1e-6)
    # NaN keeps the current intensity, which keeps being paid
    kept = toy_model.step(output.state, act(3))
    assert kept.state.rnd_intensity[0] == 1.0
    assert kept.kpis["rnd_cost"][0] == pytest.approx(10.0)
