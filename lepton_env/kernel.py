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
from lepton_env.borrowed import borrow
from lepton_env.features import FIRM_FEATURES, REGION_FEATURES, bounds, observation_width
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
from lepton_env.state import FIRM_FIELDS
from lepton_env.types import MODE_RANK, NUM_MODES, NUM_MOVES, EntryMode, Move

#: Env-regions (batch size times regions) from which a pass runs on all cores: below it
#: the threads' start costs more than they save (measured on 2 cores: `toy` at 64 envs,
#: 192 env-regions, steps faster serially; `global` at 64, 704, and `toy` at 256, 768,
#: in parallel).
PARALLEL_MIN_WORK = 512
_CHUNKS_PER_THREAD = 4

# names, and the rivals' traits: the kernel takes the latter per firm (the firm_* names below)
_PARAM_NAMES = [
    name
    for name in PARAM_FIELDS
    if name not in ("region_names", "firm_name", "rival_names") and not name.startswith("rival_")
]
_STATE_NAMES = [f.name for f in STATE_FIELDS]
#: A state's arrays in :class:`lepton_env.state.State` field order, as Python hands them over.
StateTuple = namedtuple("StateTuple", _STATE_NAMES)  # type: ignore[misc]


# The compiled functions pass the parameters and states to each other as StructRefs: a
# pointer, where a tuple of some 80 fields is copied (and its arrays reference-counted)
# on every call. The loops over envs hand them to the per-env functions borrowed
# (:mod:`lepton_env.borrowed`): the quarter's phases then pass them on without counting
# references, which were three-fifths of its atomic operations.
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


@structref.register
class _WorkType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> Any:
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


class Work(structref.StructRefProxy):
    """A step's inputs, outputs and per-thread scratch by reference: the quarter's phases take
    this one reference, where a dozen arrays passed to each would each be reference-counted
    on every call (the counts, not the arithmetic, were a third of a quarter's time)."""


#: Per-scenario constants the compiled quarter looks up instead of recomputing per env:
#: ``(1 + g_r) ** (t / 4)`` for t = 0 .. horizon + 1 (R, horizon + 2), ``exp(-lambda_r)``
#: and each firm's closure probability ``1 - exp(-rho_fr)`` (F, R); for the valuation
#: (:mod:`lepton_env.mechanisms.valuation`), the adoption every episode follows (Bass
#: diffusion from ``initial_adoption``, as the state stores it: float32) and, along it, the
#: discounted demand ``W_r(t)`` and potential ``P_r(t)`` (R, horizon + 2), the quarterly
#: discount factor and the annuity ``A``; per firm, its home region (F,), psychic distance
#: from that home (F, R), geopolitical risk (F, R) and the FDI screening it faces (F, R).
_DERIVED_NAMES = [
    "growth_factor",
    "law_free_probability",
    "closure_probability",
    "adoption_path",
    "demand_value",
    "potential_value",
    "valuation_discount",
    "valuation_annuity",
    "firm_home",
    "firm_distance",
    "firm_risk",
    "firm_screening",
]
structref.define_proxy(CompiledParams, _ParamsType, _PARAM_NAMES + _DERIVED_NAMES)
structref.define_proxy(StateRef, _StateType, _STATE_NAMES)
#: :class:`Work`'s fields: the action, the personas' reactions, the outputs, then the scratch
#: of :func:`_scratch` in its order.
_WORK_NAMES = [
    "moves", "marketing", "localization_intent", "compliance_intent", "rnd_action",
    "kinds", "reacted",
    "money", "counts", "by_mode", "next_valid", "observation",
    "utility", "column", "cost", "ok", "potentials", "precisions", "served_regions",
    "firm_utility", "targets", "serving", "served", "flags", "work", "keys", "taken",
    "firm_index",
]  # fmt: skip
structref.define_proxy(Work, _WorkType, _WORK_NAMES)

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


