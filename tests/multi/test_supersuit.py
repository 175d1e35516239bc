"""SuperSuit runs the ParallelEnv (``pettingzoo_env_to_vec_env_v1`` + ``concat_vec_envs_v1``),
row for row as the batched multi-agent VecEnv does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from stable_baselines3 import PPO

from lepton_env.multi import LeptonMultiVecEnv, parallel_env

ss = pytest.importorskip(
    "supersuit", reason="SuperSuit is in the optional extra: pip install 'lepton-env[multi]'"
)

# SuperSuit 3.11's vectorization needs every agent present until the episode ends
# (its black_death wrapper never ends an episode on truncation: SuperSuit PR #265).
# Row for row against the batched VecEnv (whose bankrupt rows end their episode), these
# worlds have no bankruptcy under random play (a credit line no firm exhausts); the
# default worlds run with bankrupt_firms="stay" (the README's recipe), tested below.
NO_BANKRUPTCY = {"credit_line": 1e9}
# (scenario, overrides, steps): the steps take every env through a reset
CASES: list[tuple[str, dict[str, Any], int]] = [
    ("toy", {}, 12),
    ("duel_toy", NO_BANKRUPTCY, 12),
    ("race", NO_BANKRUPTCY, 42),
]


@pytest.mark.parametrize(("scenario", "overrides", "steps"), CASES)
def test_supersuit_vectorization_equals_the_batched_vec_env(
    scenario: str, overrides: dict[str, Any], steps: int
) -> None:
    copies, seed = 3, 5
    markov = ss.pettingzoo_env_to_vec_env_v1(parallel_env(scenario, **overrides))
    theirs = ss.concat_vec_envs_v1(markov, copies, num_cpus=0, base_class="gymnasium")
    ours = LeptonMultiVecEnv(copies, scenario, **overrides)
    ours.seed(seed)
    observation, _ = theirs.reset(seed=seed)
    np.testing.assert_array_equal(observation, ours.reset())
    theirs.action_space.seed(seed)
    dones = 0
    for _ in range(steps):
        # SuperSuit's action_space is one row's
        actions = np.stack([theirs.action_space.sample() for _ in range(theirs.num_envs)])
        observation, rewards, terminations, truncations, _ = theirs.step(actions)
        mine = ours.step(actions)
        np.testing.assert_array_equal(observation, mine[0])
        np.testing.assert_array_equal(rewards, mine[1])
        np.testing.assert_array_equal(terminations | truncations, mine[2])
        dones += int(mine[2].sum())
    assert dones >= copies  # every env went through a reset


def test_sb3_trains_on_the_supersuit_vectorization() -> None:
    markov = ss.pettingzoo_env_to_vec_env_v1(parallel_env("toy"))
    venv = ss.concat_vec_envs_v1(markov, 2, num_cpus=0, base_class="stable_baselines3")
    model = PPO(
        "MlpPolicy", venv, n_steps=8, batch_size=16, n_epochs=1, policy_kwargs={"net_arch": [8]}
    )
    model.learn(16)
    assert model.num_timesteps == 16


@pytest.mark.parametrize("scenario", ["race", "duel_toy"])
def test_supersuit_runs_the_default_worlds_with_bankrupt_firms_staying(scenario: str) -> None:
    """The README's recipe: firms go bankrupt under random play, every row plays to the end."""
    copies = 2
    markov = ss.pettingzoo_env_to_vec_env_v1(parallel_env(scenario, bankrupt_firms="stay"))
    venv = ss.concat_vec_envs_v1(markov, copies, num_cpus=0, base_class="gymnasium")
    venv.reset(seed=3)
    venv.action_space.seed(3)
    horizon = parallel_env(scenario).params.horizon
    bankrupt = np.zeros(venv.num_envs, dtype=bool)
    after_bankruptcy: list[float] = []
    episodes = 0
    for quarter in range(2 * horizon):
        actions = np.stack([venv.action_space.sample() for _ in range(venv.num_envs)])
        _, rewards, terminations, truncations, infos = venv.step(actions)
        dones = (terminations | truncations).astype(bool)  # SuperSuit's are uint8
        after_bankruptcy.extend(rewards[bankrupt & ~dones].tolist())
        # the firms of one env end together: at the horizon, or when every one is out
        by_env = dones.reshape(copies, -1)
        assert (by_env.all(axis=1) | ~by_env.any(axis=1)).all(), f"quarter {quarter}: {dones}"
        episodes += int(by_env.all(axis=1).sum())
        bankrupt = np.array([info.get("bankrupt", False) for info in infos]) & ~dones
    assert episodes >= copies
    assert after_bankruptcy, "no firm went bankrupt: the recipe was not exercised"
    assert set(after_bankruptcy) == {0.0}  # inert: the frozen firm earns nothing
