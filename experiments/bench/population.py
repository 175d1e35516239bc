"""Benchmark of a learned multi-firm profile on a large game: cross-play and exploitability.

For ``--run`` directories of ``lepton-train multiagent=selfplay`` (one per training seed):

* **cross-play against the heuristics**: for each training seed ``k``, heuristic ``H`` and
  seat ``s``, the learned policy in seat ``s`` against ``H`` in every other seat and ``H``
  in seat ``s`` against the learned policy elsewhere, on the same ``--episodes`` test
  episodes (seeds from 2,000,000); the payoff is the focal return averaged over the seats
  and the margin ``payoff[L, H] - payoff[H, L]`` per episode. Intervals: 95% hierarchical
  bootstrap over training seeds then episodes
  (:func:`lepton_env.agents.comparison.stats.hierarchical_bootstrap`).
* **approximate exploitability**: for a profile (every seat played by one policy: the
  learned one of each training seed, and ``--heuristic``), a best response per seat is
  trained with MaskablePPO (the run's agent config) for ``--br-steps`` env steps against
  the profile in the other seats (through the multi-agent VecEnv); its gain is the BR's
  return minus the profile's own return in that seat on the same test episodes, and the
  sum over seats estimates NashConv from below (a trained BR is no better than the best
  one). A negative gain means the BR failed to beat the profile in its budget (the bound
  is then 0). The BR starts from scratch, or (``--br-init run``) from the self-play run's
  own policy, fine-tuned against the fixed profile (for both profiles alike). CPU seconds
  of each BR's training are recorded.

Usage::

    python -m lepton_env.experiments.bench.population --run runs/race_selfplay_s0 \\
        --run runs/race_selfplay_s1 --episodes 64 --br-steps 130560 --output race.json
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lepton_env.experiments.crossplay import DEFAULT_HEURISTICS

#: The heuristics of lepton-crossplay's default.
HEURISTICS = DEFAULT_HEURISTICS


def seat_returns(params: Any, seats: Sequence[Any], seeds: Sequence[int], mode: str) -> Any:
    from lepton_env.agents.comparison.crossplay import play_profile

    return play_profile(params, seats, seeds, action_mode=mode).returns  # (F, E)


def cross_play(
    params: Any, models: Sequence[Any], seeds: Sequence[int], mode: str, reps: int
) -> dict[str, Any]:
    """The learned policies (one per training seed) against each heuristic (module docstring)."""
    from lepton_env.agents.comparison.stats import hierarchical_bootstrap, mean

    num_firms = params.num_firms
    rows: dict[str, Any] = {}
    own = np.stack(
        [seat_returns(params, [m] * num_firms, seeds, mode).mean(axis=0) for m in models]
    )  # (K, E): the learned profile's seat-averaged return
    estimate = hierarchical_bootstrap(own, statistic=mean, reps=reps)
    rows["self"] = {"payoff": _interval(estimate)}
    for heuristic in HEURISTICS:
        learned_focal, heuristic_focal = [], []
        for model in models:
            focal_l, focal_h = [], []
            for seat in range(num_firms):
                seats: list[Any] = [heuristic] * num_firms
                seats[seat] = model
                focal_l.append(seat_returns(params, seats, seeds, mode)[seat])
                seats = [model] * num_firms
                seats[seat] = heuristic
                focal_h.append(seat_returns(params, seats, seeds, mode)[seat])
            learned_focal.append(np.mean(focal_l, axis=0))
            heuristic_focal.append(np.mean(focal_h, axis=0))
        learned, versus = np.stack(learned_focal), np.stack(heuristic_focal)  # (K, E)
        rows[heuristic] = {
            "payoff_learned": _interval(hierarchical_bootstrap(learned, statistic=mean, reps=reps)),
            "payoff_heuristic": _interval(
                hierarchical_bootstrap(versus, statistic=mean, reps=reps)
            ),
            "margin": _interval(
                hierarchical_bootstrap(learned - versus, statistic=mean, reps=reps)
            ),
        }
        print(f"cross-play vs {heuristic}: {rows[heuristic]}", flush=True)
    return rows


def best_response_gains(
    config: Any,
    params: Any,
    profile: Any,
    seeds: Sequence[int],
    steps: int,
    seed: int,
    init: Path | None = None,
) -> dict[str, Any]:
    """Per seat: a MaskablePPO best response trained against ``profile`` in the other seats
    (from scratch, or from the policy of run ``init``); its per-episode gain over the
    profile's own return (module docstring)."""
    from dataclasses import replace

    from lepton_env.agents.population.common import seat_env
    from lepton_env.agents.training.factory import load_agent, make_agent
    from lepton_env.multi.firms import agent_ids

    agents = agent_ids(params)
    num_firms = len(agents)
    mode = config.env.action_mode
    baseline = seat_returns(params, [profile] * num_firms, seeds, mode)  # (F, E)
    gains, cpu = [], []
    for firm, agent in enumerate(agents):
        own = replace(config, seed=seed + firm)
        env = seat_env(own, config.env.num_envs, agent, {a: profile for a in agents if a != agent})
        model: Any
        if init is None:
            model = make_agent(own, env, "cpu")
        else:
            model = load_agent(own, str(init / "final_model.zip"), env, "cpu")
            model.set_random_seed(own.seed)
        started = time.process_time()
        model.learn(steps, progress_bar=False)
        cpu.append(time.process_time() - started)
        seats: list[Any] = [profile] * num_firms
        seats[firm] = model
        response = seat_returns(params, seats, seeds, mode)[firm]
        gains.append(response - baseline[firm])
        print(
            f"  seat {firm}: BR {response.mean():.3f} vs profile {baseline[firm].mean():.3f} "
            f"({cpu[-1]:.0f} s CPU)",
            flush=True,
        )
    return {
        "gains": np.stack(gains),  # (F, E)
        "profile_returns": baseline.mean(axis=1).tolist(),
        "cpu_seconds": cpu,
    }


