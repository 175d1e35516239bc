"""The compiled parameter tables: :class:`~lepton_env.params.Params` as the compiled
functions take them (:class:`CompiledParams`, by reference), with the per-scenario
constants the quarter looks up instead of recomputing per env (:data:`_DERIVED_NAMES`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import config, njit
from numba.core import types
from numba.experimental import structref
from numpy.typing import NDArray

from lepton_env.mechanisms import diffusion, shocks, valuation
from lepton_env.params import FIELDS as PARAM_FIELDS
from lepton_env.params import Params

#: Chunks of a parallel loop per thread, each with its own parameters
#: (:func:`compile_params_per_chunk`).
_CHUNKS_PER_THREAD = 4

# names, and the rivals' traits: the kernel takes the latter per firm (the firm_* names below)
_PARAM_NAMES = [
    name
    for name in PARAM_FIELDS
    if name not in ("region_names", "firm_name", "rival_names") and not name.startswith("rival_")
]


# A StructRef, as the states are: :mod:`lepton_env.kernel.structs` says why.
@structref.register
class _ParamsType(types.StructRef):
    def preprocess_fields(self, fields: Any) -> Any:
        return tuple((name, types.unliteral(kind)) for name, kind in fields)


class CompiledParams(structref.StructRefProxy):
    """:class:`~lepton_env.params.Params` as the compiled functions take them (by reference)."""


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
