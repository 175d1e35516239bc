"""The compiled quarter: ``reset``, masks and ``step`` of one environment, looped over the batch.

:class:`lepton_env.core.Model` calls these; they are the model's only
implementation. Each loop body handles one environment with the mechanism
functions of :mod:`lepton_env.mechanisms` on scalars, so no batch-sized
temporary exists and a batch of n computes exactly what n single
environments compute. New state values are rounded to their float32 storage
before later mechanisms read them, so a quarter computed from a stored state
is the quarter computed within a step. Money stays float64.

Batches of at least :data:`PARALLEL_MIN_WORK` env-regions run the same loop body on all
cores (``numba.prange``); environments are independent, so the result does
not depend on the thread count.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import config, njit, prange
from numba.core import types
from numba.experimental import structref
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.features import FIRM_FEATURES, REGION_FEATURES, bounds
from lepton_env.mechanisms import (
    brand,
    competitors,
    compliance,
    diffusion,
    entry,
    finance,
    fit,
    localization,
    partners,
    rnd,
    share,
    shocks,
    valuation,
)
from lepton_env.params import FIELDS as PARAM_FIELDS
from lepton_env.params import Params
from lepton_env.rng import Stream
from lepton_env.state import FIELDS as STATE_FIELDS
from lepton_env.types import MODE_RANK, NUM_MODES, NUM_MOVES, EntryMode, Move

#: Env-regions (batch size times regions) from which a pass runs on all cores: below it
#: the threads' start costs more than they save (measured on 2 cores: `toy` at 64 envs,
#: 192 env-regions, steps faster serially; `global` at 64, 704, and `toy` at 256, 768,
#: in parallel).
PARALLEL_MIN_WORK = 512
_CHUNKS_PER_THREAD = 4

_PARAM_NAMES = [name for name in PARAM_FIELDS if name != "region_names"]
_STATE_NAMES = [f.name for f in STATE_FIELDS]
#: A state's arrays in :class:`lepton_env.state.State` field order, as Python hands them over.
StateTuple = namedtuple("StateTuple", _STATE_NAMES)  # type: ignore[misc]


# The compiled functions pass the parameters and states to each other as StructRefs: a
# pointer, where a tuple of some 80 fields is copied (and its arrays reference-counted)
# on every call.
@structref.register
class _ParamsType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> Any:
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


@structref.register
class _StateType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> Any:
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


class CompiledParams(structref.StructRefProxy):
    """:class:`~lepton_env.params.Params` as the compiled functions take them (by reference)."""


class StateRef(structref.StructRefProxy):
    """A state's arrays by reference, built inside the compiled loops from a StateTuple."""


#: Per-scenario constants the compiled quarter looks up instead of recomputing per env:
#: ``(1 + g_r) ** (t / 4)`` for t = 0 .. horizon + 1 (R, horizon + 2), ``exp(-lambda_r)``
#: and the closure probability ``1 - exp(-rho_r)`` (R,); for the valuation
#: (:mod:`lepton_env.mechanisms.valuation`), the adoption every episode follows (Bass
#: diffusion from ``initial_adoption``, as the state stores it: float32) and, along it, the
#: discounted demand ``W_r(t)`` and potential ``P_r(t)`` (R, horizon + 2), the quarterly
#: discount factor and the annuity ``A``.
_DERIVED_NAMES = [
    "growth_factor",
    "law_free_probability",
    "closure_probability",
    "adoption_path",
    "demand_value",
    "potential_value",
    "valuation_discount",
    "valuation_annuity",
]
structref.define_proxy(CompiledParams, _ParamsType, _PARAM_NAMES + _DERIVED_NAMES)
structref.define_proxy(StateRef, _StateType, _STATE_NAMES)

#: Per-env KPIs in $M (float64), rows of the ``money`` output.
MONEY_KPIS = (
    "revenue",
    "gross_revenue",
    "profit",
    "cash",
    "cost_of_revenue",
    "operating_cost",
    "entry_cost",
    "exit_cost",
    "spend_cost",
    "rnd_cost",
    "fines",
    "overhead",
    "total_potential",
    "firm_value",
    "previous_firm_value",
)
#: Per-env counts (int64), rows of the ``counts`` output.
COUNT_KPIS = (
    "regions_present",
    "entries",
    "exits",
    "acquisitions_vetoed",
    "partner_failures",
    "enforcement_events",
    "suspensions",
    "new_laws",
    "closures",
    "invalid_moves",
    # valid moves (each allowed by its mask) refused because together they exceed cash + credit
    "unfunded_moves",
)
(
    _REVENUE,
    _GROSS,
    _PROFIT,
    _CASH,
    _COST_OF_REVENUE,
    _OPERATING,
    _ENTRY,
    _EXIT,
    _SPEND,
    _RND,
    _FINES,
    _OVERHEAD,
    _POTENTIAL,
    _FIRM_VALUE,
    _PREVIOUS_FIRM_VALUE,
) = range(len(MONEY_KPIS))
(
    _PRESENT,
    _ENTRIES,
    _EXITS,
    _VETOED,
    _FAILURES,
    _EVENTS,
    _SUSPENSIONS,
    _LAWS,
    _CLOSURES,
    _INVALID,
    _UNFUNDED,
) = range(len(COUNT_KPIS))

_RANK = np.array(MODE_RANK, dtype=np.int64)
_NONE, _PILOT, _PARTNERSHIP, _ACQUISITION, _GREENFIELD = (int(m) for m in EntryMode)
_HOLD, _EXIT_MOVE, _MARKETING, _LOCALIZE, _COMPLY, _DILIGENCE = (
    int(Move.HOLD),
    int(Move.EXIT),
    int(Move.MARKETING),
    int(Move.LOCALIZE),
    int(Move.COMPLY),
    int(Move.DILIGENCE),
)
_PRICE_WARRIOR = competitors.BUILT_IN_KINDS[competitors.PriceWarrior]
_INNOVATOR = competitors.BUILT_IN_KINDS[competitors.Innovator]
_FOLLOWER = competitors.BUILT_IN_KINDS[competitors.Follower]
_F = np.float32
_REGION_LOW, _REGION_HIGH = bounds(REGION_FEATURES)
_FIRM_LOW, _FIRM_HIGH = bounds(FIRM_FEATURES)
OBSERVATION_WIDTH = (len(REGION_FEATURES), len(FIRM_FEATURES))


def _parallel(batch: int, regions: int) -> bool:
    """Whether a pass over ``batch`` envs of ``regions`` regions runs on all cores."""
    return batch * regions >= PARALLEL_MIN_WORK


def compile_params_per_chunk(params: Params) -> tuple[CompiledParams, ...]:
    """One :func:`compile_params` per chunk of a parallel loop (a few per thread).

    Each chunk reads its own copy: threads sharing one would contend on its reference
    counts and run slower than one thread. Entry 0 serves the serial loops.
    """
    chunks = _CHUNKS_PER_THREAD * config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    return tuple(compile_params(params) for _ in range(chunks))


def compile_params(params: Params) -> CompiledParams:
    """``params`` for the compiled functions: integer fields as int, others as float or float64."""
    values: list[Any] = []
    for name in _PARAM_NAMES:
        spec, value = PARAM_FIELDS[name], getattr(params, name)
        if spec.metadata["shape"]:
            values.append(np.array(value, dtype=np.float64, order="C"))  # a copy of its own
        elif spec.metadata["integer"]:
            values.append(int(value))
        else:
            values.append(float(value))
    derived = _derived(
        np.asarray(params.market_growth, dtype=np.float64),
        np.asarray(params.regulatory_shock_rate, dtype=np.float64),
        np.asarray(params.geopolitical_risk, dtype=np.float64),
        int(params.horizon) + 2,
    )
    valued = _valuation_tables(
        np.asarray(params.market_potential, dtype=np.float64),
        np.asarray(params.market_growth, dtype=np.float64),
        np.asarray(params.initial_adoption, dtype=np.float64),
        np.asarray(params.bass_innovation, dtype=np.float64),
        np.asarray(params.bass_imitation, dtype=np.float64),
        float(params.discount_rate),
        int(params.valuation_quarters),
        int(params.horizon) + 2,
    )
    return _make_params((*values, *derived, *valued))


