"""Benchmark of learning quality: do standard SB3 agents learn on lepton-env?

Three claims, each checked over several training seeds with deterministic
evaluation on held-out episode seeds and the IQM (lepton_env.agents.comparison.stats) with 95%
stratified-bootstrap confidence intervals (Agarwal et al. 2021):

* ``toy`` (Single face): PPO and MaskablePPO reach a normalized score of at
  least 0.95 within 200,000 steps, where ``0`` is the random policy's mean
  return and ``1`` the exact oracle's (:mod:`lepton_env.agents.players.oracle`).
* ``global`` (MultiDiscrete face): the best learned agent beats the best
  heuristic baseline with non-overlapping 95% intervals.
* ``global`` (Continuous face): SAC beats the random policy with
  non-overlapping intervals.

``protocol`` produces every figure of the comparison protocol (docs/benchmarks.md, "The
comparison protocol"): per part (``global``: the default and the best preset; ``toy``;
``toy_pilot``; ``procedural``, the default and the best preset, on the test split's worlds)
five training seeds, then
``lepton-compare`` on the 200 test episodes against every heuristic, both searches given
the preset's CPU seconds per run (one per seed) and the exact optimum where one exists;
``--seeds``, ``--steps-scale`` and ``--episodes`` scale it down (it prints its expected
CPU), ``--parts`` and ``--presets`` pick one figure::

    python -m lepton_env.experiments.bench.learning protocol --out bench_protocol
    python -m lepton_env.experiments.bench.learning protocol --out bench_protocol \
        --parts global --presets global_maskable_ppo_tuned

``presets`` runs the real pipeline instead: ``lepton-train experiment=<preset>`` once per
training seed (a fresh process each, its wall and CPU time recorded in
``<out>/<preset>/times.csv``), then ``lepton-compare`` on the final runs against every
baseline (the exact optimum on ``toy`` / ``toy_pilot``; the test split on
``procedural`` with ``--compare +eval.scenario_kwargs.split=test``)::

    python -m lepton_env.experiments.bench.learning presets --preset toy_maskable_ppo \
        --seeds 0 1 2 3 4 --out /tmp/lb --compare scenario=toy

Usage (each ``train`` run writes ``<out>/<claim>/<algo>__seed<k>/``)::

    python -m lepton_env.experiments.bench.learning train --claim toy --algo PPO --seeds 0 1 2 3 4
    python -m lepton_env.experiments.bench.learning report --out bench_out

``train`` evaluates the deterministic policy every ``--eval-freq`` steps
(logged to TensorBoard as ``eval/mean_reward`` and kept in ``curve.csv``)
and saves the final model; ``report`` aggregates what exists, so a partial
benchmark still reports what ran.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import lepton_env
from lepton_env.reward import ValuationReward

EVAL_SEED_START = 10_000  # held-out episode seeds, disjoint from training's


@dataclass(frozen=True)
class Claim:
    """One learning claim: which face and scenario, how long, which algorithms."""

    env_id: str
    scenario: str
    total_steps: int
    algos: tuple[str, ...]
    eval_episodes: int
    eval_freq: int
    n_envs: int = 16
    algo_kwargs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Keywords of the training env only; evaluation always scores the default reward.
    train_env_kwargs: dict[str, Any] = field(default_factory=dict)


CLAIMS: dict[str, Claim] = {
    "toy": Claim(
        env_id="LeptonExpansion-Single-v0",
        scenario="toy",
        total_steps=200_000,
        algos=("PPO", "MaskablePPO"),
        eval_episodes=5,
        eval_freq=10_000,
        algo_kwargs={
            "PPO": {"n_steps": 128},
            "MaskablePPO": {"n_steps": 128},
        },
    ),
    "global": Claim(
        env_id="LeptonExpansion-v0",
        scenario="global",
        total_steps=300_000,
        algos=("PPO", "MaskablePPO"),
        eval_episodes=20,
        eval_freq=20_000,
        algo_kwargs={
            "PPO": {"n_steps": 128},
            "MaskablePPO": {"n_steps": 128},
        },
        # the same ranking of policies as the default reward, with the terminal
        # valuation paid as revenue is built (potential-based shaping)
        train_env_kwargs={"reward_function": ValuationReward()},
    ),
    "continuous": Claim(
        env_id="LeptonExpansion-Continuous-v0",
        scenario="global",
        total_steps=20_000,
        algos=("SAC",),
        eval_episodes=20,
        eval_freq=5_000,
        n_envs=4,
        # small networks and a short warm-up: the benchmark runs on a 2-core CPU
        algo_kwargs={
            "SAC": {
                "learning_starts": 1_000,
                "buffer_size": 100_000,
                "batch_size": 128,
                "policy_kwargs": {"net_arch": [64, 64]},
            }
        },
    ),
}


def algorithm_class(name: str) -> Any:
    """The SB3 / sb3-contrib class called ``name``."""
    import sb3_contrib
    import stable_baselines3

    for module in (stable_baselines3, sb3_contrib):
        if hasattr(module, name):
            return getattr(module, name)
    raise ValueError(f"algo = {name!r}: not a class of stable_baselines3 or sb3_contrib")


def eval_seeds(count: int) -> list[int]:
    """The held-out episode seeds of an evaluation."""
    return list(range(EVAL_SEED_START, EVAL_SEED_START + count))


def train(
    claim_name: str,
    algo: str,
    seed: int,
    out: Path,
    total_steps: int | None,
    extend: bool = False,
) -> Path:
    """Train one agent, evaluating it along the way; return its run directory.

    ``extend`` continues the run's saved model for ``total_steps`` more steps.
    """
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    from lepton_env.agents.comparison.episodes import evaluate_policy_episodes

    torch.set_num_threads(1)
    claim = CLAIMS[claim_name]
    steps = total_steps or claim.total_steps
    run_dir = out / claim_name / f"{algo}__seed{seed}"
    run_dir.mkdir(parents=True, exist_ok=True)
    env_kwargs = {"scenario": claim.scenario, **claim.train_env_kwargs}
    # the batched core as an SB3 VecEnv: one model step for all n envs
    vec_env = lepton_env.make_vec_env(claim.env_id, num_envs=claim.n_envs, seed=seed, **env_kwargs)
    cls = algorithm_class(algo)
    curve: list[dict[str, float]] = []
    saved = run_dir / "best_model.zip"
    if extend and saved.exists():
        # continue a finished run for `steps` more steps, appending to its curve
        model = cls.load(saved, env=vec_env, tensorboard_log=str(run_dir / "tb"))
        curve = pd.read_csv(run_dir / "curve.csv").to_dict("records")
    else:
        model = cls(
            "MlpPolicy",
            vec_env,
            seed=seed,
            verbose=0,
            tensorboard_log=str(run_dir / "tb"),
            **claim.algo_kwargs.get(algo, {}),
        )
    seeds = eval_seeds(claim.eval_episodes)
    masked = algo.startswith("Maskable")

    def evaluate(step: int) -> float:
        episodes = evaluate_policy_episodes(
            model,
            claim.env_id,
            {"scenario": claim.scenario},
            seeds,
            deterministic=True,
            use_masks=masked,
        )
        mean = float(np.mean(episodes["return"]))
        curve.append({"step": step, "mean_return": mean, "wall_s": time.time() - start})
        pd.DataFrame(curve).to_csv(run_dir / "curve.csv", index=False)
        return mean

    class PeriodicEval(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next_eval = claim.eval_freq

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next_eval:
                self.next_eval += claim.eval_freq
                self.logger.record("eval/mean_reward", evaluate(self.num_timesteps))
            return True

    start = time.time()
    callback = PeriodicEval()
    if curve:
        callback.next_eval = int(curve[-1]["step"]) + claim.eval_freq
    else:
        evaluate(0)
    model.learn(
        total_timesteps=steps,
        callback=callback,
        tb_log_name="run",
        reset_num_timesteps=not curve,
    )
    if curve[-1]["step"] < model.num_timesteps:
        evaluate(model.num_timesteps)
    model.save(run_dir / "best_model.zip")
    write_run_config(run_dir, claim, algo, seed)
    (run_dir / "config.json").write_text(
        json.dumps(
            {
                "claim": claim_name,
                "algo": algo,
                "seed": seed,
                "env_id": claim.env_id,
                "scenario": claim.scenario,
                "total_steps": model.num_timesteps,
                "wall_s": time.time() - start,
            },
            indent=2,
        )
    )
    return run_dir


def write_run_config(run_dir: Path, claim: Claim, algo: str, seed: int) -> None:
    """``config.yaml`` in ``lepton-train``'s layout, so ``lepton-compare`` loads the run."""
    import yaml

    modes = lepton_env.ENV_IDS
    cls = algorithm_class(algo)
    config = {
        "seed": seed,
        "scenario": {"name": claim.scenario, "kwargs": {}},
        "env": {"action_mode": modes[claim.env_id], "observation_mode": "flat"},
        "agent": {
            "name": algo.lower(),
            "model": {"_target_": f"{cls.__module__.split('.')[0]}.{cls.__name__}"},
        },
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def _children_cpu() -> float:
    """User + system CPU seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def train_preset(
    preset: str, seeds: Sequence[int], out: Path, train_overrides: Sequence[str] = ()
) -> list[Path]:
    """``lepton-train experiment=preset`` once per seed; the run directories.

    Each run is ``python -m lepton_env.experiments.train experiment=<preset> seed=<k>``
    in its own process (a run directory that exists is resumed, a finished one kept);
    ``times.csv`` records each run's wall and CPU seconds (the OS's count for the whole
    child process) beside the run's own ``cpu_seconds`` (run.json: the training and its
    validation episodes, what the searches' budgets count).
    """
    base = out / preset
    base.mkdir(parents=True, exist_ok=True)
    times = base / "times.csv"
    rows = pd.read_csv(times).to_dict("records") if times.exists() else []
    run_dirs = []
    for seed in seeds:
        run_dir = base / f"seed{seed}"
        run_dirs.append(run_dir)
        if (run_dir / "final_model.zip").exists():
            continue
        command = [
            sys.executable, "-m", "lepton_env.experiments.train", f"experiment={preset}",
            f"seed={seed}", f"hydra.run.dir={run_dir}", "progress_bar=false",
            "final_table.enabled=false", *train_overrides,
        ]  # fmt: skip
        print(" ".join(command[1:]), flush=True)
        cpu, wall = _children_cpu(), time.perf_counter()
        subprocess.run(command, check=True)
        rows = [row for row in rows if int(row["seed"]) != seed]
        rows.append(
            {
                "seed": seed,
                "wall_s": round(time.perf_counter() - wall, 1),
                "process_cpu_s": round(_children_cpu() - cpu, 1),
                "work_cpu_s": json.loads((run_dir / "run.json").read_text()).get("cpu_seconds"),
                "load_1min": round(_load_average(), 2),
            }
        )
        pd.DataFrame(rows).sort_values("seed").to_csv(times, index=False)
    if times.exists():
        table = pd.read_csv(times)
        print("| " + " | ".join(table.columns) + " |")
        print("|" + " ---: |" * len(table.columns))
        for row in table.itertuples(index=False):
            print("| " + " | ".join(str(value) for value in row) + " |")
    return run_dirs


def compare_runs(
    name: str, run_dirs: Sequence[Path], compare_dir: Path, overrides: Sequence[str] = ()
) -> Path:
    """``lepton-compare`` with the runs as one learned contender (a row per training seed)."""
    models = ",".join(str(run_dir) for run_dir in run_dirs)
    command = [
        sys.executable, "-m", "lepton_env.experiments.compare", f"+models.{name}=[{models}]",
        f"hydra.run.dir={compare_dir}", "report.plots=false", "tensorboard.baselines=false",
        "report.progress=false", *overrides,
    ]  # fmt: skip
    print(" ".join(command[1:]), flush=True)
    subprocess.run(command, check=True)
    return compare_dir


def run_preset(
    preset: str,
    seeds: Sequence[int],
    out: Path,
    train_overrides: Sequence[str] = (),
    compare_overrides: Sequence[str] = (),
) -> Path:
    """Train ``experiment=preset`` once per seed, then compare the runs; the compare dir."""
    run_dirs = train_preset(preset, seeds, out, train_overrides)
    import yaml

    config = yaml.safe_load((run_dirs[0] / "config.yaml").read_text())
    name = str(config["agent"]["name"])
    return compare_runs(name, run_dirs, out / preset / "compare", compare_overrides)


# ---------------------------------------------------------------------- the comparison protocol
#: What ``protocol`` measures: per part, the scenario, the face the heuristics play, the
#: presets (the default run first, then the best preset) and lepton-compare's extra settings.
PROTOCOL_PARTS: dict[str, dict[str, Any]] = {
    "global": {
        "scenario": "global",
        "action_mode": "multi_discrete",
        "presets": ("global_maskable_ppo", "global_maskable_ppo_tuned"),
    },
    "toy": {"scenario": "toy", "action_mode": "discrete", "presets": ("toy_maskable_ppo",)},
    "toy_pilot": {
        "scenario": "toy_pilot",
        "action_mode": "discrete",
        "presets": ("toy_pilot_dqn",),
    },
    "procedural": {
        "scenario": "procedural",
        "action_mode": "multi_discrete",
        "presets": ("procedural_maskable_ppo", "procedural_maskable_ppo_tuned"),
        # every contender plays the test split's worlds (the searches search the train split)
        "compare": ("+eval.scenario_kwargs.split=test",),
    },
}
#: The search baselines given each preset's CPU per run (configs/compare.yaml specs).
SEARCHES = ("search_rules", "search_plans")
#: Work CPU seconds per training seed of each preset on the 2-core machine (run.json's
#: ``cpu_seconds``, the present-value dynamics, docs/benchmarks.md): the searches get as
#: much each, so a full run costs about ``(1 + len(SEARCHES))`` times their sum per seed,
#: plus evaluation.
PRESET_CPU_SECONDS = {
    "global_maskable_ppo": 74,
    "global_maskable_ppo_long": 193,
    "global_maskable_ppo_tuned": 85,
    "procedural_maskable_ppo": 43,
    "procedural_maskable_ppo_tuned": 87,
    "procedural_shared_ppo": 160,
    "toy_maskable_ppo": 11,
    "toy_pilot_dqn": 61,
}


def preset_steps(preset: str) -> int:
    """The preset's ``total_timesteps`` (configs/experiment/<preset>.yaml), else its parent
    preset's, else its agent's budget (configs/agent/<agent>.yaml ``agent.budget``)."""
    import yaml

    configs = Path(lepton_env.__file__).resolve().parent / "configs"
    config = yaml.safe_load((configs / "experiment" / f"{preset}.yaml").read_text())
    if "total_timesteps" in config:
        return int(config["total_timesteps"])
    defaults = config.get("defaults", [])
    parents = [entry for entry in defaults if isinstance(entry, str) and entry != "_self_"]
    if parents:
        return preset_steps(parents[0])
    agent = next(entry["override /agent"] for entry in defaults if "override /agent" in entry)
    agent_config = yaml.safe_load((configs / "agent" / f"{agent}.yaml").read_text())
    return int(agent_config["agent"]["budget"]["total_timesteps"])


def expected_cpu_seconds(
    parts: Sequence[str], seeds: int, steps_scale: float, presets: Sequence[str] = ()
) -> float:
    """A rough CPU estimate of ``protocol`` (training, equal-CPU searches; not evaluation);
    a preset not in :data:`PRESET_CPU_SECONDS` counts as the default's."""
    training = sum(
        PRESET_CPU_SECONDS.get(preset, PRESET_CPU_SECONDS["global_maskable_ppo"]) * steps_scale
        for part in parts
        for preset in presets or PROTOCOL_PARTS[part]["presets"]
    )
    return seeds * training * (1 + len(SEARCHES))


