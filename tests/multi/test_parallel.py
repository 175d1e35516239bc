"""The PettingZoo face: PettingZoo's own API and seed tests, agent removal, bad input,
and the one-firm case against the single-agent env."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test
from pettingzoo.test.state_test import state_test
from pettingzoo.utils.conversions import parallel_to_aec

from lepton_env.envs.actions import ActionError
from lepton_env.envs.expansion import LeptonExpansionEnv
from lepton_env.multi import env, parallel_env, raw_env
from lepton_env.multi.firms import agent_id, firm_observation_space, firm_params, single_width
from lepton_env.multi.parallel import LeptonParallelEnv, sample_masks
from lepton_env.scenarios import make_params

SCENARIOS = ["toy", "race", "duel_toy"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pettingzoo_parallel_api_test(scenario: str) -> None:
    parallel_api_test(parallel_env(scenario), num_cycles=60)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pettingzoo_parallel_seed_test(scenario: str) -> None:
    parallel_seed_test(lambda: parallel_env(scenario), num_cycles=60)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pettingzoo_api_test_on_the_aec_conversion(scenario: str) -> None:
    api_test(parallel_to_aec(parallel_env(scenario)), num_cycles=60)
    api_test(env(scenario), num_cycles=20)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_pettingzoo_state_test(scenario: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a state outside its space or with NaN would warn
        state_test(env(scenario), parallel_env(scenario), num_cycles=10)


def test_pettingzoo_warns_only_of_the_agent_names_and_multidiscrete_actions() -> None:
    """The README explains these two recommendations of PettingZoo's api_test; no others."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        api_test(env("race"), num_cycles=10)
    assert {str(warning.message) for warning in caught} == {
        'We recommend agents to be named in the format <descriptor>_<number>, like "player_0"',
        "Action space for each agent probably should be gymnasium.spaces.box or "
        "gymnasium.spaces.discrete",
    }


def test_bankrupt_firms_stay_inert_to_the_end() -> None:
    parallel_api_test(parallel_env("race", bankrupt_firms="stay"), num_cycles=60)
    parallel = parallel_env("race", bankrupt_firms="stay")
    _, infos = parallel.reset(seed=0)
    quarters, bankrupt = 0, set()
    while parallel.agents:
        assert parallel.agents == parallel.possible_agents
        actions = {
            agent: parallel.action_space(agent).sample(mask=infos[agent]["action_mask"])
            for agent in parallel.agents
        }
        _, rewards, terminations, truncations, infos = parallel.step(actions)
        quarters += 1
        for agent in bankrupt:
            assert rewards[agent] == 0.0
            assert infos[agent]["action_mask"][0].tolist() == [1] + [0] * 9  # HOLD only
        bankrupt |= {agent for agent, info in infos.items() if info["bankrupt"]}
    assert bankrupt, "no firm went bankrupt on this seed"
    assert quarters == parallel.params.horizon
    assert {agent for agent, ended in terminations.items() if ended} == bankrupt
    assert all(truncations[agent] for agent in parallel.possible_agents if agent not in bankrupt)


def test_bankrupt_firms_allows_leave_or_stay() -> None:
    with pytest.raises(ValueError, match=r"bankrupt_firms = 'inert': allowed \['leave', 'stay'\]"):
        parallel_env("toy", bankrupt_firms="inert")


def test_module_conventions() -> None:
    parallel = parallel_env("toy")
    assert isinstance(parallel, LeptonParallelEnv)
    assert parallel.metadata["name"] == "lepton_expansion_v0"
    assert parallel.metadata["is_parallelizable"]
    aec = env("toy")
    assert aec.unwrapped is not aec  # order enforcing, as parallel_to_aec gives it
    assert type(raw_env("toy")).__name__ == "parallel_to_aec_wrapper"


def test_agent_names_are_identifiers_of_the_firm_names() -> None:
    assert agent_id("Lepton AI") == "lepton_ai"
    assert agent_id("US firm") == "us_firm"
    assert agent_id("  Mistral-AI (EU) ") == "mistral_ai_eu"
    assert agent_id("01.AI") == "firm_01_ai"
    with pytest.raises(ValueError, match="no letter or digit"):
        agent_id("--")
    assert parallel_env("toy").possible_agents == ["lepton_ai"]


def test_the_one_firm_world_of_a_one_firm_scenario_is_itself() -> None:
    params = make_params("toy")
    assert firm_params(params, 0) is params
    with pytest.raises(ValueError, match=r"firm = 1: allowed range \[0, 0\]"):
        firm_params(params, 1)


def test_spaces_are_cached_per_agent() -> None:
    parallel = parallel_env("toy")
    agent = parallel.possible_agents[0]
    assert parallel.observation_space(agent) is parallel.observation_space(agent)
    assert parallel.action_space(agent) is parallel.action_space(agent)
    assert parallel.action_space(agent) == spaces.MultiDiscrete([10, 10, 10, 2])
    with pytest.raises(ValueError, match="'nobody' is not in this game"):
        parallel.action_space("nobody")


