"""The masks: each move's cost ($M) for a firm in a region, and whether it changes the
state and is affordable. :func:`lepton_env.kernel.batch.masks` gives them for a batch;
the quarter's funding phase (:func:`lepton_env.kernel.phases_moves._fund`) checks each
chosen move against them, and the step and restart write the new state's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from lepton_env.kernel.indices import (
    _ACQUISITION,
    _COMPLY,
    _DILIGENCE,
    _EXIT_MOVE,
    _GREENFIELD,
    _HOLD,
    _LOCALIZE,
    _MARKETING,
    _PARTNERSHIP,
    _PILOT,
    _RANK,
)
from lepton_env.kernel.shared import _f32, _is_out, _potential, _valuation_terms
from lepton_env.mechanisms import brand, compliance, entry, localization, valuation
from lepton_env.types import NUM_MOVES


@njit(cache=True, inline="always")
def _region_masks(
    p: Any,
    s: Any,
    b: int,
    i: int,
    f: int,
    firms: int,
    r: int,
    potential: float,
    demand_value: float,
    cost: NDArray[np.float64],
    ok: NDArray[np.bool_],
) -> None:
    """``cost`` ($M) and ``ok`` (changes the state and is affordable) of each move of firm
    ``f`` of ``firms`` (row ``i``) of env ``b`` in region ``r`` of potential ``potential``
    (:func:`_potential`) and discounted demand ``demand_value`` (:func:`_valuation_terms`),
    (NUM_MOVES,) each."""
    _region_costs(p, s, b, i, r, potential, demand_value, cost)
    _region_valid(p, s, b, i, f, firms, r, cost, ok)


@njit(cache=True, inline="always")
def _region_costs(
    p: Any,
    s: Any,
    b: int,
    i: int,
    r: int,
    potential: float,
    demand_value: float,
    cost: NDArray[np.float64],
) -> None:
    """``cost`` ($M) of each move of firm row ``i`` in region ``r`` of potential ``potential``
    and discounted demand ``demand_value``, (NUM_MOVES,)."""
    cost[_HOLD] = 0.0
    for mode in (_PILOT, _PARTNERSHIP, _GREENFIELD):
        cost[mode] = entry.entry_cost(
            p.entry_cost_fixed[mode], p.entry_cost_market[mode], potential
        )
    target = entry.acquisition_target(s.competitor_share[b, r], s.competitor_active[b, r])
    target_value = valuation.share_value(
        np.float64(s.competitor_share[b, r, target]),
        1.0 - p.variable_cost_rate,
        np.float64(s.market_size[b, r]),
        demand_value,
    )
    cost[_ACQUISITION] = valuation.acquisition_price(
        entry.entry_cost(
            p.entry_cost_fixed[_ACQUISITION], p.entry_cost_market[_ACQUISITION], potential
        ),
        p.control_premium,
        target_value,
    )
    mode = int(s.entry_mode[i, r])
    cost[_EXIT_MOVE] = entry.exit_cost(
        p.exit_cost_fraction[mode], p.entry_cost_fixed[mode], p.entry_cost_market[mode], potential
    )
    cost[_MARKETING] = entry.entry_cost(p.marketing_cost_fixed, p.marketing_cost_market, potential)
    cost[_LOCALIZE] = entry.entry_cost(
        p.localization_cost_fixed, p.localization_cost_market, potential
    )
    cost[_COMPLY] = entry.entry_cost(p.compliance_cost_fixed, p.compliance_cost_market, potential)
    cost[_DILIGENCE] = p.diligence_cost


@njit(cache=True, inline="always")
def _region_valid(
    p: Any,
    s: Any,
    b: int,
    i: int,
    f: int,
    firms: int,
    r: int,
    cost: NDArray[np.float64],
    ok: NDArray[np.bool_],
) -> None:
    """``ok`` (changes the state and is affordable at ``cost``) of each move of firm ``f`` of
    ``firms`` (row ``i``) of env ``b`` in region ``r``. A firm that has left the game
    (:func:`_is_out`) can only hold; a partnership needs a candidate no other firm holds."""
    budget = s.cash[i] + p.credit_line
    mode = int(s.entry_mode[i, r])
    present = mode > 0
    if _is_out(p, s, i, firms):
        ok[_HOLD] = True
        for move in range(1, NUM_MOVES):
            ok[move] = False
        return
    foreign = r != p.firm_home[f]
    can_enter = foreign and s.closed_quarters[i, r] == 0 and s.suspended_quarters[i, r] == 0
    rank = _RANK[mode]
    any_active = False
    for k in range(s.competitor_active.shape[2]):
        any_active = any_active or s.competitor_active[b, r, k]
    ok[_HOLD] = True
    for move in (_PILOT, _PARTNERSHIP, _GREENFIELD):
        ok[move] = can_enter and _RANK[move] > rank
    if firms > 1:
        ok[_PARTNERSHIP] = ok[_PARTNERSHIP] and _free_partners(s, b, i, r, firms) > 0
    ok[_ACQUISITION] = can_enter and _RANK[_ACQUISITION] > rank and any_active
    ok[_EXIT_MOVE] = present and foreign
    # a spend is valid only where a full budget moves the float32 stock: near 1 the
    # gap-closing step rounds away, and a zero rate or efficiency does nothing
    stock = np.float64(s.brand[i, r])
    ok[_MARKETING] = present and _f32(
        brand.nerlove_arrow(stock, 1.0, p.brand_efficiency, p.brand_decay)
    ) != _f32(brand.nerlove_arrow(stock, 0.0, p.brand_efficiency, p.brand_decay))
    local = np.float64(s.localization[i, r])
    ok[_LOCALIZE] = (
        present and _f32(localization.localize(local, 1.0, p.localization_rate)) != local
    )
    comply = np.float64(s.compliance[i, r])
    ok[_COMPLY] = present and _f32(compliance.invest(comply, 1.0, p.compliance_rate)) != comply
    ok[_DILIGENCE] = can_enter and mode <= _PILOT and s.diligence_rounds[i, r] < p.max_diligence
    for move in range(1, NUM_MOVES):
        ok[move] = ok[move] and cost[move] <= budget


@njit(cache=True, inline="always")
def _free_partners(s: Any, b: int, i: int, r: int, firms: int) -> int:
    """How many partner candidates of region ``r`` no firm of env ``b`` but row ``i`` holds."""
    free = 0
    for c in range(s.partner_quality.shape[2]):
        held = False
        for g in range(b * firms, (b + 1) * firms):
            held = held or (g != i and s.partner[g, r] == c)
        free += not held
    return free


@njit(cache=True)
def _masks_env(
    p: Any, s: Any, b: int, costs: NDArray[np.float64], valid: NDArray[np.bool_]
) -> None:
    firms = s.cash.shape[0] // s.quarter.shape[0]
    for r in range(s.entry_mode.shape[1]):
        demand_value, _ = _valuation_terms(p, s, b, r)
        potential = _potential(p, s, b, r)
        for f in range(firms):
            i = b * firms + f
            _region_masks(
                p, s, b, i, f, firms, r, potential, demand_value, costs[i, r], valid[i, r]
            )