def run_cpu_seconds(run_dirs: Sequence[Path]) -> float:
    """The mean ``cpu_seconds`` (training and validation, lepton-train's run.json) per run."""
    values = [json.loads((run_dir / "run.json").read_text())["cpu_seconds"] for run_dir in run_dirs]
    return float(np.mean(values))


def protocol(
    out: Path,
    parts: Sequence[str],
    seeds: Sequence[int],
    steps_scale: float = 1.0,
    episodes: int = 200,
    reps: int = 2000,
    presets: Sequence[str] = (),
) -> list[Path]:
    """Every figure of docs/benchmarks.md "The comparison protocol"; the compare dirs.

    ``presets`` replaces each part's presets (:data:`PROTOCOL_PARTS`): one figure per
    command, e.g. ``--parts global --presets global_maskable_ppo``.

    Per part and preset: ``lepton-train experiment=<preset>`` once per seed (the
    preset's steps times ``steps_scale``), then one ``lepton-compare`` on the test
    episodes (``episodes`` from seed 2,000,000) of the runs (one learned contender,
    a row per training seed), every heuristic, each search of :data:`SEARCHES` with
    the runs' mean CPU seconds per run and one search per training seed (its
    ``seed``), and the exact optimum where the scenario has one. Each comparison's
    ``summary.md``/``.csv`` holds the paired differences to the best heuristic and
    the best search with their intervals; ``summary.txt`` the console table.
    """
    written = []
    for part in parts:
        setting = PROTOCOL_PARTS[part]
        for preset in presets or setting["presets"]:
            steps = max(int(preset_steps(preset) * steps_scale), 1)
            overrides = [] if steps_scale == 1.0 else [f"total_timesteps={steps}"]
            run_dirs = train_preset(preset, seeds, out / part, overrides)
            cpu = run_cpu_seconds(run_dirs)
            searches = []
            for search in SEARCHES:
                searches += [
                    f"baselines.{search}.max_cpu_seconds={cpu:.2f}",
                    f"+baselines.{search}.run_seeds=[{','.join(str(s) for s in seeds)}]",
                ]
            compare_dir = compare_runs(
                preset,
                run_dirs,
                out / part / preset / "compare",
                [
                    f"scenario={setting['scenario']}",
                    f"action_mode={setting['action_mode']}",
                    f"eval.episodes={episodes}",
                    f"stats.reps={reps}",
                    *setting.get("compare", ()),
                    *searches,
                ],
            )
            written.append(compare_dir)
    return written


