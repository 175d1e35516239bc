"""What a checkpoint needs beyond the model for a resumed run to continue exactly.

A checkpoint is taken at a rollout boundary (:class:`RolloutBoundary`): the
agent has trained on every step it counts. To make the resumed run's curves
equal the uninterrupted run's after that point, ``resume.npz`` / ``resume.json``
(no pickles) also keep

* the random generators: torch's, NumPy's global one (SB3 shuffles minibatches
  with it), Python's ``random`` and the action space's;
* the agent's place in its rollout: ``_last_obs``, ``_last_episode_starts``,
  ``_last_original_obs``, the episode-statistics window ``ep_info_buffer`` and
  the values its logger recorded but has not written yet;
* the env's episodes, where the VecEnv can say them (the batched ``lepton``
  backend's :meth:`snapshot`), the VecNormalize discounted returns, the reward
  shaping's current potentials (:mod:`lepton_env.agents.training.shaping`), and the
  training monitor's running KPI sums.

With a per-env backend (``dummy`` / ``subproc``) the envs restart their
episodes on resume: the step count is still exact, the curves close but not equal.
"""

from __future__ import annotations

import json
import random
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import unwrap_vec_wrapper

from lepton_env.agents.training.shaping import EnforcementShaping

RESUME_ARRAYS = "resume.npz"
RESUME_JSON = "resume.json"


class RolloutBoundary(BaseCallback):
    """Calls ``save(num_timesteps)`` at each rollout's start: after training on the last one."""

    def __init__(self, save: Any) -> None:
        super().__init__()
        self._save = save

    def _on_rollout_start(self) -> None:
        self._save()

    def _on_step(self) -> bool:
        return True