def _boot(scores: Any, reps: int) -> list[float]:
    """The mean of ``(runs, episodes)`` scores with its 95% hierarchical interval."""
    from lepton_env.agents.comparison.stats import hierarchical_bootstrap, mean

    return _interval(hierarchical_bootstrap(np.atleast_2d(scores), statistic=mean, reps=reps))


def _interval(estimate: Any) -> list[float]:
    return [
        round(float(np.ravel(estimate.point)[0]), 4),
        round(float(np.ravel(estimate.low)[0]), 4),
        round(float(np.ravel(estimate.high)[0]), 4),
    ]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, action="append", required=True)
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--first-seed", type=int, default=2_000_000)
    parser.add_argument("--br-steps", type=int, default=130_560)
    parser.add_argument("--br-runs", type=int, default=None, help="learned profiles to probe")
    parser.add_argument("--heuristic", default="BornGlobalAgent")
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--skip-cross-play", action="store_true")
    parser.add_argument(
        "--br-init",
        choices=("scratch", "run"),
        default="scratch",
        help="best responses from scratch, or fine-tuned from the probed run's own policy "
        "(for the heuristic profile too: the first --run's)",
    )
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)

    from lepton_env.agents.comparison.stats import hierarchical_bootstrap, mean
    from lepton_env.agents.population.profiles import run_profile
    from lepton_env.experiments.train import use_numba_workqueue
    from lepton_env.scenarios import make_params

    use_numba_workqueue()
    import torch

    torch.set_num_threads(1)
    loaded = [run_profile(run) for run in args.run]
    config = loaded[0][0]
    params = make_params(config.scenario.name, **config.scenario.kwargs)
    models = [profile[0].agent for _, profile in loaded]
    seeds = list(range(args.first_seed, args.first_seed + args.episodes))
    mode = config.env.action_mode
    out: dict[str, Any] = {"runs": [str(r) for r in args.run], "episodes": args.episodes}
    started = time.process_time()
    if not args.skip_cross_play:
        out["cross_play"] = cross_play(params, models, seeds, mode, args.reps)
        out["cross_play_cpu_seconds"] = round(time.process_time() - started, 1)
    probes = models[: args.br_runs or len(models)]
    learned = []
    for k, model in enumerate(probes):
        print(f"best responses to the learned profile of {args.run[k]}", flush=True)
        init = args.run[k] if args.br_init == "run" else None
        learned.append(
            best_response_gains(config, params, model, seeds, args.br_steps, 100 + k, init)
        )
    total = np.stack([r["gains"].sum(axis=0) for r in learned])  # (K, E)
    out["exploitability_learned"] = {
        "nash_conv_estimate": _interval(
            hierarchical_bootstrap(total, statistic=mean, reps=args.reps)
        ),
        "per_seat_gain": [
            _boot(np.stack([r["gains"][f] for r in learned]), args.reps)
            for f in range(params.num_firms)
        ],
        "profile_returns": [r["profile_returns"] for r in learned],
        "br_cpu_seconds": [r["cpu_seconds"] for r in learned],
    }
    print(f"best responses to both-{args.heuristic}", flush=True)
    init = args.run[0] if args.br_init == "run" else None
    heuristic = best_response_gains(config, params, args.heuristic, seeds, args.br_steps, 200, init)
    out["exploitability_heuristic"] = {
        "heuristic": args.heuristic,
        "nash_conv_estimate": _interval(
            hierarchical_bootstrap(
                heuristic["gains"].sum(axis=0)[None], statistic=mean, reps=args.reps
            )
        ),
        "per_seat_gain": [_boot(gains, args.reps) for gains in heuristic["gains"]],
        "profile_returns": heuristic["profile_returns"],
        "br_cpu_seconds": heuristic["cpu_seconds"],
    }
    out["br_steps"] = args.br_steps
    out["br_init"] = args.br_init
    print(json.dumps({k: v for k, v in out.items() if k.startswith("exploit")}, indent=1))
    if args.output is not None:
        args.output.write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
