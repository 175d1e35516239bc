"""Checkpoints that survive, exact resume, and one writer per run directory.

Tiny PPO runs on the toy world (4 envs x 16 steps a rollout, a few thousand steps).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tbparse import SummaryReader

from lepton_env.agents.training.callbacks import (
    CheckpointWarning,
    checkpoint_problem,
    latest_valid_checkpoint,
)
from lepton_env.experiments.run_safety import RunDirectoryBusy, prune_events, run_lock

TOTAL = 4096

ARGS = [
    "scenario=toy",
    "training=smoke",
    f"total_timesteps={TOTAL}",
    "checkpoint.freq=256",
    "eval.freq=512",
    "logger.kpi_interval=64",
    "logger.expansion_figure=false",
    "env.num_envs=4",
    "agent.model.policy_kwargs.net_arch=[16]",
    "env.vec_backend=lepton",
]
#: Per agent: a rollout of 4 envs x 16 steps (PPO), of 4 envs x train_freq 4 (DQN).
AGENTS = {
    "ppo": ["agent=ppo", "agent.model.n_steps=16", "agent.model.batch_size=32"],
    # The enforcement shaping keeps a potential per env across the kill (resume.npz); on
    # `global`, since toy's regions have no enforcement.
    "ppo_shaped": [
        "agent=ppo",
        "agent.model.n_steps=16",
        "agent.model.batch_size=32",
        "env.shaping.enforcement=1.0",
    ],
    "dqn": [
        "agent=dqn",
        "agent.model.learning_starts=256",
        "agent.model.buffer_size=4096",
        "agent.model.batch_size=32",
        "agent.model.target_update_interval=256",
    ],
}
ROLLOUTS = {"ppo": 4 * 16, "ppo_shaped": 4 * 16, "dqn": 4 * 4}
ENV = {**os.environ, "MPLBACKEND": "Agg"}


def command(run_dir: Path, *extra: str, agent: str = "ppo") -> list[str]:
    world = "scenario=global" if agent == "ppo_shaped" else "scenario=toy"
    return [
        sys.executable,
        "-m",
        "lepton_env.experiments.train",
        *(world if arg == "scenario=toy" else arg for arg in ARGS),
        *AGENTS[agent],
        *extra,
        f"hydra.run.dir={run_dir}",
    ]


def scalars(run_dir: Path) -> pd.DataFrame:
    """Every scalar as tbparse reads it (it ignores purge_step), wall-clock tags left out."""
    table = SummaryReader(str(run_dir / "tb")).scalars
    return table[~table["tag"].str.startswith("time/")].reset_index(drop=True)


def start_and_kill(run_dir: Path, agent: str) -> int:
    """Start a run, SIGKILL it once it has a checkpoint; the newest checkpoint's step."""
    process = subprocess.Popen(
        command(run_dir, agent=agent), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while not list((run_dir / "checkpoints").glob("step_*/manifest.json")):
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode()[-2000:] if process.stderr else "")
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.05)
    time.sleep(0.5)  # let it log past the checkpoint, as a real kill would
    process.send_signal(signal.SIGKILL)
    process.wait()
    newest = latest_valid_checkpoint(run_dir / "checkpoints")
    assert newest is not None
    return int(newest.name.removeprefix("step_"))


_FINISHED: dict[str, Path] = {}


