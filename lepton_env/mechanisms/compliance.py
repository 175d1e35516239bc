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
from numba import vectorize


@vectorize(cache=True)
def invest(compliance: float, intensity: float, rate: float) -> float:
    """``C + kappa x (1 - C)``."""
    return compliance + rate * intensity * (1.0 - compliance)


@vectorize(cache=True)
def erode(compliance: float, old_stringency: float, new_stringency: float, erosion: float) -> float:
    """Compliance lost when rules tighten, kept in [0, 1]."""
    rise = max(new_stringency - old_stringency, 0.0)
    return min(max(compliance - erosion * rise, 0.0), 1.0)


@vectorize(cache=True)
def enforcement_probability(
    stringency: float, compliance: float, base_hazard: float, gap_hazard: float
) -> float:
    """``1 - exp(-(h_0 + h_1 max(0, S - C)))`` per quarter."""
    return -np.expm1(-(base_hazard + gap_hazard * max(stringency - compliance, 0.0)))


@vectorize(cache=True)
def fine(annual_revenue: float, fine_rate: float) -> float:
    """Fine in $M: ``fine_rate x annual regional revenue``."""
    return fine_rate * annual_revenue
