"""Local partners with hidden quality, due diligence, and partnership failure.

Each region has ``P`` candidate partners with hidden quality
``theta ~ clip(N(mu, sigma^2), 0, 1)``. The firm sees an estimate whose noise
shrinks with diligence rounds ``n`` (averaging independent signals):
    ``theta_hat = clip(theta + sigma_0 / sqrt(1 + n) * z, 0, 1)``
and partners with the best estimate. A partnership fails (hold-up, exit of
the partner; Williamson 1985) with hazard ``rho (1 - theta)`` per quarter.
"""

from __future__ import annotations

import numpy as np
from numba import njit, vectorize
from numpy.typing import NDArray


@vectorize(cache=True)
def hidden_quality(mean: float, spread: float, normal: float) -> float:
    """Hidden partner quality ``clip(mu + sigma z, 0, 1)`` from a standard normal ``z``."""
    return min(max(mean + spread * normal, 0.0), 1.0)


@vectorize(cache=True)
def estimate(quality: float, rounds: float, noise: float, normal: float) -> float:
    """The firm's estimate of partner quality after ``rounds`` of diligence."""
    return min(max(quality + noise / np.sqrt(1.0 + rounds) * normal, 0.0), 1.0)


@njit(cache=True)
def choose_partner(estimates: NDArray[np.float32]) -> int:
    """Index of the candidate with the best estimate (the first on ties), over (P,)."""
    return int(np.argmax(estimates))


@njit(cache=True)
def choose_free_partner(estimates: NDArray[np.float32], taken: NDArray[np.bool_]) -> int:
    """Index of the best-estimated candidate not ``taken`` by another firm (partnerships are
    exclusive), the first on ties; -1 when every candidate is taken. With nothing taken it is
    :func:`choose_partner`."""
    best = -1
    for c in range(estimates.shape[0]):
        if not taken[c] and (best < 0 or estimates[c] > estimates[best]):
            best = c
    return best


@vectorize(cache=True)
def failure_probability(partner_quality: float, rate: float) -> float:
    """``1 - exp(-rho (1 - theta))`` per quarter."""
    return -np.expm1(-rate * (1.0 - partner_quality))
