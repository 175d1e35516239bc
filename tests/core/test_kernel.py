"""The compiled core: its parallel loops equal its serial ones, an in-place step equals a
pure one, and models survive pickling."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

from lepton_env import kernel, make_params, rng
from lepton_env.core import Action, Model
from lepton_env.observation import encode_flat
from lepton_env.state import State

STOCHASTIC = {"noise": 1.0, "difficulty": 1.0, "num_regions": 5}


def _random_action(draws: np.random.Generator, batch: int, regions: int) -> Action:
    unit = draws.random((3, batch, regions)).astype(np.float32)
    return Action(
        moves=draws.integers(0, 10, (batch, regions)).astype(np.int8),
        marketing=unit[0],
        localization=unit[1],
        compliance=unit[2],
        rnd=np.where(draws.random(batch) < 0.5, np.nan, draws.random(batch)).astype(np.float32),
    )


def _trajectory(model: Model, batch: int, steps: int) -> list[object]:
    """Every output of reset, masks, observation, step and restart over a few quarters."""
    draws = np.random.default_rng(7)
    state = model.reset(rng.episode_key(np.arange(batch)))
    record: list[object] = [*model.masks(state), encode_flat(model, state)]
    for _ in range(steps):
        output = model.step(state, _random_action(draws, batch, model.params.num_regions))
        record += [output.reward, output.valid, output.observation, *output.kpis.values()]
        state = output.state
        done = np.flatnonzero(output.terminated | output.truncated | (draws.random(batch) < 0.3))
        valid, observation = output.valid.copy(), output.observation.copy()
        restarted = State(*(a.copy() for a in state.arrays))
        keys = rng.next_episode_key(state.episode_key[done])
        model.restart(restarted, done, keys, valid, observation)
        record += [valid, observation]
        state = restarted
    record += [getattr(state, f.name) for f in dataclasses.fields(State)]
    return record


@pytest.mark.parametrize("scenario", ["toy", "global", "procedural"])
def test_parallel_loops_equal_the_serial_ones_bit_for_bit(
    scenario: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = make_params(scenario, **(STOCHASTIC if scenario == "procedural" else {}))
    model = Model(params)
    serial = _trajectory(model, batch=48, steps=6)
    monkeypatch.setattr(kernel.batch, "PARALLEL_MIN_WORK", 1)  # every loop takes its prange form
    parallel = _trajectory(model, batch=48, steps=6)
    assert len(serial) == len(parallel)
    for index, (first, second) in enumerate(zip(serial, parallel, strict=True)):
        np.testing.assert_array_equal(first, second, err_msg=f"output {index}")


@pytest.mark.parametrize("parallel", [False, True])
@pytest.mark.parametrize("scenario", ["toy", "global", "procedural"])
def test_an_in_place_step_equals_a_pure_one_bit_for_bit(
    scenario: str, parallel: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if parallel:
        monkeypatch.setattr(kernel.batch, "PARALLEL_MIN_WORK", 1)
    model = Model(make_params(scenario, **(STOCHASTIC if scenario == "procedural" else {})))
    batch, draws = 40, np.random.default_rng(5)
    state = model.reset(rng.episode_key(np.arange(batch)))
    owned = State(*(a.copy() for a in state.arrays))
    valid, observation = model.valid_moves(owned), encode_flat(model, owned)
    for _ in range(8):
        action = _random_action(draws, batch, model.params.num_regions)
        pure = model.step(state, action)
        stepped = model.step_in_place(owned, action, valid, observation)
        assert stepped.state is owned
        assert stepped.valid is valid and stepped.observation is observation
        for field in dataclasses.fields(State):
            np.testing.assert_array_equal(
                getattr(owned, field.name), getattr(pure.state, field.name), err_msg=field.name
            )
        np.testing.assert_array_equal(valid, pure.valid)
        np.testing.assert_array_equal(observation, pure.observation)
        np.testing.assert_array_equal(stepped.reward, pure.reward)
        for name, value in pure.kpis.items():
            np.testing.assert_array_equal(stepped.kpis[name], value, err_msg=name)
        state = pure.state


@pytest.mark.parametrize("parallel", [False, True])
def test_frozen_rows_do_not_step(parallel: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if parallel:
        monkeypatch.setattr(kernel.batch, "PARALLEL_MIN_WORK", 1)
    model = Model(make_params("procedural", **STOCHASTIC))
    batch = 12
    state = model.reset(rng.episode_key(np.arange(batch)))
    owned = State(*(a.copy() for a in state.arrays))
    valid, observation = model.valid_moves(owned), encode_flat(model, owned)
    before_valid, before_observation = valid.copy(), observation.copy()
    frozen = np.zeros(batch, dtype=bool)
    frozen[[0, 5, 6, 11]] = True
    action = _random_action(np.random.default_rng(2), batch, model.params.num_regions)
    pure = model.step(state, action)
    stepped = model.step_in_place(owned, action, valid, observation, frozen)
    for field in dataclasses.fields(State):
        ours, theirs = getattr(owned, field.name), getattr(pure.state, field.name)
        np.testing.assert_array_equal(ours[~frozen], theirs[~frozen], err_msg=field.name)
        np.testing.assert_array_equal(
            ours[frozen], getattr(state, field.name)[frozen], err_msg=field.name
        )
    np.testing.assert_array_equal(valid[~frozen], pure.valid[~frozen])
    np.testing.assert_array_equal(valid[frozen], before_valid[frozen])
    np.testing.assert_array_equal(observation[frozen], before_observation[frozen])
    for name in ("revenue", "profit", "cash", "entries", "invalid_moves", "entries_by_mode"):
        np.testing.assert_array_equal(stepped.kpis[name][~frozen], pure.kpis[name][~frozen])
        assert not np.any(stepped.kpis[name][frozen]), name


def test_in_place_kpis_are_not_views_of_the_state() -> None:
    model = Model(make_params("toy"))
    state = model.reset(rng.episode_key(np.arange(3)))
    revenue = state.revenue.copy()
    output = model.step_in_place(state, Action.hold(3, model.params.num_regions))
    np.testing.assert_array_equal(output.kpis["previous_revenue"], revenue)
    for name, value in output.kpis.items():
        for array in state.arrays:
            assert not np.shares_memory(value, array), name


def test_restart_equals_a_fresh_reset_of_the_rows() -> None:
    model = Model(make_params("procedural", **STOCHASTIC))
    state = model.reset(rng.episode_key(np.arange(6)))
    output = model.step(state, _random_action(np.random.default_rng(1), 6, 5))
    rows = np.array([1, 4])
    keys = rng.episode_key(np.array([100, 200]))
    restarted = State(*(a.copy() for a in output.state.arrays))
    valid, observation = output.valid.copy(), output.observation.copy()
    model.restart(restarted, rows, keys, valid, observation)
    fresh = model.reset(keys)
    for field in dataclasses.fields(State):
        np.testing.assert_array_equal(
            getattr(restarted, field.name)[rows], getattr(fresh, field.name)
        )
        kept = np.setdiff1d(np.arange(6), rows)
        np.testing.assert_array_equal(
            getattr(restarted, field.name)[kept], getattr(output.state, field.name)[kept]
        )
    np.testing.assert_array_equal(valid[rows], model.valid_moves(fresh))
    np.testing.assert_array_equal(observation[rows], encode_flat(model, fresh))


def test_a_pickled_model_steps_exactly_like_the_original() -> None:
    model = Model(make_params("global"))
    copy = pickle.loads(pickle.dumps(model))
    state = model.reset(rng.episode_key(np.arange(4)))
    action = _random_action(np.random.default_rng(3), 4, model.params.num_regions)
    first, second = model.step(state, action), copy.step(state, action)
    np.testing.assert_array_equal(first.reward, second.reward)
    np.testing.assert_array_equal(first.observation, second.observation)
