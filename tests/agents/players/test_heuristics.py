"""Heuristic baselines: each policy's characteristic behaviour, on every face."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from lepton_env.agents.comparison.episodes import evaluate_policy_episodes
from lepton_env.agents.players.heuristics import (
    BASELINES,
    REGION_INDEX,
    BornGlobalAgent,
    GreedyLargestMarketAgent,
    HeuristicAgent,
    HomeOnlyAgent,
    ObservationView,
    PilotThenScaleAgent,
    RandomAgent,
    UppsalaAgent,
)
from lepton_env.agents.players.protocol import Agent
from lepton_env.envs.expansion import LeptonExpansionEnv
from lepton_env.observation import REGION_FEATURES
from lepton_env.types import EntryMode, Move

FACES = ("multi_discrete", "discrete", "continuous")


def first_moves(agent: HeuristicAgent, env: LeptonExpansionEnv) -> np.ndarray:
    """The per-region moves the agent plays on its first quarter (MultiDiscrete face)."""
    observation, _ = env.reset(seed=0)
    action, _ = agent.predict(observation[None], action_masks=env.action_masks()[None])
    return action[0, :-1]


def set_region(observation: np.ndarray, region: int, **features: float) -> np.ndarray:
    """A copy of a flat observation with some features of one region replaced."""
    changed = observation.copy()
    for name, value in features.items():
        changed[region * len(REGION_FEATURES) + REGION_INDEX[name]] = value
    return changed


def set_mode(observation: np.ndarray, region: int, mode: EntryMode) -> np.ndarray:
    one_hot = {f"mode_{m.name.lower()}": float(m == mode) for m in EntryMode}
    return set_region(observation, region, **one_hot)


@pytest.mark.parametrize("name", sorted(BASELINES))
@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("scenario", ["toy", "global"])
def test_every_baseline_acts_validly_on_every_face(name: str, face: str, scenario: str) -> None:
    env = LeptonExpansionEnv(scenario, action_mode=face)
    agent = BASELINES[name](env)
    assert isinstance(agent, Agent)
    observation, _ = env.reset(seed=1)
    state = None
    for _ in range(3):
        action, state = agent.predict(
            observation[None], state=state, action_masks=env.action_masks()[None]
        )
        assert env.action_space.contains(action[0].astype(env.action_space.dtype))
        observation, _, terminated, truncated, info = env.step(action[0])
        if face == "discrete" or name != "RandomAgent":
            # the random agent picks valid moves one region at a time on the per-region
            # faces; it may run out of cash for later regions, which the core counts
            assert info["invalid_moves"] == 0
        if terminated or truncated:
            break


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_every_baseline_plays_a_procedural_world(name: str) -> None:
    env = LeptonExpansionEnv("procedural", num_regions=5, world_seed=3)
    episodes = evaluate_policy_episodes(
        BASELINES[name](env),
        "LeptonExpansion-v0",
        {"scenario": "procedural", "num_regions": 5, "world_seed": 3, "horizon": 6},
        seeds=[0],
    )
    assert episodes["length"].iloc[0] >= 1
    if name == "HomeOnlyAgent":
        assert episodes["regions_entered"].iloc[0] == 0


@pytest.mark.parametrize("distances", [(0.0, 0.2, 0.7), (0.0, 0.7, 0.2)])
def test_uppsala_enters_the_psychically_closest_region_first_by_pilot(distances: tuple) -> None:
    env = LeptonExpansionEnv("toy", psychic_distance=np.array(distances))
    moves = first_moves(UppsalaAgent(env), env)
    closest = int(np.argmin(distances[1:])) + 1
    assert moves[closest] == Move.ENTER_PILOT
    assert np.count_nonzero(moves) == 1


def test_uppsala_deepens_commitment_as_share_grows() -> None:
    env = LeptonExpansionEnv("toy")
    agent = UppsalaAgent(env)
    observation, _ = env.reset(seed=0)
    masks = np.ones((1, env.action_space.nvec.sum()), dtype=bool)
    piloting = set_mode(observation, 1, EntryMode.PILOT)
    ceiling = env.params.share_ceiling[EntryMode.PILOT]
    learning = set_region(piloting, 1, firm_share=0.2 * ceiling)
    learned = set_region(piloting, 1, firm_share=ceiling)
    assert agent.predict(learning[None], action_masks=masks)[0][0, 1] == Move.HOLD
    assert agent.predict(learned[None], action_masks=masks)[0][0, 1] == Move.ENTER_PARTNERSHIP
    partnered = set_mode(observation, 1, EntryMode.PARTNERSHIP)
    small = set_region(partnered, 1, firm_share=0.05)
    large = set_region(partnered, 1, firm_share=0.25)
    assert agent.predict(small[None], action_masks=masks)[0][0, 1] != Move.ENTER_GREENFIELD
    assert agent.predict(large[None], action_masks=masks)[0][0, 1] == Move.ENTER_GREENFIELD


def test_uppsala_waits_while_a_market_is_still_at_the_pilot_stage() -> None:
    env = LeptonExpansionEnv("toy")
    agent = UppsalaAgent(env)
    observation, _ = env.reset(seed=0)
    masks = np.ones((1, env.action_space.nvec.sum()), dtype=bool)
    piloting = set_region(set_mode(observation, 1, EntryMode.PILOT), 1, firm_share=0.0)
    assert np.all(agent.predict(piloting[None], action_masks=masks)[0][0, :-1] == Move.HOLD)


@pytest.mark.parametrize(
    ("cash", "mode"),
    [(1000.0, Move.ENTER_GREENFIELD), (30.0, Move.ENTER_PARTNERSHIP), (10.0, Move.ENTER_PILOT)],
)
def test_greedy_enters_the_largest_market_in_the_most_committed_mode_it_funds(
    cash: float, mode: Move
) -> None:
    env = LeptonExpansionEnv("toy", initial_cash=cash)
    agent = GreedyLargestMarketAgent(env)
    moves = first_moves(agent, env)
    largest = int(np.argmax(env.params.market_potential[1:])) + 1
    assert moves[largest] == mode
    assert np.count_nonzero(moves) == 1
    observation, _ = env.reset(seed=0)
    view = ObservationView(observation, 3)
    assert agent.cash(view)[0] == pytest.approx(cash, rel=1e-5)
    assert agent.commitment_cost(view, mode)[0, largest] <= cash


def test_born_global_enters_many_regions_through_partners_at_once() -> None:
    env = LeptonExpansionEnv("global")
    moves = first_moves(BornGlobalAgent(env), env)
    assert np.count_nonzero(moves == Move.ENTER_PARTNERSHIP) == 3
    assert set(np.unique(moves)) <= {Move.HOLD, Move.ENTER_PARTNERSHIP}
    episodes = evaluate_policy_episodes(
        BornGlobalAgent(env), "LeptonExpansion-v0", {"scenario": "global"}, seeds=[0]
    )
    assert episodes["regions_entered"].iloc[0] >= env.params.num_regions // 2


def test_home_only_never_leaves_home() -> None:
    env = LeptonExpansionEnv("global")
    episodes = evaluate_policy_episodes(
        HomeOnlyAgent(env), "LeptonExpansion-v0", {"scenario": "global"}, seeds=[0, 1]
    )
    assert episodes["regions_entered"].tolist() == [0, 0]


def test_continuous_face_keeps_the_rnd_intensity_exactly() -> None:
    env = LeptonExpansionEnv("global", action_mode="continuous", initial_rnd=0.37)
    observation, _ = env.reset(seed=0)
    action, _ = HomeOnlyAgent(env).predict(observation[None], action_masks=env.action_masks()[None])
    env.step(action[0])
    assert env.state.rnd_intensity[0] == pytest.approx(0.37, abs=1e-6)


def test_random_agent_is_uniform_over_valid_single_face_actions() -> None:
    env = LeptonExpansionEnv("toy", action_mode="discrete")
    observation, _ = env.reset(seed=0)
    masks = env.action_masks()
    agent = RandomAgent(env, seed=3)
    draws = [
        int(agent.predict(observation[None], action_masks=masks[None])[0][0]) for _ in range(2000)
    ]
    counts = np.bincount(draws, minlength=masks.size)
    assert np.all(counts[~masks] == 0)
    expected = 2000 / masks.sum()
    assert np.all(np.abs(counts[masks] - expected) < 5 * np.sqrt(expected))
    again = RandomAgent(env, seed=3)
    assert int(again.predict(observation[None], action_masks=masks[None])[0][0]) == draws[0]


def test_pilot_then_scale_pilots_one_region_per_segment() -> None:
    env = LeptonExpansionEnv(
        "global",
        market_potential=np.array([1000.0, 900, 850, 800, 50, 45, 40, 35, 30, 25, 20]),
        psychic_distance=np.array([0.0, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]),
    )
    agent = PilotThenScaleAgent(env, n_segments=2)
    observation, _ = env.reset(seed=0)
    labels = agent.segments(
        np.stack([ObservationView(observation, 11).region(t)[0] for t in agent.TRAITS], -1)
    )
    assert labels[0] == -1
    assert len(set(labels[1:4])) == 1 and len(set(labels[4:])) == 1
    assert labels[1] != labels[4]
    moves = first_moves(agent, env)
    assert moves[1] == Move.ENTER_PILOT and moves[4] == Move.ENTER_PILOT
    assert np.count_nonzero(moves) == 2


def test_pilot_then_scale_fits_each_distinct_world_once(monkeypatch: pytest.MonkeyPatch) -> None:
    env = LeptonExpansionEnv("toy")
    agent = PilotThenScaleAgent(env, n_segments=2)
    observation, _ = env.reset(seed=0)
    traits = np.stack([ObservationView(observation, 3).region(t)[0] for t in agent.TRAITS], -1)
    fits: list[int] = []
    fit = agent._fit_segments
    monkeypatch.setattr(agent, "_fit_segments", lambda t: fits.append(1) or fit(t))
    first = agent.segments(traits)
    first[1] = 99  # a caller's change does not reach the cache
    again = agent.segments(traits.copy())
    other = traits.copy()
    other[1, 0] += 1.0
    agent.segments(other)
    assert len(fits) == 2
    np.testing.assert_array_equal(again, fit(traits))


def test_pilot_then_scale_scales_only_where_the_pilot_pays() -> None:
    env = LeptonExpansionEnv("toy")
    agent = PilotThenScaleAgent(env, n_segments=2)
    observation, _ = env.reset(seed=0)
    masks = np.ones((1, env.action_space.nvec.sum()), dtype=bool)
    piloting = set_mode(observation, 1, EntryMode.PILOT)
    piloting = set_mode(piloting, 2, EntryMode.PILOT)
    paying = set_region(piloting, 1, revenue=1.0)
    losing = set_region(piloting, 1, revenue=0.0)
    assert agent.pays(ObservationView(paying, 3))[0, 1]
    assert not agent.pays(ObservationView(losing, 3))[0, 1]
    assert agent.predict(paying[None], action_masks=masks)[0][0, 1] == Move.ENTER_PARTNERSHIP
    assert agent.predict(losing[None], action_masks=masks)[0][0, 1] == Move.HOLD


def test_discrete_face_plays_the_most_urgent_move_only() -> None:
    env = LeptonExpansionEnv("global", action_mode="discrete")
    agent = BornGlobalAgent(env)
    observation, _ = env.reset(seed=0)
    action = int(agent.predict(observation[None], action_masks=env.action_masks()[None])[0][0])
    region, move = divmod(action, len(Move))
    assert move == Move.ENTER_PARTNERSHIP
    sizes = ObservationView(observation, env.params.num_regions).region("log_potential")[0]
    foreign = np.arange(env.params.num_regions) != env.params.home_region
    assert region == int(np.argmax(np.where(foreign, sizes, -np.inf)))


def test_masks_come_from_the_env_when_not_passed() -> None:
    env = gym.make("LeptonExpansion-v0", scenario="toy")
    agent = UppsalaAgent(env)
    observation, _ = env.reset(seed=0)
    with_env, _ = agent.predict(observation[None])
    passed, _ = agent.predict(observation[None], action_masks=env.unwrapped.action_masks()[None])
    assert np.array_equal(with_env, passed)
    detached = UppsalaAgent(params=env.unwrapped.params, action_mode="multi_discrete")
    with pytest.raises(ValueError, match="action_masks"):
        detached.predict(observation[None])


def test_save_and_load_keep_the_settings(tmp_path) -> None:
    env = LeptonExpansionEnv("toy")
    agent = UppsalaAgent(env, upgrade_fraction=0.5, min_headroom=0.1)
    assert agent.learn(1000) is agent
    agent.save(tmp_path / "uppsala.json")
    loaded = HeuristicAgent.load(tmp_path / "uppsala.json", env=env)
    assert type(loaded) is UppsalaAgent
    assert loaded.settings == agent.settings
    detached = UppsalaAgent.load(tmp_path / "uppsala.json", params=env.params)
    assert detached.action_mode == "multi_discrete"
    with pytest.raises(ValueError, match="not a BornGlobalAgent"):
        BornGlobalAgent.load(tmp_path / "uppsala.json", env=env)


def test_bad_settings_are_named() -> None:
    env = LeptonExpansionEnv("toy")
    with pytest.raises(TypeError, match="upgrade_fractoin"):
        UppsalaAgent(env, upgrade_fractoin=0.5)
    with pytest.raises(ValueError, match="n_segments"):
        PilotThenScaleAgent(env, n_segments=0)
    with pytest.raises(ValueError, match="action_mode"):
        HomeOnlyAgent(params=env.params, action_mode="tabular")
    env.reset(seed=0)
    with pytest.raises(ValueError, match="features"):
        HomeOnlyAgent(env).predict(np.zeros((1, 5)), action_masks=env.action_masks()[None])
