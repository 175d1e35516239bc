"""``lepton-train multiagent=...``: the run directory, TensorBoard and the trainers.

:func:`train_population` is what :func:`lepton_env.experiments.train.train` runs when
the config has a ``multiagent`` group. The run directory follows the single-firm layout
(``config.yaml``, ``run.json``, ``tb/``, ``checkpoints/step_<N>/``, ``final_model.zip``)
and is refused, resumed or restarted by the same rules
(:func:`lepton_env.experiments.train.prepare_run_dir`); checkpoints are verified by their
manifest before a resume reads them, and a resume reads no pickle unless ``trust``.

TensorBoard tags: ``firm<f>/return`` (the mean training return of the episodes each
rollout finished, per seat the learner played), ``versus/<member>/return`` (the learner's
return against each population member), ``population/weight/<member>`` and
``population/snapshots`` (self-play), ``psro/meta/firm<f>/<member>`` and ``psro/size/firm<f>``
(PSRO), ``exploitability/nash_conv``, ``exploitability/relative_nash_conv``,
``firm<f>/value`` and ``firm<f>/gain`` (exact, on the small games), and SB3's ``rollout/``,
``train/``, ``time/`` (independent learners: under ``firm<f>/``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from lepton_env.agents.population.common import exact_nash_conv, exact_problem, log_nash_conv
from lepton_env.agents.training.callbacks import SharedTensorBoardFormat, file_sha256
from lepton_env.experiments.run_files import atomic_path, write_text
from lepton_env.experiments.schema import TrainConfig


@dataclass
class PopulationRun:
    """One population run: its config, directory, checkpoint to resume and writer."""

    config: TrainConfig
    run_dir: Path
    checkpoint: Path | None
    device: str
    writer: Any

    # ---------------------------------------------------------------- learners
    def normalized(self, venv: Any, checkpoint: Path | None) -> Any:
        """``venv`` under VecNormalize where the config asks (statistics from ``checkpoint``)."""
        from stable_baselines3.common.vec_env import VecNormalize

        from lepton_env.experiments.run_safety import restore_normalization

        normalize = self.config.env.normalize
        if not normalize.enabled:
            return venv
        restored = restore_normalization(checkpoint, venv, self.config.trust)
        if restored is not None:
            return restored
        return VecNormalize(venv, norm_obs=normalize.norm_obs, norm_reward=normalize.norm_reward)

    def agent(self, config: TrainConfig, venv: Any, folder: Path | None) -> Any:
        """A fresh agent on ``venv``, or the one saved in ``folder`` (without unpickling)."""
        from lepton_env.agents.training.factory import load_agent, make_agent

        if folder is None:
            return make_agent(config, venv, self.device)
        model = load_agent(config, str(folder / "model.zip"), venv, self.device, config.trust)
        return model

    def sb3_logger(self, prefix: str) -> Any:
        """SB3's logger writing through the run's writer, keys under ``prefix``."""
        from stable_baselines3.common.logger import Logger

        from lepton_env.agents.population.rounds import PrefixedTensorBoardFormat

        formats: list[Any] = [
            PrefixedTensorBoardFormat(self.writer, prefix)
            if prefix
            else SharedTensorBoardFormat(self.writer)
        ]
        return Logger(folder=str(self.run_dir), output_formats=formats)

    # ---------------------------------------------------------------- exact NashConv
    def exact_callback(self, exact: Callable[[int], None]) -> Callable[[int], None] | None:
        """``exact`` where the run's profile can be scored exactly (else None, said once)."""
        problem = exact_problem(self.config)
        if problem is not None:
            print(f"no exact NashConv for this run: {problem}")
            return None
        return exact

    def log_exact(self, profile: Any, step: int) -> dict[str, Any]:
        result = log_nash_conv(self.writer, exact_nash_conv(self.config, profile), step)
        self.writer.flush()
        print(f"step {step}: exact NashConv {result['nash_conv']:.6g}, values {result['values']}")
        return result

    # ---------------------------------------------------------------- the end
    def save_final(self, model: Any, venv: Any, firm: int | None = None) -> None:
        """``final_model.zip`` and ``vecnormalize.pkl`` (where ``venv`` normalizes), or
        learner ``firm``'s ``final_model_firm<f>.zip`` and ``vecnormalize_firm<f>.pkl``
        (firm 0 keeps the single-firm names)."""
        from lepton_env.agents.training.callbacks import save_normalization

        suffix = "" if not firm else f"_firm{firm}"
        with atomic_path(self.run_dir / f"final_model{suffix}.zip") as partial:
            model.save(str(partial))
        save_normalization(venv, self.run_dir / f"vecnormalize{suffix}.pkl")

    def write_info(self, info: dict[str, Any]) -> None:
        path = self.run_dir / "run.json"
        try:
            previous = json.loads(path.read_text()) if path.exists() else {}
        except ValueError:
            previous = {}
        write_text(path, json.dumps({**previous, **info}, indent=2, default=float))


