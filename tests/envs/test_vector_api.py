"""API conformance of the vector faces: registration, SB3 VecEnv surface, errors, training."""

from __future__ import annotations

import warnings
import weakref

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor, VecNormalize

import lepton_env
from lepton_env.envs.expansion import LeptonExpansionEnv
from lepton_env.envs.sb3_vec import LeptonExpansionVecEnv
from lepton_env.envs.vector import LeptonExpansionVectorEnv


@pytest.mark.parametrize("env_id", sorted(lepton_env.ENV_IDS))
def test_make_vec_uses_the_vector_entry_point(env_id: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        env = gym.make_vec(
            env_id, num_envs=5, vectorization_mode="vector_entry_point", scenario="toy"
        )
    assert isinstance(env, LeptonExpansionVectorEnv)
    assert env.metadata["autoreset_mode"] is AutoresetMode.NEXT_STEP
    single = gym.make(env_id, scenario="toy")
    assert env.single_action_space == single.action_space
    assert env.single_observation_space == single.observation_space
    observations, _ = env.reset(seed=1)
    assert observations in env.observation_space
    step = env.step(env.action_space.sample())
    assert step[0].shape == (5, *single.observation_space.shape)


def test_factory_gives_either_face() -> None:
    sb3 = lepton_env.make_vec_env("LeptonExpansion-Single-v0", 3, scenario="toy", seed=2)
    gymnasium_face = lepton_env.make_vec_env(
        "LeptonExpansion-Single-v0", 3, face="gymnasium", scenario="toy"
    )
    assert isinstance(sb3, LeptonExpansionVecEnv)
    assert isinstance(gymnasium_face, LeptonExpansionVectorEnv)
    np.testing.assert_array_equal(sb3.reset(), gymnasium_face.reset(seed=2)[0])
    with pytest.raises(ValueError, match="env_id"):
        lepton_env.make_vec_env("CartPole-v1", 2)
    with pytest.raises(ValueError, match="face"):
        lepton_env.make_vec_env(num_envs=2, face="ray")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reset\\(seed"):
        lepton_env.make_vec_env(num_envs=2, face="gymnasium", seed=0)


@pytest.mark.parametrize("num_envs", [0, -3, 2.5, True])
def test_bad_num_envs_is_rejected(num_envs: object) -> None:
    with pytest.raises((ValueError, TypeError), match="num_envs"):
        LeptonExpansionVectorEnv(num_envs, "toy")  # type: ignore[arg-type]


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(ValueError, match="autoreset_mode"):
        LeptonExpansionVectorEnv(2, "toy", autoreset_mode="Disabled")
    with pytest.raises(ValueError, match=r"seed\[1\] = -1"):
        LeptonExpansionVectorEnv(2, "toy").reset(seed=[0, -1])
    with pytest.raises(ValueError, match="seed has 3 entries"):
        LeptonExpansionVectorEnv(2, "toy").reset(seed=[0, 1, 2])
    venv = LeptonExpansionVecEnv(2, "toy")
    venv.reset()
    with pytest.raises(ValueError, match="num_envs = 2"):
        venv.step(np.zeros((3, 4), dtype=np.int64))
    with pytest.raises(lepton_env.ActionError):
        venv.step(np.full((2, 4), 99, dtype=np.int64))
    with pytest.raises(lepton_env.ParamsError, match="horizon"):
        LeptonExpansionVecEnv(2, "toy", horizon=-1)


def test_sb3_attribute_and_method_surface() -> None:
    venv = LeptonExpansionVecEnv(4, "toy")
    venv.reset()
    assert venv.get_attr("action_mode") == ["multi_discrete"] * 4
    assert venv.get_attr("render_mode", indices=[1, 2]) == [None, None]
    assert venv.has_attr("action_masks")
    assert not venv.has_attr("no_such_attribute")
    masks = venv.env_method("action_masks", indices=[0, 3])
    np.testing.assert_array_equal(np.stack(masks), venv.action_masks()[[0, 3]])
    assert venv.env_is_wrapped(Monitor) == [True] * 4
    assert venv.env_is_wrapped(VecNormalize) == [False] * 4  # type: ignore[arg-type]
    venv.set_attr("invalid_action", "raise")
    assert venv.get_attr("invalid_action") == ["raise"] * 4
    with pytest.raises(ValueError, match="every env"):
        venv.set_attr("invalid_action", "noop", indices=[0])
    with pytest.raises(AttributeError, match="settable"):
        venv.set_attr("params", None)
    with pytest.raises(AttributeError, match="available methods"):
        venv.env_method("step", 0)
    state = venv.get_attr("state", indices=2)[0]
    assert state.batch_size == 1 and state.cash[0] == venv.batch.state.cash[2]


def test_invalid_action_raise_mode_applies_to_the_batch() -> None:
    venv = LeptonExpansionVecEnv(2, "toy", invalid_action="raise")
    venv.reset()
    masks = venv.action_masks()
    exit_move = 5
    home = venv.batch.params.home_region
    assert not masks[0, home * 10 + exit_move]
    actions = np.zeros((2, 4), dtype=np.int64)
    actions[1, home] = exit_move
    with pytest.raises(lepton_env.ActionError):
        venv.step(actions)


def test_episode_statistics_match_vec_monitor_over_dummy_vec_env() -> None:
    n, seed = 3, 8
    ours = LeptonExpansionVecEnv(n, "toy")
    theirs = VecMonitor(DummyVecEnv([lambda: LeptonExpansionEnv("toy") for _ in range(n)]))
    ours.seed(seed)
    theirs.seed(seed)
    np.testing.assert_array_equal(ours.reset(), theirs.reset())
    rng = np.random.default_rng(0)
    episodes = 0
    for _ in range(12):
        actions = rng.integers(0, [10, 10, 10, 2], size=(n, 4))
        obs_a, rew_a, done_a, info_a = ours.step(actions)
        obs_b, rew_b, done_b, info_b = theirs.step(actions)
        np.testing.assert_array_equal(obs_a, obs_b)
        np.testing.assert_array_equal(rew_a, rew_b)
        np.testing.assert_array_equal(done_a, done_b)
        for i in np.flatnonzero(done_a):
            episodes += 1
            for key in ("r", "l"):
                assert info_a[i]["episode"][key] == info_b[i]["episode"][key]
                assert type(info_a[i]["episode"][key]) is type(info_b[i]["episode"][key])
            np.testing.assert_array_equal(
                info_a[i]["terminal_observation"], info_b[i]["terminal_observation"]
            )
    assert episodes >= n


def test_dict_observations_match_the_single_env() -> None:
    n, seed = 3, 21
    gym_face = LeptonExpansionVectorEnv(
        n, "procedural", observation_mode="dict", autoreset_mode="SameStep", horizon=3
    )
    sb3_face = LeptonExpansionVecEnv(n, "procedural", observation_mode="dict", horizon=3)
    singles = [
        LeptonExpansionEnv("procedural", observation_mode="dict", horizon=3) for _ in range(n)
    ]
    observations, _ = gym_face.reset(seed=seed)
    sb3_face.seed(seed)
    sb3_observations = sb3_face.reset()
    for i, env in enumerate(singles):
        obs, _ = env.reset(seed=seed + i)
        for key, value in obs.items():
            np.testing.assert_array_equal(observations[key][i], value)
            np.testing.assert_array_equal(sb3_observations[key][i], value)
    for _ in range(5):
        actions = np.zeros((n, singles[0].action_space.shape[0]), dtype=np.int64)
        observations, *_, infos = gym_face.step(actions)
        sb3_observations, _, _, sb3_infos = sb3_face.step(actions)
        for i, env in enumerate(singles):
            obs, _, term, trunc, _ = env.step(actions[i])
            if term or trunc:
                for key, value in obs.items():
                    np.testing.assert_array_equal(infos["final_obs"][i][key], value)
                    np.testing.assert_array_equal(sb3_infos[i]["terminal_observation"][key], value)
                obs, _ = env.reset()
            for key, value in obs.items():
                np.testing.assert_array_equal(observations[key][i], value)
                np.testing.assert_array_equal(sb3_observations[key][i], value)


def test_reset_mask_resets_only_the_masked_envs() -> None:
    env = LeptonExpansionVectorEnv(3, "toy")
    env.reset(seed=0)
    env.step(np.ones((3, 4), dtype=np.int64))
    before = env.batch.state
    assert before is not None
    quarters = before.quarter.copy()
    env.reset(options={"reset_mask": np.array([False, True, False])})
    after = env.batch.state
    assert after is not None
    np.testing.assert_array_equal(after.quarter, [quarters[0], 0, quarters[2]])


def test_ppo_and_maskable_ppo_train_on_the_vec_env() -> None:
    venv = lepton_env.make_vec_env("LeptonExpansion-v0", 8, scenario="toy", seed=0)
    policy_kwargs = {"net_arch": [16]}
    ppo = PPO("MlpPolicy", venv, n_steps=8, batch_size=32, n_epochs=1, policy_kwargs=policy_kwargs)
    ppo.learn(64)
    assert ppo.num_timesteps == 64
    assert len(ppo.ep_info_buffer) > 0  # episode statistics reached SB3 without VecMonitor
    masked = MaskablePPO(
        "MlpPolicy", venv, n_steps=8, batch_size=32, n_epochs=1, policy_kwargs=policy_kwargs
    )
    masked.learn(64)
    rewards, lengths = evaluate_policy(masked, venv, n_eval_episodes=4, return_episode_rewards=True)
    assert len(rewards) == 4 and all(length == venv.batch.params.horizon for length in lengths)


@pytest.mark.parametrize("autoreset", ["NextStep", "SameStep"])
def test_gymnasium_record_episode_statistics_counts_whole_episodes(autoreset: str) -> None:
    """Gymnasium's vector wrappers read the declared autoreset mode and see whole episodes."""
    from gymnasium.wrappers.vector import RecordEpisodeStatistics

    env = RecordEpisodeStatistics(LeptonExpansionVectorEnv(4, "toy", autoreset_mode=autoreset))
    env.reset(seed=3)
    totals = np.zeros(4)
    recorded = []
    for _ in range(12):
        _, rewards, terminated, truncated, infos = env.step(np.zeros((4, 4), dtype=np.int64))
        totals += rewards
        done = terminated | truncated
        if done.any():
            recorded.extend(infos["episode"]["r"][done])
            np.testing.assert_allclose(infos["episode"]["r"][done], totals[done])
            np.testing.assert_array_equal(infos["episode"]["l"][done], 5)
            totals[done] = 0.0
    assert len(recorded) >= 8


def _address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


@pytest.mark.parametrize("autoreset_mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_a_held_observation_is_never_rewritten(autoreset_mode: AutoresetMode) -> None:
    # toy's 5-quarter horizon makes every episode end (and autoreset) within the loop
    env = LeptonExpansionVectorEnv(6, "toy", autoreset_mode=autoreset_mode)
    held, _ = env.reset(seed=3)
    env.action_space.seed(3)
    for _ in range(12):
        snapshot = held.copy()
        masks = env.action_masks()
        mask_snapshot = masks.copy()
        observation = env.step(env.action_space.sample())[0]
        np.testing.assert_array_equal(held, snapshot)
        np.testing.assert_array_equal(masks, mask_snapshot)
        assert not np.shares_memory(observation, held)
        held = observation


def test_an_observation_nobody_holds_is_rewritten_in_place() -> None:
    # what keeps the batch's memory at one state and one observation buffer
    env = LeptonExpansionVectorEnv(6, "toy")
    env.reset(seed=0)
    env.action_space.seed(0)
    first = _address(env.step(env.action_space.sample())[0])
    for _ in range(8):  # through autoresets
        assert _address(env.step(env.action_space.sample())[0]) == first


def test_sb3_face_keeps_the_last_observation_it_returned() -> None:
    # SB3's collect_rollouts stores self._last_obs after the step that follows it
    env = LeptonExpansionVecEnv(4, "toy")
    env.seed(1)
    env.action_space.seed(1)
    last = env.reset()
    for _ in range(10):
        snapshot = last.copy()
        env.step_async(np.array([env.action_space.sample() for _ in range(4)]))
        new, _, _, _ = env.step_wait()
        np.testing.assert_array_equal(last, snapshot)
        last = new


def test_a_loop_that_holds_the_last_observation_alternates_two_buffers() -> None:
    # obs = env.step(policy(obs)): the last observation is held while the next step runs
    env = LeptonExpansionVectorEnv(6, "toy")
    observation, _ = env.reset(seed=0)
    env.action_space.seed(0)
    buffers = []
    for _ in range(12):  # through autoresets
        observation = env.step(env.action_space.sample())[0]
        if len(buffers) < 2:
            buffers.append(weakref.ref(observation))
        else:
            assert any(observation is buffer() for buffer in buffers)
