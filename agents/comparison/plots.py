"""Figures of a comparison: interval estimates, performance profiles, learning curves.

The layout follows rliable's figures (Agarwal et al. 2021): one panel per
statistic with each agent's point estimate and interval as a bar; the score
distribution ``P(score > tau)`` of each agent with its pointwise interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lepton_env.agents.comparison import stats

#: Line styles cycled over agents: deterministic agents' step profiles often coincide.
LINE_STYLES = ("solid", "dashed", "dotted", "dashdot")


def plot_comparison(
    scores: Mapping[str, NDArray[np.float64]],
    output: Path,
    xlabel: str,
    curves: pd.DataFrame | None = None,
    references: Mapping[str, float] | None = None,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[Path]:
    """Aggregate intervals, performance profiles and learning curves; the files written."""
    import matplotlib.pyplot as plt

    output.mkdir(parents=True, exist_ok=True)
    names = list(scores)
    colours = {name: f"C{index % 10}" for index, name in enumerate(names)}
    written = []

    estimates = stats.interval_estimates(
        scores, stats.mean_and_iqm, reps=reps, confidence=confidence, seed=seed
    )
    figure, axes = plt.subplots(1, 2, figsize=(9, 0.45 * len(names) + 1.2), sharey=True)
    for column, (axis, title) in enumerate(zip(axes, ("Mean", "IQM"), strict=True)):
        for row, name in enumerate(names):
            estimate = estimates[name]
            low, high = estimate.low[column], estimate.high[column]
            axis.barh(row, high - low, left=low, height=0.6, color=colours[name], alpha=0.75)
            axis.vlines(estimate.point[column], row - 0.3, row + 0.3, color="black")
        axis.margins(x=0.05)  # a zero-width interval's mark at the edge stays visible
        axis.set_title(title)
        axis.set_xlabel(xlabel)
        axis.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(names)), names)
    path = output / "aggregate_intervals.png"
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    written.append(path)

    everything = np.concatenate([np.ravel(values) for values in scores.values()])
    taus = np.linspace(everything.min(), everything.max(), 101)
    profiles = stats.performance_profiles(scores, taus, reps=reps, confidence=confidence, seed=seed)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for index, name in enumerate(names):
        profile = profiles[name]
        style = LINE_STYLES[index % len(LINE_STYLES)]
        axis.plot(taus, profile.point, color=colours[name], linestyle=style, label=name)
        axis.fill_between(taus, profile.low, profile.high, color=colours[name], alpha=0.15)
    axis.set_xlabel(f"{xlabel} (τ)")
    axis.set_ylabel("fraction of runs with score > τ")
    axis.legend(loc="lower left", fontsize=8)
    path = output / "performance_profiles.png"
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    written.append(path)

    if curves is not None and not curves.empty:
        figure, axis = plt.subplots(figsize=(7, 4.5))
        for name, frame in curves.groupby("agent"):
            by_step = frame.groupby("step")["value"]
            mean, low, high = by_step.mean(), by_step.min(), by_step.max()
            axis.plot(mean.index, mean.to_numpy(), label=f"{name} (mean, min-max of runs)")
            axis.fill_between(mean.index, low.to_numpy(), high.to_numpy(), alpha=0.2)
        for index, (name, value) in enumerate((references or {}).items()):
            colour = f"C{(index + curves['agent'].nunique()) % 10}"
            axis.axhline(value, color=colour, linestyle="--", linewidth=1, label=name)
        axis.set_xlabel("env steps")
        axis.set_ylabel("evaluation return")
        axis.legend(fontsize=7)
        path = output / "learning_curves.png"
        figure.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(figure)
        written.append(path)
    return written
