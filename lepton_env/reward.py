"""Swappable reward functions. Each maps a quarter's KPIs to a reward per env.

**One rate.** Every reward here is a present value at the valuation's cost of capital
(``discount_rate``, the rate that prices acquisitions and the terminal value): the
reward of the quarter that ends at quarter ``t`` is ``delta^t`` times its quarterly
value, ``delta = (1 + discount_rate)^(-1/4)`` (the KPI ``discount``), so an episode's
undiscounted sum of rewards, the return every evaluator, oracle and search adds up,
is the present value at quarter 0. A learner with ``gamma = 1`` maximizes exactly that;
``gamma < 1`` discounts again on top (docs/model.md, "One rate").

All return ``(reward (B,), components)`` where ``components`` names each additive
part (they sum to the reward), reported in ``info["reward_components"]``. They read the
end of the task from the KPIs: ``bankrupt`` (cash below the credit line) and
``at_horizon`` (the planning horizon, where ``terminal_value`` is paid); the
``terminated`` and ``truncated`` flags are passed for custom rewards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from lepton_env.params import Params

Components = dict[str, NDArray[np.float64]]


class RewardFunction(Protocol):
    """``(kpis, terminated, truncated, params) -> (reward, components)``."""

    def __call__(
        self,
        kpis: dict[str, NDArray[np.generic]],
        terminated: NDArray[np.bool_],
        truncated: NDArray[np.bool_],
        params: Params,
    ) -> tuple[NDArray[np.float64], Components]: ...


def _flag(kpis: dict[str, NDArray[np.generic]], name: str) -> NDArray[np.bool_]:
    return np.asarray(kpis[name], dtype=np.bool_)


def _present(parts: Components, kpis: dict[str, NDArray[np.generic]]) -> Components:
    """Each part at its present value at quarter 0: times ``delta^t`` (KPI ``discount``)."""
    discount = np.asarray(kpis["discount"], dtype=np.float64)
    return {name: discount * value for name, value in parts.items()}


def _total(parts: Components) -> NDArray[np.float64]:
    values = list(parts.values())
    return sum(values[1:], values[0].copy())


def _terminal_parts(kpis: dict[str, NDArray[np.generic]], params: Params) -> Components:
    """The terminal value at the horizon and the bankruptcy penalty, undiscounted."""
    bankrupt = _flag(kpis, "bankrupt")
    terminal = np.where(
        _flag(kpis, "at_horizon") & ~bankrupt, kpis["terminal_value"].astype(np.float64), 0.0
    )
    return {
        "valuation": terminal / params.reward_scale,
        "bankruptcy": np.where(bankrupt, -params.bankruptcy_penalty, 0.0),
    }


@dataclass(frozen=True)
class ProfitReward:
    """Quarterly profit over ``reward_scale``, plus the terminal value, at present value.

    ``r_t = delta^t (profit_t / scale + 1[t = H] V_H / scale - 1[bankrupt] penalty)``,
    with ``V_H`` the KPI ``terminal_value``: the expected discounted profit of the firm's
    positions if the game went on under the model's own dynamics and the stated
    continuation policy (:mod:`lepton_env.kernel.terminal`). The return is the firm's
    present value at the cost of capital. The default.
    """

    def __call__(
        self,
        kpis: dict[str, NDArray[np.generic]],
        terminated: NDArray[np.bool_],
        truncated: NDArray[np.bool_],
        params: Params,
    ) -> tuple[NDArray[np.float64], Components]:
        parts = {"profit": kpis["profit"].astype(np.float64) / params.reward_scale}
        parts.update(_terminal_parts(kpis, params))
        parts = _present(parts, kpis)
        return _total(parts), parts


@dataclass(frozen=True)
class ValuationReward:
    """Quarterly profit plus the change in firm value: a dense form of :class:`ProfitReward`.

    Potential-based shaping (Ng, Harada & Russell 1999) at the same rate: with
    ``Phi_t = V_t / scale``, ``r_t = delta^t profit_t / scale + delta^t Phi_t -
    delta^(t-1) Phi_(t-1)`` (less ``delta^t`` times the penalty on bankruptcy). ``V_t`` is
    the KPI ``firm_value`` during the episode (the book value of the positions, the
    valuation that prices acquisitions: :mod:`lepton_env.mechanisms.valuation`), the
    terminal value at the horizon, and 0 on bankruptcy. The shaping telescopes to
    ``delta^H V_H / scale - Phi_0``: an episode's return is ProfitReward's minus the
    constant ``Phi_0`` (the home business at reset), so the two rank policies alike, but
    the value is paid as positions are built instead of at the horizon.
    """

    def __call__(
        self,
        kpis: dict[str, NDArray[np.generic]],
        terminated: NDArray[np.bool_],
        truncated: NDArray[np.bool_],
        params: Params,
    ) -> tuple[NDArray[np.float64], Components]:
        delta = (1.0 + params.discount_rate) ** -0.25
        bankrupt = _flag(kpis, "bankrupt")
        value = np.where(
            _flag(kpis, "at_horizon"),
            kpis["terminal_value"].astype(np.float64),
            kpis["firm_value"].astype(np.float64),
        )
        value = np.where(bankrupt, 0.0, value)
        previous = kpis["previous_firm_value"].astype(np.float64)
        parts = {
            "profit": kpis["profit"].astype(np.float64) / params.reward_scale,
            "valuation": (value - previous / delta) / params.reward_scale,
            "bankruptcy": np.where(bankrupt, -params.bankruptcy_penalty, 0.0),
        }
        parts = _present(parts, kpis)
        return _total(parts), parts


@dataclass(frozen=True)
class MarketShareReward:
    """Revenue-weighted presence: the firm's served demand as a share of all regions' potential.

    ``r_t = delta^t (sum_r s_r D_r / sum_r M_r - 1[bankrupt] penalty)`` (a
    growth-at-all-costs objective, at the same rate as the others).
    """

    def __call__(
        self,
        kpis: dict[str, NDArray[np.generic]],
        terminated: NDArray[np.bool_],
        truncated: NDArray[np.bool_],
        params: Params,
    ) -> tuple[NDArray[np.float64], Components]:
        served = kpis["gross_revenue"].astype(np.float64)
        potential = kpis["total_potential"].astype(np.float64)
        parts = {
            "market_share": served / np.maximum(potential, 1e-12),
            "bankruptcy": np.where(_flag(kpis, "bankrupt"), -params.bankruptcy_penalty, 0.0),
        }
        parts = _present(parts, kpis)
        return _total(parts), parts


@dataclass(frozen=True)
class RiskAdjustedReward:
    """Profit reward with fines and suspensions weighed ``risk_aversion`` times over.

    ``r_t = profit reward - delta^t lambda fines_t / scale``.
    """

    risk_aversion: float = 2.0

    def __call__(
        self,
        kpis: dict[str, NDArray[np.generic]],
        terminated: NDArray[np.bool_],
        truncated: NDArray[np.bool_],
        params: Params,
    ) -> tuple[NDArray[np.float64], Components]:
        reward, parts = ProfitReward()(kpis, terminated, truncated, params)
        parts = dict(parts)
        fines = kpis["fines"].astype(np.float64) / params.reward_scale
        parts["risk"] = -self.risk_aversion * np.asarray(kpis["discount"], np.float64) * fines
        return reward + parts["risk"], parts
