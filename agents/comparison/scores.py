"""Score tables: per-agent statistics with intervals, and honest normalized scores.

* :func:`aggregate`: per agent, the mean and the interquartile mean (IQM)
  with stratified-bootstrap percentile intervals (:mod:`lepton_env.agents.comparison.stats`).
* :func:`improvement_probabilities`: ``P(X > Y)`` between agents.
* :func:`summarize`: the comparison's summary table, one row per contender.
* :func:`normalized_score` and :func:`honest_scores`: the normalized score
  ``(S - S_0) / (S_1 - S_0)`` with ``S_1`` the IQM of the contender of kind
  ``oracle`` and ``S_0`` the IQM of the best heuristic (so 0 is a policy
  worth playing, not one worse than doing nothing); the random-zero score
  with ``S_0`` the random baseline's IQM beside it; without an oracle, the
  gap ``S_best - S`` to the best of the heuristic and search baselines. Every
  score is an IQM set against IQMs. The normalization is an increasing affine
  map, so the IQM of normalized scores and its percentile interval are those
  of the raw scores mapped: no second bootstrap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

import lepton_env
from lepton_env.agents.comparison import stats
from lepton_env.agents.comparison.contenders import Contender
from lepton_env.agents.comparison.episodes import KPI_COLUMNS, component_columns
from lepton_env.agents.comparison.reports import format_budget


def aggregate(
    scores: Mapping[str, ArrayLike],
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Per agent: runs, mean and IQM with stratified-bootstrap intervals, one row each.

    ``scores[agent]`` holds one score per run. Columns: ``runs``, ``mean``,
    ``mean_low``, ``mean_high``, ``iqm``, ``iqm_low``, ``iqm_high``, ``std``.
    """
    rows = []
    for name, values in scores.items():
        matrix = stats.score_matrix(values)
        estimate = stats.bootstrap(
            matrix, stats.mean_and_iqm, reps=reps, confidence=confidence, seed=seed
        )
        rows.append(
            {
                "agent": name,
                "runs": matrix.shape[0],
                "mean": float(estimate.point[0]),
                "mean_low": float(estimate.low[0]),
                "mean_high": float(estimate.high[0]),
                "iqm": float(estimate.point[1]),
                "iqm_low": float(estimate.low[1]),
                "iqm_high": float(estimate.high[1]),
                "std": float(np.std(matrix)),
            }
        )
    return pd.DataFrame(rows).set_index("agent")