@njit(cache=True)
def _derived(
    growth: NDArray[np.float64],
    law_rate: NDArray[np.float64],
    risk: NDArray[np.float64],
    quarters: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The first values of :data:`_DERIVED_NAMES`, by the mechanisms' own functions."""
    table = np.empty((growth.shape[0], quarters))
    law_free, closing = np.empty_like(law_rate), np.empty_like(risk)
    for r in range(growth.shape[0]):
        for q in range(quarters):
            table[r, q] = diffusion.growth_factor(growth[r], np.float64(q))
        law_free[r] = np.exp(-law_rate[r])
        closing[r] = shocks.closure_probability(risk[r])
    return table, law_free, closing


@njit(cache=True)
def _valuation_tables(
    potential: NDArray[np.float64],
    growth: NDArray[np.float64],
    adoption: NDArray[np.float64],
    innovation: NDArray[np.float64],
    imitation: NDArray[np.float64],
    rate: float,
    window: int,
    quarters: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float, float]:
    """The valuation's values of :data:`_DERIVED_NAMES`: the adoption path as the state
    stores it (reset's float32 of ``initial_adoption``, then the step's float32 of each
    Bass step) and ``W_r(t)``, ``P_r(t)`` along it, by the valuation's own functions."""
    regions = potential.shape[0]
    path = np.empty((regions, quarters))
    demand_value, potential_value = np.empty((regions, quarters)), np.empty((regions, quarters))
    delta = valuation.quarterly_discount(rate)
    for r in range(regions):
        adopted = np.float64(np.float32(adoption[r]))
        for q in range(quarters):
            path[r, q] = adopted
            demand_value[r, q] = valuation.discounted_demand(
                potential[r], growth[r], np.float64(q), adopted, innovation[r], imitation[r],
                delta, window,
            )  # fmt: skip
            potential_value[r, q] = valuation.discounted_potential(
                potential[r], growth[r], np.float64(q), delta, window
            )
            adopted = np.float64(
                np.float32(diffusion.bass_adoption(adopted, innovation[r], imitation[r]))
            )
    return path, demand_value, potential_value, delta, valuation.annuity(delta, window)


@njit(cache=True)
def _make_params(values: Any) -> CompiledParams:
    return CompiledParams(*values)


@njit(cache=True)
def _ref(s: Any) -> StateRef:
    return StateRef(*s)


# ---------------------------------------------------------------------- shared pieces
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
def _firm_target(
    p: Any,
    s: Any,
    b: int,
    r: int,
    serving: bool,
    served_mode: int,
    utility: NDArray[np.float32],
) -> float:
    """The firm's target share in region ``r`` of state ``s``; ``utility`` (K,) becomes the
    competitors' targets.

    Utilities and their exponentials are float32 (``_F``), as the shares they make are
    stored: libm's float32 ``log``/``exp`` cost half their float64 forms.
    """
    sensitivity = _F(p.price_sensitivity[r])
    weights = (_F(p.quality_weight), _F(p.brand_weight), _F(p.localization_weight))
    firm_utility = _F(0.0)  # a firm not serving takes no share: its utility is not read
    if serving:
        quality = share.effective_quality(
            np.float64(s.product_quality[b]),
            np.float64(s.psychic_distance[b, r]),
            np.float64(s.localization[b, r]),
            p.foreign_quality_penalty,
        )
        firm_utility = share.attraction(
            _F(quality),
            s.brand[b, r],
            s.localization[b, r],
            _F(p.firm_price),
            sensitivity,
            weights[0],
            weights[1],
            weights[2],
        )
        firm_utility += s.market_fit[b, r]  # hidden fit (mechanisms.fit); 0 adds nothing
    for k in range(utility.shape[0]):
        utility[k] = share.attraction(
            s.competitor_quality[b, r, k],
            s.competitor_brand[b, r, k],
            _F(1.0),
            s.competitor_price[b, r, k],
            sensitivity,
            weights[0],
            weights[1],
            weights[2],
        )
    target = share.target_shares(
        firm_utility, serving, utility, s.competitor_active[b, r], _F(p.outside_utility)
    )
    ceiling = entry.share_ceiling(
        served_mode,
        p.share_ceiling[served_mode],
        p.data_localization[r],
        p.data_localization_pilot_ceiling,
    )
    return min(target, ceiling)


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
    p: Any, s: Any, b: int, r: int, demand_value: float, potential_value: float
) -> float:
    """The value ($M) of the firm's position in region ``r`` of ``s``, whose valuation terms
    (:func:`_valuation_terms`) are ``demand_value`` and ``potential_value``: its share of the
    discounted expected demand at its margin, less its mode's discounted operating cost;
    0 where it is absent."""
    mode = int(s.entry_mode[b, r])
    if mode == _NONE:
        return 0.0
    cut = p.partner_revenue_share if mode == _PARTNERSHIP else 0.0
    return valuation.position_value(
        np.float64(s.firm_share[b, r]),
        1.0 - p.variable_cost_rate - cut,
        np.float64(s.market_size[b, r]),
        demand_value,
        potential_value,
        p.operating_cost_fixed[mode],
        p.operating_cost_market[mode],
        p.valuation_annuity,
    )


# ---------------------------------------------------------------------- market fit
@njit(cache=True, inline="always")
def _draw_fit(p: Any, s: Any, b: int, r: int, key: int) -> None:
    """Hidden fit and prior belief of region ``r`` at reset (:mod:`lepton_env.mechanisms.fit`):
    ``phi = mu + sigma z`` with ``sigma = sigma_0 + sigma_D D_r``; home's fit is 0 and known."""
    mean, sd = (
        p.fit_prior_mean,
        fit.prior_sd(p.fit_prior_sd, p.fit_prior_sd_distance, np.float64(s.psychic_distance[b, r])),
    )
    if r == p.home_region:
        mean, sd = 0.0, 0.0
    hidden = mean
    if sd != 0.0:  # a known fit draws nothing
        regions = s.entry_mode.shape[1]
        stream = rng.stream_key(key, 0, Stream.MARKET_FIT)
        z = fit.standard_draw(
            rng.uniform_of(stream, r), rng.normal_of(stream, r, regions), p.fit_two_point != 0
        )
        hidden = mean + sd * z
    s.market_fit[b, r] = hidden
    s.fit_mean[b, r] = mean
    s.fit_variance[b, r] = sd * sd


@njit(cache=True, inline="always")
def _learn(
    p: Any,
    out: Any,
    o: int,
    key: int,
    quarter: int,
    precisions: NDArray[np.float64],
    served_regions: NDArray[np.int64],
) -> None:
    """Signals and experiential knowledge of a quarter, on the new state ``out`` (row ``o``):
    each served foreign region sends a signal of its mode's precision and the belief takes the
    normal-normal update; then every other served foreign region moves it closer and narrows
    its belief by their similarity (:mod:`lepton_env.mechanisms.fit`). A region's own signal
    comes first and spillover precisions add, so region order does not matter.

    ``precisions`` (R,) and ``served_regions`` (R,) are scratch: the served foreign regions'
    indices, in region order, go to the front of ``served_regions``."""
    regions = out.entry_mode.shape[1]
    spills = p.experience_precision_rate != 0.0 or p.experience_distance_rate != 0.0
    count = 0
    uncertain = False  # a served region whose fit is not known yet
    for j in range(regions):
        precisions[j] = 0.0 if j == p.home_region else _signal_precision(p, out, o, j)
        if precisions[j] != 0.0:
            served_regions[count] = j
            count += 1
            uncertain = uncertain or out.fit_variance[o, j] != 0.0
    if count == 0 or not (spills or uncertain):
        return  # no signal teaches anything and nothing spills: every belief stays
    stream = rng.stream_key(key, quarter, Stream.FIT_SIGNAL)
    for r in range(regions):
        if r == p.home_region or (precisions[r] == 0.0 and not spills):
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
                    similar = fit.similarity(p.psychic_distance[r], p.psychic_distance[j])
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