def train_population(config: TrainConfig, run_dir: Path) -> Any:
    """Run the ``multiagent`` group's trainer in ``run_dir`` (its lock held by the caller)."""
    from torch.utils.tensorboard import SummaryWriter

    from lepton_env.agents.population.independent import train_independent
    from lepton_env.agents.population.psro import train_psro
    from lepton_env.agents.population.selfplay import train_selfplay
    from lepton_env.agents.training.callbacks import read_monitor_state
    from lepton_env.agents.training.factory import check_agent_keywords
    from lepton_env.experiments.run_safety import prune_events
    from lepton_env.experiments.train import TrainResult, open_run, running_info

    trainers: dict[str, Callable[[PopulationRun], dict[str, Any]]] = {
        "selfplay": train_selfplay,
        "psro": train_psro,
        "independent": train_independent,
    }
    assert config.multiagent is not None
    if config.multiagent.mode != "psro" or config.multiagent.oracle.kind == "ppo":
        check_agent_keywords(config)
    checkpoint, device = open_run(config, run_dir)
    start = read_monitor_state(checkpoint).num_timesteps if checkpoint is not None else 0
    finished = _finished(run_dir, config, start)
    if checkpoint is not None and finished is not None:
        # the same command again: report the run rather than write its end twice
        print(f"Already trained: {run_dir} ({config.multiagent.mode}, {start} steps)")
        exact = finished.get("exact") or {}
        score = -float(exact["nash_conv"]) if "nash_conv" in exact else float("nan")
        return TrainResult(run_dir, start, device, score, {}, start)
    if start:
        prune_events(run_dir / "tb", start)
    writer = SummaryWriter(
        log_dir=str(run_dir / "tb"), purge_step=start + 1 if start else None, flush_secs=10
    )
    if checkpoint is None:
        write_text(run_dir / "config.yaml", yaml.safe_dump(asdict(config), sort_keys=False))
        resolved = yaml.safe_dump(asdict(config), sort_keys=False)
        writer.add_text("config", "    " + resolved.replace("\n", "\n    "), 0)
    run = PopulationRun(config, run_dir, checkpoint, device, writer)
    run.write_info({"mode": config.multiagent.mode, **running_info(config, device)})
    print(f"TensorBoard logs: {run_dir / 'tb'}  (tensorboard --logdir {run_dir.parent})")
    try:
        summary = trainers[config.multiagent.mode](run)
    finally:
        writer.flush()
        writer.close()
    final = run_dir / "final_model.zip"
    run.write_info(
        {
            "status": "finished",
            "num_timesteps": _steps(run_dir),
            "summary": summary,
            "cpu_seconds": round(float(summary.get("cpu_seconds", 0.0)), 2),
            "final_model_sha256": file_sha256(final) if final.is_file() else None,
        }
    )
    exact = summary.get("exact") or {}
    score = -float(exact["nash_conv"]) if "nash_conv" in exact else float("nan")
    print(f"Done ({config.multiagent.mode}): {json.dumps(summary, default=float)[:400]}")
    sys.stdout.flush()
    steps = int(summary.get("num_timesteps", config.total_timesteps))
    return TrainResult(run_dir, steps, device, score, {}, start or None)


def _steps(run_dir: Path) -> int:
    """The step of the run's last checkpoint (PSRO: its iteration)."""
    from lepton_env.agents.training.callbacks import checkpoint_dirs, read_monitor_state

    found = checkpoint_dirs(run_dir / "checkpoints")
    return read_monitor_state(found[-1]).num_timesteps if found else 0


def _finished(run_dir: Path, config: TrainConfig, steps: int) -> dict[str, Any] | None:
    """The summary of a run that finished at ``steps`` with this budget (None: it did not)."""
    assert config.multiagent is not None
    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        return None
    if info.get("status") != "finished" or info.get("num_timesteps") != steps:
        return None
    summary = info.get("summary")
    if not isinstance(summary, dict):
        return None
    if config.multiagent.mode == "psro":
        # PSRO's steps are iterations: more of them extend a run that did not converge
        budget = bool(summary.get("converged")) or steps >= config.multiagent.iterations
    else:
        budget = steps >= config.total_timesteps
    return summary if budget else None
