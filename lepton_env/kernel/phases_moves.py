"""The quarter's phases in which the firms act (:func:`lepton_env.kernel.quarter._step_env`
runs them in this order): the books opened and R&D per firm (or a firm that has left
carried over), then in each region funding, claims over scarce targets, moves and spends.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from lepton_env import rng
from lepton_env.kernel.indices import (
    _ACQUISITION,
    _ACTIVE,
    _BUDGET,
    _CLAIM,
    _CLOSURE_STREAM,
    _COMMITTED,
    _COMPLY,
    _DILIGENCE,
    _ENFORCEMENT_STREAM,
    _ENTRIES,
    _ENTRY,
    _EXIT,
    _EXIT_MOVE,
    _EXITS,
    _GREENFIELD,
    _HOLD,
    _INVALID,
    _KEY,
    _LOCALIZE,
    _MARKETING,
    _MOVE,
    _MOVE_COST,
    _PARTNERSHIP,
    _PILOT,
    _RND,
    _SPEND,
    _SPEND_COMPLIANCE,
    _SPEND_LOCALIZATION,
    _SPEND_MARKETING,
    _UNFUNDED,
    _VETOED,
    COUNT_KPIS,
    MONEY_KPIS,
)
from lepton_env.kernel.shared import _f32, _is_out
from lepton_env.kernel.valid_moves import _region_costs, _region_valid
from lepton_env.mechanisms import brand, compliance, entry, localization, partners, rnd
from lepton_env.rng import Stream
from lepton_env.types import NUM_MODES, NUM_MOVES


@njit(cache=True, inline="always")
def _open_books(p: Any, s: Any, w: Any, i: int, f: int, firms: int, key: int, quarter: int) -> None:
    """Firm ``f`` (row ``i``) at the start of the quarter: KPIs at zero, whether it is still in
    the game, its budget (cash and credit) and its random streams."""
    for c in range(len(MONEY_KPIS)):
        w.money[c, i] = 0.0
    for c in range(len(COUNT_KPIS)):
        w.counts[c, i] = 0
    for m in range(NUM_MODES):
        w.by_mode[i, m] = 0
    w.flags[f, _ACTIVE] = not _is_out(p, s, i, firms)
    w.work[f, _COMMITTED] = 0.0
    w.work[f, _BUDGET] = s.cash[i] + p.credit_line
    firm_key = rng.firm_key(key, f)
    w.keys[f, _KEY] = firm_key
    w.keys[f, _CLOSURE_STREAM] = rng.stream_key(firm_key, quarter, Stream.GEOPOLITICAL_SHOCK)
    w.keys[f, _ENFORCEMENT_STREAM] = rng.stream_key(firm_key, quarter, Stream.ENFORCEMENT)


@njit(cache=True, inline="always")
def _research(p: Any, s: Any, w: Any, i: int, out: Any, oi: int) -> None:
    """R&D is global to a firm: its chosen intensity (NaN keeps it), the spend, and quality
    against the moving frontier (:mod:`lepton_env.mechanisms.rnd`)."""
    chosen_rnd = w.rnd_action[i]
    rnd_intensity = s.rnd_intensity[i] if np.isnan(chosen_rnd) else min(max(chosen_rnd, 0.0), 1.0)
    out.rnd_intensity[oi] = rnd_intensity
    rnd_spend = np.float64(out.rnd_intensity[oi]) * p.rnd_max_budget
    out.product_quality[oi] = rnd.rnd_quality(
        np.float64(s.product_quality[i]), rnd_spend, p.rnd_efficiency, p.rnd_scale, p.obsolescence
    )
    w.money[_RND, i] = rnd_spend


@njit(cache=True, inline="always")
def _carry_world(s: Any, b: int, out: Any, o: int, r: int) -> None:
    """What of region ``r`` the quarter does not change, or changes from its old value:
    market size, partner quality and the competitors before they react."""
    out.market_size[o, r] = s.market_size[b, r]
    for c in range(s.partner_quality.shape[2]):
        out.partner_quality[o, r, c] = s.partner_quality[b, r, c]
    for k in range(s.competitor_share.shape[2]):
        out.competitor_share[o, r, k] = s.competitor_share[b, r, k]
        out.competitor_active[o, r, k] = s.competitor_active[b, r, k]


@njit(cache=True, inline="always")
def _carry_firm(s: Any, i: int, out: Any, oi: int) -> None:
    """A firm that has left the game stays as it left: every field of its row unchanged."""
    out.cash[oi] = s.cash[i]
    out.revenue[oi] = 0.0
    out.product_quality[oi] = s.product_quality[i]
    out.rnd_intensity[oi] = s.rnd_intensity[i]
    out.unfunded_moves[oi] = 0
    for r in range(s.entry_mode.shape[1]):
        out.psychic_distance[oi, r] = s.psychic_distance[i, r]
        out.market_fit[oi, r] = s.market_fit[i, r]
        out.fit_mean[oi, r] = s.fit_mean[i, r]
        out.fit_variance[oi, r] = s.fit_variance[i, r]
        out.closed_quarters[oi, r] = s.closed_quarters[i, r]
        out.entry_mode[oi, r] = s.entry_mode[i, r]
        out.interim_mode[oi, r] = s.interim_mode[i, r]
        out.build_quarters[oi, r] = s.build_quarters[i, r]
        out.suspended_quarters[oi, r] = s.suspended_quarters[i, r]
        out.firm_share[oi, r] = s.firm_share[i, r]
        out.brand[oi, r] = s.brand[i, r]
        out.localization[oi, r] = s.localization[i, r]
        out.compliance[oi, r] = s.compliance[i, r]
        out.diligence_rounds[oi, r] = s.diligence_rounds[i, r]
        out.partner[oi, r] = s.partner[i, r]
        for c in range(s.partner_estimate.shape[2]):
            out.partner_estimate[oi, r, c] = s.partner_estimate[i, r, c]


@njit(cache=True, inline="always")
def _fund(
    p: Any,
    s: Any,
    w: Any,
    b: int,
    i: int,
    f: int,
    r: int,
    potential: float,
    demand_value: float,
    known: bool,
) -> None:
    """Funding: firm ``f``'s move and spends in region ``r`` are checked against its masks and
    funded in region order until its cash and credit run out (the move goes to
    ``flags[f, _MOVE]``, HOLD when refused; its cost and the funded spend intensities to
    ``work``)."""
    _region_costs(p, s, b, i, r, potential, demand_value, w.cost)
    if known:  # the masks of ``s``, which this firm's row is overwritten with later
        for move in range(NUM_MOVES):
            w.ok[move] = w.next_valid[i, r, move]
    else:
        _region_valid(p, s, b, i, f, len(w.firm_index), r, w.cost, w.ok)
    present = s.entry_mode[i, r] > 0
    move = int(w.moves[i, r])
    chosen_valid = w.ok[move]
    spend_marketing = spend_localization = spend_compliance = 0.0
    if present:
        spend_marketing = min(max(np.float64(w.marketing[i, r]), 0.0), 1.0)
        spend_localization = min(max(np.float64(w.localization_intent[i, r]), 0.0), 1.0)
        spend_compliance = min(max(np.float64(w.compliance_intent[i, r]), 0.0), 1.0)
    is_spend = move == _MARKETING or move == _LOCALIZE or move == _COMPLY
    if chosen_valid and move == _MARKETING:
        spend_marketing = 1.0
    elif chosen_valid and move == _LOCALIZE:
        spend_localization = 1.0
    elif chosen_valid and move == _COMPLY:
        spend_compliance = 1.0
    region_cost = w.cost[move] if chosen_valid and not is_spend else 0.0
    region_cost += (
        spend_marketing * w.cost[_MARKETING]
        + spend_localization * w.cost[_LOCALIZE]
        + spend_compliance * w.cost[_COMPLY]
    )
    w.work[f, _COMMITTED] += region_cost
    funded = w.work[f, _COMMITTED] <= w.work[f, _BUDGET]
    accepted = chosen_valid and funded
    if move != _HOLD and not chosen_valid:
        w.counts[_INVALID, i] += 1
    elif not funded and (move != _HOLD or region_cost > 0.0):
        # allowed by the per-region mask, refused by the joint budget: not an invalid move
        w.counts[_UNFUNDED, i] += 1
    if not accepted:
        move = _HOLD
    if not funded:
        spend_marketing = spend_localization = spend_compliance = 0.0
    w.money[_SPEND, i] += (
        spend_marketing * w.cost[_MARKETING]
        + spend_localization * w.cost[_LOCALIZE]
        + spend_compliance * w.cost[_COMPLY]
    )
    w.flags[f, _MOVE] = move
    w.work[f, _MOVE_COST] = w.cost[move]
    w.work[f, _SPEND_MARKETING] = spend_marketing
    w.work[f, _SPEND_LOCALIZATION] = spend_localization
    w.work[f, _SPEND_COMPLIANCE] = spend_compliance


@njit(cache=True, inline="always")
def _claim(p: Any, s: Any, w: Any, b: int, r: int, key: int, quarter: int) -> None:
    """Conflicts over region ``r``'s scarce targets, into ``w.flags[f, _CLAIM]``.

    Acquisitions: each bid is approved by the regulator with the probability its bidder
    faces (:func:`lepton_env.mechanisms.entry.approval_probability`); when several firms win
    approval for the same incumbent (the largest, :func:`~lepton_env.mechanisms.entry.
    acquisition_target`), one drawn uniformly buys it and the others pay the filing fee, as
    after a veto (claim 1 = buys, 0 = vetoed or outbid). Partnerships are exclusive: the
    partnering firms pick in turn from a first one drawn among them, each its best-estimated
    candidate that no other firm holds or has just taken (claim = the candidate, -1 when none
    is left)."""
    firms = len(w.firm_index)
    approved = 0
    for f in range(firms):
        w.flags[f, _CLAIM] = 0
        if w.flags[f, _MOVE] == _ACQUISITION:
            approve_u = rng.uniform_at(w.keys[f, _KEY], quarter, Stream.ACQUISITION_APPROVAL, r)
            probability = entry.approval_probability(
                np.float64(s.stringency[b, r]), p.firm_screening[f, r]
            )
            if approve_u < probability:
                w.flags[f, _CLAIM] = 1
                approved += 1
    if approved > 1:
        winner = int(rng.uniform_at(key, quarter, Stream.CONFLICT, 2 * r) * approved)
        for f in range(firms):
            if w.flags[f, _MOVE] == _ACQUISITION and w.flags[f, _CLAIM] == 1:
                w.flags[f, _CLAIM] = 1 if winner == 0 else 0
                winner -= 1
    partnering = 0
    for f in range(firms):
        partnering += w.flags[f, _MOVE] == _PARTNERSHIP
    if partnering == 0:
        return
    first = 0
    if partnering > 1:
        # the first pick is drawn among the partnering firms only (over all firms, the one
        # after an abstainer would pick first twice as often); the others follow in firm
        # order from it, cyclically
        pick = int(rng.uniform_at(key, quarter, Stream.CONFLICT, 2 * r + 1) * partnering)
        for f in range(firms):
            if w.flags[f, _MOVE] == _PARTNERSHIP:
                if pick == 0:
                    first = f
                    break
                pick -= 1
    for j in range(firms):
        f = (first + j) % firms
        if w.flags[f, _MOVE] != _PARTNERSHIP:
            continue
        i = b * firms + f
        if firms == 1:
            w.flags[f, _CLAIM] = partners.choose_partner(s.partner_estimate[i, r])
            continue
        for c in range(w.taken.shape[0]):
            w.taken[c] = False
        for g in range(firms):
            if g != f and s.partner[b * firms + g, r] >= 0:
                w.taken[s.partner[b * firms + g, r]] = True
        for earlier in range(j):
            g = (first + earlier) % firms
            if w.flags[g, _MOVE] == _PARTNERSHIP and w.flags[g, _CLAIM] >= 0:
                w.taken[w.flags[g, _CLAIM]] = True
        w.flags[f, _CLAIM] = partners.choose_free_partner(s.partner_estimate[i, r], w.taken)


@njit(cache=True, inline="always")
def _move(
    p: Any,
    s: Any,
    b: int,
    i: int,
    f: int,
    r: int,
    quarter: int,
    out: Any,
    o: int,
    oi: int,
    w: Any,
) -> None:
    """Moves: entries, upgrades, exits and diligence of firm ``f`` in region ``r`` take effect
    (a greenfield builds while the old mode serves; an acquisition takes the target's share,
    part of its brand, full localization; a partnership the chosen partner's head start).
    The firm's new mode, build, partner, share, brand and localization go to ``out``."""
    candidates = s.partner_quality.shape[2]
    regions = s.entry_mode.shape[1]
    move = int(w.flags[f, _MOVE])
    claim = int(w.flags[f, _CLAIM])
    if move == _PARTNERSHIP and claim < 0:
        move = _HOLD  # every candidate taken this quarter: the partnership falls through
    cost = w.work[f, _MOVE_COST]  # of the one move made
    mode = int(s.entry_mode[i, r])
    interim = int(s.interim_mode[i, r])
    build0 = int(s.build_quarters[i, r])
    build = max(build0 - 1, 0)
    opened = build0 > 0 and build == 0
    if opened:
        interim = 0
    held_partner = int(s.partner[i, r])
    if opened and mode == _GREENFIELD:
        held_partner = -1
    firm_share: float = np.float64(s.firm_share[i, r])
    brand_stock: float = np.float64(s.brand[i, r])
    local: float = np.float64(s.localization[i, r])

    entering = move >= _PILOT and move <= _GREENFIELD
    if entering and move != _ACQUISITION:
        w.money[_ENTRY, i] += cost
    to_greenfield = move == _GREENFIELD
    if to_greenfield:
        interim = mode
        build = p.greenfield_build_quarters
        if build == 0:
            interim = 0
    if move == _PARTNERSHIP:
        chosen = claim
        held_partner = chosen
        local = np.float64(
            np.float32(
                localization.partner_head_start(
                    local,
                    np.float64(s.partner_quality[b, r, chosen]),
                    p.partner_localization_boost,
                )
            )
        )
    approved = False
    if move == _ACQUISITION:
        approved = claim == 1
        if approved:
            w.money[_ENTRY, i] += cost
            target = entry.acquisition_target(s.competitor_share[b, r], s.competitor_active[b, r])
            firm_share = _f32(firm_share + np.float64(s.competitor_share[b, r, target]))
            transferred = p.acquisition_brand_transfer * np.float64(
                s.competitor_brand[b, r, target]
            )
            brand_stock = max(brand_stock, _f32(transferred))
            local = 1.0
            out.competitor_share[o, r, target] = 0.0
            out.competitor_active[o, r, target] = False
        else:
            w.money[_ENTRY, i] += p.acquisition_filing_fee * cost
            w.counts[_VETOED, i] += 1
    succeeded = (entering and move != _ACQUISITION) or approved
    if approved or (to_greenfield and interim != _PARTNERSHIP):
        held_partner = -1
    if succeeded:
        mode = move
        w.by_mode[i, move] += 1
        w.counts[_ENTRIES, i] += 1

    if move == _EXIT_MOVE:
        w.money[_EXIT, i] += cost
        mode = interim = build = 0
        held_partner = -1
        firm_share = 0.0
        w.counts[_EXITS, i] += 1

    rounds = int(s.diligence_rounds[i, r])
    diligent = move == _DILIGENCE
    if diligent:
        rounds += 1
        w.money[_ENTRY, i] += cost
    out.diligence_rounds[oi, r] = rounds
    if diligent:
        for c in range(candidates):
            z = rng.normal_at(
                w.keys[f, _KEY],
                quarter,
                Stream.DILIGENCE_NOISE,
                r * candidates + c,
                regions * candidates,
            )
            out.partner_estimate[oi, r, c] = partners.estimate(
                np.float64(s.partner_quality[b, r, c]), rounds, p.diligence_noise, z
            )
    else:  # two loops, not a branch in one: the branch kept a reference count per candidate
        for c in range(candidates):
            out.partner_estimate[oi, r, c] = s.partner_estimate[i, r, c]
    # every value below is a float32 one (or an int of its field): stored exactly
    out.entry_mode[oi, r] = mode
    out.interim_mode[oi, r] = interim
    out.build_quarters[oi, r] = build
    out.partner[oi, r] = held_partner
    out.firm_share[oi, r] = firm_share
    out.brand[oi, r] = brand_stock
    out.localization[oi, r] = local


@njit(cache=True, inline="always")
def _spend(p: Any, s: Any, w: Any, i: int, f: int, r: int, out: Any, oi: int) -> None:
    """Spends: marketing builds Nerlove-Arrow goodwill, localization and compliance close part
    of their gaps (the compliance erosion of the quarter's new laws follows in
    :func:`~lepton_env.kernel.phases_market._shock`)."""
    out.brand[oi, r] = brand.nerlove_arrow(
        np.float64(out.brand[oi, r]), w.work[f, _SPEND_MARKETING], p.brand_efficiency, p.brand_decay
    )
    out.localization[oi, r] = localization.localize(
        np.float64(out.localization[oi, r]), w.work[f, _SPEND_LOCALIZATION], p.localization_rate
    )
    out.compliance[oi, r] = _f32(
        compliance.invest(
            np.float64(s.compliance[i, r]), w.work[f, _SPEND_COMPLIANCE], p.compliance_rate
        )
    )