# ---------------------------------------------------------------------- reset
@njit(cache=True)
def _reset_env(p: Any, s: Any, b: int, utility: NDArray[np.float32]) -> None:
    regions = s.entry_mode.shape[1]
    slots = s.competitor_share.shape[2]
    candidates = s.partner_quality.shape[2]
    key = s.episode_key[b]
    s.quarter[b] = 0
    s.cash[b] = p.initial_cash
    s.product_quality[b] = p.initial_quality
    s.rnd_intensity[b] = p.initial_rnd
    s.unfunded_moves[b] = 0
    noise = p.trait_noise
    size_stream = rng.stream_key(key, 0, Stream.MARKET_SIZE_NOISE)
    distance_stream = rng.stream_key(key, 0, Stream.DISTANCE_NOISE)
    competitor_stream = rng.stream_key(key, 0, Stream.COMPETITOR_NOISE)
    quality_stream = rng.stream_key(key, 0, Stream.PARTNER_QUALITY)
    estimate_stream = rng.stream_key(key, 0, Stream.DILIGENCE_NOISE)
    for r in range(regions):
        home = r == p.home_region
        size, distance = 1.0, p.psychic_distance[r]
        if noise != 0.0:  # exp(0 z) is 1 for every draw: skip the draws
            size_z = rng.normal_of(size_stream, r, regions)
            size = np.exp(noise * size_z - 0.5 * noise**2)
            distance_z = rng.normal_of(distance_stream, r, regions)
            distance = min(max(distance * np.exp(noise * distance_z), 0.0), 1.0)
        s.market_size[b, r] = size
        s.psychic_distance[b, r] = distance
        _draw_fit(p, s, b, r, key)
        s.adoption[b, r] = p.initial_adoption[r]
        s.stringency[b, r] = p.initial_stringency[r]
        s.closed_quarters[b, r] = 0
        s.entry_mode[b, r] = _GREENFIELD if home else _NONE
        s.interim_mode[b, r] = 0
        s.build_quarters[b, r] = 0
        s.suspended_quarters[b, r] = 0
        s.brand[b, r] = p.home_brand if home else 0.0
        s.localization[b, r] = 1.0 if home else 0.0
        s.compliance[b, r] = 1.0 if home else p.initial_compliance
        s.diligence_rounds[b, r] = 0
        s.partner[b, r] = -1
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
            hidden = np.float32(
                partners.hidden_quality(
                    p.partner_quality_mean[r, c], p.partner_quality_spread, quality_z
                )
            )
            s.partner_quality[b, r, c] = hidden
            noise_z = rng.normal_of(estimate_stream, index, count)
            s.partner_estimate[b, r, c] = partners.estimate(
                np.float64(hidden), 0.0, p.diligence_noise, noise_z
            )
    # shares start at their targets; only the home greenfield serves at t=0
    revenue = 0.0
    for r in range(regions):
        mode = int(s.entry_mode[b, r])
        serving = mode > 0
        target = _firm_target(p, s, b, r, serving, mode, utility)
        s.firm_share[b, r] = target
        for k in range(slots):
            s.competitor_share[b, r, k] = utility[k]
        demand = _potential(p, s, b, r) * np.float64(s.adoption[b, r])
        revenue += finance.gross_revenue(np.float64(s.firm_share[b, r]), demand, serving)
    s.revenue[b] = revenue


@njit(cache=True)
def _reset_rows(p: Any, s: Any, start: int, stop: int) -> None:
    """Resets envs ``start`` to ``stop``; ``s`` is a StateTuple, made a reference here so
    that each caller (a chunk of a parallel loop) has references of its own."""
    s = _ref(s)
    utility = np.empty(s.competitor_share.shape[2], dtype=np.float32)
    for b in range(start, stop):
        _reset_env(p, s, b, utility)


@njit(cache=True)
def _reset_loop(p: Any, s: Any) -> None:
    _reset_rows(p, s, 0, s.quarter.shape[0])


@njit(cache=True, parallel=True)
def _reset_loop_parallel(ps: Any, s: Any) -> None:
    batch, chunks = s.quarter.shape[0], len(ps)
    for chunk in prange(chunks):
        start, stop = chunk * batch // chunks, (chunk + 1) * batch // chunks
        _reset_rows(ps[chunk], s, start, stop)


def reset(ps: tuple[CompiledParams, ...], s: Any) -> None:
    """Fill ``s`` (a :data:`StateTuple` with ``episode_key`` set) with initial states."""
    parallel = _parallel(s.quarter.shape[0], s.entry_mode.shape[1])
    if parallel:
        _reset_loop_parallel(ps, s)
    else:
        _reset_loop(ps[0], s)


# ---------------------------------------------------------------------- masks
@njit(cache=True)
def _region_masks(
    p: Any,
    s: Any,
    b: int,
    r: int,
    potential: float,
    demand_value: float,
    cost: NDArray[np.float64],
    ok: NDArray[np.bool_],
) -> None:
    """``cost`` ($M) and ``ok`` (changes the state and is affordable) of each move in region
    ``r`` of potential ``potential`` (:func:`_potential`) and discounted demand
    ``demand_value`` (:func:`_valuation_terms`), (NUM_MOVES,) each."""
    _region_costs(p, s, b, r, potential, demand_value, cost)
    _region_valid(p, s, b, r, cost, ok)


@njit(cache=True)
def _region_costs(
    p: Any,
    s: Any,
    b: int,
    r: int,
    potential: float,
    demand_value: float,
    cost: NDArray[np.float64],
) -> None:
    """``cost`` ($M) of each move in region ``r`` of potential ``potential`` and discounted
    demand ``demand_value``, (NUM_MOVES,)."""
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
    mode = int(s.entry_mode[b, r])
    cost[_EXIT_MOVE] = entry.exit_cost(
        p.exit_cost_fraction[mode], p.entry_cost_fixed[mode], p.entry_cost_market[mode], potential
    )
    cost[_MARKETING] = entry.entry_cost(p.marketing_cost_fixed, p.marketing_cost_market, potential)
    cost[_LOCALIZE] = entry.entry_cost(
        p.localization_cost_fixed, p.localization_cost_market, potential
    )
    cost[_COMPLY] = entry.entry_cost(p.compliance_cost_fixed, p.compliance_cost_market, potential)
    cost[_DILIGENCE] = p.diligence_cost


@njit(cache=True)
def _region_valid(
    p: Any, s: Any, b: int, r: int, cost: NDArray[np.float64], ok: NDArray[np.bool_]
) -> None:
    """``ok`` (changes the state and is affordable at ``cost``) of each move in region ``r``."""
    budget = s.cash[b] + p.credit_line
    mode = int(s.entry_mode[b, r])
    present = mode > 0
    foreign = r != p.home_region
    can_enter = foreign and s.closed_quarters[b, r] == 0 and s.suspended_quarters[b, r] == 0
    rank = _RANK[mode]
    any_active = False
    for k in range(s.competitor_active.shape[2]):
        any_active = any_active or s.competitor_active[b, r, k]
    ok[_HOLD] = True
    for move in (_PILOT, _PARTNERSHIP, _GREENFIELD):
        ok[move] = can_enter and _RANK[move] > rank
    ok[_ACQUISITION] = can_enter and _RANK[_ACQUISITION] > rank and any_active
    ok[_EXIT_MOVE] = present and foreign
    # a spend is valid only where a full budget moves the float32 stock: near 1 the
    # gap-closing step rounds away, and a zero rate or efficiency does nothing
    stock = np.float64(s.brand[b, r])
    ok[_MARKETING] = present and _f32(
        brand.nerlove_arrow(stock, 1.0, p.brand_efficiency, p.brand_decay)
    ) != _f32(brand.nerlove_arrow(stock, 0.0, p.brand_efficiency, p.brand_decay))
    local = np.float64(s.localization[b, r])
    ok[_LOCALIZE] = (
        present and _f32(localization.localize(local, 1.0, p.localization_rate)) != local
    )
    comply = np.float64(s.compliance[b, r])
    ok[_COMPLY] = present and _f32(compliance.invest(comply, 1.0, p.compliance_rate)) != comply
    ok[_DILIGENCE] = can_enter and mode <= _PILOT and s.diligence_rounds[b, r] < p.max_diligence
    for move in range(1, NUM_MOVES):
        ok[move] = ok[move] and cost[move] <= budget


