"""Localization of the product to a region, with diminishing returns to spend.

Each quarter closes a fraction of the remaining gap (a concave learning
curve, as in Johanson & Vahlne's experiential knowledge):
    ``L(t+1) = L(t) + lambda x (1 - L(t))``
A local partner gives a head start: on entry ``L = max(L, boost * partner_quality)``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def localize(
    localization: NDArray[np.float32], intensity: NDArray[np.float32], rate: float
) -> NDArray[np.float32]:
    """One quarter of localization spend at ``intensity`` in [0, 1]."""
    return (localization + rate * intensity * (1.0 - localization)).astype(np.float32)


def partner_head_start(
    localization: NDArray[np.float32], partner_quality: NDArray[np.float32], boost: float
) -> NDArray[np.float32]:
    """Localization after entering with a partner of the given quality."""
    return np.maximum(localization, boost * partner_quality).astype(np.float32)
