"""Training-time machinery that works for any agent: KPI logging, evaluation, checkpoints.

:class:`TrainingMonitor` is a VecEnv wrapper: every env step the agent takes
passes through it, whatever the agent is (an SB3 algorithm or a user's class
that only has learn / predict / save / load). From the ``info`` dicts it
averages episode KPIs into TensorBoard's ``kpi/`` namespace; on a schedule of
env steps it evaluates the agent on held-out seeds (``eval/``, best model
kept), and writes checkpoints (model, replay buffer, VecNormalize statistics
and its own counters) from which a killed run resumes.

Tags written here (episode sums unless noted)::

    kpi/revenue  kpi/profit  kpi/cash (final)  kpi/fines  kpi/partner_failures
    kpi/invalid_moves  kpi/unfunded_moves
    kpi/regions_present (final)  kpi/market_share/<region> (final)
    kpi/entries/<mode>  kpi/reward/<component>
    eval/mean_reward  eval/std_reward  eval/mean_ep_length  eval/<the kpi/ names>
    eval/expansion (figure: entry mode by region and quarter, first evaluation seed)
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from numpy.typing import NDArray
from stable_baselines3.common.logger import TensorBoardOutputFormat
from stable_baselines3.common.vec_env import (
    VecEnv,
    VecEnvWrapper,
    VecNormalize,
    sync_envs_normalization,
)
from torch.utils.tensorboard import SummaryWriter

from lepton_env.agents.training.loading import save_replay_buffer, save_vec_normalize
from lepton_env.agents.training.resume_state import save_resume_state
from lepton_env.types import EntryMode

#: Names of the entry modes, in ``entries_by_mode`` order (index 0, "none", never counts).
MODE_NAMES = tuple(mode.name.lower() for mode in EntryMode)
#: KPIs summed over an episode.
SUMMED_KPIS = ("revenue", "profit", "fines", "partner_failures", "invalid_moves", "unfunded_moves")
#: KPIs read at the episode's last quarter.
FINAL_KPIS = ("cash", "regions_present")


# --------------------------------------------------------------------------- KPIs
class EpisodeKpis:
    """Per-env running KPI sums over the current episode; a summary when it ends.

    Works on a step's KPIs as arrays over the envs (:func:`kpi_batch`);
    ``region_names`` label the per-region market share.
    """

    def __init__(self, num_envs: int, region_names: Sequence[str]) -> None:
        self.num_envs = num_envs
        self.region_names = tuple(region_names)
        self._sums: dict[str, NDArray[np.float64]] = {}

    def update(self, batch: dict[str, Any], dones: NDArray[np.bool_]) -> list[dict[str, float]]:
        """Add one step; return the summaries of the episodes that ended on it."""
        if not batch:
            return []
        parts: dict[str, Any] = {name: batch[name] for name in SUMMED_KPIS}
        entries = np.asarray(batch["entries_by_mode"])
        for column, mode in enumerate(MODE_NAMES[1:], start=1):
            parts[f"entries/{mode}"] = entries[:, column]
        for part, values in batch["reward_components"].items():
            parts[f"reward/{part}"] = values
        for name, values in parts.items():
            total = self._sums.setdefault(name, np.zeros(self.num_envs))
            total += np.asarray(values, dtype=np.float64)
        finished = []
        shares = np.asarray(batch["market_share"], dtype=np.float64)
        for index in np.flatnonzero(dones):
            summary = {name: float(total[index]) for name, total in self._sums.items()}
            for name in FINAL_KPIS:
                summary[name] = float(np.asarray(batch[name])[index])
            for region, share in zip(self.region_names, shares[index], strict=True):
                summary[f"market_share/{region}"] = float(share)
            finished.append(summary)
        for total in self._sums.values():
            total[dones] = 0.0
        return finished


#: The KPI keys :class:`EpisodeKpis` reads from a step.
BATCH_KEYS = (*SUMMED_KPIS, *FINAL_KPIS, "entries_by_mode", "market_share", "entry_mode")


def batched_core(venv: VecEnv) -> Any:
    """The batched lepton VecEnv under ``venv``'s wrappers (it has ``kpis``), or None."""
    while isinstance(venv, VecEnvWrapper):
        venv = venv.venv
    return venv if hasattr(venv, "kpis") else None


