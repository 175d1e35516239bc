"""Opponent populations of the batched multi-agent VecEnv: the draws (weights, seeds, seats),
one batched predict per member, the ids in the infos, and the one-member case against the
plain scripted firm."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from scipy import stats

from lepton_env.agents.players.heuristics import HomeOnlyAgent
from lepton_env.multi import LeptonMultiVecEnv
from lepton_env.multi.firms import firm_params, single_width
from lepton_env.multi.population import Population, PopulationSeat, draw_members
from lepton_env.multi.scripted import ScriptedFirm
from lepton_env.rng import episode_key
from lepton_env.scenarios import make_params
from tests.multi.test_vec_env import LOW_CASH, random_valid_actions

RIVAL = "rival_ai"  # duel_toy's second firm
HORIZON_STEPS = 14  # every duel_toy env through one reset


class RecordingAgent:
    """A heuristic that records the observation rows of each ``predict`` call."""

    def __init__(self, params: Any, firm: int) -> None:
        self.player = HomeOnlyAgent(params=firm_params(params, firm), action_mode="multi_discrete")
        self.observation_space = spaces.Box(-np.inf, np.inf, (single_width(params),))
        self.calls: list[np.ndarray] = []

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Any]:
        self.calls.append(np.array(observation))
        return self.player.predict(observation, state, episode_start, deterministic, action_masks)


def step_through(
    venv: LeptonMultiVecEnv, steps: int, seed: int
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]]:
    """``steps`` random valid steps, yielding each step's (observation, rewards, dones, infos)."""
    generator = np.random.default_rng(seed)
    regions = venv.batch.params.num_regions
    for _ in range(steps):
        actions = random_valid_actions(venv.action_masks(), regions, generator)
        observation, rewards, dones, infos = venv.step(actions)
        yield observation.copy(), rewards.copy(), dones.copy(), infos


def test_draws_follow_the_weights() -> None:
    weights = np.array([1.0, 2.0, 0.0, 5.0])
    population = Population(
        {name: "HomeOnlyAgent" for name in ("a", "b", "never", "c")}, weights=weights
    )
    venv = LeptonMultiVecEnv(500, "duel_toy", scripted={RIVAL: population})
    counts = np.zeros(len(weights))
    for seed in range(0, 4000, 500):  # 4000 episodes
        venv.seed(seed)
        venv.reset()
        counts += np.bincount(venv.population_draws[RIVAL], minlength=len(weights))
    assert counts[2] == 0  # a zero weight is never drawn
    expected = weights / weights.sum() * counts.sum()
    kept = weights > 0
    assert stats.chisquare(counts[kept], expected[kept]).pvalue > 1e-3


def test_a_draw_is_a_pure_function_of_the_episode_seed() -> None:
    population = Population({"a": "HomeOnlyAgent", "b": "GreedyLargestMarketAgent"})
    runs = []
    for _ in range(2):
        venv = LeptonMultiVecEnv(6, "duel_toy", scripted={RIVAL: population}, **LOW_CASH)
        venv.seed(7)
        venv.reset()
        draws = [venv.population_draws[RIVAL]]
        for observation, rewards, _, infos in step_through(venv, 2 * HORIZON_STEPS, 3):
            draws.append(venv.population_draws[RIVAL])
            runs.append((observation, rewards, [info["opponent"] for info in infos]))
        runs.append(np.stack(draws))
    half = len(runs) // 2
    for first, second in zip(runs[:half], runs[half:], strict=True):
        np.testing.assert_equal(first, second)
    # env e seeded 7 + e draws what a lone env seeded 7 + e draws, from the episode key
    first_draws = runs[half - 1][0]
    for e in range(6):
        alone = LeptonMultiVecEnv(1, "duel_toy", scripted={RIVAL: population}, **LOW_CASH)
        alone.seed(7 + e)
        alone.reset()
        assert alone.population_draws[RIVAL][0] == first_draws[e]
    offset = make_params("duel_toy").seed_offset
    keys = episode_key(np.arange(7, 13), offset)
    np.testing.assert_array_equal(draw_members(keys, 1, np.ones(2)), first_draws)
    assert len(set(runs[half - 1].ravel().tolist())) == 2  # not one member everywhere