@njit(cache=True)
def _masks_env(
    p: Any, s: Any, b: int, costs: NDArray[np.float64], valid: NDArray[np.bool_]
) -> None:
    for r in range(s.entry_mode.shape[1]):
        demand_value, _ = _valuation_terms(p, s, b, r)
        _region_masks(p, s, b, r, _potential(p, s, b, r), demand_value, costs[b, r], valid[b, r])


@njit(cache=True)
def _masks_rows(
    p: Any, s: Any, costs: NDArray[np.float64], valid: NDArray[np.bool_], start: int, stop: int
) -> None:
    s = _ref(s)  # per caller: threads never share a reference count
    for b in range(start, stop):
        _masks_env(p, s, b, costs, valid)


@njit(cache=True)
def _masks_loop(p: Any, s: Any, costs: NDArray[np.float64], valid: NDArray[np.bool_]) -> None:
    _masks_rows(p, s, costs, valid, 0, s.quarter.shape[0])


@njit(cache=True, parallel=True)
def _masks_loop_parallel(
    ps: Any, s: Any, costs: NDArray[np.float64], valid: NDArray[np.bool_]
) -> None:
    batch, chunks = s.quarter.shape[0], len(ps)
    for chunk in prange(chunks):
        start, stop = chunk * batch // chunks, (chunk + 1) * batch // chunks
        _masks_rows(ps[chunk], s, costs, valid, start, stop)


def masks(ps: tuple[CompiledParams, ...], s: Any) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """``($M each move would cost, whether it changes the state)``, (B, R, NUM_MOVES) each."""
    batch, regions = s.entry_mode.shape
    costs = np.empty((batch, regions, NUM_MOVES), dtype=np.float64)
    valid = np.empty((batch, regions, NUM_MOVES), dtype=np.bool_)
    parallel = _parallel(batch, regions)
    if parallel:
        _masks_loop_parallel(ps, s, costs, valid)
    else:
        _masks_loop(ps[0], s, costs, valid)
    return costs, valid


# ---------------------------------------------------------------------- observation
@njit(cache=True)
def _ratio(value: float, denominator: float) -> float:
    return value / denominator if denominator > 0 else 0.0


@njit(cache=True)
def _clipped(value: float, low: float, high: float) -> float:
    # maximum then minimum, as np.clip: a NaN stays NaN and shows up in the checks
    return value if value != value else min(max(value, low), high)


@njit(cache=True)
def encode_env(
    p: Any,
    s: Any,
    b: int,
    flat: NDArray[np.float32],
    row: int,
    column: NDArray[np.float64],
    potentials: NDArray[np.float64],
) -> None:
    """Row ``row`` of the flat observation (the table of :mod:`lepton_env.features`): env
    ``b`` of ``s``, clipped to its bounds; ``column`` is (F_region,) scratch, ``potentials``
    (R,) env ``b``'s :func:`_potential` of each region."""
    regions = s.entry_mode.shape[1]
    width = _REGION_LOW.shape[0]
    home_potential = max(p.market_potential[p.home_region], 1e-9)
    revenue_total = 0.0
    present = 0
    for r in range(regions):
        mode = int(s.entry_mode[b, r])
        present += mode > 0
        served = entry.serving_mode(mode, s.interim_mode[b, r], s.build_quarters[b, r])
        serving = served > 0 and s.closed_quarters[b, r] == 0
        serving = serving and s.suspended_quarters[b, r] == 0
        potential = potentials[r]
        demand = potential * np.float64(s.adoption[b, r])
        cut = p.partner_revenue_share if served == _PARTNERSHIP else 0.0
        revenue = finance.gross_revenue(np.float64(s.firm_share[b, r]), demand, serving)
        revenue *= 1.0 - cut
        revenue_total += revenue
        rival_total = rival_top = rival_brand = 0.0
        for k in range(s.competitor_share.shape[2]):
            rival_total += s.competitor_share[b, r, k]
            rival_top = max(rival_top, np.float64(s.competitor_share[b, r, k]))
            if s.competitor_active[b, r, k]:
                rival_brand = max(rival_brand, np.float64(s.competitor_brand[b, r, k]))
        best_partner = -np.inf
        for c in range(s.partner_estimate.shape[2]):
            best_partner = max(best_partner, np.float64(s.partner_estimate[b, r, c]))
        for m in range(NUM_MODES):
            column[m] = 1.0 if mode == m else 0.0
        column[NUM_MODES] = 1.0 if serving else 0.0
        column[NUM_MODES + 1] = _ratio(s.build_quarters[b, r], p.greenfield_build_quarters)
        column[NUM_MODES + 2] = s.firm_share[b, r]
        column[NUM_MODES + 3] = rival_total
        column[NUM_MODES + 4] = rival_top
        column[NUM_MODES + 5] = s.adoption[b, r]
        column[NUM_MODES + 6] = np.log(max(potential, 1e-9) / home_potential) / 2.0
        column[NUM_MODES + 7] = p.market_growth[r]
        column[NUM_MODES + 8] = s.psychic_distance[b, r]
        column[NUM_MODES + 9] = s.stringency[b, r]
        column[NUM_MODES + 10] = s.compliance[b, r]
        column[NUM_MODES + 11] = s.localization[b, r]
        column[NUM_MODES + 12] = s.brand[b, r] / 5.0
        column[NUM_MODES + 13] = rival_brand / 5.0
        column[NUM_MODES + 14] = _ratio(s.suspended_quarters[b, r], p.suspension_quarters)
        column[NUM_MODES + 15] = _ratio(s.closed_quarters[b, r], p.closure_quarters)
        column[NUM_MODES + 16] = p.data_localization[r]
        column[NUM_MODES + 17] = p.geopolitical_risk[r] * 10.0
        column[NUM_MODES + 18] = p.fdi_screening[r]
        column[NUM_MODES + 19] = _ratio(s.diligence_rounds[b, r], p.max_diligence)
        column[NUM_MODES + 20] = best_partner
        column[NUM_MODES + 21] = revenue / p.reward_scale
        column[NUM_MODES + 22] = s.fit_mean[b, r]  # the belief, never the hidden fit
        column[NUM_MODES + 23] = np.sqrt(np.float64(s.fit_variance[b, r]))
        for f in range(width):
            flat[row, r * width + f] = _clipped(column[f], _REGION_LOW[f], _REGION_HIGH[f])
    cash = s.cash[b]
    firm = regions * width
    values = (
        np.arcsinh(cash / p.reward_scale) / 2.0,
        (cash + p.credit_line) / max(p.initial_cash + p.credit_line, 1e-9),
        np.float64(s.product_quality[b]),
        np.float64(s.rnd_intensity[b]),
        s.quarter[b] / p.horizon,
        np.arcsinh(revenue_total / p.reward_scale) / 2.0,
        present / regions,
        s.unfunded_moves[b] / regions,
    )
    for f in range(len(values)):
        flat[row, firm + f] = _clipped(values[f], _FIRM_LOW[f], _FIRM_HIGH[f])


@njit(cache=True)
def _encode_rows(p: Any, s: Any, flat: NDArray[np.float32], start: int, stop: int) -> None:
    column, potentials = np.empty(_REGION_LOW.shape[0]), np.empty(s.entry_mode.shape[1])
    for b in range(start, stop):
        for r in range(s.entry_mode.shape[1]):
            potentials[r] = _potential(p, s, b, r)
        encode_env(p, s, b, flat, b, column, potentials)


@njit(cache=True)
def _encode_loop(p: Any, s: Any, flat: NDArray[np.float32]) -> None:
    _encode_rows(p, _ref(s), flat, 0, s.quarter.shape[0])


@njit(cache=True, parallel=True)
def _encode_loop_parallel(ps: Any, s: Any, flat: NDArray[np.float32]) -> None:
    batch, chunks = s.quarter.shape[0], len(ps)
    for chunk in prange(chunks):
        # per chunk: threads never share a reference count
        start, stop = chunk * batch // chunks, (chunk + 1) * batch // chunks
        _encode_rows(ps[chunk], _ref(s), flat, start, stop)


