"""What several passes compute alike (the masks, the quarter's phases, reset and the
observation): a region's potential, the firms' utilities and target shares, the
valuation's terms and a position's value, and whether a firm has left the game.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from lepton_env.kernel.indices import _NONE, _PARTNERSHIP
from lepton_env.mechanisms import diffusion, entry, share, valuation

_F = np.float32


@njit(cache=True)
def _f32(value: float) -> float:
    return np.float64(np.float32(value))


@njit(cache=True, inline="always")
def _potential(p: Any, s: Any, b: int, r: int) -> float:
    """``M_r(t)`` as the state stores quantities: rounded to float32."""
    quarter = s.quarter[b]
    if 0 <= quarter < p.growth_factor.shape[1]:
        growth = p.growth_factor[r, quarter]
    else:
        growth = diffusion.growth_factor(p.market_growth[r], np.float64(quarter))
    return _f32(
        diffusion.scaled_potential(p.market_potential[r], np.float64(s.market_size[b, r]), growth)
    )


@njit(cache=True, inline="always")
def _firm_utility(p: Any, s: Any, i: int, r: int) -> float:
    """``U`` of firm row ``i`` of ``s`` in region ``r``, with its hidden fit, in float32 (``_F``,
    as the shares it makes are stored: libm's float32 ``log``/``exp`` cost half their float64
    forms)."""
    quality = share.effective_quality(
        np.float64(s.product_quality[i]),
        np.float64(s.psychic_distance[i, r]),
        np.float64(s.localization[i, r]),
        p.foreign_quality_penalty,
    )
    utility = share.attraction(
        _F(quality),
        s.brand[i, r],
        s.localization[i, r],
        _F(p.firm_price),
        _F(p.price_sensitivity[r]),
        _F(p.quality_weight),
        _F(p.brand_weight),
        _F(p.localization_weight),
    )
    return utility + s.market_fit[i, r]  # hidden fit (mechanisms.fit); 0 adds nothing


@njit(cache=True, inline="always")
def _region_targets(p: Any, s: Any, w: Any, b: int, r: int) -> None:
    """Target shares in region ``r`` of env ``b`` of ``s``: each firm's (capped by its mode's
    ceiling) into ``w.targets`` (F,), the competitors' over ``w.utility`` (K,). The choice
    set is the serving firms, the active competitors and the outside option
    (:mod:`~lepton_env.mechanisms.share`); ``w.serving`` and ``w.served`` (F,) are each
    firm's status and mode."""
    firms = len(w.firm_index)
    sensitivity = _F(p.price_sensitivity[r])
    weights = (_F(p.quality_weight), _F(p.brand_weight), _F(p.localization_weight))
    for f in range(firms):
        # a firm not serving takes no share: its utility is not read
        w.firm_utility[f] = _firm_utility(p, s, b * firms + f, r) if w.serving[f] else _F(0.0)
    for k in range(w.utility.shape[0]):
        w.utility[k] = share.attraction(
            s.competitor_quality[b, r, k],
            s.competitor_brand[b, r, k],
            _F(1.0),
            s.competitor_price[b, r, k],
            sensitivity,
            weights[0],
            weights[1],
            weights[2],
        )
    share.firm_target_shares(
        w.firm_utility,
        w.serving,
        w.utility,
        s.competitor_active[b, r],
        _F(p.outside_utility),
        w.targets,
    )
    for f in range(firms):
        served = w.served[f]
        ceiling = entry.share_ceiling(
            served,
            p.share_ceiling[served],
            p.data_localization[r],
            p.data_localization_pilot_ceiling,
        )
        w.targets[f] = min(w.targets[f], ceiling)


@njit(cache=True, inline="always")
def _valuation_terms(p: Any, s: Any, b: int, r: int) -> tuple[float, float]:
    """``(W_r(t), P_r(t))`` of region ``r`` of state ``s`` (:mod:`~lepton_env.mechanisms.
    valuation`): looked up while the adoption is on the scenario's path (always, in an
    episode the kernel runs), computed from the state's own adoption otherwise."""
    quarter = s.quarter[b]
    adopted = np.float64(s.adoption[b, r])
    if 0 <= quarter < p.adoption_path.shape[1] and adopted == p.adoption_path[r, quarter]:
        return p.demand_value[r, quarter], p.potential_value[r, quarter]
    window, time = p.valuation_quarters, np.float64(quarter)
    demand_value = valuation.discounted_demand(
        p.market_potential[r], p.market_growth[r], time, adopted, p.bass_innovation[r],
        p.bass_imitation[r], p.valuation_discount, window,
    )  # fmt: skip
    potential_value = valuation.discounted_potential(
        p.market_potential[r], p.market_growth[r], time, p.valuation_discount, window
    )
    return demand_value, potential_value


@njit(cache=True, inline="always")
def _position_value(
    p: Any, s: Any, b: int, i: int, r: int, demand_value: float, potential_value: float
) -> float:
    """The value ($M) of the firm's position in region ``r`` of ``s``, whose valuation terms
    (:func:`_valuation_terms`) are ``demand_value`` and ``potential_value``: its share of the
    discounted expected demand at its margin, less its mode's discounted operating cost;
    0 where it is absent. ``b`` is the env's row, ``i`` the firm's."""
    mode = int(s.entry_mode[i, r])
    if mode == _NONE:
        return 0.0
    cut = p.partner_revenue_share if mode == _PARTNERSHIP else 0.0
    return valuation.position_value(
        np.float64(s.firm_share[i, r]),
        1.0 - p.variable_cost_rate - cut,
        np.float64(s.market_size[b, r]),
        demand_value,
        potential_value,
        p.operating_cost_fixed[mode],
        p.operating_cost_market[mode],
        p.valuation_annuity,
    )


@njit(cache=True, inline="always")
def _is_out(p: Any, s: Any, i: int, firms: int) -> bool:
    """Whether firm row ``i`` has left a game of ``firms`` > 1 firms: bankrupt (cash below
    minus the credit line). A one-firm episode ends there instead, and whatever a caller
    steps past it is the quarter it always was."""
    return firms > 1 and s.cash[i] < -p.credit_line