def _firm_index(s: Any) -> tuple[int, ...]:
    """``(0, 1, ..., F - 1)`` for the F firms of ``s``: handed to the compiled loops as a
    tuple, whose length is part of its type, so each firm count compiles with its loops
    over firms unrolled (one firm: no loop at all)."""
    return tuple(range(s.cash.shape[0] // s.quarter.shape[0]))


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
    distance, risk, screening = params.firm_traits()
    derived = _derived(
        np.asarray(params.market_growth, dtype=np.float64),
        np.asarray(params.regulatory_shock_rate, dtype=np.float64),
        np.ascontiguousarray(risk, dtype=np.float64),
        int(params.horizon) + 2,
    )
    firms = (
        np.array(params.firm_homes, dtype=np.int64),
        np.ascontiguousarray(distance, dtype=np.float64),
        np.ascontiguousarray(risk, dtype=np.float64),
        np.ascontiguousarray(screening, dtype=np.float64),
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
    return _make_params((*values, *derived, *valued, *firms))


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
        for f in range(risk.shape[0]):
            closing[f, r] = shocks.closure_probability(risk[f, r])
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


# ---------------------------------------------------------------------- market fit
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


# ---------------------------------------------------------------------- reset
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


@njit(cache=True)
def _reset_rows(p: Any, s: Any, firm_index: Any, start: int, stop: int) -> None:
    """Resets envs ``start`` to ``stop``; ``s`` is a StateTuple, made a reference here so
    that each caller (a chunk of a parallel loop) has references of its own."""
    s = _ref(s)
    no_valid = np.empty((0, 0, 0), dtype=np.bool_)
    w = _reset_work(s, no_valid, np.empty((0, 0), dtype=np.float32), firm_index)
    for b in range(start, stop):
        _reset_env(borrow(p), borrow(s), b, borrow(w))


@njit(cache=True)
def _reset_loop(p: Any, s: Any, firm_index: Any) -> None:
    _reset_rows(p, s, firm_index, 0, s.quarter.shape[0])


@njit(cache=True, parallel=True)
def _reset_loop_parallel(ps: Any, s: Any, firm_index: Any) -> None:
    batch, chunks = s.quarter.shape[0], len(ps)
    for chunk in prange(chunks):
        start, stop = chunk * batch // chunks, (chunk + 1) * batch // chunks
        _reset_rows(ps[chunk], s, firm_index, start, stop)


def reset(ps: tuple[CompiledParams, ...], s: Any) -> None:
    """Fill ``s`` (a :data:`StateTuple` with ``episode_key`` set) with initial states."""
    parallel = _parallel(s.quarter.shape[0], s.entry_mode.shape[1])
    if parallel:
        _reset_loop_parallel(ps, s, _firm_index(s))
    else:
        _reset_loop(ps[0], s, _firm_index(s))


# ---------------------------------------------------------------------- masks
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
def _is_out(p: Any, s: Any, i: int, firms: int) -> bool:
    """Whether firm row ``i`` has left a game of ``firms`` > 1 firms: bankrupt (cash below
    minus the credit line). A one-firm episode ends there instead, and whatever a caller
    steps past it is the quarter it always was."""
    return firms > 1 and s.cash[i] < -p.credit_line


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


@njit(cache=True)
def _masks_rows(
    p: Any, s: Any, costs: NDArray[np.float64], valid: NDArray[np.bool_], start: int, stop: int
) -> None:
    s = _ref(s)  # per caller: threads never share a reference count
    for b in range(start, stop):
        _masks_env(borrow(p), borrow(s), b, costs, valid)


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
    """``($M each move would cost, whether it changes the state)``, (B * F, R, NUM_MOVES)
    each: a row per firm."""
    rows, regions = s.entry_mode.shape
    costs = np.empty((rows, regions, NUM_MOVES), dtype=np.float64)
    valid = np.empty((rows, regions, NUM_MOVES), dtype=np.bool_)
    parallel = _parallel(rows, regions)
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
    i: int,
    f: int,
    flat: NDArray[np.float32],
    row: int,
    column: NDArray[np.float64],
    potentials: NDArray[np.float64],
) -> None:
    """Row ``row`` of the flat observation (the table of :mod:`lepton_env.features`): firm ``f``
    (row ``i``) of env ``b`` of ``s``, clipped to its bounds; ``column`` is (F_region,) scratch,
    ``potentials`` (R,) env ``b``'s :func:`_potential` of each region. With rivals, the
    firm's own table is followed by the rivals' public state and its identity
    (:func:`_encode_rivals`)."""
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
        revenue = finance.gross_revenue(np.float64(s.firm_share[i, r]), demand, serving)
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


@njit(cache=True)
def _encode_rows(p: Any, s: Any, flat: NDArray[np.float32], start: int, stop: int) -> None:
    column, potentials = np.empty(_REGION_LOW.shape[0]), np.empty(s.entry_mode.shape[1])
    firms = s.cash.shape[0] // s.quarter.shape[0]
    for b in range(start, stop):
        for r in range(s.entry_mode.shape[1]):
            potentials[r] = _potential(p, s, b, r)
        for f in range(firms):
            encode_env(
                borrow(p), borrow(s), b, b * firms + f, f, flat, b * firms + f, column, potentials
            )


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
    """Write the flat observations of every firm of every env into ``flat`` (B * F, D)
    (:func:`lepton_env.features.observation_width`)."""
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


@njit(cache=True)
def _restart_rows(
    p: Any,
    s: Any,
    rows: NDArray[np.int64],
    keys: NDArray[np.uint64],
    valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
    firm_index: Any,
    start: int,
    stop: int,
) -> None:
    s = _ref(s)  # per caller: threads never share a reference count
    w = _reset_work(s, valid, observation, firm_index)
    for i in range(start, stop):
        _restart_env(borrow(p), borrow(s), rows[i], keys[i], valid, observation, borrow(w))


@njit(cache=True)
def _restart_loop(
    p: Any,
    s: Any,
    rows: NDArray[np.int64],
    keys: NDArray[np.uint64],
    valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
    firm_index: Any,
) -> None:
    _restart_rows(p, s, rows, keys, valid, observation, firm_index, 0, rows.shape[0])


@njit(cache=True, parallel=True)
def _restart_loop_parallel(
    ps: Any,
    s: Any,
    rows: NDArray[np.int64],
    keys: NDArray[np.uint64],
    valid: NDArray[np.bool_],
    observation: NDArray[np.float32],
    firm_index: Any,
) -> None:
    count, chunks = rows.shape[0], len(ps)
    for chunk in prange(chunks):
        start, stop = chunk * count // chunks, (chunk + 1) * count // chunks
        _restart_rows(ps[chunk], s, rows, keys, valid, observation, firm_index, start, stop)


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
        _restart_loop_parallel(ps, s, rows, keys, valid, observation, _firm_index(s))
    else:
        _restart_loop(ps[0], s, rows, keys, valid, observation, _firm_index(s))


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


# ---------------------------------------------------------------------- step: the phases
# Per-firm values that pass from one phase of a region to the next, columns of the scratch
# ``flags`` (F, .) int64 and ``work`` (F, .) float64.
_MOVE, _CLAIM, _CLOSED0, _CLOSING, _SUSPENDED0, _SUSPENDED, _ACTIVE = range(7)
_SPEND_MARKETING, _SPEND_LOCALIZATION, _SPEND_COMPLIANCE, _COMMITTED, _BUDGET, _MOVE_COST = range(6)
# and the firms' own random streams of the quarter, columns of ``keys`` (F, .) uint64
_KEY, _CLOSURE_STREAM, _ENFORCEMENT_STREAM = range(3)


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
    after a veto (claim 1 = buys, 0 = vetoed or outbid). Partnerships are exclusive: firms
    pick in turn from a drawn first one, each its best-estimated candidate that no other firm
    holds or has just taken (claim = the candidate, -1 when none is left)."""
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
        first = int(rng.uniform_at(key, quarter, Stream.CONFLICT, 2 * r + 1) * firms)
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
    of their gaps (the compliance erosion of the quarter's new laws follows in :func:`_shock`)."""
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


@njit(cache=True)
def _step_env(p: Any, s: Any, b: int, out: Any, o: int, w: Any, known: bool) -> None:
    """One quarter of env ``b`` of ``s``, written to env ``o`` of ``out``: R&D, then region by
    region funding, claims, moves, spends, shocks, competitors, shares and settlement, then
    learning and finance; each phase for every firm (row ``b * F + f``) of the env. ``w``
    holds the action and the outputs (:class:`Work`): the KPIs of firm row ``i`` go to column
    ``i`` of its ``money`` and ``counts``, the new state's valid moves and observation to row
    ``i`` of ``next_valid`` and ``observation``."""
    regions = s.entry_mode.shape[1]
    firms = len(w.firm_index)
    key, quarter = s.episode_key[b], s.quarter[b]
    out.episode_key[o] = key
    out.quarter[o] = quarter + 1
    for f in range(firms):
        i, oi = b * firms + f, o * firms + f
        _open_books(p, s, w, i, f, firms, key, quarter)
        if w.flags[f, _ACTIVE]:
            _research(p, s, w, i, out, oi)
        else:
            _carry_firm(s, i, out, oi)
    law_stream = rng.stream_key(key, quarter, Stream.REGULATORY_SHOCK)
    for r in range(regions):
        potential = _potential(p, s, b, r)
        demand_value, potential_value = _valuation_terms(p, s, b, r)
        _carry_world(s, b, out, o, r)
        contested = False  # a move for a scarce target: an incumbent or a partner
        for f in range(firms):
            i = b * firms + f
            w.flags[f, _MOVE] = _HOLD
            if w.flags[f, _ACTIVE]:
                w.money[_PREVIOUS_FIRM_VALUE, i] += _position_value(
                    p, s, b, i, r, demand_value, potential_value
                )
                _fund(p, s, w, b, i, f, r, potential, demand_value, known)
                move = w.flags[f, _MOVE]
                contested = contested or move == _ACQUISITION or move == _PARTNERSHIP
        if contested:
            _claim(p, s, w, b, r, key, quarter)
        for f in range(firms):
            if w.flags[f, _ACTIVE]:
                i, oi = b * firms + f, o * firms + f
                _move(p, s, b, i, f, r, quarter, out, o, oi, w)
                _spend(p, s, w, i, f, r, out, oi)
        _shock(p, s, w, b, r, out, o, law_stream)
        _compete(p, s, w, b, r, out, o, firms)
        _share(p, s, w, b, r, out, o)
        for f in range(firms):
            if w.flags[f, _ACTIVE]:
                i, oi = b * firms + f, o * firms + f
                _settle(p, s, b, i, f, r, quarter, potential, out, o, oi, w)
    for f in range(firms):
        i, oi = b * firms + f, o * firms + f
        if w.flags[f, _ACTIVE]:
            _learn(p, out, oi, f, w.keys[f, _KEY], quarter, w.precisions, w.served_regions)
            _finance(p, s, w, i, out, oi, firms)
        else:
            w.money[_CASH, i] = s.cash[i]
    # what the faces need of the new state, while its row is in cache
    for r in range(regions):
        demand_value, potential_value = _valuation_terms(p, out, o, r)
        w.potentials[r] = _potential(p, out, o, r)
        for f in range(firms):
            i, oi = b * firms + f, o * firms + f
            w.money[_FIRM_VALUE, i] += _position_value(
                p, out, o, oi, r, demand_value, potential_value
            )
            _region_masks(
                p, out, o, oi, f, firms, r, w.potentials[r], demand_value, w.cost,
                w.next_valid[i, r],
            )  # fmt: skip
    for f in range(firms):
        i = b * firms + f
        encode_env(p, out, o, o * firms + f, f, w.observation, i, w.column, w.potentials)


@njit(cache=True)
def _scratch(s: Any) -> Any:
    """Per-thread work rows: competitor utilities, observation columns, move costs and masks
    per firm, the potentials of the regions, their fit-signal precisions and the served ones;
    per firm its utility, target share, serving status and mode, the values passed between
    phases and its streams; and the partner candidates taken."""
    regions = s.entry_mode.shape[1]
    firms = s.cash.shape[0] // s.quarter.shape[0]
    return (
        np.empty(s.competitor_share.shape[2], dtype=np.float32),
        np.empty(_REGION_LOW.shape[0]),
        np.empty(NUM_MOVES),
        np.empty(NUM_MOVES, dtype=np.bool_),
        np.empty(regions),
        np.empty(regions),
        np.empty(regions, dtype=np.int64),
        np.empty(firms, dtype=np.float32),
        np.empty(firms),
        np.empty(firms, dtype=np.bool_),
        np.empty(firms, dtype=np.int64),
        np.empty((firms, 7), dtype=np.int64),
        np.empty((firms, 6)),
        np.empty((firms, 3), dtype=np.uint64),
        np.empty(s.partner_quality.shape[2], dtype=np.bool_),
    )


@njit(cache=True)
def _step_rows(
    p: Any,
    s: Any,
    action: Any,
    personas: Any,
    out: Any,
    results: Any,
    firm_index: Any,
    start: int,
    stop: int,
) -> None:
    """Steps envs ``start`` to ``stop`` of ``s`` into the same rows of ``out``; ``s`` and
    ``out`` are StateTuples, made references here so that each caller (a chunk of a
    parallel loop) has references of its own."""
    s, out = _ref(s), _ref(out)
    w = _work(s, action, personas, results, firm_index)
    for b in range(start, stop):
        _step_env(borrow(p), borrow(s), b, borrow(out), b, borrow(w), False)


@njit(cache=True)
def _step_rows_in_place(
    p: Any,
    s: Any,
    action: Any,
    personas: Any,
    frozen: NDArray[np.bool_],
    results: Any,
    known: bool,
    firm_index: Any,
    start: int,
    stop: int,
) -> None:
    """Steps envs ``start`` to ``stop`` of ``s`` in place, except ``frozen`` ones: each env's
    new state is built in a work row of this caller's own (rows of different threads would
    share cache lines), then copied over its old one. ``known``: the valid-move output
    holds the masks of ``s`` on entry."""
    s = _ref(s)
    row = _one_row(s)
    w = _work(s, action, personas, results, firm_index)
    money, counts, by_mode, _, _ = results
    firms = s.cash.shape[0] // s.quarter.shape[0]
    for b in range(start, stop):
        if frozen[b]:
            for i in range(b * firms, (b + 1) * firms):
                _zero_kpis(money, counts, by_mode, i)
            continue
        _step_env(borrow(p), borrow(s), b, borrow(row), 0, borrow(w), known)
        _copy_row(row, 0, s, b, len(firm_index))


@njit(cache=True)
def _reset_work(
    s: Any, valid: NDArray[np.bool_], observation: NDArray[np.float32], firm_index: Any
) -> Any:
    """The :class:`Work` of a reset: no action, the valid moves and observations it writes."""
    no_moves = np.empty((0, 0), dtype=np.int8)
    no_intent = np.empty((0, 0), dtype=np.float32)
    action = (no_moves, no_intent, no_intent, no_intent, np.empty(0, dtype=np.float32))
    personas = (no_moves, np.empty((0, 0, 0, 0), dtype=np.float32))
    money = np.empty((0, 0))
    counts = np.empty((0, 0), dtype=np.int64)
    return _work(s, action, personas, (money, counts, counts, valid, observation), firm_index)


@njit(cache=True)
def _work(s: Any, action: Any, personas: Any, results: Any, firm_index: Any) -> Any:
    """A caller's :class:`Work`: the step's action, personas and outputs, and its own scratch."""
    moves, marketing, localization_intent, compliance_intent, rnd_action = action
    kinds, reacted = personas
    money, counts, by_mode, next_valid, observation = results
    (
        utility, column, cost, ok, potentials, precisions, served_regions,
        firm_utility, targets, serving, served, flags, work, keys, taken,
    ) = _scratch(s)  # fmt: skip
    return Work(
        moves, marketing, localization_intent, compliance_intent, rnd_action, kinds, reacted,
        money, counts, by_mode, next_valid, observation,
        utility, column, cost, ok, potentials, precisions, served_regions,
        firm_utility, targets, serving, served, flags, work, keys, taken, firm_index,
    )  # fmt: skip


@njit(cache=True, inline="always")
def _zero_kpis(
    money: NDArray[np.float64], counts: NDArray[np.int64], by_mode: NDArray[np.int64], b: int
) -> None:
    """The KPIs of firm row ``b`` when its env does not step: all zero."""
    for c in range(money.shape[0]):
        money[c, b] = 0.0
    for c in range(counts.shape[0]):
        counts[c, b] = 0
    for m in range(by_mode.shape[1]):
        by_mode[b, m] = 0


@njit(cache=True)
def _one_row(s: Any) -> Any:
    """A state of one env with the fields and sizes of ``s``: a chunk's own work row."""
    firms = s.cash.shape[0] // s.quarter.shape[0]
    return StateRef(
        np.empty_like(s.episode_key[:1]),
        np.empty_like(s.quarter[:1]),
        np.empty_like(s.cash[:firms]),
        np.empty_like(s.revenue[:firms]),
        np.empty_like(s.product_quality[:firms]),
        np.empty_like(s.rnd_intensity[:firms]),
        np.empty_like(s.market_size[:1]),
        np.empty_like(s.psychic_distance[:firms]),
        np.empty_like(s.market_fit[:firms]),
        np.empty_like(s.fit_mean[:firms]),
        np.empty_like(s.fit_variance[:firms]),
        np.empty_like(s.adoption[:1]),
        np.empty_like(s.stringency[:1]),
        np.empty_like(s.closed_quarters[:firms]),
        np.empty_like(s.entry_mode[:firms]),
        np.empty_like(s.interim_mode[:firms]),
        np.empty_like(s.build_quarters[:firms]),
        np.empty_like(s.suspended_quarters[:firms]),
        np.empty_like(s.firm_share[:firms]),
        np.empty_like(s.brand[:firms]),
        np.empty_like(s.localization[:firms]),
        np.empty_like(s.compliance[:firms]),
        np.empty_like(s.diligence_rounds[:firms]),
        np.empty_like(s.partner[:firms]),
        np.empty_like(s.partner_quality[:1]),
        np.empty_like(s.partner_estimate[:firms]),
        np.empty_like(s.competitor_active[:1]),
        np.empty_like(s.competitor_share[:1]),
        np.empty_like(s.competitor_quality[:1]),
        np.empty_like(s.competitor_brand[:1]),
        np.empty_like(s.competitor_price[:1]),
        np.empty_like(s.unfunded_moves[:firms]),
    )


@njit(cache=True)
def _copy_row(src: Any, i: int, dst: Any, j: int, firms: int) -> None:
    """Env ``i`` of state ``src`` into env ``j`` of ``dst``: every field of :data:`STATE_FIELDS`,
    the world's row and each of its ``firms`` firms'."""
    dst.episode_key[j] = src.episode_key[i]
    dst.quarter[j] = src.quarter[i]
    for r in range(src.entry_mode.shape[1]):
        dst.market_size[j, r] = src.market_size[i, r]
        dst.adoption[j, r] = src.adoption[i, r]
        dst.stringency[j, r] = src.stringency[i, r]
        for c in range(src.partner_quality.shape[2]):
            dst.partner_quality[j, r, c] = src.partner_quality[i, r, c]
        for k in range(src.competitor_share.shape[2]):
            dst.competitor_active[j, r, k] = src.competitor_active[i, r, k]
            dst.competitor_share[j, r, k] = src.competitor_share[i, r, k]
            dst.competitor_quality[j, r, k] = src.competitor_quality[i, r, k]
            dst.competitor_brand[j, r, k] = src.competitor_brand[i, r, k]
            dst.competitor_price[j, r, k] = src.competitor_price[i, r, k]
    for f in range(firms):
        _copy_firm(src, i * firms + f, dst, j * firms + f)


@njit(cache=True, inline="always")
def _copy_firm(src: Any, i: int, dst: Any, j: int) -> None:
    """Firm row ``i`` of ``src`` into firm row ``j`` of ``dst``."""
    dst.cash[j] = src.cash[i]
    dst.revenue[j] = src.revenue[i]
    dst.product_quality[j] = src.product_quality[i]
    dst.rnd_intensity[j] = src.rnd_intensity[i]
    dst.unfunded_moves[j] = src.unfunded_moves[i]
    for r in range(src.entry_mode.shape[1]):
        dst.psychic_distance[j, r] = src.psychic_distance[i, r]
        dst.market_fit[j, r] = src.market_fit[i, r]
        dst.fit_mean[j, r] = src.fit_mean[i, r]
        dst.fit_variance[j, r] = src.fit_variance[i, r]
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
        for c in range(src.partner_estimate.shape[2]):
            dst.partner_estimate[j, r, c] = src.partner_estimate[i, r, c]


@njit(cache=True)
def _step_loop(
    p: Any, s: Any, action: Any, personas: Any, out: Any, results: Any, firm_index: Any
) -> None:
    _step_rows(p, s, action, personas, out, results, firm_index, 0, s.quarter.shape[0])


@njit(cache=True, parallel=True)
def _step_loop_parallel(
    ps: Any, s: Any, action: Any, personas: Any, out: Any, results: Any, firm_index: Any
) -> None:
    batch, chunks = s.quarter.shape[0], len(ps)
    for chunk in prange(chunks):
        start, stop = chunk * batch // chunks, (chunk + 1) * batch // chunks
        _step_rows(ps[chunk], s, action, personas, out, results, firm_index, start, stop)


@njit(cache=True)
def _step_in_place_loop(
    p: Any,
    s: Any,
    action: Any,
    personas: Any,
    frozen: NDArray[np.bool_],
    results: Any,
    known: bool,
    firm_index: Any,
) -> None:
    _step_rows_in_place(
        p, s, action, personas, frozen, results, known, firm_index, 0, s.quarter.shape[0]
    )


@njit(cache=True, parallel=True)
def _step_in_place_loop_parallel(
    ps: Any,
    s: Any,
    action: Any,
    personas: Any,
    frozen: NDArray[np.bool_],
    results: Any,
    known: bool,
    firm_index: Any,
) -> None:
    batch, chunks = s.quarter.shape[0], len(ps)
    for chunk in prange(chunks):
        start, stop = chunk * batch // chunks, (chunk + 1) * batch // chunks
        _step_rows_in_place(
            ps[chunk], s, action, personas, frozen, results, known, firm_index, start, stop
        )


def empty_state(batch: int, regions: int, slots: int, candidates: int, firms: int = 1) -> Any:
    """An uninitialized :data:`StateTuple` of the given sizes, in the State dtypes: the world's
    fields with a row per env, the firms' with a row per (env, firm), env-major."""
    rows = batch * firms
    shapes = {"": (batch,), "R": (batch, regions), "K": (batch, regions, slots)}
    shapes.update(P=(batch, regions, candidates), f=(rows,), fR=(rows, regions))
    shapes["fP"] = (rows, regions, candidates)
    return StateTuple(*[np.empty(shapes[axes], dtype) for axes, dtype in _LAYOUT])


@dataclass(frozen=True)
class Quarter:
    """What :func:`step` returns: the new state, its KPIs, and the new state's masks and
    observation (computed in the same pass)."""

    state: Any  # StateTuple
    # a row (column of money and counts) per firm of each env: B * F, env-major
    money: NDArray[np.float64]  # (len(MONEY_KPIS), B * F)
    counts: NDArray[np.int64]  # (len(COUNT_KPIS), B * F)
    entries_by_mode: NDArray[np.int64]  # (B * F, NUM_MODES)
    valid: NDArray[np.bool_]  # (B * F, R, NUM_MOVES) valid moves of the new state
    observation: NDArray[np.float32]  # (B * F, D) of the new state (features.observation_width)


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

    Every firm-level array has a row per (env, firm), env-major: B * F rows, B with one
    firm. ``moves``, ``marketing``, ``localization_intent`` and ``compliance_intent`` are
    (B * F, R) intensities, ``rnd_action`` (B * F,) (NaN keeps the current one); moves are
    checked against the masks of ``s`` (:func:`masks`), computed again here
    region by region. ``reacted`` is (3, B, R, K) quality, brand
    and price after the Python personas (``kinds == CUSTOM_KIND``); it may be
    empty when there are none.

    ``in_place`` writes the new state over ``s`` (then ``Quarter.state`` is ``s``), and
    ``valid`` / ``observation``, when given, receive the new state's valid moves and
    observation: a caller that owns these arrays steps without allocating a state. A
    ``valid`` given to an in-place step must hold the valid moves of ``s`` (as the previous
    step or :func:`masks` left them): they are read, not recomputed.
    ``frozen`` (B,) envs of an in-place step are left as they are, their KPIs zero and their
    ``valid`` / ``observation`` rows unwritten (rows the caller is about to reset).
    """
    batch, regions, slots = s.competitor_share.shape
    candidates = s.partner_quality.shape[2]
    rows = s.cash.shape[0]
    firms = rows // batch
    money = np.empty((len(MONEY_KPIS), rows), dtype=np.float64)
    counts = np.empty((len(COUNT_KPIS), rows), dtype=np.int64)
    by_mode = np.empty((rows, NUM_MODES), dtype=np.int64)
    known = in_place and valid is not None
    if valid is None:
        valid = np.empty((rows, regions, NUM_MOVES), dtype=np.bool_)
    if observation is None:
        observation = np.empty((rows, observation_width(regions, firms)), dtype=np.float32)
    action = (moves, marketing, localization_intent, compliance_intent, rnd_action)
    results = (money, counts, by_mode, valid, observation)
    parallel = _parallel(batch, regions)
    if in_place:
        if frozen is None:
            frozen = np.zeros(batch, dtype=np.bool_)
        if parallel:
            _step_in_place_loop_parallel(
                ps, s, action, (kinds, reacted), frozen, results, known, _firm_index(s)
            )
        else:
            _step_in_place_loop(
                ps[0], s, action, (kinds, reacted), frozen, results, known, _firm_index(s)
            )
        out = s
    else:
        out = empty_state(batch, regions, slots, candidates, firms)
        if parallel:
            _step_loop_parallel(ps, s, action, (kinds, reacted), out, results, _firm_index(s))
        else:
            _step_loop(ps[0], s, action, (kinds, reacted), out, results, _firm_index(s))
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
#: Each field's axes after its leading one: "" none, "R" regions, "K" competitor slots,
#: "P" partner candidates; "f" marks a firm's field (a row per (env, firm)), the others are
#: the world's (a row per env).
_AXES = {"episode_key": "", "quarter": ""}
_AXES.update(cash="f", revenue="f", product_quality="f", rnd_intensity="f", unfunded_moves="f")
_AXES.update({name: "K" for name in _DTYPES if name.startswith("competitor_")})
_AXES.update(partner_quality="P", partner_estimate="fP")
_AXES.update(market_size="R", adoption="R", stringency="R")
_AXES.update({name: "fR" for name in _DTYPES if name not in _AXES})
assert FIRM_FIELDS == {name for name, axes in _AXES.items() if axes.startswith("f")}
_LAYOUT = [(_AXES[f.name], np.dtype(_DTYPES[f.name])) for f in STATE_FIELDS]
