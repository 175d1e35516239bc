"""Swappable reward functions. Each maps a quarter's KPIs to a reward per env.

All return ``(reward (B,), components)`` where ``components`` names each
additive part (they sum to the reward), reported in ``info["reward_components"]``.
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


def _terminal_parts(
    kpis: dict[str, NDArray[np.generic]],
    terminated: NDArray[np.bool_],
    truncated: NDArray[np.bool_],
    params: Params,
) -> Components:
    firm_value = kpis["firm_value"].astype(np.float64)
    valuation = np.where(truncated, firm_value, 0.0)
    return {
        "valuation": valuation / params.reward_scale,
        "bankruptcy": np.where(terminated, -params.bankruptcy_penalty, 0.0),
    }


@dataclass(frozen=True)
class ProfitReward:
    """Quarterly profit over ``reward_scale``, plus a terminal valuation.

    ``r_t = profit_t / scale + 1[t = T] * V_T / scale - 1[bankrupt] * penalty``, with
    ``V_T`` the KPI ``firm_value`` at the horizon: the discounted value of the firm's
    positions (:mod:`lepton_env.mechanisms.valuation`), the same valuation that prices
    acquisitions. The default.
    """

    def __call__(
        self,
        kpis: dict[str, NDArray[np.generic]],
        terminated: NDArray[np.bool_],
        truncated: NDArray[np.bool_],
        params: Params,
    ) -> tuple[NDArray[np.float64], Components]:
        parts = {"profit": kpis["profit"].astype(np.float64) / params.reward_scale}
        parts.update(_terminal_parts(kpis, terminated, truncated, params))
        return sum(parts.values(), np.zeros_like(parts["profit"])), parts


@dataclass(frozen=True)
class ValuationReward:
    """Quarterly change in firm value, a dense form of :class:`ProfitReward`.

    Firm value is cash plus the value of its positions, ``cash_t + V_t`` with ``V_t`` the
    KPI ``firm_value`` (:mod:`lepton_env.mechanisms.valuation`; a bankrupt firm's
    positions are worth nothing), so ``r_t = (profit_t + V_t - V_{t-1}) / scale``, and on
    bankruptcy ``(profit_t - V_{t-1}) / scale - penalty``. The value term is
    potential-based shaping with ``Phi = V / scale`` (Ng, Harada & Russell 1999): an
    episode's return is ProfitReward's minus the constant ``Phi(s_0)``, so the two rank
    policies alike, but the valuation is paid as positions are built instead of at the
    horizon.
    """

    def __call__(
        self,
        kpis: dict[str, NDArray[np.generic]],
        terminated: NDArray[np.bool_],
        truncated: NDArray[np.bool_],
        params: Params,
    ) -> tuple[NDArray[np.float64], Components]:
        value = kpis["firm_value"].astype(np.float64)
        previous = kpis["previous_firm_value"].astype(np.float64)
        parts = {
            "profit": kpis["profit"].astype(np.float64) / params.reward_scale,
            "valuation": (np.where(terminated, 0.0, value) - previous) / params.reward_scale,
            "bankruptcy": np.where(terminated, -params.bankruptcy_penalty, 0.0),
        }
        return parts["profit"] + parts["valuation"] + parts["bankruptcy"], parts


@dataclass(frozen=True)
class MarketShareReward:
    """Revenue-weighted presence: the firm's served demand as a share of all regions' potential.

    ``r_t = sum_r s_r D_r / sum_r M_r`` (a growth-at-all-costs objective), minus the
    bankruptcy penalty.
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
            "bankruptcy": np.where(terminated, -params.bankruptcy_penalty, 0.0),
        }
        return parts["market_share"] + parts["bankruptcy"], parts


@dataclass(frozen=True)
class RiskAdjustedReward:
    """Profit reward with fines and suspensions weighed ``risk_aversion`` times over.

    ``r_t = profit reward - lambda * fines_t / scale``.
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
        parts["risk"] = -self.risk_aversion * kpis["fines"].astype(np.float64) / params.reward_scale
        return reward + parts["risk"], parts
