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

Paired, hierarchical statistics of episode scores (what ``lepton-compare``
reports). Every contender plays the same keyed episodes; its scores are a
``(runs, episodes)`` matrix (:func:`episode_matrix`): one row per run (a
training seed of a learner, a search seed; one row for a fixed heuristic),
column ``e`` the same episode for every contender. The estimators above
apply unchanged with the episodes as the last axis: :func:`mean` and
:func:`interquartile_mean` over all ``runs x episodes`` scores (the same
unit, one episode, for every contender), and
:func:`probability_of_improvement` becomes the paired ``P(X > Y)``: per
episode the share of (run of X, run of Y) pairs where X scores more, averaged
over the episodes. :func:`joint_bootstrap` resamples in two stages
(hierarchical bootstrap, Davison & Hinkley 1997, sec. 3.8; Saravanan et al.
2020): each contender's runs with replacement, then the episodes with
replacement, one episode draw shared by every contender of the statistic, so
a difference keeps its pairing. :func:`paired_differences` is the
comparison's statistic: the mean and IQM differences and ``P(X > Y)``.
Coverage on synthetic scores with a known difference is checked in
``tests/agents/comparison/test_stats.py`` (and stated in docs/benchmarks.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import TypedDict, Unpack

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


def _finite_matrix(scores: ArrayLike, one_row: bool, shape: str) -> FloatArray:
    """``scores`` as a float matrix of ``shape``; a 1-D sequence is its one row
    (``one_row``) or its one column."""
    array = np.asarray(scores, dtype=np.float64)
    if array.ndim == 1:
        array = array[None, :] if one_row else array[:, None]
    if array.ndim != 2 or array.size == 0:
        raise ValueError(
            f"scores must be a non-empty 1-D sequence or {shape} matrix, got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"scores must be finite, got {array[~np.isfinite(array)][:3]}")
    return array


def score_matrix(scores: ArrayLike) -> FloatArray:
    """``scores`` as a ``(runs, tasks)`` float matrix (a 1-D sequence is one task)."""
    return _finite_matrix(scores, one_row=False, shape="(runs, tasks)")


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
    low, high = np.nanpercentile(values, [100.0 * alpha, 100.0 * (1.0 - alpha)], axis=0)
    return np.atleast_1d(low), np.atleast_1d(high)


def _percentile_estimate(
    replicates: list[FloatArray], point: ArrayLike, confidence: float
) -> Estimate:
    """The point estimate and the percentile interval of the statistic's replicates."""
    low, high = _percentiles(np.concatenate(replicates, axis=0), confidence)
    return Estimate(np.atleast_1d(np.asarray(point, dtype=np.float64)).ravel(), low, high)


def _stratified_bootstrap(
    matrices: Sequence[FloatArray],
    statistic: Callable[..., FloatArray],
    reps: int,
    confidence: float,
    seed: int,
    scores_per_replicate: int,
) -> Estimate:
    """``statistic(*matrices)`` with each agent's runs resampled independently per task."""
    _check(reps, confidence)
    generator = np.random.default_rng(seed)
    replicates = []
    for count in _chunks(reps, scores_per_replicate):
        resampled = [stratified_resample(matrix, count, generator) for matrix in matrices]
        replicates.append(np.asarray(statistic(*resampled)).reshape(count, -1))
    return _percentile_estimate(replicates, statistic(*matrices), confidence)


def bootstrap(
    scores: ArrayLike,
    statistic: Statistic,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """The statistic of ``scores`` with its stratified-bootstrap percentile interval."""
    matrix = score_matrix(scores)
    return _stratified_bootstrap([matrix], statistic, reps, confidence, seed, matrix.size)


def bootstrap_pair(
    scores_x: ArrayLike,
    scores_y: ArrayLike,
    statistic: PairStatistic = probability_of_improvement,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> Estimate:
    """A statistic of two agents, each agent's runs resampled independently."""
    x, y = score_matrix(scores_x), score_matrix(scores_y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"scores_x has {x.shape[1]} tasks, scores_y {y.shape[1]}: must agree")
    # a pairwise statistic touches runs_x x runs_y x tasks scores per replicate
    scores_per_replicate = x.shape[0] * y.shape[0] * x.shape[1]
    return _stratified_bootstrap([x, y], statistic, reps, confidence, seed, scores_per_replicate)


def interval_estimates(
    scores: Mapping[str, ArrayLike],
    statistic: Statistic,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    hierarchical: bool = False,
) -> dict[str, Estimate]:
    """:func:`bootstrap` for every agent of ``scores`` (same seed for each); with
    ``hierarchical``, :func:`hierarchical_bootstrap` of ``(runs, episodes)`` scores."""
    method = hierarchical_bootstrap if hierarchical else bootstrap
    return {
        name: method(values, statistic, reps=reps, confidence=confidence, seed=seed)
        for name, values in scores.items()
    }


def performance_profiles(
    scores: Mapping[str, ArrayLike],
    taus: ArrayLike,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    use_score_distribution: bool = True,
    hierarchical: bool = False,
) -> dict[str, Estimate]:
    """Each agent's performance profile at ``taus`` with pointwise percentile intervals."""
    thresholds = np.asarray(taus, dtype=np.float64)
    profile = score_distribution if use_score_distribution else average_score_distribution

    def statistic(matrix: FloatArray) -> FloatArray:
        return profile(matrix, thresholds)

    return interval_estimates(
        scores, statistic, reps=reps, confidence=confidence, seed=seed, hierarchical=hierarchical
    )


def pairs_after(names: Sequence[str]) -> list[tuple[str, str]]:
    """Each name with every name after it: ``P(Y > X) = 1 - P(X > Y)`` makes the rest redundant."""
    return [(x, y) for i, x in enumerate(names) for y in names[i + 1 :]]


# ---------------------------------------------------------------------- paired, hierarchical
#: ``(..., runs_x, episodes), (..., runs_y, episodes), ... -> (..., k)``: a statistic of
#: several contenders' episode scores, resampled jointly.
JointStatistic = Callable[..., FloatArray]


def episode_matrix(scores: ArrayLike) -> FloatArray:
    """``scores`` as a ``(runs, episodes)`` float matrix (a 1-D sequence is one run)."""
    return _finite_matrix(scores, one_row=True, shape="(runs, episodes)")


def mean_difference(scores_x: FloatArray, scores_y: FloatArray) -> FloatArray:
    """Mean of X minus mean of Y, each over all runs and episodes: the mean paired
    per-episode difference of the run means."""
    return np.asarray(mean(scores_x) - mean(scores_y))


def iqm_difference(scores_x: FloatArray, scores_y: FloatArray) -> FloatArray:
    """IQM of X minus IQM of Y."""
    return np.asarray(interquartile_mean(scores_x) - interquartile_mean(scores_y))


def paired_differences(scores_x: FloatArray, scores_y: FloatArray) -> FloatArray:
    """``[mean difference, IQM difference, P(X > Y)]`` of two contenders' episode scores."""
    return np.stack(
        [
            mean_difference(scores_x, scores_y),
            iqm_difference(scores_x, scores_y),
            probability_of_improvement(scores_x, scores_y),
        ],
        axis=-1,
    )


def hierarchical_resample(
    scores: FloatArray, episode_picks: NDArray[np.int64], generator: np.random.Generator
) -> FloatArray:
    """``(replicates, runs, episodes)``: runs drawn with replacement, then the episodes
    ``episode_picks`` ``(replicates, episodes)`` (shared by the contenders of a statistic)."""
    replicates = episode_picks.shape[0]
    run_picks = generator.integers(0, scores.shape[0], size=(replicates, scores.shape[0]))
    return scores[run_picks[:, :, None], episode_picks[:, None, :]]


def joint_bootstrap(
    scores: Sequence[ArrayLike],
    statistic: JointStatistic,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    small_sample: bool = True,
) -> Estimate:
    """A statistic of several contenders with its hierarchical, paired percentile interval.

    ``scores[i]`` is contender ``i``'s ``(runs_i, episodes)`` matrix (the same episodes
    in the same columns for all); ``statistic(*resampled)`` reduces them. Each replicate
    draws every contender's runs with replacement and one set of episodes, shared.
    ``small_sample`` widens the interval for few runs (:func:`_small_sample_widening`);
    without it, the plain percentile interval.
    """
    _check(reps, confidence)
    matrices = [episode_matrix(values) for values in scores]
    episodes = {matrix.shape[1] for matrix in matrices}
    if len(episodes) != 1:
        raise ValueError(
            f"paired scores need the same episodes for every contender, got "
            f"{[matrix.shape[1] for matrix in matrices]} episodes"
        )
    (count_episodes,) = episodes
    generator = np.random.default_rng(seed)
    # a pairwise statistic (probability of improvement) touches runs_x x runs_y x episodes
    runs = [matrix.shape[0] for matrix in matrices]
    per_replicate = count_episodes * max(max(runs) ** 2, sum(runs))
    replicates = []
    for count in _chunks(reps, per_replicate):
        episode_picks = generator.integers(0, count_episodes, size=(count, count_episodes))
        resampled = [hierarchical_resample(m, episode_picks, generator) for m in matrices]
        replicates.append(np.asarray(statistic(*resampled)).reshape(count, -1))
    estimate = _percentile_estimate(replicates, statistic(*matrices), confidence)
    if not small_sample:
        return estimate
    half = _small_sample_half_width(matrices, statistic, reps, confidence, generator)
    point = estimate.point
    return Estimate(
        point, np.minimum(estimate.low, point - half), np.maximum(estimate.high, point + half)
    )


def _small_sample_half_width(
    matrices: Sequence[FloatArray],
    statistic: JointStatistic,
    reps: int,
    confidence: float,
    generator: np.random.Generator,
) -> FloatArray:
    """The half-width of a Student-t interval with Welch-Satterthwaite degrees of freedom.

    A bootstrap over ``n`` runs (five training seeds) understates the spread twice:
    its variance is ``(n - 1) / n`` of the unbiased one, and a normal-width interval
    ignores that the variance itself is estimated from ``n`` values (Student's ``t``;
    Hesterberg 2015, "What teachers should know about the bootstrap", sec. 3.4).
    Each source of variance is bootstrapped on its own: contender ``i``'s runs
    (``df = n_i - 1``) and the shared episodes (``df = E - 1``), each variance
    scaled to its unbiased value ``V_j``; the half-width is
    ``t(df) * sqrt(sum V_j)`` with ``df = (sum V_j)^2 / sum(V_j^2 / df_j)``. The
    reported interval is the percentile interval widened on each side to at least
    this half-width: it keeps the percentile interval's asymmetry and never shrinks.
    """
    component_reps = max(reps // 2, 50)
    episodes = matrices[0].shape[1]
    identity = np.broadcast_to(np.arange(episodes), (component_reps, episodes))
    components: list[tuple[FloatArray, int]] = []

    def variance(resampled: list[FloatArray]) -> FloatArray:
        replicates = np.asarray(statistic(*resampled)).reshape(component_reps, -1)
        return np.asarray(np.nanvar(replicates, axis=0, ddof=1))

    fixed = [np.broadcast_to(m, (component_reps, *m.shape)) for m in matrices]
    for index, matrix in enumerate(matrices):
        runs = matrix.shape[0]
        if runs >= 2:
            resampled = list(fixed)
            resampled[index] = hierarchical_resample(matrix, identity, generator)
            components.append((variance(resampled) * runs / (runs - 1), runs - 1))
    if episodes >= 2:
        picks = generator.integers(0, episodes, size=(component_reps, episodes))
        resampled = [m[:, picks].transpose(1, 0, 2) for m in matrices]
        components.append((variance(resampled) * episodes / (episodes - 1), episodes - 1))
    if not components:
        return np.zeros(1)
    total = np.sum([v for v, _ in components], axis=0)
    spread = np.sum([v**2 / df for v, df in components], axis=0)
    half = np.zeros(total.shape)
    for k in np.flatnonzero(total > 0):
        half[k] = _t_quantile(confidence, total[k] ** 2 / spread[k]) * np.sqrt(total[k])
    return half


def _t_quantile(confidence: float, df: float) -> float:
    """The two-sided ``confidence`` quantile of Student's t with ``df`` (real) degrees of
    freedom: ``x`` with ``P(|T| <= x) = confidence``, by integrating the density."""
    if df > 1e4:
        return NormalDist().inv_cdf(0.5 + confidence / 2)
    grid = np.linspace(0.0, 100.0 + 20.0 / df, 20_001)
    log_norm = math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
    density = np.exp(log_norm - (df + 1) / 2 * np.log1p(grid**2 / df))
    mass = np.concatenate([[0.0], np.cumsum((density[1:] + density[:-1]) / 2 * np.diff(grid))])
    return float(np.interp(confidence / 2, mass, grid))


class BootstrapOptions(TypedDict, total=False):
    """The keywords every bootstrap of episode scores passes on to :func:`joint_bootstrap`."""

    reps: int  # resamples (2,000)
    confidence: float  # the interval's coverage (0.95)
    seed: int  # of the resampling generator (0)
    small_sample: bool  # widen for few runs (True; :func:`_small_sample_half_width`)


def hierarchical_bootstrap(
    scores: ArrayLike,
    statistic: Statistic = mean_and_iqm,
    **options: Unpack[BootstrapOptions],
) -> Estimate:
    """One contender's statistic (``(runs, episodes)`` scores) with its hierarchical interval."""
    return joint_bootstrap([scores], statistic, **options)


def paired_bootstrap(
    scores_x: ArrayLike,
    scores_y: ArrayLike,
    statistic: PairStatistic = paired_differences,
    **options: Unpack[BootstrapOptions],
) -> Estimate:
    """:func:`paired_differences` (or ``statistic``) of X and Y, paired by episode."""
    return joint_bootstrap([scores_x, scores_y], statistic, **options)
