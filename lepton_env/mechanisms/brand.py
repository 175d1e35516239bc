"""Brand goodwill: the Nerlove-Arrow (1962) model in discrete time.

Nerlove & Arrow, "Optimal advertising policy under dynamic conditions",
Economica 29(114):
    ``B(t+1) = (1 - delta) B(t) + eta x(t)``
with marketing intensity ``x`` in [0, 1] (share of the region's quarterly
marketing budget), efficiency ``eta`` and decay ``delta``. The steady state
under constant spend is ``eta x / delta``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def nerlove_arrow(
    brand: NDArray[np.float32], intensity: NDArray[np.float32], efficiency: float, decay: float
) -> NDArray[np.float32]:
    """One quarter of goodwill accumulation and decay."""
    return ((1.0 - decay) * brand + efficiency * intensity).astype(np.float32)
