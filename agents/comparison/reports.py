"""Markdown reports of a comparison: the summary table, improvement table, strategies.

The summary table's columns depend on what the comparison holds: the
normalized and random-zero scores where an oracle exists, the gap to the best
baseline where none does, the return's components (cumulative profit,
terminal value, ...), a search baseline's budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from lepton_env.agents.comparison.episodes import COMPONENT_PREFIX, EntryEvent

#: KPI columns of the summary and their headers.
KPI_HEADERS = {
    "final_revenue": ("final revenue", "{:.2f}"),
    "final_market_share": ("final share", "{:.4f}"),
    "regions_entered": ("regions entered", "{:.2f}"),
    "fines": ("fines", "{:.2f}"),
    "bankrupt": ("bankruptcies", "{:.2f}"),
}


def strategy_report(name: str, timeline: Sequence[EntryEvent], seeds: Sequence[int]) -> str:
    """Markdown: which region the agent entered, when, and by which mode (first run)."""
    lines = [f"# Strategy of {name}", ""]
    for seed in seeds:
        events = [event for event in timeline if event.seed == seed]
        lines.append(f"## Episode seed {seed}")
        lines.append("")
        if not events:
            lines.extend(["Stayed at home: no entry, upgrade or exit.", ""])
            continue
        lines.append("| quarter | region | from | to |")
        lines.append("| ---: | --- | --- | --- |")
        for event in events:
            lines.append(
                f"| {event.quarter} | {event.region} | {event.previous_mode} | {event.mode} |"
            )
        lines.append("")
    return "\n".join(lines)


def format_interval(point: float, low: float, high: float) -> str:
    """``point [low, high]`` to three decimals."""
    return f"{point:.3f} [{low:.3f}, {high:.3f}]"


def format_budget(budget: Any) -> str:
    """A search baseline's budget as ``key=value`` pairs (empty when there is none)."""
    if not isinstance(budget, dict) or not budget:
        return ""
    return ", ".join(
        f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in budget.items()
    )


def _interval_cell(row: pd.Series, column: str) -> str:
    return format_interval(row[column], row[f"{column}_low"], row[f"{column}_high"])


def summary_markdown(summary: pd.DataFrame, notes: Sequence[str] = ()) -> str:
    """The comparison table as markdown: statistics with their intervals, scores, KPIs."""
    columns = summary.columns
    header = ["agent", "kind", "face", "runs", "mean [95% CI]", "IQM [95% CI]"]
    scored: list[tuple[str, str]] = [
        (name, title)
        for name, title in (
            ("normalized_iqm", "normalized IQM [95% CI]"),
            ("random_normalized_iqm", "random-zero IQM [95% CI]"),
            ("gap_to_best", "gap to best [95% CI]"),
        )
        if name in columns
    ]
    header += [title for _, title in scored]
    if "optimality_gap" in columns:
        header.append("optimality gap")
    components = [column for column in columns if column.startswith(COMPONENT_PREFIX)]
    header += [f"mean {column.removeprefix(COMPONENT_PREFIX)}" for column in components]
    kpis = [column for column in KPI_HEADERS if column in columns]
    header += [KPI_HEADERS[column][0] for column in kpis]
    budgets = "budget" in columns and summary["budget"].astype(bool).any()
    if budgets:
        header.append("budget")
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for agent, row in summary.iterrows():
        cells = [
            str(agent),
            str(row["kind"]),
            str(row["face"]),
            str(int(row["runs"])),
            _interval_cell(row, "mean"),
            _interval_cell(row, "iqm"),
        ]
        cells += [_interval_cell(row, name) if pd.notna(row[name]) else "" for name, _ in scored]
        if "optimality_gap" in columns:
            cells.append(f"{row['optimality_gap']:.3f}")
        cells += [f"{row[column]:.3f}" for column in components]
        cells += [KPI_HEADERS[column][1].format(row[column]) for column in kpis]
        if budgets:
            cells.append(str(row["budget"]))
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    if notes:
        text += "\n" + "\n".join(notes) + "\n"
    return text


def improvement_markdown(table: pd.DataFrame) -> str:
    """Probability of improvement as a markdown table."""
    lines = ["| X | Y | P(X > Y) [95% CI] |", "| --- | --- | --- |"]
    for _, row in table.iterrows():
        lines.append(
            f"| {row['x']} | {row['y']} | "
            f"{format_interval(row['probability'], row['low'], row['high'])} |"
        )
    return "\n".join(lines) + "\n"
