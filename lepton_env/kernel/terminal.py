"""The terminal value: the firm's expected discounted profit if the game went on.

At the horizon ``H`` the return credits the firm with the value of what it holds:
the expected profit of its positions over the valuation window (``W =
valuation_quarters``, a competitive-advantage period: Mauboussin & Johnson 1997),
discounted at the cost of capital (``delta = (1 + rate)^(-1/4)`` a quarter), under the
model's own dynamics and a stated **continuation policy**, the value of the assets in
place (Myers 1977, "Determinants of corporate borrowing", *JFE* 5): every position is
held (no entry, upgrade or exit), no discretionary spend on marketing, localization
or compliance, R&D at the scenario's initial intensity, overhead paid.

    ``V_H = sum_{k=1..W} delta^k E[profit_{H+k-1}]``

The expectation is a **mean-field roll-forward** of the compiled quarter, region by
region, each phase by the mechanism the quarter itself uses, random events replaced
by their probabilities:

* R&D moves quality against the frontier (:mod:`~lepton_env.mechanisms.rnd`) at the
  continuation's spend; brand decays (Nerlove-Arrow, no spend); localization stays;
* stringency rises by its drift plus the expected new laws (``lambda_r`` a quarter,
  each of size ``j_r``), and compliance erodes with it;
* a geopolitical closure (probability ``rho``, then ``closure_quarters`` closed) and a
  suspension (after a severe enforcement event in a quarter served) are one Markov
  chain over the pair of their countdowns, started from the state's own counters, with
  the share carried in each state: the position serves where it is open, not closing
  and not suspended (a suspension strikes only where it serves, so the two are not
  independent);
* incumbents react as their personas do to the firm's expected share and brand;
* adoption diffuses (Bass) and the expected share moves toward the serving
  probability times its attraction-model target (capped by the mode's ceiling), with
  the quality, brand, localization and psychic distance of that quarter; psychic
  distance keeps narrowing by the experience of the positions held at ``H``, in the
  quarters they teach (serve, open and not suspended, in a mode with signals), at its
  expectation over each region's closure chain (closures last, so successive quarters
  are not independent);
* a build under way finishes on schedule (its operating cost paid meanwhile, the
  interim mode serving), then serves in its new mode with its higher ceiling;
* revenue (less a partner's cut), variable and operating costs, and expected fines
  (``hazard(S, C) * fine_rate * 4 * gross``) are booked; a partnership survives each
  served quarter with ``exp(-rho (1 - theta))``, and a failed one earns and costs
  nothing after.

Assumptions (docs/model.md): the expectation of a product is taken as the product of
expectations (share, serving and survival are treated as independent, and a
threshold reaction as triggered by the expected share); custom Python personas are
taken as passive; rival firms' positions are held as they stand at ``H``; the fit in
the firm's attraction is the true one (the return scores outcomes, not beliefs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from lepton_env.kernel.structs import _ref
from lepton_env.mechanisms import (
    brand,
    competitors,
    compliance,
    diffusion,
    entry,
    fit,
    partners,
    rnd,
    share,
    shocks,
)
from lepton_env.types import EntryMode

_NONE, _PARTNERSHIP, _GREENFIELD = (
    int(EntryMode.NONE),
    int(EntryMode.PARTNERSHIP),
    int(EntryMode.GREENFIELD),
)
_PRICE_WARRIOR = competitors.BUILT_IN_KINDS[competitors.PriceWarrior]
_INNOVATOR = competitors.BUILT_IN_KINDS[competitors.Innovator]
_FOLLOWER = competitors.BUILT_IN_KINDS[competitors.Follower]
#: the longest countdown a chain tracks (closures and suspensions), quarters
MAX_COUNTDOWN = 64


@njit(cache=True, inline="always")
def step_countdown(
    chance: Any, mass: Any, length: int, hazard: float, decay: float, arrival: float
) -> None:
    """One quarter of a countdown (a closure or a suspension) as a Markov chain.

    ``chance[c]`` (``length + 1``,) is the probability that ``c`` quarters are left at the
    start of the quarter; from 0 a spell of ``length`` quarters starts with probability
    ``hazard``, and a countdown of ``c > 0`` becomes ``c - 1``. ``mass[c]`` is a quantity
    carried along, ``E[x 1{c}]`` (the share): it is multiplied by ``decay`` and ``arrival``
    is added to the mass that stays at 0 (pass ``mass = chance``, decay 1, arrival 0 to step
    the chance alone).
    """
    free, free_mass = chance[0], mass[0]
    if length == 0:  # a spell of no quarters: only the quarter it strikes is lost
        mass[0] = decay * free_mass + arrival
        return
    released, released_mass = chance[1], mass[1]
    for c in range(1, length):
        chance[c] = chance[c + 1]
        mass[c] = decay * mass[c + 1]
    chance[length] = free * hazard
    mass[length] = decay * free_mass * hazard
    chance[0] = free * (1.0 - hazard) + released
    mass[0] = decay * (free_mass * (1.0 - hazard) + released_mass) + arrival


@njit(cache=True)
def firm_terminal_value(
    p: Any,
    s: Any,
    b: int,
    i: int,
    f: int,
    kinds: Any,
    scratch: Any,
) -> float:
    """``V_H`` of firm ``f`` (row ``i``) of env ``b`` of state ``s``, $M.

    ``kinds`` (R, K) are the competitor slots' persona kinds; ``scratch`` a float64 work
    array of at least ``4 * K + 3 * MAX_COUNTDOWN + F + W (1 + 3 R) + 4 MAX_COUNTDOWN^2``
    values.
    """
    regions = s.entry_mode.shape[1]
    slots = s.competitor_share.shape[2]
    firms = s.entry_mode.shape[0] // s.quarter.shape[0]
    window = p.valuation_quarters
    delta = p.valuation_discount
    start = s.quarter[b]
    home = p.firm_home[f]
    # R&D at the continuation's intensity: the quality path and its spend, firm-wide
    rnd_spend = p.initial_rnd * p.rnd_max_budget
    base = 4 * slots + 3 * MAX_COUNTDOWN + firms
    quality = np.float64(s.product_quality[i])
    for k in range(window):
        quality = rnd.rnd_quality(quality, rnd_spend, p.rnd_efficiency, p.rnd_scale, p.obsolescence)
        scratch[base + k] = quality
    value = -(p.overhead + rnd_spend) * p.valuation_annuity
    # experience: each foreign position's chances to teach and to be suspended in each
    # quarter (R, W each), then the expected narrowing of each foreign region's psychic
    # distance by them, E[D_r(H + k)] / D_r(H) (R, W)
    span = regions * window
    teaching = scratch[base + window : base + window + span]
    striking = scratch[base + window + span : base + window + 2 * span]
    narrowing = scratch[base + window + 2 * span : base + window + 3 * span]
    chains = scratch[base + window + 3 * span :]
    narrowing[:] = 1.0
    if p.experience_distance_rate != 0.0:
        for j in range(regions):
            if j != home and s.entry_mode[i, j] != _NONE:
                _teaching_chances(
                    p, s, b, i, f, j, scratch[4 * slots :],
                    teaching[j * window : (j + 1) * window],
                    striking[j * window : (j + 1) * window],
                )  # fmt: skip
        for r in range(regions):
            if r != home and s.entry_mode[i, r] != _NONE:
                for j in range(regions):
                    if j != r and j != home and s.entry_mode[i, j] != _NONE:
                        _narrow(
                            p, s, i, f, r, j, teaching[j * window : (j + 1) * window],
                            striking[j * window : (j + 1) * window], chains,
                            narrowing[r * window : (r + 1) * window],
                        )  # fmt: skip
    for r in range(regions):
        mode = int(s.entry_mode[i, r])
        if mode != _NONE:
            value += _region_value(
                p, s, b, i, f, r, mode, start, window, delta,
                narrowing[r * window : (r + 1) * window], kinds, scratch, base, firms, chains,
            )  # fmt: skip
    return value


@njit(cache=True)
def _teaching_chances(
    p: Any, s: Any, b: int, i: int, f: int, j: int, scratch: Any, teaching: Any, striking: Any
) -> None:
    """The terms of the kernel's signal condition for firm row ``i``'s position in region
    ``j`` in quarter ``H + k``, apart from its region's closures and suspensions (left to
    :func:`_narrow`): ``teaching[k]`` (W,), the probability that, served, it teaches (a
    build has opened, or it serves in its interim mode, in a mode whose signals carry
    information; a partnership has not failed), and ``striking[k]`` (W,), the probability
    that a severe enforcement event suspends it in a quarter served (the expected hazard
    along the stringency and compliance path). A partnership's survival takes the chance
    of serving from the closure and suspension chains of :func:`_region_value`;
    ``scratch`` holds ``2 * MAX_COUNTDOWN`` values."""
    window = teaching.shape[0]
    closed = scratch[0:MAX_COUNTDOWN]
    suspended = scratch[MAX_COUNTDOWN : 2 * MAX_COUNTDOWN]
    closure_length = min(p.closure_quarters, MAX_COUNTDOWN - 1)
    suspension_length = min(p.suspension_quarters, MAX_COUNTDOWN - 1)
    for c in range(closure_length + 1):
        closed[c] = 0.0
    for c in range(suspension_length + 1):
        suspended[c] = 0.0
    closed[min(int(s.closed_quarters[i, j]), closure_length)] = 1.0
    suspended[min(int(s.suspended_quarters[i, j]), suspension_length)] = 1.0
    closing = shocks.closure_probability(p.firm_risk[f, j])
    rise = p.stringency_drift[j] + p.regulatory_shock_rate[j] * p.regulatory_shock_size[j]
    stringency = np.float64(s.stringency[b, j])
    complied = np.float64(s.compliance[i, j])
    mode, interim = int(s.entry_mode[i, j]), int(s.interim_mode[i, j])
    build = int(s.build_quarters[i, j])
    held_partner = int(s.partner[i, j])
    failing = partners.failure_probability(
        np.float64(s.partner_quality[b, j, max(held_partner, 0)]), p.partner_failure_rate
    )
    surviving = 1.0  # a partnership that fails teaches no more
    for k in range(window):
        if build > 0:
            build -= 1
            if build == 0:
                interim = 0
        served = entry.serving_mode(mode, interim, build)
        tightened = min(max(stringency + rise, 0.0), 1.0)
        complied = compliance.erode(complied, stringency, tightened, p.compliance_erosion)
        stringency = tightened
        open_now = closed[0] * (1.0 - closing)
        teaching[k], striking[k] = 0.0, 0.0
        if served != _NONE:
            if p.fit_signal_precision[served] != 0.0:
                teaching[k] = surviving if served == _PARTNERSHIP else 1.0
            if served == _PARTNERSHIP:
                surviving *= 1.0 - open_now * suspended[0] * failing
            hazard = compliance.enforcement_probability(
                stringency, complied, p.enforcement_base_hazard, p.enforcement_gap_hazard
            )
            striking[k] = hazard * p.severe_probability
        step_countdown(suspended, suspended, suspension_length, open_now * striking[k], 1.0, 0.0)
        step_countdown(closed, closed, closure_length, closing, 1.0, 0.0)


@njit(cache=True)
def _narrow(
    p: Any,
    s: Any,
    i: int,
    f: int,
    r: int,
    j: int,
    teaching: Any,
    striking: Any,
    mass: Any,
    narrowing: Any,
) -> None:
    """Multiply ``narrowing[k]`` (W,) by ``E[prod_{t<k} (1 - kappa_D sim_rj X_t)]``, the
    expected factor by which region ``j``'s position narrows region ``r``'s psychic
    distance before quarter ``H + k`` (:func:`lepton_env.mechanisms.fit.closer`), ``X_t``
    the event that it teaches in quarter ``H + t``: served, open at the quarter's start
    and not closing in it, not suspended at its start. Closures and suspensions last
    several quarters and a suspension strikes only a quarter served, so the events of
    successive quarters are correlated, and so are closure and suspension: the product of
    their expectations would overstate the narrowing. ``mass`` (at least ``(closure_quarters
    + 1) (suspension_quarters + 1)`` values) carries ``E[prod 1{c, d}]`` over the joint
    chain of the closure and suspension countdowns ``(c, d)`` exactly; a quarter served
    multiplies by ``1 - kappa_D sim_rj teaching[t]`` (survival and mode from
    :func:`_teaching_chances`) and is suspended with ``striking[t]``. Regions close and
    are suspended independently, so the factors of several ``j`` multiply."""
    window = narrowing.shape[0]
    closure_length = min(p.closure_quarters, MAX_COUNTDOWN - 1)
    suspension_length = min(p.suspension_quarters, MAX_COUNTDOWN - 1)
    width = suspension_length + 1
    states = (closure_length + 1) * width
    chain = mass[:states]
    after = mass[states : 2 * states]
    chain[:] = 0.0
    start_c = min(int(s.closed_quarters[i, j]), closure_length)
    start_d = min(int(s.suspended_quarters[i, j]), suspension_length)
    chain[start_c * width + start_d] = 1.0
    closing = shocks.closure_probability(p.firm_risk[f, j])
    similar = fit.similarity(p.firm_distance[f, r], p.firm_distance[f, j])
    for k in range(window):
        narrowing[k] *= chain.sum()
        taught = fit.closer(1.0, p.experience_distance_rate, similar * teaching[k])
        after[:] = 0.0
        for c in range(closure_length + 1):
            for d in range(width):
                weight = chain[c * width + d]
                if weight == 0.0:
                    continue
                lower = max(d - 1, 0)
                if c > 0:  # closed this quarter: the countdowns run
                    after[(c - 1) * width + lower] += weight
                    continue
                # open at the start: a closure may strike (the quarter is lost) ...
                closes = weight * closing
                if closure_length > 0:
                    after[closure_length * width + lower] += closes
                else:
                    after[lower] += closes
                stays = weight - closes
                if d > 0:  # ... or it stays open while suspended
                    after[lower] += stays
                    continue
                # served: teaches, and a severe event may suspend it
                hit = striking[k]
                after[suspension_length] += stays * taught * hit
                after[0] += stays * taught * (1.0 - hit)
        chain[:] = after


@njit(cache=True)
def _region_value(
    p: Any,
    s: Any,
    b: int,
    i: int,
    f: int,
    r: int,
    mode: int,
    start: int,
    window: int,
    delta: float,
    narrowing: Any,
    kinds: Any,
    scratch: Any,
    base: int,
    firms: int,
    joint: Any,
) -> float:
    """The expected discounted profit of firm row ``i``'s position in region ``r``."""
    slots = s.competitor_share.shape[2]
    rival_quality = scratch[0:slots]
    rival_brand = scratch[slots : 2 * slots]
    rival_price = scratch[2 * slots : 3 * slots]
    utilities = scratch[3 * slots : 4 * slots]
    others = scratch[4 * slots + 3 * MAX_COUNTDOWN : base]
    # the joint chain of the closure and suspension countdowns (c, d): its chances and the
    # share carried in each state, E[s 1{c, d}], and their next values
    states = MAX_COUNTDOWN * MAX_COUNTDOWN
    chain = joint[0:states]
    masses = joint[states : 2 * states]
    next_chain = joint[2 * states : 3 * states]
    next_masses = joint[3 * states : 4 * states]
    for k in range(slots):
        rival_quality[k] = s.competitor_quality[b, r, k]
        rival_brand[k] = s.competitor_brand[b, r, k]
        rival_price[k] = s.competitor_price[b, r, k]
    closure_length = min(p.closure_quarters, MAX_COUNTDOWN - 1)
    suspension_length = min(p.suspension_quarters, MAX_COUNTDOWN - 1)
    width = suspension_length + 1
    used = (closure_length + 1) * width
    chain[:used] = 0.0
    masses[:used] = 0.0
    at = min(int(s.closed_quarters[i, r]), closure_length) * width + min(
        int(s.suspended_quarters[i, r]), suspension_length
    )
    chain[at] = 1.0
    masses[at] = np.float64(s.firm_share[i, r])
    # rival firms' attraction held as at H (0 weight where they do not serve)
    for g in range(firms):
        others[g] = -np.inf
        j = b * firms + g
        if g != f and s.entry_mode[j, r] != _NONE:
            served_g = entry.serving_mode(
                int(s.entry_mode[j, r]), int(s.interim_mode[j, r]), int(s.build_quarters[j, r])
            )
            if served_g != _NONE and s.closed_quarters[j, r] == 0:
                others[g] = _utility(
                    p,
                    r,
                    np.float64(s.product_quality[j]),
                    np.float64(s.psychic_distance[j, r]),
                    np.float64(s.brand[j, r]),
                    np.float64(s.localization[j, r]),
                    np.float64(s.market_fit[j, r]),
                )

    interim = int(s.interim_mode[i, r])
    build = int(s.build_quarters[i, r])
    held_partner = int(s.partner[i, r])
    partner_quality = np.float64(s.partner_quality[b, r, max(held_partner, 0)])
    goodwill = np.float64(s.brand[i, r])
    local = np.float64(s.localization[i, r])
    complied = np.float64(s.compliance[i, r])
    stringency = np.float64(s.stringency[b, r])
    distance = np.float64(s.psychic_distance[i, r])
    fitted = np.float64(s.market_fit[i, r])
    adoption = np.float64(s.adoption[b, r])
    size = np.float64(s.market_size[b, r])
    foreign = r != p.firm_home[f]
    alive = 1.0  # the probability that the position still exists (a partnership may fail)
    rise = p.stringency_drift[r] + p.regulatory_shock_rate[r] * p.regulatory_shock_size[r]
    closing = p.firm_risk[f, r]
    closing = shocks.closure_probability(closing)
    cut_rate = p.partner_revenue_share
    value, factor = 0.0, 1.0
    for k in range(window):
        quarter = start + k
        factor *= delta
        potential = diffusion.market_potential(
            p.market_potential[r], p.market_growth[r], size, np.float64(quarter)
        )
        # moves: a build counts down and opens
        if build > 0:
            build -= 1
            if build == 0:
                interim = 0
        served = entry.serving_mode(mode, interim, build)
        # a price warrior cuts once the share passes its threshold (and never raises it):
        # it reacts to the share of the quarters open, not to one diluted by closed ones
        open_chance, open_share = 0.0, 0.0
        for d in range(width):
            open_chance += chain[d]
            open_share += masses[d]
        expected_share = alive * open_share / open_chance if open_chance > 0.0 else 0.0
        # incumbents react to the start-of-quarter position
        for c in range(slots):
            kind = kinds[r, c]
            q_c, b_c, p_c = rival_quality[c], rival_brand[c], rival_price[c]
            if kind == _PRICE_WARRIOR and foreign:
                p_c = competitors.price_war(
                    p_c, expected_share, p.price_war_threshold, p.price_war_cut, p.price_floor
                )
            elif kind == _INNOVATOR:
                q_c = competitors.innovate(q_c, p.innovation_rate)
            elif kind == _FOLLOWER:
                b_c = competitors.follow(b_c, goodwill, p.follow_rate)
            rival_quality[c], rival_brand[c], rival_price[c] = q_c, b_c, p_c
        # spends (none); shocks: stringency rises by its expected laws, compliance erodes
        goodwill = brand.nerlove_arrow(goodwill, 0.0, p.brand_efficiency, p.brand_decay)
        tightened = min(max(stringency + rise, 0.0), 1.0)
        complied = compliance.erode(complied, stringency, tightened, p.compliance_erosion)
        stringency = tightened
        # shares: adoption diffuses; the share moves toward its target in the quarters
        # served and toward 0 in the others, tracked per closure countdown so that revenue
        # counts the share of the quarters served, E[s 1{serving}]
        adoption = diffusion.bass_adoption(adoption, p.bass_innovation[r], p.bass_imitation[r])
        target = 0.0
        if served != _NONE:
            own = _utility(
                p, r, scratch[base + k], distance * narrowing[k], goodwill, local, fitted
            )
            target = _target(p, r, own, others, rival_quality, rival_brand, rival_price,
                             s.competitor_active[b, r], utilities)  # fmt: skip
            ceiling = entry.share_ceiling(
                served, p.share_ceiling[served], p.data_localization[r],
                p.data_localization_pilot_ceiling,
            )  # fmt: skip
            target = min(target, ceiling)
        hazard = compliance.enforcement_probability(
            stringency, complied, p.enforcement_base_hazard, p.enforcement_gap_hazard
        )
        # a severe event suspends a quarter served from the next one
        hit = hazard * p.severe_probability if served != _NONE else 0.0
        serving, served_share = _step_joint(
            chain, masses, next_chain, next_masses, closure_length, width, closing, hit,
            p.share_adjustment, target,
        )  # fmt: skip
        if served == _NONE:
            serving = 0.0
        # settlement
        gross = alive * served_share * potential * adoption
        cut = cut_rate if served == _PARTNERSHIP else 0.0
        fines = hazard * compliance.fine(4.0 * gross, p.fine_rate)
        operating = alive * entry.entry_cost(
            p.operating_cost_fixed[mode], p.operating_cost_market[mode], potential
        )
        value += factor * (gross * (1.0 - cut - p.variable_cost_rate) - fines - operating)
        # a partner may fail
        if served == _PARTNERSHIP:
            failing = serving * partners.failure_probability(
                partner_quality, p.partner_failure_rate
            )
            if mode == _PARTNERSHIP:
                alive *= 1.0 - failing
            else:  # an interim partnership under a build: its share is lost, the build goes on
                for c in range(used):
                    masses[c] *= 1.0 - failing
    return value


