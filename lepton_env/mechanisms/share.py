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

from typing import Any

import numpy as np
from numba import njit, vectorize
from numpy.typing import NDArray


@vectorize(cache=True)
def attraction(
    quality: float,
    brand: float,
    localization: float,
    price: float,
    price_sensitivity: float,
    quality_weight: float,
    brand_weight: float,
    localization_weight: float,
) -> float:
    """``U_i``."""
    return (
        quality_weight * quality
        + brand_weight * np.log1p(brand)
        + localization_weight * localization
        - price_sensitivity * np.log(price)
    )


@vectorize(cache=True)
def effective_quality(
    quality: float, distance: float, localization: float, penalty: float
) -> float:
    """Quality as customers abroad perceive it."""
    return quality - penalty * distance * (1.0 - localization)


@njit(cache=True)
def target_shares(
    firm_utility: float | np.floating[Any],
    firm_serving: bool,
    competitor_utility: NDArray[np.floating[Any]],
    competitor_active: NDArray[np.bool_],
    outside_utility: float | np.floating[Any],
) -> float:
    """Logit shares of one region with one firm (:func:`firm_target_shares` with F = 1):
    returns ``s*_firm``, and overwrites ``competitor_utility`` (K,) with ``s*_competitors``."""
    target = np.empty(1)
    firm_target_shares(
        np.array([firm_utility]),
        np.array([firm_serving]),
        competitor_utility,
        competitor_active,
        outside_utility,
        target,
    )
    return target[0]


@vectorize(cache=True)
def adjust_shares(share: float, target: float, speed: float) -> float:
    """Partial adjustment ``s' = s + k (s* - s)`` (switching-cost inertia)."""
    return share + speed * (target - share)


@njit(cache=True, inline="always")
def firm_target_shares(
    firm_utility: NDArray[np.floating[Any]],
    firm_serving: NDArray[np.bool_],
    competitor_utility: NDArray[np.floating[Any]],
    competitor_active: NDArray[np.bool_],
    outside_utility: float | np.floating[Any],
    firm_target: NDArray[np.float64],
) -> None:
    """Logit shares of one region with F firms in the choice set: writes ``s*`` of each firm
    into ``firm_target`` (F,) and of each competitor over ``competitor_utility`` (K,).

    Absent players (a firm not serving, an inactive competitor) have zero attraction.
    Utilities are shifted by their maximum before ``exp`` so large brands cannot overflow.
    """
    shift = outside_utility
    for f in range(firm_utility.shape[0]):
        if firm_serving[f]:
            shift = max(shift, firm_utility[f])
    for slot in range(competitor_utility.shape[0]):
        if competitor_active[slot]:
            shift = max(shift, competitor_utility[slot])
    total = np.float64(np.exp(outside_utility - shift))
    for f in range(firm_utility.shape[0]):
        weight = np.float64(np.exp(firm_utility[f] - shift)) if firm_serving[f] else 0.0
        firm_target[f] = weight
        total += weight
    for slot in range(competitor_utility.shape[0]):
        weight = np.exp(competitor_utility[slot] - shift) if competitor_active[slot] else 0.0
        competitor_utility[slot] = weight
        total += weight
    for slot in range(competitor_utility.shape[0]):
        competitor_utility[slot] /= total
    for f in range(firm_utility.shape[0]):
        firm_target[f] /= total
