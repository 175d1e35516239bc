"""Benchmark of whole-pipeline training throughput: ``lepton-train``'s env-steps per wall second.

SB3's ``time/fps`` counts only the steps of ``learn()`` up to its last log
line; a researcher waits for the whole command. This script runs the real
``lepton-train`` entry point (config validation, env and agent construction,
training with periodic evaluation, checkpoints and KPI logging, the final
table against the baselines) once per contender, each in a fresh Python
process, all in one invocation, and reports:

* env-steps trained per second of the process's wall time, and per second of
  its CPU time (user + system, from the OS), with each contender's ratio to
  SB3's defaults measured in the same invocation (the machine's load changes
  absolute figures; ratios measured side by side are what compare);
* where the wall time went: process start and imports, rollouts (policy
  inference and SB3's buffer), env stepping, the monitor's per-step work, KPI
  logging, periodic evaluation, checkpoints, gradient updates and the final
  table (exclusive times from timers wrapped around those methods; work
  nested in evaluation, checkpoints or the final table counts there).

Contenders (``--contenders``):

* ``preset``: ``lepton-train`` with no overrides, i.e. the default preset;
* ``preset_sb3_policy``: the same with sb3-contrib's ``MlpPolicy`` in place of the
  preset's :class:`~lepton_env.agents.training.policies.MaskableMultiCategoricalPolicy` (the
  same distribution, one ``Categorical`` object per action head);
* ``sb3_defaults``: PPO with SB3's defaults on its usual vectorization (one env
  in a ``DummyVecEnv``, ``n_steps`` 2048, minibatch 64, 10 epochs, gamma 0.99, no
  entropy bonus, no normalization), same pipeline with the schedule it had before the
  presets (an evaluation and a checkpoint every 10,000 steps, KPIs every 1,000),
  ``--sb3-steps`` env-steps (throughput barely depends on the budget once past the
  start-up);
* ``before``: the default of ``lepton-train`` before the presets (PPO, 8 envs on
  the batched backend, ``n_steps`` 128, minibatch 256, 5 epochs, 50,000 steps).

Usage::

    python -m lepton_env.experiments.bench.training                       # preset vs SB3 defaults
    python -m lepton_env.experiments.bench.training --contenders preset sb3_defaults before
    python -m lepton_env.experiments.bench.training --output bench_training.json
    python -m lepton_env.experiments.bench.training --extra-overrides experiment=global_ppo_fast

Run directories go to ``--out`` (a temporary folder by default) and every run
starts fresh (``resume=false``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: Process start, as early as this module can see it (imports before it are few).
_PROCESS_START = time.perf_counter()

#: Each contender's command-line overrides of ``lepton-train``.
CONTENDERS: dict[str, tuple[str, ...]] = {
    "preset": (),
    # The preset with sb3-contrib's own MlpPolicy (one Categorical object per action head).
    "preset_sb3_policy": ("agent.model.policy=MlpPolicy",),
    "sb3_defaults": (
        "agent=ppo",
        "env.vec_backend=dummy",
        "env.num_envs=1",
        "agent.model.n_steps=2048",
        "agent.model.batch_size=64",
        "agent.model.n_epochs=10",
        "agent.model.learning_rate=0.0003",
        "agent.model.ent_coef=0.0",
        "agent.model.gamma=0.99",
        "agent.model.policy_kwargs.net_arch=[64,64]",
        "env.normalize.enabled=false",
        "training=default",
        # The schedule of main's pipeline before the presets (also SB3's EvalCallback habit).
        "eval.freq=10000",
        "checkpoint.freq=10000",
        "logger.kpi_interval=1000",
    ),
    "before": (
        "agent=ppo",
        "env.vec_backend=lepton",
        "env.num_envs=8",
        "agent.model.n_steps=128",
        "agent.model.batch_size=256",
        "agent.model.n_epochs=5",
        "agent.model.learning_rate=0.0003",
        "agent.model.ent_coef=0.01",
        "agent.model.gamma=0.99",
        "agent.model.policy_kwargs.net_arch=[64,64]",
        "env.normalize.enabled=false",
        "training=default",
        "total_timesteps=50000",
        "eval.freq=10000",
        "checkpoint.freq=10000",
        "logger.kpi_interval=1000",
    ),
}

#: Phases of the wall time, in the order the table shows them.
PHASES = (
    "start-up",
    "rollout",
    "env step",
    "monitor",
    "kpi logging",
    "evaluation",
    "checkpoints",
    "gradient updates",
    "final table",
)
#: Phases that keep the time of everything nested in them.
ABSORBING = frozenset({"evaluation", "checkpoints", "final table"})


class PhaseClock:
    """Exclusive wall time per phase: entering a phase pauses the one it is nested in."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(PHASES, 0.0)
        self._stack: list[tuple[str, float]] = []

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Count the time inside as ``name`` (or as the enclosing absorbing phase)."""
        if self._stack and self._stack[-1][0] in ABSORBING:
            yield
            return
        now = time.perf_counter()
        if self._stack:
            parent, since = self._stack[-1]
            self.seconds[parent] += now - since
        self._stack.append((name, now))
        try:
            yield
        finally:
            end = time.perf_counter()
            _, since = self._stack.pop()
            self.seconds[name] += end - since
            if self._stack:
                self._stack[-1] = (self._stack[-1][0], end)


def _wrap(owner: type, method: str, clock: PhaseClock, phase: str) -> None:
    original: Callable[..., Any] = getattr(owner, method)

    def timed(*args: Any, **kwargs: Any) -> Any:
        with clock.phase(phase):
            return original(*args, **kwargs)

    setattr(owner, method, timed)


def instrument(clock: PhaseClock) -> None:
    """Wrap the pipeline's methods in ``clock``'s phases (this process only)."""
    from sb3_contrib import MaskablePPO, RecurrentPPO
    from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
    from stable_baselines3.common.vec_env import DummyVecEnv

    import lepton_env.agents.comparison.baseline_table as baseline_table
    from lepton_env.agents.training.callbacks import TrainingMonitor
    from lepton_env.envs.sb3_vec import LeptonExpansionVecEnv

    collectors: tuple[type, ...] = (
        OnPolicyAlgorithm,
        OffPolicyAlgorithm,
        MaskablePPO,
        RecurrentPPO,
    )
    for owner in collectors:
        if "collect_rollouts" in vars(owner):
            _wrap(owner, "collect_rollouts", clock, "rollout")
    learners: tuple[type, ...] = (PPO, A2C, SAC, TD3, DQN, MaskablePPO, RecurrentPPO)
    for owner in learners:
        if "train" in vars(owner):
            _wrap(owner, "train", clock, "gradient updates")
    _wrap(LeptonExpansionVecEnv, "step_wait", clock, "env step")
    _wrap(DummyVecEnv, "step_wait", clock, "env step")
    _wrap(TrainingMonitor, "step_wait", clock, "monitor")
    _wrap(TrainingMonitor, "log_kpis", clock, "kpi logging")
    _wrap(TrainingMonitor, "run_evaluation", clock, "evaluation")
    _wrap(TrainingMonitor, "save_checkpoint", clock, "checkpoints")
    _wrap(TrainingMonitor, "finish", clock, "evaluation")
    _wrap(baseline_table, "report_trained_policy", clock, "final table")  # type: ignore[arg-type]


def run_child(run_dir: Path, overrides: Sequence[str], report: Path) -> None:
    """One ``lepton-train`` run in this process, timed by phase; the phases go to ``report``."""
    clock = PhaseClock()
    with clock.phase("start-up"):
        from lepton_env.experiments import train as train_module

        instrument(clock)
        sys.argv = [
            "lepton-train",
            f"hydra.run.dir={run_dir}",
            "resume=false",
            "progress_bar=false",
            *overrides,
        ]
        try:
            train_module.main()
        except SystemExit as stop:
            if stop.code not in (0, None):
                raise
    info = json.loads((run_dir / "run.json").read_text())
    total = time.perf_counter() - _PROCESS_START
    phases = dict(clock.seconds)
    # What ran before this module's first line (interpreter start) counts as start-up too.
    phases["start-up"] += total - sum(phases.values())
    report.write_text(json.dumps({"num_timesteps": info["num_timesteps"], "phases": phases}))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_contender(name: str, overrides: Sequence[str], out: Path) -> dict[str, Any]:
    """``lepton-train`` with ``overrides`` in a fresh process: steps, wall, CPU, phases."""
    run_dir = out / name
    report = out / f"{name}.json"
    command = [
        sys.executable,
        "-m",
        "lepton_env.experiments.bench.training",
        "--child",
        str(run_dir),
        str(report),
        "--",
        *overrides,
    ]
    cpu_before = _children_cpu()
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu_before
    child = json.loads(report.read_text())
    steps = int(child["num_timesteps"])
    return {
        "contender": name,
        "overrides": list(overrides),
        "env_steps": steps,
        "wall_s": wall,
        "cpu_s": cpu,
        "steps_per_wall_s": steps / wall,
        "steps_per_cpu_s": steps / cpu,
        "phases_s": child["phases"],
    }


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def print_tables(results: Sequence[dict[str, Any]], reference: str) -> None:
    """The throughput table (with ratios to ``reference``) and the phase breakdown."""
    base = next((r for r in results if r["contender"] == reference), None)
    print(
        f"\n{'contender':<14}{'env-steps':>11}{'wall s':>9}{'CPU s':>9}"
        f"{'steps/wall s':>14}{'steps/CPU s':>13}{'x ' + reference:>18}"
    )
    for result in results:
        ratio = result["steps_per_wall_s"] / base["steps_per_wall_s"] if base else float("nan")
        print(
            f"{result['contender']:<14}{result['env_steps']:>11,}{result['wall_s']:>9.1f}"
            f"{result['cpu_s']:>9.1f}{result['steps_per_wall_s']:>14,.0f}"
            f"{result['steps_per_cpu_s']:>13,.0f}{ratio:>18.1f}"
        )
    print("\nShare of wall time by phase (exclusive; seconds in brackets)")
    print(f"{'phase':<18}" + "".join(f"{r['contender']:>22}" for r in results))
    for phase in PHASES:
        cells = []
        for result in results:
            seconds = result["phases_s"][phase]
            total = sum(result["phases_s"].values())
            cells.append(f"{100 * seconds / total:>13.1f}% ({seconds:>5.1f})")
        print(f"{phase:<18}" + "".join(cells))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--contenders", nargs="+", default=["preset", "sb3_defaults"], choices=sorted(CONTENDERS)
    )
    parser.add_argument("--sb3-steps", type=int, default=20480, help="budget of sb3_defaults")
    parser.add_argument("--extra-overrides", nargs="*", default=[], help="added to `preset`")
    parser.add_argument("--out", type=Path, default=None, help="run directories (default: tmp)")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON")
    parser.add_argument("--child", nargs=2, metavar=("RUN_DIR", "REPORT"), help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_child(Path(args.child[0]), args.overrides, Path(args.child[1]))
        return
    out = args.out or Path(tempfile.mkdtemp(prefix="bench_training_"))
    out.mkdir(parents=True, exist_ok=True)
    print(f"load at start: {_load()}; runs in {out}")
    results = []
    for name in args.contenders:
        overrides = list(CONTENDERS[name])
        if name == "sb3_defaults":
            overrides.append(f"total_timesteps={args.sb3_steps}")
        if name == "preset":
            overrides += args.extra_overrides
        print(f"running {name}: lepton-train {' '.join(overrides)}", flush=True)
        results.append(run_contender(name, overrides, out))
    print(f"load at end: {_load()}")
    print_tables(results, "sb3_defaults")
    if args.output is not None:
        args.output.write_text(json.dumps({"load_end": _load(), "results": results}, indent=2))


if __name__ == "__main__":
    main()
