"""lepton-train: train one agent on one scenario, watch it in TensorBoard.

    lepton-train                                   # PPO on `global`, 50,000 steps, ~30 s of CPU
    lepton-train agent=sac scenario=global seed=3  # any agent, scenario, seed
    lepton-train total_timesteps=200000 hydra.run.dir=runs/mine
    lepton-train -m seed=0,1,2 agent=ppo,sac       # a sweep (launcher=local|slurm|ray)
    python -m lepton_env.experiments.train ...     # the same without the entry point
    lepton-train scenario=duel_toy env=discrete multiagent=selfplay   # several learning firms

With a ``multiagent`` option (``selfplay`` | ``psro`` | ``independent``, configs/multiagent/)
the run trains rival firms together (:mod:`lepton_env.agents.population`): same run
directory, checkpoints, resume and sweeps, per-firm TensorBoard scalars.

The config tree is ``configs/train.yaml`` (groups: scenario, env, agent,
training, logger, launcher, sweeper, experiment); :func:`train` is the
importable logic, :func:`main` the entry point (Hydra's, with "did you mean").

Run directory (``runs/<scenario>__<agent>__seed<seed>`` by default, tagged with
the experiment preset and a hash of identity overrides, see
:mod:`lepton_env.experiments.run_names`; or ``hydra.run.dir``; in a sweep
``runs/multirun/<time>/<job>__<name>``)::

    .hydra/                    config.yaml (resolved), hydra.yaml, overrides.yaml
    train.log                  the job's log
    run.json                   device used, package version, seed, timesteps done, status,
                               cpu_seconds (training and validation, CPU time) and env_steps
    config.yaml                the validated config this run started with (resume checks it)
    tb/                        TensorBoard events: rollout/ train/ time/ (SB3), kpi/, eval/,
                               final/, HPARAMS, text (config, version, device), custom scalars
    checkpoints/step_<N>/      model.zip, replay_buffer.pkl (off-policy), vecnormalize.pkl
                               (if normalizing), monitor.json (counters, eval history)
    best_model.zip             the best model on the held-out evaluation seeds
    final_model.zip            the model at the end of training
    vecnormalize.pkl           (with env.normalize.enabled) its VecNormalize statistics;
                               best_vecnormalize.pkl those of best_model.zip
    eval/evaluations.npz       timesteps, results (evals x episodes), ep_lengths (SB3 format)
    eval/expansion.png         the last evaluated policy's expansion (region x quarter)

A model loads with its class's ``load`` (``lepton_env.agents.training.factory.load_agent(config,
path, env)``). Re-running the same command continues a killed run from its
last checkpoint into the same TensorBoard run (``resume=auto``, the default).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
import numpy as np
import yaml
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

import lepton_env
from lepton_env.agents.training.loading import UntrustedFileError
from lepton_env.experiments.provenance import guarded
from lepton_env.experiments.run_files import (
    RunDirectoryLinkError,
    RunWriteError,
    atomic_path,
    write_text,
)
from lepton_env.experiments.run_names import identity_differences
from lepton_env.experiments.run_safety import RunDirectoryBusy, run_lock
from lepton_env.experiments.schema import ConfigError, TrainConfig, validate
from lepton_env.experiments.suggest import with_suggestions

# torch and SB3 (about 3 s of imports) load only once the config is known to be valid, so
# that --help, --cfg and config errors answer at once.
if TYPE_CHECKING:
    from lepton_env.agents.training.callbacks import Evaluation

log = logging.getLogger(__name__)

#: The config tree (an absolute path: the console script runs outside the repository).
CONFIGS = Path(__file__).resolve().parents[1] / "configs"

#: Keys a resumed run must share with the run it continues.
RUN_IDENTITY = ("seed", "scenario", "env", "agent", "multiagent")


@dataclass
class TrainResult:
    """What a finished run reports (also the value a sweep job returns)."""

    run_dir: Path
    num_timesteps: int
    device: str
    eval_mean_reward: float
    eval_kpis: dict[str, float]
    resumed_from: int | None


def prepare_run_dir(config: TrainConfig, run_dir: Path) -> Path | None:
    """The checkpoint to resume from (None: a fresh run); refuses a mismatched run dir.

    A run never restarts in place: a directory that holds a run (``config.yaml``) but
    no checkpoint that verifies is refused, unless ``resume=restart`` moves its
    outputs aside first.
    """
    from lepton_env.agents.training.callbacks import checkpoint_dirs
    from lepton_env.experiments.run_safety import restart_aside, resume_point

    started = run_dir / "config.yaml"
    if config.resume == "restart":
        aside = restart_aside(run_dir)
        if aside is not None:
            print(f"resume=restart: the previous outputs of {run_dir} are in {aside}")
        return None
    latest = resume_point(run_dir)
    if config.resume is False and (checkpoint_dirs(run_dir / "checkpoints") or started.exists()):
        raise ConfigError(
            f"resume = false but {run_dir} already holds a run; pass resume=true to continue "
            "it or choose another hydra.run.dir"
        )
    if config.resume is True and latest is None:
        none = (
            "no intact checkpoint" if checkpoint_dirs(run_dir / "checkpoints") else "no checkpoint"
        )
        raise ConfigError(f"resume = true but {run_dir / 'checkpoints'} has {none}")
    if latest is None and started.exists():
        raise ConfigError(
            f"{run_dir} holds a run (config.yaml) but no checkpoint that verifies, so it cannot "
            "continue, and it is left as it is. Choose a fresh directory (hydra.run.dir=... or "
            "run_name=...), or pass resume=restart to train it again from step 0 (its "
            "TensorBoard events, checkpoints and models are moved to restarted_<time>/)"
        )
    if latest is not None and started.exists():
        differences = identity_differences(
            yaml.safe_load(started.read_text()), asdict(config), RUN_IDENTITY
        )
        if differences:
            raise ConfigError(
                f"{run_dir} holds a run that differs in {'; '.join(differences)}; "
                "choose another hydra.run.dir (or run_name) for a new run"
            )
    return latest


def finished_problem(run_dir: Path, steps: int) -> str | None:
    """Why ``run_dir``'s run is not finished at ``steps`` (None: its final model verifies).

    ``run.json`` says finished at ``steps`` and records the SHA-256 of ``final_model.zip``
    (whatever the agent's format), which the file on disk must match.
    """
    from lepton_env.agents.training.callbacks import file_sha256

    try:
        info = json.loads((run_dir / "run.json").read_text())
    except (OSError, ValueError):
        return "run.json is missing or unreadable"
    if info.get("status") != "finished" or info.get("num_timesteps") != steps:
        return f"run.json says {info.get('status')!r} at {info.get('num_timesteps')} steps"
    final = run_dir / "final_model.zip"
    if not final.is_file():
        return "final_model.zip is missing"
    if file_sha256(final) != info.get("final_model_sha256"):
        return "final_model.zip differs from what was written (SHA-256)"
    return None


def _hparams(config: TrainConfig, device: str) -> dict[str, Any]:
    """The HPARAMS tab's columns: the run's identity and the agent's scalar keywords."""
    values: dict[str, Any] = {
        "scenario": config.scenario.name,
        "agent": config.agent.name,
        "seed": config.seed,
        "total_timesteps": config.total_timesteps,
        "action_mode": config.env.action_mode,
        "num_envs": config.env.num_envs,
        "vec_backend": config.env.vec_backend,
        "device": device,
    }
    for key, value in config.agent.model.items():
        if isinstance(value, bool | int | float | str):
            values[key] = value
        elif value is not None:
            values[key] = str(value)
    return values


def _writer_and_logger(config: TrainConfig, run_dir: Path, purge_step: int | None) -> Any:
    from stable_baselines3.common.logger import CSVOutputFormat, HumanOutputFormat, Logger
    from torch.utils.tensorboard import SummaryWriter

    from lepton_env.agents.training.callbacks import SharedTensorBoardFormat

    writer = SummaryWriter(log_dir=str(run_dir / "tb"), purge_step=purge_step, flush_secs=10)
    formats: list[Any] = [SharedTensorBoardFormat(writer)] if config.logger.tensorboard else []
    if config.logger.csv:
        formats.append(CSVOutputFormat(str(run_dir / "progress.csv")))
    if config.logger.stdout:
        formats.append(HumanOutputFormat(sys.stdout))
    return writer, Logger(folder=str(run_dir), output_formats=formats)


def use_numba_workqueue() -> None:
    """Run the env's parallel numba passes on numba's own thread pool, not on OpenMP.

    Numba's default layer here is OpenMP, the runtime torch uses too: the env's
    first parallel pass reset torch's thread count to every core, undoing
    ``torch_threads``, and on the loaded 2-core machine torch's spinning OpenMP
    threads then made a 256 x 10 softmax 170 times slower (0.05 ms -> 7.8 ms;
    whole-pipeline throughput about 1,300 env-steps/s). The ``workqueue`` layer
    runs the same chunks on other threads, so trajectories are unchanged
    (``python -m lepton_env.experiments.bench.env --fingerprint``). A
    ``NUMBA_THREADING_LAYER`` set by the user wins; it must run before the first
    parallel pass of the process to take effect.
    """
    if "NUMBA_THREADING_LAYER" in os.environ:
        return
    from numba import config as numba_config

    numba_config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]


