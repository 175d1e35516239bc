"""The vector faces equal n single envs bit for bit: observations, rewards, flags, KPIs, resets.

Each sub-env ``i`` is driven by its own action stream (a generator seeded from
the test seed and ``i``), choosing among the actions its own mask allows
(masked streams) or from the whole space (unmasked), so a vector env and n
single envs receive the same actions exactly when their states agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lepton_env.envs.expansion import LeptonExpansionEnv
from lepton_env.envs.sb3_vec import LeptonExpansionVecEnv
from lepton_env.envs.vector import LeptonExpansionVectorEnv

# Short horizons so that every run crosses several autoresets.
SCENARIOS = {"toy": {}, "toy_pilot": {}, "global": {"horizon": 6}, "procedural": {"horizon": 7}}
STREAMS = ("masked", "unmasked")
ACTION_MODES = ("multi_discrete", "discrete", "continuous")


class Policy:
    """Action stream of one sub-env: masked or unmasked random choices."""

    def __init__(self, env: LeptonExpansionEnv, seed: int, index: int, stream: str) -> None:
        self.rng = np.random.default_rng([seed, index])
        self.space = env.action_space
        self.stream = stream
        self.mode = env.action_mode

    def __call__(self, mask: np.ndarray) -> Any:
        if self.mode == "continuous" or self.stream == "unmasked":
            if self.mode == "continuous":
                return self.rng.uniform(-1, 1, self.space.shape).astype(np.float32)
            if self.mode == "discrete":
                return int(self.rng.integers(self.space.n))
            return self.rng.integers(0, self.space.nvec).astype(np.int64)
        if self.mode == "discrete":
            return int(self.rng.choice(np.flatnonzero(mask)))
        offsets = np.concatenate([[0], np.cumsum(self.space.nvec)[:-1]])
        return np.array(
            [
                self.rng.choice(np.flatnonzero(mask[o : o + n]))
                for o, n in zip(offsets, self.space.nvec, strict=True)
            ],
            dtype=np.int64,
        )


def assert_info_row(vector_infos: dict[str, Any], row: int, single: dict[str, Any]) -> None:
    """Every KPI of a single env's info equals row ``row`` of the batched infos."""
    for name, value in single.items():
        if name == "reward_components":
            for part, amount in value.items():
                assert vector_infos[name][part][row] == amount, part
        else:
            np.testing.assert_array_equal(vector_infos[name][row], value, err_msg=name)
            assert np.asarray(vector_infos[name][row]).dtype == np.asarray(value).dtype or (
                np.isscalar(value)
            ), name


def make_singles(
    n: int, scenario: str, action_mode: str, stream: str, seed: int
) -> tuple[list[LeptonExpansionEnv], list[Policy]]:
    kwargs = SCENARIOS[scenario]
    envs = [LeptonExpansionEnv(scenario, action_mode=action_mode, **kwargs) for _ in range(n)]
    return envs, [Policy(env, seed, i, stream) for i, env in enumerate(envs)]


def run_gymnasium(
    n: int, scenario: str, action_mode: str, stream: str, seed: int, autoreset: str, steps: int
) -> None:
    """A Gymnasium vector env against n single envs driven with the same convention."""
    singles, policies = make_singles(n, scenario, action_mode, stream, seed)
    vector = LeptonExpansionVectorEnv(
        n, scenario, action_mode=action_mode, autoreset_mode=autoreset, **SCENARIOS[scenario]
    )
    observations, infos = vector.reset(seed=seed)
    for i, env in enumerate(singles):
        obs, info = env.reset(seed=seed + i)
        np.testing.assert_array_equal(observations[i], obs)
        np.testing.assert_array_equal(infos["action_mask"][i], info["action_mask"])
    pending = np.zeros(n, dtype=bool)
    for _ in range(steps):
        masks = vector.action_masks()
        actions = [policies[i](masks[i]) for i in range(n)]
        observations, rewards, terminated, truncated, infos = vector.step(np.stack(actions))
        for i, env in enumerate(singles):
            np.testing.assert_array_equal(masks[i], env.action_masks())
            if autoreset == "NextStep" and pending[i]:
                obs, _ = env.reset()
                reward, term, trunc = 0.0, False, False
                assert not infos["_revenue"][i]
            else:
                obs, reward, term, trunc, info = env.step(actions[i])
                assert_info_row(infos, i, info)
                if autoreset == "SameStep" and (term or trunc):
                    np.testing.assert_array_equal(infos["final_obs"][i], obs)
                    assert_info_row(infos["final_info"], i, info)
                    obs, _ = env.reset()
            np.testing.assert_array_equal(observations[i], obs)
            assert rewards[i] == reward and isinstance(rewards[i], np.float64)
            assert (terminated[i], truncated[i]) == (term, trunc)
        pending = terminated | truncated


