"""The region-shared policy: symmetric in the regions, blind to their count, masked, trainable."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
import yaml
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO

import lepton_env  # noqa: F401  (registers the env ids)
from lepton_env.agents.comparison.evaluation import load_model
from lepton_env.agents.training.factory import load_agent, make_vec_env
from lepton_env.agents.training.policies import MASKED_LOGIT
from lepton_env.agents.training.shared_policy import RegionLayout, RegionSharedPolicy
from lepton_env.agents.training.targets import check_targets, policy_class
from lepton_env.experiments.schema import validate
from lepton_env.features import FIRM_FEATURES, REGION_FEATURES
from tests.experiments.test_train_smoke import run_train

POLICY_PATH = "lepton_env.agents.training.shared_policy.RegionSharedPolicy"
TINY = {"net_arch": [16, 16]}


def _policy(env: gym.Env, seed: int = 0, **kwargs: object) -> RegionSharedPolicy:
    torch.manual_seed(seed)
    return RegionSharedPolicy(
        env.observation_space, env.action_space, lambda _: 1e-3, **{**TINY, **kwargs}
    )


def _observations(env: gym.Env, count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``count`` observations and masks met along random valid play (flat face)."""
    rows, masks = [], []
    observation, _ = env.reset(seed=seed)
    generator = np.random.default_rng(seed)
    nvec = env.action_space.nvec
    starts = np.cumsum([0, *nvec[:-1]])
    for _ in range(count):
        mask = env.unwrapped.action_masks()
        rows.append(observation)
        masks.append(mask)
        action = [
            generator.choice(np.flatnonzero(mask[start : start + size]))
            for start, size in zip(starts, nvec, strict=True)
        ]
        observation, _, terminated, truncated, _ = env.step(np.array(action))
        if terminated or truncated:
            observation, _ = env.reset()
    return np.stack(rows), np.stack(masks)


