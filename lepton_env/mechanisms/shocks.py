"""Regulatory and geopolitical shocks.

New AI laws arrive as a Poisson process (rate ``lambda_r`` per quarter) on top
of a drift, each raising stringency by a jump:
    ``S(t+1) = clip(S(t) + drift + N(t) * jump, 0, 1),  N(t) ~ Poisson(lambda_r)``

(``N(t)`` is drawn by :func:`lepton_env.rng.poisson_small`.)
Geopolitical closures (export controls, bans on the home country's firms)
arrive with probability ``1 - exp(-rho_r)`` per quarter while a region is
open and close it to the firm for that quarter and ``closure_quarters`` more.
"""

from __future__ import annotations

import numpy as np
from numba import vectorize


@vectorize(cache=True)
def tighten(stringency: float, drift: float, laws: float, jump: float) -> float:
    """Stringency after a quarter's drift and ``laws`` new laws, kept in [0, 1]."""
    return min(max(stringency + drift + laws * jump, 0.0), 1.0)


@vectorize(cache=True)
def closure_probability(risk: float) -> float:
    """``1 - exp(-rho_r)``: the chance an open region closes in a quarter."""
    return -np.expm1(-risk)


@vectorize(cache=True)
def closes(closed_quarters: int, probability: float, uniform: float) -> bool:
    """Whether an open region closes this quarter, with ``probability`` =
    :func:`closure_probability`."""
    return closed_quarters == 0 and uniform < probability


@vectorize(cache=True)
def quarters_closed(closed_quarters: int, closing: bool, duration: int) -> int:
    """Quarters the region stays closed after this quarter."""
    return duration if closing else max(closed_quarters - 1, 0)