def encode(ps: tuple[CompiledParams, ...], s: Any, flat: NDArray[np.float32]) -> None:
    """Write the flat observations of every env into ``flat`` (B, R * F_region + F_firm)."""
    parallel = _parallel(s.quarter.shape[0], s.entry_mode.shape[1])
    if parallel:
        _encode_loop_parallel(ps, s, flat)
    else:
        _encode_loop(ps[0], s, flat)


# ---------------------------------------------------------------------- resets in place
@njit(cache=True)
def _restart_env(
    p: Any,
    s: Any,
    b: int,
    key: np.uint64,
    valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
    scratch: Any,
) -> None:
    utility, column, cost, _, potentials, _, _ = scratch
    s.episode_key[b] = key
    _reset_env(p, s, b, utility)
    for r in range(s.entry_mode.shape[1]):
        potentials[r] = _potential(p, s, b, r)
        demand_value, _ = _valuation_terms(p, s, b, r)
        _region_masks(p, s, b, r, potentials[r], demand_value, cost, valid[b, r])
    encode_env(p, s, b, observation, b, column, potentials)


@njit(cache=True)
def _restart_rows(
    p: Any,
    s: Any,
    rows: NDArray[np.int64],
    keys: NDArray[np.uint64],
    valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
    start: int,
    stop: int,
) -> None:
    s = _ref(s)  # per caller: threads never share a reference count
    scratch = _scratch(s)
    for i in range(start, stop):
        _restart_env(p, s, rows[i], keys[i], valid, observation, scratch)


@njit(cache=True)
def _restart_loop(
    p: Any,
    s: Any,
    rows: NDArray[np.int64],
    keys: NDArray[np.uint64],
    valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
) -> None:
    _restart_rows(p, s, rows, keys, valid, observation, 0, rows.shape[0])


@njit(cache=True, parallel=True)
def _restart_loop_parallel(
    ps: Any,
    s: Any,
    rows: NDArray[np.int64],
    keys: NDArray[np.uint64],
    valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
) -> None:
    count, chunks = rows.shape[0], len(ps)
    for chunk in prange(chunks):
        start, stop = chunk * count // chunks, (chunk + 1) * count // chunks
        _restart_rows(ps[chunk], s, rows, keys, valid, observation, start, stop)


def restart(
    ps: tuple[CompiledParams, ...],
    s: Any,
    rows: NDArray[np.int64],
    keys: NDArray[np.uint64],
    valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
) -> None:
    """Start new episodes with ``keys`` in ``rows`` of ``s``, in place, with their valid
    moves and observations (the autoreset of the vector faces, in one pass)."""
    if _parallel(rows.shape[0], s.entry_mode.shape[1]):
        _restart_loop_parallel(ps, s, rows, keys, valid, observation)
    else:
        _restart_loop(ps[0], s, rows, keys, valid, observation)


# ---------------------------------------------------------------------- step
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


