"""Regulatory and geopolitical shocks.

New AI laws arrive as a Poisson process (rate ``lambda_r`` per quarter) on top
of a drift, each raising stringency by a jump:
    ``S(t+1) = clip(S(t) + drift + N(t) * jump, 0, 1),  N(t) ~ Poisson(lambda_r)``
Geopolitical closures (export controls, bans on the home country's firms)
arrive with probability ``1 - exp(-rho_r)`` per quarter while a region is
open and close it to the firm for that quarter and ``closure_quarters`` more.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from lepton_env.rng import poisson_small


def regulatory_step(
    stringency: NDArray[np.float32],  # (B, R)
    drift: NDArray[np.float64],  # (R,)
    rate: NDArray[np.float64],  # (R,)
    jump: NDArray[np.float64],  # (R,)
    uniforms: NDArray[np.float64],  # (B, R)
) -> tuple[NDArray[np.float32], NDArray[np.int8]]:
    """New stringency and the number of new laws this quarter."""
    laws = poisson_small(uniforms, np.broadcast_to(rate, uniforms.shape))
    tightened = np.clip(stringency + drift + laws * jump, 0.0, 1.0)
    return tightened.astype(np.float32), laws


def geopolitical_step(
    closed_quarters: NDArray[np.int16],  # (B, R)
    risk: NDArray[np.float64],  # (R,)
    duration: int,
    uniforms: NDArray[np.float64],  # (B, R)
) -> tuple[NDArray[np.int16], NDArray[np.bool_]]:
    """Quarters each region stays closed after this quarter, and which closed now."""
    opened = closed_quarters == 0
    closing = opened & (uniforms < -np.expm1(-risk))
    remaining = np.where(closing, duration, np.maximum(closed_quarters - 1, 0))
    return remaining.astype(np.int16), closing
