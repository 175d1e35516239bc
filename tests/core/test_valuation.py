"""The one valuation: discounted expected demand, positions, acquisition prices, firm value."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_env import make_params, rng
from lepton_env.core import Action, Model
from lepton_env.mechanisms.valuation import (
    acquisition_price,
    annuity,
    discounted_demand,
    discounted_potential,
    position_value,
    quarterly_discount,
    share_value,
)
from lepton_env.params import ParamsError
from lepton_env.types import EntryMode, Move

# growth of 46.41 % a year is 10 % a quarter: (1.1 ** 4 - 1)
QUARTERLY_TEN = 1.1**4 - 1.0


def test_quarterly_discount_and_annuity() -> None:
    assert quarterly_discount(0.1) == pytest.approx(1.1**-0.25)
    assert quarterly_discount(0.0) == 1.0
    # 0.5 + 0.25 + 0.125
    assert annuity(0.5, 3) == pytest.approx(0.875)


def test_discounted_demand_steps_bass_and_growth_by_hand() -> None:
    # a: 0.5 -> 0.5 + (0.1 + 0.2 x 0.5) x 0.5 = 0.6 -> 0.6 + (0.1 + 0.12) x 0.4 = 0.688
    # no growth: 0.5 x 100 x 0.6 + 0.25 x 100 x 0.688 = 30 + 17.2
    assert discounted_demand(100.0, 0.0, 0.0, 0.5, 0.1, 0.2, 0.5, 2) == pytest.approx(47.2)
    # 10 % a quarter from t = 0: the second quarter's potential is 110
    assert discounted_demand(100.0, QUARTERLY_TEN, 0.0, 0.5, 0.1, 0.2, 0.5, 2) == pytest.approx(
        30.0 + 0.25 * 110.0 * 0.688
    )
    # from t = 4 the potentials are 100 x 1.1^4 and 100 x 1.1^5
    assert discounted_demand(100.0, QUARTERLY_TEN, 4.0, 0.5, 0.1, 0.2, 0.5, 2) == pytest.approx(
        0.5 * 146.41 * 0.6 + 0.25 * 161.051 * 0.688
    )


def test_discounted_potential_by_hand() -> None:
    # 0.5 x 100 + 0.25 x 110
    assert discounted_potential(100.0, QUARTERLY_TEN, 0.0, 0.5, 2) == pytest.approx(77.5)


def test_share_and_position_values_by_hand() -> None:
    # 0.2 x 0.65 x 1.5 x 47.2
    assert share_value(0.2, 0.65, 1.5, 47.2) == pytest.approx(9.204)
    # less 4 x 0.75 + 0.01 x 1.5 x 77.5 of operating cost
    assert position_value(0.2, 0.65, 1.5, 47.2, 77.5, 4.0, 0.01, 0.75) == pytest.approx(5.0415)
    # a position whose operating cost exceeds its margin has negative value
    assert position_value(0.0, 0.65, 1.0, 47.2, 77.5, 4.0, 0.01, 0.75) < 0.0


def test_acquisition_price_is_deal_cost_plus_premium_on_value() -> None:
    assert acquisition_price(25.0, 0.35, 100.0) == pytest.approx(160.0)


def _demand_value(params, region: int, quarter: int, adoption: float) -> float:
    """``W_r(t)`` by a plain Python loop (the test's own implementation)."""
    delta = (1.0 + params.discount_rate) ** -0.25
    p, q = params.bass_innovation[region], params.bass_imitation[region]
    total = 0.0
    for k in range(1, params.valuation_quarters + 1):
        adoption += (p + q * adoption) * (1.0 - adoption)
        growth = (1.0 + params.market_growth[region]) ** ((quarter + k - 1) / 4)
        total += delta**k * params.market_potential[region] * growth * adoption
    return total


def _potential_value(params, region: int, quarter: int) -> float:
    delta = (1.0 + params.discount_rate) ** -0.25
    return sum(
        delta**k
        * params.market_potential[region]
        * (1.0 + params.market_growth[region]) ** ((quarter + k - 1) / 4)
        for k in range(1, params.valuation_quarters + 1)
    )


def _firm_value(params, state, row: int) -> float:
    """The firm value of env ``row`` of ``state`` by hand from the state's own fields."""
    delta = (1.0 + params.discount_rate) ** -0.25
    annuity_value = sum(delta**k for k in range(1, params.valuation_quarters + 1))
    total = 0.0
    quarter = int(state.quarter[row])
    for r in range(params.num_regions):
        mode = int(state.entry_mode[row, r])
        if mode == 0:
            continue
        cut = params.partner_revenue_share if mode == EntryMode.PARTNERSHIP else 0.0
        size = float(state.market_size[row, r])
        demand = _demand_value(params, r, quarter, float(state.adoption[row, r]))
        margin = 1.0 - params.variable_cost_rate - cut
        total += float(state.firm_share[row, r]) * margin * size * demand
        total -= params.operating_cost_fixed[mode] * annuity_value
        total -= params.operating_cost_market[mode] * size * _potential_value(params, r, quarter)
    return total


def test_kernel_acquisition_price_matches_hand_valuation() -> None:
    params = make_params("global", trait_noise=0.3, initial_cash=1e6)
    model = Model(params)
    state = model.reset(rng.episode_key(np.arange(3)))
    for _ in range(2):  # off quarter 0, with noisy market sizes
        state = model.step(state, Action.hold(3, params.num_regions)).state
    costs = model.move_costs(state)
    potential = model.potential(state)
    for row in range(3):
        for r in range(params.num_regions):
            active = state.competitor_active[row, r]
            if not active.any():
                continue
            share = np.where(active, state.competitor_share[row, r], -1.0).max()
            value = (
                float(share)
                * (1.0 - params.variable_cost_rate)
                * float(state.market_size[row, r])
                * _demand_value(params, r, 2, float(state.adoption[row, r]))
            )
            deal = params.entry_cost_fixed[3] + params.entry_cost_market[3] * potential[row, r]
            expected = deal + (1.0 + params.control_premium) * value
            assert costs[row, r, Move.ENTER_ACQUISITION] == pytest.approx(expected, rel=1e-5)


def test_firm_value_kpi_matches_hand_valuation_on_and_off_the_adoption_path() -> None:
    params = make_params("toy", initial_cash=2000.0)
    model = Model(params)
    state = model.reset(rng.episode_key(np.zeros(1, dtype=np.int64)))
    moves = {1: Move.ENTER_PARTNERSHIP, 2: Move.ENTER_ACQUISITION}
    action = Action.hold(1, 3)
    chosen = action.moves.copy()
    for region, move in moves.items():
        chosen[0, region] = move
    output = model.step(
        state, Action(chosen, action.marketing, action.localization, action.compliance, action.rnd)
    )
    assert output.kpis["previous_firm_value"][0] == pytest.approx(_firm_value(params, state, 0))
    state = output.state
    assert set(state.entry_mode[0]) == {EntryMode.GREENFIELD, EntryMode.PARTNERSHIP, 3}
    assert output.kpis["firm_value"][0] == pytest.approx(_firm_value(params, state, 0), rel=1e-6)
    # a state whose adoption left the scenario's path is valued from its own adoption
    moved = state.replace(adoption=(state.adoption + np.float32(0.1)).astype(np.float32))
    output = model.step(moved, Action.hold(1, 3))
    hand = _firm_value(params, moved, 0)
    assert output.kpis["previous_firm_value"][0] == pytest.approx(hand, rel=1e-6)
    assert hand > _firm_value(params, state, 0)


def test_buying_a_share_costs_more_than_the_valuation_it_adds() -> None:
    """No horizon arbitrage by construction: the price of a target's share exceeds what that
    share adds to the firm value (premium, and the acquired unit's operating cost)."""
    params = make_params("global", initial_cash=1e6)
    model = Model(params)
    state = model.reset(rng.episode_key(np.arange(4)))
    costs = model.move_costs(state)
    action = Action.hold(4, params.num_regions)
    hold = model.step(state, action)
    chosen = action.moves.copy()
    chosen[:, 1:] = Move.ENTER_ACQUISITION
    buy = model.step(
        state, Action(chosen, action.marketing, action.localization, action.compliance, action.rnd)
    )
    bought = buy.state.entry_mode[:, 1:] == EntryMode.ACQUISITION
    assert bought.sum() > 10
    price = np.where(bought, costs[:, 1:, Move.ENTER_ACQUISITION], 0.0).sum(axis=1)
    gained = buy.kpis["firm_value"] - hold.kpis["firm_value"]
    assert np.all(gained > 0.0)
    assert np.all(price > gained)


def test_removed_multiples_name_their_replacement() -> None:
    with pytest.raises(ParamsError, match=r"acquisition_revenue_multiple.*control_premium"):
        make_params("toy", acquisition_revenue_multiple=3.0)
    with pytest.raises(ParamsError, match=r"valuation_multiple.*discount_rate"):
        make_params("toy", valuation_multiple=4.0)


@pytest.mark.parametrize(
    ("name", "value"),
    [("discount_rate", -0.1), ("discount_rate", 1.5), ("valuation_quarters", 0),
     ("valuation_quarters", 2.5), ("control_premium", -0.2)],
)  # fmt: skip
def test_valuation_parameters_are_validated(name: str, value: float) -> None:
    with pytest.raises(ParamsError, match=name):
        make_params("toy", **{name: value})