@njit(cache=True)
def _step_env(
    p: Any,
    s: Any,
    b: int,
    moves: NDArray[np.int8],
    marketing: NDArray[np.float32],
    localization_intent: NDArray[np.float32],
    compliance_intent: NDArray[np.float32],
    rnd_action: NDArray[np.float32],
    kinds: NDArray[np.int8],
    reacted: NDArray[np.float32],
    out: Any,
    o: int,
    money: NDArray[np.float64],
    counts: NDArray[np.int64],
    by_mode: NDArray[np.int64],
    next_valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
    scratch: Any,
    known: bool,
) -> None:
    utility, column, cost, ok, potentials, precisions, served_regions = scratch
    regions = s.entry_mode.shape[1]
    slots = s.competitor_share.shape[2]
    candidates = s.partner_quality.shape[2]
    key, quarter = s.episode_key[b], s.quarter[b]
    out.quarter[o] = quarter + 1

    # R&D is global: chosen intensity, spend, and quality against the frontier
    chosen_rnd = rnd_action[b]
    rnd_intensity = s.rnd_intensity[b] if np.isnan(chosen_rnd) else min(max(chosen_rnd, 0.0), 1.0)
    out.rnd_intensity[o] = rnd_intensity
    rnd_spend = np.float64(out.rnd_intensity[o]) * p.rnd_max_budget
    out.product_quality[o] = rnd.rnd_quality(
        np.float64(s.product_quality[b]), rnd_spend, p.rnd_efficiency, p.rnd_scale, p.obsolescence
    )

    law_stream = rng.stream_key(key, quarter, Stream.REGULATORY_SHOCK)
    closure_stream = rng.stream_key(key, quarter, Stream.GEOPOLITICAL_SHOCK)
    enforcement_stream = rng.stream_key(key, quarter, Stream.ENFORCEMENT)
    budget = s.cash[b] + p.credit_line
    committed = 0.0
    gross_total = net_total = potential_total = 0.0
    cost_of_revenue = operating = entry_spend = exit_spend = spend_total = fines = 0.0
    for c in range(len(MONEY_KPIS)):
        money[c, b] = 0.0
    for c in range(len(COUNT_KPIS)):
        counts[c, b] = 0
    for m in range(NUM_MODES):
        by_mode[b, m] = 0
    previous_value = 0.0
    for r in range(regions):
        potential = _potential(p, s, b, r)
        demand_value, potential_value = _valuation_terms(p, s, b, r)
        previous_value += _position_value(p, s, b, r, demand_value, potential_value)
        _region_costs(p, s, b, r, potential, demand_value, cost)
        if known:  # the masks of ``s``, which this env's row is overwritten with below
            for move in range(NUM_MOVES):
                ok[move] = next_valid[b, r, move]
        else:
            _region_valid(p, s, b, r, cost, ok)
        mode0 = int(s.entry_mode[b, r])
        present = mode0 > 0

        # (1) validity and funding in region order
        move = int(moves[b, r])
        chosen_valid = ok[move]
        spend_marketing = spend_localization = spend_compliance = 0.0
        if present:
            spend_marketing = min(max(np.float64(marketing[b, r]), 0.0), 1.0)
            spend_localization = min(max(np.float64(localization_intent[b, r]), 0.0), 1.0)
            spend_compliance = min(max(np.float64(compliance_intent[b, r]), 0.0), 1.0)
        is_spend = move == _MARKETING or move == _LOCALIZE or move == _COMPLY
        if chosen_valid and move == _MARKETING:
            spend_marketing = 1.0
        elif chosen_valid and move == _LOCALIZE:
            spend_localization = 1.0
        elif chosen_valid and move == _COMPLY:
            spend_compliance = 1.0
        region_cost = cost[move] if chosen_valid and not is_spend else 0.0
        region_cost += (
            spend_marketing * cost[_MARKETING]
            + spend_localization * cost[_LOCALIZE]
            + spend_compliance * cost[_COMPLY]
        )
        committed += region_cost
        funded = committed <= budget
        accepted = chosen_valid and funded
        if move != _HOLD and not chosen_valid:
            counts[_INVALID, b] += 1
        elif not funded and (move != _HOLD or region_cost > 0.0):
            # allowed by the per-region mask, refused by the joint budget: not an invalid move
            counts[_UNFUNDED, b] += 1
        if not accepted:
            move = _HOLD
        if not funded:
            spend_marketing = spend_localization = spend_compliance = 0.0
        spend_total += (
            spend_marketing * cost[_MARKETING]
            + spend_localization * cost[_LOCALIZE]
            + spend_compliance * cost[_COMPLY]
        )

        # (2) entries, upgrades, exits, diligence
        mode = mode0
        interim = int(s.interim_mode[b, r])
        build0 = int(s.build_quarters[b, r])
        build = max(build0 - 1, 0)
        opened = build0 > 0 and build == 0
        if opened:
            interim = 0
        held_partner = int(s.partner[b, r])
        if opened and mode == _GREENFIELD:
            held_partner = -1
        firm_share: float = np.float64(s.firm_share[b, r])
        brand_stock: float = np.float64(s.brand[b, r])
        local: float = np.float64(s.localization[b, r])
        for k in range(slots):
            out.competitor_share[o, r, k] = s.competitor_share[b, r, k]
            out.competitor_active[o, r, k] = s.competitor_active[b, r, k]

        entering = move >= _PILOT and move <= _GREENFIELD
        if entering and move != _ACQUISITION:
            entry_spend += cost[move]
        to_greenfield = move == _GREENFIELD
        if to_greenfield:
            interim = mode
            build = p.greenfield_build_quarters
            if build == 0:
                interim = 0
        if move == _PARTNERSHIP:
            chosen = partners.choose_partner(s.partner_estimate[b, r])
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
            approve_u = rng.uniform_at(key, quarter, Stream.ACQUISITION_APPROVAL, r)
            probability = entry.approval_probability(
                np.float64(s.stringency[b, r]), p.fdi_screening[r]
            )
            approved = approve_u < probability
            if approved:
                entry_spend += cost[_ACQUISITION]
                target = entry.acquisition_target(
                    s.competitor_share[b, r], s.competitor_active[b, r]
                )
                firm_share = _f32(firm_share + np.float64(s.competitor_share[b, r, target]))
                transferred = p.acquisition_brand_transfer * np.float64(
                    s.competitor_brand[b, r, target]
                )
                brand_stock = max(brand_stock, _f32(transferred))
                local = 1.0
                out.competitor_share[o, r, target] = 0.0
                out.competitor_active[o, r, target] = False
            else:
                entry_spend += p.acquisition_filing_fee * cost[_ACQUISITION]
                counts[_VETOED, b] += 1
        succeeded = (entering and move != _ACQUISITION) or approved
        if approved or (to_greenfield and interim != _PARTNERSHIP):
            held_partner = -1
        if succeeded:
            mode = move
            by_mode[b, move] += 1
            counts[_ENTRIES, b] += 1

        if move == _EXIT_MOVE:
            exit_spend += cost[_EXIT_MOVE]
            mode = interim = build = 0
            held_partner = -1
            firm_share = 0.0
            counts[_EXITS, b] += 1

        rounds = int(s.diligence_rounds[b, r])
        diligent = move == _DILIGENCE
        if diligent:
            rounds += 1
            entry_spend += cost[_DILIGENCE]
        out.diligence_rounds[o, r] = rounds
        for c in range(candidates):
            if diligent:
                z = rng.normal_at(
                    key, quarter, Stream.DILIGENCE_NOISE, r * candidates + c, regions * candidates
                )
                out.partner_estimate[o, r, c] = partners.estimate(
                    np.float64(s.partner_quality[b, r, c]), rounds, p.diligence_noise, z
                )
            else:
                out.partner_estimate[o, r, c] = s.partner_estimate[b, r, c]

        # (3) spends
        out.brand[o, r] = brand.nerlove_arrow(
            brand_stock, spend_marketing, p.brand_efficiency, p.brand_decay
        )
        out.localization[o, r] = localization.localize(
            local, spend_localization, p.localization_rate
        )
        comply = _f32(
            compliance.invest(np.float64(s.compliance[b, r]), spend_compliance, p.compliance_rate)
        )

        # (4) shocks
        stringency0 = np.float64(s.stringency[b, r])
        laws = rng.poisson_small_given(
            rng.uniform_of(law_stream, r),
            p.regulatory_shock_rate[r],
            p.law_free_probability[r],
        )
        counts[_LAWS, b] += laws
        out.stringency[o, r] = shocks.tighten(
            stringency0, p.stringency_drift[r], laws, p.regulatory_shock_size[r]
        )
        stringency = np.float64(out.stringency[o, r])
        out.compliance[o, r] = compliance.erode(
            comply, stringency0, stringency, p.compliance_erosion
        )
        closed0 = int(s.closed_quarters[b, r])
        closing = shocks.closes(
            closed0, p.closure_probability[r], rng.uniform_of(closure_stream, r)
        )
        out.closed_quarters[o, r] = shocks.quarters_closed(closed0, closing, p.closure_quarters)
        if closing:
            counts[_CLOSURES, b] += 1
        suspended0 = int(s.suspended_quarters[b, r])
        suspended = max(suspended0 - 1, 0)

        # (5) competitors react to the entrant's position at the start of the quarter;
        # incumbents react to the firm as an entrant, not to its home business
        entrant_share = np.float64(s.firm_share[b, r]) if r != p.home_region else 0.0
        for k in range(slots):
            kind = kinds[r, k]
            if kind == competitors.CUSTOM_KIND:
                quality, rival_brand, price = (
                    reacted[0, b, r, k],
                    reacted[1, b, r, k],
                    reacted[2, b, r, k],
                )
            else:
                quality, rival_brand, price = _react(
                    p,
                    kind,
                    np.float64(s.competitor_quality[b, r, k]),
                    np.float64(s.competitor_brand[b, r, k]),
                    np.float64(s.competitor_price[b, r, k]),
                    entrant_share,
                    np.float64(s.brand[b, r]),
                )
            out.competitor_quality[o, r, k] = quality
            out.competitor_brand[o, r, k] = rival_brand
            out.competitor_price[o, r, k] = price

        # (6) diffusion and shares; a closure idles the quarter it strikes and the
        # `closed_quarters` counted at its start, so the observation's count is exactly
        # the quarters still lost
        out.adoption[o, r] = diffusion.bass_adoption(
            np.float64(s.adoption[b, r]), p.bass_innovation[r], p.bass_imitation[r]
        )
        served = entry.serving_mode(mode, interim, build)
        serving = served > 0 and closed0 == 0 and not closing and suspended0 == 0
        out.psychic_distance[o, r] = s.psychic_distance[b, r]
        out.market_fit[o, r] = s.market_fit[b, r]
        out.fit_mean[o, r] = s.fit_mean[b, r]
        out.fit_variance[o, r] = s.fit_variance[b, r]
        firm_target = _firm_target(p, out, o, r, serving, served, utility)
        firm_share = _f32(share.adjust_shares(firm_share, firm_target, p.share_adjustment))
        for k in range(slots):
            out.competitor_share[o, r, k] = share.adjust_shares(
                np.float64(out.competitor_share[o, r, k]), utility[k], p.share_adjustment
            )

        # (7) settlement
        demand = potential * np.float64(out.adoption[o, r])
        gross = finance.gross_revenue(firm_share, demand, serving)
        cut = p.partner_revenue_share if served == _PARTNERSHIP else 0.0
        net = gross * (1.0 - cut)
        hazard = 0.0
        if serving:
            hazard = compliance.enforcement_probability(
                stringency,
                np.float64(out.compliance[o, r]),
                p.enforcement_base_hazard,
                p.enforcement_gap_hazard,
            )
        if serving and rng.uniform_of(enforcement_stream, r) < hazard:
            counts[_EVENTS, b] += 1
            fines += compliance.fine(4.0 * gross, p.fine_rate)
            severe = (
                rng.uniform_at(key, quarter, Stream.ENFORCEMENT_SEVERITY, r) < p.severe_probability
            )
            if severe:
                suspended = p.suspension_quarters
                counts[_SUSPENSIONS, b] += 1
        out.suspended_quarters[o, r] = suspended

        if serving and served == _PARTNERSHIP:
            held = np.float64(s.partner_quality[b, r, max(held_partner, 0)])
            failure = partners.failure_probability(held, p.partner_failure_rate)
            if rng.uniform_at(key, quarter, Stream.PARTNER_FAILURE, r) < failure:
                counts[_FAILURES, b] += 1
                if mode == _PARTNERSHIP:
                    mode = _NONE
                if interim == _PARTNERSHIP:
                    interim = 0
                held_partner = -1
                firm_share = 0.0
        out.entry_mode[o, r] = mode
        out.interim_mode[o, r] = interim
        out.build_quarters[o, r] = build
        out.partner[o, r] = held_partner
        out.firm_share[o, r] = firm_share
        out.market_size[o, r] = s.market_size[b, r]
        if mode > 0:
            counts[_PRESENT, b] += 1
        operating += entry.entry_cost(
            p.operating_cost_fixed[mode], p.operating_cost_market[mode], potential
        )
        cost_of_revenue += p.variable_cost_rate * gross
        gross_total += gross
        net_total += net
        potential_total += potential
        for c in range(candidates):
            out.partner_quality[o, r, c] = s.partner_quality[b, r, c]

    _learn(p, out, o, key, quarter, precisions, served_regions)
    total_cost = (
        cost_of_revenue + operating + entry_spend + exit_spend + spend_total + rnd_spend + fines
    ) + p.overhead
    profit = net_total - total_cost
    cash = s.cash[b] + profit
    out.episode_key[o] = key
    out.cash[o] = cash
    out.revenue[o] = net_total
    out.unfunded_moves[o] = counts[_UNFUNDED, b]
    money[_REVENUE, b] = net_total
    money[_GROSS, b] = gross_total
    money[_PROFIT, b] = profit
    money[_CASH, b] = cash
    money[_COST_OF_REVENUE, b] = cost_of_revenue
    money[_OPERATING, b] = operating
    money[_ENTRY, b] = entry_spend
    money[_EXIT, b] = exit_spend
    money[_SPEND, b] = spend_total
    money[_RND, b] = rnd_spend
    money[_FINES, b] = fines
    money[_OVERHEAD, b] = p.overhead
    money[_POTENTIAL, b] = potential_total
    money[_PREVIOUS_FIRM_VALUE, b] = previous_value
    # what the faces need of the new state, while its row is in cache
    firm_value = 0.0
    for r in range(regions):
        demand_value, potential_value = _valuation_terms(p, out, o, r)
        firm_value += _position_value(p, out, o, r, demand_value, potential_value)
        potentials[r] = _potential(p, out, o, r)
        _region_masks(p, out, o, r, potentials[r], demand_value, cost, next_valid[b, r])
    money[_FIRM_VALUE, b] = firm_value
    encode_env(p, out, o, observation, b, column, potentials)


