"""Brand goodwill: the Nerlove-Arrow (1962) model in discrete time.

Nerlove & Arrow, "Optimal advertising policy under dynamic conditions",
Economica 29(114):
    ``B(t+1) = (1 - delta) B(t) + eta x(t)``
with marketing intensity ``x`` in [0, 1] (share of the region's quarterly
marketing budget), efficiency ``eta`` and decay ``delta``. The steady state
under constant spend is ``eta x / delta``.
"""

from __future__ import annotations

from numba import vectorize


@vectorize(cache=True)
def nerlove_arrow(brand: float, intensity: float, efficiency: float, decay: float) -> float:
    """One quarter of goodwill accumulation and decay, ``(1 - delta) B + eta x``."""
    return (1.0 - decay) * brand + efficiency * intensity
