"""Reports of a cross-play: the table, the ratings, per-firm strategies and the race figure.

* :func:`table_markdown`: the focal seat's mean return per cell with its interval, the
  seat-averaged payoff and the antisymmetric margins with their paired intervals.
* :func:`ratings_markdown`: openskill (where installed) beside Nash averaging.
* :func:`strategy_markdown`: per firm of one profile, its entries (a region's mode set
  from none, or raised) by mode and region, with the share of episodes and the median
  quarter, and its exits.
* :func:`race_figure`: per firm, presence (share of episodes present) and mean market
  share by region over the quarters (matplotlib's Agg canvas, PNG).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lepton_env.agents.comparison.crossplay import CrossPlay, Play
from lepton_env.agents.comparison.ratings import NashAveraging
from lepton_env.types import EntryMode


def _interval(point: float, low: float, high: float) -> str:
    return f"{point:.1f} [{low:.1f}, {high:.1f}]"


def table_markdown(table: CrossPlay, agents: tuple[str, ...], confidence: float) -> str:
    """The cross-play tables as markdown (rows: the focal contender; columns: the one in
    every other seat)."""
    names, count = table.names, len(table.names)
    level = f"{confidence:.0%}"
    lines = [
        f"{len(table.seeds)} episodes, seeds {table.seeds[0]}..{table.seeds[-1]}, the same in "
        f"every cell; intervals {level} hierarchical bootstrap (paired by episode for margins)."
    ]
    header = "| focal \\ others | " + " | ".join(names) + " |"
    rule = "|---" * (count + 1) + "|"
    for seat, agent in enumerate(agents):
        lines += ["", f"### Focal seat {seat} ({agent}): its mean return, $M", "", header, rule]
        for i, focal in enumerate(names):
            cells = []
            for j in range(count):
                estimate = table.focal[seat, i, j]
                cells.append(
                    _interval(
                        float(estimate.point[0]), float(estimate.low[0]), float(estimate.high[0])
                    )
                )
            lines.append(f"| {focal} | " + " | ".join(cells) + " |")
    payoff = table.payoff
    lines += ["", "### Payoff over the seats (focal mean return, each seat in turn), $M", ""]
    lines += [header, rule]
    for i, focal in enumerate(names):
        lines.append(f"| {focal} | " + " | ".join(f"{v:.1f}" for v in payoff[i]) + " |")
    lines += ["", "### Margin: payoff[i, j] - payoff[j, i], $M (paired interval)", ""]
    lines += [header, rule]
    for i, focal in enumerate(names):
        cells = []
        for j in range(count):
            if i == j:
                cells.append("0")
                continue
            estimate = table.margin[min(i, j), max(i, j)]
            sign = 1.0 if i < j else -1.0
            low, high = sorted((sign * float(estimate.low[0]), sign * float(estimate.high[0])))
            cells.append(_interval(sign * float(estimate.point[0]), low, high))
        lines.append(f"| {focal} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def ratings_markdown(
    names: tuple[str, ...],
    averaging: NashAveraging,
    skill: dict[str, tuple[float, float, float]] | None,
) -> str:
    """Nash averaging (the maxent Nash's weight and each rating) beside openskill."""
    order = sorted(range(len(names)), key=lambda i: -averaging.ratings[i])
    lines = [
        "| contender | Nash weight | Nash-averaging rating, $M | openskill mu | sigma | ordinal |",
        "|---|---|---|---|---|---|",
    ]
    for i in order:
        name = names[i]
        mu, sigma, ordinal = skill[name] if skill is not None else (np.nan, np.nan, np.nan)
        lines.append(
            f"| {name} | {averaging.equilibrium[i]:.3f} | {averaging.ratings[i]:.1f} | "
            f"{mu:.2f} | {sigma:.2f} | {ordinal:.2f} |"
        )
    if skill is None:
        lines += [
            "",
            "openskill is not installed (pip install -e '.[games]'): no openskill column.",
        ]
    return "\n".join(lines) + "\n"


def strategy_markdown(play: Play, agents: tuple[str, ...], regions: tuple[str, ...]) -> str:
    """Each firm's entries by mode, region and quarter over the profile's episodes."""
    episodes = len(play.seeds)
    before = np.concatenate([play.initial_mode[:, :, None, :], play.entry_mode[:, :, :-1]], axis=2)
    after = play.entry_mode
    lines = [f"## {' / '.join(play.profile)} ({episodes} episodes)", ""]
    for firm, agent in enumerate(agents):
        lines += [
            f"### Seat {firm} ({agent}): {play.profile[firm]}; mean return "
            f"{play.returns[firm].mean():.1f} $M, bankrupt in "
            f"{int(play.bankrupt[:, firm].sum())} of {episodes}",
            "",
            "| region | mode | episodes | median quarter | first quarter |",
            "|---|---|---|---|---|",
        ]
        raised = after[:, firm] > before[:, firm]  # (E, T, R)
        for region, name in enumerate(regions):
            for mode in EntryMode:
                if mode == EntryMode.NONE:
                    continue
                hits = raised[:, :, region] & (after[:, firm, :, region] == mode)
                episodes_with = hits.any(axis=1)
                if not episodes_with.any():
                    continue
                quarters = np.nonzero(hits)[1]
                lines.append(
                    f"| {name} | {mode.name.lower()} | {int(episodes_with.sum())} | "
                    f"{float(np.median(quarters)):.0f} | {int(quarters.min())} |"
                )
        exits = (after[:, firm] == EntryMode.NONE) & (before[:, firm] > EntryMode.NONE)
        lines += [
            "",
            f"Exits: {int(exits.sum())} over {int(exits.any(axis=1).any(axis=1).sum())} episodes.",
            "",
        ]
    return "\n".join(lines)


def race_figure(play: Play, agents: tuple[str, ...], regions: tuple[str, ...], path: Path) -> Path:
    """Presence and mean market share by region over the quarters, one row per firm (PNG)."""
    from matplotlib.figure import Figure

    num_firms, quarters = play.entry_mode.shape[1], play.entry_mode.shape[2]
    figure = Figure(figsize=(12.5, 3.0 * num_firms), layout="constrained")
    axes = figure.subplots(num_firms, 2, squeeze=False, sharex=True)
    steps = np.arange(1, quarters + 1)
    colours = [f"C{r % 10}" for r in range(len(regions))]
    styles = ["solid", "dashed"]
    for firm in range(num_firms):
        presence = (play.entry_mode[:, firm] > EntryMode.NONE).mean(axis=0)  # (T, R)
        share = play.market_share[:, firm].mean(axis=0)  # (T, R)
        for region, name in enumerate(regions):
            style = {"color": colours[region], "linestyle": styles[(region // 10) % 2]}
            axes[firm, 0].plot(steps, presence[:, region], label=name, **style)
            axes[firm, 1].plot(steps, share[:, region], label=name, **style)
        title = f"seat {firm} {agents[firm]}: {play.profile[firm]}"
        axes[firm, 0].set_title(f"{title}: presence", fontsize=9)
        axes[firm, 1].set_title(f"{title}: market share", fontsize=9)
        axes[firm, 0].set_ylabel("share of episodes")
        axes[firm, 1].set_ylabel("mean share")
        axes[firm, 0].set_ylim(-0.02, 1.02)
    axes[-1, 0].set_xlabel("quarter")
    axes[-1, 1].set_xlabel("quarter")
    handles, labels = axes[0, 1].get_legend_handles_labels()
    figure.legend(handles, labels, loc="outside right upper", fontsize=8, title="region")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
