"""Entry modes: costs, ceilings, acquisition pricing and approval.

Modes follow the establishment-chain of the Uppsala model (Johanson &
Vahlne 1977) and the entry-mode literature (Anderson & Gatignon 1986):
export pilot < partnership < acquisition or greenfield, in rising commitment
and control. Costs scale with the market:
    ``entry cost_m = F_m + c_m M_r``,  ``operating cost_m = f_m + o_m M_r`` per quarter.
An acquisition buys the largest active local competitor at the price a market
would set, ``price = F_3 + c_3 M_r + (1 + premium) V_r(t, s_target)``, its share of
the region's discounted expected demand with a control premium
(:mod:`lepton_env.mechanisms.valuation`), and is vetoed by FDI
screening with probability ``screening_r * S_r`` (UNCTAD, *World Investment
Report 2023*, on the spread of FDI screening). A vetoed bid loses its filing
fee. A greenfield subsidiary opens after a build of several quarters, serving
meanwhile in the mode held before. Exit writes off a share of the entry cost.
"""

from __future__ import annotations

import numpy as np
from numba import njit, vectorize
from numpy.typing import NDArray

from lepton_env.types import EntryMode

_PILOT = int(EntryMode.PILOT)


@vectorize(cache=True)
def entry_cost(fixed: float, per_market: float, potential: float) -> float:
    """``F_m + c_m M_r`` in $M; also the operating cost ``f_m + o_m M_r`` per quarter."""
    return fixed + per_market * potential


@vectorize(cache=True)
def exit_cost(fraction: float, fixed: float, per_market: float, potential: float) -> float:
    """Write-off on exit: ``w_m (F_m + c_m M_r)`` for the mode held."""
    return fraction * entry_cost(fixed, per_market, potential)


@njit(cache=True, inline="always")
def acquisition_target(
    competitor_share: NDArray[np.float32], competitor_active: NDArray[np.bool_]
) -> int:
    """Index of the largest active competitor of a region, over (K,); 0 when none is active."""
    best, best_score = 0, 0.0
    for slot in range(competitor_share.shape[0]):
        score = competitor_share[slot] + 1.0 if competitor_active[slot] else 0.0
        if score > best_score:
            best, best_score = slot, score
    return best


@vectorize(cache=True)
def approval_probability(stringency: float, screening: float) -> float:
    """``1 - screening_r * S_r``."""
    return 1.0 - screening * stringency


@vectorize(cache=True)
def serving_mode(entry_mode: int, interim_mode: int, build_quarters: int) -> int:
    """The mode customers are served in: the interim mode while a greenfield is built."""
    return interim_mode if build_quarters > 0 else entry_mode


@vectorize(cache=True)
def share_ceiling(
    mode: int, mode_ceiling: float, data_localization: float, pilot_ceiling: float
) -> float:
    """Highest share reachable in ``mode``; data-localization rules cap export pilots."""
    if mode == _PILOT and data_localization > 0.5:
        return min(mode_ceiling, pilot_ceiling)
    return mode_ceiling
