"""A bad override stops lepton-train before any training, with a message naming it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def train_command() -> list[str]:
    """The installed ``lepton-train`` script, else ``python -m lepton_env.experiments.train``."""
    script = shutil.which("lepton-train")
    return [script] if script else [sys.executable, "-m", "lepton_env.experiments.train"]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("agent=nosuch", "Could not find 'agent/nosuch'"),
        ("total_timesteps=-5", "total_timesteps = -5: must be in [1, 1,000,000,000,000]"),
        ("totl_timesteps=5", "Key 'totl_timesteps' is not in struct"),
        ("+eval.frq=5", "config key 'eval.frq'"),
        ("env=discrete", "env.action_mode = 'discrete': agent 'sac' acts only in ['continuous']"),
        ("+agent.model.learning_rat=0.1", "unexpected keyword argument 'learning_rat'"),
        ("+scenario.kwargs.horizon=0", "horizon"),
        ("env.shaping.enforcement=-1", "env.shaping.enforcement = -1.0: must be in [0.0, 100.0]"),
        (
            "env.observation_mode=dict env.shaping.enforcement=1",
            "env.shaping.enforcement = 1.0: reads the flat observation",
        ),
    ],
)
def test_bad_override_fails_before_training(override: str, message: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    agent = ["agent=sac"] if override.startswith(("env=", "+agent")) else []
    result = subprocess.run(
        [*train_command(), *agent, *override.split(), "scenario=toy", f"hydra.run.dir={run_dir}"],
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert not (run_dir / "checkpoints").exists()
    assert not list(run_dir.glob("tb/events*"))


def test_a_run_directory_holds_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """resume=false refuses a used directory; another agent or seed cannot resume it."""
    from hydra import compose, initialize_config_dir

    from lepton_env.experiments.schema import ConfigError
    from lepton_env.experiments.train import CONFIGS, train

    tiny = [
        "scenario=toy",
        "training=smoke",
        "total_timesteps=64",
        "eval.episodes=1",
        "env.num_envs=4",
        "agent.model.n_steps=16",
        "agent.model.batch_size=32",
        "agent.model.policy_kwargs.net_arch=[8]",
        "logger.expansion_figure=false",
    ]
    run_dir = tmp_path / "run"
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        first = train(compose("train", overrides=tiny), run_dir)
        assert first.num_timesteps == 64
        again = train(compose("train", overrides=tiny), run_dir)
        assert "Already trained: 64 steps" in capsys.readouterr().out
        assert again.eval_mean_reward == pytest.approx(first.eval_mean_reward)
        with pytest.raises(ConfigError, match=r"resume = false but .* already holds a run"):
            train(compose("train", overrides=[*tiny, "resume=false"]), run_dir)
        with pytest.raises(ConfigError, match=r"differs in seed: 0 in the run, 1 now"):
            train(compose("train", overrides=[*tiny, "seed=1"]), run_dir)
        with pytest.raises(ConfigError, match=r"resume = true but .* has no checkpoint"):
            train(compose("train", overrides=[*tiny, "resume=true"]), tmp_path / "empty")
