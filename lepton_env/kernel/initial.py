"""An episode's start: reset of one env (the world's draws from the episode's key, each
firm's from its own, its hidden market fit among them), and restart (a reset in place
with the new state's masks and observation, the vector faces' autoreset).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.kernel.encoding import encode_env
from lepton_env.kernel.indices import _GREENFIELD, _NONE
from lepton_env.kernel.shared import _potential, _region_targets, _valuation_terms
from lepton_env.kernel.valid_moves import _region_masks
from lepton_env.mechanisms import finance, fit, partners
from lepton_env.rng import Stream


@njit(cache=True)
def _reset_env(p: Any, s: Any, b: int, w: Any) -> None:
    """Env ``b`` of ``s`` (its ``episode_key`` set) at t=0: the world's draws from the episode's
    key, each firm's from its own (:func:`lepton_env.rng.firm_key`)."""
    regions = s.entry_mode.shape[1]
    slots = s.competitor_share.shape[2]
    candidates = s.partner_quality.shape[2]
    firms = len(w.firm_index)
    key = s.episode_key[b]
    s.quarter[b] = 0
    noise = p.trait_noise
    size_stream = rng.stream_key(key, 0, Stream.MARKET_SIZE_NOISE)
    competitor_stream = rng.stream_key(key, 0, Stream.COMPETITOR_NOISE)
    quality_stream = rng.stream_key(key, 0, Stream.PARTNER_QUALITY)
    for r in range(regions):
        size = 1.0
        if noise != 0.0:  # exp(0 z) is 1 for every draw: skip the draws
            size_z = rng.normal_of(size_stream, r, regions)
            size = np.exp(noise * size_z - 0.5 * noise**2)
        s.market_size[b, r] = size
        s.adoption[b, r] = p.initial_adoption[r]
        s.stringency[b, r] = p.initial_stringency[r]
        for k in range(slots):
            quality = p.competitor_quality[r, k]
            if p.competitor_noise != 0.0:  # as with trait noise: 0 z adds nothing
                index, count = r * slots + k, regions * slots
                z = rng.normal_of(competitor_stream, index, count)
                quality = quality + p.competitor_noise * z
            s.competitor_quality[b, r, k] = min(max(quality, 0.0), 1.0)
            s.competitor_active[b, r, k] = p.competitor_active[r, k] > 0.5
            s.competitor_brand[b, r, k] = p.competitor_brand[r, k]
            s.competitor_price[b, r, k] = p.competitor_price[r, k]
        for c in range(candidates):
            index, count = r * candidates + c, regions * candidates
            quality_z = rng.normal_of(quality_stream, index, count)
            s.partner_quality[b, r, c] = np.float32(
                partners.hidden_quality(
                    p.partner_quality_mean[r, c], p.partner_quality_spread, quality_z
                )
            )
    for f in range(firms):
        _reset_firm(p, s, b, b * firms + f, f, rng.firm_key(key, f))
    # shares start at their targets; only the firms' home greenfields serve at t=0
    for f in range(firms):
        s.revenue[b * firms + f] = 0.0
    for r in range(regions):
        for f in range(firms):
            w.served[f] = int(s.entry_mode[b * firms + f, r])
            w.serving[f] = w.served[f] > 0
        _region_targets(p, s, w, b, r)
        for k in range(slots):
            s.competitor_share[b, r, k] = w.utility[k]
        demand = _potential(p, s, b, r) * np.float64(s.adoption[b, r])
        for f in range(firms):
            i = b * firms + f
            s.firm_share[i, r] = w.targets[f]
            s.revenue[i] += finance.gross_revenue(
                np.float64(s.firm_share[i, r]), demand, w.serving[f]
            )


@njit(cache=True, inline="always")
def _reset_firm(p: Any, s: Any, b: int, i: int, f: int, key: int | np.uint64) -> None:
    """Firm ``f`` (row ``i``, own key ``key``) of env ``b`` at t=0: at home only."""
    regions = s.entry_mode.shape[1]
    candidates = s.partner_quality.shape[2]
    s.cash[i] = p.initial_cash
    s.product_quality[i] = p.initial_quality
    s.rnd_intensity[i] = p.initial_rnd
    s.unfunded_moves[i] = 0
    noise = p.trait_noise
    distance_stream = rng.stream_key(key, 0, Stream.DISTANCE_NOISE)
    estimate_stream = rng.stream_key(key, 0, Stream.DILIGENCE_NOISE)
    for r in range(regions):
        home = r == p.firm_home[f]
        distance = p.firm_distance[f, r]
        if noise != 0.0:
            distance_z = rng.normal_of(distance_stream, r, regions)
            distance = min(max(distance * np.exp(noise * distance_z), 0.0), 1.0)
        s.psychic_distance[i, r] = distance
        _draw_fit(p, s, i, f, r, key)
        s.closed_quarters[i, r] = 0
        s.entry_mode[i, r] = _GREENFIELD if home else _NONE
        s.interim_mode[i, r] = 0
        s.build_quarters[i, r] = 0
        s.suspended_quarters[i, r] = 0
        s.brand[i, r] = p.home_brand if home else 0.0
        s.localization[i, r] = 1.0 if home else 0.0
        s.compliance[i, r] = 1.0 if home else p.initial_compliance
        s.diligence_rounds[i, r] = 0
        s.partner[i, r] = -1
        for c in range(candidates):
            index, count = r * candidates + c, regions * candidates
            noise_z = rng.normal_of(estimate_stream, index, count)
            s.partner_estimate[i, r, c] = partners.estimate(
                np.float64(s.partner_quality[b, r, c]), 0.0, p.diligence_noise, noise_z
            )


@njit(cache=True, inline="always")
def _draw_fit(p: Any, s: Any, i: int, f: int, r: int, key: int | np.uint64) -> None:
    """Hidden fit and prior belief of firm ``f`` (row ``i``, own key ``key``) in region ``r`` at
    reset (:mod:`lepton_env.mechanisms.fit`): ``phi = mu + sigma z`` with
    ``sigma = sigma_0 + sigma_D D_r``; its home's fit is 0 and known."""
    mean, sd = (
        p.fit_prior_mean,
        fit.prior_sd(p.fit_prior_sd, p.fit_prior_sd_distance, np.float64(s.psychic_distance[i, r])),
    )
    if r == p.firm_home[f]:
        mean, sd = 0.0, 0.0
    hidden = mean
    if sd != 0.0:  # a known fit draws nothing
        regions = s.entry_mode.shape[1]
        stream = rng.stream_key(key, 0, Stream.MARKET_FIT)
        z = fit.standard_draw(
            rng.uniform_of(stream, r), rng.normal_of(stream, r, regions), p.fit_two_point != 0
        )
        hidden = mean + sd * z
    s.market_fit[i, r] = hidden
    s.fit_mean[i, r] = mean
    s.fit_variance[i, r] = sd * sd


@njit(cache=True)
def _restart_env(
    p: Any,
    s: Any,
    b: int,
    key: np.uint64,
    valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
    w: Any,
) -> None:
    s.episode_key[b] = key
    _reset_env(p, s, b, w)
    firms = len(w.firm_index)
    for r in range(s.entry_mode.shape[1]):
        w.potentials[r] = _potential(p, s, b, r)
        demand_value, _ = _valuation_terms(p, s, b, r)
        for f in range(firms):
            i = b * firms + f
            _region_masks(
                p, s, b, i, f, firms, r, w.potentials[r], demand_value, w.cost, valid[i, r]
            )
    for f in range(firms):
        i = b * firms + f
        encode_env(p, s, b, i, f, observation, i, w.column, w.potentials)
