"""Global R&D against a moving technology frontier.

Product quality ``q`` is measured relative to the frontier, which advances
every quarter and so erodes ``q`` at the obsolescence rate ``o``; R&D closes
part of the gap with diminishing returns to spend ``X`` (a concave
knowledge-production function, Griliches 1979):
    ``q(t+1) = clip(q (1 - o) + e (1 - q) (1 - exp(-X / X_0)), 0, 1)``
"""

from __future__ import annotations

import numpy as np
from numba import vectorize


@vectorize(cache=True)
def rnd_quality(
    quality: float, spend: float, efficiency: float, scale: float, obsolescence: float
) -> float:
    """Quality after one quarter of frontier drift and R&D (``spend`` in $M)."""
    gain = efficiency * (1.0 - quality) * -np.expm1(-spend / scale)
    return min(max(quality * (1.0 - obsolescence) + gain, 0.0), 1.0)
