"""The exact NashConv figures of a small game (docs/benchmarks.md, "Small games").

``python -m lepton_env.games.report --scenario duel_toy --output duel_toy.json``
prints, with the conflict coins enumerated:

* (a) every deterministic heuristic played by both firms (each built for its own
  firm's view of the world), and which is best (the highest summed return);
* (b) both firms at their single-firm oracle plan (``agents.players.oracle.solve`` on the
  firm's one-firm world);
* (d) the double oracle from (b) with exact feedback best responses and nashpy
  (:mod:`lepton_env.games.double_oracle`), and the on-path play of its equilibrium.

The seeds: in these games the seed draws only the coins, so with the coins
enumerated every seed's episode is the same game; the report checks that the
roots of ``--seeds`` seeds are identical and says so, then solves it once.
(c) and (d) through ``lepton-train``: ``--run DIR`` (repeatable) scores the profile a
population run outputs (``multiagent=selfplay``: its policy in both seats; ``psro``: its
meta-profile; ``independent``: one policy per seat; read back as data,
:mod:`lepton_env.agents.population.profiles`) by the same exact NashConv, instead of the
rows above:

``python -m lepton_env.games.report --run runs/duel_toy__maskable_ppo__seed0__selfplay``
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lepton_env.games.best_response import NashConv, nash_conv, payoff_tables
from lepton_env.games.double_oracle import bimatrix_equilibria, double_oracle
from lepton_env.games.strategies import AgentStrategy, Mixture, PlanStrategy, Profile, Strategy
from lepton_env.games.tree import SmallGame, expand
from lepton_env.state import FIELDS

#: Equilibria of the final populations' game checked in the full game, at most.
MAX_EQUILIBRIA = 6

#: The deterministic heuristics of ``agents.players.heuristics`` (random is not a pure strategy).
HEURISTICS = (
    "HomeOnlyAgent",
    "GreedyLargestMarketAgent",
    "UppsalaAgent",
    "PilotThenScaleAgent",
    "BornGlobalAgent",
)


def heuristic_profile(game: SmallGame, name: str) -> list[Strategy]:
    """Both firms at heuristic ``name``, each built for its own view of the world."""
    from lepton_env.multi.firms import single_width
    from lepton_env.multi.scripted import build_agent

    width = single_width(game.params)
    return [
        AgentStrategy(build_agent(name, game.params, f, "discrete", name), width, name)
        for f in range(game.num_firms)
    ]


def solo_plans(game: SmallGame) -> list[PlanStrategy]:
    """Each firm's single-firm oracle plan: the optimum of its world without the rival."""
    from lepton_env.agents.players.oracle import solve
    from lepton_env.multi.firms import firm_params

    return [
        PlanStrategy(solve(firm_params(game.params, f)).plan, name=f"solo{f}")
        for f in range(game.num_firms)
    ]


def same_roots(game: SmallGame, seeds: Sequence[int]) -> bool:
    """Whether every seed's episode starts from the same state (the seed draws only coins)."""
    state, _, _ = game.root(seeds)
    first = state.take(np.zeros(len(seeds), dtype=np.intp))
    return all(
        np.array_equal(getattr(first, f.name), getattr(state, f.name))
        for f in FIELDS
        if f.name != "episode_key"
    )


def summary(result: NashConv) -> dict[str, Any]:
    return {
        "values": result.values.round(6).tolist(),
        "best_response_values": result.best_response_values.round(6).tolist(),
        "gains": result.gains.round(6).tolist(),
        "nash_conv": round(result.nash_conv, 6),
    }


def on_path(game: SmallGame, profile: Profile) -> list[dict[str, Any]]:
    """The profile's play: every leaf with its probability, actions and returns."""
    return [
        {"probability": round(p, 6), "actions": actions, "returns": returns.round(4).tolist()}
        for p, actions, returns in expand(game, profile).paths()
        if p > 0
    ]


