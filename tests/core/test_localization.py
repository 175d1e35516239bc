"""Localization: ``L' = L + lambda x (1 - L)``; a partner gives ``max(L, boost * quality)``."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_env import make_params
from lepton_env.core import Model
from lepton_env.mechanisms.localization import localize, partner_head_start
from lepton_env.state import State
from lepton_env.types import Move


def test_localize_closes_a_fraction_of_the_gap() -> None:
    local = np.array([[0.2, 0.2, 1.0]], dtype=np.float32)
    intensity = np.array([[1.0, 0.5, 1.0]], dtype=np.float32)
    # 0.2 + 0.25 * 0.8 = 0.4; 0.2 + 0.25 * 0.5 * 0.8 = 0.3; fully localized stays 1
    np.testing.assert_allclose(localize(local, intensity, 0.25), [[0.4, 0.3, 1.0]], rtol=1e-6)


def test_returns_diminish() -> None:
    local = np.zeros(1, dtype=np.float32)
    gains = []
    for _ in range(4):
        new = localize(local, np.ones(1, np.float32), 0.5)
        gains.append(float(new[0] - local[0]))
        local = new
    # 0.5, 0.25, 0.125, 0.0625
    np.testing.assert_allclose(gains, [0.5, 0.25, 0.125, 0.0625], rtol=1e-6)


def test_partner_head_start_never_lowers_localization() -> None:
    local = np.array([0.1, 0.7], dtype=np.float32)
    quality = np.array([0.75, 0.75], dtype=np.float32)
    # 0.8 * 0.75 = 0.6 raises 0.1 but not 0.7
    np.testing.assert_allclose(partner_head_start(local, quality, 0.8), [0.6, 0.7], rtol=1e-6)


def test_partnership_entry_localizes_through_the_best_partner(
    toy_model: Model, toy_start: State, act
) -> None:
    near = 1
    output = toy_model.step(toy_start, act(3, {near: Move.ENTER_PARTNERSHIP}))
    # toy near partners have known quality 0.6 and 0.8; the best one gives 0.8 * 0.8
    assert output.state.partner[0, near] == 1
    assert output.state.localization[0, near] == pytest.approx(0.64)


def test_localize_move_then_full_localization_masks_it(toy_model: Model, act) -> None:
    state = toy_model.reset(np.zeros(1, dtype=np.uint64))
    near = 1
    state = toy_model.step(state, act(3, {near: Move.ENTER_PILOT})).state
    output = toy_model.step(state, act(3, {near: Move.LOCALIZE}))
    assert output.state.localization[0, near] == pytest.approx(0.25)  # 0 + 0.25 * 1
    # full budget at quarter 1: 1 + 0.005 * 80 * 1.2 ** 0.25 $M (a quarter of 20% growth)
    assert output.kpis["spend_cost"][0] == pytest.approx(1.0 + 0.005 * 80.0 * 1.2**0.25)
    full = output.state.replace(localization=np.ones((1, 3), dtype=np.float32))
    assert not toy_model.valid_moves(full)[0, near, Move.LOCALIZE]


def test_localize_is_masked_once_spend_cannot_move_float32_localization(act) -> None:
    """Just below 1 in float32, ``L + 0.25 (1 - L)`` rounds back to ``L``: no effect, no move.

    Reached after about 58 quarters of full localization spend (0.75 ** 58 ~ 6e-8).
    """
    model = Model(make_params("toy", horizon=200))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    stuck = np.float32(1.0) - np.float32(2.0**-24)  # the largest float32 below 1
    state = state.replace(localization=np.array([[1.0, stuck, 0.0]], dtype=np.float32))
    state = state.replace(entry_mode=np.array([[4, 1, 0]], dtype=np.int8))
    near = 1
    assert not model.valid_moves(state)[0, near, Move.LOCALIZE]
    output = model.step(state, act(3, {near: Move.LOCALIZE}))
    assert output.kpis["invalid_moves"][0] == 1
    assert output.kpis["spend_cost"][0] == 0.0


def test_localize_is_masked_when_the_rate_is_zero(act) -> None:
    model = Model(make_params("toy", localization_rate=0.0))
    state = model.step(model.reset(np.zeros(1, dtype=np.uint64)), act(3, {1: Move.ENTER_PILOT}))
    assert not model.valid_moves(state.state)[0, 1, Move.LOCALIZE]
