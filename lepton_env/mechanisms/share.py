"""Market share: the attraction (multinomial-logit) model with an outside option.

Attraction of player ``i`` in a region (Cooper & Nakanishi 1988, *Market-Share
Analysis*; the logit form of McFadden 1974):
    ``U_i = b_q quality_i + b_b ln(1 + brand_i) + b_l localization_i - b_p ln(price_i)``
A foreign firm's effective quality is reduced by distance and lack of
localization (the Uppsala "psychic distance", Johanson & Vahlne 1977):
    ``quality_eff = quality - penalty * distance * (1 - localization)``
Target share with the non-adoption option ``U_0``:
    ``s*_i = exp(U_i) / (exp(U_0) + sum_j exp(U_j))``
Shares move toward the target with inertia from switching costs
(Klemperer 1995): ``s' = s + k (s* - s)``. With one ``k`` per region the new
shares are a convex combination of two vectors that each sum to at most one,
so they do too.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def attraction(
    quality: NDArray[np.floating],
    brand: NDArray[np.floating],
    localization: NDArray[np.floating] | float,
    price: NDArray[np.floating] | float,
    price_sensitivity: NDArray[np.floating],
    quality_weight: float,
    brand_weight: float,
    localization_weight: float,
) -> NDArray[np.float32]:
    """``U_i``; arrays broadcast against each other."""
    utility = (
        quality_weight * quality
        + brand_weight * np.log1p(brand)
        + localization_weight * localization
        - price_sensitivity * np.log(price)
    )
    return np.asarray(utility, dtype=np.float32)


def effective_quality(
    quality: NDArray[np.floating],  # (B,) or (B, R)
    distance: NDArray[np.floating],  # (B, R)
    localization: NDArray[np.floating],  # (B, R)
    penalty: float,
) -> NDArray[np.float32]:
    """Quality as customers abroad perceive it, (B, R)."""
    quality = quality[:, None] if quality.ndim == 1 else quality
    return (quality - penalty * distance * (1.0 - localization)).astype(np.float32)


def target_shares(
    firm_utility: NDArray[np.float32],  # (B, R)
    firm_serving: NDArray[np.bool_],  # (B, R)
    competitor_utility: NDArray[np.float32],  # (B, R, K)
    competitor_active: NDArray[np.bool_],  # (B, R, K)
    outside_utility: float,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Logit shares ``(s*_firm (B, R), s*_competitors (B, R, K))``.

    Absent players have zero attraction. Utilities are shifted by their maximum
    before ``exp`` so large brands cannot overflow.
    """
    firm_u = np.where(firm_serving, firm_utility, -np.inf)
    comp_u = np.where(competitor_active, competitor_utility, -np.inf)
    shift = np.maximum(np.maximum(firm_u, comp_u.max(axis=-1)), outside_utility)
    # in place on the fresh float32 temporaries: the same operations, fewer allocations
    firm_u -= shift
    firm_e = np.exp(firm_u, out=firm_u)
    comp_u -= shift[..., None]
    comp_e = np.exp(comp_u, out=comp_u)
    total = np.exp(outside_utility - shift) + firm_e + comp_e.sum(axis=-1)
    firm_e /= total
    comp_e /= total[..., None]
    return firm_e.astype(np.float32, copy=False), comp_e.astype(np.float32, copy=False)


def adjust_shares(
    share: NDArray[np.float32], target: NDArray[np.float32], speed: float
) -> NDArray[np.float32]:
    """Partial adjustment ``s' = s + k (s* - s)`` (switching-cost inertia)."""
    return (share + speed * (target - share)).astype(np.float32)
