"""The same command with the same seed on CPU writes identical TensorBoard scalars."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def scalars(tb_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar but SB3's wall-clock ones (time/fps ...), which measure the machine."""
    events = EventAccumulator(str(tb_dir), size_guidance={"scalars": 0})
    events.Reload()
    return {
        tag: [(event.step, event.value) for event in events.Scalars(tag)]
        for tag in events.Tags()["scalars"]
        if not tag.startswith("time/")
    }


def train_scalars(run_dir: Path, overrides: list[str]) -> dict[str, list[tuple[int, float]]]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lepton_env.experiments.train",
            "scenario=toy",
            "training=smoke",
            "seed=7",
            "total_timesteps=384",
            "logger.expansion_figure=false",
            "agent.model.policy_kwargs.net_arch=[16]",
            *overrides,
            f"hydra.run.dir={run_dir}",
        ],
        cwd=run_dir.parent,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return scalars(run_dir / "tb")


@pytest.mark.slow
def test_same_seed_same_scalars_and_backends_agree(tmp_path: Path) -> None:
    """PPO twice on the batched `lepton` backend, once on SB3's DummyVecEnv: one result."""
    ppo = ["agent=ppo", "agent.model.n_steps=16", "agent.model.batch_size=32", "env.num_envs=4"]
    first = train_scalars(tmp_path / "first", [*ppo, "env.vec_backend=lepton"])
    second = train_scalars(tmp_path / "second", [*ppo, "env.vec_backend=lepton"])
    dummy = train_scalars(tmp_path / "dummy", [*ppo, "env.vec_backend=dummy"])
    assert any(tag.startswith("train/") for tag in first)
    assert "eval/mean_reward" in first and "kpi/profit" in first
    assert first == second
    assert dummy == first


@pytest.mark.slow
def test_same_seed_same_scalars_off_policy(tmp_path: Path) -> None:
    dqn = ["agent=dqn", "agent.model.learning_starts=64", "agent.model.batch_size=32"]
    first = train_scalars(tmp_path / "first", dqn)
    second = train_scalars(tmp_path / "second", dqn)
    assert any(tag.startswith("train/") for tag in first)
    assert first == second