def _load_average() -> float:
    import os

    return os.getloadavg()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train_parser = sub.add_parser("train", help="train agents of one claim")
    train_parser.add_argument("--claim", choices=sorted(CLAIMS), required=True)
    train_parser.add_argument("--algo", required=True)
    train_parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    train_parser.add_argument("--steps", type=int, default=None)
    train_parser.add_argument("--out", type=Path, default=Path("bench_out"))
    train_parser.add_argument(
        "--extend", action="store_true", help="continue finished runs for --steps more steps"
    )
    preset_parser = sub.add_parser(
        "presets", help="lepton-train a preset per seed, then lepton-compare the runs"
    )
    preset_parser.add_argument("--preset", required=True, help="configs/experiment/<name>")
    preset_parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    preset_parser.add_argument("--out", type=Path, default=Path("bench_out"))
    preset_parser.add_argument(
        "--train", nargs="*", default=[], help="extra lepton-train overrides"
    )
    preset_parser.add_argument(
        "--compare", nargs="*", default=[], help="lepton-compare overrides (scenario=...)"
    )
    protocol_parser = sub.add_parser(
        "protocol",
        help="every figure of the comparison protocol (docs/benchmarks.md): presets, "
        "equal-CPU searches, heuristics and optima on the test episodes",
    )
    protocol_parser.add_argument("--out", type=Path, default=Path("bench_protocol"))
    protocol_parser.add_argument(
        "--parts", nargs="+", choices=sorted(PROTOCOL_PARTS), default=list(PROTOCOL_PARTS)
    )
    protocol_parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    protocol_parser.add_argument(
        "--steps-scale", type=float, default=1.0, help="times each preset's training steps"
    )
    protocol_parser.add_argument("--episodes", type=int, default=200, help="test episodes")
    protocol_parser.add_argument("--reps", type=int, default=2000, help="bootstrap resamples")
    protocol_parser.add_argument(
        "--presets", nargs="+", default=[], help="instead of each part's presets (one figure)"
    )
    report_parser = sub.add_parser("report", help="aggregate the runs that exist")
    report_parser.add_argument("--out", type=Path, default=Path("bench_out"))
    report_parser.add_argument("--reps", type=int, default=2000)
    args = parser.parse_args(argv)
    if args.command == "protocol":
        estimate = expected_cpu_seconds(args.parts, len(args.seeds), args.steps_scale, args.presets)
        print(f"expected CPU: about {estimate / 60:.0f} min, plus evaluation", flush=True)
        for compare_dir in protocol(
            args.out,
            args.parts,
            args.seeds,
            args.steps_scale,
            args.episodes,
            args.reps,
            args.presets,
        ):
            print(f"{compare_dir}/summary.md")
    elif args.command == "presets":
        run_preset(args.preset, args.seeds, args.out, args.train, args.compare)
    elif args.command == "train":
        for seed in args.seeds:
            run_dir = train(args.claim, args.algo, seed, args.out, args.steps, args.extend)
            print(f"done {run_dir}", flush=True)
    else:
        report(args.out, args.reps)


