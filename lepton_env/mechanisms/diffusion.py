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

from numba import vectorize


@vectorize(cache=True)
def growth_factor(annual_growth: float, quarter: float) -> float:
    """``(1 + g_r) ** (t / 4)``: a function of the scenario and the quarter alone, so the
    compiled quarter tabulates it per region and quarter."""
    return (1.0 + annual_growth) ** (quarter / 4.0)


@vectorize(cache=True)
def scaled_potential(base_potential: float, market_size: float, growth: float) -> float:
    """``M_r(0) * size_r * growth`` with ``growth`` = :func:`growth_factor`."""
    return base_potential * market_size * growth


@vectorize(cache=True)
def market_potential(
    base_potential: float, annual_growth: float, market_size: float, quarter: float
) -> float:
    """``M_r(t)`` in $M per quarter."""
    return scaled_potential(base_potential, market_size, growth_factor(annual_growth, quarter))


@vectorize(cache=True)
def bass_adoption(adoption: float, innovation: float, imitation: float) -> float:
    """One quarter of Bass diffusion, kept in [0, 1]."""
    adopted = adoption + (innovation + imitation * adoption) * (1.0 - adoption)
    return min(max(adopted, 0.0), 1.0)
