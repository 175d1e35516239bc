"""The batched multi-agent SB3 face against n ParallelEnvs stepped one by one, its SB3
surface, and the one-firm case against the single-agent VecEnv."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from gymnasium import spaces
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecNormalize

from lepton_env.agents.players.heuristics import GreedyLargestMarketAgent, UppsalaAgent
from lepton_env.envs.actions import ActionError
from lepton_env.envs.sb3_vec import LeptonExpansionVecEnv
from lepton_env.multi import LeptonMultiVecEnv, parallel_env
from lepton_env.multi.firms import agent_ids, firm_params, single_width
from lepton_env.multi.parallel import LeptonParallelEnv
from lepton_env.multi.scripted import build_agent
from lepton_env.observation import REGION_FEATURES, encode_flat
from lepton_env.scenarios import make_params
from lepton_env.types import NUM_MOVES

LOW_CASH = {"initial_cash": 12.0, "credit_line": 2.0}
# (scenario, overrides, steps): the low-cash cases make firms go bankrupt mid-episode (with
# rivals, while the others play on); the steps take every env through a reset
CASES = [
    ("toy", {}, 14),
    ("toy", LOW_CASH, 14),
    ("duel_toy", {}, 14),
    ("duel_toy", LOW_CASH, 14),
    ("race", {"initial_cash": 30.0, "credit_line": 5.0}, 44),
]


def random_valid_actions(
    masks: np.ndarray, regions: int, generator: np.random.Generator
) -> np.ndarray:
    """One MultiDiscrete action per row, each component uniform over its valid entries."""
    rows = masks.shape[0]
    moves = masks[:, : regions * NUM_MOVES].reshape(rows, regions, NUM_MOVES)
    scores = np.where(moves, generator.random(moves.shape), -1.0)
    levels = generator.integers(0, masks.shape[1] - regions * NUM_MOVES, size=(rows, 1))
    return np.concatenate([np.argmax(scores, axis=2), levels], axis=1)


class OneEnvScript:
    """A scripted firm played in one ParallelEnv by its own agent, with the agent's
    recurrent state carried from step to step and reset with the env's episodes."""

    def __init__(self, parallel: LeptonParallelEnv, agent: str, spec: Any) -> None:
        self.parallel, self.firm = parallel, parallel.possible_agents.index(agent)
        self.agent = agent
        self.player = build_agent(spec, parallel.params, self.firm, "multi_discrete", agent)
        self.state: Any = None
        self.episode_start = np.ones(1, dtype=bool)

    def act(self) -> np.ndarray:
        firms = len(self.parallel.possible_agents)
        observation = self.parallel.state().reshape(firms, -1)[self.firm]
        action, self.state = self.player.predict(
            observation[None, : single_width(self.parallel.params)],
            state=self.state,
            episode_start=self.episode_start,
            action_masks=self.parallel.action_masks()[self.agent][None],
        )
        self.episode_start[:] = False
        return np.asarray(action)[0]