def read_runs(directory: Path) -> dict[str, list[pd.DataFrame]]:
    """The learning curves of every finished run of a claim, by algorithm."""
    runs: dict[str, list[pd.DataFrame]] = {}
    for run_dir in sorted(directory.glob("*__seed*")):
        if not (run_dir / "config.json").exists():
            continue  # unfinished
        algo = run_dir.name.split("__")[0]
        if not (run_dir / "config.yaml").exists():  # runs of an earlier version of this script
            seed = int(run_dir.name.split("__seed")[1])
            write_run_config(run_dir, CLAIMS[directory.name], algo, seed)
        runs.setdefault(algo, []).append(pd.read_csv(run_dir / "curve.csv"))
    return runs


def baseline_scores(claim: Claim, action_mode: str) -> dict[str, np.ndarray]:
    """Every heuristic baseline's return on the claim's held-out seeds (one score each)."""
    from lepton_env.agents.comparison.episodes import evaluate_policy_episodes
    from lepton_env.agents.players.heuristics import BASELINES

    env_kwargs = {"scenario": claim.scenario}
    scores = {}
    for name, cls in BASELINES.items():
        agent = cls(params=lepton_env.make_params(claim.scenario), action_mode=action_mode)
        episodes = evaluate_policy_episodes(
            agent, claim.env_id, env_kwargs, eval_seeds(claim.eval_episodes)
        )
        scores[name] = episodes["return"].to_numpy()
    return scores