def open_run(config: TrainConfig, run_dir: Path) -> tuple[Path | None, str]:
    """Make ``run_dir`` ready to train in: the run directory checked (its last good
    checkpoint, or None), numba on its own thread pool, torch's threads set, and the
    device resolved. Shared by single-firm and population runs."""
    import torch

    from lepton_env.agents.training.factory import resolve_device

    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = prepare_run_dir(config, run_dir)
    use_numba_workqueue()
    if config.torch_threads is not None:
        torch.set_num_threads(config.torch_threads)
    return checkpoint, resolve_device(config)


def running_info(config: TrainConfig, device: str) -> dict[str, Any]:
    """``run.json``'s record of a run that starts or continues: device, versions, budget."""
    import torch

    return {
        "device": device,
        "device_requested": config.device,
        "version": lepton_env.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "seed": config.seed,
        "total_timesteps": config.total_timesteps,
        "status": "running",
    }


def _write_run_info(run_dir: Path, info: dict[str, Any]) -> None:
    path = run_dir / "run.json"
    try:
        previous = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        previous = {}
    write_text(path, json.dumps({**previous, **info}, indent=2))


def train(
    cfg: DictConfig,
    run_dir: Path,
    on_evaluation: Callable[[int, Evaluation], None] | None = None,
) -> TrainResult:
    """Validate ``cfg``, build env and agent, train with evaluation and checkpoints.

    ``on_evaluation(timesteps, evaluation)`` runs after each periodic evaluation
    (lepton-tune reports to Optuna there; an exception it raises ends the run).
    The run holds ``run_dir``'s writer lock throughout (experiments/run_safety.py).
    """
    config = validate(cfg)
    lepton_env.make_params(config.scenario.name, **config.scenario.kwargs)
    with run_lock(run_dir):  # refuses a run directory holding links outside itself
        if config.multiagent is not None:
            from lepton_env.agents.population.launch import train_population

            result: TrainResult = train_population(config, run_dir)
            return result
        return _train(cfg, run_dir, on_evaluation)