def run_against_parallel(
    n: int,
    scenario: str,
    overrides: dict[str, Any],
    seed: int,
    steps: int,
    scripted: dict[str, Any] | None = None,
) -> tuple[int, int]:
    """Step the VecEnv and n ParallelEnvs with the same actions; assert every row equals its
    ParallelEnv bit for bit (observations through ``state()``, so firms that left too).
    Returns (envs that ended, firms that went bankrupt)."""
    scripted = scripted or {}
    venv = LeptonMultiVecEnv(n, scenario, scripted=scripted, **overrides)
    envs = [parallel_env(scenario, **overrides) for _ in range(n)]
    agents = envs[0].possible_agents
    learners = [a for a in agents if a not in scripted]
    num_learners, regions = len(learners), envs[0].params.num_regions
    venv.seed(seed)
    observation = venv.reset()
    for e, env in enumerate(envs):
        env.reset(seed=seed + e)
    generator = np.random.default_rng(seed)
    scripts = [{a: OneEnvScript(env, a, spec) for a, spec in scripted.items()} for env in envs]
    ended = bankrupt = 0

    def check_rows(observation: np.ndarray) -> None:
        for e, env in enumerate(envs):
            states = env.state().reshape(len(agents), -1)
            for slot, agent in enumerate(learners):
                np.testing.assert_array_equal(
                    observation[e * num_learners + slot], states[agents.index(agent)]
                )
                if agent in env.agents:
                    np.testing.assert_array_equal(
                        venv.action_masks()[e * num_learners + slot], env.action_masks()[agent]
                    )

    check_rows(observation)
    for _ in range(steps):
        actions = random_valid_actions(venv.action_masks(), regions, generator)
        observation, rewards, dones, infos = venv.step(actions)
        for e, env in enumerate(envs):
            in_play = list(env.agents)
            step_actions = {
                agent: (
                    scripts[e][agent].act()
                    if agent in scripted
                    else actions[e * num_learners + learners.index(agent)]
                )
                for agent in in_play
            }
            last, reward, terminated, truncated, last_infos = env.step(step_actions)
            over = not env.agents
            for slot, agent in enumerate(learners):
                row = e * num_learners + slot
                acted = agent in in_play
                assert rewards[row] == (np.float32(reward[agent]) if acted else 0.0)
                finished = acted and (terminated[agent] or truncated[agent])
                assert dones[row] == (finished or over)
                if dones[row]:
                    info = infos[row]
                    assert info["TimeLimit.truncated"] == (
                        acted and truncated[agent] and not terminated[agent]
                    )
                    assert ("episode" in info) == acted
                    if acted:
                        np.testing.assert_array_equal(info["terminal_observation"], last[agent])
                        for key in ("cash", "revenue", "bankrupt", "invalid_moves"):
                            assert info[key] == last_infos[agent][key]
                if acted and terminated[agent]:
                    bankrupt += 1
            if over:
                ended += 1
                env.reset()
                for script in scripts[e].values():
                    script.episode_start[:] = True
        check_rows(observation)
    return ended, bankrupt


@pytest.mark.parametrize(("scenario", "overrides", "steps"), CASES)
def test_vec_env_equals_parallel_envs_stepped_one_by_one(
    scenario: str, overrides: dict[str, Any], steps: int
) -> None:
    ended, bankrupt = run_against_parallel(7, scenario, overrides, seed=11, steps=steps)
    assert ended >= 7  # every env went through at least one reset
    if overrides:
        assert bankrupt > 0


@pytest.mark.parametrize(
    ("scenario", "scripted", "steps"),
    [
        ("duel_toy", {"rival_ai": "UppsalaAgent"}, 12),
        ("race", {"us_ai_firm": "HomeOnlyAgent", "european_ai_firm": GreedyLargestMarketAgent}, 42),
        ("race", {"lepton_ai": "BornGlobalAgent", "european_ai_firm": "PilotThenScaleAgent"}, 42),
    ],
)
def test_scripted_firms_play_as_their_agent_would_in_each_env(
    scenario: str, scripted: dict[str, Any], steps: int
) -> None:
    """Rows of the learning firms equal the ParallelEnvs in which the scripted firms are
    played one env at a time by the same agent (built for the firm's home and distances)."""
    ended, _ = run_against_parallel(5, scenario, LOW_CASH, seed=4, steps=steps, scripted=scripted)
    assert ended >= 5