def test_one_firm_observation_is_the_single_agent_observation() -> None:
    params = make_params("toy")
    box = firm_observation_space(params)
    single = LeptonExpansionEnv("toy").observation_space
    assert box == single
    # 3 regions x 30 region features (5 entry modes + 25) + 8 firm features
    assert single_width(params) == 3 * 30 + 8 == box.shape[0]


def test_sample_masks_split_per_component() -> None:
    space = spaces.MultiDiscrete([3, 2])
    flat = np.array([True, False, True, False, True])
    split = sample_masks(flat, space)
    assert isinstance(split, tuple) and len(split) == 2
    np.testing.assert_array_equal(split[0], np.array([1, 0, 1], dtype=np.int8))
    np.testing.assert_array_equal(split[1], np.array([0, 1], dtype=np.int8))
    assert split[0].dtype == np.int8
    assert space.sample(mask=split)[1] == 1  # the only valid entry of component 1
    discrete = sample_masks(flat, spaces.Discrete(5))
    np.testing.assert_array_equal(discrete, np.array([1, 0, 1, 0, 1], dtype=np.int8))


def test_action_masks_are_the_single_env_masks() -> None:
    parallel, single = parallel_env("toy"), LeptonExpansionEnv("toy")
    _, infos = parallel.reset(seed=5)
    _, info = single.reset(seed=5)
    np.testing.assert_array_equal(parallel.action_masks()["lepton_ai"], info["action_mask"])
    expected = sample_masks(info["action_mask"], single.action_space)
    for mine, theirs in zip(infos["lepton_ai"]["action_mask"], expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("action_mode", ["multi_discrete", "discrete"])
def test_one_firm_follows_the_single_agent_env_through_resets(action_mode: str) -> None:
    """F = 1: the one agent's observations, rewards, flags and infos are the single env's,
    bit for bit, over seeded and unseeded (chained) episodes."""
    parallel = parallel_env("toy", action_mode=action_mode)
    single = LeptonExpansionEnv("toy", action_mode=action_mode)  # type: ignore[arg-type]
    agent = "lepton_ai"
    generator = np.random.default_rng(3)
    steps = 0
    for episode in range(4):
        seed = 17 if episode == 0 else None
        observations, _ = parallel.reset(seed=seed)
        observation, _ = single.reset(seed=seed)
        np.testing.assert_array_equal(observations[agent], observation)
        while parallel.agents:
            mask = single.action_masks()
            if action_mode == "discrete":
                action = generator.choice(np.flatnonzero(mask))
            else:
                action = single.action_space.sample(mask=sample_masks(mask, single.action_space))
            result = parallel.step({agent: action})
            expected = single.step(action)
            for mine, theirs in zip(result[:4], expected[:4], strict=True):
                np.testing.assert_array_equal(mine[agent], theirs)
            info = result[4][agent]
            for key, value in expected[4].items():
                np.testing.assert_array_equal(info[key], value)
            assert (not parallel.agents) == (expected[2] or expected[3])
            steps += 1
    assert steps >= 4


def test_a_bankrupt_firm_leaves_the_game() -> None:
    # 5 $M of cash and 1 of credit cannot fund greenfields in both foreign regions
    parallel = parallel_env("toy", initial_cash=5.0, credit_line=1.0)
    parallel.reset(seed=0)
    _, _, terminations, truncations, infos = parallel.step({"lepton_ai": np.array([4, 4, 4, 1])})
    assert terminations == {"lepton_ai": True} and truncations == {"lepton_ai": False}
    assert infos["lepton_ai"]["bankrupt"] and infos["lepton_ai"]["cash"] < -1.0
    assert parallel.agents == []
    with pytest.raises(ValueError, match="episode is over"):
        parallel.step({})
    parallel.reset()
    assert parallel.agents == ["lepton_ai"]


def test_bad_actions_name_the_agent_and_the_expected_shape() -> None:
    parallel = parallel_env("toy")
    with pytest.raises(RuntimeError, match="reset"):
        parallel.step({"lepton_ai": np.zeros(4, dtype=np.int64)})
    parallel.reset(seed=0)
    hold = np.zeros(4, dtype=np.int64)
    with pytest.raises(ValueError, match=r"unknown agents \['us_firm'\]"):
        parallel.step({"lepton_ai": hold, "us_firm": hold})
    with pytest.raises(ValueError, match=r"no action for agents \['lepton_ai'\]"):
        parallel.step({})
    with pytest.raises(ActionError, match=r"actions\['lepton_ai'\].*shape \(3,\), expected \(4,\)"):
        parallel.step({"lepton_ai": np.zeros(3, dtype=np.int64)})
    with pytest.raises(ActionError, match=r"actions\['lepton_ai'\].*out of range"):
        parallel.step({"lepton_ai": np.array([0, 0, 11, 0])})
    with pytest.raises(ValueError, match="expected a dict"):
        parallel.step([hold])  # type: ignore[arg-type]
    for _ in range(make_params("toy").horizon):
        parallel.step({"lepton_ai": hold})
    with pytest.raises(ValueError, match="episode is over"):
        parallel.step({"lepton_ai": hold})


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="action_mode = 'continuous'"):
        parallel_env("toy", action_mode="continuous")
    with pytest.raises(ValueError, match="render_mode = 'human'"):
        parallel_env("toy", render_mode="human")