def _train(
    cfg: DictConfig,
    run_dir: Path,
    on_evaluation: Callable[[int, Evaluation], None] | None = None,
) -> TrainResult:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecNormalize
    from torch.utils.tensorboard.summary import hparams

    from lepton_env.agents.training.callbacks import (
        TrainingMonitor,
        custom_scalars_layout,
        file_sha256,
        read_monitor_state,
        save_normalization,
    )
    from lepton_env.agents.training.factory import (
        ENV_ID_OF_MODE,
        check_agent_keywords,
        env_kwargs,
        load_agent,
        make_agent,
        make_vec_env,
    )
    from lepton_env.agents.training.resume_state import RolloutBoundary
    from lepton_env.agents.training.shaping import EnforcementShaping
    from lepton_env.experiments.first_run import compile_simulation, whole_rollouts
    from lepton_env.experiments.run_safety import (
        continue_exactly,
        prune_events,
        restore_normalization,
        restore_replay_buffer,
    )

    config = validate(cfg)
    check_agent_keywords(config)
    checkpoint, device = open_run(config, run_dir)
    state = read_monitor_state(checkpoint) if checkpoint is not None else None
    start = state.num_timesteps if state is not None else 0
    ended = state is not None and start >= config.total_timesteps and bool(state.eval_returns)
    if state is not None and ended and finished_problem(run_dir, start) is None:
        # A finished run re-run unchanged: report it rather than log its end twice.
        print(f"Already trained: {start} steps in {run_dir} (raise total_timesteps to extend)")
        returns = state.eval_returns[-1]
        return TrainResult(run_dir, start, device, float(np.mean(returns)), {}, start)
    if ended:
        # Killed while writing its end: the last checkpoint is the end; write the rest again.
        log.warning(
            "%s: %s; completing the end of the run", run_dir, finished_problem(run_dir, start)
        )

    compile_simulation(
        ENV_ID_OF_MODE[config.env.action_mode],
        env_kwargs(config),
        num_envs=config.env.num_envs,
        batched=config.env.vec_backend == "lepton",
    )
    train_env = make_vec_env(config, seed=config.seed)
    eval_env = make_vec_env(
        config,
        seed=config.eval.first_seed,
        num_envs=config.eval.episodes,
        # Held-out episodes run side by side, one per env; subprocesses would only add cost.
        backend="lepton" if config.env.vec_backend == "lepton" else "dummy",
        scenario_kwargs=config.eval.scenario_kwargs,
    )
    if config.env.shaping.enforcement:
        train_env = EnforcementShaping(train_env, config.env.shaping.enforcement)
        eval_env = EnforcementShaping(eval_env, 0.0)
    normalize = config.env.normalize
    if normalize.enabled:
        restored = restore_normalization(checkpoint, train_env, config.trust)
        if restored is not None:
            train_env = restored
        else:
            train_env = VecNormalize(
                train_env, norm_obs=normalize.norm_obs, norm_reward=normalize.norm_reward
            )
        eval_env = VecNormalize(
            eval_env, training=False, norm_obs=normalize.norm_obs, norm_reward=False
        )
    region_names = train_env.get_attr("params", indices=[0])[0].region_names
    # Drop what a killed run logged after its checkpoint; keep the checkpoint step itself.
    purge_step = start + 1 if start else None
    if start:
        prune_events(run_dir / "tb", start)
    writer, sb3_logger = _writer_and_logger(config, run_dir, purge_step)
    monitor = TrainingMonitor(
        train_env,
        eval_env=eval_env,
        writer=writer,
        run_dir=run_dir,
        total_timesteps=config.total_timesteps,
        eval_freq=config.eval.freq,
        eval_first_seed=config.eval.first_seed,
        eval_deterministic=config.eval.deterministic,
        checkpoint_freq=config.checkpoint.freq,
        checkpoint_keep=config.checkpoint.keep,
        kpi_interval=config.logger.kpi_interval,
        expansion_figure=config.logger.expansion_figure,
        region_names=region_names,
        progress_bar=config.progress_bar,
        state=state,
        on_evaluation=on_evaluation,
    )
    if checkpoint is None:
        agent = make_agent(config, monitor, device)
        write_text(run_dir / "config.yaml", yaml.safe_dump(asdict(config), sort_keys=False))
        writer.add_custom_scalars(custom_scalars_layout(region_names))
        resolved = yaml.safe_dump(asdict(config), sort_keys=False)
        writer.add_text("config", "    " + resolved.replace("\n", "\n    "), 0)
        writer.add_text("version", f"lepton-env {lepton_env.__version__}", 0)
    else:
        agent = load_agent(config, str(checkpoint / "model.zip"), monitor, device, config.trust)
        restore_replay_buffer(agent, checkpoint, config.trust)
        if hasattr(agent, "num_timesteps"):
            # SB3 counts a step after the env returns it; the monitor's count is the run's.
            agent.num_timesteps = start
        log.info("resuming %s from %s (%d steps)", run_dir, checkpoint.name, start)
    monitor.attach(agent)
    used_device = str(getattr(agent, "device", device))
    writer.add_text("device", f"{used_device} (device={config.device})", start)
    _write_run_info(run_dir, running_info(config, used_device))
    print(f"TensorBoard logs: {run_dir / 'tb'}  (tensorboard --logdir {run_dir.parent})")

    remaining = config.total_timesteps - start
    rounded = whole_rollouts(agent, start, config.total_timesteps) if remaining > 0 else None
    if rounded is not None:
        planned, why = rounded
        print(f"total_timesteps = {config.total_timesteps:,} rounds up to {planned:,}: {why}")
    monitor.start_progress(rounded[0] if rounded is not None else None)
    # The budget counted as the searches' is: CPU time of the work itself (training and
    # its validation episodes), not the process's start-up or numba's compilation (a
    # cold cache costs about 47 s: one step of the evaluation envs, reseeded before each
    # evaluation, compiles it first), and the env-steps simulated.
    eval_env.reset()
    eval_env.step(np.stack([eval_env.action_space.sample() for _ in range(eval_env.num_envs)]))
    cpu_start = time.process_time()
    try:
        if remaining > 0 and isinstance(agent, BaseAlgorithm):
            agent.set_logger(sb3_logger)
            continue_exactly(agent, monitor, checkpoint)
            agent.learn(
                remaining,
                reset_num_timesteps=checkpoint is None,
                tb_log_name=config.run_name,
                callback=RolloutBoundary(monitor.checkpoint_if_due),
            )
        elif remaining > 0:
            agent.learn(remaining)
        # A run completing its end logged its last evaluation before the kill.
        evaluation = monitor.evaluate_quietly() if ended else monitor.finish()
        cpu_seconds = time.process_time() - cpu_start
    except BaseException:
        writer.close()
        monitor.close()
        raise
    with atomic_path(run_dir / "final_model.zip") as partial:
        agent.save(str(partial))
    save_normalization(train_env, run_dir / "vecnormalize.pkl")
    final = {
        "final/eval_mean_reward": evaluation.mean_reward,
        **{f"final/eval_{name}": value for name, value in evaluation.kpis.items()},
    }
    steps = monitor.num_timesteps
    for tag, value in final.items():
        writer.add_scalar(tag, value, steps)
    for summary in hparams(_hparams(config, used_device), metric_dict=final):
        writer.file_writer.add_summary(summary)
    writer.flush()
    writer.close()
    monitor.close()
    earlier = json.loads((run_dir / "run.json").read_text()).get("cpu_seconds", 0.0)
    validation_steps = sum(sum(lengths) for lengths in monitor.state.eval_lengths)
    _write_run_info(
        run_dir,
        {
            "status": "finished",
            "num_timesteps": steps,
            "final_model_sha256": file_sha256(run_dir / "final_model.zip"),
            # a resumed run adds to what its earlier processes recorded (a killed one: none)
            "cpu_seconds": round(float(earlier or 0.0) + cpu_seconds, 2),
            "env_steps": int(steps + validation_steps),
        },
    )
    print(f"Done: {steps} steps, eval mean return {evaluation.mean_reward:.3f}; run in {run_dir}")
    from lepton_env.agents.comparison.baseline_table import report_trained_policy

    report_trained_policy(agent, config, train_env)
    return TrainResult(
        run_dir, steps, used_device, evaluation.mean_reward, evaluation.kpis, start or None
    )