@njit(cache=True)
def _scratch(s: Any) -> Any:
    """Per-thread work rows: competitor utilities, observation columns, move costs and
    masks, the potentials of the regions, their fit-signal precisions and the served ones."""
    return (
        np.empty(s.competitor_share.shape[2], dtype=np.float32),
        np.empty(_REGION_LOW.shape[0]),
        np.empty(NUM_MOVES),
        np.empty(NUM_MOVES, dtype=np.bool_),
        np.empty(s.entry_mode.shape[1]),
        np.empty(s.entry_mode.shape[1]),
        np.empty(s.entry_mode.shape[1], dtype=np.int64),
    )


@njit(cache=True)
def _step_rows(
    p: Any, s: Any, action: Any, personas: Any, out: Any, results: Any, start: int, stop: int
) -> None:
    """Steps envs ``start`` to ``stop`` of ``s`` into the same rows of ``out``; ``s`` and
    ``out`` are StateTuples, made references here so that each caller (a chunk of a
    parallel loop) has references of its own."""
    s, out = _ref(s), _ref(out)
    scratch = _scratch(s)
    moves, marketing, localization_intent, compliance_intent, rnd_action = action
    kinds, reacted = personas
    money, counts, by_mode, next_valid, observation = results
    for b in range(start, stop):
        _step_env(
            p, s, b, moves, marketing, localization_intent, compliance_intent, rnd_action,
            kinds, reacted, out, b, money, counts, by_mode, next_valid, observation, scratch,
            False,
        )  # fmt: skip


@njit(cache=True)
def _step_rows_in_place(
    p: Any,
    s: Any,
    action: Any,
    personas: Any,
    frozen: NDArray[np.bool_],
    results: Any,
    known: bool,
    start: int,
    stop: int,
) -> None:
    """Steps envs ``start`` to ``stop`` of ``s`` in place, except ``frozen`` ones: each env's
    new state is built in a work row of this caller's own (rows of different threads would
    share cache lines), then copied over its old one. ``known``: the valid-move output
    holds the masks of ``s`` on entry."""
    s = _ref(s)
    row = _one_row(s)
    scratch = _scratch(s)
    moves, marketing, localization_intent, compliance_intent, rnd_action = action
    kinds, reacted = personas
    money, counts, by_mode, next_valid, observation = results
    for b in range(start, stop):
        if frozen[b]:
            _zero_kpis(money, counts, by_mode, b)
            continue
        _step_env(
            p, s, b, moves, marketing, localization_intent, compliance_intent, rnd_action,
            kinds, reacted, row, 0, money, counts, by_mode, next_valid, observation, scratch,
            known,
        )  # fmt: skip
        _copy_row(row, 0, s, b)


@njit(cache=True)
def _zero_kpis(
    money: NDArray[np.float64], counts: NDArray[np.int64], by_mode: NDArray[np.int64], b: int
) -> None:
    """The KPIs of env ``b`` when it does not step: all zero."""
    for c in range(money.shape[0]):
        money[c, b] = 0.0
    for c in range(counts.shape[0]):
        counts[c, b] = 0
    for m in range(by_mode.shape[1]):
        by_mode[b, m] = 0


@njit(cache=True)
def _one_row(s: Any) -> Any:
    """A state of one env with the fields and sizes of ``s``: a chunk's own work row."""
    return StateRef(
        np.empty_like(s.episode_key[:1]),
        np.empty_like(s.quarter[:1]),
        np.empty_like(s.cash[:1]),
        np.empty_like(s.revenue[:1]),
        np.empty_like(s.product_quality[:1]),
        np.empty_like(s.rnd_intensity[:1]),
        np.empty_like(s.market_size[:1]),
        np.empty_like(s.psychic_distance[:1]),
        np.empty_like(s.market_fit[:1]),
        np.empty_like(s.fit_mean[:1]),
        np.empty_like(s.fit_variance[:1]),
        np.empty_like(s.adoption[:1]),
        np.empty_like(s.stringency[:1]),
        np.empty_like(s.closed_quarters[:1]),
        np.empty_like(s.entry_mode[:1]),
        np.empty_like(s.interim_mode[:1]),
        np.empty_like(s.build_quarters[:1]),
        np.empty_like(s.suspended_quarters[:1]),
        np.empty_like(s.firm_share[:1]),
        np.empty_like(s.brand[:1]),
        np.empty_like(s.localization[:1]),
        np.empty_like(s.compliance[:1]),
        np.empty_like(s.diligence_rounds[:1]),
        np.empty_like(s.partner[:1]),
        np.empty_like(s.partner_quality[:1]),
        np.empty_like(s.partner_estimate[:1]),
        np.empty_like(s.competitor_active[:1]),
        np.empty_like(s.competitor_share[:1]),
        np.empty_like(s.competitor_quality[:1]),
        np.empty_like(s.competitor_brand[:1]),
        np.empty_like(s.competitor_price[:1]),
        np.empty_like(s.unfunded_moves[:1]),
    )


@njit(cache=True)
def _copy_row(src: Any, i: int, dst: Any, j: int) -> None:
    """Env ``i`` of state ``src`` into env ``j`` of ``dst``: every field of :data:`STATE_FIELDS`."""
    dst.episode_key[j] = src.episode_key[i]
    dst.quarter[j] = src.quarter[i]
    dst.cash[j] = src.cash[i]
    dst.revenue[j] = src.revenue[i]
    dst.product_quality[j] = src.product_quality[i]
    dst.rnd_intensity[j] = src.rnd_intensity[i]
    dst.unfunded_moves[j] = src.unfunded_moves[i]
    for r in range(src.entry_mode.shape[1]):
        dst.market_size[j, r] = src.market_size[i, r]
        dst.psychic_distance[j, r] = src.psychic_distance[i, r]
        dst.market_fit[j, r] = src.market_fit[i, r]
        dst.fit_mean[j, r] = src.fit_mean[i, r]
        dst.fit_variance[j, r] = src.fit_variance[i, r]
        dst.adoption[j, r] = src.adoption[i, r]
        dst.stringency[j, r] = src.stringency[i, r]
        dst.closed_quarters[j, r] = src.closed_quarters[i, r]
        dst.entry_mode[j, r] = src.entry_mode[i, r]
        dst.interim_mode[j, r] = src.interim_mode[i, r]
        dst.build_quarters[j, r] = src.build_quarters[i, r]
        dst.suspended_quarters[j, r] = src.suspended_quarters[i, r]
        dst.firm_share[j, r] = src.firm_share[i, r]
        dst.brand[j, r] = src.brand[i, r]
        dst.localization[j, r] = src.localization[i, r]
        dst.compliance[j, r] = src.compliance[i, r]
        dst.diligence_rounds[j, r] = src.diligence_rounds[i, r]
        dst.partner[j, r] = src.partner[i, r]
        for c in range(src.partner_quality.shape[2]):
            dst.partner_quality[j, r, c] = src.partner_quality[i, r, c]
            dst.partner_estimate[j, r, c] = src.partner_estimate[i, r, c]
        for k in range(src.competitor_share.shape[2]):
            dst.competitor_active[j, r, k] = src.competitor_active[i, r, k]
            dst.competitor_share[j, r, k] = src.competitor_share[i, r, k]
            dst.competitor_quality[j, r, k] = src.competitor_quality[i, r, k]
            dst.competitor_brand[j, r, k] = src.competitor_brand[i, r, k]
            dst.competitor_price[j, r, k] = src.competitor_price[i, r, k]


