"""The structures the compiled passes share: a state and a step's work by reference
(:class:`StateRef`, :class:`Work`) with each caller's scratch, the work row and row copies
of an in-place step, and the state's layout (:data:`_LAYOUT`, :func:`empty_state`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from numba.core import types
from numba.experimental import structref
from numpy.typing import NDArray

from lepton_env.kernel.indices import _REGION_LOW
from lepton_env.state import FIELDS as STATE_FIELDS
from lepton_env.state import FIRM_FIELDS, StateTuple
from lepton_env.types import NUM_MOVES

_STATE_NAMES = [f.name for f in STATE_FIELDS]


# The compiled functions pass the parameters (:class:`~lepton_env.kernel.tables.
# CompiledParams`) and states to each other as StructRefs: a
# pointer, where a tuple of some 80 fields is copied (and its arrays reference-counted)
# on every call. The loops over envs hand them to the per-env functions borrowed
# (:mod:`lepton_env.kernel.borrowed`): the quarter's phases then pass them on without counting
# references, which were three-fifths of its atomic operations.
@structref.register
class _StateType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> Any:
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


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


@njit(cache=True)
def _ref(s: Any) -> StateRef:
    return StateRef(*s)


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


def empty_state(batch: int, regions: int, slots: int, candidates: int, firms: int = 1) -> Any:
    """An uninitialized :data:`StateTuple` of the given sizes, in the State dtypes: the world's
    fields with a row per env, the firms' with a row per (env, firm), env-major."""
    rows = batch * firms
    shapes = {"": (batch,), "R": (batch, regions), "K": (batch, regions, slots)}
    shapes.update(P=(batch, regions, candidates), f=(rows,), fR=(rows, regions))
    shapes["fP"] = (rows, regions, candidates)
    return StateTuple(*[np.empty(shapes[axes], dtype) for axes, dtype in _LAYOUT])