@hydra.main(version_base="1.3", config_path=str(CONFIGS), config_name="train")
def train_job(cfg: DictConfig) -> float:
    """One ``lepton-train`` job; returns the final evaluation return (for sweeps)."""
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        result = train(cfg, run_dir)
    except (ConfigError, lepton_env.ParamsError) as error:
        print(f"lepton-train: bad config: {error}", file=sys.stderr)
        sys.exit(2)
    except (RunDirectoryBusy, UntrustedFileError, RunDirectoryLinkError) as error:
        print(f"lepton-train: {error}", file=sys.stderr)
        sys.exit(3)
    except RunWriteError as error:
        print(f"lepton-train: {error}", file=sys.stderr)
        sys.exit(4)
    except OSError as error:
        # Written by a library (TensorBoard, SB3's logger): name what it was writing.
        where = error.filename or run_dir
        print(f"lepton-train: could not write {where}: {error.strerror or error}", file=sys.stderr)
        sys.exit(4)
    return float(np.float64(result.eval_mean_reward))


#: The ``lepton-train`` entry point: Hydra's, with "did you mean" after a refused command line.
main = with_suggestions(
    guarded(train_job, CONFIGS, "train", "lepton-train"),
    "lepton-train",
    CONFIGS,
    [field.name for field in fields(TrainConfig)],
)


if __name__ == "__main__":
    main()