def test_state_is_every_firm_observation() -> None:
    parallel = parallel_env("toy")
    with pytest.raises(RuntimeError, match="reset"):
        parallel.state()
    observations, _ = parallel.reset(seed=2)
    state = parallel.state()
    assert parallel.state_space.contains(state)
    np.testing.assert_array_equal(
        state, np.concatenate([observations[a] for a in parallel.possible_agents])
    )


def test_render_shows_the_single_env_render() -> None:
    parallel = parallel_env("toy", render_mode="ansi")
    single = LeptonExpansionEnv("toy", render_mode="ansi")
    parallel.reset(seed=1)
    single.reset(seed=1)
    assert parallel.render() == single.render()
    assert parallel_env("toy").render() is None
    duel = parallel_env("duel_toy", render_mode="ansi")
    duel.reset(seed=1)
    assert duel.render().startswith("Quarter 0/5   cash $60.0M")  # firm 0's view


@pytest.mark.parametrize(
    ("scenario", "width"),
    [
        # own table 3 x 30 + 8 = 98, one rival x 3 regions x 3 features, 2 identity columns
        ("duel_toy", 98 + 9 + 2),
        # own table 11 x 30 + 8 = 338, two rivals x 11 regions x 3 features, 3 identity columns
        ("race", 338 + 66 + 3),
    ],
)
def test_each_agent_sees_its_own_table_then_rivals_then_its_identity(
    scenario: str, width: int
) -> None:
    parallel = parallel_env(scenario)
    observations, _ = parallel.reset(seed=0)
    firms = len(parallel.possible_agents)
    assert parallel.state().shape == (firms * width,)
    for firm, agent in enumerate(parallel.possible_agents):
        assert parallel.observation_space(agent).shape == (width,)
        np.testing.assert_array_equal(observations[agent][-firms:], np.eye(firms)[firm])
    assert parallel.possible_agents[0] == "lepton_ai"


def test_a_bankrupt_firm_leaves_while_the_others_play_on() -> None:
    # Lepton AI's greenfields abroad exhaust 5 $M of cash and 1 of credit; the rival holds
    parallel = parallel_env("duel_toy", initial_cash=5.0, credit_line=1.0)
    parallel.reset(seed=0)
    hold = np.zeros(4, dtype=np.int64)
    with pytest.raises(ValueError, match=r"no action for agents \['rival_ai'\]"):
        parallel.step({"lepton_ai": hold})
    _, _, terminations, truncations, _ = parallel.step(
        {"lepton_ai": np.array([4, 4, 4, 1]), "rival_ai": hold}
    )
    assert terminations == {"lepton_ai": True, "rival_ai": False}
    assert truncations == {"lepton_ai": False, "rival_ai": False}
    assert parallel.agents == ["rival_ai"]
    with pytest.raises(ValueError, match=r"agents \['lepton_ai'\] that have left the game"):
        parallel.step({"lepton_ai": hold, "rival_ai": hold})
    for _ in range(make_params("duel_toy").horizon - 1):
        observations, rewards, terminations, truncations, _ = parallel.step({"rival_ai": hold})
        assert set(observations) == set(rewards) == {"rival_ai"}
    # the horizon ends the game: a termination, not a truncation
    assert truncations == {"rival_ai": False} and terminations == {"rival_ai": True}
    assert parallel.agents == []


def test_a_bankrupt_firm_can_only_pass_on_the_discrete_face() -> None:
    # 1 $M of cash and credit cannot pay 8 $M of overhead at Lepton AI's smaller home
    parallel = parallel_env(
        "duel_toy", action_mode="discrete", initial_cash=1.0, credit_line=1.0, overhead=8.0
    )
    parallel.reset(seed=0)
    _, _, terminations, _, _ = parallel.step(dict.fromkeys(parallel.agents, 0))
    assert terminations == {"lepton_ai": True, "rival_ai": False}
    masks = parallel.batch.action_masks()  # firm rows: Lepton AI's stays in the batch
    assert masks[0].tolist() == [True] + [False] * (masks.shape[1] - 1)  # no R&D level
    assert masks[1].sum() > 1
