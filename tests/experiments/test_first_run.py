"""A first run that talks: the compiling notice, and total_timesteps rounded to whole rollouts."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit

from lepton_env.experiments.first_run import (
    COMPILING,
    compile_simulation,
    compiling_notice,
    whole_rollouts,
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_quick_block_says_nothing() -> None:
    stream = io.StringIO()
    with compiling_notice(stream, quiet_for=5.0):
        pass
    assert stream.getvalue() == ""


def test_a_slow_block_is_announced_once_in_a_log_with_its_duration() -> None:
    stream = io.StringIO()
    with compiling_notice(stream, quiet_for=0.05):
        time.sleep(0.4)
    lines = stream.getvalue().splitlines()
    assert lines == [f"{COMPILING} ...", "compiled the simulation in 0 s"]


def test_a_slow_block_spins_on_a_terminal() -> None:
    stream = Terminal()
    with compiling_notice(stream, quiet_for=0.05, interval=0.05):
        time.sleep(0.5)
    text = stream.getvalue()
    assert text.count(f"{COMPILING}: 0 s") >= 3  # the spinner turned
    assert text.endswith("\r\033[Kcompiled the simulation in 1 s\n") or text.endswith(
        "\r\033[Kcompiled the simulation in 0 s\n"
    )


@pytest.mark.parametrize(
    ("env_id", "batched"),
    [
        ("LeptonExpansion-v0", True),
        ("LeptonExpansion-Single-v0", False),
        ("LeptonExpansion-Continuous-v0", True),
        ("LeptonExpansion-Continuous-v0", False),
    ],
)
def test_compiling_every_face_steps_it_once(env_id: str, batched: bool) -> None:
    first, again = io.StringIO(), io.StringIO()
    compile_simulation(env_id, {"scenario": "toy"}, num_envs=3, batched=batched, stream=first)
    # compiled now, or loaded from the cache: announced only if it took a while
    assert first.getvalue() == "" or first.getvalue().startswith(f"{COMPILING} ...\n")
    compile_simulation(env_id, {"scenario": "toy"}, num_envs=3, batched=batched, stream=again)
    assert again.getvalue() == ""


def on_policy(n_steps: int, n_envs: int) -> SimpleNamespace:
    return SimpleNamespace(n_steps=n_steps, n_envs=n_envs)


def test_on_policy_budgets_round_up_to_whole_rollouts() -> None:
    planned, why = whole_rollouts(on_policy(16, 512), 0, 2048) or (0, "")
    assert planned == 8192
    assert why == (
        "SimpleNamespace trains in whole rollouts of 16 steps x 512 envs (8,192 env steps each)"
    )
    assert whole_rollouts(on_policy(16, 512), 0, 16384) is None
    # resumed at a rollout boundary: the rest rounds from there
    resumed = whole_rollouts(on_policy(16, 4), 640, 700)
    assert resumed is not None and resumed[0] == 704


def test_off_policy_budgets_round_up_to_whole_collections() -> None:
    every_four = SimpleNamespace(n_envs=8, train_freq=TrainFreq(4, TrainFrequencyUnit.STEP))
    assert whole_rollouts(every_four, 0, 100) == (
        128,
        "SimpleNamespace trains in whole collections of 4 steps x 8 envs (32 env steps each)",
    )
    by_episode = SimpleNamespace(n_envs=8, train_freq=TrainFreq(1, TrainFrequencyUnit.EPISODE))
    assert whole_rollouts(by_episode, 0, 100) is None
    assert whole_rollouts(SimpleNamespace(), 0, 100) is None  # an agent of another library


@pytest.mark.slow
def test_a_rounded_budget_is_announced_and_is_what_runs(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "lepton_env.experiments.train"]
    result = subprocess.run(
        [
            *command,
            "agent=ppo",
            "scenario=toy",
            "training=smoke",
            "total_timesteps=100",
            "env.num_envs=4",
            "agent.model.n_steps=16",
            "agent.model.batch_size=32",
            "agent.model.policy_kwargs.net_arch=[8]",
            "final_table.enabled=false",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (
        "total_timesteps = 100 rounds up to 128: PPO trains in whole rollouts of "
        "16 steps x 4 envs (64 env steps each)"
    ) in result.stdout
    assert "Done: 128 steps" in result.stdout
    assert json.loads((run_dir / "run.json").read_text())["num_timesteps"] == 128
