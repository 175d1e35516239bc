"""Finance: revenue, spend budgets, cash accounting and bankruptcy."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_env import make_params
from lepton_env.core import Model
from lepton_env.mechanisms.finance import gross_revenue, is_bankrupt, spend_cost

COST_KPIS = (
    "cost_of_revenue",
    "operating_cost",
    "entry_cost",
    "exit_cost",
    "spend_cost",
    "rnd_cost",
    "fines",
    "overhead",
)


def test_gross_revenue_is_share_times_demand_where_served() -> None:
    share = np.array([[0.1, 0.1]], dtype=np.float32)
    demand = np.array([[50.0, 50.0]], dtype=np.float32)
    revenue = gross_revenue(share, demand, np.array([[True, False]]))
    np.testing.assert_allclose(revenue, [[5.0, 0.0]], rtol=1e-6)
    assert revenue.dtype == np.float64


def test_spend_cost_scales_the_budget_by_intensity() -> None:
    cost = spend_cost(
        np.array([[0.5, 1.0]], np.float32), 1.0, 0.005, np.array([[200.0, 0.0]], np.float32)
    )
    # 0.5 * (1 + 0.005 * 200) = 1; 1 * (1 + 0) = 1
    np.testing.assert_allclose(cost, [[1.0, 1.0]])


def test_bankrupt_strictly_below_the_credit_line() -> None:
    np.testing.assert_array_equal(
        is_bankrupt(np.array([-101.0, -100.0, 5.0]), 100.0), [True, False, False]
    )


def test_cash_changes_by_revenue_minus_every_cost(act) -> None:
    """One toy quarter, every cost line by hand: pilot entry near, marketing at home, R&D on."""
    model = Model(make_params("toy"))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    output = model.step(state, act(3, {0: 6, 1: 1}, rnd=1.0))
    kpis = output.kpis
    gross = kpis["gross_revenue"][0]
    assert kpis["cost_of_revenue"][0] == pytest.approx(0.35 * gross)
    # home greenfield 5 + 0.01 * 100; near pilot 0.5 + 0.002 * 80
    assert kpis["operating_cost"][0] == pytest.approx(6.0 + 0.66)
    assert kpis["entry_cost"][0] == pytest.approx(2.0)
    assert kpis["spend_cost"][0] == pytest.approx(1.0 + 0.005 * 100.0)
    assert kpis["rnd_cost"][0] == pytest.approx(10.0)
    assert kpis["overhead"][0] == pytest.approx(2.0)
    assert kpis["exit_cost"][0] == 0.0 and kpis["fines"][0] == 0.0
    expected_profit = gross * (1 - 0.35) - 6.66 - 2.0 - 1.5 - 10.0 - 2.0
    assert kpis["profit"][0] == pytest.approx(expected_profit)
    assert output.state.cash[0] == pytest.approx(60.0 + expected_profit)
    assert kpis["cash"][0] == output.state.cash[0]
    total_costs = sum(kpis[name][0] for name in COST_KPIS)
    assert output.state.cash[0] - state.cash[0] == pytest.approx(
        kpis["revenue"][0] - total_costs, rel=1e-12
    )


def test_bankruptcy_terminates_with_the_penalty(act) -> None:
    # cash 0 with credit 20: an overhead of 30 $M a quarter outruns home's profit of about 8
    model = Model(make_params("toy", initial_cash=0.0, overhead=30.0))
    state = model.reset(np.zeros(1, dtype=np.uint64))
    output = model.step(state, act(3))
    assert output.state.cash[0] < -20.0
    assert output.terminated[0] and not output.truncated[0]
    assert output.kpis["bankrupt"][0]
    # at present value, as every reward: the first quarter's discount factor
    delta = (1.0 + model.params.discount_rate) ** -0.25
    assert output.reward_components["bankruptcy"][0] == pytest.approx(-10.0 * delta)
