"""Competitor personas: passive, price warrior, innovator, follower, and injected ones."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest

from lepton_env import make_params
from lepton_env.core import Model
from lepton_env.mechanisms.competitors import (
    DEFAULT_PERSONAS,
    Follower,
    Innovator,
    Passive,
    PriceWarrior,
    Rivals,
    react,
)
from lepton_env.params import Params

# price_war_threshold 0.05, price_war_cut 0.05, price_floor 0.5, innovation_rate 0.05,
# follow_rate 0.2 (default economics)
PARAMS = make_params("toy")


def _rivals(firm_share: float = 0.1, firm_brand: float = 5.0) -> Rivals:
    """One region, three rivals; the firm's (B, R) arrays broadcast over K."""
    return Rivals(
        quality=np.array([[[0.6, 0.9, 1.0]]], dtype=np.float32),
        brand=np.array([[[2.0, 6.0, 0.0]]], dtype=np.float32),
        price=np.array([[[1.0, 0.52, 0.4]]], dtype=np.float32),
        share=np.array([[[0.3, 0.2, 0.1]]], dtype=np.float32),
        firm_share=np.array([[firm_share]], dtype=np.float32),
        firm_brand=np.array([[firm_brand]], dtype=np.float32),
    )


def test_passive_does_not_react() -> None:
    rivals = _rivals()
    quality, brand, price = Passive().react(rivals, PARAMS)
    np.testing.assert_array_equal(quality, rivals.quality)
    np.testing.assert_array_equal(brand, rivals.brand)
    np.testing.assert_array_equal(price, rivals.price)


def test_price_warrior_cuts_to_the_floor_when_threatened() -> None:
    _, _, price = PriceWarrior().react(_rivals(firm_share=0.1), PARAMS)
    # 1 * 0.95; 0.52 * 0.95 = 0.494 below the floor 0.5; already below the floor: unchanged
    np.testing.assert_allclose(price, [[[0.95, 0.5, 0.4]]], rtol=1e-6)
    # at the threshold: no war; the ufunc compares in float64, where float32(0.05) is above
    # 0.05, so the share is given exactly at the threshold in float64
    at_threshold = dataclasses.replace(_rivals(), firm_share=np.array([[0.05]]))
    _, _, calm = PriceWarrior().react(at_threshold, PARAMS)
    np.testing.assert_array_equal(calm, _rivals().price)


def test_innovator_closes_the_gap_to_the_frontier() -> None:
    quality, _, _ = Innovator().react(_rivals(), PARAMS)
    # 0.6 + 0.05 * 0.4 = 0.62; 0.9 + 0.05 * 0.1 = 0.905; the frontier stays 1
    np.testing.assert_allclose(quality, [[[0.62, 0.905, 1.0]]], rtol=1e-6)


def test_follower_matches_a_share_of_the_firms_brand_lead() -> None:
    _, brand, _ = Follower().react(_rivals(firm_brand=5.0), PARAMS)
    # 2 + 0.2 * (5 - 2) = 2.6; 6 is ahead: unchanged; 0 + 0.2 * 5 = 1
    np.testing.assert_allclose(brand, [[[2.6, 6.0, 1.0]]], rtol=1e-6)


def test_react_dispatches_each_slot_to_its_persona() -> None:
    personas = np.array([[1.0, 2.0, 3.0]])  # warrior, innovator, follower
    quality, brand, price = react(_rivals(), personas, DEFAULT_PERSONAS, PARAMS)
    np.testing.assert_allclose(quality, [[[0.6, 0.905, 1.0]]], rtol=1e-6)
    np.testing.assert_allclose(brand, [[[2.0, 6.0, 1.0]]], rtol=1e-6)
    np.testing.assert_allclose(price, [[[0.95, 0.52, 0.4]]], rtol=1e-6)


@dataclass(frozen=True)
class Discounter:
    """A test persona: prices at the floor from the first quarter."""

    name: str = "discounter"

    def react(self, rivals: Rivals, params: Params):
        return rivals.quality, rivals.brand, np.full_like(rivals.price, params.price_floor)


def test_personas_are_injected_into_the_model(act) -> None:
    params = make_params("toy", competitor_persona=np.full((3, 2), 4.0))
    model = Model(params, personas=(*DEFAULT_PERSONAS, Discounter()))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    after = model.step(state, act(3)).state
    np.testing.assert_array_equal(after.competitor_price, np.full((1, 3, 2), 0.5))


def test_model_rejects_a_persona_index_without_a_persona() -> None:
    params = make_params("toy", competitor_persona=np.full((3, 2), 4.0))
    with pytest.raises(ValueError, match=r"competitor_persona uses index 4 but only 4 personas"):
        Model(params)


def test_rivals_react_to_the_position_at_the_start_of_the_quarter(act) -> None:
    # toy near: slot 0 is a price warrior; the firm enters with a pilot
    model = Model(make_params("toy"))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    near = 1
    state = model.step(state, act(3, {near: 1})).state  # pilot: share below 0.05
    assert 0.0 < state.firm_share[0, near] <= 0.05
    calm = model.step(state, act(3)).state
    assert calm.competitor_price[0, near, 0] == pytest.approx(1.0)
    threatened = state.replace(firm_share=np.array([[0.5, 0.06, 0.0]], dtype=np.float32))
    war = model.step(threatened, act(3)).state
    assert war.competitor_price[0, near, 0] == pytest.approx(0.95)
    assert war.competitor_price[0, near, 1] == pytest.approx(1.0)  # passive slot