def report(scenario: str, seeds: Sequence[int], log: Any = print) -> dict[str, Any]:
    game = SmallGame.make(scenario)
    out: dict[str, Any] = {"scenario": scenario, "chance": "enumerate", "seeds": list(seeds)}
    out["same_game_for_every_seed"] = same_roots(game, seeds)
    log(
        f"{scenario}: the {len(seeds)} seeds start the same game: {out['same_game_for_every_seed']}"
    )
    started = time.perf_counter()
    heuristics = {}
    for name in HEURISTICS:
        result = nash_conv(game, heuristic_profile(game, name))
        heuristics[name] = summary(result)
        log(f"(a) both {name}: {heuristics[name]}")
    best = max(heuristics, key=lambda n: sum(heuristics[n]["values"]))
    out["heuristics"], out["best_heuristic"] = heuristics, best
    plans = solo_plans(game)
    out["solo_plans"] = [list(p.plan) for p in plans]
    solo = nash_conv(game, plans)
    solo_open = nash_conv(game, plans, kind="open_loop")
    out["solo"] = summary(solo)
    out["solo_open_loop"] = summary(solo_open)
    out["solo_on_path"] = on_path(game, plans)
    log(f"(b) both solo plans {out['solo_plans']}: {out['solo']}")
    log(f"(b) open-loop deviations only: {out['solo_open_loop']}")
    loop = double_oracle(game, [[p] for p in plans], log=lambda m: log(f"(d) {m}"))
    profile: list[Mixture] = loop.profile
    final = nash_conv(game, profile)
    out["double_oracle"] = {
        "iterations": len(loop.history),
        "history": [
            {"sizes": list(i.sizes), "values": i.values.round(6).tolist(), "nash_conv": i.nash_conv}
            for i in loop.history
        ],
        "meta": [m.weights.round(6).tolist() for m in profile],
        "final": summary(final),
        "relative_nash_conv": final.nash_conv / float(np.abs(final.values).sum()),
        "on_path": on_path(game, profile),
    }
    log(f"(d) double oracle: {out['double_oracle']['final']}")
    # the equilibria of the final populations' game, each checked in the full game
    tables = payoff_tables(game, loop.populations)
    equilibria = []
    for weights in bimatrix_equilibria(tables[0], tables[1])[:MAX_EQUILIBRIA]:
        candidate = [Mixture(tuple(p), w) for p, w in zip(loop.populations, weights, strict=True)]
        checked = nash_conv(game, candidate)
        equilibria.append(
            {
                "meta": [w.round(6).tolist() for w in weights],
                "names": [[getattr(m, "name", "") for m in p] for p in loop.populations],
                **summary(checked),
                "on_path": on_path(game, candidate),
            }
        )
        log(f"equilibrium of the final populations: {equilibria[-1]['meta']}: {summary(checked)}")
    out["equilibria"] = equilibria
    out["seconds"] = round(time.perf_counter() - started, 1)
    return out


def run_report(run_dirs: Sequence[Path], seeds: Sequence[int], log: Any = print) -> dict[str, Any]:
    """The exact NashConv of each population run's output profile (``--run``)."""
    from lepton_env.agents.population.profiles import run_profile

    out: dict[str, Any] = {"chance": "enumerate", "seeds": list(seeds), "runs": {}}
    for run_dir in run_dirs:
        config, profile = run_profile(run_dir)
        game = SmallGame.make(config.scenario.name, **config.scenario.kwargs)
        same = same_roots(game, seeds)
        started = time.perf_counter()
        result = nash_conv(game, profile, [seeds[0]] if same else seeds)
        figures = {
            "scenario": config.scenario.name,
            "mode": config.multiagent.mode if config.multiagent else None,
            "seed": config.seed,
            "same_game_for_every_seed": same,
            **summary(result),
            "relative_nash_conv": result.nash_conv / float(np.abs(result.values).sum()),
            "seconds": round(time.perf_counter() - started, 1),
        }
        out["runs"][str(run_dir)] = figures
        log(f"{run_dir}: {figures}")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="duel_toy")
    parser.add_argument("--seeds", type=int, default=16, help="seeds 0..n-1 (default 16)")
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument(
        "--run",
        type=Path,
        action="append",
        default=[],
        help="a lepton-train multiagent run directory: score its output profile (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.run:
        figures = run_report(args.run, list(range(args.seeds)))
        if args.output is not None:
            args.output.write_text(json.dumps(figures, indent=1, default=float))
        return
    result = report(args.scenario, list(range(args.seeds)))
    if args.output is not None:
        args.output.write_text(json.dumps(result, indent=1, default=float))
    print(json.dumps({k: result[k] for k in ("best_heuristic", "solo", "seconds")}, default=float))


if __name__ == "__main__":
    main()