def test_each_member_predicts_once_per_step_on_the_rows_that_drew_it() -> None:
    params = make_params("duel_toy", **LOW_CASH)
    members = {name: RecordingAgent(params, 1) for name in ("a", "b", "c")}
    population = Population(members, weights={"a": 1.0, "b": 1.0, "c": 2.0})
    n, num_firms = 12, 2
    venv = LeptonMultiVecEnv(n, "duel_toy", scripted={RIVAL: population}, **LOW_CASH)
    venv.seed(11)
    venv.reset()
    ids = population.ids
    for info in venv.reset_infos:
        assert set(info["opponent"]) == {RIVAL}
    generator = np.random.default_rng(0)
    for _ in range(2 * HORIZON_STEPS):
        draws = venv.population_draws[RIVAL]
        observation = venv.batch.observe_all().copy()
        for agent in members.values():
            agent.calls.clear()
        actions = random_valid_actions(venv.action_masks(), params.num_regions, generator)
        _, _, dones, infos = venv.step(actions)
        for m, name in enumerate(ids):
            envs = np.flatnonzero(draws == m)
            calls = members[name].calls
            assert len(calls) == (1 if len(envs) else 0)
            if len(envs):
                rows = envs * num_firms + 1
                np.testing.assert_array_equal(calls[0], observation[rows, : single_width(params)])
        # the infos name the member of the episode the step played (rows = envs here)
        assert [info["opponent"][RIVAL] for info in infos] == [ids[m] for m in draws]
        after = venv.population_draws[RIVAL]
        for row in np.flatnonzero(dones):
            assert venv.reset_infos[row]["opponent"] == {RIVAL: ids[after[row]]}


def test_each_seat_draws_from_its_own_population() -> None:
    first = Population({"home": "HomeOnlyAgent", "greedy": "GreedyLargestMarketAgent"})
    second = Population({"uppsala": "UppsalaAgent", "global": "BornGlobalAgent"}, [1.0, 0.0])
    venv = LeptonMultiVecEnv(
        32,
        "race",
        learners=["lepton_ai"],
        scripted={"us_ai_firm": first, "european_ai_firm": second},
    )
    venv.seed(0)
    venv.reset()
    draws = venv.population_draws
    assert set(draws) == {"us_ai_firm", "european_ai_firm"}
    assert set(draws["us_ai_firm"].tolist()) == {0, 1}
    assert not draws["european_ai_firm"].any()  # "global" weighs 0
    # seats draw different numbers of one episode key
    keys = venv.batch.state.episode_key
    assert not np.array_equal(draw_members(keys, 1, np.ones(2)), draw_members(keys, 2, np.ones(2)))
    np.testing.assert_array_equal(draws["us_ai_firm"], draw_members(keys, 1, np.ones(2)))
    *_, infos = venv.step(np.zeros((32, *venv.action_space.shape), dtype=np.int64))
    assert infos[5]["opponent"] == {
        "us_ai_firm": first.ids[draws["us_ai_firm"][5]],
        "european_ai_firm": "uppsala",
    }
    with pytest.raises(KeyError, match=r"'lepton_ai'.*population seats are"):
        venv.set_population_weights("lepton_ai", [1.0])


def test_new_weights_rule_the_next_episodes() -> None:
    population = Population({"a": "HomeOnlyAgent", "b": "GreedyLargestMarketAgent"})
    venv = LeptonMultiVecEnv(16, "duel_toy", scripted={RIVAL: population})
    venv.seed(1)
    venv.reset()
    before = venv.population_draws[RIVAL]
    assert before.any() and not before.all()
    venv.set_population_weights(RIVAL, {"b": 1.0})
    started = np.zeros(16, dtype=bool)
    hold = np.zeros((16, *venv.action_space.shape), dtype=np.int64)  # nobody goes bankrupt
    for _ in range(HORIZON_STEPS):
        _, _, dones, infos = venv.step(hold)
        # a finished episode reports the member it played; one under way keeps its member
        for row in np.flatnonzero(dones & ~started):
            assert infos[row]["opponent"][RIVAL] == population.ids[before[row]]
        started |= dones
        np.testing.assert_array_equal(venv.population_draws[RIVAL][~started], before[~started])
    assert started.all()
    assert venv.population_draws[RIVAL].all()
    venv.set_population_weights(RIVAL, [3.0, 0.0])
    list(step_through(venv, HORIZON_STEPS, 1))
    assert not venv.population_draws[RIVAL].any()


