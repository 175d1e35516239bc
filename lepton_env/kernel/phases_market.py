"""The quarter's phases in which the world answers, in each region after the firms' moves
(:func:`lepton_env.kernel.quarter._step_env` runs them in this order): shocks, the
competitors' reactions, and the shares.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from lepton_env import rng
from lepton_env.kernel.indices import (
    _ACTIVE,
    _CLOSED0,
    _CLOSING,
    _CLOSURE_STREAM,
    _CLOSURES,
    _LAWS,
    _SUSPENDED,
    _SUSPENDED0,
)
from lepton_env.kernel.shared import _f32, _region_targets
from lepton_env.mechanisms import competitors, compliance, diffusion, entry, share, shocks

_PRICE_WARRIOR = competitors.BUILT_IN_KINDS[competitors.PriceWarrior]
_INNOVATOR = competitors.BUILT_IN_KINDS[competitors.Innovator]
_FOLLOWER = competitors.BUILT_IN_KINDS[competitors.Follower]


@njit(cache=True, inline="always")
def _shock(p: Any, s: Any, w: Any, b: int, r: int, out: Any, o: int, law_stream: np.uint64) -> None:
    """Shocks: new laws tighten region ``r``'s stringency (for every firm), which erodes each
    firm's compliance; a geopolitical closure strikes each firm with its own probability;
    suspensions count down (:mod:`lepton_env.mechanisms.shocks`)."""
    firms = len(w.firm_index)
    stringency0 = np.float64(s.stringency[b, r])
    laws = rng.poisson_small_given(
        rng.uniform_of(law_stream, r),
        p.regulatory_shock_rate[r],
        p.law_free_probability[r],
    )
    out.stringency[o, r] = shocks.tighten(
        stringency0, p.stringency_drift[r], laws, p.regulatory_shock_size[r]
    )
    stringency = np.float64(out.stringency[o, r])
    for f in range(firms):
        if not w.flags[f, _ACTIVE]:
            continue
        i, oi = b * firms + f, o * firms + f
        w.counts[_LAWS, i] += laws
        out.compliance[oi, r] = compliance.erode(
            np.float64(out.compliance[oi, r]), stringency0, stringency, p.compliance_erosion
        )
        closed0 = int(s.closed_quarters[i, r])
        closing = shocks.closes(
            closed0, p.closure_probability[f, r], rng.uniform_of(w.keys[f, _CLOSURE_STREAM], r)
        )
        out.closed_quarters[oi, r] = shocks.quarters_closed(closed0, closing, p.closure_quarters)
        if closing:
            w.counts[_CLOSURES, i] += 1
        suspended0 = int(s.suspended_quarters[i, r])
        w.flags[f, _CLOSED0] = closed0
        w.flags[f, _CLOSING] = closing
        w.flags[f, _SUSPENDED0] = suspended0
        w.flags[f, _SUSPENDED] = max(suspended0 - 1, 0)


@njit(cache=True, inline="always")
def _compete(p: Any, s: Any, w: Any, b: int, r: int, out: Any, o: int, firms: int) -> None:
    """Competitors react to the entrants' positions at the start of the quarter: the
    firms' summed share where they are foreign (incumbents react to firms as entrants, not to
    their home business) and the strongest firm brand (:mod:`~lepton_env.mechanisms.
    competitors`)."""
    entrant_share = 0.0
    firm_brand = np.float64(s.brand[b * firms, r])
    for f in range(firms):
        i = b * firms + f
        if r != p.firm_home[f]:
            entrant_share += np.float64(s.firm_share[i, r])
        firm_brand = max(firm_brand, np.float64(s.brand[i, r]))
    for k in range(s.competitor_share.shape[2]):
        kind = w.kinds[r, k]
        if kind == competitors.CUSTOM_KIND:
            quality, rival_brand, price = (
                w.reacted[0, b, r, k],
                w.reacted[1, b, r, k],
                w.reacted[2, b, r, k],
            )
        else:
            quality, rival_brand, price = _react(
                p,
                kind,
                np.float64(s.competitor_quality[b, r, k]),
                np.float64(s.competitor_brand[b, r, k]),
                np.float64(s.competitor_price[b, r, k]),
                entrant_share,
                firm_brand,
            )
        out.competitor_quality[o, r, k] = quality
        out.competitor_brand[o, r, k] = rival_brand
        out.competitor_price[o, r, k] = price


@njit(cache=True, inline="always")
def _react(
    p: Any,
    kind: int,
    quality: float,
    brand_stock: float,
    price: float,
    firm_share: float,
    firm_brand: float,
) -> tuple[float, float, float]:
    """A built-in persona's reaction (:mod:`lepton_env.mechanisms.competitors`)."""
    if kind == _PRICE_WARRIOR:
        price = competitors.price_war(
            price, firm_share, p.price_war_threshold, p.price_war_cut, p.price_floor
        )
    elif kind == _INNOVATOR:
        quality = competitors.innovate(quality, p.innovation_rate)
    elif kind == _FOLLOWER:
        brand_stock = competitors.follow(brand_stock, firm_brand, p.follow_rate)
    return quality, brand_stock, price


@njit(cache=True, inline="always")
def _share(p: Any, s: Any, w: Any, b: int, r: int, out: Any, o: int) -> None:
    """Shares: adoption diffuses (Bass) and every share moves toward its attraction-model
    target among the serving firms, the competitors and the outside option. A closure idles
    the quarter it strikes and the ``closed_quarters`` counted at its start, so the
    observation's count is exactly the quarters still lost."""
    firms = len(w.firm_index)
    out.adoption[o, r] = diffusion.bass_adoption(
        np.float64(s.adoption[b, r]), p.bass_innovation[r], p.bass_imitation[r]
    )
    for f in range(firms):
        i, oi = b * firms + f, o * firms + f
        if not w.flags[f, _ACTIVE]:
            w.served[f], w.serving[f] = 0, False
            continue
        w.served[f] = entry.serving_mode(
            int(out.entry_mode[oi, r]), int(out.interim_mode[oi, r]), int(out.build_quarters[oi, r])
        )
        w.serving[f] = (
            w.served[f] > 0
            and w.flags[f, _CLOSED0] == 0
            and not w.flags[f, _CLOSING]
            and w.flags[f, _SUSPENDED0] == 0
        )
        out.psychic_distance[oi, r] = s.psychic_distance[i, r]
        out.market_fit[oi, r] = s.market_fit[i, r]
        out.fit_mean[oi, r] = s.fit_mean[i, r]
        out.fit_variance[oi, r] = s.fit_variance[i, r]
    _region_targets(p, out, w, o, r)
    for f in range(firms):
        if w.flags[f, _ACTIVE]:
            oi = o * firms + f
            out.firm_share[oi, r] = _f32(
                share.adjust_shares(
                    np.float64(out.firm_share[oi, r]), w.targets[f], p.share_adjustment
                )
            )
    for k in range(s.competitor_share.shape[2]):
        out.competitor_share[o, r, k] = share.adjust_shares(
            np.float64(out.competitor_share[o, r, k]), w.utility[k], p.share_adjustment
        )
