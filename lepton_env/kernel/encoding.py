"""The observation: one firm's row of the flat observation, the table of
:mod:`lepton_env.features` (the region columns, the firm's own, then its rivals' public
state), clipped to the table's bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from lepton_env.kernel.indices import (
    _FIRM_HIGH,
    _FIRM_LOW,
    _PARTNERSHIP,
    _RANK,
    _REGION_HIGH,
    _REGION_LOW,
)
from lepton_env.mechanisms import compliance, entry, finance
from lepton_env.types import NUM_MODES


@njit(cache=True)
def _ratio(value: float, denominator: float) -> float:
    return value / denominator if denominator > 0 else 0.0


@njit(cache=True)
def _clipped(value: float, low: float, high: float) -> float:
    # maximum then minimum, as np.clip: a NaN stays NaN and shows up in the checks
    return value if value != value else min(max(value, low), high)


@njit(cache=True, inline="always")
def _expected_enforcement_loss(
    p: Any, stringency: float, compliance_level: float, gross_revenue: float, net_revenue: float
) -> float:
    """Expected enforcement loss of a served region in a quarter, $M, if its stringency and
    compliance held: ``P(event) x (fine_rate x 4 gross + severe_probability x
    suspension_quarters x net)``, ``P(event) = 1 - exp(-(h_0 + h_1 max(0, S - C)))``
    (:mod:`lepton_env.mechanisms.compliance`; net is gross less a partner's cut)."""
    event = compliance.enforcement_probability(
        stringency, compliance_level, p.enforcement_base_hazard, p.enforcement_gap_hazard
    )
    fined = compliance.fine(4.0 * gross_revenue, p.fine_rate)
    suspended = p.severe_probability * p.suspension_quarters * net_revenue
    return event * (fined + suspended)


@njit(cache=True)
def encode_env(
    p: Any,
    s: Any,
    b: int,
    i: int,
    f: int,
    flat: NDArray[np.float32],
    row: int,
    column: NDArray[np.float64],
    potentials: NDArray[np.float64],
) -> None:
    """Row ``row`` of the flat observation (the table of :mod:`lepton_env.features`): firm ``f``
    (row ``i``) of env ``b`` of ``s``, clipped to its bounds; ``column`` is (F_region,) scratch,
    ``potentials`` (R,) env ``b``'s :func:`~lepton_env.kernel.shared._potential` of each
    region. With rivals, the firm's own table is followed by the rivals' public state and its
    identity (:func:`_encode_rivals`)."""
    regions = s.entry_mode.shape[1]
    width = _REGION_LOW.shape[0]
    home_potential = max(p.market_potential[p.firm_home[f]], 1e-9)
    revenue_total = 0.0
    present = 0
    for r in range(regions):
        mode = int(s.entry_mode[i, r])
        present += mode > 0
        served = entry.serving_mode(mode, s.interim_mode[i, r], s.build_quarters[i, r])
        serving = served > 0 and s.closed_quarters[i, r] == 0
        serving = serving and s.suspended_quarters[i, r] == 0
        potential = potentials[r]
        demand = potential * np.float64(s.adoption[b, r])
        cut = p.partner_revenue_share if served == _PARTNERSHIP else 0.0
        gross = finance.gross_revenue(np.float64(s.firm_share[i, r]), demand, serving)
        revenue = gross * (1.0 - cut)
        revenue_total += revenue
        loss = 0.0
        if serving:
            loss = _expected_enforcement_loss(
                p, np.float64(s.stringency[b, r]), np.float64(s.compliance[i, r]), gross, revenue
            )
        rival_total = rival_top = rival_brand = 0.0
        for k in range(s.competitor_share.shape[2]):
            rival_total += s.competitor_share[b, r, k]
            rival_top = max(rival_top, np.float64(s.competitor_share[b, r, k]))
            if s.competitor_active[b, r, k]:
                rival_brand = max(rival_brand, np.float64(s.competitor_brand[b, r, k]))
        best_partner = -np.inf
        for c in range(s.partner_estimate.shape[2]):
            best_partner = max(best_partner, np.float64(s.partner_estimate[i, r, c]))
        for m in range(NUM_MODES):
            column[m] = 1.0 if mode == m else 0.0
        column[NUM_MODES] = 1.0 if serving else 0.0
        column[NUM_MODES + 1] = _ratio(s.build_quarters[i, r], p.greenfield_build_quarters)
        column[NUM_MODES + 2] = s.firm_share[i, r]
        column[NUM_MODES + 3] = rival_total
        column[NUM_MODES + 4] = rival_top
        column[NUM_MODES + 5] = s.adoption[b, r]
        column[NUM_MODES + 6] = np.log(max(potential, 1e-9) / home_potential) / 2.0
        column[NUM_MODES + 7] = p.market_growth[r]
        column[NUM_MODES + 8] = s.psychic_distance[i, r]
        column[NUM_MODES + 9] = s.stringency[b, r]
        column[NUM_MODES + 10] = s.compliance[i, r]
        column[NUM_MODES + 11] = s.localization[i, r]
        column[NUM_MODES + 12] = s.brand[i, r] / 5.0
        column[NUM_MODES + 13] = rival_brand / 5.0
        column[NUM_MODES + 14] = _ratio(s.suspended_quarters[i, r], p.suspension_quarters)
        column[NUM_MODES + 15] = _ratio(s.closed_quarters[i, r], p.closure_quarters)
        column[NUM_MODES + 16] = p.data_localization[r]
        column[NUM_MODES + 17] = p.firm_risk[f, r] * 10.0
        column[NUM_MODES + 18] = p.firm_screening[f, r]
        column[NUM_MODES + 19] = _ratio(s.diligence_rounds[i, r], p.max_diligence)
        column[NUM_MODES + 20] = best_partner
        column[NUM_MODES + 21] = revenue / p.reward_scale
        column[NUM_MODES + 22] = s.fit_mean[i, r]  # the belief, never the hidden fit
        column[NUM_MODES + 23] = np.sqrt(np.float64(s.fit_variance[i, r]))
        column[NUM_MODES + 24] = loss * (p.horizon - s.quarter[b]) / p.reward_scale
        for c in range(width):
            flat[row, r * width + c] = _clipped(column[c], _REGION_LOW[c], _REGION_HIGH[c])
    cash = s.cash[i]
    firm = regions * width
    values = (
        np.arcsinh(cash / p.reward_scale) / 2.0,
        (cash + p.credit_line) / max(p.initial_cash + p.credit_line, 1e-9),
        np.float64(s.product_quality[i]),
        np.float64(s.rnd_intensity[i]),
        s.quarter[b] / p.horizon,
        np.arcsinh(revenue_total / p.reward_scale) / 2.0,
        present / regions,
        s.unfunded_moves[i] / regions,
    )
    for c in range(len(values)):
        flat[row, firm + c] = _clipped(values[c], _FIRM_LOW[c], _FIRM_HIGH[c])
    firms = s.cash.shape[0] // s.quarter.shape[0]
    if firms > 1:
        _encode_rivals(s, b, f, firms, flat, row, firm + len(values))


@njit(cache=True, inline="always")
def _encode_rivals(
    s: Any, b: int, f: int, firms: int, flat: NDArray[np.float32], row: int, start: int
) -> None:
    """The rivals' public state, from ``start`` of observation row ``row`` of firm ``f``: for
    each rival in turn after ``f`` (``f + 1``, ``f + 2``, ... mod F), per region, whether it
    is present, its mode's rank / 4 and its share (:data:`lepton_env.features.RIVAL_FEATURES`);
    then ``f`` one-hot over the F firms. Never the rivals' cash, beliefs or estimates."""
    regions = s.entry_mode.shape[1]
    column = start
    for j in range(1, firms):
        g = b * firms + (f + j) % firms
        for r in range(regions):
            mode = int(s.entry_mode[g, r])
            flat[row, column] = 1.0 if mode > 0 else 0.0
            flat[row, column + 1] = _RANK[mode] / 4.0
            flat[row, column + 2] = s.firm_share[g, r]
            column += 3
    for g in range(firms):
        flat[row, column + g] = 1.0 if g == f else 0.0
