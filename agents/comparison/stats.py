"""Aggregate statistics of RL scores with stratified-bootstrap percentile intervals.

The estimators and intervals of Agarwal et al. (2021), "Deep Reinforcement
Learning at the Edge of the Statistical Precipice" (NeurIPS), written as
vectorized NumPy over the bootstrap axis. They reproduce the archived
``rliable`` library's point estimates exactly and its intervals within
bootstrap noise (``tests/agents/comparison/test_stats.py`` against stored reference values).

Scores are a ``(runs, tasks)`` matrix per agent (a 1-D sequence is one task).
Every statistic takes an array ``(..., runs, tasks)`` and reduces the last two
axes, so it runs on all bootstrap replicates at once:

* :func:`mean`: mean over tasks of the per-task mean over runs.
* :func:`median`: median over tasks of the per-task mean over runs.
* :func:`interquartile_mean` (IQM): the mean of the middle half of all
  ``runs x tasks`` scores, the 25% trimmed mean, cutting ``floor(0.25 n)``
  scores at each end (SciPy's ``trim_mean``).
* :func:`optimality_gap`: ``gamma - mean(min(score, gamma))``, how far the
  scores fall short of ``gamma`` (1 for normalized scores).
* :func:`probability_of_improvement`: per task the Mann-Whitney statistic
  ``P(X > Y) = 1/(mn) sum_i sum_j S(x_i, y_j)``, ``S = 1, 1/2, 0`` for ``>, =, <``,
  averaged over tasks.
* :func:`score_distribution` (performance profile): the fraction of all
  scores above each threshold ``tau``; :func:`average_score_distribution` the
  fraction of per-task mean scores above it.

The stratified bootstrap (Efron & Tibshirani 1993, ch. 8) resamples runs with
replacement within each task; a statistic of two agents (probability of
improvement) resamples each agent's runs independently. The interval is the
percentile interval: the ``(1 - c)/2`` and ``(1 + c)/2`` quantiles (linear
interpolation) of the statistic over the replicates. Each agent's replicates
are drawn from ``numpy.random.default_rng(seed)``, so an agent's interval
depends only on its scores, the seed and ``reps``, never on which other agents
are compared, and nothing touches NumPy's global generator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
#: ``(..., runs, tasks) -> (..., k)``: a statistic over the last two axes.
Statistic = Callable[[FloatArray], FloatArray]
#: ``(..., m, tasks), (..., n, tasks) -> (..., k)``: a statistic of two agents.
PairStatistic = Callable[[FloatArray, FloatArray], FloatArray]

#: Bootstrap replicates drawn at once are capped at this many resampled scores
#: (memory); the draws do not depend on the input beyond its shape.
CHUNK_ELEMENTS = 1 << 22


def score_matrix(scores: ArrayLike) -> FloatArray:
    """``scores`` as a ``(runs, tasks)`` float matrix (a 1-D sequence is one task)."""
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            f"scores must be a non-empty 1-D sequence or (runs, tasks) matrix, "
            f"got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"scores must be finite, got {array[~np.isfinite(array)][:3]}")
    return array


# ---------------------------------------------------------------------- estimators
def mean(scores: FloatArray) -> FloatArray:
    """Mean over tasks of the per-task mean over runs: ``(..., runs, tasks) -> (...)``."""
    return np.asarray(scores.mean(axis=-2).mean(axis=-1))


def median(scores: FloatArray) -> FloatArray:
    """Median over tasks of the per-task mean over runs: ``(..., runs, tasks) -> (...)``."""
    return np.asarray(np.median(scores.mean(axis=-2), axis=-1))


def interquartile_mean(scores: FloatArray) -> FloatArray:
    """IQM: mean of the sorted ``runs x tasks`` scores ``[floor(n/4), n - floor(n/4))``."""
    flat = np.sort(scores.reshape(*scores.shape[:-2], -1), axis=-1)
    cut = int(0.25 * flat.shape[-1])
    return np.asarray(flat[..., cut : flat.shape[-1] - cut].mean(axis=-1))


def optimality_gap(scores: FloatArray, gamma: float = 1.0) -> FloatArray:
    """``gamma - mean(min(score, gamma))`` over all runs and tasks: ``(...)``."""
    clipped = np.minimum(scores, gamma)
    return np.asarray(gamma - clipped.reshape(*scores.shape[:-2], -1).mean(axis=-1))


def probability_of_improvement(scores_x: FloatArray, scores_y: FloatArray) -> FloatArray:
    """Mean over tasks of ``P(X > Y)``, the Mann-Whitney ``U / (m n)`` of each task."""
    greater = scores_x[..., :, None, :] > scores_y[..., None, :, :]
    equal = scores_x[..., :, None, :] == scores_y[..., None, :, :]
    per_task = (greater.mean(axis=(-3, -2))) + 0.5 * equal.mean(axis=(-3, -2))
    return np.asarray(per_task.mean(axis=-1))


def score_distribution(scores: FloatArray, taus: ArrayLike) -> FloatArray:
    """Performance profile: fraction of all scores ``> tau``, ``(..., len(taus))``."""
    thresholds = np.asarray(taus, dtype=np.float64)
    flat = scores.reshape(*scores.shape[:-2], -1)
    return np.asarray((flat[..., None, :] > thresholds[:, None]).mean(axis=-1))


def average_score_distribution(scores: FloatArray, taus: ArrayLike) -> FloatArray:
    """Performance profile: fraction of per-task mean scores ``> tau``, ``(..., len(taus))``."""
    thresholds = np.asarray(taus, dtype=np.float64)
    task_means = scores.mean(axis=-2)
    return np.asarray((task_means[..., None, :] > thresholds[:, None]).mean(axis=-1))


def mean_and_iqm(scores: FloatArray) -> FloatArray:
    """``[mean, IQM]`` along a last axis: the comparison's two headline statistics."""
    return np.stack([mean(scores), interquartile_mean(scores)], axis=-1)


