"""The round loop of SB3 learners trained together (self-play, independent learners).

A round is one rollout and update of every learner in turn (``learn`` for
``n_steps x rows`` steps, not resetting its counters). Checkpoints fall between rounds,
so a resumed run repeats exactly what the uninterrupted one does: each learner's model,
its resume state (random generators, last observations, the envs' episodes:
:mod:`lepton_env.agents.training.resume_state`) and VecNormalize statistics are written,
and the trainer's own state (``trainer.json``, the population files) beside them.
Learner 0 is the checkpoint's ``model.zip``; learner ``i > 0`` a full checkpoint of its own
in ``learner<i>/``, verified the same way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stable_baselines3.common.logger import TensorBoardOutputFormat

from lepton_env.agents.population.common import (
    EpisodeReturns,
    ResumeMonitor,
    log_returns,
    read_trainer,
    write_checkpoint,
)
from lepton_env.agents.training.callbacks import (
    MonitorState,
    checkpoint_problem,
    save_normalization,
    write_manifest,
)
from lepton_env.agents.training.resume_state import restore_resume_state, save_resume_state


class PrefixedTensorBoardFormat(TensorBoardOutputFormat):
    """SB3's TensorBoard output through the run's writer, every key under ``prefix``
    (one learner's ``rollout/`` and ``train/`` as ``firm1/rollout/...``)."""

    def __init__(self, writer: Any, prefix: str) -> None:
        self.writer = writer
        self.prefix = prefix
        self._is_closed = False

    def write(
        self,
        key_values: dict[str, Any],
        key_excluded: dict[str, tuple[str, ...]],
        step: int = 0,
    ) -> None:
        super().write(
            {self.prefix + k: v for k, v in key_values.items()},
            {self.prefix + k: v for k, v in key_excluded.items()},
            step,
        )

    def close(self) -> None:
        self._is_closed = True  # the run closes the shared writer


@dataclass
class Learner:
    """One learning policy, its (possibly normalized) env and its episode collector."""

    name: str  # its TensorBoard prefix ('' for a lone shared policy)
    venv: Any
    model: Any = None
    collector: EpisodeReturns | None = None

    @property
    def monitor(self) -> ResumeMonitor:
        return ResumeMonitor(self.venv)


@dataclass
class RoundState:
    """What the loop carries between rounds (written to ``trainer.json``)."""

    rounds: int = 0
    next_checkpoint: int = 0
    next_exact: int = 0
    cpu_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def learner_folder(checkpoint: Path, index: int) -> Path:
    return checkpoint if index == 0 else checkpoint / f"learner{index}"


def checkpoint_learners_problem(checkpoint: Path, count: int) -> str | None:
    """Why a population checkpoint's learners cannot be resumed from (None: they can)."""
    for index in range(1, count):
        problem = checkpoint_problem(learner_folder(checkpoint, index))
        if problem is not None:
            return f"learner{index}: {problem}"
    return None


def save_learners(learners: list[Learner], folder: Path) -> None:
    for index, learner in enumerate(learners):
        target = learner_folder(folder, index)
        target.mkdir(exist_ok=True)
        learner.model.save(str(target / "model.zip"))
        save_normalization(learner.venv, target / "vecnormalize.pkl")
        save_resume_state(learner.model, learner.venv, learner.monitor, target)
        if index > 0:
            steps = int(learner.model.num_timesteps)
            (target / "monitor.json").write_text(
                json.dumps(asdict(MonitorState(num_timesteps=steps)))
            )
            write_manifest(target)


def restore_learners(learners: list[Learner], checkpoint: Path) -> RoundState:
    """Put every (freshly loaded) learner back where ``checkpoint`` left it; the loop state."""
    for index, learner in enumerate(learners):
        restore_resume_state(
            learner.model, learner.venv, learner.monitor, learner_folder(checkpoint, index)
        )
    record = read_trainer(checkpoint)
    return RoundState(**record)


def run_rounds(
    learners: list[Learner],
    state: RoundState,
    *,
    total_timesteps: int,
    checkpoint_freq: int,
    checkpoint_keep: int,
    exact_every: int,
    run_dir: Path,
    writer: Any,
    after_round: Callable[[RoundState, int], None],
    exact: Callable[[int], None] | None,
    write_extra: Callable[[Path], None],
) -> RoundState:
    """Rounds until learner 0 has ``total_timesteps`` steps; checkpoints every
    ``checkpoint_freq`` steps and at the end; ``exact(step)`` every ``exact_every`` rounds
    (0: at the end only)."""
    lead = learners[0].model
    while lead.num_timesteps < total_timesteps:
        started = time.process_time()  # the learners' CPU time (the exact NashConv apart)
        for learner in learners:
            assert learner.collector is not None
            learner.collector.clear()
            steps = learner.model.n_steps * learner.venv.num_envs
            learner.model.learn(
                steps, reset_num_timesteps=False, callback=learner.collector, progress_bar=False
            )
        state.rounds += 1
        step = int(lead.num_timesteps)
        after_round(state, step)
        state.cpu_seconds += time.process_time() - started
        for learner in learners:
            assert learner.collector is not None
            log_returns(writer, learner.collector, step)
        done = step >= total_timesteps
        if exact is not None and ((exact_every and state.rounds % exact_every == 0) or done):
            exact(step)
        if step >= state.next_checkpoint or done:
            while state.next_checkpoint <= step:
                state.next_checkpoint += checkpoint_freq
            writer.flush()

            def write(folder: Path) -> None:
                save_learners(learners, folder)
                write_extra(folder)

            write_checkpoint(
                run_dir,
                step,
                checkpoint_keep,
                write,
                {
                    "rounds": state.rounds,
                    "next_checkpoint": state.next_checkpoint,
                    "next_exact": state.next_exact,
                    "cpu_seconds": state.cpu_seconds,
                    "extra": state.extra,
                },
            )
    return state
