"""Score tables: per-agent statistics with intervals, paired differences, honest scores.

Every contender's scores are a ``(runs, episodes)`` matrix: one row per run
(training seed, search seed; one for a fixed heuristic), the same keyed
episodes in the same columns for all (:mod:`lepton_env.agents.comparison.stats`,
paired and hierarchical statistics).

* :func:`aggregate`: per agent, the mean and the interquartile mean (IQM) over
  all its episode scores with hierarchical-bootstrap intervals (runs, then episodes).
* :func:`improvement_probabilities`: between agents, paired by episode: the
  mean and IQM differences and ``P(X > Y)``, each with its interval.
* :func:`reference_differences`: each agent against the best heuristic and the
  best search baseline, paired.
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
from typing import Any

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
    """Per agent: runs, episodes, mean and IQM with hierarchical intervals, one row each.

    ``scores[agent]`` is a ``(runs, episodes)`` matrix (a 1-D sequence is one run).
    Columns: ``runs``, ``episodes``, ``mean``, ``mean_low``, ``mean_high``, ``iqm``,
    ``iqm_low``, ``iqm_high``, ``std`` (over all episode scores).
    """
    rows = []
    for name, values in scores.items():
        matrix = stats.episode_matrix(values)
        estimate = stats.hierarchical_bootstrap(
            matrix, stats.mean_and_iqm, reps=reps, confidence=confidence, seed=seed
        )
        rows.append(
            {
                "agent": name,
                "runs": matrix.shape[0],
                "episodes": matrix.shape[1],
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


#: The columns of a paired comparison (:func:`improvement_probabilities`).
PAIRED_COLUMNS = (
    "x", "y",
    "mean_difference", "mean_difference_low", "mean_difference_high",
    "iqm_difference", "iqm_difference_low", "iqm_difference_high",
    "probability", "low", "high",
)  # fmt: skip


def paired_row(
    x: str,
    y: str,
    scores_x: ArrayLike,
    scores_y: ArrayLike,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """X against Y paired by episode: mean and IQM differences and ``P(X > Y)``."""
    estimate = stats.paired_bootstrap(
        scores_x, scores_y, reps=reps, confidence=confidence, seed=seed
    )
    row: dict[str, Any] = {"x": x, "y": y}
    for index, name in enumerate(("mean_difference", "iqm_difference", "probability")):
        low, high = ("low", "high") if name == "probability" else (f"{name}_low", f"{name}_high")
        row[name] = float(estimate.point[index])
        row[low] = float(estimate.low[index])
        row[high] = float(estimate.high[index])
    # The small-sample widening is symmetric about the point; a probability stays in [0, 1].
    row["low"], row["high"] = max(row["low"], 0.0), min(row["high"], 1.0)
    return row


def improvement_probabilities(
    scores: Mapping[str, ArrayLike],
    pairs: Sequence[tuple[str, str]] | None = None,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Agents compared in pairs, paired by episode, each statistic with its interval.

    ``pairs=None`` compares every agent with each one listed after it (``P(Y > X)
    = 1 - P(X > Y)``, so the other order adds nothing). Columns
    (:data:`PAIRED_COLUMNS`): ``x``, ``y``, ``mean_difference`` and ``iqm_difference``
    (X minus Y) with ``_low``/``_high``, ``probability`` (``P(X > Y)``: per episode
    the share of run pairs where X scores more, averaged over episodes), ``low``, ``high``.
    """
    if pairs is None:
        pairs = stats.pairs_after(list(scores))
    rows = [
        paired_row(x, y, scores[x], scores[y], reps=reps, confidence=confidence, seed=seed)
        for x, y in pairs
    ]
    return pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))