def kpi_batch(core: Any, infos: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A step's KPIs as arrays over the envs: the batched core's own, or stacked ``infos``.

    The batched lepton VecEnv keeps every env's KPIs in ``kpis`` (its ``infos``
    are filled only for envs that finished); per-env envs put them in ``info``.
    """
    if core is not None:
        return dict(core.kpis)
    if not infos or "revenue" not in infos[0]:
        return {}
    batch: dict[str, Any] = {
        key: np.stack([np.asarray(info[key]) for info in infos]) for key in BATCH_KEYS
    }
    batch["reward_components"] = {
        part: np.array([info["reward_components"][part] for info in infos])
        for part in infos[0]["reward_components"]
    }
    return batch


def mean_kpis(summaries: Sequence[dict[str, float]]) -> dict[str, float]:
    """Mean of each KPI over episode summaries."""
    names = sorted({name for summary in summaries for name in summary})
    return {name: float(np.mean([s[name] for s in summaries if name in s])) for name in names}


def custom_scalars_layout(region_names: Sequence[str]) -> dict[str, Any]:
    """TensorBoard's CUSTOM SCALARS layout: the KPIs grouped into charts."""
    return {
        "Business": {
            "revenue and profit": ["Multiline", ["kpi/revenue", "kpi/profit"]],
            "cash": ["Multiline", ["kpi/cash"]],
            "regions present": ["Multiline", ["kpi/regions_present"]],
        },
        "Market share": {
            "final share by region": [
                "Multiline",
                [f"kpi/market_share/{region}" for region in region_names],
            ],
        },
        "Entries and risk": {
            "entries by mode": ["Multiline", [f"kpi/entries/{m}" for m in MODE_NAMES[1:]]],
            "fines, partner failures, invalid and unfunded moves": [
                "Multiline",
                ["kpi/fines", "kpi/partner_failures", "kpi/invalid_moves", "kpi/unfunded_moves"],
            ],
            "reward components": ["Multiline", [r"kpi/reward/.*"]],
        },
        "Evaluation": {
            "return (held-out seeds)": ["Multiline", ["eval/mean_reward", "eval/std_reward"]],
            "revenue and profit": ["Multiline", ["eval/revenue", "eval/profit"]],
        },
    }


# --------------------------------------------------------------------------- evaluation
@dataclass
class Evaluation:
    """The result of evaluating a policy on ``len(returns)`` held-out episodes."""

    returns: NDArray[np.float64]  # (episodes,)
    lengths: NDArray[np.int64]  # (episodes,)
    kpis: dict[str, float]  # mean over episodes
    entry_modes: NDArray[np.int8]  # (quarters, R): first episode's entry mode by quarter

    @property
    def mean_reward(self) -> float:
        return float(np.mean(self.returns))


def _takes_action_masks(agent: Any) -> bool:
    import inspect

    return "action_masks" in inspect.signature(agent.predict).parameters


def evaluate(
    agent: Any,
    env: VecEnv,
    first_seed: int,
    deterministic: bool = True,
    region_names: Sequence[str] = (),
) -> Evaluation:
    """Run one episode per sub-env of ``env``, seeded ``first_seed, first_seed + 1, ...``.

    Works with any agent's ``predict`` (recurrent state and episode starts are
    passed through; a maskable agent gets ``action_masks``).
    """
    num_envs = env.num_envs
    env.seed(first_seed)
    observation = env.reset()
    masked = _takes_action_masks(agent)
    core = batched_core(env)
    recurrent_state = None
    episode_start = np.ones(num_envs, dtype=bool)
    finished = np.zeros(num_envs, dtype=bool)
    returns = np.zeros(num_envs)
    lengths = np.zeros(num_envs, dtype=np.int64)
    kpis = EpisodeKpis(num_envs, region_names)
    summaries: list[dict[str, float]] = []
    entry_modes: list[NDArray[np.int8]] = []
    while not finished.all():
        extra = {"action_masks": np.stack(env.env_method("action_masks"))} if masked else {}
        actions, recurrent_state = agent.predict(
            observation,
            state=recurrent_state,
            episode_start=episode_start,
            deterministic=deterministic,
            **extra,
        )
        observation, rewards, dones, infos = env.step(actions)
        running = ~finished
        returns[running] += rewards[running]
        lengths[running] += 1
        batch = kpi_batch(core, infos)
        if running[0]:
            entry_modes.append(np.asarray(batch["entry_mode"][0], dtype=np.int8))
        ended = kpis.update(batch, dones & running)
        summaries.extend(ended)
        finished |= dones
        episode_start = dones
    return Evaluation(returns, lengths, mean_kpis(summaries), np.stack(entry_modes))