def run_sb3(n: int, scenario: str, action_mode: str, stream: str, seed: int, steps: int) -> int:
    """The SB3 VecEnv against n single envs stepped as ``DummyVecEnv`` steps them."""
    singles, policies = make_singles(n, scenario, action_mode, stream, seed)
    venv = LeptonExpansionVecEnv(n, scenario, action_mode=action_mode, **SCENARIOS[scenario])
    venv.seed(seed)
    observations = venv.reset()
    for i, env in enumerate(singles):
        np.testing.assert_array_equal(observations[i], env.reset(seed=seed + i)[0])
    returns = np.zeros(n, dtype=np.float32)
    lengths = np.zeros(n, dtype=np.int32)
    finished = 0
    for _ in range(steps):
        masks = np.stack(venv.env_method("action_masks"))
        actions = [policies[i](masks[i]) for i in range(n)]
        observations, rewards, dones, infos = venv.step(np.stack(actions))
        for i, env in enumerate(singles):
            np.testing.assert_array_equal(masks[i], env.action_masks())
            obs, reward, term, trunc, info = env.step(actions[i])
            assert_info_row(venv.kpis, i, info)
            assert rewards[i] == np.float32(reward)
            assert dones[i] == (term or trunc)
            returns[i] += np.float32(reward)
            lengths[i] += 1
            if term or trunc:
                finished += 1
                np.testing.assert_array_equal(infos[i]["terminal_observation"], obs)
                assert infos[i]["TimeLimit.truncated"] == (trunc and not term)
                assert infos[i]["episode"]["r"] == returns[i]
                assert infos[i]["episode"]["l"] == lengths[i]
                for name, value in info.items():
                    if name != "reward_components":
                        np.testing.assert_array_equal(infos[i][name], value, err_msg=name)
                assert infos[i]["reward_components"] == info["reward_components"]
                obs, _ = env.reset()
                returns[i], lengths[i] = 0.0, 0
            else:
                assert infos[i] == {}
            np.testing.assert_array_equal(observations[i], obs)
    return finished


@pytest.mark.parametrize("autoreset", ["NextStep", "SameStep"])
def test_gymnasium_vector_equals_64_single_envs(autoreset: str) -> None:
    run_gymnasium(64, "procedural", "multi_discrete", "masked", 11, autoreset, steps=9)


def test_sb3_vec_env_equals_64_single_envs() -> None:
    assert run_sb3(64, "global", "multi_discrete", "unmasked", 5, steps=8) >= 64


@settings(max_examples=5)
@given(
    n=st.sampled_from([1, 7]),
    scenario=st.sampled_from(sorted(SCENARIOS)),
    action_mode=st.sampled_from(ACTION_MODES),
    stream=st.sampled_from(STREAMS),
    seed=st.integers(0, 2**31 - 64),
    autoreset=st.sampled_from(["NextStep", "SameStep"]),
)
def test_gymnasium_vector_equals_single_envs(
    n: int, scenario: str, action_mode: str, stream: str, seed: int, autoreset: str
) -> None:
    run_gymnasium(n, scenario, action_mode, stream, seed, autoreset, steps=12)


@settings(max_examples=5)
@given(
    n=st.sampled_from([1, 7]),
    scenario=st.sampled_from(sorted(SCENARIOS)),
    action_mode=st.sampled_from(ACTION_MODES),
    stream=st.sampled_from(STREAMS),
    seed=st.integers(0, 2**31 - 64),
)
def test_sb3_vec_env_equals_single_envs(
    n: int, scenario: str, action_mode: str, stream: str, seed: int
) -> None:
    assert run_sb3(n, scenario, action_mode, stream, seed, steps=12) >= n


def test_unseeded_resets_continue_each_env_s_episode_chain() -> None:
    """After a seeded reset, unseeded resets follow the single env's key chain per sub-env."""
    n, seed = 3, 40
    vector = LeptonExpansionVectorEnv(n, "toy")
    singles = [LeptonExpansionEnv("toy") for _ in range(n)]
    vector.reset(seed=seed)
    for i, env in enumerate(singles):
        env.reset(seed=seed + i)
    for _ in range(3):
        observations, _ = vector.reset()
        for i, env in enumerate(singles):
            np.testing.assert_array_equal(observations[i], env.reset()[0])
