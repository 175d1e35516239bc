"""Every listed algorithm, and a user's own agent, trained through the real entry point.

A few hundred steps on `toy` with tiny networks; each run directory must hold
TensorBoard events with kpi/ and eval/ tags, hyperparameters, a checkpoint and
a final model that loads and acts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

from lepton_env.agents.training.factory import load_agent, make_vec_env
from lepton_env.experiments.schema import TrainConfig, validate

REPO = Path(__file__).resolve().parents[2]

TINY = ["agent.model.policy_kwargs.net_arch=[16]"]
ON_POLICY = ["env.num_envs=4", "agent.model.n_steps=16", "agent.model.batch_size=32"]
OFF_POLICY = [
    "agent.model.learning_starts=64",
    "agent.model.batch_size=32",
    "agent.model.buffer_size=2000",
]
ALGORITHMS = {
    "ppo": ON_POLICY,
    "a2c": ["env.num_envs=4", "agent.model.n_steps=8"],
    "maskable_ppo": ON_POLICY,
    "recurrent_ppo": ON_POLICY,
    "sac": OFF_POLICY,
    "td3": OFF_POLICY,
    "tqc": OFF_POLICY,
    "dqn": OFF_POLICY,
    "qrdqn": OFF_POLICY,
}


def run_train(overrides: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m lepton_env.experiments.train`` (the entry point's module) in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "lepton_env.experiments.train", *overrides],
        cwd=cwd,
        env={**os.environ, "MPLBACKEND": "Agg", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def hparams_tags(tb_dir: Path) -> set[str]:
    tags = set()
    for path in tb_dir.glob("events.out.tfevents.*"):
        for event in EventFileLoader(str(path)).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "hparams":
                    tags.add(value.tag)
    return tags


def check_run_dir(run_dir: Path, total_timesteps: int) -> TrainConfig:
    """The documented layout, TensorBoard content and a loadable model."""
    info = json.loads((run_dir / "run.json").read_text())
    assert info["status"] == "finished"
    assert info["num_timesteps"] >= total_timesteps
    assert info["device"] == "cpu"
    events = EventAccumulator(str(run_dir / "tb"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    for tag in ("kpi/revenue", "kpi/profit", "kpi/cash", "kpi/fines", "kpi/invalid_moves"):
        assert tag in scalars
    assert any(tag.startswith("kpi/market_share/") for tag in scalars)
    assert any(tag.startswith("kpi/entries/") for tag in scalars)
    assert any(tag.startswith("kpi/reward/") for tag in scalars)
    assert {"eval/mean_reward", "eval/std_reward", "eval/profit"} <= scalars
    assert "eval/expansion" in events.Tags()["images"]
    assert "_hparams_/experiment" in hparams_tags(run_dir / "tb")
    checkpoints = sorted((run_dir / "checkpoints").glob("step_*/model.zip"))
    assert checkpoints
    assert (run_dir / "best_model.zip").exists()
    evaluations = np.load(run_dir / "eval" / "evaluations.npz")
    assert evaluations["results"].ndim == 2
    from omegaconf import OmegaConf

    config = validate(OmegaConf.create(yaml.safe_load((run_dir / "config.yaml").read_text())))
    env = make_vec_env(config, seed=5, num_envs=2, backend="dummy")
    agent = load_agent(config, str(run_dir / "final_model.zip"), env)
    actions, _ = agent.predict(env.reset(), deterministic=True)
    assert env.action_space.contains(actions[0])
    env.close()
    return config


@pytest.mark.slow
@pytest.mark.parametrize("agent", sorted(ALGORITHMS))
def test_every_algorithm_trains_logs_and_checkpoints(agent: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_train(
        [
            f"agent={agent}",
            "scenario=toy",
            "training=smoke",
            "total_timesteps=384",
            f"hydra.run.dir={run_dir}",
            *ALGORITHMS[agent],
            *TINY,
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"TensorBoard logs: {run_dir / 'tb'}" in result.stdout
    # the end-of-training table (training=smoke: home-only, two seeds) on the agent's face
    assert "Trained policy against the baselines (2 evaluation seeds)" in result.stdout
    assert "home_only" in result.stdout
    config = check_run_dir(run_dir, 384)
    assert config.agent.name == agent


@pytest.mark.slow
def test_custom_agent_from_outside_the_package(tmp_path: Path) -> None:
    """examples/my_agents is not installed: it is found on PYTHONPATH by its `_target_`."""
    run_dir = tmp_path / "run"
    result = run_train(
        [
            f"hydra.searchpath=[file://{REPO / 'examples' / 'configs'}]",
            "agent=tabular",
            "scenario=toy",
            "training=smoke",
            "total_timesteps=400",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
        # examples first, then whatever path already picks this checkout's packages
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(REPO / "examples"), os.environ.get("PYTHONPATH")])
        ),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    sys.path.insert(0, str(REPO / "examples"))
    try:
        config = check_run_dir(run_dir, 400)
    finally:
        sys.path.remove(str(REPO / "examples"))
    assert config.agent.model["_target_"] == "my_agents.tabular.TabularQAgent"
    assert "my_agents" not in {path.name for path in (REPO / "agents").iterdir()}
