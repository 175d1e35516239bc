"""Markdown reports of a comparison: the summary table, improvement table, strategies.

The summary table's columns depend on what the comparison holds: the
normalized and random-zero scores where an oracle exists, the gap to the best
baseline where none does, the return's components (cumulative profit,
terminal value, ...), a search baseline's budget.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
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
    header = ["agent", "kind", "face", "runs", "episodes", "mean [95% CI]", "IQM [95% CI]"]
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
    references = [
        (label, title)
        for label, title in (("heuristic", "best heuristic"), ("search", "best search"))
        if f"vs_{label}" in columns
    ]
    for _, title in references:
        header += [f"vs {title} [95% CI]", f"P(> {title})"]
    costs = [
        (column, title)
        for column, title in (("cpu_seconds", "CPU s / run"), ("env_steps", "env-steps / run"))
        if column in columns and summary[column].notna().any()
    ]
    header += [title for _, title in costs]
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
            str(int(row["episodes"])) if "episodes" in columns else "",
            _interval_cell(row, "mean"),
            _interval_cell(row, "iqm"),
        ]
        cells += [_interval_cell(row, name) if pd.notna(row[name]) else "" for name, _ in scored]
        if "optimality_gap" in columns:
            cells.append(f"{row['optimality_gap']:.3f}")
        cells += [f"{row[column]:.3f}" for column in components]
        cells += [KPI_HEADERS[column][1].format(row[column]) for column in kpis]
        for label, _ in references:
            column = f"vs_{label}"
            present = pd.notna(row[column])
            cells.append(_interval_cell(row, column) if present else "")
            cells.append(f"{row[column + '_p']:.2f}" if present else "")
        cells += [f"{row[column]:.6g}" if pd.notna(row[column]) else "" for column, _ in costs]
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


# ---------------------------------------------------------------------- the console table
#: Width of the console table: it reads in an 80-column terminal.
CONSOLE_WIDTH = 80
NAME_WIDTH = 16


def _number(value: float, signed: bool = False) -> str:
    """Four significant figures or so, without exponents: 133.2, 12.34, 0.981, -7.6."""
    if pd.isna(value):
        return ""
    magnitude = abs(value)
    decimals = 0 if magnitude >= 1000 else 1 if magnitude >= 100 else 2 if magnitude >= 1 else 3
    return f"{value:+.{decimals}f}" if signed else f"{value:.{decimals}f}"


def _normalized(value: float) -> str:
    """A normalized score to three decimals where it lies near [0, 1] (1.000, 0.981)."""
    if pd.isna(value):
        return ""
    return f"{value:.3f}" if abs(value) < 10 else _number(value)


def _count(value: float) -> str:
    """Env-steps as 850, 12k, 6.0M."""
    if pd.isna(value):
        return ""
    if value >= 1e6:
        return f"{value / 1e6:.1f}M"
    if value >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:.0f}"


def _interval(row: pd.Series, column: str, signed: bool = False) -> str:
    if pd.isna(row[column]):
        return ""
    return (
        f"{_number(row[column], signed)} "
        f"[{_number(row[column + '_low'], signed)}, {_number(row[column + '_high'], signed)}]"
    )


def _grid(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Plain-text columns: the first left-aligned, the rest right-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if index == 0 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return [line(header), "-" * len(line(header)), *(line(cells) for cells in rows)]


def console_table(summary: pd.DataFrame, notes: Sequence[str] = (), title: str = "") -> str:
    """The comparison for an 80-column terminal (the full table is ``summary.md``/``.csv``).

    First block, every contender: kind, runs x episodes, IQM with its interval, the
    normalized IQM where an oracle exists (else the mean), CPU seconds and env-steps
    per run. Second block, each learned contender: its mean paired difference per
    episode to the best heuristic and to the best search with intervals, and
    ``P(agent > reference)`` on the same episode.
    """

    def name(agent: Any) -> str:
        # cut in the middle: presets differ in their endings (global_~ppo_long)
        text = str(agent)
        head = (NAME_WIDTH - 1) // 2
        tail = NAME_WIDTH - 1 - head
        return text if len(text) <= NAME_WIDTH else f"{text[:head]}~{text[-tail:]}"

    columns = summary.columns
    normalized = "normalized_iqm" in columns and summary["normalized_iqm"].notna().any()
    header = ["agent", "kind", "runs", "IQM [95% CI]", "norm." if normalized else "mean"]
    header += ["CPU s", "steps"]
    rows = []
    for agent, row in summary.iterrows():
        episodes = int(row["episodes"]) if "episodes" in columns else 0
        rows.append(
            [
                name(agent),
                str(row["kind"]),
                f"{int(row['runs'])}x{episodes}" if episodes else str(int(row["runs"])),
                _interval(row, "iqm"),
                _normalized(row["normalized_iqm"]) if normalized else _number(row["mean"]),
                _number(row.get("cpu_seconds", np.nan)),
                _count(row.get("env_steps", np.nan)),
            ]
        )
    lines = [title] if title else []
    lines += _grid(header, rows)
    learned = summary[summary["kind"] == "learned"]
    references = [label for label in ("heuristic", "search") if f"vs_{label}" in columns]
    if len(learned) and references:
        header = ["paired [95% CI]"]
        for label in references:
            header += [f"vs {label}", "P(>)"]
        rows = []
        for agent, row in learned.iterrows():
            cells = [name(agent)]
            for label in references:
                column = f"vs_{label}"
                cells += [_interval(row, column, signed=True), f"{row[f'{column}_p']:.2f}"]
            rows.append(cells)
        lines += ["", *_grid(header, rows)]
    for note in notes:
        lines += ["", *textwrap.wrap(note, CONSOLE_WIDTH)]
    return "\n".join(lines) + "\n"