# ---------------------------------------------------------------------- bootstrap
@dataclass(frozen=True)
class Estimate:
    """A statistic's point estimate and its percentile interval, elementwise."""

    point: FloatArray  # (k,)
    low: FloatArray  # (k,)
    high: FloatArray  # (k,)


def _check(reps: int, confidence: float) -> None:
    if reps < 1:
        raise ValueError(f"reps = {reps}: must be >= 1")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence = {confidence}: must lie in (0, 1)")


def _chunks(reps: int, scores_per_replicate: int) -> list[int]:
    size = max(1, CHUNK_ELEMENTS // max(scores_per_replicate, 1))
    return [min(size, reps - start) for start in range(0, reps, size)]


def stratified_resample(
    scores: FloatArray, replicates: int, generator: np.random.Generator
) -> FloatArray:
    """``(replicates, runs, tasks)``: each task's runs drawn with replacement."""
    runs = scores.shape[0]
    picks = generator.integers(0, runs, size=(replicates, *scores.shape))
    return np.take_along_axis(np.broadcast_to(scores, picks.shape), picks, axis=-2)


def _percentiles(values: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.percentile(values, [100.0 * alpha, 100.0 * (1.0 - alpha)], axis=0)
    return np.atleast_1d(low), np.atleast_1d(high)


def bootstrap(
    scores: ArrayLike,
    statistic: Statistic,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """The statistic of ``scores`` with its stratified-bootstrap percentile interval."""
    _check(reps, confidence)
    matrix = score_matrix(scores)
    generator = np.random.default_rng(seed)
    replicates = [
        np.atleast_1d(statistic(stratified_resample(matrix, count, generator)).reshape(count, -1))
        for count in _chunks(reps, matrix.size)
    ]
    values = np.concatenate(replicates, axis=0)
    low, high = _percentiles(values, confidence)
    point = np.atleast_1d(np.asarray(statistic(matrix), dtype=np.float64)).ravel()
    return Estimate(point, low, high)


def bootstrap_pair(
    scores_x: ArrayLike,
    scores_y: ArrayLike,
    statistic: PairStatistic = probability_of_improvement,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """A statistic of two agents, each agent's runs resampled independently."""
    _check(reps, confidence)
    x, y = score_matrix(scores_x), score_matrix(scores_y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"scores_x has {x.shape[1]} tasks, scores_y {y.shape[1]}: must agree")
    generator = np.random.default_rng(seed)
    replicates = []
    for count in _chunks(reps, x.shape[0] * y.shape[0] * x.shape[1]):
        resampled_x = stratified_resample(x, count, generator)
        resampled_y = stratified_resample(y, count, generator)
        replicates.append(np.asarray(statistic(resampled_x, resampled_y)).reshape(count, -1))
    low, high = _percentiles(np.concatenate(replicates, axis=0), confidence)
    point = np.atleast_1d(np.asarray(statistic(x, y), dtype=np.float64)).ravel()
    return Estimate(point, low, high)


def interval_estimates(
    scores: Mapping[str, ArrayLike],
    statistic: Statistic,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Estimate]:
    """:func:`bootstrap` for every agent of ``scores`` (same seed for each)."""
    return {
        name: bootstrap(values, statistic, reps=reps, confidence=confidence, seed=seed)
        for name, values in scores.items()
    }


def performance_profiles(
    scores: Mapping[str, ArrayLike],
    taus: ArrayLike,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    use_score_distribution: bool = True,
) -> dict[str, Estimate]:
    """Each agent's performance profile at ``taus`` with pointwise percentile intervals."""
    thresholds = np.asarray(taus, dtype=np.float64)
    profile = score_distribution if use_score_distribution else average_score_distribution

    def statistic(matrix: FloatArray) -> FloatArray:
        return profile(matrix, thresholds)

    return interval_estimates(scores, statistic, reps=reps, confidence=confidence, seed=seed)


def pairs_after(names: Sequence[str]) -> list[tuple[str, str]]:
    """Each name with every name after it: ``P(Y > X) = 1 - P(X > Y)`` makes the rest redundant."""
    return [(x, y) for i, x in enumerate(names) for y in names[i + 1 :]]
