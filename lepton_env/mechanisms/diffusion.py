"""Market potential and Bass diffusion of AI adoption.

Potential (AI spend a region could buy per quarter), growing with the region:
    ``M_r(t) = M_r(0) * size_r * (1 + g_r) ** (t / 4)``
Adoption follows the discrete Bass (1969) model, "A new product growth model
for consumer durables", Management Science 15(5):
    ``a(t+1) = a(t) + (p + q a(t)) (1 - a(t))``
with innovation coefficient ``p`` and imitation coefficient ``q`` per quarter.
Served demand is ``D_r = M_r a_r``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def market_potential(
    base_potential: NDArray[np.float64],  # (R,) $M per quarter
    annual_growth: NDArray[np.float64],  # (R,)
    market_size: NDArray[np.float32],  # (B, R)
    quarter: NDArray[np.int32],  # (B,)
) -> NDArray[np.float32]:
    """``M_r(t)`` in $M per quarter, shape (B, R)."""
    growth = np.power(1.0 + annual_growth, quarter[:, None] / 4.0)
    return (base_potential * market_size * growth).astype(np.float32)


def bass_adoption(
    adoption: NDArray[np.float32],  # (B, R)
    innovation: NDArray[np.float64],  # (R,) p
    imitation: NDArray[np.float64],  # (R,) q
) -> NDArray[np.float32]:
    """One quarter of Bass diffusion, kept in [0, 1]."""
    adopted = adoption + (innovation + imitation * adoption) * (1.0 - adoption)
    return np.clip(adopted, 0.0, 1.0).astype(np.float32)