def improvement_probabilities(
    scores: Mapping[str, ArrayLike],
    pairs: Sequence[tuple[str, str]] | None = None,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """``P(X > Y)`` for each ordered pair of agents, with its bootstrap interval.

    ``pairs=None`` compares every agent with each one listed after it (``P(Y > X)
    = 1 - P(X > Y)``, so the other order adds nothing). Columns: ``x``, ``y``,
    ``probability``, ``low``, ``high``.
    """
    if pairs is None:
        pairs = stats.pairs_after(list(scores))
    rows = []
    for x, y in pairs:
        estimate = stats.bootstrap_pair(
            scores[x], scores[y], reps=reps, confidence=confidence, seed=seed
        )
        rows.append(
            {
                "x": x,
                "y": y,
                "probability": float(estimate.point[0]),
                "low": float(estimate.low[0]),
                "high": float(estimate.high[0]),
            }
        )
    return pd.DataFrame(rows, columns=["x", "y", "probability", "low", "high"])


def intervals_overlap(table: pd.DataFrame, x: str, y: str, statistic: str = "iqm") -> bool:
    """Whether agents ``x`` and ``y`` have overlapping confidence intervals of ``statistic``."""
    low, high = f"{statistic}_low", f"{statistic}_high"
    return bool(table.loc[x, low] <= table.loc[y, high] and table.loc[y, low] <= table.loc[x, high])


def normalized_score(
    returns: ArrayLike, zero_return: float, one_return: float
) -> NDArray[np.float64]:
    """``(R - R_0) / (R_1 - R_0)``: 0 at ``zero_return``, 1 at ``one_return``."""
    span = one_return - zero_return
    if not span > 0:
        raise ValueError(
            f"one_return ({one_return}) must exceed zero_return ({zero_return}): "
            "nothing to normalize between them"
        )
    return (np.asarray(returns, dtype=np.float64) - zero_return) / span


@dataclass
class HonestScores:
    """The score columns to join to a summary, and the sentences that define them."""

    columns: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    zero: str | None = None  # the best heuristic (normalized score's 0)
    one: str | None = None  # the oracle (normalized score's 1)
    best: str | None = None  # the best heuristic or search baseline (no oracle)
    ends: tuple[float, float] | None = None  # the IQMs at the normalized score's 0 and 1


def _mapped(summary: pd.DataFrame, zero: float, span: float, prefix: str) -> pd.DataFrame:
    """IQM and its interval under ``S -> (S - zero) / span`` (span > 0 keeps the order)."""
    return pd.DataFrame(
        {
            f"{prefix}_iqm": (summary["iqm"] - zero) / span,
            f"{prefix}_iqm_low": (summary["iqm_low"] - zero) / span,
            f"{prefix}_iqm_high": (summary["iqm_high"] - zero) / span,
        },
        index=summary.index,
    )


def honest_scores(
    summary: pd.DataFrame,
    scores: Mapping[str, ArrayLike],
    kinds: Mapping[str, str],
    heuristics: Sequence[str],
    random_name: str | None = "random",
) -> HonestScores:
    """Normalized scores from an :func:`aggregate` table.

    ``kinds[name]`` is the contender kind (``oracle`` marks the normalized
    score's 1); ``heuristics`` the baselines without a search budget (the best
    of them by IQM is the 0); ``random_name`` the baseline whose IQM is the
    secondary score's 0 (skipped if absent). Columns where an oracle exists:
    ``normalized_iqm`` (+ ``_low``/``_high``), ``optimality_gap`` (of the
    normalized run scores, ``mean(max(1 - s, 0))``), ``random_normalized_iqm``
    (+ interval). Without an oracle: ``gap_to_best`` (``IQM_best - IQM``,
    positive when behind) with its interval, the best taken over every
    baseline (heuristics and search).
    """
    iqm = summary["iqm"]
    oracles = [name for name in summary.index if kinds.get(name) == "oracle"]
    result = HonestScores(pd.DataFrame(index=summary.index))
    if oracles:
        one = oracles[0]
        result.one = one
        one_value = float(iqm[one])
        candidates = [name for name in heuristics if name in summary.index]
        if candidates:
            zero = max(candidates, key=lambda name: float(iqm[name]))
            zero_value = float(iqm[zero])
            if one_value > zero_value:
                result.zero = zero
                result.ends = (zero_value, one_value)
                span = one_value - zero_value
                result.columns = result.columns.join(
                    _mapped(summary, zero_value, span, "normalized")
                )
                result.columns["optimality_gap"] = [
                    float(
                        stats.optimality_gap(
                            stats.score_matrix(
                                normalized_score(scores[name], zero_value, one_value)
                            )
                        )
                    )
                    for name in summary.index
                ]
                result.notes.append(
                    f"Normalized score: 0 = the best heuristic, {zero} (IQM {zero_value:.3f}), "
                    f"1 = {one} (IQM {one_value:.3f}); an IQM against IQMs."
                )
            else:
                result.notes.append(
                    f"No normalized score: the best heuristic, {zero} (IQM {zero_value:.3f}), "
                    f"reaches {one} (IQM {one_value:.3f})."
                )
        if random_name is not None and random_name in summary.index:
            random_value = float(iqm[random_name])
            if one_value > random_value:
                span = one_value - random_value
                result.columns = result.columns.join(
                    _mapped(summary, random_value, span, "random_normalized")
                )
                result.notes.append(
                    f"Random-zero score (secondary): 0 = {random_name} (IQM "
                    f"{random_value:.3f}), 1 = {one}."
                )
        return result
    baselines = [name for name in summary.index if kinds.get(name) == "baseline"]
    if baselines:
        best = max(baselines, key=lambda name: float(iqm[name]))
        best_value = float(iqm[best])
        result.best = best
        result.columns["gap_to_best"] = best_value - summary["iqm"]
        result.columns["gap_to_best_low"] = best_value - summary["iqm_high"]
        result.columns["gap_to_best_high"] = best_value - summary["iqm_low"]
        result.notes.append(
            f"No oracle on this scenario: gap to best = IQM of the best heuristic or search "
            f"baseline, {best} ({best_value:.3f}), minus the agent's IQM (positive: behind it)."
        )
    return result


def summarize(
    contenders: list[Contender],
    scores: dict[str, NDArray[np.float64]],
    episodes: pd.DataFrame,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    random_baseline: str | None = "random",
) -> tuple[pd.DataFrame, HonestScores]:
    """The summary table (one row per contender) and its honest scores (their notes, ends).

    Columns: ``kind``, ``face``, the :func:`aggregate` statistics,
    the :func:`honest_scores` columns, the mean of each
    ``return_<component>`` (cumulative profit, terminal value, ...), the mean
    KPIs and ``budget`` (a search baseline's, else empty).
    """
    summary = aggregate(scores, reps=reps, confidence=confidence, seed=seed)
    by_name = {contender.name: contender for contender in contenders}
    summary.insert(0, "face", [lepton_env.ENV_IDS[by_name[n].env_id] for n in summary.index])
    summary.insert(0, "kind", [by_name[n].kind for n in summary.index])
    honest = honest_scores(
        summary,
        scores,
        kinds={name: contender.kind for name, contender in by_name.items()},
        heuristics=[c.name for c in contenders if c.is_heuristic],
        random_name=random_baseline,
    )
    summary = summary.join(honest.columns)
    means = episodes.groupby("agent")[[*component_columns(episodes), *KPI_COLUMNS]].mean()
    summary = summary.join(means)
    summary["budget"] = [format_budget(by_name[name].budget) for name in summary.index]
    if honest.one is not None and by_name[honest.one].env_id == "LeptonExpansion-Single-v0":
        honest.notes.append(
            f"{honest.one} plays the Single face (one move a quarter): an agent on a face "
            "that moves in several regions a quarter can score above 1."
        )
    return summary, honest
