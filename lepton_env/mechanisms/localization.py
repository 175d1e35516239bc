"""Localization of the product to a region, with diminishing returns to spend.

Each quarter closes a fraction of the remaining gap (a concave learning
curve, as in Johanson & Vahlne's experiential knowledge):
    ``L(t+1) = L(t) + lambda x (1 - L(t))``
A local partner gives a head start: on entry ``L = max(L, boost * partner_quality)``.
"""

from __future__ import annotations

from numba import vectorize


@vectorize(cache=True)
def localize(localization: float, intensity: float, rate: float) -> float:
    """One quarter of localization spend at ``intensity`` in [0, 1]: ``L + lambda x (1 - L)``."""
    return localization + rate * intensity * (1.0 - localization)


@vectorize(cache=True)
def partner_head_start(localization: float, partner_quality: float, boost: float) -> float:
    """Localization after entering with a partner of the given quality."""
    return max(localization, boost * partner_quality)
