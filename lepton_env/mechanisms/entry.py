"""Entry modes: costs, ceilings, acquisition pricing and approval.

Modes follow the establishment-chain of the Uppsala model (Johanson &
Vahlne 1977) and the entry-mode literature (Anderson & Gatignon 1986):
export pilot < partnership < acquisition or greenfield, in rising commitment
and control. Costs scale with the market:
    ``entry cost_m = F_m + c_m M_r``,  ``operating cost_m = f_m + o_m M_r`` per quarter.
An acquisition buys the largest active local competitor at a revenue multiple,
``price = F_3 + c_3 M_r + multiple * 4 * s_target * D_r``, and is vetoed by FDI
screening with probability ``screening_r * S_r`` (UNCTAD, *World Investment
Report 2023*, on the spread of FDI screening). A vetoed bid loses its filing
fee. A greenfield subsidiary opens after a build of several quarters, serving
meanwhile in the mode held before. Exit writes off a share of the entry cost.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from lepton_env.params import Params
from lepton_env.types import EntryMode


def entry_cost(mode: int, potential: NDArray[np.floating], params: Params) -> NDArray[np.float64]:
    """``F_m + c_m M_r`` in $M, (B, R)."""
    return params.entry_cost_fixed[mode] + params.entry_cost_market[mode] * potential.astype(
        np.float64, copy=False
    )


def operating_cost(
    entry_mode: NDArray[np.int8], potential: NDArray[np.float32], params: Params
) -> NDArray[np.float64]:
    """``f_m + o_m M_r`` per quarter for the mode held, (B, R); zero when absent."""
    return params.operating_cost_fixed[entry_mode] + params.operating_cost_market[
        entry_mode
    ] * potential.astype(np.float64)


def exit_cost(
    entry_mode: NDArray[np.int8], potential: NDArray[np.float32], params: Params
) -> NDArray[np.float64]:
    """Write-off on exit: ``w_m (F_m + c_m M_r)``, (B, R)."""
    full = params.entry_cost_fixed[entry_mode] + params.entry_cost_market[
        entry_mode
    ] * potential.astype(np.float64)
    return params.exit_cost_fraction[entry_mode] * full


def acquisition_target(
    competitor_share: NDArray[np.float32], competitor_active: NDArray[np.bool_]
) -> NDArray[np.intp]:
    """Index of the largest active competitor, (B, R)."""
    return np.argmax(np.where(competitor_active, competitor_share + 1.0, 0.0), axis=-1)


def acquisition_price(
    target_share: NDArray[np.float32],
    demand: NDArray[np.float32],
    potential: NDArray[np.float32],
    params: Params,
) -> NDArray[np.float64]:
    """Price in $M: fixed and market costs plus a multiple of the target's annual revenue."""
    annual_revenue = 4.0 * target_share.astype(np.float64) * demand
    mode = int(EntryMode.ACQUISITION)
    return entry_cost(mode, potential, params) + params.acquisition_revenue_multiple * (
        annual_revenue
    )


def approval_probability(
    stringency: NDArray[np.float32], screening: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``1 - screening_r * S_r``."""
    return 1.0 - screening * stringency.astype(np.float64)


def serving_mode(
    entry_mode: NDArray[np.int8], interim_mode: NDArray[np.int8], build_quarters: NDArray[np.int16]
) -> NDArray[np.int8]:
    """The mode customers are served in: the interim mode while a greenfield is built."""
    return np.where(build_quarters > 0, interim_mode, entry_mode).astype(np.int8)


def share_ceiling(
    mode: NDArray[np.int8], data_localization: NDArray[np.float64], params: Params
) -> NDArray[np.float32]:
    """Highest share reachable in ``mode``; data-localization rules cap export pilots."""
    ceiling = params.share_ceiling[mode]
    pilot_cap = np.where(data_localization > 0.5, params.data_localization_pilot_ceiling, ceiling)
    return np.where(mode == EntryMode.PILOT, np.minimum(ceiling, pilot_cap), ceiling).astype(
        np.float32
    )
