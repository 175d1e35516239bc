"""Brand goodwill: Nerlove-Arrow (1962), ``B' = (1 - delta) B + eta x``."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_env.core import Model
from lepton_env.mechanisms.brand import nerlove_arrow
from lepton_env.state import State
from lepton_env.types import EntryMode, Move


def test_one_quarter_matches_hand_computation() -> None:
    brand = np.array([[2.0, 0.0, 4.0]], dtype=np.float32)
    intensity = np.array([[0.5, 1.0, 0.0]], dtype=np.float32)
    # 0.9 * 2 + 1 * 0.5 = 2.3; 0 + 1 = 1; 0.9 * 4 = 3.6
    np.testing.assert_allclose(
        nerlove_arrow(brand, intensity, 1.0, 0.1), [[2.3, 1.0, 3.6]], rtol=1e-6
    )


def test_constant_spend_converges_to_eta_x_over_delta() -> None:
    brand = np.zeros(1, dtype=np.float32)
    for _ in range(300):
        brand = nerlove_arrow(brand, np.array([0.8], np.float32), 2.0, 0.25)
    # steady state eta x / delta = 2 * 0.8 / 0.25
    assert brand[0] == pytest.approx(6.4, rel=1e-5)


def test_without_spend_goodwill_decays_geometrically() -> None:
    brand = np.array([10.0], dtype=np.float32)
    for _ in range(3):
        brand = nerlove_arrow(brand, np.zeros(1, np.float32), 1.0, 0.5)
    assert brand[0] == pytest.approx(1.25)  # 10 / 2**3


def test_marketing_move_builds_brand_at_the_full_budget(
    toy_model: Model, toy_start: State, act
) -> None:
    home = 0
    output = toy_model.step(toy_start, act(3, {home: Move.MARKETING}))
    # home brand 5: 0.9 * 5 + 1.0 * 1 = 5.5 (HOLD would give 4.5)
    assert output.state.brand[0, home] == pytest.approx(5.5)
    # full budget: 1 + 0.005 * 100 $M of potential
    assert output.kpis["spend_cost"][0] == pytest.approx(1.5)
    assert toy_model.step(toy_start, act(3)).state.brand[0, home] == pytest.approx(4.5)


def test_marketing_needs_presence(toy_model: Model, toy_start: State, act) -> None:
    valid = toy_model.valid_moves(toy_start)
    assert valid[0, 0, Move.MARKETING]
    assert not valid[0, 1, Move.MARKETING]
    output = toy_model.step(toy_start, act(3, {1: Move.MARKETING}))
    assert output.state.brand[0, 1] == 0.0
    assert output.state.entry_mode[0, 1] == EntryMode.NONE
    assert output.kpis["invalid_moves"][0] == 1
    assert output.kpis["spend_cost"][0] == 0.0
