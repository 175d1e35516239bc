"""The exact oracle: batched enumeration against plain brute force, and its plan replayed."""

from __future__ import annotations

import copy

import gymnasium as gym
import numpy as np
import pytest

from lepton_env.agents.comparison.episodes import evaluate_policy_episodes
from lepton_env.agents.players.oracle import OracleAgent, solve
from lepton_env.envs.expansion import LeptonExpansionEnv


def brute_force(env: LeptonExpansionEnv) -> tuple[float, float, int]:
    """Max return over ALL action sequences (no masks), expected return of the uniform
    valid-move policy, and the number of sequences that ended in bankruptcy."""
    bankrupt = 0

    def best_from(node: LeptonExpansionEnv) -> float:
        nonlocal bankrupt
        best = -np.inf
        for action in range(node.action_space.n):
            child = copy.deepcopy(node)
            _, reward, terminated, truncated, _ = child.step(action)
            if terminated:
                bankrupt += 1
            value = reward if terminated or truncated else reward + best_from(child)
            best = max(best, value)
        return float(best)

    def random_from(node: LeptonExpansionEnv) -> float:
        valid = np.flatnonzero(node.action_masks())
        total = 0.0
        for action in valid:
            child = copy.deepcopy(node)
            _, reward, terminated, truncated, _ = child.step(int(action))
            total += reward if terminated or truncated else reward + random_from(child)
        return total / len(valid)

    return best_from(env), random_from(env), bankrupt


@pytest.mark.parametrize(
    "overrides",
    [{"horizon": 2}, {"horizon": 2, "initial_cash": 5.0, "credit_line": 1.0}],
    ids=["toy-h2", "toy-h2-tight-cash"],
)
def test_enumeration_matches_brute_force_over_all_actions(overrides: dict) -> None:
    env = LeptonExpansionEnv("toy", action_mode="discrete", **overrides)
    env.reset(seed=0)
    best, random_expectation, bankrupt = brute_force(env)
    result = solve("toy", seed=0, **overrides)
    assert result.optimal_return == pytest.approx(best, rel=1e-9, abs=1e-9)
    assert result.random_return == pytest.approx(random_expectation, rel=1e-9, abs=1e-9)
    if "initial_cash" in overrides:
        assert bankrupt > 0, "the tight-cash instance must exercise bankruptcy leaves"


def test_plan_replayed_in_the_env_earns_the_optimum() -> None:
    result = solve("toy")
    env = gym.make("LeptonExpansion-Single-v0", scenario="toy")
    env.reset(seed=123)
    total, done, steps = 0.0, False, 0
    for action in result.plan:
        assert not done
        _, reward, terminated, truncated, info = env.step(action)
        assert info["invalid_moves"] == 0
        total += reward
        done = terminated or truncated
        steps += 1
    assert done and steps == env.unwrapped.params.horizon
    assert total == pytest.approx(result.optimal_return, rel=1e-12)
    assert result.optimal_return > result.random_return
    assert result.leaves > 1000


def test_oracle_agent_plays_the_plan_through_the_protocol() -> None:
    agent = OracleAgent("toy")
    episodes = evaluate_policy_episodes(
        agent, "LeptonExpansion-Single-v0", {"scenario": "toy"}, seeds=[5, 6]
    )
    assert episodes["return"].to_numpy() == pytest.approx([agent.result.optimal_return] * 2)
    assert agent.learn(10) is agent


def test_oracle_beats_every_single_face_action_sequence_sampled() -> None:
    result = solve("toy")
    env = gym.make("LeptonExpansion-Single-v0", scenario="toy")
    generator = np.random.default_rng(0)
    for _ in range(20):
        env.reset(seed=0)
        total, done = 0.0, False
        while not done:
            action = int(generator.integers(env.action_space.n))
            _, reward, terminated, truncated, _ = env.step(action)
            total += reward
            done = terminated or truncated
        assert total <= result.optimal_return + 1e-9


def test_oracle_refuses_a_random_scenario() -> None:
    with pytest.raises(ValueError, match="deterministic"):
        solve("global", horizon=2)


def test_oracle_refuses_a_tree_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    import lepton_env.agents.players.oracle

    monkeypatch.setattr(lepton_env.agents.players.oracle, "MAX_FRONTIER", 50)
    with pytest.raises(ValueError, match="MAX_FRONTIER"):
        solve("toy")