@njit(cache=True, inline="always")
def _step_joint(
    chain: Any,
    masses: Any,
    next_chain: Any,
    next_masses: Any,
    closure_length: int,
    width: int,
    closing: float,
    hit: float,
    adjust: float,
    target: float,
) -> tuple[float, float]:
    """One quarter of the joint chain of the closure and suspension countdowns, state
    ``(c, d)`` at ``c * width + d``, with the share carried in each state (``masses``,
    ``E[s 1{c, d}]``): the kernel's quarter in expectation. A state closed (``c > 0``) or
    closing (probability ``closing`` from ``c = 0``) or suspended (``d > 0``) is not
    served, its share moves toward 0; the state ``(0, 0)`` that does not close is served,
    its share moves toward ``target``, and a severe event (``hit``) starts a suspension of
    ``width - 1`` quarters from the next one. Every countdown runs down by one a quarter.
    Returns ``(P(served), E[s' 1{served}])``, the share earned in the quarters served."""
    used = (closure_length + 1) * width
    next_chain[:used] = 0.0
    next_masses[:used] = 0.0
    kept = 1.0 - adjust
    serving, earned = 0.0, 0.0
    for c in range(closure_length + 1):
        for d in range(width):
            chance, mass = chain[c * width + d], masses[c * width + d]
            if chance == 0.0 and mass == 0.0:
                continue
            lower = max(d - 1, 0)
            if c > 0:
                next_chain[(c - 1) * width + lower] += chance
                next_masses[(c - 1) * width + lower] += kept * mass
                continue
            struck = closure_length * width + lower if closure_length > 0 else lower
            next_chain[struck] += chance * closing
            next_masses[struck] += kept * mass * closing
            chance, mass = chance * (1.0 - closing), mass * (1.0 - closing)
            if d > 0:
                next_chain[lower] += chance
                next_masses[lower] += kept * mass
                continue
            moved = kept * mass + adjust * target * chance
            serving += chance
            earned += moved
            next_chain[width - 1] += chance * hit
            next_masses[width - 1] += moved * hit
            next_chain[0] += chance * (1.0 - hit)
            next_masses[0] += moved * (1.0 - hit)
    chain[:used] = next_chain[:used]
    masses[:used] = next_masses[:used]
    return serving, earned


