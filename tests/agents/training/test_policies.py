"""The padded masked MultiDiscrete distribution and the policy that uses it."""

from __future__ import annotations

import math
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.distributions import MaskableMultiCategoricalDistribution

import lepton_env  # noqa: F401  (registers the env ids)
from lepton_env.agents.comparison.evaluation import load_model
from lepton_env.agents.training.policies import (
    MaskableMultiCategoricalPolicy,
    PaddedMaskedMultiCategorical,
)
from lepton_env.agents.training.targets import TargetNotAllowedError, check_targets, policy_class

POLICY_PATH = "lepton_env.agents.training.policies.MaskableMultiCategoricalPolicy"


def test_two_heads_by_hand() -> None:
    # Head 0: logits (0, ln 3), both valid -> pi = (1/4, 3/4).
    # Head 1: logits (0, 0, 0) with the middle move masked -> pi = (1/2, 0, 1/2).
    logits = torch.tensor([[0.0, math.log(3.0), 0.0, 0.0, 0.0]])
    masks = np.array([[True, True, True, False, True]])
    distribution = PaddedMaskedMultiCategorical([2, 3]).proba_distribution(logits)
    distribution.apply_masking(masks)
    log_prob = distribution.log_prob(torch.tensor([[1, 2]]))
    assert log_prob.item() == pytest.approx(math.log(3 / 4) + math.log(1 / 2), abs=1e-6)
    entropy = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)) + math.log(2.0)
    assert distribution.entropy().item() == pytest.approx(entropy, abs=1e-6)
    assert distribution.mode().tolist() == [[1, 0]]
    # Lifting the mask restores the middle move: head 1 uniform over three.
    distribution.apply_masking(None)
    assert distribution.log_prob(torch.tensor([[0, 1]])).item() == pytest.approx(
        math.log(1 / 4) + math.log(1 / 3), abs=1e-6
    )


@st.composite
def _heads_and_masks(draw: st.DrawFn) -> tuple[list[int], np.ndarray, int]:
    dims = draw(st.lists(st.integers(1, 7), min_size=1, max_size=5))
    batch = draw(st.integers(1, 6))
    masks = np.array(
        draw(st.lists(st.booleans(), min_size=batch * sum(dims), max_size=batch * sum(dims)))
    ).reshape(batch, sum(dims))
    starts = np.cumsum([0, *dims[:-1]])
    for row in range(batch):  # every head keeps at least one valid move, as the env's do
        for start, size in zip(starts, dims, strict=True):
            if not masks[row, start : start + size].any():
                masks[row, start + draw(st.integers(0, size - 1))] = True
    return dims, masks, draw(st.integers(0, 2**31 - 1))


@settings(max_examples=60, deadline=None)
@given(_heads_and_masks(), st.booleans())
def test_equals_sb3_contribs_distribution(
    case: tuple[list[int], np.ndarray, int], masked: bool
) -> None:
    dims, masks, seed = case
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(masks.shape, generator=generator) * 3.0
    ours_logits = logits.clone().requires_grad_()
    theirs_logits = logits.clone().requires_grad_()
    ours = PaddedMaskedMultiCategorical(dims).proba_distribution(ours_logits)
    theirs = MaskableMultiCategoricalDistribution(dims).proba_distribution(theirs_logits)
    ours.apply_masking(masks if masked else None)
    theirs.apply_masking(masks if masked else None)
    actions = theirs.sample()
    torch.testing.assert_close(ours.log_prob(actions), theirs.log_prob(actions), atol=1e-5, rtol=0)
    torch.testing.assert_close(ours.entropy(), theirs.entropy(), atol=1e-5, rtol=0)
    assert torch.equal(ours.mode(), theirs.mode())
    (ours.log_prob(actions).sum() + 0.3 * ours.entropy().sum()).backward()
    (theirs.log_prob(actions).sum() + 0.3 * theirs.entropy().sum()).backward()
    assert ours_logits.grad is not None and theirs_logits.grad is not None
    torch.testing.assert_close(ours_logits.grad, theirs_logits.grad, atol=1e-5, rtol=0)