def finished_run(agent: str, factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run of ``agent`` (made once per test session)."""
    if agent not in _FINISHED:
        run_dir = factory.mktemp(f"uninterrupted_{agent}") / "run"
        subprocess.run(
            command(run_dir, agent=agent), env=ENV, check=True, capture_output=True, timeout=600
        )
        _FINISHED[agent] = run_dir
    return _FINISHED[agent]


@pytest.fixture
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return finished_run("ppo", tmp_path_factory)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("agent", "tags"),
    [
        ("ppo", {"kpi/revenue", "eval/mean_reward", "train/loss", "rollout/ep_rew_mean"}),
        ("ppo_shaped", {"kpi/revenue", "eval/mean_reward", "train/loss"}),
        ("dqn", {"kpi/revenue", "eval/mean_reward", "train/loss", "rollout/exploration_rate"}),
    ],
)
def test_kill_and_resume_equals_the_uninterrupted_run(
    agent: str, tags: set[str], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    uninterrupted = finished_run(agent, tmp_path_factory)
    run_dir = tmp_path / "run"
    killed_at = start_and_kill(run_dir, agent)
    assert killed_at < TOTAL and killed_at % ROLLOUTS[agent] == 0, "off a rollout boundary"
    resumed = subprocess.run(
        command(run_dir, agent=agent), env=ENV, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    for folder in (uninterrupted, run_dir):
        assert json.loads((folder / "run.json").read_text())["num_timesteps"] == TOTAL

    expected, found = scalars(uninterrupted), scalars(run_dir)
    duplicated = found[found.duplicated(["tag", "step"], keep=False)]
    assert duplicated.empty, f"points logged twice:\n{duplicated}"
    after = found[found["step"] > killed_at].set_index(["tag", "step"])["value"].sort_index()
    reference = expected[expected["step"] > killed_at].set_index(["tag", "step"])["value"]
    reference = reference.sort_index()
    assert tags <= set(reference.index.get_level_values("tag"))
    pd.testing.assert_index_equal(after.index, reference.index)
    np.testing.assert_array_equal(after.to_numpy(), reference.to_numpy())


def _checkpointed_run(uninterrupted: Path, tmp_path: Path) -> Path:
    """A copy of the finished run whose last checkpoint is to be damaged."""
    run_dir = tmp_path / "run"
    shutil.copytree(uninterrupted, run_dir)
    return run_dir


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        ("truncate_model", "model.zip has"),
        ("empty_model", "model.zip is empty"),
        ("truncate_monitor", "monitor.json has"),
        ("remove_model", "model.zip is missing"),
    ],
)
def test_a_corrupt_latest_checkpoint_falls_back_with_a_warning(
    uninterrupted: Path, tmp_path: Path, damage: str, problem: str
) -> None:
    run_dir = _checkpointed_run(uninterrupted, tmp_path)
    older, latest = sorted((run_dir / "checkpoints").glob("step_*"), key=lambda p: int(p.name[5:]))[
        -2:
    ]
    model, monitor = latest / "model.zip", latest / "monitor.json"
    if damage == "truncate_model":
        model.write_bytes(model.read_bytes()[: model.stat().st_size // 2])
    elif damage == "empty_model":
        model.write_bytes(b"")
    elif damage == "truncate_monitor":
        monitor.write_text(monitor.read_text()[:10])
    else:
        model.unlink()
    assert problem in (checkpoint_problem(latest) or "")
    assert checkpoint_problem(older) is None
    with pytest.warns(CheckpointWarning, match=f"{latest.name}.*{problem}"):
        assert latest_valid_checkpoint(run_dir / "checkpoints") == older

    # The run resumes from the older checkpoint and finishes, warning on stderr.
    (run_dir / "run.json").write_text(json.dumps({"status": "running"}))
    resumed = subprocess.run(
        command(run_dir, f"total_timesteps={TOTAL + ROLLOUTS['ppo']}"),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "falling back to an older one" in resumed.stderr
    assert (
        json.loads((run_dir / "run.json").read_text())["num_timesteps"] == TOTAL + ROLLOUTS["ppo"]
    )


@pytest.mark.slow
def test_two_concurrent_runs_into_one_directory(tmp_path: Path) -> None:
    """The second is refused, naming the first, which finishes with one point per step."""
    run_dir = tmp_path / "run"
    first = subprocess.Popen(
        command(run_dir), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while not (run_dir / ".lock.json").exists():
            assert first.poll() is None and time.monotonic() < deadline, "the first never locked"
            time.sleep(0.05)
        second = subprocess.run(
            command(run_dir), env=ENV, capture_output=True, text=True, timeout=300
        )
        assert second.returncode == 3
        assert f"is being written by pid {first.pid} on " in second.stderr
        assert first.wait(timeout=600) == 0, first.stderr.read()[-2000:] if first.stderr else ""
    finally:
        if first.poll() is None:
            first.kill()
    assert json.loads((run_dir / "run.json").read_text())["num_timesteps"] == TOTAL
    points = scalars(run_dir)
    assert not points.duplicated(["tag", "step"]).any()


def test_a_killed_writer_leaves_no_stale_lock(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path\n"
            "from lepton_env.experiments.run_safety import run_lock\n"
            "with run_lock(Path(sys.argv[1])):\n print('held', flush=True); time.sleep(300)",
            str(run_dir),
        ],
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(RunDirectoryBusy, match=f"pid {holder.pid} on "):
            with run_lock(run_dir):
                pass
        refused = subprocess.run(
            command(run_dir), env=ENV, capture_output=True, text=True, timeout=300
        )
        assert refused.returncode == 3
        assert f"is being written by pid {holder.pid}" in refused.stderr
        assert not (run_dir / "tb").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The kill left the lock file behind; the kernel released the lock with the process.
    assert (run_dir / ".lock").exists()
    with run_lock(run_dir):
        assert json.loads((run_dir / ".lock.json").read_text())["pid"] == os.getpid()


def test_prune_events_drops_points_after_the_step(tmp_path: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(str(tmp_path))
    for step in (0, 64, 128, 192):
        writer.add_scalar("kpi/x", float(step), step)
    writer.close()
    assert prune_events(tmp_path, 128) == 1
    table = SummaryReader(str(tmp_path)).scalars
    assert table["step"].tolist() == [0, 64, 128]
    assert table["value"].tolist() == [0.0, 64.0, 128.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert prune_events(tmp_path, 128) == 0
