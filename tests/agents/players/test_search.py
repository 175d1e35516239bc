"""The cross-entropy search baseline: the optimizer, both families, budget, quality, settings."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from lepton_env.agents.comparison.episodes import VALIDATION_FIRST_SEED, evaluate_policy_episodes
from lepton_env.agents.players import search as search_module
from lepton_env.agents.players.heuristics import BASELINES, ObservationView
from lepton_env.agents.players.oracle import solve
from lepton_env.agents.players.protocol import Agent
from lepton_env.agents.players.search import (
    EVALUATION_FIRST_SEED,
    CategoricalCrossEntropy,
    CrossEntropySearchAgent,
    RuleFamily,
    episodes_per_candidate,
)
from lepton_env.envs.expansion import LeptonExpansionEnv
from lepton_env.features import FIRM_FEATURES, REGION_FEATURES
from lepton_env.types import EntryMode, Move

CONFIGS = str(Path(__file__).resolve().parents[3] / "configs")
SINGLE = "LeptonExpansion-Single-v0"
EVAL_SEED = [EVALUATION_FIRST_SEED]
#: A search small enough for a unit test: 8 candidates x 2 seeds x 5 quarters a generation.
SMALL: dict[str, Any] = {"population": 8, "train_seeds": 2, "generations": 3}


def toy_return(agent: object, env_id: str = SINGLE) -> float:
    episodes = evaluate_policy_episodes(agent, env_id, {"scenario": "toy"}, EVAL_SEED)
    return float(episodes["return"].iloc[0])


# ---------------------------------------------------------------------- the optimizer
def test_update_is_the_smoothed_elite_frequency() -> None:
    cem = CategoricalCrossEntropy([2, 3], 0.5, 0.5, np.random.default_rng(0))
    np.testing.assert_allclose(cem.probabilities, [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    genes = np.array([[0, 2], [1, 2], [0, 0], [1, 1]])
    elite = cem.update(genes, np.array([4.0, 3.0, 2.0, 1.0]))
    assert sorted(elite.tolist()) == [0, 1]
    # elite frequencies: gene 0 (1/2, 1/2, 0), gene 1 (0, 0, 1); half of them, half the prior
    np.testing.assert_allclose(cem.probabilities, [[0.5, 0.5, 0.0], [1 / 6, 1 / 6, 2 / 3]])


def test_elite_count_is_the_ceiling_of_the_fraction_and_at_least_one() -> None:
    rng = np.random.default_rng(0)
    assert CategoricalCrossEntropy([2], 0.125, 1.0, rng).elite_count(64) == 8
    assert CategoricalCrossEntropy([2], 0.1, 1.0, rng).elite_count(25) == 3
    assert CategoricalCrossEntropy([2], 0.01, 1.0, rng).elite_count(10) == 1
    assert CategoricalCrossEntropy([2], 1.0, 1.0, rng).elite_count(10) == 10


def test_samples_follow_the_distribution_and_stay_in_range() -> None:
    cem = CategoricalCrossEntropy([3, 1, 4], 0.5, 1.0, np.random.default_rng(1))
    cem.probabilities = np.array(
        [[0.2, 0.0, 0.8, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]]
    )
    genes = cem.sample(20_000)
    assert genes.shape == (20_000, 3)
    assert np.all(genes < np.array([3, 1, 4]))
    assert not np.any(genes[:, 0] == 1)
    assert abs(np.mean(genes[:, 0] == 2) - 0.8) < 0.02
    assert abs(np.mean(genes[:, 2] == 3) - 0.25) < 0.02


# ---------------------------------------------------------------------- the rule family
def rule_genes(family: RuleFamily, rnd_level: int = 0, **per_region: dict[str, int]) -> np.ndarray:
    """A (1, D) genome: every gene 0 but those named, ``near={"entry_mode": 2}``."""
    genes = np.zeros(family.cardinality.size, dtype=np.int64)
    genes[-1] = rnd_level
    names = family.params.region_names
    for region, values in per_region.items():
        base = names.index(region) * family.GENES_PER_REGION
        for name, value in values.items():
            genes[base + family.REGION_GENES.index(name)] = value
    assert np.all(genes < family.cardinality)
    return genes[None, :]


def toy_view(quarter: int, modes: dict[int, EntryMode] | None = None) -> ObservationView:
    env = LeptonExpansionEnv("toy")
    observation, _ = env.reset(seed=0)
    flat = observation.copy()
    width = len(REGION_FEATURES)
    time = 3 * width + [f.name for f in FIRM_FEATURES].index("time")
    flat[time] = quarter / env.params.horizon
    for region, mode in (modes or {}).items():
        for m in EntryMode:
            flat[region * width + int(m)] = float(m == mode)
    return ObservationView(flat[None], 3)


def all_valid() -> np.ndarray:
    return np.ones((1, 3, 10), dtype=bool)


def test_rules_enter_at_their_quarter_in_their_mode() -> None:
    family = RuleFamily(LeptonExpansionEnv("toy").params, "multi_discrete", quarter_step=1)
    genes = rule_genes(
        family,
        near={"entry_mode": 2, "entry_quarter": 0},
        far={"entry_mode": 1, "entry_quarter": 2},
    )
    early = family.intent(toy_view(0), all_valid(), genes, np.array([0]))
    assert early.moves[0].tolist() == [Move.HOLD, Move.ENTER_PARTNERSHIP, Move.HOLD]
    later = family.intent(toy_view(2), all_valid(), genes, np.array([2]))
    assert later.moves[0].tolist() == [Move.HOLD, Move.ENTER_PARTNERSHIP, Move.ENTER_PILOT]
    # an invalid entry waits (here: the partnership is masked) instead of being played
    valid = all_valid()
    valid[0, 1, Move.ENTER_PARTNERSHIP] = False
    assert family.intent(toy_view(2), valid, genes, np.array([2])).moves[0, 1] == Move.HOLD


def test_rules_upgrade_exit_and_never_come_back() -> None:
    family = RuleFamily(LeptonExpansionEnv("toy").params, "multi_discrete", quarter_step=2)
    genes = rule_genes(
        family,
        near={"entry_mode": 1, "upgrade_mode": 3, "upgrade_quarter": 1, "exit": 1,
              "exit_quarter": 2},
    )  # fmt: skip
    pilot = {1: EntryMode.PILOT}
    # quarter_step 2: the upgrade slot 1 starts at quarter 2, the exit slot 2 at quarter 4
    assert family.intent(toy_view(1, pilot), all_valid(), genes, np.array([1])).moves[0, 1] == 0
    upgrade = family.intent(toy_view(2, pilot), all_valid(), genes, np.array([2]))
    assert upgrade.moves[0, 1] == Move.ENTER_GREENFIELD
    leave = family.intent(toy_view(4, pilot), all_valid(), genes, np.array([4]))
    assert leave.moves[0, 1] == Move.EXIT
    gone = family.intent(toy_view(4), all_valid(), genes, np.array([4]))
    assert gone.moves[0, 1] == Move.HOLD


def test_rules_rotate_through_the_flagged_spends() -> None:
    family = RuleFamily(LeptonExpansionEnv("toy").params, "multi_discrete", quarter_step=1)
    genes = rule_genes(family, near={"marketing": 1, "compliance": 1})
    present = {1: EntryMode.PARTNERSHIP}
    played = [
        int(family.intent(toy_view(t, present), all_valid(), genes, np.array([t])).moves[0, 1])
        for t in range(4)
    ]
    # quarter t tries marketing, localization, compliance starting at t mod 3
    assert played == [Move.MARKETING, Move.COMPLY, Move.COMPLY, Move.MARKETING]
    absent = family.intent(toy_view(0), all_valid(), genes, np.array([0]))
    assert absent.moves[0, 1] == Move.HOLD


def test_rules_on_the_single_face_change_rnd_before_spending() -> None:
    family = RuleFamily(LeptonExpansionEnv("toy").params, "discrete", quarter_step=1)
    genes = rule_genes(family, home={"marketing": 1}, rnd_level=1)
    intent = family.intent(toy_view(0), all_valid(), genes, np.array([0]))
    assert intent.moves[0].tolist() == [0, 0, 0]
    assert intent.rnd_level.tolist() == [1]
    kept = rule_genes(family, home={"marketing": 1}, rnd_level=0)
    assert family.intent(toy_view(0), all_valid(), kept, np.array([0])).moves[0, 0] == (
        Move.MARKETING
    )


# ---------------------------------------------------------------------- the plan family
def test_the_oracle_plan_replayed_as_a_found_plan_scores_the_optimum() -> None:
    result = solve("toy")
    agent = CrossEntropySearchAgent(
        gym.make(SINGLE, scenario="toy"), family="plans", found=list(result.plan)
    )
    assert agent.budget["env_steps"] == 0
    assert toy_return(agent) == pytest.approx(result.optimal_return, rel=1e-9)


def test_a_planned_move_the_mask_forbids_is_played_as_hold() -> None:
    env = LeptonExpansionEnv("toy", action_mode="multi_discrete")
    horizon = env.params.horizon
    # exit from "near" in every quarter, where the firm never is; R&D level 0
    genes = [0, Move.EXIT, 0] * horizon + [0] * horizon
    agent = CrossEntropySearchAgent(env, family="plans", found=genes)
    observation, _ = env.reset(seed=0)
    action, _ = agent.predict(observation[None])
    assert action[0].tolist() == [0, 0, 0, 0]


# ---------------------------------------------------------------------- the search
def test_same_settings_and_seed_give_the_same_plan() -> None:
    env = gym.make("LeptonExpansion-v0", scenario="toy")
    first = CrossEntropySearchAgent(env, family="plans", seed=3, **SMALL)
    second = CrossEntropySearchAgent(env, family="plans", seed=3, **SMALL)
    np.testing.assert_array_equal(first.best_genes, second.best_genes)
    assert first.history == second.history


def test_the_env_step_budget_stops_the_search_before_it_is_exceeded() -> None:
    env = gym.make(SINGLE, scenario="toy")
    # a generation is 8 candidates x 2 seeds x 5 quarters = 80 env-steps
    agent = CrossEntropySearchAgent(
        env, family="rules", population=8, train_seeds=2, generations=10, max_env_steps=200
    )
    assert agent.budget["generations"] == 2
    assert agent.budget["env_steps"] == 160
    assert len(agent.history) == 2
    agent.learn(total_timesteps=100)
    assert agent.budget["generations"] == 3
    assert agent.budget["env_steps"] == 240
    assert set(agent.budget) >= {"env_steps", "wall_seconds", "generations", "population", "family"}


def test_a_budget_below_one_generation_is_refused() -> None:
    with pytest.raises(ValueError, match=r"max_env_steps = 79 .* 80"):
        CrossEntropySearchAgent(
            gym.make(SINGLE, scenario="toy"), population=8, train_seeds=2, max_env_steps=79
        )


def best_heuristic_on_toy() -> float:
    return max(toy_return(cls(gym.make(SINGLE, scenario="toy"))) for cls in BASELINES.values())


def test_search_on_toy_beats_the_heuristics_and_nearly_reaches_the_oracle() -> None:
    optimum = solve("toy").optimal_return
    best_heuristic = best_heuristic_on_toy()
    gap = optimum - best_heuristic
    env = gym.make(SINGLE, scenario="toy")
    plans = CrossEntropySearchAgent(
        env, family="plans", population=256, train_seeds=1, generations=30,
        elite_fraction=0.1, smoothing=0.5,
    )  # fmt: skip
    rules = CrossEntropySearchAgent(env, family="rules", population=64, generations=14)
    plan_return, rule_return = toy_return(plans), toy_return(rules)
    assert plan_return <= optimum + 1e-9
    assert plan_return >= best_heuristic - 1e-9
    assert rule_return >= best_heuristic - 1e-9
    # the plans close at least 90% of the gap from the best heuristic to the optimum
    assert plan_return >= optimum - 0.1 * max(gap, 0.0) - 1e-9


@pytest.mark.parametrize("face", ["multi_discrete", "discrete", "continuous"])
@pytest.mark.parametrize("family", ["rules", "plans"])
def test_the_found_candidate_plays_validly_on_every_face(face: Any, family: str) -> None:
    env = LeptonExpansionEnv("toy", action_mode=face)
    agent = CrossEntropySearchAgent(env, family=family, **SMALL)
    assert isinstance(agent, Agent)
    observation, _ = env.reset(seed=EVALUATION_FIRST_SEED)
    total, done = 0.0, False
    while not done:
        action, _ = agent.predict(observation[None], action_masks=env.action_masks()[None])
        assert env.action_space.contains(action[0].astype(env.action_space.dtype))
        observation, reward, terminated, truncated, info = env.step(action[0])
        assert info["invalid_moves"] == 0
        total += float(reward)
        done = terminated or truncated
    # toy is deterministic: the played return is the training return the search recorded
    assert total == pytest.approx(agent.budget["best_train_return"], rel=1e-9)


def test_save_and_load_replay_the_found_candidate_without_searching(tmp_path: Path) -> None:
    env = gym.make("LeptonExpansion-v0", scenario="toy")
    agent = CrossEntropySearchAgent(env, family="rules", **SMALL)
    agent.save(tmp_path / "search.json")
    loaded = CrossEntropySearchAgent.load(tmp_path / "search.json", env=env)
    np.testing.assert_array_equal(loaded.best_genes, agent.best_genes)
    assert loaded.budget == agent.budget
    assert toy_return(loaded, "LeptonExpansion-v0") == toy_return(agent, "LeptonExpansion-v0")


def test_found_genes_are_checked_against_the_family() -> None:
    env = gym.make(SINGLE, scenario="toy")
    with pytest.raises(ValueError, match=r"found has 2 genes; the plans family .* has 5"):
        CrossEntropySearchAgent(env, family="plans", found=[0, 1])
    with pytest.raises(ValueError, match=r"found\[1\] \(action\[1\]\) = 99: allowed \[0, 31\]"):
        CrossEntropySearchAgent(env, family="plans", found=[0, 99, 0, 0, 0])


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"family": "genetic"}, "family = 'genetic': allowed"),
        ({"population": 1}, r"population = 1: allowed integers in \[2, inf\)"),
        ({"elite_fraction": 0.0}, r"elite_fraction = 0.0: allowed \(0, 1\]"),
        ({"elite_fraction": 1.5}, r"elite_fraction = 1.5: allowed \(0, 1\]"),
        ({"smoothing": 0}, r"smoothing = 0: allowed \(0, 1\]"),
        ({"generations": 0}, r"generations = 0: allowed integers in \[1, inf\)"),
        ({"max_env_steps": -100}, r"max_env_steps = -100: allowed integers in \[1, inf\)"),
        ({"max_wall_seconds": -1.0}, r"max_wall_seconds = -1.0: allowed \(0, inf\) or None"),
        ({"train_seeds": 0}, r"train_seeds = 0: allowed integers in \[1, inf\)"),
        (
            {"first_train_seed": VALIDATION_FIRST_SEED - 2, "train_seeds": 4},
            r"reach the validation seeds .* first_train_seed \+ train_seeds",
        ),
        (
            {"validation_first_seed": EVALUATION_FIRST_SEED - 2, "validation_episodes": 4},
            r"reach the evaluation seeds .* validation_first_seed \+ validation_episodes",
        ),
    ],
)
def test_bad_settings_name_the_key_and_the_range(setting: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CrossEntropySearchAgent(gym.make(SINGLE, scenario="toy"), **setting)


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(TypeError, match=r"unknown settings.*'populaton'"):
        CrossEntropySearchAgent(gym.make(SINGLE, scenario="toy"), populaton=8)


@pytest.mark.parametrize("name", ["search_rules", "search_plans"])
def test_compare_config_builds_the_search_baselines(name: str) -> None:
    with initialize_config_dir(config_dir=CONFIGS, version_base="1.3"):
        cfg = compose(config_name="compare", overrides=["scenario=toy"])
    spec: Any = OmegaConf.to_container(cfg.baselines[name], resolve=True)
    agent = instantiate(spec, gym.make(SINGLE, scenario="toy"))
    assert isinstance(agent, CrossEntropySearchAgent)
    assert agent.budget["family"] == spec["family"]
    assert agent.budget["env_steps"] > 0
    assert 0 < agent.budget["cpu_seconds"] <= spec["max_cpu_seconds"] + 5.0
    assert agent.budget["validation_return"] is not None


def test_dict_observations_give_the_same_actions_as_flat_ones() -> None:
    flat_env = LeptonExpansionEnv("toy")
    dict_env = LeptonExpansionEnv("toy", observation_mode="dict")
    agent = CrossEntropySearchAgent(flat_env, family="rules", **SMALL)
    flat, _ = flat_env.reset(seed=0)
    observation, _ = dict_env.reset(seed=0)
    batched = {key: value[None] for key, value in observation.items()}
    masks = flat_env.action_masks()[None]
    np.testing.assert_array_equal(
        agent.predict(flat[None], action_masks=masks)[0],
        agent.predict(batched, action_masks=masks)[0],
    )


def test_auto_training_episodes_scale_with_the_budget() -> None:
    def searched(max_env_steps: int) -> CrossEntropySearchAgent:
        env = gym.make("LeptonExpansion-v0", scenario="toy")
        return CrossEntropySearchAgent(
            env,
            population=8,
            train_seeds="auto",
            target_generations=2,
            generations=1000,
            max_env_steps=max_env_steps,
            smoothing=0.1,  # no early settling: the budget ends the search
        )

    # toy: 5 quarters; a generation of 8 candidates on k episodes costs 40 k env-steps
    small, large = searched(40 + 2 * 40 * 2), searched(40 + 2 * 40 * 8)
    assert small.budget["train_seeds"] == 2 and large.budget["train_seeds"] == 8
    assert large.budget["env_steps"] <= 40 + 2 * 40 * 8
    assert large.budget["cpu_seconds"] > 0


def test_episodes_per_candidate_pay_for_the_generations_left() -> None:
    # env-steps: 10,000 // (30 generations x 8 candidates x 5 quarters = 1,200) = 8
    sized = partial(episodes_per_candidate, generations=30, population=8, horizon=5, most=64)
    assert sized(env_steps_left=10_000) == 8
    # CPU: 60 s / (30 generations x 0.25 s per episode per candidate) = 8; at 0.3 s, 6.67 -> 6
    assert sized(cpu_left=60.0, cpu_per_episode=0.25) == 8
    assert sized(cpu_left=60.0, cpu_per_episode=0.3) == 6
    assert sized(env_steps_left=10_000, cpu_left=60.0, cpu_per_episode=0.3) == 6  # the smaller
    assert sized(cpu_left=6000.0, cpu_per_episode=0.25) == 64  # at most `most`
    assert sized(cpu_left=-1.0, cpu_per_episode=0.25) == 1  # at least one
    assert sized() is None


def test_auto_sizes_the_cpu_budget_on_a_warmed_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first generation slowed by a one-off cost (2 s, as loading compiled code) must not
    undersize the count: the second sizing measures a warmed batch. A fake clock: 0.01 s per
    env-step simulated."""
    clock = [0.0]
    rollout = CrossEntropySearchAgent._rollout

    def timed(self: Any, venv: Any, genes: Any, seeds: list[int]) -> Any:
        returns, steps = rollout(self, venv, genes, seeds)
        clock[0] += 0.01 * steps + (2.0 if clock[0] == 0.0 else 0.0)
        return returns, steps

    monkeypatch.setattr(search_module, "_cpu_seconds", lambda: clock[0])
    monkeypatch.setattr(CrossEntropySearchAgent, "_rollout", timed)
    env = gym.make("LeptonExpansion-v0", scenario="toy")
    agent = CrossEntropySearchAgent(
        env,
        population=8,
        train_seeds="auto",
        target_generations=3,
        generations=1000,
        smoothing=0.1,  # no early settling: the budget ends the search
        max_cpu_seconds=14.4,
    )
    # toy: 5 quarters, 8 candidates: 0.4 s per episode per candidate. Generation 0 (one
    # episode each): 0.4 + 2 = 2.4 s, so the first sizing gives floor(12 / (3 x 2.4)) = 1;
    # generation 1 (warm, one episode each): 0.4 s; left 14.4 - 2.8 = 11.6 s for the 2
    # generations planned: floor(11.6 / (2 x 0.4)) = 14 episodes per candidate.
    assert agent.budget["train_seeds"] == 14
    # generations 2 and 3 at 14 x 0.4 = 5.6 s each end at 14.0 s < 14.4, so a fourth runs
    assert agent.budget["generations"] == 5
    assert agent.budget["cpu_seconds"] == pytest.approx(2.8 + 3 * 5.6)


def test_validation_picks_the_candidate_that_is_played() -> None:
    env = gym.make("LeptonExpansion-v0", scenario="toy")
    agent = CrossEntropySearchAgent(env, **SMALL, validation_episodes=3)
    assert agent.budget["validation_return"] is not None
    np.testing.assert_array_equal(agent.played_genes, agent.selected_genes)
    # validation episodes count in the env-steps: 3 generations of 8 x 2 episodes, 5 quarters
    assert agent.budget["env_steps"] > 3 * 8 * 2 * 5


def test_training_seeds_must_stay_below_the_validation_seeds() -> None:
    env = gym.make("LeptonExpansion-v0", scenario="toy")
    with pytest.raises(ValueError, match="reach the validation seeds"):
        CrossEntropySearchAgent(env, **SMALL, first_train_seed=999_999)