def reference_differences(
    scores: Mapping[str, ArrayLike],
    references: Mapping[str, str | None],
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Each agent minus each reference, paired by episode: the summary's ``vs_`` columns.

    ``references``: a label (``heuristic``, ``search``) -> the reference agent (None:
    none of that kind). Per label: ``vs_<label>`` (mean paired difference per episode,
    positive: ahead), ``_low``, ``_high``, ``vs_<label>_p`` (``P(agent > reference)``);
    empty for the reference itself.
    """
    table = pd.DataFrame(index=list(scores))
    for label, reference in references.items():
        if reference is None:
            continue
        column = f"vs_{label}"
        values: dict[str, list[float]] = {column: [], f"{column}_low": [], f"{column}_high": []}
        values[f"{column}_p"] = []
        for name in table.index:
            if name == reference:
                for key in values:
                    values[key].append(np.nan)
                continue
            row = paired_row(
                name, reference, scores[name], scores[reference], reps, confidence, seed
            )
            values[column].append(row["mean_difference"])
            values[f"{column}_low"].append(row["mean_difference_low"])
            values[f"{column}_high"].append(row["mean_difference_high"])
            values[f"{column}_p"].append(row["probability"])
        for key, column_values in values.items():
            table[key] = column_values
    return table


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
    best_heuristic: str | None = None  # the reference of the vs_heuristic columns
    best_search: str | None = None  # the reference of the vs_search columns


def _normalized_iqm(
    agent: NDArray[np.float64], zero: NDArray[np.float64], one: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``(IQM_agent - IQM_zero) / (IQM_one - IQM_zero)``, NaN where the span is not positive."""
    low = stats.interquartile_mean(zero)
    span = stats.interquartile_mean(one) - low
    safe = np.where(span > 0, span, 1.0)
    return np.asarray(np.where(span > 0, (stats.interquartile_mean(agent) - low) / safe, np.nan))


def _mapped(
    scores: Mapping[str, ArrayLike],
    names: Sequence[str],
    zero: str,
    one: str,
    prefix: str,
    bootstrap: dict[str, Any],
) -> pd.DataFrame:
    """Each agent's IQM on the scale 0 = ``zero``'s IQM, 1 = ``one``'s, with the interval
    of the three resampled jointly (paired by episode): the ends' own uncertainty counts."""
    rows = []
    for name in names:
        if name in (zero, one):
            value = 0.0 if name == zero else 1.0
            rows.append((value, value, value))
            continue
        estimate = stats.joint_bootstrap(
            [scores[name], scores[zero], scores[one]], _normalized_iqm, **bootstrap
        )
        rows.append((float(estimate.point[0]), float(estimate.low[0]), float(estimate.high[0])))
    table = np.asarray(rows, dtype=np.float64).reshape(len(names), 3)
    return pd.DataFrame(
        {
            f"{prefix}_iqm": table[:, 0],
            f"{prefix}_iqm_low": table[:, 1],
            f"{prefix}_iqm_high": table[:, 2],
        },
        index=list(names),
    )


def honest_scores(
    summary: pd.DataFrame,
    scores: Mapping[str, ArrayLike],
    kinds: Mapping[str, str],
    heuristics: Sequence[str],
    random_name: str | None = "random",
    searches: Sequence[str] = (),
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> HonestScores:
    """Normalized scores and paired references from an :func:`aggregate` table.

    ``kinds[name]`` is the contender kind (``oracle`` marks the normalized
    score's 1); ``heuristics`` the baselines without a search budget (the best
    of them by IQM is the 0); ``searches`` the search baselines; ``random_name``
    the baseline whose IQM is the secondary score's 0 (skipped if absent).
    Every interval resamples the agent and the ends jointly, paired by episode.
    Columns where an oracle exists: ``normalized_iqm`` (+ ``_low``/``_high``),
    ``optimality_gap`` (of the normalized episode scores, ``mean(max(1 - s, 0))``),
    ``random_normalized_iqm`` (+ interval). Without an oracle: ``gap_to_best``
    (``IQM_best - IQM``, positive when behind, paired interval), the best taken
    over every baseline (heuristics and search). Always: the
    :func:`reference_differences` against the best heuristic and the best search
    (``vs_heuristic``, ``vs_search``).
    """
    iqm = summary["iqm"]
    names = list(summary.index)
    bootstrap: dict[str, Any] = {"reps": reps, "confidence": confidence, "seed": seed}
    result = HonestScores(pd.DataFrame(index=summary.index))

    def best_of(candidates: Sequence[str]) -> str | None:
        present = [name for name in candidates if name in summary.index]
        return max(present, key=lambda name: float(iqm[name])) if present else None

    result.best_heuristic = best_of(heuristics)
    result.best_search = best_of(searches)
    oracles = [name for name in names if kinds.get(name) == "oracle"]
    if oracles:
        one = oracles[0]
        result.one = one
        one_value = float(iqm[one])
        zero = result.best_heuristic
        if zero is not None:
            zero_value = float(iqm[zero])
            if one_value > zero_value:
                result.zero = zero
                result.ends = (zero_value, one_value)
                result.columns = result.columns.join(
                    _mapped(scores, names, zero, one, "normalized", bootstrap)
                )
                result.columns["optimality_gap"] = [
                    float(
                        stats.optimality_gap(
                            stats.episode_matrix(
                                normalized_score(scores[name], zero_value, one_value)
                            )
                        )
                    )
                    for name in names
                ]
                result.notes.append(
                    f"Normalized score: 0 = the best heuristic, {zero} (IQM {zero_value:.3f}), "
                    f"1 = {one} (IQM {one_value:.3f}); an IQM against IQMs, the interval "
                    "resampling both ends with the agent."
                )
            else:
                result.notes.append(
                    f"No normalized score: the best heuristic, {zero} (IQM {zero_value:.3f}), "
                    f"reaches {one} (IQM {one_value:.3f})."
                )
        if random_name is not None and random_name in summary.index:
            if one_value > float(iqm[random_name]):
                result.columns = result.columns.join(
                    _mapped(scores, names, random_name, one, "random_normalized", bootstrap)
                )
                result.notes.append(
                    f"Random-zero score (secondary): 0 = {random_name} (IQM "
                    f"{float(iqm[random_name]):.3f}), 1 = {one}."
                )
    else:
        best = best_of([name for name in names if kinds.get(name) == "baseline"])
        if best is not None:
            result.best = best
            gaps = []
            for name in names:
                if name == best:
                    gaps.append((0.0, 0.0, 0.0))
                    continue
                estimate = stats.paired_bootstrap(
                    scores[best], scores[name], stats.iqm_difference, **bootstrap
                )
                gaps.append(
                    (float(estimate.point[0]), float(estimate.low[0]), float(estimate.high[0]))
                )
            table = np.asarray(gaps, dtype=np.float64)
            result.columns["gap_to_best"] = table[:, 0]
            result.columns["gap_to_best_low"] = table[:, 1]
            result.columns["gap_to_best_high"] = table[:, 2]
            result.notes.append(
                f"No oracle on this scenario: gap to best = IQM of the best heuristic or search "
                f"baseline, {best} ({float(iqm[best]):.3f}), minus the agent's IQM (positive: "
                "behind it), paired by episode."
            )
    references = {"heuristic": result.best_heuristic, "search": result.best_search}
    result.columns = result.columns.join(reference_differences(scores, references, **bootstrap))
    described = [f"{label} {name}" for label, name in references.items() if name is not None]
    if described:
        result.notes.append(
            "vs_<reference>: the agent's mean return per episode minus the best "
            f"{' and the best '.join(described)}'s, paired by episode (hierarchical bootstrap: "
            "runs, then episodes); _p: P(agent > reference) on the same episode."
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
    KPIs, ``cpu_seconds`` and ``env_steps`` (each run's training or search cost, the
    mean over runs: CPU seconds of the work itself and env-steps simulated, counted
    the same way for learners and searches; empty for fixed heuristics and the
    oracle) and ``budget`` (a search baseline's settings and use, else empty).
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
        searches=[c.name for c in contenders if c.is_search],
        reps=reps,
        confidence=confidence,
        seed=seed,
    )
    summary = summary.join(honest.columns)
    means = episodes.groupby("agent")[[*component_columns(episodes), *KPI_COLUMNS]].mean()
    summary = summary.join(means)
    costs = [by_name[name].cost() for name in summary.index]
    summary["cpu_seconds"] = [cost.get("cpu_seconds", np.nan) for cost in costs]
    summary["env_steps"] = [cost.get("env_steps", np.nan) for cost in costs]
    summary["budget"] = [format_budget(by_name[name].budget) for name in summary.index]
    if honest.one is not None and by_name[honest.one].env_id == "LeptonExpansion-Single-v0":
        honest.notes.append(
            f"{honest.one} plays the Single face (one move a quarter): an agent on a face "
            "that moves in several regions a quarter can score above 1."
        )
    return summary, honest
