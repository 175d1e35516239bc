"""Counter-based randomness: every draw is a pure function of its coordinates.

A draw is ``mix(key(episode_seed, quarter, stream) + (i + 1) * GAMMA)`` for the
``i``-th number of a draw, where ``mix`` is the SplitMix64 finalizer
(Steele, Lea & Flood 2014, "Fast splittable pseudorandom number generators").
No generator object carries state between calls, so an environment in a batch
of n draws exactly what it draws alone: batch size never changes an episode.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import NDArray

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_NEXT_EPISODE = np.uint64(0xD1B54A32D192ED03)
_TO_UNIT = 2.0**-53
_SHIFT1, _SHIFT2, _SHIFT3, _SHIFT_UNIT = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


class Stream(IntEnum):
    """Names of the independent random draws of the model."""

    REGULATORY_SHOCK = 1
    GEOPOLITICAL_SHOCK = 2
    ACQUISITION_APPROVAL = 3
    ENFORCEMENT = 4
    ENFORCEMENT_SEVERITY = 5
    PARTNER_FAILURE = 6
    DILIGENCE_NOISE = 7
    PARTNER_QUALITY = 8
    MARKET_SIZE_NOISE = 9
    DISTANCE_NOISE = 10
    COMPETITOR_NOISE = 11
    WORLD = 12


def mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """SplitMix64 finalizer: a bijective avalanche of 64-bit integers."""
    x = x ^ (x >> _SHIFT1)  # a new array: the caller's is never modified
    x *= _MIX1
    x ^= x >> _SHIFT2
    x *= _MIX2
    x ^= x >> _SHIFT3
    return x


def episode_key(seed: int | NDArray[np.integer], offset: int = 0) -> NDArray[np.uint64]:
    """The key of the first episode after ``reset(seed=seed)`` (offset separates seed splits)."""
    seeds = np.asarray(seed, dtype=np.uint64) + np.uint64(offset)
    return mix(mix(seeds + _GAMMA))


def next_episode_key(key: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The key of the episode that follows ``key`` when an env resets without a seed."""
    return mix(key ^ _NEXT_EPISODE)


def _bits(
    key: NDArray[np.uint64], quarter: NDArray[np.integer], stream: Stream, count: int
) -> NDArray[np.uint64]:
    draw_key = mix(
        key ^ mix((quarter.astype(np.uint64) << np.uint64(8)) + np.uint64(int(stream)) + _GAMMA)
    )
    counter = (np.arange(1, count + 1, dtype=np.uint64) * _GAMMA)[None, :]
    return mix(draw_key[:, None] + counter)


def uniform(
    key: NDArray[np.uint64],
    quarter: NDArray[np.integer],
    stream: Stream,
    shape: tuple[int, ...] = (),
) -> NDArray[np.float64]:
    """Uniform numbers in [0, 1), shape ``(B, *shape)``, one independent set per env."""
    count = int(np.prod(shape)) if shape else 1
    bits = _bits(key, quarter, stream, count)
    bits >>= _SHIFT_UNIT
    unit = bits.astype(np.float64)
    unit *= _TO_UNIT
    return unit.reshape((-1, *shape))


def uniform_where(
    needed: NDArray[np.bool_],
    key: NDArray[np.uint64],
    quarter: NDArray[np.integer],
    stream: Stream,
    shape: tuple[int, ...] = (),
) -> NDArray[np.float64]:
    """``uniform`` for the envs where ``needed`` (B,); the others get 1.0, above any probability.

    Draws are per env, so an env's numbers do not depend on which others draw.
    """
    rows = np.flatnonzero(needed)
    if len(rows) == len(needed):
        return uniform(key, quarter, stream, shape)
    drawn = np.ones((len(needed), *shape), dtype=np.float64)
    if len(rows):
        drawn[rows] = uniform(key[rows], quarter[rows], stream, shape)
    return drawn


def normal(
    key: NDArray[np.uint64],
    quarter: NDArray[np.integer],
    stream: Stream,
    shape: tuple[int, ...] = (),
) -> NDArray[np.float64]:
    """Standard normal numbers by the Box-Muller transform, shape ``(B, *shape)``."""
    count = int(np.prod(shape)) if shape else 1
    bits = _bits(key, quarter, stream, 2 * count)
    unit = (bits >> np.uint64(11)).astype(np.float64) * _TO_UNIT
    radius = np.sqrt(-2.0 * np.log1p(-unit[:, :count]))
    return (radius * np.cos(2.0 * np.pi * unit[:, count:])).reshape((-1, *shape))


def poisson_small(uniforms: NDArray[np.float64], rate: NDArray[np.floating]) -> NDArray[np.int8]:
    """Poisson counts by inversion, truncated at 3 events (rates here are well below 1).

    ``P(N = n) = exp(-rate) rate**n / n!``; counts above 3 are returned as 3.
    """
    term = np.exp(-rate) * np.ones_like(uniforms)
    cdf = term.copy()
    count = np.zeros(uniforms.shape, dtype=np.int8)
    for n in range(1, 4):
        count += uniforms >= cdf
        term = term * rate / n
        cdf = cdf + term
    return count
