"""Compliance, enforcement, fines and suspensions.

Compliance ``C`` in [0, 1] rises with spend (diminishing returns) and erodes
when stringency ``S`` rises:
    ``C(t+1) = clip(C + kappa x (1 - C) - e max(0, S(t+1) - S(t)), 0, 1)``
Enforcement events arrive as a Poisson process whose hazard grows with the
compliance gap: ``h = h_0 + h_1 max(0, S - C)``, so ``P(event) = 1 - exp(-h)``.
A fine is a share of the region's annual revenue, as GDPR Art. 83(5) caps
fines at 4% of annual turnover; a share of events is severe and suspends
operations for some quarters (as regulators did with ChatGPT in Italy, 2023).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def invest(
    compliance: NDArray[np.float32], intensity: NDArray[np.float32], rate: float
) -> NDArray[np.float32]:
    """``C + kappa x (1 - C)``."""
    return (compliance + rate * intensity * (1.0 - compliance)).astype(np.float32)


def erode(
    compliance: NDArray[np.float32],
    old_stringency: NDArray[np.float32],
    new_stringency: NDArray[np.float32],
    erosion: float,
) -> NDArray[np.float32]:
    """Compliance lost when rules tighten, kept in [0, 1]."""
    rise = np.maximum(new_stringency - old_stringency, 0.0)
    return np.clip(compliance - erosion * rise, 0.0, 1.0).astype(np.float32)


def enforcement_probability(
    stringency: NDArray[np.float32],
    compliance: NDArray[np.float32],
    base_hazard: float,
    gap_hazard: float,
) -> NDArray[np.float64]:
    """``1 - exp(-(h_0 + h_1 max(0, S - C)))`` per quarter."""
    hazard = base_hazard + gap_hazard * np.maximum(stringency - compliance, 0.0)
    return -np.expm1(-hazard.astype(np.float64))


def fine(annual_revenue: NDArray[np.floating], fine_rate: float) -> NDArray[np.float64]:
    """Fine in $M: ``fine_rate x annual regional revenue``."""
    return fine_rate * np.asarray(annual_revenue, dtype=np.float64)
