"""What keeps a run directory sound: one writer at a time, intact checkpoints, safe resume.

* :func:`run_lock`: an exclusive lock on ``<run_dir>/.lock`` (the ``filelock``
  library: ``fcntl.flock`` on POSIX, so the kernel drops it when the holder
  dies, however it dies; a stale lock file needs no cleaning). A second run
  into the same directory is refused with the holder's pid, host and start.
* :func:`resume_point`: the newest checkpoint that passes
  :func:`lepton_env.agents.training.callbacks.checkpoint_problem`, warning for each newer
  one skipped.
* :func:`restore_normalization` / :func:`restore_replay_buffer`: a checkpoint's
  VecNormalize statistics and replay buffer from their pickle-free copies (an
  older run's pickles only with ``trust``).
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOCK_FILE = ".lock"
HOLDER_FILE = ".lock.json"


class RunDirectoryBusy(RuntimeError):
    """Another live process is writing the same run directory."""


@contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold ``run_dir``'s writer lock for the ``with`` body; refuse if another process holds it."""
    from filelock import FileLock, Timeout

    run_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(run_dir / LOCK_FILE))
    holder = run_dir / HOLDER_FILE
    try:
        lock.acquire(timeout=0)
    except Timeout:
        try:
            other = json.loads(holder.read_text())
            who = f"pid {other['pid']} on {other['host']}, started {other['started']}"
        except (OSError, ValueError, KeyError):
            who = "another process"
        raise RunDirectoryBusy(
            f"{run_dir} is being written by {who}; wait for it to finish, or choose another "
            "hydra.run.dir (or run_name) for a second run"
        ) from None
    try:
        holder.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                }
            )
        )
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def resume_point(run_dir: Path) -> Path | None:
    """The newest intact checkpoint of ``run_dir`` (warns for each corrupt one skipped)."""
    from lepton_env.agents.training.callbacks import latest_valid_checkpoint  # SB3: import on use

    return latest_valid_checkpoint(run_dir / "checkpoints")


def restore_normalization(checkpoint: Path | None, venv: Any, trust: bool) -> Any | None:
    """The checkpoint's VecNormalize over ``venv``, or None when it holds none."""
    from lepton_env.agents.training.loading import load_vec_normalize, stats_path

    if checkpoint is None:
        return None
    saved = checkpoint / "vecnormalize.pkl"
    if not saved.exists() and not stats_path(saved).exists():
        return None
    return load_vec_normalize(saved, venv, trust)


def restore_replay_buffer(agent: Any, checkpoint: Path, trust: bool) -> None:
    """Fill the agent's replay buffer from ``replay_buffer.npz`` (or a trusted ``.pkl``)."""
    from lepton_env.agents.training.loading import load_replay_buffer

    for name in ("replay_buffer.npz", "replay_buffer.pkl"):
        if (checkpoint / name).exists():
            load_replay_buffer(agent, checkpoint / name, trust)
            return


def continue_exactly(agent: Any, monitor: Any, checkpoint: Path | None) -> None:
    """Put a resumed SB3 agent and the monitor back where the checkpoint left them.

    Random generators, the rollout's last observation, the episode-statistics
    window, pending log values and, on the ``lepton`` backend, the envs' episodes
    (agents/training/resume_state.py): the resumed run then logs what the uninterrupted one did.
    """
    from lepton_env.agents.training.resume_state import restore_resume_state

    if checkpoint is not None:
        restore_resume_state(agent, monitor.venv, monitor, checkpoint)


def prune_events(tb_dir: Path, last_step: int) -> int:
    """Remove from ``tb_dir``'s event files every event after ``last_step``; the number removed.

    A killed run logged past its last checkpoint; TensorBoard hides those points
    (``purge_step``) but readers such as tbparse do not, and would see two values
    at the steps the resumed run logs again. Each file is rewritten beside itself
    and renamed over the original, so a kill mid-way loses nothing.
    """
    from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
    from tensorboard.compat.proto import event_pb2
    from tensorboard.summary.writer.record_writer import RecordWriter

    removed = 0
    for path in sorted(tb_dir.rglob("*tfevents*")):
        if not path.is_file() or path.name.endswith(".pruning"):
            continue
        records = list(RawEventFileLoader(str(path)).Load())
        kept = [r for r in records if event_pb2.Event.FromString(r).step <= last_step]
        if len(kept) == len(records):
            continue
        removed += len(records) - len(kept)
        partial = path.with_name(path.name + ".pruning")
        with partial.open("wb") as handle:
            writer = RecordWriter(handle)
            for record in kept:
                writer.write(record)
            writer.flush()
        partial.replace(path)
    return removed