def test_rivals_that_stay_home_leave_lepton_on_its_single_agent_trajectory() -> None:
    """Every rival scripted as HomeOnlyAgent, Lepton AI never entering the rivals' home
    regions: Lepton AI's observations outside those regions, its rewards and its episode end
    are the single-agent env's on the same world without the rivals, bit for bit."""
    n, seed = 4, 9
    params = make_params("race")
    rivals = {agent: "HomeOnlyAgent" for agent in agent_ids(params)[1:]}
    ours = LeptonMultiVecEnv(n, "race", scripted=rivals)
    alone = LeptonExpansionVecEnv(n, firm_params(params, 0))
    regions, per_region = params.num_regions, len(REGION_FEATURES)
    rival_homes = list(params.firm_homes[1:])
    others = [r for r in range(regions) if r not in rival_homes]
    columns = np.concatenate(
        [np.arange(r * per_region, (r + 1) * per_region) for r in others]
        + [np.arange(regions * per_region, single_width(params))]
    )
    assert ours.num_envs == n
    ours.seed(seed)
    alone.seed(seed)
    observation, expected = ours.reset(), alone.reset()
    np.testing.assert_array_equal(observation[:, columns], expected[:, columns])
    policy = UppsalaAgent(params=firm_params(params, 0), action_mode="multi_discrete")
    playing = np.ones(n, dtype=bool)  # until Lepton AI's first episode ends in the env
    compared = 0
    for _ in range(params.horizon):
        actions, _ = policy.predict(expected, action_masks=alone.action_masks())
        actions[:, rival_homes] = 0  # never enter a rival's home region
        observation, rewards, dones, _ = ours.step(actions)
        expected, expected_rewards, expected_dones, _ = alone.step(actions)
        rows = np.flatnonzero(playing)
        np.testing.assert_array_equal(rewards[rows], expected_rewards[rows])
        np.testing.assert_array_equal(dones[rows], expected_dones[rows])
        still = rows[~dones[rows]]
        np.testing.assert_array_equal(observation[still][:, columns], expected[still][:, columns])
        compared += len(rows)
        playing[rows[dones[rows]]] = False
    assert compared >= n * params.horizon // 2
    assert np.any(ours.kpis["regions_present"].reshape(n, -1)[:, 0] > 1)  # Lepton went abroad


def test_one_firm_equals_the_single_agent_vec_env() -> None:
    """F = 1: observations, rewards, dones and every info of the single-agent VecEnv."""
    n, seed = 5, 3
    ours, theirs = LeptonMultiVecEnv(n, "toy"), LeptonExpansionVecEnv(n, "toy")
    assert ours.observation_space == theirs.observation_space
    assert ours.action_space == theirs.action_space
    ours.seed(seed)
    theirs.seed(seed)
    np.testing.assert_array_equal(ours.reset(), theirs.reset())
    generator = np.random.default_rng(0)
    episodes = 0
    for _ in range(16):
        actions = random_valid_actions(theirs.action_masks(), 3, generator)
        mine, expected = ours.step(actions), theirs.step(actions)
        for a, b in zip(mine[:3], expected[:3], strict=True):
            np.testing.assert_array_equal(a, b)
            assert a.dtype == b.dtype
        for info_a, info_b in zip(mine[3], expected[3], strict=True):
            assert info_a.keys() == info_b.keys()
            for key in info_a:
                if key == "episode":
                    episodes += 1
                    assert (info_a[key]["r"], info_a[key]["l"]) == (
                        info_b[key]["r"],
                        info_b[key]["l"],
                    )
                elif key != "reward_components":
                    np.testing.assert_array_equal(info_a[key], info_b[key])
        np.testing.assert_array_equal(ours.action_masks(), theirs.action_masks())
        assert [i["action_mask"].tolist() for i in ours.reset_infos] == [
            i["action_mask"].tolist() for i in theirs.reset_infos
        ]
    assert episodes >= n


def test_sb3_surface() -> None:
    venv = LeptonMultiVecEnv(3, "toy")
    venv.reset()
    assert venv.num_envs == 3
    assert venv.get_attr("agent") == ["lepton_ai"] * 3
    assert venv.get_attr("action_mode", indices=[1]) == ["multi_discrete"]
    np.testing.assert_array_equal(np.stack(venv.env_method("action_masks")), venv.action_masks())
    assert venv.env_is_wrapped(Monitor) == [True] * 3
    assert venv.env_is_wrapped(VecNormalize) == [False] * 3  # type: ignore[arg-type]
    with pytest.raises(AttributeError, match="get_attr\\('cash'\\)"):
        venv.get_attr("cash")
    snapshot = venv.snapshot()
    before = venv.step(np.zeros((3, 4), dtype=np.int64))
    venv.restore(snapshot)
    after = venv.step(np.zeros((3, 4), dtype=np.int64))
    np.testing.assert_array_equal(before[0], after[0])
    np.testing.assert_array_equal(before[1], after[1])


