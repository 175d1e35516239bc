"""Swappable reward functions: profit (default), market share, risk-adjusted."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_env import make_params
from lepton_env.core import Model
from lepton_env.reward import MarketShareReward, ProfitReward, RiskAdjustedReward

# reward_scale 10, bankruptcy_penalty 10 (default economics); three envs: one mid-episode
# (discount 1), one at the horizon (discount 0.5), one bankrupt (discount 0.25)
PARAMS = make_params("toy")
DELTA = (1.0 + PARAMS.discount_rate) ** -0.25
KPIS = {
    "profit": np.array([25.0, 25.0, -40.0]),
    "revenue": np.array([30.0, 30.0, 1.0]),
    "gross_revenue": np.array([20.0, 20.0, 2.0]),
    "total_potential": np.array([400.0, 400.0, 400.0]),
    "fines": np.array([5.0, 0.0, 0.0]),
    "firm_value": np.array([300.0, 480.0, 50.0]),
    "previous_firm_value": np.array([290.0, 470.0, 60.0]),
    "terminal_value": np.array([0.0, 500.0, 0.0]),
    "bankrupt": np.array([False, False, True]),
    "at_horizon": np.array([False, True, False]),
    "discount": np.array([1.0, 0.5, 0.25]),
}
TERMINATED = np.array([False, True, True])
TRUNCATED = np.array([False, False, False])


def test_profit_reward_adds_terminal_value_and_bankruptcy_penalty_at_present_value() -> None:
    reward, parts = ProfitReward()(KPIS, TERMINATED, TRUNCATED, PARAMS)
    # 25 / 10 (x 1, x 0.5); at the horizon + terminal value 500 / 10 x 0.5; bankrupt
    # (-40 / 10 - 10) x 0.25
    np.testing.assert_allclose(parts["profit"], [2.5, 1.25, -1.0])
    np.testing.assert_allclose(parts["valuation"], [0.0, 25.0, 0.0])
    np.testing.assert_allclose(parts["bankruptcy"], [0.0, 0.0, -2.5])
    np.testing.assert_allclose(reward, [2.5, 26.25, -3.5])


def test_market_share_reward_is_served_demand_over_potential() -> None:
    reward, parts = MarketShareReward()(KPIS, TERMINATED, TRUNCATED, PARAMS)
    # 20 / 400; 2 / 400 - 10; at present value
    np.testing.assert_allclose(reward, [0.05, 0.025, 0.25 * (0.005 - 10.0)])
    np.testing.assert_allclose(sum(parts.values()), reward)


def test_risk_adjusted_reward_weighs_fines() -> None:
    reward, parts = RiskAdjustedReward(risk_aversion=2.0)(KPIS, TERMINATED, TRUNCATED, PARAMS)
    # profit reward minus 2 x 5 / 10 for the fined env
    np.testing.assert_allclose(parts["risk"], [-1.0, 0.0, 0.0])
    np.testing.assert_allclose(reward, [1.5, 26.25, -3.5])
    np.testing.assert_allclose(sum(parts.values()), reward)


@pytest.mark.parametrize(
    "reward_function", [ProfitReward(), MarketShareReward(), RiskAdjustedReward()]
)
def test_model_reports_components_that_sum_to_the_reward(reward_function, act) -> None:
    model = Model(PARAMS, reward_function=reward_function)
    state = model.reset(np.zeros(1, dtype=np.uint64))
    for _ in range(PARAMS.horizon):
        output = model.step(state, act(3, {1: 1}))
        np.testing.assert_allclose(sum(output.reward_components.values()), output.reward)
        state = output.state
    assert output.terminated[0] and output.kpis["at_horizon"][0]


def test_terminal_valuation_only_in_the_last_quarter(act) -> None:
    model = Model(PARAMS)
    state = model.reset(np.zeros(1, dtype=np.uint64))
    for quarter in range(1, PARAMS.horizon + 1):
        output = model.step(state, act(3))
        state = output.state
        last = quarter == PARAMS.horizon
        assert bool(output.terminated[0]) == last and not output.truncated[0]
        value = output.kpis["terminal_value"][0]
        assert (value != 0.0) == last  # computed at the horizon only
        expected = DELTA**quarter * value / 10.0
        assert output.reward_components["valuation"][0] == pytest.approx(expected)
    assert output.kpis["terminal_value"][0] > 0.0


def test_valuation_reward_pays_the_change_in_firm_value() -> None:
    from lepton_env.reward import ValuationReward

    reward, parts = ValuationReward()(KPIS, TERMINATED, TRUNCATED, PARAMS)
    # delta^t V_t - delta^(t-1) V_(t-1): the book value mid-episode, the terminal value
    # (500) at the horizon, 0 on bankruptcy (a bankrupt firm's positions are lost)
    value = np.array([300.0, 500.0, 0.0])
    previous = np.array([290.0, 470.0, 60.0])
    expected = KPIS["discount"] * (value - previous / DELTA) / 10.0
    np.testing.assert_allclose(parts["valuation"], expected)
    profit, penalty = np.array([2.5, 1.25, -1.0]), np.array([0.0, 0.0, -2.5])
    np.testing.assert_allclose(reward, profit + expected + penalty)


def test_valuation_reward_is_profit_reward_shaped_by_firm_value_potential() -> None:
    """Episode returns differ by exactly Phi(s_0) = firm value of s_0 / scale."""
    from lepton_env import Action, Model, make_params
    from lepton_env.reward import ProfitReward, ValuationReward
    from lepton_env.rng import episode_key

    params = make_params("global", horizon=12)
    keys = episode_key(np.arange(16))
    returns = {}
    for reward in (ProfitReward(), ValuationReward()):
        model = Model(params, reward_function=reward)
        state = model.reset(keys)
        opening = np.zeros(16)
        total = np.zeros(16)
        alive = np.ones(16, dtype=bool)
        bankrupt = np.zeros(16, dtype=bool)
        for quarter in range(params.horizon):
            action = Action.hold(16, params.num_regions)
            if quarter == 0:  # greenfields everywhere in half the batch: those go bankrupt
                moves = action.moves.copy()
                moves[:8] = 4
                action = Action(
                    moves, action.marketing, action.localization, action.compliance, action.rnd
                )
            output = model.step(state, action)
            if quarter == 0:
                opening = output.kpis["previous_firm_value"] / params.reward_scale
            total += np.where(alive, output.reward, 0.0)
            bankrupt |= alive & output.kpis["bankrupt"]
            alive &= ~(output.terminated | output.truncated)
            state = output.state
        assert bankrupt[:8].all() and not bankrupt[8:].any()
        returns[type(reward).__name__] = (total, opening)
    profit, _ = returns["ProfitReward"]
    valuation, opening = returns["ValuationReward"]
    np.testing.assert_allclose(valuation, profit - opening, rtol=1e-9, atol=1e-9)
