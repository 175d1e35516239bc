"""agents/training/factory.py: the run's VecEnv, the horizon the episode's end for the learner."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from lepton_env.agents.training.factory import HorizonTerminal, make_vec_env
from lepton_env.experiments.schema import TrainConfig, validate

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def toy_config(horizon_terminal: bool) -> TrainConfig:
    overrides = [
        "experiment=toy_maskable_ppo",
        "env.num_envs=2",
        f"env.horizon_terminal={str(horizon_terminal).lower()}",
    ]
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        return validate(compose("train", overrides=overrides, return_hydra_config=True))


@pytest.mark.parametrize("horizon_terminal", [False, True])
def test_the_horizon_is_a_truncation_unless_horizon_terminal(horizon_terminal: bool) -> None:
    venv = make_vec_env(toy_config(horizon_terminal), seed=0)
    assert isinstance(venv, HorizonTerminal) is horizon_terminal
    venv.reset()
    for quarter in range(5):  # toy's horizon: five quarters of "pass"
        _, _, dones, infos = venv.step(np.zeros(2, dtype=np.int64))
        assert dones.tolist() == [quarter == 4] * 2
    assert [info["TimeLimit.truncated"] for info in infos] == [not horizon_terminal] * 2
    assert all("terminal_observation" in info for info in infos)
    venv.close()


@pytest.mark.parametrize("horizon_terminal", [False, True])
def test_ppo_bootstraps_past_the_horizon_only_without_horizon_terminal(
    horizon_terminal: bool,
) -> None:
    """SB3 adds gamma V(s_T) to the last reward of a truncated episode; with the
    wrapper the rollout holds the env's own rewards (replayed on a single toy env)."""
    from stable_baselines3 import PPO

    venv = make_vec_env(toy_config(horizon_terminal), seed=0, num_envs=1)
    model = PPO("MlpPolicy", venv, n_steps=5, batch_size=5, n_epochs=1, gamma=1.0, seed=0)
    model.learn(5)
    actions = model.rollout_buffer.actions.reshape(5).astype(np.int64)
    learned = model.rollout_buffer.rewards[:, 0]
    env = gym.make("LeptonExpansion-Single-v0", scenario="toy")
    env.reset(seed=0)
    own = np.array([env.step(int(action))[1] for action in actions])
    assert learned[:4] == pytest.approx(own[:4], abs=1e-6)
    assert bool(learned[4] == pytest.approx(own[4], abs=1e-6)) is horizon_terminal