def _heads(
    policy: RegionSharedPolicy, observations: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(move logits (B, R, moves), R&D logits (B, L), value (B,))``."""
    with torch.no_grad():
        tensor = torch.as_tensor(observations)
        features = policy.extract_features(tensor)
        moves, rnd = policy.mlp_extractor.heads(features)
        return moves, rnd, policy.predict_values(tensor)[:, 0]


def _permuted(observations: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The flat observations with the regions in ``order``, a permutation or with repeats
    (the firm's features unchanged)."""
    width = observations.shape[1] - len(FIRM_FEATURES)
    regions = width // len(REGION_FEATURES)
    table = observations[:, :width].reshape(len(observations), regions, -1)[:, order]
    return np.concatenate([table.reshape(len(observations), -1), observations[:, width:]], 1)


def test_the_layout_is_read_from_the_spaces() -> None:
    env = gym.make("LeptonExpansion-v0", scenario="global")
    layout = RegionLayout.from_spaces(env.observation_space, env.action_space)
    regions = env.unwrapped.params.num_regions
    assert (layout.regions, layout.firms, layout.moves) == (regions, 1, 10)
    dict_env = gym.make("LeptonExpansion-v0", scenario="global", observation_mode="dict")
    assert RegionLayout.from_spaces(dict_env.observation_space, dict_env.action_space) == layout
    single = gym.make("LeptonExpansion-Single-v0", scenario="global")
    with pytest.raises(ValueError, match="MultiDiscrete face"):
        RegionLayout.from_spaces(single.observation_space, single.action_space)
    shorter = spaces.MultiDiscrete([10] * (regions - 1) + [layout.rnd_levels])
    with pytest.raises(ValueError, match="fits no layout"):
        RegionLayout.from_spaces(env.observation_space, shorter)


def test_permuting_the_regions_permutes_their_logits_only() -> None:
    env = gym.make("LeptonExpansion-v0", scenario="global")
    policy = _policy(env)
    observations, _ = _observations(env, 48)
    order = np.random.default_rng(1).permutation(policy.layout.regions)
    moves, rnd, value = _heads(policy, observations)
    moves_p, rnd_p, value_p = _heads(policy, _permuted(observations, order))
    torch.testing.assert_close(moves_p, moves[:, order], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(rnd_p, rnd, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(value_p, value, atol=1e-5, rtol=1e-5)
    # Not trivially so: the regions' logits differ from one another.
    assert (moves.std(1) > 1e-4).any()


def test_the_same_weights_play_worlds_of_two_sizes() -> None:
    small = gym.make("LeptonExpansion-v0", scenario="procedural", num_regions=4)
    large = gym.make("LeptonExpansion-v0", scenario="procedural", num_regions=8)
    trained = _policy(small, seed=0)
    other = _policy(large, seed=1)
    other.load_state_dict(trained.state_dict())  # no weight depends on the region count
    # Each region of the small world twice: mean and max pooling see the same set, so the
    # R&D logits and the value are unchanged and each region's logits appear twice.
    observations, _ = _observations(small, 24)
    doubled = _permuted(observations, np.repeat(np.arange(4), 2))
    moves, rnd, value = _heads(trained, observations)
    moves_2, rnd_2, value_2 = _heads(other, doubled)
    torch.testing.assert_close(moves_2, moves.repeat_interleave(2, dim=1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(rnd_2, rnd, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(value_2, value, atol=1e-5, rtol=1e-5)
    # And the large world's own observations, with its own masks.
    observations, masks = _observations(large, 8)
    actions, _ = other.predict(observations, action_masks=masks)
    assert actions.shape == (8, 9)
    assert all(large.action_space.contains(action) for action in actions)


def test_masked_moves_get_probability_zero() -> None:
    env = gym.make("LeptonExpansion-v0", scenario="global")
    policy = _policy(env)
    observations, masks = _observations(env, 32, seed=4)
    assert not masks.all()  # some moves are masked in these states
    with torch.no_grad():
        distribution = policy.get_distribution(torch.as_tensor(observations), masks)
        log_pi = distribution._log_probs  # (B, heads, widest)
    nvec = env.action_space.nvec
    starts = np.cumsum([0, *nvec[:-1]])
    for head, (start, size) in enumerate(zip(starts, nvec, strict=True)):
        masked = ~torch.as_tensor(masks[:, start : start + size])
        assert (log_pi[:, head, :size][masked] < MASKED_LOGIT / 2).all()  # exp() == 0
        assert (log_pi[:, head, :size][~masked].exp().sum() > 0).all()
    torch.manual_seed(0)
    for _ in range(20):
        actions, _ = policy.predict(observations, action_masks=masks)
        chosen = np.take_along_axis(masks, starts[None, :] + actions, 1)
        assert chosen.all()


@pytest.mark.parametrize("algorithm", [MaskablePPO, PPO])
@pytest.mark.parametrize("observation_mode", ["flat", "dict"])
def test_maskable_ppo_and_ppo_learn_on_either_observation(
    algorithm: type, observation_mode: str
) -> None:
    env = gym.make("LeptonExpansion-v0", scenario="toy", observation_mode=observation_mode)
    model = algorithm(
        RegionSharedPolicy, env, n_steps=32, batch_size=32, n_epochs=1, seed=0, policy_kwargs=TINY
    )
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(64)
    after = list(model.policy.parameters())
    assert any(not torch.equal(b, a) for b, a in zip(before, after, strict=True))
    observation, _ = env.reset(seed=1)
    action, _ = model.predict(observation, deterministic=True)
    assert env.action_space.contains(action)


def test_the_registry_admits_the_policy_by_path() -> None:
    check_targets({"policy": POLICY_PATH}, "agent.model")
    assert policy_class(POLICY_PATH) is RegionSharedPolicy


def test_a_saved_model_loads_through_the_safe_loader_with_the_same_actions(
    tmp_path: Path,
) -> None:
    env = gym.make("LeptonExpansion-v0", scenario="global")
    model = MaskablePPO(
        RegionSharedPolicy, env, n_steps=32, batch_size=32, n_epochs=1, seed=0, policy_kwargs=TINY
    )
    model.learn(64)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    model.save(run_dir / "best_model.zip")
    config = {
        "scenario": {"name": "global", "kwargs": {}},
        "env": {"action_mode": "multi_discrete", "observation_mode": "flat"},
        "agent": {
            "model": {
                "_target_": "sb3_contrib.MaskablePPO",
                "policy": POLICY_PATH,
                "policy_kwargs": TINY,
            }
        },
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    loaded = load_model(run_dir)[0]  # trust=False: nothing unpickled
    assert type(loaded.policy) is RegionSharedPolicy
    observations, masks = _observations(env, 40, seed=7)
    expected, _ = model.predict(observations, action_masks=masks, deterministic=True)
    actions, _ = loaded.predict(observations, action_masks=masks, deterministic=True)
    np.testing.assert_array_equal(actions, expected)


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["toy", "global"])
def test_lepton_train_runs_the_preset(scenario: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    result = run_train(
        [
            "experiment=global_shared_ppo",
            f"scenario={scenario}",
            "training=smoke",
            "total_timesteps=256",
            "env.num_envs=4",
            "agent.model.n_steps=32",
            "agent.model.batch_size=64",
            "agent.model.policy_kwargs.net_arch=[16]",
            f"hydra.run.dir={run_dir}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    from omegaconf import OmegaConf

    config = validate(OmegaConf.create(yaml.safe_load((run_dir / "config.yaml").read_text())))
    assert config.agent.model["policy"] == POLICY_PATH
    env = make_vec_env(config, seed=5, num_envs=3, backend="dummy")
    agent = load_agent(config, str(run_dir / "final_model.zip"), env)
    assert type(agent.policy) is RegionSharedPolicy
    observations = env.reset()
    masks = np.stack(env.env_method("action_masks"))
    first, _ = agent.predict(observations, action_masks=masks, deterministic=True)
    again = load_agent(config, str(run_dir / "final_model.zip"), env)
    second, _ = again.predict(observations, action_masks=masks, deterministic=True)
    np.testing.assert_array_equal(first, second)
    assert np.take_along_axis(
        masks, np.cumsum([0, *env.action_space.nvec[:-1]])[None, :] + first, 1
    ).all()
    env.close()


def test_firm_features_are_not_read_as_a_region() -> None:
    # The split: the firm's columns land in the firm's row, each region's in its own.
    env = gym.make("LeptonExpansion-v0", scenario="toy")
    layout = RegionLayout.from_spaces(env.observation_space, env.action_space)
    width = layout.regions * len(REGION_FEATURES) + len(FIRM_FEATURES)
    flat = torch.arange(width, dtype=torch.float32)[None, :]
    regions, firm = layout.split(flat)
    assert regions[0, 1, 0].item() == len(REGION_FEATURES)
    assert firm[0].tolist() == list(range(width - len(FIRM_FEATURES), width))