def test_samples_follow_the_masked_probabilities() -> None:
    logits = torch.tensor([[0.0, 1.0, 2.0, -1.0, 0.5, 0.5, 0.5]])
    masks = np.array([[True, False, True, True, False, True, True]])
    distribution = PaddedMaskedMultiCategorical([4, 3]).proba_distribution(logits.repeat(40_000, 1))
    distribution.apply_masking(np.repeat(masks, 40_000, axis=0))
    torch.manual_seed(0)
    draws = distribution.sample()
    assert draws.shape == (40_000, 2)
    expected = distribution._log_probs[0].exp()  # (heads, widest), 0 where masked
    valid = torch.as_tensor(masks[0])
    for head, (start, size) in enumerate(((0, 4), (4, 3))):
        counts = torch.bincount(draws[:, head], minlength=4).double()
        frequencies = counts / counts.sum()
        assert (counts[:size][~valid[start : start + size]] == 0).all()  # never a masked move
        assert counts[size:].sum() == 0  # never a padding slot
        # Binomial standard error of a frequency: sqrt(p (1 - p) / n) <= 0.0025.
        torch.testing.assert_close(
            frequencies[:size], expected[head, :size].double(), atol=0.01, rtol=0
        )


def _toy_model() -> tuple[gym.Env, MaskablePPO]:
    """A tiny MaskablePPO with the padded policy on `toy`'s MultiDiscrete face."""
    env = gym.make("LeptonExpansion-v0", scenario="toy")
    model = MaskablePPO(
        MaskableMultiCategoricalPolicy,
        env,
        n_steps=32,
        batch_size=32,
        n_epochs=1,
        seed=0,
        policy_kwargs={"net_arch": [8]},
    )
    return env, model


def test_the_policy_trains_and_predicts_only_valid_moves() -> None:
    env, model = _toy_model()
    assert isinstance(model.policy.action_dist, PaddedMaskedMultiCategorical)
    model.learn(64)
    observation, _ = env.reset(seed=3)
    masks = env.unwrapped.action_masks()
    starts = np.cumsum([0, *env.action_space.nvec[:-1]])
    for _ in range(20):
        action, _ = model.predict(observation, action_masks=masks, deterministic=False)
        for head, start in enumerate(starts):
            assert masks[start + int(action[head])], (head, action)


def test_a_run_naming_the_policy_by_path_loads_without_unpickling(tmp_path: Path) -> None:
    _, model = _toy_model()
    model.learn(32)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    model.save(run_dir / "best_model.zip")
    config = {
        "scenario": {"name": "toy", "kwargs": {}},
        "env": {"action_mode": "multi_discrete", "observation_mode": "flat"},
        "agent": {
            "model": {
                "_target_": "sb3_contrib.MaskablePPO",
                "policy": POLICY_PATH,
                "policy_kwargs": {"net_arch": [8]},
            }
        },
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    loaded = load_model(run_dir)[0]
    assert type(loaded.policy) is MaskableMultiCategoricalPolicy
    for name, tensor in model.policy.state_dict().items():
        assert torch.equal(tensor, loaded.policy.state_dict()[name]), name


def test_a_policy_path_is_checked_like_a_target() -> None:
    check_targets({"policy": POLICY_PATH}, "agent.model")
    check_targets({"policy": "MlpPolicy"}, "agent.model")  # an alias imports nothing
    with pytest.raises(TargetNotAllowedError, match=r"agent\.model\.policy = 'os\.system'"):
        check_targets({"policy": "os.system"}, "agent.model")
    assert policy_class("MlpPolicy") == "MlpPolicy"
    assert policy_class(POLICY_PATH) is MaskableMultiCategoricalPolicy
    with pytest.raises(TargetNotAllowedError, match="not a policy class"):
        policy_class("lepton_env.agents.training.policies.PaddedMaskedMultiCategorical")
