"""lepton-crossplay: every contender against every other, per seat, on held-out episodes.

    python -m lepton_env.experiments.crossplay --scenario race --episodes 64 --output out/race
    python -m lepton_env.experiments.crossplay --scenario duel_toy --exact
    python -m lepton_env.experiments.crossplay --scenario race \\
        --model ppo=runs/race/best_model.zip:sb3_contrib.MaskablePPO --search

Contenders: ``--heuristics`` (class names of agents/players/heuristics.py; default every
one), ``--search`` (the cross-entropy rules search with ``--search-seconds`` of CPU per
seat, searched on the seat's one-firm world on training seeds), ``--model NAME=PATH:CLASS``
(a saved SB3 model, ``:own`` appended for a single-agent model; loaded without unpickling
unless ``--trust``). Every cell plays the same episodes: ``--episodes`` from
``--first-seed`` (the test range, 2,000,000, by default). Writes into ``--output``:
``crossplay.md`` (the table per focal seat with hierarchical-bootstrap intervals, the
seat-averaged payoff, the margins with paired intervals, openskill beside Nash
averaging, and on a small game with ``--exact`` the exact NashConv of every profile),
``crossplay.json`` (the same figures), ``strategy.md`` (each firm's entries by mode,
region and quarter) and ``race.png`` (presence and share by region over time per firm)
for the profile of the top Nash-averaging contender in every seat. The logic is
:mod:`lepton_env.agents.comparison.crossplay`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lepton_env.agents.comparison.episodes import TEST_FIRST_SEED

#: The heuristics played by default: every baseline of agents/players/heuristics.py.
DEFAULT_HEURISTICS = (
    "RandomAgent",
    "HomeOnlyAgent",
    "GreedyLargestMarketAgent",
    "UppsalaAgent",
    "PilotThenScaleAgent",
    "BornGlobalAgent",
)
#: The search contender of ``--search``: the rules family of configs/compare.yaml.
SEARCH = {
    "_target_": "lepton_env.agents.players.search.CrossEntropySearchAgent",
    "family": "rules",
    "population": 64,
    "train_seeds": "auto",
    "validation_episodes": 8,
    "seed": 0,
}


def parse_model(text: str) -> tuple[str, dict[str, Any]]:
    """``NAME=PATH:CLASS[:own]`` as a contender spec."""
    name, _, rest = text.partition("=")
    parts = rest.split(":")
    if (
        not name
        or len(parts) not in (2, 3)
        or (len(parts) == 3 and parts[2] not in ("own", "firm"))
    ):
        raise argparse.ArgumentTypeError(
            f"--model {text!r}: expected NAME=PATH:CLASS or NAME=PATH:CLASS:own "
            "(e.g. ppo=runs/race/best_model.zip:sb3_contrib.MaskablePPO)"
        )
    spec = {
        "path": parts[0],
        "class_path": parts[1],
        "observation": parts[2] if len(parts) == 3 else "firm",
    }
    return name, spec


def contenders_of(args: argparse.Namespace) -> dict[str, Any]:
    contenders: dict[str, Any] = {name: name for name in args.heuristics}
    if args.search:
        contenders["search_rules"] = {**SEARCH, "max_cpu_seconds": args.search_seconds}
    for name, spec in args.model:
        contenders[name] = spec
    return contenders


def run(args: argparse.Namespace, log: Any = print) -> dict[str, Any]:
    """The cross-play of ``args`` written into ``args.output``; its figures."""
    from lepton_env.agents.comparison.crossplay import cross_play, exact_nash_conv
    from lepton_env.agents.comparison.crossplay_report import (
        race_figure,
        ratings_markdown,
        strategy_markdown,
        table_markdown,
    )
    from lepton_env.agents.comparison.ratings import nash_averaging, openskill_ratings
    from lepton_env.multi.firms import agent_ids
    from lepton_env.scenarios import make_params

    started = time.perf_counter()
    params = make_params(args.scenario)
    agents = agent_ids(params)
    contenders = contenders_of(args)
    seeds = list(range(args.first_seed, args.first_seed + args.episodes))
    table = cross_play(
        params,
        contenders,
        seeds,
        action_mode=args.action_mode,
        reps=args.reps,
        trust=args.trust,
        on_cell=lambda label: log(f"cell {label}", file=sys.stderr),
    )
    names = table.names
    per_episode = table.seat_scores  # (C, C, E)
    averaging = nash_averaging(table.margins)
    try:
        skill: dict[str, tuple[float, float, float]] | None = openskill_ratings(
            names, per_episode - per_episode.transpose(1, 0, 2)
        )
    except ImportError as missing:
        log(str(missing), file=sys.stderr)
        skill = None
    top = names[int(np.argmax(averaging.ratings))]
    index = names.index(top)
    shown = table.plays[0, index, index]  # the top contender in every seat
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    test_note = (
        ""
        if args.first_seed == TEST_FIRST_SEED
        else f"\n\nNote: seeds from {args.first_seed}, not the test range ({TEST_FIRST_SEED}).\n"
    )
    report = [
        f"# Cross-play on {args.scenario} ({args.action_mode} face)",
        "",
        f"Command: `{args.command}`",
        "",
        table_markdown(table, agents, 0.95) + test_note,
        "## Ratings",
        "",
        ratings_markdown(names, averaging, skill),
    ]
    for name, budgets in table.budgets.items():
        report += [f"Budget of {name} per seat: {budgets}", ""]
    figures: dict[str, Any] = {
        "scenario": args.scenario,
        "action_mode": args.action_mode,
        "seeds": [seeds[0], seeds[-1]],
        "contenders": list(names),
        "payoff": table.payoff.round(4).tolist(),
        "margins": table.margins.round(4).tolist(),
        "nash_averaging": {
            "equilibrium": averaging.equilibrium.round(6).tolist(),
            "ratings": averaging.ratings.round(4).tolist(),
        },
        "openskill": skill,
        "budgets": table.budgets,
        "focal": {
            f"{seat}/{names[i]}/{names[j]}": [
                float(e.point[0]),
                float(e.low[0]),
                float(e.high[0]),
            ]
            for (seat, i, j), e in table.focal.items()
        },
    }
    if args.exact:
        exact = exact_nash_conv(
            args.scenario,
            contenders,
            trust=args.trust,
            on_cell=lambda label: log(f"exact {label}", file=sys.stderr),
        )
        report += [
            "## Exact NashConv (small game, coins enumerated)",
            "",
            "| seat 0 | seat 1 | values | gains | NashConv |",
            "|---|---|---|---|---|",
        ]
        for (first, second), result in exact.items():
            report.append(
                f"| {first} | {second} | {np.round(result.values, 2).tolist()} | "
                f"{np.round(result.gains, 2).tolist()} | {result.nash_conv:.3f} |"
            )
        report.append("")
        figures["exact_nash_conv"] = {
            f"{a}/{b}": {"values": r.values.tolist(), "gains": r.gains.tolist()}
            for (a, b), r in exact.items()
        }
    regions = params.region_names
    (output / "crossplay.md").write_text("\n".join(report))
    (output / "crossplay.json").write_text(json.dumps(figures, indent=1, default=float))
    (output / "strategy.md").write_text(
        "\n".join(
            strategy_markdown(table.plays[0, i, i], agents, regions) for i in range(len(names))
        )
    )
    race_figure(shown, agents, regions, output / "race.png")
    log(f"cross-play of {len(names)} contenders in {time.perf_counter() - started:.0f} s")
    return figures


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="lepton-crossplay", description=(__doc__ or "").splitlines()[0]
    )
    parse.add_argument("--scenario", default="race", help="a multi-firm scenario (race)")
    parse.add_argument("--heuristics", nargs="*", default=list(DEFAULT_HEURISTICS))
    parse.add_argument("--search", action="store_true", help="add the rules search")
    parse.add_argument("--search-seconds", type=float, default=20.0, help="CPU s per seat")
    parse.add_argument("--model", type=parse_model, action="append", default=[])
    parse.add_argument("--trust", action="store_true", help="unpickle model files (trusted)")
    parse.add_argument("--episodes", type=int, default=64)
    parse.add_argument("--first-seed", type=int, default=TEST_FIRST_SEED)
    parse.add_argument(
        "--action-mode", default="multi_discrete", choices=["multi_discrete", "discrete"]
    )
    parse.add_argument("--reps", type=int, default=2000, help="bootstrap replicates")
    parse.add_argument("--exact", action="store_true", help="exact NashConv (small games)")
    parse.add_argument("--output", default="outputs/crossplay")
    return parse


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.command = "python -m lepton_env.experiments.crossplay " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    try:
        run(args)
    except (ValueError, FileNotFoundError) as error:
        print(f"lepton-crossplay: {error}", file=sys.stderr)
        sys.exit(2)
    print((Path(args.output) / "crossplay.md").read_text())


if __name__ == "__main__":
    main()