def _row(name: str, table: pd.DataFrame, runs: int, extra: str = "") -> str:
    row = table.loc[name]
    return (
        f"| {name} | {runs} | {row['mean']:.3f} | {row['iqm']:.3f} "
        f"[{row['iqm_low']:.3f}, {row['iqm_high']:.3f}] |{extra}"
    )


def report(out: Path, reps: int = 2000) -> str:
    """Aggregate the finished runs of every claim into a markdown report (also printed)."""
    from lepton_env.agents.comparison.scores import aggregate, intervals_overlap, normalized_score
    from lepton_env.agents.players.oracle import solve

    lines = []
    toy_runs = read_runs(out / "toy")
    if toy_runs:
        optimum = solve("toy")
        lines += [
            "### toy, Single face: normalized score (0 random, 1 oracle)",
            "",
            f"Oracle return {optimum.optimal_return:.3f} (plan {list(optimum.plan)}); random "
            f"policy's exact expected return {optimum.random_return:.3f}.",
            "",
            "| agent | runs | steps | normalized IQM [95% CI] | runs >= 0.95 | "
            "first step >= 0.95 (median of the runs that got there) |",
            "| --- | ---: | ---: | --- | ---: | ---: |",
        ]
        for algo, curves in toy_runs.items():
            finals = [curve["mean_return"].iloc[-1] for curve in curves]
            scores = normalized_score(finals, optimum.random_return, optimum.optimal_return)
            row = aggregate({algo: scores}, reps=reps).loc[algo]
            reached = []
            for curve in curves:
                normalized = normalized_score(
                    curve["mean_return"], optimum.random_return, optimum.optimal_return
                )
                hits = curve["step"][normalized >= 0.95]
                reached.append(int(hits.iloc[0]) if len(hits) else np.nan)
            steps = int(np.median([curve["step"].iloc[-1] for curve in curves]))
            lines.append(
                f"| {algo} | {len(curves)} | {steps} | {row['iqm']:.3f} "
                f"[{row['iqm_low']:.3f}, {row['iqm_high']:.3f}] | "
                f"{int(np.sum(scores >= 0.95))} | {np.nanmedian(reached):.0f} |"
            )
        lines.append("")
    for name, mode, title in (
        ("global", "multi_discrete", "global, MultiDiscrete face: learned vs best heuristic"),
        ("continuous", "continuous", "global, Continuous face: SAC vs random"),
    ):
        runs = read_runs(out / name)
        if not runs:
            continue
        claim = CLAIMS[name]
        learned = {
            algo: np.array([curve["mean_return"].iloc[-1] for curve in curves])
            for algo, curves in runs.items()
        }
        baselines = baseline_scores(claim, mode)
        table = aggregate({**learned, **baselines}, reps=reps)
        best_learned = max(learned, key=lambda algo: table.loc[algo, "iqm"])
        rivals = baselines if name == "global" else {"RandomAgent": baselines["RandomAgent"]}
        best_rival = max(rivals, key=lambda agent: table.loc[agent, "iqm"])
        separated = not intervals_overlap(table, best_learned, best_rival)
        better = table.loc[best_learned, "iqm"] > table.loc[best_rival, "iqm"]
        lines += [
            f"### {title}",
            "",
            f"Learned: final deterministic evaluation of each run on {claim.eval_episodes} "
            "held-out seeds (one score per training seed); baselines: one score per seed.",
            "",
            "| agent | scores | mean | IQM [95% CI] |",
            "| --- | ---: | ---: | --- |",
        ]
        for algo, values in learned.items():
            lines.append(_row(algo, table, len(values)))
        for agent, values in baselines.items():
            lines.append(_row(agent, table, len(values)))
        if separated:
            verdict = "beats" if better else "is beaten by"
            verdict += " (non-overlapping 95% IQM intervals)"
        else:
            verdict = "is not separated from (overlapping 95% IQM intervals)"
        lines += [
            "",
            f"Best learned agent ({best_learned}, IQM {table.loc[best_learned, 'iqm']:.3f}) "
            f"{verdict} the best {'heuristic' if name == 'global' else 'rival'} "
            f"({best_rival}, IQM {table.loc[best_rival, 'iqm']:.3f}).",
            "",
        ]
    text = "\n".join(lines)
    (out / "report.md").write_text(text)
    print(text)
    return text


if __name__ == "__main__":
    main()