def assert_same_steps(plain: LeptonMultiVecEnv, drawn: LeptonMultiVecEnv, steps: int) -> None:
    """Both faces, seeded alike, give the same steps bit for bit (infos but the opponent)."""
    plain.seed(5)
    drawn.seed(5)
    np.testing.assert_array_equal(plain.reset(), drawn.reset())
    generator = np.random.default_rng(2)
    regions = plain.batch.params.num_regions
    for _ in range(steps):
        actions = random_valid_actions(plain.action_masks(), regions, generator)
        expected, got = plain.step(actions), drawn.step(actions)
        for a, b in zip(expected[:3], got[:3], strict=True):
            np.testing.assert_array_equal(a, b)
        for info, other in zip(expected[3], got[3], strict=True):
            other = {key: value for key, value in other.items() if key != "opponent"}
            for episode in (info.get("episode"), other.get("episode")):
                if episode:
                    del episode["t"]  # wall-clock seconds
            np.testing.assert_equal(info, other)
        np.testing.assert_array_equal(plain.action_masks(), drawn.action_masks())


@pytest.mark.parametrize(
    ("scenario", "overrides", "steps"),
    [("duel_toy", LOW_CASH, 2 * HORIZON_STEPS), ("race", {"initial_cash": 30.0}, 44)],
)
def test_a_population_of_one_plays_as_the_scripted_firm(
    scenario: str, overrides: dict[str, Any], steps: int
) -> None:
    agents = LeptonMultiVecEnv(1, scenario, **overrides).agents
    seat = agents[-1]
    # the segment heuristic carries a recurrent state through its episodes
    plain = LeptonMultiVecEnv(4, scenario, scripted={seat: "PilotThenScaleAgent"}, **overrides)
    drawn = LeptonMultiVecEnv(
        4,
        scenario,
        scripted={
            seat: Population({"only": "PilotThenScaleAgent", "unused": "RandomAgent"}, [1, 0])
        },
        **overrides,
    )
    assert_same_steps(plain, drawn, steps)


def test_two_copies_of_a_heuristic_play_as_the_heuristic() -> None:
    # the envs of each copy change at every episode start (firms go bankrupt at different
    # times: envs end apart), the copies' rows and states regrouped each time
    seat, overrides = "european_ai_firm", {"initial_cash": 30.0, "credit_line": 5.0}
    plain = LeptonMultiVecEnv(8, "race", scripted={seat: "PilotThenScaleAgent"}, **overrides)
    population = Population({"a": "PilotThenScaleAgent", "b": "PilotThenScaleAgent"})
    drawn = LeptonMultiVecEnv(8, "race", scripted={seat: population}, **overrides)
    assert_same_steps(plain, drawn, 60)


def test_a_loaded_sb3_model_is_a_member() -> None:
    face = LeptonMultiVecEnv(
        2, "duel_toy", learners=[RIVAL], scripted={"lepton_ai": "HomeOnlyAgent"}
    )
    model = MaskablePPO("MlpPolicy", face, n_steps=8, batch_size=8, seed=0)
    plain = LeptonMultiVecEnv(4, "duel_toy", scripted={RIVAL: model}, **LOW_CASH)
    population = Population({"ppo": model, "home": "HomeOnlyAgent"}, [1.0, 0.0])
    drawn = LeptonMultiVecEnv(4, "duel_toy", scripted={RIVAL: population}, **LOW_CASH)
    assert_same_steps(plain, drawn, HORIZON_STEPS)
    drawn.set_population_weights(RIVAL, [1.0, 1.0])
    drawn.seed(0)
    drawn.reset()
    assert set(drawn.population_draws[RIVAL].tolist()) == {0, 1}
    *_, infos = drawn.step(np.zeros((4, *drawn.action_space.shape), dtype=np.int64))
    assert {info["opponent"][RIVAL] for info in infos} == {"ppo", "home"}


