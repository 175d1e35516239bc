"""Hypothesis properties over random scenarios and random action streams.

Every step of every face keeps: shares in [0, 1] summing to at most 1 per region, cash that
balances against the KPIs, finite numbers, observations inside their space. On states
reached by random rollouts, the masks mark exactly the moves that change the state.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lepton_env
from lepton_env import make_params, rng
from lepton_env.core import Action, Model, StepOutput
from lepton_env.envs.actions import DiscreteActions
from lepton_env.state import State
from lepton_env.types import NUM_MOVES, Move

COST_KPIS = (
    "cost_of_revenue",
    "operating_cost",
    "entry_cost",
    "exit_cost",
    "spend_cost",
    "rnd_cost",
    "fines",
    "overhead",
)
STEPS = 14


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    """``gym.make`` / ``make_params`` keywords of a random world."""
    name = draw(st.sampled_from(["toy", "global", "procedural", "procedural"]))
    options: dict[str, Any] = {"scenario": name}
    if name == "procedural":
        options.update(
            num_regions=draw(st.integers(2, 8)),
            difficulty=draw(st.floats(0.0, 1.0)),
            noise=draw(st.floats(0.0, 1.0)),
            world_seed=draw(st.integers(0, 2**32 - 1)),
            split=draw(st.sampled_from(["train", "test"])),
        )
    # poor firms go bankrupt, rich ones can afford acquisitions
    cash = draw(st.one_of(st.none(), st.floats(-50.0, 3000.0)))
    if cash is not None:
        options["initial_cash"] = cash
    return options


def _params(options: dict[str, Any]) -> lepton_env.Params:
    kwargs = {k: v for k, v in options.items() if k != "scenario"}
    return make_params(options["scenario"], **kwargs)


def _check_state(state: State) -> None:
    for field in dataclasses.fields(State):
        value = getattr(state, field.name)
        if value.dtype.kind == "f":
            assert np.all(np.isfinite(value)), field.name
    firm, rivals = state.firm_share, state.competitor_share
    assert np.all((firm >= 0.0) & (firm <= 1.0))
    assert np.all((rivals >= 0.0) & (rivals <= 1.0))
    assert np.all(firm + rivals.sum(axis=-1) <= 1.0 + 1e-5)
    for name in ("adoption", "stringency", "localization", "compliance", "product_quality"):
        value = getattr(state, name)
        assert np.all((value >= 0.0) & (value <= 1.0)), name


def _check_cash(
    cash_before: np.ndarray, cash_after: np.ndarray, kpis: dict[str, np.ndarray]
) -> None:
    """``cash(t+1) - cash(t) = revenue - every cost KPI``, and every KPI is finite."""
    for name, value in kpis.items():
        assert np.all(np.isfinite(np.asarray(value, dtype=np.float64))), name
    costs = sum(np.asarray(kpis[name], dtype=np.float64) for name in COST_KPIS)
    revenue = np.asarray(kpis["revenue"], dtype=np.float64)
    scale = max(1.0, float(np.abs(cash_before).max()), float(revenue.max()), float(costs.max()))
    np.testing.assert_allclose(cash_after - cash_before, revenue - costs, rtol=0, atol=1e-9 * scale)
    np.testing.assert_array_equal(kpis["cash"], cash_after)


def _masked_action(env: Any, draw: np.random.Generator) -> Any:
    mask = env.action_masks()
    if env.action_mode == "discrete":
        return np.int64(draw.choice(np.flatnonzero(mask)))
    if env.action_mode == "multi_discrete":
        parts = np.split(mask, np.cumsum(env.action_space.nvec)[:-1])
        return np.array([draw.choice(np.flatnonzero(part)) for part in parts], dtype=np.int64)
    return env.action_space.sample()


@pytest.mark.parametrize("env_id", sorted(lepton_env.ENV_IDS))
@given(
    options=scenarios(),
    seed=st.integers(0, 2**32 - 1),
    masked_fraction=st.sampled_from([0.0, 0.5, 1.0]),
    observation_mode=st.sampled_from(["flat", "dict"]),
)
def test_every_step_keeps_the_invariants(
    env_id: str, options: dict[str, Any], seed: int, masked_fraction: float, observation_mode: str
) -> None:
    env = gym.make(env_id, observation_mode=observation_mode, **options).unwrapped
    env.action_space.seed(seed)
    draw = np.random.default_rng(seed)
    observation, _ = env.reset(seed=seed)
    assert env.observation_space.contains(observation)
    for _ in range(STEPS):
        before = env.state
        masked = draw.random() < masked_fraction
        action = _masked_action(env, draw) if masked else env.action_space.sample()
        observation, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(observation)
        assert np.isfinite(reward)
        assert reward == pytest.approx(sum(info["reward_components"].values()), rel=1e-9, abs=1e-9)
        _check_state(env.state)
        kpis = {k: np.asarray(v) for k, v in info.items() if k != "reward_components"}
        _check_cash(before.cash, env.state.cash, kpis)
        if masked and env_id == "LeptonExpansion-Single-v0":
            assert info["invalid_moves"] == 0  # one masked move is always affordable
        if terminated or truncated:
            observation, _ = env.reset()
            assert env.observation_space.contains(observation)


def _rollout_state(model: Model, seed: int, quarters: int) -> State:
    """A state reached by random (mostly valid) moves, random spends and R&D."""
    draw = np.random.default_rng(seed)
    state = model.reset(rng.episode_key(np.array([seed]), model.params.seed_offset))
    regions = model.params.num_regions
    for _ in range(quarters):
        valid = model.valid_moves(state)[0]
        moves = np.array(
            [
                draw.choice(np.flatnonzero(valid[r])) if draw.random() < 0.4 else 0
                for r in range(regions)
            ],
            dtype=np.int8,
        )[None]
        spends = draw.random((3, 1, regions)).astype(np.float32) * (draw.random() < 0.5)
        rnd = np.array([draw.random() if draw.random() < 0.3 else np.nan], dtype=np.float32)
        output = model.step(state, Action(moves, spends[0], spends[1], spends[2], rnd))
        if output.terminated[0] or output.truncated[0]:
            break
        state = output.state
    return state


def _rows_equal(states: State, row: int, other: int, ignore: tuple[str, ...] = ()) -> bool:
    return all(
        np.array_equal(getattr(states, f.name)[row], getattr(states, f.name)[other])
        for f in dataclasses.fields(State)
        if f.name not in ignore
    )


def _undone_this_quarter(output: StepOutput, row: int, region: int, move: int) -> bool:
    """A paid move the world undid within the quarter: a veto, a failure, a new law."""
    kpis = output.kpis
    return bool(
        kpis["acquisitions_vetoed"][row] > 0
        or kpis["partner_failures"][row] > kpis["partner_failures"][0]
        or (move == Move.COMPLY and output.state.compliance[row, region] == 0.0)
    )


@given(options=scenarios(), seed=st.integers(0, 2**32 - 1), quarters=st.integers(0, 12))
def test_masks_mark_exactly_the_moves_that_change_the_state(
    options: dict[str, Any], seed: int, quarters: int
) -> None:
    """Each move alone (HOLD elsewhere, same RNG key): valid changes the state, invalid is a no-op.

    Row 0 of the batch is the all-HOLD quarter; row ``1 + r * 10 + m`` plays move ``m`` in
    region ``r``. Rows share the episode key and quarter, so they draw the same randomness.
    """
    model = Model(_params(options))
    state = _rollout_state(model, seed, quarters)
    regions = model.params.num_regions
    valid = model.valid_moves(state)[0]
    rows = 1 + regions * NUM_MOVES
    batch = state.take(np.zeros(rows, dtype=np.intp))
    action = Action.hold(rows, regions)
    moves = action.moves.copy()
    for region in range(regions):
        moves[1 + region * NUM_MOVES : 1 + (region + 1) * NUM_MOVES, region] = np.arange(NUM_MOVES)
    output = model.step(batch, dataclasses.replace(action, moves=moves))
    assert output.kpis["invalid_moves"][0] == 0
    for region in range(regions):
        for move in range(1, NUM_MOVES):
            row = 1 + region * NUM_MOVES + move
            unchanged = _rows_equal(output.state, row, 0)
            label = f"region {region} move {Move(move).name}"
            if valid[region, move]:
                assert not unchanged, f"{label} is masked valid but changes nothing"
                # more than the bill: a valid move is never a paid no-op
                assert not _rows_equal(
                    output.state, row, 0, ignore=("cash",)
                ) or _undone_this_quarter(output, row, region, move), f"{label} only costs cash"
                assert output.kpis["invalid_moves"][row] == 0, label
            else:
                assert unchanged, f"{label} is masked invalid but changed the state"
                assert output.reward[row] == output.reward[0], label
                assert output.kpis["invalid_moves"][row] == 1, label
        # HOLD rows equal the all-HOLD quarter
        assert _rows_equal(output.state, 1 + region * NUM_MOVES, 0)


@given(options=scenarios(), seed=st.integers(0, 2**32 - 1), quarters=st.integers(0, 12))
def test_single_face_masks_mark_exactly_the_actions_that_change_the_state(
    options: dict[str, Any], seed: int, quarters: int
) -> None:
    """Discrete face: every masked-valid action but the pass changes the state; others don't."""
    model = Model(_params(options))
    face = DiscreteActions(model.params)
    state = _rollout_state(model, seed, quarters)
    mask = face.masks(model.valid_moves(state), state.rnd_intensity)[0]
    actions = np.arange(face.mask_size, dtype=np.int64)
    hold = Action.hold(1, model.params.num_regions)
    batch = State.concatenate([state.take(np.zeros(face.mask_size, dtype=np.intp)), state])
    decoded = face.decode(actions)
    joined = Action(
        *(
            np.concatenate([getattr(decoded, f.name), getattr(hold, f.name)])
            for f in dataclasses.fields(Action)
        )
    )
    output = model.step(batch, joined)
    last = face.mask_size
    assert mask[0], "the pass (HOLD in region 0) is always allowed"
    for index in actions[1:]:
        unchanged = _rows_equal(output.state, int(index), last)
        assert unchanged != bool(mask[index]), f"action {index}: mask {mask[index]}"
