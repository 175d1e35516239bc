"""What the population trainers share: envs, checkpoints, per-firm logs, the exact NashConv.

Checkpoints keep the single-firm layout (``checkpoints/step_<N>/`` with ``model.zip``,
``monitor.json``, the resume state and ``manifest.json``, written to a partial folder and
renamed), so :func:`lepton_env.agents.training.callbacks.latest_valid_checkpoint` verifies
them the same way; ``population.json`` and the trainer's files sit beside them.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.callbacks import BaseCallback

from lepton_env.agents.training.callbacks import (
    CHECKPOINT_PREFIX,
    MonitorState,
    checkpoint_dirs,
    write_manifest,
)
from lepton_env.experiments.run_files import RunWriteError

if TYPE_CHECKING:
    from lepton_env.experiments.schema import TrainConfig
    from lepton_env.games.best_response import NashConv
    from lepton_env.games.strategies import Strategy

#: The trainer's own record in each checkpoint (rounds done, histories).
TRAINER_FILE = "trainer.json"


@dataclass
class _Sums:
    _sums: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResumeMonitor:
    """What :mod:`lepton_env.agents.training.resume_state` reads from a training monitor."""

    venv: Any
    kpis: _Sums = field(default_factory=_Sums)
    finished_episodes: list[Any] = field(default_factory=list)


def seat_env(
    config: TrainConfig,
    num_envs: int,
    learner: str,
    scripted: dict[str, Any],
) -> Any:
    """A :class:`~lepton_env.multi.vec_env.LeptonMultiVecEnv` of the run's scenario and face
    in which ``learner`` learns and ``scripted`` plays every other firm."""
    import hydra.utils

    from lepton_env.multi.vec_env import LeptonMultiVecEnv

    return LeptonMultiVecEnv(
        num_envs,
        config.scenario.name,
        learners=[learner],
        scripted=scripted,
        action_mode=config.env.action_mode,
        invalid_action=config.env.invalid_action,  # type: ignore[arg-type]
        reward_function=hydra.utils.instantiate(config.env.reward),
        **config.scenario.kwargs,
    )


class Delegate:
    """A population member played by another object's ``predict`` (deterministic by
    default), set after the member exists: :attr:`target` (e.g. another learner, on resume
    the reloaded one); ``masked`` says whether the target takes ``action_masks=``."""

    def __init__(self, target: Any = None, masked: bool = True) -> None:
        self.target = target
        self.masked = masked

    def predict(
        self,
        observation: NDArray[Any],
        state: Any = None,
        episode_start: NDArray[np.bool_] | None = None,
        deterministic: bool = True,
        action_masks: NDArray[np.bool_] | None = None,
    ) -> tuple[NDArray[Any], Any]:
        if not self.masked:
            return self.target.predict(observation, state, episode_start, deterministic)
        return self.target.predict(
            observation, state, episode_start, deterministic, action_masks=action_masks
        )


#: A seat played by another learner's current policy (independent learners).
LiveAgent = Delegate


class EpisodeReturns(BaseCallback):
    """Collects the finished episodes' returns of a rollout, by row group and by opponent.

    ``groups[row]`` names the row's group (``firm0`` ...); :attr:`returns` maps a group to
    its returns, :attr:`versus` an opponent member id to the learner's returns against it.
    """

    def __init__(self, groups: Sequence[str]) -> None:
        super().__init__()
        self.groups = list(groups)
        self.returns: dict[str, list[float]] = defaultdict(list)
        self.versus: dict[str, list[float]] = defaultdict(list)

    def clear(self) -> None:
        self.returns.clear()
        self.versus.clear()

    def _on_step(self) -> bool:
        for row in np.flatnonzero(self.locals["dones"]).tolist():
            info = self.locals["infos"][row]
            episode = info.get("episode")
            if episode is None:
                continue
            self.returns[self.groups[row]].append(float(episode["r"]))
            for member in (info.get("opponent") or {}).values():
                self.versus[member].append(float(episode["r"]))
        return True


def log_returns(writer: Any, collector: EpisodeReturns, step: int) -> dict[str, float]:
    """``<group>/return`` and ``versus/<member>/return`` (means of the rollout's episodes)."""
    means = {}
    for group, returns in sorted(collector.returns.items()):
        means[f"{group}/return"] = float(np.mean(returns))
        means[f"{group}/episodes"] = float(len(returns))
    for member, returns in sorted(collector.versus.items()):
        means[f"versus/{member}/return"] = float(np.mean(returns))
    for tag, value in means.items():
        writer.add_scalar(tag, value, step)
    return means


def write_checkpoint(
    run_dir: Path,
    steps: int,
    keep: int,
    write: Callable[[Path], None],
    trainer: dict[str, Any],
) -> Path:
    """``checkpoints/step_<steps>/``: ``write(folder)`` (``model.zip`` and the rest), then
    ``monitor.json``, ``trainer.json`` and the manifest, atomically; the oldest beyond ``keep``
    are deleted."""
    directory = run_dir / "checkpoints"
    final = directory / f"{CHECKPOINT_PREFIX}{steps}"
    partial = directory / f".partial_{CHECKPOINT_PREFIX}{steps}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        partial.mkdir(parents=True)
        write(partial)
        (partial / "monitor.json").write_text(json.dumps(asdict(MonitorState(num_timesteps=steps))))
        (partial / TRAINER_FILE).write_text(json.dumps(trainer))
        write_manifest(partial)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(partial, final)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise RunWriteError(final, error) from None
    for old in checkpoint_dirs(directory)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def read_trainer(checkpoint: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((checkpoint / TRAINER_FILE).read_text())
    return record


def small_game(config: TrainConfig) -> Any:
    """The run's :class:`~lepton_env.games.tree.SmallGame`, or None (not a small game)."""
    from lepton_env.experiments.schema import SMALL_GAMES
    from lepton_env.games.tree import SmallGame

    if config.scenario.name not in SMALL_GAMES:
        return None
    return SmallGame.make(config.scenario.name, **config.scenario.kwargs)


def exact_problem(config: TrainConfig) -> str | None:
    """Why a learned profile's exact NashConv cannot be computed (None: it can)."""
    from lepton_env.experiments.schema import SMALL_GAMES

    assert config.multiagent is not None
    if not config.multiagent.exact:
        return "multiagent.exact = false"
    if config.scenario.name not in SMALL_GAMES:
        return f"{config.scenario.name} is no small game ({list(SMALL_GAMES)})"
    if config.env.action_mode != "discrete":
        return "the exact search plays the Single face: train with env=discrete"
    if config.env.normalize.enabled and config.env.normalize.norm_obs:
        return "env.normalize.norm_obs: the policy reads normalized observations"
    return None


def exact_seeds(config: TrainConfig, game: Any) -> list[int]:
    """The episodes of the exact figures: ``0..exact_seeds-1``, or ``[0]`` alone when every
    one of them starts the same game (the seed then draws only the coins, which the search
    enumerates: each seed's expectation is the same, so one stands for all, as in
    :mod:`lepton_env.games.report`)."""
    from lepton_env.games.report import same_roots

    assert config.multiagent is not None
    seeds = list(range(config.multiagent.exact_seeds))
    return [0] if same_roots(game, seeds) else seeds


def exact_nash_conv(config: TrainConfig, profile: Sequence[Strategy]) -> NashConv:
    """The exact NashConv (coins enumerated) of ``profile`` over the run's exact seeds."""
    from lepton_env.games.best_response import nash_conv

    game = small_game(config)
    return nash_conv(game, profile, exact_seeds(config, game))


def log_nash_conv(writer: Any, result: NashConv, step: int) -> dict[str, Any]:
    """``exploitability/nash_conv``, ``firm<f>/value`` and ``firm<f>/gain`` (exact)."""
    writer.add_scalar("exploitability/nash_conv", result.nash_conv, step)
    scale = float(np.abs(result.values).sum())
    if scale > 0:
        writer.add_scalar("exploitability/relative_nash_conv", result.nash_conv / scale, step)
    for firm, (value, gain) in enumerate(zip(result.values, result.gains, strict=True)):
        writer.add_scalar(f"firm{firm}/value", float(value), step)
        writer.add_scalar(f"firm{firm}/gain", float(gain), step)
    return {
        "nash_conv": result.nash_conv,
        "values": result.values.tolist(),
        "gains": result.gains.tolist(),
    }
