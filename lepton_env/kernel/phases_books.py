"""The quarter's phases that close its books (:func:`lepton_env.kernel.quarter._step_env`
runs them in this order): settlement in each region, then per firm learning (the
market-fit signals and spillovers) and finance (cash and bankruptcy).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.kernel.indices import (
    _CASH,
    _COST_OF_REVENUE,
    _ENFORCEMENT_STREAM,
    _ENTRY,
    _EVENTS,
    _EXIT,
    _FAILURES,
    _FINES,
    _GROSS,
    _KEY,
    _NONE,
    _OPERATING,
    _OVERHEAD,
    _PARTNERSHIP,
    _POTENTIAL,
    _PRESENT,
    _PROFIT,
    _REVENUE,
    _RND,
    _SPEND,
    _SUSPENDED,
    _SUSPENSIONS,
    _UNFUNDED,
)
from lepton_env.kernel.shared import _is_out
from lepton_env.mechanisms import compliance, entry, finance, fit, partners
from lepton_env.rng import Stream


@njit(cache=True, inline="always")
def _settle(
    p: Any,
    s: Any,
    b: int,
    i: int,
    f: int,
    r: int,
    quarter: int,
    potential: float,
    out: Any,
    o: int,
    oi: int,
    w: Any,
) -> None:
    """Compliance and settlement of firm ``f`` in region ``r``: revenue of the served share
    (less a partner's cut), enforcement where compliance lags stringency (a fine, sometimes a
    suspension), a partner's failure, and the quarter's operating and variable costs."""
    serving, served = w.serving[f], w.served[f]
    demand = potential * np.float64(out.adoption[o, r])
    mode = int(out.entry_mode[oi, r])
    interim = int(out.interim_mode[oi, r])
    held_partner = int(out.partner[oi, r])
    firm_share: float = np.float64(out.firm_share[oi, r])
    suspended = w.flags[f, _SUSPENDED]
    gross = finance.gross_revenue(firm_share, demand, serving)
    cut = p.partner_revenue_share if served == _PARTNERSHIP else 0.0
    net = gross * (1.0 - cut)
    hazard = 0.0
    if serving:
        hazard = compliance.enforcement_probability(
            np.float64(out.stringency[o, r]),
            np.float64(out.compliance[oi, r]),
            p.enforcement_base_hazard,
            p.enforcement_gap_hazard,
        )
    if serving and rng.uniform_of(w.keys[f, _ENFORCEMENT_STREAM], r) < hazard:
        w.counts[_EVENTS, i] += 1
        w.money[_FINES, i] += compliance.fine(4.0 * gross, p.fine_rate)
        severe_u = rng.uniform_at(w.keys[f, _KEY], quarter, Stream.ENFORCEMENT_SEVERITY, r)
        if severe_u < p.severe_probability:
            suspended = p.suspension_quarters
            w.counts[_SUSPENSIONS, i] += 1
    out.suspended_quarters[oi, r] = suspended

    if serving and served == _PARTNERSHIP:
        held = np.float64(s.partner_quality[b, r, max(held_partner, 0)])
        failure = partners.failure_probability(held, p.partner_failure_rate)
        if rng.uniform_at(w.keys[f, _KEY], quarter, Stream.PARTNER_FAILURE, r) < failure:
            w.counts[_FAILURES, i] += 1
            if mode == _PARTNERSHIP:
                mode = _NONE
            if interim == _PARTNERSHIP:
                interim = 0
            held_partner = -1
            firm_share = 0.0
    out.entry_mode[oi, r] = mode
    out.interim_mode[oi, r] = interim
    out.partner[oi, r] = held_partner
    out.firm_share[oi, r] = firm_share
    if mode > 0:
        w.counts[_PRESENT, i] += 1
    w.money[_OPERATING, i] += entry.entry_cost(
        p.operating_cost_fixed[mode], p.operating_cost_market[mode], potential
    )
    w.money[_COST_OF_REVENUE, i] += p.variable_cost_rate * gross
    w.money[_GROSS, i] += gross
    w.money[_REVENUE, i] += net
    w.money[_POTENTIAL, i] += potential


@njit(cache=True, inline="always")
def _learn(
    p: Any,
    out: Any,
    o: int,
    f: int,
    key: int,
    quarter: int,
    precisions: NDArray[np.float64],
    served_regions: NDArray[np.int64],
) -> None:
    """Signals and experiential knowledge of a quarter for firm ``f`` (own key ``key``), on the
    new state ``out`` (its row ``o``):
    each served foreign region sends a signal of its mode's precision and the belief takes the
    normal-normal update; then every other served foreign region moves it closer and narrows
    its belief by their similarity (:mod:`lepton_env.mechanisms.fit`). A region's own signal
    comes first and spillover precisions add, so region order does not matter.

    ``precisions`` (R,) and ``served_regions`` (R,) are scratch: the served foreign regions'
    indices, in region order, go to the front of ``served_regions``."""
    regions = out.entry_mode.shape[1]
    home = p.firm_home[f]
    spills = p.experience_precision_rate != 0.0 or p.experience_distance_rate != 0.0
    count = 0
    uncertain = False  # a served region whose fit is not known yet
    for j in range(regions):
        precisions[j] = 0.0 if j == home else _signal_precision(p, out, o, j)
        if precisions[j] != 0.0:
            served_regions[count] = j
            count += 1
            uncertain = uncertain or out.fit_variance[o, j] != 0.0
    if count == 0 or not (spills or uncertain):
        return  # no signal teaches anything and nothing spills: every belief stays
    stream = rng.stream_key(key, quarter, Stream.FIT_SIGNAL)
    for r in range(regions):
        if r == home or (precisions[r] == 0.0 and not spills):
            continue
        variance = np.float64(out.fit_variance[o, r])
        precision = precisions[r]
        if precision != 0.0 and variance != 0.0:  # a known fit has nothing to learn
            if p.fit_two_point != 0:
                e = fit.standard_draw(rng.uniform_of(stream, r), 0.0, True)
            else:
                e = rng.normal_of(stream, r, regions)
            signal = np.float64(out.market_fit[o, r]) + e / np.sqrt(precision)
            out.fit_mean[o, r] = fit.update_mean(
                np.float64(out.fit_mean[o, r]), variance, signal, precision
            )
            variance = fit.update_variance(variance, precision)
        if spills:
            # spillover precisions add (the updates compose to one), distance factors multiply
            spillover, closeness = 0.0, 1.0
            for i in range(count):
                j = served_regions[i]
                if j != r:
                    similar = fit.similarity(p.firm_distance[f, r], p.firm_distance[f, j])
                    spillover += p.experience_precision_rate * similar * precisions[j]
                    closeness = fit.closer(closeness, p.experience_distance_rate, similar)
            out.fit_variance[o, r] = fit.update_variance(variance, spillover)
            out.psychic_distance[o, r] = np.float64(out.psychic_distance[o, r]) * closeness
        else:
            out.fit_variance[o, r] = variance


@njit(cache=True, inline="always")
def _signal_precision(p: Any, out: Any, o: int, r: int) -> float:
    """``tau`` of the signal region ``r`` sends this quarter: the served mode's precision,
    0 where the firm does not serve (absent, building, closed or suspended)."""
    served = entry.serving_mode(
        int(out.entry_mode[o, r]), int(out.interim_mode[o, r]), int(out.build_quarters[o, r])
    )
    if out.closed_quarters[o, r] > 0 or out.suspended_quarters[o, r] > 0:
        return 0.0
    return p.fit_signal_precision[served]


@njit(cache=True, inline="always")
def _finance(p: Any, s: Any, w: Any, i: int, out: Any, oi: int, firms: int) -> None:
    """Finance: the quarter's profit is booked to cash; in a game of several firms one whose
    cash falls below minus its credit line is bankrupt and leaves: every position is given
    up, so it takes no share and pays nothing from then on."""
    total_cost = (
        w.money[_COST_OF_REVENUE, i]
        + w.money[_OPERATING, i]
        + w.money[_ENTRY, i]
        + w.money[_EXIT, i]
        + w.money[_SPEND, i]
        + w.money[_RND, i]
        + w.money[_FINES, i]
    ) + p.overhead
    profit = w.money[_REVENUE, i] - total_cost
    cash = s.cash[i] + profit
    out.cash[oi] = cash
    out.revenue[oi] = w.money[_REVENUE, i]
    out.unfunded_moves[oi] = w.counts[_UNFUNDED, i]
    w.money[_PROFIT, i] = profit
    w.money[_CASH, i] = cash
    w.money[_OVERHEAD, i] = p.overhead
    if _is_out(p, out, oi, firms):
        w.counts[_PRESENT, i] = 0
        for r in range(out.entry_mode.shape[1]):
            out.entry_mode[oi, r] = _NONE
            out.interim_mode[oi, r] = 0
            out.build_quarters[oi, r] = 0
            out.partner[oi, r] = -1
            out.firm_share[oi, r] = 0.0
            out.brand[oi, r] = 0.0
