"""The passes over a batch and the public entry points: :func:`reset`, :func:`masks`,
:func:`encode`, :func:`restart` and :func:`step` (returning a :class:`Quarter`).

Each pass is a loop over envs calling one env's function (:mod:`~lepton_env.kernel.initial`,
:mod:`~lepton_env.kernel.valid_moves`, :mod:`~lepton_env.kernel.encoding`,
:mod:`~lepton_env.kernel.quarter`), in three forms: serial, parallel (``numba.prange`` over
chunks of the batch, each chunk with its own parameters and references) and, for the step,
in place. Batches of at least :data:`PARALLEL_MIN_WORK` env-regions take the parallel form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

from lepton_env.features import observation_width
from lepton_env.kernel.borrowed import borrow
from lepton_env.kernel.encoding import encode_env
from lepton_env.kernel.indices import _REGION_LOW, COUNT_KPIS, MONEY_KPIS
from lepton_env.kernel.initial import _reset_env, _restart_env
from lepton_env.kernel.quarter import _step_env
from lepton_env.kernel.shared import _potential
from lepton_env.kernel.structs import _copy_row, _one_row, _ref, _reset_work, _work, empty_state
from lepton_env.kernel.tables import CompiledParams
from lepton_env.kernel.valid_moves import _masks_env
from lepton_env.types import NUM_MODES, NUM_MOVES

#: Env-regions (batch size times regions) from which a pass runs on all cores: below it
#: the threads' start costs more than they save (measured on 2 cores: `toy` at 64 envs,
#: 192 env-regions, steps faster serially; `global` at 64, 704, and `toy` at 256, 768,
#: in parallel).
PARALLEL_MIN_WORK = 512


def _firm_index(s: Any) -> tuple[int, ...]:
    """``(0, 1, ..., F - 1)`` for the F firms of ``s``: handed to the compiled loops as a
    tuple, whose length is part of its type, so each firm count compiles with its loops
    over firms unrolled (one firm: no loop at all)."""
    return tuple(range(s.cash.shape[0] // s.quarter.shape[0]))


def _parallel(batch: int, regions: int) -> bool:
    """Whether a pass over ``batch`` envs of ``regions`` regions runs on all cores."""
    return batch * regions >= PARALLEL_MIN_WORK


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
    """Fill ``s`` (a :data:`~lepton_env.state.StateTuple` with ``episode_key`` set) with
    initial states."""
    parallel = _parallel(s.quarter.shape[0], s.entry_mode.shape[1])
    if parallel:
        _reset_loop_parallel(ps, s, _firm_index(s))
    else:
        _reset_loop(ps[0], s, _firm_index(s))


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
