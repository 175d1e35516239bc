"""A run killed mid-way and restarted with the same command finishes the same budget
into the same TensorBoard run, with no gap and no fold in its curves."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

TOTAL = 4096
KPI_INTERVAL = 64


def command(run_dir: Path, extra: list[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "lepton_env.experiments.train",
        *extra,
        "scenario=toy",
        "training=smoke",
        f"total_timesteps={TOTAL}",
        "checkpoint.freq=256",
        "eval.freq=512",
        f"logger.kpi_interval={KPI_INTERVAL}",
        "logger.expansion_figure=false",
        "env.num_envs=4",
        "agent.model.policy_kwargs.net_arch=[16]",
        f"hydra.run.dir={run_dir}",
    ]


def steps_of(events: EventAccumulator, tag: str) -> list[int]:
    return [event.step for event in events.Scalars(tag)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("agent", "extra"),
    [
        ("ppo", ["agent.model.n_steps=16", "agent.model.batch_size=32"]),
        (
            "sac",
            [
                "agent.model.learning_starts=64",
                "agent.model.batch_size=32",
                "env.normalize.enabled=true",
            ],
        ),
    ],
)
def test_killed_run_resumes_to_the_same_total(agent: str, extra: list[str], tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    argv = command(run_dir, [f"agent={agent}", *extra])
    env = {**os.environ, "MPLBACKEND": "Agg"}
    process = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 240
    while not list((run_dir / "checkpoints").glob("step_*/monitor.json")):
        assert process.poll() is None, (
            process.stderr.read().decode()[-2000:] if process.stderr else ""
        )
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "running"
    checkpoints = sorted((run_dir / "checkpoints").glob("step_*"))
    killed_at = int(checkpoints[-1].name.removeprefix("step_"))
    assert killed_at < TOTAL
    if agent == "sac":
        assert (checkpoints[-1] / "replay_buffer.pkl").exists()
        assert (checkpoints[-1] / "vecnormalize.pkl").exists()

    resumed = subprocess.run(
        argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished"
    assert info["num_timesteps"] == TOTAL

    events = EventAccumulator(str(run_dir / "tb"), size_guidance={"scalars": 0})
    events.Reload()
    kpi_steps = steps_of(events, "kpi/revenue")
    assert kpi_steps == sorted(set(kpi_steps)), "steps repeat: the curve folds back"
    assert kpi_steps[-1] == TOTAL
    gaps = [after - before for before, after in itertools.pairwise(kpi_steps)]
    assert max(gaps) <= 2 * KPI_INTERVAL, f"gap in the curve around the resume at {killed_at}"
    assert any(step < killed_at for step in kpi_steps)
    assert any(step > killed_at for step in kpi_steps)
    if agent == "sac":
        assert (run_dir / "vecnormalize.pkl").exists()
    eval_steps = steps_of(events, "eval/mean_reward")
    assert eval_steps == sorted(set(eval_steps))
    assert eval_steps[-1] == TOTAL
