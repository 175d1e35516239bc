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
from numba import njit, vectorize
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
    MARKET_FIT = 13
    FIT_SIGNAL = 14
    CONFLICT = 15
    OPPONENT = 16  # the member of an opponent population a seat plays (multi-agent VecEnv)


@vectorize(cache=True)
def mix(x: np.uint64) -> np.uint64:
    """SplitMix64 finalizer: a bijective avalanche of 64-bit integers (elementwise)."""
    x = (x ^ (x >> _SHIFT1)) * _MIX1
    x = (x ^ (x >> _SHIFT2)) * _MIX2
    return x ^ (x >> _SHIFT3)


_FIRM = np.uint64(0x8CB92BA72F3D8DD7)


@njit(cache=True)
def firm_key(key: int | np.uint64, firm: int) -> np.uint64:
    """The key of firm ``firm``'s own draws in an episode of key ``key``: the episode's key for
    firm 0 (so a one-firm world draws what it always drew), a mix of both for the others."""
    if firm == 0:
        return np.uint64(key)
    return mix(np.uint64(key) + np.uint64(firm) * _FIRM)


@njit(cache=True)
def stream_key(key: int | np.uint64, quarter: int, stream: int) -> np.uint64:
    """The key of ``stream`` in ``quarter`` of an episode, shared by the draws of a stream."""
    return mix(
        np.uint64(key) ^ mix((np.uint64(quarter) << np.uint64(8)) + np.uint64(stream) + _GAMMA)
    )


@njit(cache=True)
def draw_bits(key: int, quarter: int, stream: int, index: int) -> int:
    """The 64 random bits of draw ``index`` of ``stream`` in ``quarter`` of an episode."""
    return mix(stream_key(key, quarter, stream) + np.uint64(index + 1) * _GAMMA)


@njit(cache=True)
def uniform_of(stream: np.uint64, index: int) -> float:
    """Draw ``index`` of the stream with key ``stream`` (:func:`stream_key`), in [0, 1)."""
    return float(mix(np.uint64(stream) + np.uint64(index + 1) * _GAMMA) >> _SHIFT_UNIT) * _TO_UNIT


@njit(cache=True)
def uniform_at(key: int | np.uint64, quarter: int, stream: int, index: int) -> float:
    """Draw ``index`` of ``stream`` as a uniform number in [0, 1) (53 random bits)."""
    return uniform_of(stream_key(key, quarter, stream), index)


@njit(cache=True)
def normal_of(stream: np.uint64, index: int, count: int) -> float:
    """Normal number ``index`` of a draw of ``count`` from the stream with key ``stream``
    (:func:`stream_key`): Box-Muller, ``sqrt(-2 ln(1-u)) cos(2 pi v)``.

    ``u`` is uniform ``index`` and ``v`` uniform ``count + index`` of the stream.
    """
    u = uniform_of(stream, index)
    v = uniform_of(stream, count + index)
    return np.sqrt(-2.0 * np.log1p(-u)) * np.cos(2.0 * np.pi * v)


@njit(cache=True)
def normal_at(key: int, quarter: int, stream: int, index: int, count: int) -> float:
    """Normal number ``index`` of a draw of ``count`` of ``stream`` (:func:`normal_of`)."""
    return normal_of(stream_key(key, quarter, stream), index, count)


#: Seeds are unsigned 64-bit integers: [0, SEED_LIMIT).
SEED_LIMIT = 2**64


def check_seed(seed: object, where: str = "seed", count: int = 1) -> int:
    """``seed`` as a Python int, if it and the ``count - 1`` seeds after it lie in [0, 2**64).

    An env face seeds its n sub-envs ``seed, seed + 1, ..., seed + n - 1``; a bool,
    a float or a string is refused rather than read as a number or a sequence.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(
            f"{where} = {seed!r}: expected an integer in [0, 2**64) or None, "
            f"got {type(seed).__name__}"
        )
    value = int(seed)
    if not 0 <= value <= SEED_LIMIT - count:
        span = f"; with {count} envs seeded {where}..{where}+{count - 1}" if count > 1 else ""
        raise ValueError(f"{where} = {value}: allowed range [0, 2**64 - {count}]{span}")
    return value


def episode_key(seed: int | NDArray[np.integer], offset: int = 0) -> NDArray[np.uint64]:
    """The key of the first episode after ``reset(seed=seed)`` (offset separates seed splits)."""
    seeds = np.asarray(seed, dtype=np.uint64) + np.uint64(offset)
    return mix(mix(seeds + _GAMMA))


def next_episode_key(key: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """The key of the episode that follows ``key`` when an env resets without a seed."""
    return mix(key ^ _NEXT_EPISODE)


@njit(cache=True)
def _fill(
    keys: NDArray[np.uint64],
    quarters: NDArray[np.int64],
    stream: int,
    gaussian: bool,
    out: NDArray[np.float64],
) -> None:
    count = out.shape[1]
    for row in range(out.shape[0]):
        for index in range(count):
            if gaussian:
                out[row, index] = normal_at(keys[row], quarters[row], stream, index, count)
            else:
                out[row, index] = uniform_at(keys[row], quarters[row], stream, index)


def _draw(
    key: NDArray[np.uint64],
    quarter: NDArray[np.integer],
    stream: Stream,
    shape: tuple[int, ...],
    gaussian: bool,
) -> NDArray[np.float64]:
    key = np.ascontiguousarray(key, dtype=np.uint64)
    count = int(np.prod(shape)) if shape else 1
    out = np.empty((key.shape[0], count), dtype=np.float64)
    _fill(key, np.asarray(quarter, dtype=np.int64), int(stream), gaussian, out)
    return out.reshape((-1, *shape))


def uniform(
    key: NDArray[np.uint64],
    quarter: NDArray[np.integer],
    stream: Stream,
    shape: tuple[int, ...] = (),
) -> NDArray[np.float64]:
    """Uniform numbers in [0, 1), shape ``(B, *shape)``: ``uniform_at`` for each flat index."""
    return _draw(key, quarter, stream, shape, gaussian=False)


def normal(
    key: NDArray[np.uint64],
    quarter: NDArray[np.integer],
    stream: Stream,
    shape: tuple[int, ...] = (),
) -> NDArray[np.float64]:
    """Standard normal numbers, shape ``(B, *shape)``: ``normal_at`` for each flat index."""
    return _draw(key, quarter, stream, shape, gaussian=True)


@vectorize(cache=True)
def poisson_small(uniform: float, rate: float) -> int:
    """A Poisson count by inversion, truncated at 3 events (rates here are well below 1).

    ``P(N = n) = exp(-rate) rate**n / n!``; counts above 3 are returned as 3.
    """
    return poisson_small_given(uniform, rate, np.exp(-rate))


@vectorize(cache=True)
def poisson_small_given(uniform: float, rate: float, none: float) -> int:
    """:func:`poisson_small` with ``none = exp(-rate)`` given (the compiled quarter
    computes it once per scenario)."""
    term = none
    cdf = term
    count = 0
    for n in range(1, 4):
        if uniform >= cdf:
            count += 1
        term = term * rate / n
        cdf = cdf + term
    return count
