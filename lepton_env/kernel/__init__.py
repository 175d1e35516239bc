"""The compiled quarter: ``reset``, masks and ``step`` of one environment, looped over the batch.

:class:`lepton_env.core.Model` calls these; they are the model's only
implementation. Each loop body handles one environment with the mechanism
functions of :mod:`lepton_env.mechanisms` on scalars, so no batch-sized
temporary exists and a batch of n computes exactly what n single
environments compute. New state values are rounded to their float32 storage
before later mechanisms read them, so a quarter computed from a stored state
is the quarter computed within a step. Money stays float64.

Batches of at least :data:`~lepton_env.kernel.batch.PARALLEL_MIN_WORK` env-regions run
the same loop body on all cores (``numba.prange``); environments are independent, so the
result does not depend on the thread count.

Where things live:

* :mod:`~lepton_env.kernel.batch`: the loops over the batch (serial, parallel, in place)
  and the entry points :func:`reset`, :func:`masks`, :func:`encode`, :func:`restart`,
  :func:`step` (:class:`Quarter`).
* :mod:`~lepton_env.kernel.quarter`: one env's quarter, ``_step_env``, a sequence of named
  phases; its docstring lists them in order with the module of each
  (:mod:`~lepton_env.kernel.phases_moves`, :mod:`~lepton_env.kernel.phases_market`,
  :mod:`~lepton_env.kernel.phases_books`).
* :mod:`~lepton_env.kernel.initial`: one env's reset and restart.
* :mod:`~lepton_env.kernel.valid_moves`: move costs and masks.
* :mod:`~lepton_env.kernel.encoding`: the observation.
* :mod:`~lepton_env.kernel.shared`: what several of these compute alike (potential,
  target shares, valuation terms).
* :mod:`~lepton_env.kernel.structs`: the state and work structures, scratch and layout.
* :mod:`~lepton_env.kernel.tables`: the compiled parameter tables.
* :mod:`~lepton_env.kernel.indices`: KPI rows, modes, moves and phase columns by name.
* :mod:`~lepton_env.kernel.borrowed`: reference-free views of the structures.

Numba's cache (``cache=True``) checks only the source file of the function it compiled:
after editing a phase or a mechanism, the cached loops of :mod:`~lepton_env.kernel.batch`
still hold the old code until that file changes or the cache is cleared (the
``__pycache__`` folders, or ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

from lepton_env.kernel.batch import Quarter, encode, masks, reset, restart, step
from lepton_env.kernel.indices import COUNT_KPIS, MONEY_KPIS, OBSERVATION_WIDTH
from lepton_env.kernel.structs import StateRef, Work, empty_state
from lepton_env.kernel.tables import CompiledParams, compile_params, compile_params_per_chunk
from lepton_env.state import StateTuple
from lepton_env.types import NUM_MOVES

__all__ = [
    "COUNT_KPIS",
    "MONEY_KPIS",
    "NUM_MOVES",
    "OBSERVATION_WIDTH",
    "CompiledParams",
    "Quarter",
    "StateRef",
    "StateTuple",
    "Work",
    "compile_params",
    "compile_params_per_chunk",
    "empty_state",
    "encode",
    "masks",
    "reset",
    "restart",
    "step",
]