#: One colour per entry mode: none, pilot, partnership, acquisition, greenfield.
MODE_COLOURS = ("#f0f0f0", "#9ecae1", "#fdae6b", "#e6550d", "#31a354")


def expansion_figure(
    entry_modes: NDArray[np.int8], region_names: Sequence[str], title: str
) -> Figure:
    """Which region, when, by which mode: entry mode by region (rows) and quarter (columns)."""
    quarters, regions = entry_modes.shape
    # A pyplot-free Figure: no global backend switch, so notebooks keep their inline figures.
    figure = Figure(figsize=(max(4.0, 0.25 * quarters + 2), 0.35 * regions + 1.2))
    axes = figure.subplots()
    axes.imshow(
        entry_modes.T,
        aspect="auto",
        interpolation="nearest",
        cmap=ListedColormap(MODE_COLOURS),
        vmin=-0.5,
        vmax=len(MODE_COLOURS) - 0.5,
    )
    axes.set_yticks(range(regions), list(region_names) or [str(r) for r in range(regions)])
    axes.set_xlabel("quarter")
    axes.set_title(title, fontsize=9)
    handles = [Rectangle((0, 0), 1, 1, color=colour) for colour in MODE_COLOURS[1:]]
    axes.legend(handles, MODE_NAMES[1:], loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------- TensorBoard
class SharedTensorBoardFormat(TensorBoardOutputFormat):
    """SB3's TensorBoard output writing through a writer we own (one event stream per run).

    Sharing the writer lets a resumed run open it with ``purge_step`` so that
    steps logged after the last checkpoint of a killed run are hidden, and the
    curve continues without a fold.
    """

    def __init__(self, writer: SummaryWriter) -> None:
        self.writer = writer
        self._is_closed = False

    def close(self) -> None:
        # The run closes the shared writer itself, once, after its final summaries.
        self._is_closed = True


# --------------------------------------------------------------------------- checkpoints
@dataclass
class MonitorState:
    """The monitor's counters and evaluation history: saved with every checkpoint."""

    num_timesteps: int = 0
    next_eval: int = 0
    next_checkpoint: int = 0
    next_kpi: int = 0
    best_mean_reward: float = -np.inf
    eval_timesteps: list[int] = field(default_factory=list)
    eval_returns: list[list[float]] = field(default_factory=list)
    eval_lengths: list[list[int]] = field(default_factory=list)


CHECKPOINT_PREFIX = "step_"


def checkpoint_dirs(directory: Path) -> list[Path]:
    """Complete checkpoints in ``directory``, oldest first."""
    if not directory.is_dir():
        return []
    found = [
        path
        for path in directory.iterdir()
        if path.is_dir() and path.name.startswith(CHECKPOINT_PREFIX) and path.name[5:].isdigit()
    ]
    return sorted(found, key=lambda path: int(path.name[len(CHECKPOINT_PREFIX) :]))


def read_monitor_state(checkpoint: Path) -> MonitorState:
    data = json.loads((checkpoint / "monitor.json").read_text())
    data["best_mean_reward"] = float(data["best_mean_reward"])
    return MonitorState(**data)


#: What every checkpoint holds, whatever the agent.
REQUIRED_FILES = ("model.zip", "monitor.json")
MANIFEST = "manifest.json"


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(checkpoint: Path) -> None:
    """manifest.json: every file of the checkpoint with its size and SHA-256 (written last)."""
    files = {
        path.name: {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        for path in sorted(checkpoint.iterdir())
        if path.is_file() and path.name != MANIFEST
    }
    (checkpoint / MANIFEST).write_text(json.dumps({"files": files}, indent=1))


def checkpoint_problem(checkpoint: Path) -> str | None:
    """Why ``checkpoint`` cannot be resumed from (None: it is complete and intact).

    Checks the files its manifest lists (present, same size, same SHA-256), that
    ``monitor.json`` parses and ``model.zip`` is a zip with a ``data`` entry;
    a checkpoint written before manifests existed gets the last two checks.
    """
    for name in REQUIRED_FILES:
        path = checkpoint / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size == 0:
            return f"{name} is empty"
    manifest = checkpoint / MANIFEST
    if manifest.is_file():
        try:
            listed = json.loads(manifest.read_text())["files"]
        except (ValueError, KeyError, TypeError):
            return f"{MANIFEST} is unreadable"
        for name, expected in listed.items():
            path = checkpoint / name
            if not path.is_file():
                return f"{name} is missing"
            size = path.stat().st_size
            if size != expected["bytes"]:
                return f"{name} has {size} bytes, {expected['bytes']} when written"
            if _sha256(path) != expected["sha256"]:
                return f"{name} differs from what was written (SHA-256)"
    try:
        read_monitor_state(checkpoint)
    except (ValueError, KeyError, TypeError) as error:
        return f"monitor.json is unreadable ({type(error).__name__}: {error})"
    import zipfile

    try:
        with zipfile.ZipFile(checkpoint / "model.zip") as archive:
            if "data" not in archive.namelist():
                return "model.zip has no data entry"
            if archive.testzip() is not None:
                return "model.zip has a corrupt entry"
    except zipfile.BadZipFile as error:
        return f"model.zip is not a readable zip ({error})"
    return None


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped as corrupt or incomplete; an older one is used."""


def latest_valid_checkpoint(directory: Path) -> Path | None:
    """The newest intact checkpoint in ``directory``; warns for each newer one skipped."""
    import warnings

    for checkpoint in reversed(checkpoint_dirs(directory)):
        problem = checkpoint_problem(checkpoint)
        if problem is None:
            return checkpoint
        warnings.warn(
            f"checkpoint {checkpoint} is unusable ({problem}); falling back to an older one",
            CheckpointWarning,
            stacklevel=2,
        )
    return None


# --------------------------------------------------------------------------- the monitor
class TrainingMonitor(VecEnvWrapper):
    """Wraps the training VecEnv; logs KPIs, evaluates and checkpoints on a step schedule.

    Call :meth:`attach` with the agent once it exists, and :meth:`finish` after
    ``learn`` returns. Schedules count env steps summed over sub-envs.
    """

    def __init__(
        self,
        venv: VecEnv,
        *,
        eval_env: VecEnv,
        writer: SummaryWriter,
        run_dir: Path,
        total_timesteps: int,
        eval_freq: int,
        eval_first_seed: int,
        eval_deterministic: bool,
        checkpoint_freq: int,
        checkpoint_keep: int,
        kpi_interval: int,
        expansion_figure: bool,
        region_names: Sequence[str],
        progress_bar: bool,
        state: MonitorState | None = None,
        on_evaluation: Callable[[int, Evaluation], None] | None = None,
    ) -> None:
        super().__init__(venv)
        # Called after each evaluation with (timesteps, result); may raise to stop training
        # (lepton-tune's pruning raises optuna.TrialPruned here).
        self.on_evaluation = on_evaluation
        self.eval_env = eval_env
        self.writer = writer
        self.run_dir = run_dir
        self.total_timesteps = total_timesteps
        self.eval_freq = eval_freq
        self.eval_first_seed = eval_first_seed
        self.eval_deterministic = eval_deterministic
        self.checkpoint_freq = checkpoint_freq
        self.checkpoint_keep = checkpoint_keep
        self.kpi_interval = kpi_interval
        self.expansion_figure = expansion_figure
        self.region_names = tuple(region_names)
        self.state = state or MonitorState(
            next_eval=eval_freq, next_checkpoint=checkpoint_freq, next_kpi=kpi_interval
        )
        self.kpis = EpisodeKpis(venv.num_envs, self.region_names)
        self._core = batched_core(venv)
        self.finished_episodes: list[dict[str, float]] = []
        self.agent: Any = None
        self.last_evaluation: Evaluation | None = None
        self._progress: Any = None
        if progress_bar:
            from tqdm.auto import tqdm

            self._progress = tqdm(
                total=total_timesteps,
                initial=self.state.num_timesteps,
                unit="step",
                mininterval=1.0,
            )

    @property
    def num_timesteps(self) -> int:
        return self.state.num_timesteps

    def attach(self, agent: Any) -> None:
        """The agent to evaluate and checkpoint."""
        self.agent = agent

    # VecEnv interface
    def reset(self) -> Any:
        return self.venv.reset()

    def step_wait(self) -> Any:
        observation, rewards, dones, infos = self.venv.step_wait()
        self.state.num_timesteps += self.num_envs
        if self._progress is not None:
            self._progress.update(self.num_envs)
        batch = kpi_batch(self._core, infos)
        self.finished_episodes.extend(self.kpis.update(batch, dones))
        steps = self.state.num_timesteps
        if steps >= self.state.next_kpi:
            self.log_kpis()
        if steps >= self.state.next_eval and self.agent is not None:
            self.run_evaluation()
        if steps >= self.state.next_checkpoint and self.agent is not None and not self.at_rollouts:
            self.save_checkpoint()
        return observation, rewards, dones, infos

    @property
    def at_rollouts(self) -> bool:
        """Whether checkpoints wait for a rollout boundary (SB3 agents; see :meth:`attach`)."""
        from stable_baselines3.common.base_class import BaseAlgorithm

        return isinstance(self.agent, BaseAlgorithm)

    def checkpoint_if_due(self) -> None:
        """A checkpoint, if one is due: called at rollout boundaries (``RolloutBoundary``)."""
        if self.agent is not None and self.state.num_timesteps >= self.state.next_checkpoint:
            self.save_checkpoint()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.close()
        self.eval_env.close()
        super().close()

    # scheduled work
    def _advance(self, next_at: int, every: int) -> int:
        steps = self.state.num_timesteps
        return next_at + every * max(1, (steps - next_at) // every + 1)

    def log_kpis(self) -> None:
        """kpi/ scalars: means over the episodes finished since the last point."""
        self.state.next_kpi = self._advance(self.state.next_kpi, self.kpi_interval)
        if not self.finished_episodes:
            return
        for name, value in mean_kpis(self.finished_episodes).items():
            self.writer.add_scalar(f"kpi/{name}", value, self.state.num_timesteps)
        self.finished_episodes = []

    def run_evaluation(self) -> Evaluation:
        """eval/ scalars on the held-out seeds; keep the best model."""
        self.state.next_eval = self._advance(self.state.next_eval, self.eval_freq)
        steps = self.state.num_timesteps
        training_norm = _find_vec_normalize(self.venv)
        if training_norm is not None and isinstance(self.eval_env, VecNormalize):
            sync_envs_normalization(training_norm, self.eval_env)
        result = evaluate(
            self.agent,
            self.eval_env,
            self.eval_first_seed,
            self.eval_deterministic,
            self.region_names,
        )
        self.last_evaluation = result
        self.writer.add_scalar("eval/mean_reward", result.mean_reward, steps)
        self.writer.add_scalar("eval/std_reward", float(np.std(result.returns)), steps)
        self.writer.add_scalar("eval/mean_ep_length", float(np.mean(result.lengths)), steps)
        for name, value in result.kpis.items():
            self.writer.add_scalar(f"eval/{name}", value, steps)
        if self.expansion_figure:
            figure = expansion_figure(
                result.entry_modes,
                self.region_names,
                f"seed {self.eval_first_seed} at step {steps}: return {result.returns[0]:.2f}",
            )
            eval_dir = self.run_dir / "eval"
            eval_dir.mkdir(exist_ok=True)
            figure.savefig(eval_dir / "expansion.png", dpi=80)
            self.writer.add_figure("eval/expansion", figure, steps, close=True)
        self.state.eval_timesteps.append(steps)
        self.state.eval_returns.append(result.returns.tolist())
        self.state.eval_lengths.append(result.lengths.tolist())
        self.write_evaluations()
        if result.mean_reward > self.state.best_mean_reward:
            self.state.best_mean_reward = result.mean_reward
            self.agent.save(str(self.run_dir / "best_model.zip"))
            save_normalization(self.venv, self.run_dir / "best_vecnormalize.pkl")
        if self.on_evaluation is not None:
            self.on_evaluation(steps, result)
        return result

    def write_evaluations(self) -> None:
        """eval/evaluations.npz in SB3's EvalCallback format (timesteps, results, ep_lengths)."""
        eval_dir = self.run_dir / "eval"
        eval_dir.mkdir(exist_ok=True)
        np.savez(
            eval_dir / "evaluations.npz",
            timesteps=np.asarray(self.state.eval_timesteps),
            results=np.asarray(self.state.eval_returns),
            ep_lengths=np.asarray(self.state.eval_lengths),
        )

    def save_checkpoint(self) -> Path:
        """checkpoints/step_<N>/: model.zip, replay_buffer.npz, vecnormalize.pkl/.npz,
        monitor.json, resume.npz/.json (SB3 agents) and manifest.json (sizes, SHA-256).

        Written to a temporary folder and renamed, so a kill mid-write leaves
        the previous checkpoint as the latest complete one; the manifest, written
        last, lets a resume detect a checkpoint damaged later. The TensorBoard
        writer is flushed first: nothing logged before the checkpoint is lost.
        For an SB3 agent it is taken at a rollout boundary, so ``N`` counts only
        steps the agent has trained on.
        """
        self.state.next_checkpoint = self._advance(self.state.next_checkpoint, self.checkpoint_freq)
        steps = self.state.num_timesteps
        directory = self.run_dir / "checkpoints"
        final = directory / f"{CHECKPOINT_PREFIX}{steps}"
        partial = directory / f".partial_{CHECKPOINT_PREFIX}{steps}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        self.writer.flush()
        self.agent.save(str(partial / "model.zip"))
        if getattr(self.agent, "replay_buffer", None) is not None:
            # Arrays, not SB3's pickle: a resume reads it without running code.
            save_replay_buffer(self.agent.replay_buffer, partial / "replay_buffer.npz")
        save_normalization(self.venv, partial / "vecnormalize.pkl")
        (partial / "monitor.json").write_text(json.dumps(asdict(self.state)))
        if self.at_rollouts:
            save_resume_state(self.agent, self.venv, self, partial)
        write_manifest(partial)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(partial, final)
        for old in checkpoint_dirs(directory)[: -self.checkpoint_keep]:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def finish(self) -> Evaluation:
        """The end of training: a last evaluation (unless one just ran) and checkpoint."""
        just_evaluated = self.state.eval_timesteps[-1:] == [self.state.num_timesteps]
        if self.last_evaluation is None or not just_evaluated:
            self.run_evaluation()
        assert self.last_evaluation is not None
        self.log_kpis()
        self.save_checkpoint()
        self.writer.flush()
        return self.last_evaluation


def _find_vec_normalize(venv: VecEnv) -> VecNormalize | None:
    while True:
        if isinstance(venv, VecNormalize):
            return venv
        if not isinstance(venv, VecEnvWrapper):
            return None
        venv = venv.venv


def save_normalization(venv: VecEnv, path: Path) -> None:
    """VecNormalize's statistics under ``venv`` (if it normalizes): ``path`` and ``.npz``."""
    normalization = _find_vec_normalize(venv)
    if normalization is not None:
        save_vec_normalize(normalization, path)