@njit(cache=True, inline="always")
def _utility(
    p: Any, r: int, quality: float, distance: float, goodwill: float, local: float, fitted: float
) -> float:
    """A firm's attraction in region ``r`` (:mod:`~lepton_env.mechanisms.share`) with its
    hidden fit."""
    perceived = share.effective_quality(quality, distance, local, p.foreign_quality_penalty)
    return (
        share.attraction(
            perceived,
            goodwill,
            local,
            p.firm_price,
            p.price_sensitivity[r],
            p.quality_weight,
            p.brand_weight,
            p.localization_weight,
        )
        + fitted
    )


@njit(cache=True, inline="always")
def _target(
    p: Any,
    r: int,
    own: float,
    others: Any,
    rival_quality: Any,
    rival_brand: Any,
    rival_price: Any,
    active: Any,
    utilities: Any,
) -> float:
    """The firm's logit target share against the rival firms, the active incumbents and
    the outside option (``utilities`` (K,) is scratch)."""
    shift = max(p.outside_utility, own)
    for g in range(others.shape[0]):
        shift = max(shift, others[g])
    for c in range(rival_quality.shape[0]):
        utilities[c] = share.attraction(
            rival_quality[c],
            rival_brand[c],
            1.0,
            rival_price[c],
            p.price_sensitivity[r],
            p.quality_weight,
            p.brand_weight,
            p.localization_weight,
        )
        if active[c]:
            shift = max(shift, utilities[c])
    weight = np.exp(own - shift)
    total = np.exp(p.outside_utility - shift) + weight
    for g in range(others.shape[0]):
        total += np.exp(others[g] - shift)
    for c in range(rival_quality.shape[0]):
        if active[c]:
            total += np.exp(utilities[c] - shift)
    return weight / total


@njit(cache=True)
def _terminal_rows(p: Any, s: Any, kinds: Any, rows: Any, values: Any) -> None:
    envs = s.quarter.shape[0]
    firms = s.entry_mode.shape[0] // envs
    regions = s.entry_mode.shape[1]
    slots = s.competitor_share.shape[2]
    scratch = np.empty(
        4 * slots
        + 3 * MAX_COUNTDOWN
        + firms
        + p.valuation_quarters * (1 + 3 * regions)
        + 4 * MAX_COUNTDOWN * MAX_COUNTDOWN
    )
    for n in range(rows.shape[0]):
        i = rows[n]
        values[n] = firm_terminal_value(p, s, i // firms, i, i % firms, kinds, scratch)


def terminal_values(
    p: Any, arrays: Any, kinds: NDArray[np.int8], rows: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``V_H`` ($M) of the firm rows ``rows`` of the state ``arrays`` (a
    :class:`~lepton_env.state.StateTuple`), with the competitor slots' persona ``kinds``
    (R, K) and the compiled parameters ``p``."""
    values = np.zeros(rows.shape[0])
    if rows.shape[0]:
        _terminal_rows(p, _ref(arrays), kinds, np.ascontiguousarray(rows, dtype=np.int64), values)
    return values
