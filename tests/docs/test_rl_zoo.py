"""rl-zoo3 trains the envs with this project's hyperparameter files (``lepton_env.zoo``).

The zoo's own ``train`` runs each file for a few thousand steps, with fewer envs
so the test stays short; skipped where rl_zoo3 is not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from lepton_env.zoo import PRESETS, dqn, ppo

RL_ZOO3 = "rl_zoo3 is not installed: pip install rl_zoo3"


@pytest.mark.parametrize("module", [ppo, dqn], ids=["ppo", "dqn"])
def test_the_zoo_files_hold_the_presets(module: Any) -> None:
    preset = yaml.safe_load((PRESETS / f"{module.PRESET}.yaml").read_text())
    ((env_id, settings),) = module.hyperparams.items()
    assert env_id.startswith("LeptonExpansion-")
    assert settings["n_timesteps"] == preset["total_timesteps"]
    assert settings["n_envs"] == preset["env"]["num_envs"]
    for key, value in preset["agent"]["model"].items():
        if key != "_target_":
            assert settings[key] == value


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algo", "env_id", "scenario", "overrides"),
    [
        ("ppo", "LeptonExpansion-v0", "toy", ["n_envs:16", "batch_size:128"]),
        (
            "dqn",
            "LeptonExpansion-Single-v0",
            "toy_pilot",
            [
                "n_envs:4",
                "learning_starts:256",
                "buffer_size:4096",
                "gradient_steps:1",
                "batch_size:64",
            ],
        ),
    ],
)
def test_the_zoo_trains_with_the_files(
    algo: str, env_id: str, scenario: str, overrides: list[str], tmp_path: Path
) -> None:
    pytest.importorskip("rl_zoo3", reason=RL_ZOO3)
    command = [
        sys.executable,
        "-m",
        "rl_zoo3.train",
        "--algo",
        algo,
        "--env",
        env_id,
        "--gym-packages",
        "lepton_env",
        "--env-kwargs",
        f"scenario:'{scenario}'",
        "--conf-file",
        f"lepton_env.zoo.{algo}",
        "-n",
        "2048",
        "--seed",
        "0",
        "--eval-freq",
        "-1",
        "-f",
        str(tmp_path / "logs"),
        "--hyperparams",
        *overrides,
    ]
    result = subprocess.run(
        command,
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert f"Loading hyperparameters from: lepton_env.zoo.{algo}" in result.stdout
    (model,) = (tmp_path / "logs" / algo).glob(f"{env_id}_*/{env_id}.zip")
    assert model.stat().st_size > 0
