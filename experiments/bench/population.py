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

With ``--psro-run`` directories of ``lepton-train multiagent=psro`` (one per training
seed), their profiles (a meta-mixture per seat) are measured the same way: a mixture's
return on an episode is the expectation over its members (every joint profile of the
members above :data:`MIXTURE_FLOOR` played on the episode and weighted by the
meta-strategies, renormalized), so the draw of members adds no noise. Cross-play against
each heuristic and against each self-play policy of ``--run`` (PSRO's mixture in one seat
and the other policy in the other two, and the reverse), and best responses trained
against the PSRO mixtures in the other seats (drawn per episode through a
:class:`~lepton_env.multi.population.Population`).

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

#: Members of a PSRO meta-mixture weighted below this are left out of its evaluation (the
#: replicator dynamics keep every member at >= 1e-6); the rest are renormalized.
MIXTURE_FLOOR = 1e-3

#: A seat of a mixed profile: (weight, agent spec) per member.
MixedSeat = list[tuple[float, Any]]


def mixed_seats(mixtures: Sequence[Any]) -> list[MixedSeat]:
    """The PSRO profile's seats (a :class:`~lepton_env.games.strategies.Mixture` per firm)
    as weighted agent specs, members below :data:`MIXTURE_FLOOR` left out."""
    from lepton_env.agents.population.psro import strategy_agent

    seats = []
    for mixture in mixtures:
        weights = np.asarray(mixture.weights, dtype=np.float64)
        kept = np.flatnonzero(weights >= MIXTURE_FLOOR)
        total = float(weights[kept].sum())
        seats.append(
            [(float(weights[m]) / total, strategy_agent(mixture.members[m])) for m in kept]
        )
    return seats


def mixed_returns(params: Any, seats: Sequence[Any], seeds: Sequence[int], mode: str) -> Any:
    """(F, E) each seat's per-episode return, a seat being a spec or a :data:`MixedSeat`:
    every joint profile of the members played, weighted by the product of their weights."""
    import itertools

    options = [seat if isinstance(seat, list) else [(1.0, seat)] for seat in seats]
    total = np.zeros((len(seats), len(seeds)))
    for combo in itertools.product(*options):
        weight = float(np.prod([w for w, _ in combo]))
        total += weight * seat_returns(params, [spec for _, spec in combo], seeds, mode)
    return total


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


