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
from numpy.typing import NDArray


def hidden_quality(
    mean: NDArray[np.float64], spread: float, normals: NDArray[np.float64]
) -> NDArray[np.float32]:
    """Draw hidden partner quality, (B, R, P)."""
    return np.clip(mean + spread * normals, 0.0, 1.0).astype(np.float32)


def estimate(
    quality: NDArray[np.float32],  # (B, R, P)
    rounds: NDArray[np.integer],  # (B, R)
    noise: float,
    normals: NDArray[np.float64],  # (B, R, P)
) -> NDArray[np.float32]:
    """The firm's estimate of partner quality after ``rounds`` of diligence."""
    sd = noise / np.sqrt(1.0 + rounds[..., None])
    return np.clip(quality + sd * normals, 0.0, 1.0).astype(np.float32)


def choose_partner(estimates: NDArray[np.float32]) -> NDArray[np.int8]:
    """Index of the candidate with the best estimate, (B, R)."""
    return np.argmax(estimates, axis=-1).astype(np.int8)


def failure_probability(partner_quality: NDArray[np.float32], rate: float) -> NDArray[np.float64]:
    """``1 - exp(-rho (1 - theta))`` per quarter."""
    return -np.expm1(-rate * (1.0 - partner_quality.astype(np.float64)))