@pytest.mark.parametrize("scenario", ["toy", "race"])
def test_ppo_and_maskable_ppo_train_on_it(scenario: str) -> None:
    venv = LeptonMultiVecEnv(4, scenario)
    venv.seed(0)
    kwargs: dict[str, Any] = {
        "n_steps": 8,
        "batch_size": 16,
        "n_epochs": 1,
        "policy_kwargs": {"net_arch": [16]},
    }
    steps = 8 * venv.num_envs
    ppo = PPO("MlpPolicy", venv, **kwargs)
    ppo.learn(steps)
    assert ppo.num_timesteps == steps
    masked = MaskablePPO("MlpPolicy", venv, **kwargs)
    masked.learn(steps)
    assert masked.num_timesteps == steps
    if scenario == "toy":  # 5-quarter episodes: some ended within the rollout
        assert len(ppo.ep_info_buffer) > 0


def test_rows_are_env_major_pairs_of_the_learning_firms() -> None:
    venv = LeptonMultiVecEnv(
        2,
        "race",
        learners=["european_ai_firm", "lepton_ai"],
        scripted={"us_ai_firm": "HomeOnlyAgent"},
    )
    assert venv.learners == ("lepton_ai", "european_ai_firm")  # firm order
    assert venv.get_attr("agent") == ["lepton_ai", "european_ai_firm"] * 2
    venv.reset()
    assert venv.action_masks().shape == (4, 11 * 10 + 5)
    # row 3 is the European firm in env 1: firm row 1 * 3 + 2 of the batch
    np.testing.assert_array_equal(venv.action_masks()[3], venv.batch.action_masks()[5])
    assert venv.observation_space.shape == (407,)
    verbose = LeptonMultiVecEnv(
        2,
        "race",
        learners=["lepton_ai"],
        scripted=dict.fromkeys(["us_ai_firm", "european_ai_firm"], "HomeOnlyAgent"),
        info_kpis=True,
    )
    verbose.reset()
    _, _, _, infos = verbose.step(np.zeros((2, 12), dtype=np.int64))
    # every row's info, from the firm rows 0 and 3 of the batch
    assert [info["cash"] for info in infos] == verbose.kpis["cash"][[0, 3]].tolist()
    assert len(verbose.kpis["cash"]) == 2 * 3  # the KPIs of every firm row


def test_bad_input_is_named() -> None:
    venv = LeptonMultiVecEnv(2, "toy")
    venv.reset()
    with pytest.raises(
        ActionError, match=r"shape \(2, 3\), expected \(2, \*\(4,\)\).*\['lepton_ai'\]"
    ):
        venv.step(np.zeros((2, 3), dtype=np.int64))
    with pytest.raises(ActionError, match="actions = None"):
        venv.step_async(None)  # type: ignore[arg-type]
    with pytest.raises(ActionError, match="out of range"):
        venv.step(np.full((2, 4), 11))
    with pytest.raises(ValueError, match=r"learners names unknown agents \['us_firm'\]"):
        LeptonMultiVecEnv(2, "toy", learners=["us_firm"])
    with pytest.raises(ValueError, match="both learners and scripted"):
        LeptonMultiVecEnv(2, "toy", learners=["lepton_ai"], scripted={"lepton_ai": "HomeOnlyAgent"})
    with pytest.raises(ValueError, match=r"scripted names unknown agents \['eu_firm'\]"):
        LeptonMultiVecEnv(2, "toy", scripted={"eu_firm": "HomeOnlyAgent"})
    with pytest.raises(ValueError, match="expected one or more distinct agents"):
        LeptonMultiVecEnv(2, "toy", scripted={"lepton_ai": "HomeOnlyAgent"})
    with pytest.raises(ValueError, match="action_mode = 'continuous'"):
        LeptonMultiVecEnv(2, "toy", action_mode="continuous")
    with pytest.raises(ValueError, match=r"\['us_ai_firm', 'european_ai_firm'\] are neither"):
        LeptonMultiVecEnv(2, "race", learners=["lepton_ai"])
    with pytest.raises(ValueError, match="scripted\\['us_ai_firm'\\] = 'Nobody'"):
        LeptonMultiVecEnv(2, "race", scripted={"us_ai_firm": "Nobody"})
    with pytest.raises(TypeError, match="expected an agent with predict"):
        LeptonMultiVecEnv(2, "race", scripted={"us_ai_firm": object()})
    race = LeptonMultiVecEnv(2, "race", scripted={"us_ai_firm": "HomeOnlyAgent"})
    race.reset()
    with pytest.raises(
        ActionError, match=r"2 envs x 2 learners \['lepton_ai', 'european_ai_firm'\]"
    ):
        race.step(np.zeros((6, 12), dtype=np.int64))