def _put(arrays: dict[str, Any], name: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            arrays[f"{name}/{key}"] = np.asarray(item)
    elif value is not None:
        arrays[name] = np.asarray(value)


def _get(arrays: Any, name: str) -> Any:
    if name in arrays:
        return arrays[name].copy()
    prefix = f"{name}/"
    keys = [key for key in arrays.files if key.startswith(prefix)]
    return {key[len(prefix) :]: arrays[key].copy() for key in keys} if keys else None


def _innermost(venv: Any) -> Any:
    while hasattr(venv, "venv"):
        venv = venv.venv
    return venv


def _vec_normalize(venv: Any) -> Any:
    from stable_baselines3.common.vec_env import VecNormalize

    while venv is not None:
        if isinstance(venv, VecNormalize):
            return venv
        venv = getattr(venv, "venv", None)
    return None


def _episode_window(arrays: dict[str, Any], name: str, window: Any) -> None:
    """An episode-statistics deque as arrays (their dtypes kept: the means stay bit-exact)."""
    entries = list(window or [])
    for key in ("r", "l", "t"):
        if entries and all(key in entry for entry in entries):
            arrays[f"{name}/{key}"] = np.asarray([entry[key] for entry in entries])
    arrays[f"{name}/size"] = np.int64(len(entries))


def _read_window(arrays: Any, name: str, maxlen: int) -> deque[Any]:
    size = int(arrays[f"{name}/size"])
    columns = {key: arrays[f"{name}/{key}"] for key in ("r", "l", "t") if f"{name}/{key}" in arrays}
    return deque(
        ({key: column[index] for key, column in columns.items()} for index in range(size)),
        maxlen=maxlen,
    )


def save_resume_state(agent: Any, venv: Any, monitor: Any, folder: Path) -> None:
    """Write ``resume.npz`` and ``resume.json`` into ``folder`` (see the module docstring)."""
    import torch

    arrays: dict[str, Any] = {"torch_rng": torch.get_rng_state().numpy()}
    # SB3 shuffles minibatches with NumPy's global generator: its state is part of the run.
    name, keys, position, has_gauss, gauss = np.random.get_state()  # noqa: NPY002
    arrays["numpy_rng_keys"] = keys
    version, python_state, python_gauss = random.getstate()
    _put(arrays, "last_obs", agent._last_obs)
    _put(arrays, "last_episode_starts", agent._last_episode_starts)
    _put(arrays, "last_original_obs", getattr(agent, "_last_original_obs", None))
    _put(arrays, "monitor_sums", monitor.kpis._sums)
    _episode_window(arrays, "ep_info", agent.ep_info_buffer)
    core = _innermost(venv)
    if hasattr(core, "snapshot") and getattr(core.batch, "state", None) is not None:
        _put(arrays, "env", core.snapshot())
    normalizer = _vec_normalize(venv)
    if normalizer is not None:
        arrays["normalize_returns"] = normalizer.returns
    shaping = unwrap_vec_wrapper(venv, EnforcementShaping)
    if shaping is not None:
        arrays["shaping_potential"] = shaping.potential_now
    logger = agent.logger
    action_space = getattr(agent, "action_space", None)
    generator = getattr(action_space, "_np_random", None)
    record = {
        "numpy_rng": [name, int(position), int(has_gauss), float(gauss)],
        "python_rng": [version, list(python_state), python_gauss],
        "action_space_rng": generator.bit_generator.state if generator is not None else None,
        "ep_success_buffer": [bool(value) for value in agent.ep_success_buffer or []],
        "finished_episodes": monitor.finished_episodes,
        "episode_num": int(agent._episode_num),
        "logger": {
            "values": {k: float(v) for k, v in logger.name_to_value.items()},
            "counts": {k: int(v) for k, v in logger.name_to_count.items()},
            "excluded": {k: list(v) for k, v in logger.name_to_excluded.items()},
        },
    }
    np.savez(folder / RESUME_ARRAYS, **arrays)
    (folder / RESUME_JSON).write_text(json.dumps(record, default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot record {type(value).__name__} in {RESUME_JSON}")


#: What :func:`restore_resume_state` reads from each file.
RESUME_KEYS = (
    "numpy_rng",
    "python_rng",
    "action_space_rng",
    "ep_success_buffer",
    "finished_episodes",
    "episode_num",
    "logger",
)
RESUME_ARRAY_KEYS = ("torch_rng", "numpy_rng_keys")


def resume_problem(folder: Path) -> str | None:
    """Why ``folder``'s resume state cannot be restored (None: it reads back, or there is none)."""
    present = [name for name in (RESUME_JSON, RESUME_ARRAYS) if (folder / name).exists()]
    if not present:
        return None
    if len(present) == 1:
        missing = RESUME_ARRAYS if present == [RESUME_JSON] else RESUME_JSON
        return f"{missing} is missing"
    try:
        record = json.loads((folder / RESUME_JSON).read_text())
        absent = [key for key in RESUME_KEYS if key not in record]
        if absent:
            return f"{RESUME_JSON} lacks {absent}"
        with np.load(folder / RESUME_ARRAYS, allow_pickle=False) as arrays:
            absent = [key for key in RESUME_ARRAY_KEYS if key not in arrays.files]
            for name in arrays.files:
                arrays[name]  # reads (and CRC-checks) every array
    except (OSError, ValueError, TypeError, EOFError) as error:
        return f"the resume state is unreadable ({type(error).__name__}: {error})"
    return f"{RESUME_ARRAYS} lacks {absent}" if absent else None


def restore_resume_state(agent: Any, venv: Any, monitor: Any, folder: Path) -> bool:
    """Undo :func:`save_resume_state` on a freshly loaded agent (its logger set) and monitor.

    Returns False (nothing restored) when the checkpoint has no resume state.
    """
    import torch

    if not (folder / RESUME_ARRAYS).exists() or not (folder / RESUME_JSON).exists():
        return False
    record = json.loads((folder / RESUME_JSON).read_text())
    with np.load(folder / RESUME_ARRAYS, allow_pickle=False) as arrays:
        core = _innermost(venv)
        environment = _get(arrays, "env")
        if environment is not None and hasattr(core, "restore"):
            core.restore(environment)
            agent._last_obs = _get(arrays, "last_obs")
            agent._last_episode_starts = _get(arrays, "last_episode_starts")
            agent._last_original_obs = _get(arrays, "last_original_obs")
        normalizer = _vec_normalize(venv)
        if normalizer is not None and "normalize_returns" in arrays:
            normalizer.returns = arrays["normalize_returns"].copy()
        shaping = unwrap_vec_wrapper(venv, EnforcementShaping)
        if shaping is not None and "shaping_potential" in arrays:
            shaping.potential_now = arrays["shaping_potential"].copy()
        torch.set_rng_state(torch.from_numpy(arrays["torch_rng"].copy()))
        name, position, has_gauss, gauss = record["numpy_rng"]
        keys = arrays["numpy_rng_keys"].copy()
        np.random.set_state((name, keys, position, has_gauss, gauss))  # noqa: NPY002
        sums = _get(arrays, "monitor_sums") or {}
        window = agent._stats_window_size
        agent.ep_info_buffer = _read_window(arrays, "ep_info", window)
    version, python_state, python_gauss = record["python_rng"]
    random.setstate((version, tuple(python_state), python_gauss))
    generator = getattr(getattr(agent, "action_space", None), "_np_random", None)
    if generator is not None and record["action_space_rng"] is not None:
        generator.bit_generator.state = record["action_space_rng"]
    agent.ep_success_buffer = deque(record["ep_success_buffer"], maxlen=window)
    agent._episode_num = record["episode_num"]
    logger = agent.logger
    logger.name_to_value.update(record["logger"]["values"])
    logger.name_to_count.update(record["logger"]["counts"])
    logger.name_to_excluded.update(
        {key: tuple(value) for key, value in record["logger"]["excluded"].items()}
    )
    monitor.kpis._sums = {key: np.asarray(value, dtype=np.float64) for key, value in sums.items()}
    monitor.finished_episodes = list(record["finished_episodes"])
    return True
