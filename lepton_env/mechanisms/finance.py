"""Finance: revenue, costs, cash and bankruptcy.

Per region, gross revenue is share times served demand,
``Rev_r = s_r M_r a_r`` while the firm serves it; a partner keeps a share
``rho`` of it, and compute costs a share ``v`` of gross revenue. Cash is accounted in float64:
    ``cash(t+1) = cash(t) + sum_r net revenue_r - v gross revenue - operating costs
    - entry and exit costs - spends - fines - R&D - overhead``
The firm is bankrupt when cash falls below minus its credit line.
"""

from __future__ import annotations

from numba import vectorize


@vectorize(cache=True)
def gross_revenue(firm_share: float, demand: float, serving: bool) -> float:
    """``s_r D_r`` in $M per quarter where served."""
    return firm_share * demand if serving else 0.0


@vectorize(cache=True)
def spend_cost(intensity: float, fixed: float, per_market: float, potential: float) -> float:
    """A spend at ``intensity`` of the budget ``fixed + per_market * M_r``."""
    return intensity * (fixed + per_market * potential)


@vectorize(cache=True)
def is_bankrupt(cash: float, credit_line: float) -> bool:
    """Cash below the credit line."""
    return cash < -credit_line