def test_snapshot_and_restore_continue_the_same_episodes_with_firms_out() -> None:
    venv = LeptonMultiVecEnv(3, "race", **LOW_CASH)
    venv.seed(1)
    venv.reset()
    generator = np.random.default_rng(0)
    nvec = venv.action_space.nvec
    for _ in range(3):
        venv.step(generator.integers(0, nvec, size=(9, 12)))
    snapshot = venv.snapshot()
    assert snapshot["firm_out"].any()  # firms went bankrupt while their envs play on
    actions = [generator.integers(0, nvec, size=(9, 12)) for _ in range(4)]
    before = [venv.step(a) for a in actions]
    observation = venv.restore(snapshot)
    np.testing.assert_array_equal(observation, encode_flat(venv.batch.model, venv.batch.state))
    after = [venv.step(a) for a in actions]
    for first, second in zip(before, after, strict=True):
        for a, b in zip(first[:3], second[:3], strict=True):
            np.testing.assert_array_equal(a, b)


class RecordingAgent:
    """A test double of a loaded model: records each ``predict`` call, and holds."""

    def __init__(self, width: int, masked: bool) -> None:
        self.observation_space = spaces.Box(-np.inf, np.inf, (width,), dtype=np.float32)
        self.calls: list[tuple[tuple[int, ...], Any, list[bool]]] = []
        if masked:
            self.predict = self._predict_masked  # type: ignore[method-assign]

    def predict(
        self, observation: np.ndarray, state: Any = None, episode_start: Any = None, **_: Any
    ) -> tuple[np.ndarray, Any]:
        self.calls.append((observation.shape, None, episode_start.tolist()))
        return np.zeros((observation.shape[0], 4), dtype=np.int64), state

    def _predict_masked(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
        action_masks: Any = None,
    ) -> tuple[np.ndarray, Any]:
        self.calls.append((observation.shape, action_masks.shape, episode_start.tolist()))
        return np.zeros((observation.shape[0], 4), dtype=np.int64), state


@pytest.mark.parametrize(("width", "masked"), [(109, True), (98, False)])
def test_a_scripted_model_gets_one_batched_call_per_step(width: int, masked: bool) -> None:
    """One predict per step for all n envs, with the columns its observation space has
    (duel_toy: 109 with the rival block, 98 the single-agent table), masks when it takes
    them, and episode starts where an env was reset (duel_toy's horizon is 5)."""
    agent = RecordingAgent(width, masked)
    venv = LeptonMultiVecEnv(3, "duel_toy", scripted={"rival_ai": agent})
    venv.reset()
    for _ in range(6):
        venv.step(np.zeros((3, 4), dtype=np.int64))
    assert len(agent.calls) == 6
    assert all(shape == (3, width) for shape, _, _ in agent.calls)
    assert all(masks == ((3, 32) if masked else None) for _, masks, _ in agent.calls)
    starts = [start for _, _, start in agent.calls]
    assert starts == [[True] * 3] + [[False] * 3] * 4 + [[True] * 3]


def test_a_saved_model_plays_a_rival(tmp_path: Any) -> None:
    venv = LeptonMultiVecEnv(2, "duel_toy", scripted={"rival_ai": "HomeOnlyAgent"})
    model = MaskablePPO(
        "MlpPolicy", venv, n_steps=8, batch_size=16, policy_kwargs={"net_arch": [8]}
    )
    model.learn(16)
    model.save(tmp_path / "lepton")
    rival = MaskablePPO.load(tmp_path / "lepton")
    # the model trained as Lepton AI now plays the rival, inside the face
    arena = LeptonMultiVecEnv(2, "duel_toy", scripted={"lepton_ai": rival})
    assert arena.learners == ("rival_ai",)
    arena.reset()
    for _ in range(5):
        _, rewards, _, _ = arena.step(np.zeros((2, 4), dtype=np.int64))
        assert np.isfinite(rewards).all()
    assert arena.scripted[0].masked and arena.scripted[0].width == 109