@njit(cache=True)
def _step_loop(p: Any, s: Any, action: Any, personas: Any, out: Any, results: Any) -> None:
    _step_rows(p, s, action, personas, out, results, 0, s.quarter.shape[0])


@njit(cache=True, parallel=True)
def _step_loop_parallel(
    ps: Any, s: Any, action: Any, personas: Any, out: Any, results: Any
) -> None:
    batch, chunks = s.quarter.shape[0], len(ps)
    for chunk in prange(chunks):
        start, stop = chunk * batch // chunks, (chunk + 1) * batch // chunks
        _step_rows(ps[chunk], s, action, personas, out, results, start, stop)


@njit(cache=True)
def _step_in_place_loop(
    p: Any,
    s: Any,
    action: Any,
    personas: Any,
    frozen: NDArray[np.bool_],
    results: Any,
    known: bool,
) -> None:
    _step_rows_in_place(p, s, action, personas, frozen, results, known, 0, s.quarter.shape[0])


@njit(cache=True, parallel=True)
def _step_in_place_loop_parallel(
    ps: Any,
    s: Any,
    action: Any,
    personas: Any,
    frozen: NDArray[np.bool_],
    results: Any,
    known: bool,
) -> None:
    batch, chunks = s.quarter.shape[0], len(ps)
    for chunk in prange(chunks):
        start, stop = chunk * batch // chunks, (chunk + 1) * batch // chunks
        _step_rows_in_place(ps[chunk], s, action, personas, frozen, results, known, start, stop)


def empty_state(batch: int, regions: int, slots: int, candidates: int) -> Any:
    """An uninitialized :data:`StateTuple` of the given sizes, in the State dtypes."""
    shapes = {"": (batch,), "R": (batch, regions), "K": (batch, regions, slots)}
    shapes["P"] = (batch, regions, candidates)
    return StateTuple(*[np.empty(shapes[axes], dtype) for axes, dtype in _LAYOUT])


@dataclass(frozen=True)
class Quarter:
    """What :func:`step` returns: the new state, its KPIs, and the new state's masks and
    observation (computed in the same pass)."""

    state: Any  # StateTuple
    money: NDArray[np.float64]  # (len(MONEY_KPIS), B)
    counts: NDArray[np.int64]  # (len(COUNT_KPIS), B)
    entries_by_mode: NDArray[np.int64]  # (B, NUM_MODES)
    valid: NDArray[np.bool_]  # (B, R, NUM_MOVES) valid moves of the new state
    observation: NDArray[np.float32]  # (B, R * F_region + F_firm) of the new state


def step(
    ps: tuple[CompiledParams, ...],
    s: Any,
    moves: NDArray[np.int8],
    marketing: NDArray[np.float32],
    localization_intent: NDArray[np.float32],
    compliance_intent: NDArray[np.float32],
    rnd_action: NDArray[np.float32],
    kinds: NDArray[np.int8],
    reacted: NDArray[np.float32],
    *,
    in_place: bool = False,
    valid: NDArray[np.bool_] | None = None,
    observation: NDArray[np.float32] | None = None,
    frozen: NDArray[np.bool_] | None = None,
) -> Quarter:
    """One quarter of every env.

    ``marketing``, ``localization_intent`` and ``compliance_intent`` are (B, R)
    intensities, ``rnd_action`` (B,) (NaN keeps the current one); moves are
    checked against the masks of ``s`` (:func:`masks`), computed again here
    region by region. ``reacted`` is (3, B, R, K) quality, brand
    and price after the Python personas (``kinds == CUSTOM_KIND``); it may be
    empty when there are none.

    ``in_place`` writes the new state over ``s`` (then ``Quarter.state`` is ``s``), and
    ``valid`` / ``observation``, when given, receive the new state's valid moves and
    observation: a caller that owns these arrays steps without allocating a state. A
    ``valid`` given to an in-place step must hold the valid moves of ``s`` (as the previous
    step or :func:`masks` left them): they are read, not recomputed.
    ``frozen`` (B,) rows of an in-place step are left as they are, their KPIs zero and their
    ``valid`` / ``observation`` rows unwritten (rows the caller is about to reset).
    """
    batch, regions, slots = s.competitor_share.shape
    candidates = s.partner_quality.shape[2]
    money = np.empty((len(MONEY_KPIS), batch), dtype=np.float64)
    counts = np.empty((len(COUNT_KPIS), batch), dtype=np.int64)
    by_mode = np.empty((batch, NUM_MODES), dtype=np.int64)
    known = in_place and valid is not None
    if valid is None:
        valid = np.empty((batch, regions, NUM_MOVES), dtype=np.bool_)
    if observation is None:
        width = regions * OBSERVATION_WIDTH[0] + OBSERVATION_WIDTH[1]
        observation = np.empty((batch, width), dtype=np.float32)
    action = (moves, marketing, localization_intent, compliance_intent, rnd_action)
    results = (money, counts, by_mode, valid, observation)
    parallel = _parallel(batch, regions)
    if in_place:
        if frozen is None:
            frozen = np.zeros(batch, dtype=np.bool_)
        if parallel:
            _step_in_place_loop_parallel(ps, s, action, (kinds, reacted), frozen, results, known)
        else:
            _step_in_place_loop(ps[0], s, action, (kinds, reacted), frozen, results, known)
        out = s
    else:
        out = empty_state(batch, regions, slots, candidates)
        if parallel:
            _step_loop_parallel(ps, s, action, (kinds, reacted), out, results)
        else:
            _step_loop(ps[0], s, action, (kinds, reacted), out, results)
    return Quarter(out, money, counts, by_mode, valid, observation)


_DTYPES = {
    "episode_key": np.uint64,
    "quarter": np.int32,
    "cash": np.float64,
    "revenue": np.float64,
    "product_quality": np.float32,
    "rnd_intensity": np.float32,
    "market_size": np.float32,
    "psychic_distance": np.float32,
    "market_fit": np.float32,
    "fit_mean": np.float32,
    "fit_variance": np.float32,
    "adoption": np.float32,
    "stringency": np.float32,
    "closed_quarters": np.int16,
    "entry_mode": np.int8,
    "interim_mode": np.int8,
    "build_quarters": np.int16,
    "suspended_quarters": np.int16,
    "firm_share": np.float32,
    "brand": np.float32,
    "localization": np.float32,
    "compliance": np.float32,
    "diligence_rounds": np.int8,
    "partner": np.int8,
    "partner_quality": np.float32,
    "partner_estimate": np.float32,
    "competitor_active": np.bool_,
    "competitor_share": np.float32,
    "competitor_quality": np.float32,
    "competitor_brand": np.float32,
    "competitor_price": np.float32,
    "unfunded_moves": np.int16,
}
_AXES = {name: "" for name in ("episode_key", "quarter", "cash", "revenue")}
_AXES.update(product_quality="", rnd_intensity="", unfunded_moves="")
_AXES.update({name: "K" for name in _DTYPES if name.startswith("competitor_")})
_AXES.update(partner_quality="P", partner_estimate="P")
_AXES.update({name: "R" for name in _DTYPES if name not in _AXES})
_LAYOUT = [(_AXES[f.name], np.dtype(_DTYPES[f.name])) for f in STATE_FIELDS]
