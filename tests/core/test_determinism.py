"""Determinism: the same seed gives the same trajectory; a batch of n equals n singles."""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import pytest

import lepton_env
from lepton_env import make_params, rng
from lepton_env.core import Action, Model
from lepton_env.state import State

STOCHASTIC = {"scenario": "procedural", "noise": 1.0, "difficulty": 1.0, "num_regions": 5}


def _rollout(env: gym.Env, seed: int, steps: int) -> list[tuple]:
    observation, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    record: list[tuple] = [("reset", np.asarray(observation).tobytes())]
    for _ in range(steps):
        action = env.action_space.sample()
        observation, reward, terminated, truncated, info = env.step(action)
        record.append(
            (np.asarray(observation).tobytes(), reward, terminated, truncated, info["cash"])
        )
        if terminated or truncated:
            break
    return record


def _states_equal(first: State, second: State) -> None:
    for field in dataclasses.fields(State):
        np.testing.assert_array_equal(
            getattr(first, field.name), getattr(second, field.name), err_msg=field.name
        )


@pytest.mark.parametrize("env_id", sorted(lepton_env.ENV_IDS))
def test_same_seed_same_trajectory(env_id: str) -> None:
    env = gym.make(env_id, **STOCHASTIC)
    first = _rollout(env, seed=11, steps=25)
    other = _rollout(env, seed=12, steps=25)
    again = _rollout(gym.make(env_id, **STOCHASTIC), seed=11, steps=25)
    assert first == again
    assert first != other


def test_unseeded_reset_continues_the_episode_key_chain() -> None:
    env = gym.make("LeptonExpansion-v0", **STOCHASTIC).unwrapped
    env.reset(seed=5)
    key = rng.episode_key(np.array([5]), env.params.seed_offset)
    for _ in range(3):
        env.reset()
        key = rng.next_episode_key(key)
        np.testing.assert_array_equal(env.state.episode_key, key)


def test_test_split_offsets_every_seed() -> None:
    train = gym.make("LeptonExpansion-v0", **STOCHASTIC).unwrapped
    test = gym.make("LeptonExpansion-v0", **STOCHASTIC, split="test").unwrapped
    train.reset(seed=0)
    test.reset(seed=0)
    assert train.state.episode_key[0] != test.state.episode_key[0]
    np.testing.assert_array_equal(test.state.episode_key, rng.episode_key(np.array([2**40])))


def _random_action(draw: np.random.Generator, batch: int, regions: int) -> Action:
    def intensity() -> np.ndarray:
        return draw.random((batch, regions)).astype(np.float32)

    rnd = np.where(draw.random(batch) < 0.5, np.nan, draw.random(batch)).astype(np.float32)
    moves = draw.integers(0, 10, (batch, regions)).astype(np.int8)
    return Action(moves, intensity(), intensity(), intensity(), rnd)


@pytest.mark.parametrize("scenario", [STOCHASTIC, {"scenario": "global"}])
def test_batch_of_n_equals_n_singles(scenario: dict) -> None:
    options = {k: v for k, v in scenario.items() if k != "scenario"}
    model = Model(make_params(scenario["scenario"], **options))
    seeds = np.array([0, 1, 2, 3, 1000, 2**31])
    keys = rng.episode_key(seeds)
    batch = model.reset(keys)
    singles = [model.reset(keys[i : i + 1]) for i in range(len(seeds))]
    for i, single in enumerate(singles):
        _states_equal(batch.take(np.array([i])), single)
    draw = np.random.default_rng(0)
    for _ in range(model.params.horizon):
        action = _random_action(draw, len(seeds), model.params.num_regions)
        out = model.step(batch, action)
        for i in range(len(seeds)):
            row = Action(*(getattr(action, f.name)[i : i + 1] for f in dataclasses.fields(Action)))
            alone = model.step(singles[i], row)
            _states_equal(out.state.take(np.array([i])), alone.state)
            assert out.reward[i] == alone.reward[0]
            for name, value in out.kpis.items():
                np.testing.assert_array_equal(value[i], alone.kpis[name][0], err_msg=name)
            singles[i] = alone.state
        batch = out.state


def test_single_envs_equal_one_model_batch() -> None:
    """n Gymnasium envs seeded s_i follow the rows of one core batch keyed by the same seeds."""
    seeds = [3, 4, 5]
    envs = [gym.make("LeptonExpansion-v0", **STOCHASTIC).unwrapped for _ in seeds]
    for env, seed in zip(envs, seeds, strict=True):
        env.reset(seed=seed)
    model = envs[0].model
    batch = model.reset(rng.episode_key(np.array(seeds), model.params.seed_offset))
    draw = np.random.default_rng(1)
    space = envs[0].action_space
    for _ in range(20):
        actions = draw.integers(0, space.nvec, (len(seeds), len(space.nvec)))
        output = model.step(batch, envs[0].actions.decode(actions))
        batch = output.state
        for i, env in enumerate(envs):
            _, reward, *_ = env.step(actions[i])
            assert reward == output.reward[i]
            _states_equal(env.state, batch.take(np.array([i])))
