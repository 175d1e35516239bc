"""Finance: revenue, costs, cash and bankruptcy.

Per region, gross revenue is share times served demand,
``Rev_r = s_r M_r a_r`` while the firm serves it; a partner keeps a share
``rho`` of it, and compute costs a share ``v`` of gross revenue. Cash is accounted in float64:
    ``cash(t+1) = cash(t) + sum_r net revenue_r - v gross revenue - operating costs
    - entry and exit costs - spends - fines - R&D - overhead``
The firm is bankrupt when cash falls below minus its credit line.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def gross_revenue(
    firm_share: NDArray[np.float32], demand: NDArray[np.float32], serving: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """``s_r D_r`` in $M per quarter where served, (B, R)."""
    return np.where(serving, firm_share.astype(np.float64) * demand, 0.0)


def spend_cost(
    intensity: NDArray[np.float32], fixed: float, per_market: float, potential: NDArray[np.float32]
) -> NDArray[np.float64]:
    """A spend at ``intensity`` of the budget ``fixed + per_market * M_r``, (B, R)."""
    return intensity.astype(np.float64) * (fixed + per_market * potential.astype(np.float64))


def is_bankrupt(cash: NDArray[np.float64], credit_line: float) -> NDArray[np.bool_]:
    """Cash below the credit line."""
    return np.asarray(cash < -credit_line)