class TagAgent:
    """A recurrent agent whose state is the env id it read at its episode's start (column 0
    of the observation): a state that does not follow its env's row shows as a mismatch.
    With ``lstm``, the state is laid out as sb3-contrib's LSTM states, (layers, batch, 1)."""

    def __init__(self, lstm: bool) -> None:
        self.lstm = lstm
        if lstm:
            self.policy = type("Policy", (), {"lstm_actor": None})()
        self.mismatches = 0

    def predict(
        self, observation: np.ndarray, state: Any, episode_start: np.ndarray, **_: Any
    ) -> tuple[np.ndarray, Any]:
        tags = observation[:, 0].astype(np.int64)
        if state is None:
            carried = tags.copy()
        else:
            carried = (state[0][0, :, 0] if self.lstm else state[0]).copy()
        carried[episode_start] = tags[episode_start]
        self.mismatches += int(np.sum(carried != tags))
        shaped = carried[None, :, None] if self.lstm else carried
        return carried, (shaped, shaped)


@pytest.mark.parametrize("lstm", [False, True])
def test_regrouped_rows_carry_their_recurrent_state(lstm: bool) -> None:
    n, num_firms, firm = 40, 2, 1
    players = [
        ScriptedFirm(firm, TagAgent(lstm), slice(0), width=1, masked=False, deterministic=True)
        for _ in range(3)
    ]
    seat = PopulationSeat(RIVAL, firm, Population({"a": 0, "b": 1, "c": 2}), players)
    observation = np.repeat(np.arange(n, dtype=np.float32), num_firms)[:, None]
    masks = np.ones((n * num_firms, 1), dtype=bool)
    actions = np.full(n * num_firms, -1)
    generator = np.random.default_rng(0)
    seat.start_episodes(np.arange(n), episode_key(np.arange(n)), n, num_firms)
    for step in range(12):
        seat.act_into(actions, observation, masks)
        np.testing.assert_array_equal(actions[firm::num_firms], np.arange(n))
        envs = np.flatnonzero(generator.random(n) < 0.3)  # some envs start new episodes
        seat.start_episodes(envs, episode_key(envs + 1000 * step), n, num_firms)
    assert all(player.agent.mismatches == 0 for player in players)


def test_a_snapshot_keeps_the_members_of_the_episodes() -> None:
    population = Population({"a": "HomeOnlyAgent", "b": "GreedyLargestMarketAgent"})
    venv = LeptonMultiVecEnv(8, "duel_toy", scripted={RIVAL: population})
    venv.seed(4)
    venv.reset()
    list(step_through(venv, 5, 0))
    snapshot = venv.snapshot()
    later = list(step_through(venv, 12, 1))
    venv.restore(snapshot)
    again = list(step_through(venv, 12, 1))
    for (obs, rewards, dones, infos), (obs2, rewards2, dones2, infos2) in zip(
        later, again, strict=True
    ):
        np.testing.assert_array_equal(obs, obs2)
        np.testing.assert_array_equal(rewards, rewards2)
        np.testing.assert_array_equal(dones, dones2)
        assert [i["opponent"] for i in infos] == [i["opponent"] for i in infos2]


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1.0, -0.5], r"members \['b'\] have a negative"),
        ([0.0, 0.0], "sum to 0"),
        ([1.0], "one weight per member, 2"),
        ({"c": 1.0}, r"unknown members \['c'\]"),
        ([1.0, float("nan")], r"members \['b'\]"),
    ],
)
def test_bad_weights_are_refused_with_the_key(weights: Any, message: str) -> None:
    members = {"a": "HomeOnlyAgent", "b": "UppsalaAgent"}
    with pytest.raises(ValueError, match=message):
        Population(members, weights)
    venv = LeptonMultiVecEnv(2, "duel_toy", scripted={RIVAL: Population(members)})
    with pytest.raises(ValueError, match=f"population weights of '{RIVAL}'.*{message}"):
        venv.set_population_weights(RIVAL, weights)


def test_bad_populations_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        Population({})
    with pytest.raises(ValueError, match=r"scripted\['rival_ai'\].members\['x'\]"):
        LeptonMultiVecEnv(2, "duel_toy", scripted={RIVAL: Population({"x": "NoSuchAgent"})})
    with pytest.raises(ValueError, match=r"unknown agents \['nobody'\]"):
        LeptonMultiVecEnv(2, "duel_toy", scripted={"nobody": Population({"x": "HomeOnlyAgent"})})
    venv = LeptonMultiVecEnv(2, "duel_toy", scripted={RIVAL: "HomeOnlyAgent"})
    with pytest.raises(KeyError, match=f"'{RIVAL}'.*population seats are \\[\\]"):
        venv.set_population_weights(RIVAL, [1.0])