def psro_cross_play(
    params: Any,
    profiles: Sequence[list[MixedSeat]],
    opponents: dict[str, Sequence[Any]],
    seeds: Sequence[int],
    mode: str,
    reps: int,
) -> dict[str, Any]:
    """PSRO's profiles (one per training seed) against each opponent (a heuristic, or the
    self-play policy of each of its training seeds): PSRO's mixture in one seat and the
    opponent in the other two, and the reverse, averaged over the seats; units are
    (PSRO seed, opponent seed) pairs, then episodes."""
    from lepton_env.agents.comparison.stats import hierarchical_bootstrap, mean

    num_firms = params.num_firms
    own = np.stack([mixed_returns(params, seats, seeds, mode).mean(axis=0) for seats in profiles])
    rows: dict[str, Any] = {
        "self": {"payoff": _interval(hierarchical_bootstrap(own, mean, reps=reps))}
    }
    for name, specs in opponents.items():
        psro_focal, other_focal = [], []
        for seats in profiles:
            for spec in specs:
                focal_p, focal_o = [], []
                for seat in range(num_firms):
                    deviation: list[Any] = [spec] * num_firms
                    deviation[seat] = seats[seat]
                    focal_p.append(mixed_returns(params, deviation, seeds, mode)[seat])
                    deviation = list(seats)
                    deviation[seat] = spec
                    focal_o.append(mixed_returns(params, deviation, seeds, mode)[seat])
                psro_focal.append(np.mean(focal_p, axis=0))
                other_focal.append(np.mean(focal_o, axis=0))
        learned, versus = np.stack(psro_focal), np.stack(other_focal)  # (K, E)
        rows[name] = {
            "payoff_psro": _interval(hierarchical_bootstrap(learned, mean, reps=reps)),
            "payoff_opponent": _interval(hierarchical_bootstrap(versus, mean, reps=reps)),
            "margin": _interval(hierarchical_bootstrap(learned - versus, mean, reps=reps)),
        }
        print(f"PSRO cross-play vs {name}: {rows[name]}", flush=True)
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
    profile's own return (module docstring). ``profile``: one spec for every seat, or a
    list of :data:`MixedSeat` (a PSRO profile), one per seat."""
    from dataclasses import replace

    from lepton_env.agents.population.common import seat_env
    from lepton_env.agents.training.factory import load_agent, make_agent
    from lepton_env.multi.firms import agent_ids
    from lepton_env.multi.population import Population

    agents = agent_ids(params)
    num_firms = len(agents)
    mode = config.env.action_mode
    seats: list[Any] = list(profile) if isinstance(profile, list) else [profile] * num_firms
    baseline = mixed_returns(params, seats, seeds, mode)  # (F, E)

    def scripted(seat: Any) -> Any:
        if not isinstance(seat, list):
            return seat
        members = {f"member{m}": spec for m, (_, spec) in enumerate(seat)}
        return Population(members, [w for w, _ in seat])

    gains, cpu = [], []
    for firm, agent in enumerate(agents):
        own = replace(config, seed=seed + firm)
        others = {a: scripted(seats[f]) for f, a in enumerate(agents) if a != agent}
        env = seat_env(own, config.env.num_envs, agent, others)
        model: Any
        if init is None:
            model = make_agent(own, env, "cpu")
        else:
            model = load_agent(own, str(init / "final_model.zip"), env, "cpu")
            model.set_random_seed(own.seed)
        started = time.process_time()
        model.learn(steps, progress_bar=False)
        cpu.append(time.process_time() - started)
        deviation = list(seats)
        deviation[firm] = model
        response = mixed_returns(params, deviation, seeds, mode)[firm]
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
    parser.add_argument(
        "--psro-run",
        type=Path,
        action="append",
        default=[],
        help="a multiagent=psro run (one per training seed): its profile's cross-play and "
        "best responses",
    )
    parser.add_argument(
        "--psro-only",
        action="store_true",
        help="with --psro-run: skip the self-play runs' own cross-play and best responses "
        "(they are still the self-play opponents of PSRO's cross-play)",
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
    if args.psro_run:
        out["psro"] = psro_measures(args, config, params, models, seeds)
        if args.psro_only:
            out["br_steps"] = args.br_steps
            _write(out, args.output)
            return
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
    _write(out, args.output)


def psro_measures(
    args: Any, config: Any, params: Any, models: Sequence[Any], seeds: Sequence[int]
) -> dict[str, Any]:
    """The PSRO runs' cross-play (heuristics, the self-play policies) and best responses."""
    from lepton_env.agents.comparison.stats import hierarchical_bootstrap, mean
    from lepton_env.agents.population.profiles import run_profile

    mode = config.env.action_mode
    profiles = [mixed_seats(run_profile(run)[1]) for run in args.psro_run]
    out: dict[str, Any] = {
        "runs": [str(r) for r in args.psro_run],
        "mixtures": [[[round(w, 4) for w, _ in seat] for seat in seats] for seats in profiles],
    }
    started = time.process_time()
    if not args.skip_cross_play:
        opponents: dict[str, Sequence[Any]] = {h: [h] for h in HEURISTICS}
        opponents["selfplay"] = list(models)
        out["cross_play"] = psro_cross_play(params, profiles, opponents, seeds, mode, args.reps)
        out["cross_play_cpu_seconds"] = round(time.process_time() - started, 1)
    found = []
    for k, seats in enumerate(profiles):
        print(f"best responses to the PSRO profile of {args.psro_run[k]}", flush=True)
        found.append(best_response_gains(config, params, seats, seeds, args.br_steps, 300 + k))
    total = np.stack([r["gains"].sum(axis=0) for r in found])  # (K, E)
    out["exploitability"] = {
        "nash_conv_estimate": _interval(hierarchical_bootstrap(total, mean, reps=args.reps)),
        "per_seat_gain": [
            _boot(np.stack([r["gains"][f] for r in found]), args.reps)
            for f in range(params.num_firms)
        ],
        "profile_returns": [r["profile_returns"] for r in found],
        "br_cpu_seconds": [r["cpu_seconds"] for r in found],
    }
    print(json.dumps(out["exploitability"], indent=1), flush=True)
    return out


def _write(out: dict[str, Any], output: Path | None) -> None:
    if output is not None:
        output.write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
