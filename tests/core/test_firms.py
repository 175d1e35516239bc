"""Rival firms in the one kernel: each multi-firm rule against a hand-computed value.

``duel_toy`` is ``toy`` with a rival at home in ``far``; the rules are the choice set of the
attraction model, the conflicts over an acquisition target and over partners, incumbents
reacting to the entrants together, bankrupt firms leaving, and what each firm observes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lepton_env import make_params, rng
from lepton_env.core import Action, Model, StepOutput
from lepton_env.features import FIRM_FEATURES, REGION_FEATURES, observation_width
from lepton_env.mechanisms import competitors, share
from lepton_env.rng import Stream
from lepton_env.state import FIRM_FIELDS, State
from lepton_env.types import EntryMode, Move

HOME, NEAR, FAR = 0, 1, 2
OWN_WIDTH = 3 * len(REGION_FEATURES) + len(FIRM_FEATURES)


def _duel(**overrides: Any) -> Model:
    return Model(make_params("duel_toy", **overrides))


def _moves(model: Model, state: State, moves: dict[tuple[int, int], int]) -> Action:
    """Every firm holds but at ``(firm row, region)`` keys, R&D unchanged."""
    action = Action.hold(state.cash.shape[0], model.params.num_regions)
    for (row, region), move in moves.items():
        action.moves[row, region] = move
    return action


def test_the_logit_choice_set_holds_every_serving_firm() -> None:
    firm_utility = np.array([1.0, 0.5, 3.0], dtype=np.float32)
    serving = np.array([True, True, False])
    rivals = np.array([0.2, 0.7], dtype=np.float32)
    active = np.array([True, False])
    targets = np.empty(3)
    share.firm_target_shares(firm_utility, serving, rivals, active, np.float32(0.0), targets)
    weights = np.exp([1.0, 0.5, 0.2, 0.0])  # two firms, the active rival, the outside option
    np.testing.assert_allclose(targets, [*(weights[:2] / weights.sum()), 0.0], rtol=1e-6)
    np.testing.assert_allclose(rivals, [weights[2] / weights.sum(), 0.0], rtol=1e-6)


@given(
    utility=st.floats(-5, 5, width=32),
    serving=st.booleans(),
    rivals=st.lists(st.floats(-5, 5, width=32), min_size=1, max_size=4),
    outside=st.floats(-5, 5, width=32),
)
def test_one_firm_shares_are_the_logit_of_the_players_present(
    utility: float, serving: bool, rivals: list[float], outside: float
) -> None:
    active = np.arange(len(rivals)) % 2 == 0
    competitors_ = np.array(rivals, dtype=np.float32)
    firm = share.target_shares(
        np.float32(utility), serving, competitors_, active, np.float32(outside)
    )
    weights = np.exp(np.array([utility, *rivals, outside], dtype=np.float64))
    weights[0] *= serving
    weights[1:-1] *= active
    expected = weights / weights.sum()
    assert firm == pytest.approx(expected[0], rel=1e-5, abs=1e-12)
    np.testing.assert_allclose(competitors_, expected[1:-1], rtol=1e-5, atol=1e-12)


def test_a_rival_at_home_leaves_the_firm_its_single_firm_trajectory() -> None:
    """Lepton AI never enters the rival's home ``far``: its cash, rewards, KPIs and its rows of
    the regions it plays in are those of ``toy``, bit for bit."""
    duel, alone = _duel(), Model(make_params("toy"))
    keys = rng.episode_key(np.arange(3), 0)
    two, one = duel.reset(keys), alone.reset(keys)
    plan = [{NEAR: Move.ENTER_PILOT}, {NEAR: Move.MARKETING}, {NEAR: Move.ENTER_GREENFIELD}, {}, {}]
    for quarter, moves in enumerate(plan):
        lepton = _moves(alone, one, {(b, r): m for b in range(3) for r, m in moves.items()})
        rnd = np.float32(0.5 if quarter % 2 else np.nan)
        lepton = dataclasses.replace(lepton, rnd=np.full(3, rnd, dtype=np.float32))
        both = _moves(duel, two, {(2 * b, r): m for b in range(3) for r, m in moves.items()})
        both = dataclasses.replace(both, rnd=np.repeat(lepton.rnd, 2))
        out_two, out_one = duel.step(two, both), alone.step(one, lepton)
        np.testing.assert_array_equal(out_two.reward[::2], out_one.reward)
        for name in ("revenue", "profit", "cash", "firm_value", "entries"):
            np.testing.assert_array_equal(out_two.kpis[name][::2], out_one.kpis[name])
        two, one = out_two.state, out_one.state
        for field in dataclasses.fields(State):
            mine, single = getattr(two, field.name), getattr(one, field.name)
            if field.name in FIRM_FIELDS:
                mine = mine[::2]
            if mine.ndim > 1:
                mine, single = mine[:, :FAR], single[:, :FAR]
            np.testing.assert_array_equal(mine, single, err_msg=field.name)
    assert (one.entry_mode[:, NEAR] == EntryMode.GREENFIELD).all()


def test_two_approved_bids_for_one_target_one_buys_the_other_pays_the_fee() -> None:
    model = _duel(initial_cash=5000.0)
    state = model.reset(rng.episode_key(np.arange(1), 0))
    costs = model.move_costs(state)
    price = costs[0, NEAR, Move.ENTER_ACQUISITION]
    assert price == costs[1, NEAR, Move.ENTER_ACQUISITION]  # the same target, the same price
    target = int(np.argmax(state.competitor_share[0, NEAR]))
    output = model.step(state, _moves(model, state, {(0, NEAR): 3, (1, NEAR): 3}))
    draw = rng.uniform_at(int(state.episode_key[0]), 0, Stream.CONFLICT, 2 * NEAR)
    winner = int(draw * 2)  # toy screens nobody: both bids are approved
    loser = 1 - winner
    assert output.state.entry_mode[winner, NEAR] == EntryMode.ACQUISITION
    assert output.state.entry_mode[loser, NEAR] == EntryMode.NONE
    assert output.kpis["entry_cost"][winner] == price
    assert output.kpis["entry_cost"][loser] == pytest.approx(0.05 * price, rel=1e-12)
    assert output.kpis["acquisitions_vetoed"].tolist() == [int(loser == 0), int(loser == 1)]
    assert not output.state.competitor_active[0, NEAR, target]


def test_partners_are_exclusive_the_second_firm_takes_the_next_best() -> None:
    model = _duel()
    state = model.reset(rng.episode_key(np.arange(1), 0))
    best, second = 1, 0  # `near`'s candidates are known: quality 0.6 and 0.8
    output = model.step(state, _moves(model, state, {(0, NEAR): 2, (1, NEAR): 2}))
    draw = rng.uniform_at(int(state.episode_key[0]), 0, Stream.CONFLICT, 2 * NEAR + 1)
    first = int(draw * 2)
    assert output.state.partner[first, NEAR] == best
    assert output.state.partner[1 - first, NEAR] == second
    assert (output.state.entry_mode[:, NEAR] == EntryMode.PARTNERSHIP).all()


def test_the_first_partner_pick_is_drawn_among_the_partnering_firms_only() -> None:
    # three firms (a second rival, also at home in `far`); Lepton AI and the second rival
    # partner in `near`, the first rival abstains: each partnering firm picks first half
    # the time (drawn over all three firms, the one after the abstainer picked first 2/3)
    model = _duel(
        rival_names=("Rival AI", "Third AI"),
        rival_home=np.array([2, 2]),
        rival_psychic_distance=np.array([[0.7, 0.5, 0.0]] * 2),
        rival_geopolitical_risk=np.zeros((2, 3)),
        rival_fdi_screening=np.zeros((2, 3)),
    )
    seeds = np.arange(400)
    state = model.reset(rng.episode_key(seeds, 0))
    moves = {}
    for b in seeds:
        moves[(3 * b, NEAR)] = moves[(3 * b + 2, NEAR)] = Move.ENTER_PARTNERSHIP
    output = model.step(state, _moves(model, state, moves))
    best = 1  # `near`'s candidates are known: quality 0.6 and 0.8
    firsts = []
    for b in seeds:
        draw = rng.uniform_at(state.episode_key[b], 0, Stream.CONFLICT, 2 * NEAR + 1)
        first = (0, 2)[int(draw * 2)]
        assert output.state.partner[3 * b + first, NEAR] == best
        assert output.state.partner[3 * b + 2 - first, NEAR] == 0
        firsts.append(first)
    assert 0.42 < np.mean(np.array(firsts) == 2) < 0.58


def test_a_partnership_is_invalid_when_every_candidate_is_held_by_a_rival() -> None:
    one_candidate = {"partner_quality_mean": np.full((3, 1), 0.7)}
    model = _duel(**one_candidate)
    state = model.reset(rng.episode_key(np.arange(1), 0))
    assert model.valid_moves(state)[0, NEAR, Move.ENTER_PARTNERSHIP]
    state = model.step(state, _moves(model, state, {(1, NEAR): 2})).state
    assert state.partner[1, NEAR] == 0
    assert not model.valid_moves(state)[0, NEAR, Move.ENTER_PARTNERSHIP]
    alone = Model(make_params("toy", **one_candidate))
    assert alone.valid_moves(alone.reset(rng.episode_key(np.arange(1), 0)))[0, NEAR, 2]


def test_incumbents_react_to_the_entrants_summed_share() -> None:
    """`near`'s slot 0 is a price warrior (threshold 5%): two entrants at 3% each start a
    price war that one entrant at 3% does not."""
    model = _duel()
    state = model.reset(rng.episode_key(np.arange(1), 0))
    state.entry_mode[:, NEAR] = EntryMode.PILOT
    state.firm_share[:, NEAR] = 0.03
    price = float(state.competitor_price[0, NEAR, 0])
    p = model.params
    output = model.step(state, _moves(model, state, {}))
    expected = competitors.price_war(
        price, np.float64(np.float32(0.03)) * 2, p.price_war_threshold, p.price_war_cut, 0.5
    )
    assert expected < price
    assert output.state.competitor_price[0, NEAR, 0] == np.float32(expected)
    state.firm_share[1, NEAR] = 0.0
    state.entry_mode[1, NEAR] = EntryMode.NONE
    assert model.step(state, _moves(model, state, {})).state.competitor_price[0, NEAR, 0] == price


def test_a_bankrupt_firm_leaves_and_the_others_play_on() -> None:
    model = _duel(overhead=30.0)
    p = model.params
    state = model.reset(rng.episode_key(np.arange(1), 0))
    state.cash[:] = [1000.0, -p.credit_line + 1.0]  # the overhead sinks the rival only
    output = model.step(state, _moves(model, state, {}))
    assert output.terminated.tolist() == [False, True]
    gone = output.state
    assert (gone.entry_mode[1] == EntryMode.NONE).all() and (gone.firm_share[1] == 0).all()
    assert model.valid_moves(gone)[1, :, 1:].sum() == 0  # it can only hold
    later = model.step(gone, _moves(model, gone, {(1, HOME): 1, (0, NEAR): 1}))
    assert later.terminated.tolist() == [False, True]
    assert later.reward[1] == 0.0 and later.kpis["invalid_moves"][1] == 0
    assert later.state.cash[1] == gone.cash[1]
    assert later.state.entry_mode[0, NEAR] == EntryMode.PILOT


def test_each_firm_sees_its_own_table_then_the_rivals_public_state_then_who_it_is() -> None:
    model = _duel()
    state = model.reset(rng.episode_key(np.arange(1), 0))
    _, observation = model.empty_outputs(1)
    assert observation.shape == (2, observation_width(3, 2)) == (2, OWN_WIDTH + 3 * 3 + 2)
    output = model.step(state, _moves(model, state, {(0, NEAR): 1}))
    seen = output.observation
    after = output.state
    lepton_sees_rival = seen[0, OWN_WIDTH : OWN_WIDTH + 9].reshape(3, 3)
    np.testing.assert_array_equal(lepton_sees_rival[:, 0], [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(lepton_sees_rival[:, 1], [0.0, 0.0, 0.75])  # greenfield: 3 / 4
    np.testing.assert_array_equal(lepton_sees_rival[:, 2], after.firm_share[1])
    rival_sees_lepton = seen[1, OWN_WIDTH : OWN_WIDTH + 9].reshape(3, 3)
    np.testing.assert_array_equal(rival_sees_lepton[:, 0], [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(rival_sees_lepton[:, 1], [0.75, 0.25, 0.0])
    np.testing.assert_array_equal(seen[:, -2:], np.eye(2))


@st.composite
def _worlds(draw: st.DrawFn) -> tuple[Model, int]:
    name = draw(st.sampled_from(["duel_toy", "race"]))
    cash = draw(st.sampled_from([None, 40.0, 3000.0]))
    options = {} if cash is None else {"initial_cash": cash}
    return _model(name, tuple(options.items())), draw(st.integers(0, 2**32 - 1))


_MODELS: dict[Any, Model] = {}


def _model(name: str, options: tuple[tuple[str, Any], ...]) -> Model:
    if (name, options) not in _MODELS:
        _MODELS[name, options] = Model(make_params(name, **dict(options)))
    return _MODELS[name, options]


@settings(max_examples=20, deadline=None)
@given(world=_worlds())
def test_every_firm_keeps_the_invariants(world: tuple[Model, int]) -> None:
    """Shares of firms and incumbents sum to at most 1 per region, each firm's cash moves
    by its revenue less its costs, every number is finite, firms out stay out."""
    model, seed = world
    draws = np.random.default_rng(seed)
    state = model.reset(rng.episode_key(np.arange(4), seed % 1000))
    firms, regions = model.params.num_firms, model.params.num_regions
    out = np.zeros(state.cash.shape[0], dtype=bool)
    for _ in range(model.params.horizon):
        valid = model.valid_moves(state)
        scores = draws.random(valid.shape) * valid
        moves = scores.argmax(axis=-1).astype(np.int8)
        spends = (draws.random((3, *moves.shape)) < 0.3).astype(np.float32)
        rnd = draws.random(moves.shape[0]).astype(np.float32)
        output: StepOutput = model.step(state, Action(moves, *spends, rnd))
        new = output.state
        total = new.firm_share.reshape(-1, firms, regions).sum(axis=1)
        assert np.all(total + new.competitor_share.sum(axis=-1) <= 1.0 + 1e-5)
        costs = sum(
            output.kpis[name]
            for name in (
                "cost_of_revenue", "operating_cost", "entry_cost", "exit_cost", "spend_cost",
                "rnd_cost", "fines", "overhead",
            )
        )  # fmt: skip
        np.testing.assert_allclose(
            new.cash - state.cash, output.kpis["revenue"] - costs, rtol=0, atol=1e-6
        )
        for field in dataclasses.fields(State):
            value = getattr(new, field.name)
            assert value.dtype.kind != "f" or np.isfinite(value).all(), field.name
        assert output.terminated[out].all() and (output.reward[out] == 0).all()
        out |= output.terminated
        state = new


def test_a_batch_of_races_is_each_race_alone_in_place_or_not() -> None:
    """64 races (run on every core) step as 64 single races do, in place or not, and a
    restarted row is the reset it stands for."""
    model = _model("race", ())
    keys = rng.episode_key(np.arange(64), 0)
    batch = model.reset(keys)
    owned = model.reset(keys)
    valid, observation = model.empty_outputs(64)
    valid[:] = model.valid_moves(owned)
    draws = np.random.default_rng(0)
    for _ in range(6):
        scores = draws.random(valid.shape) * model.valid_moves(batch)
        action = Action(
            scores.argmax(axis=-1).astype(np.int8),
            *(draws.random((3, 192, 11)) < 0.2).astype(np.float32),
            np.where(draws.random(192) < 0.5, np.nan, 0.7).astype(np.float32),
        )
        output = model.step(batch, action)
        model.step_in_place(owned, action, valid, observation)
        for b in (0, 17, 63):
            rows = slice(3 * b, 3 * b + 3)
            alone = model.step(
                batch.take(np.array([b])),
                Action(
                    *(np.asarray(getattr(action, f.name))[rows] for f in dataclasses.fields(Action))
                ),
            )
            np.testing.assert_array_equal(alone.reward, output.reward[rows])
            np.testing.assert_array_equal(alone.observation, output.observation[rows])
            np.testing.assert_array_equal(alone.valid, output.valid[rows])
        for field in dataclasses.fields(State):
            np.testing.assert_array_equal(
                getattr(output.state, field.name), getattr(owned, field.name), err_msg=field.name
            )
        np.testing.assert_array_equal(output.observation, observation)
        np.testing.assert_array_equal(output.valid, valid)
        batch = output.state
    fresh = rng.episode_key(np.array([99]), 0)
    model.restart(owned, np.array([5]), fresh, valid, observation)
    again = model.reset(fresh)
    for field in dataclasses.fields(State):
        np.testing.assert_array_equal(
            getattr(owned.take(np.array([5])), field.name), getattr(again, field.name)
        )
    np.testing.assert_array_equal(valid[15:18], model.valid_moves(again))


def test_the_dict_split_of_one_firm_refuses_a_world_with_rivals() -> None:
    from lepton_env.observation import encode, encode_flat

    model = _duel()
    state = model.reset(rng.episode_key(np.arange(2), 0))
    assert encode_flat(model, state).shape == (4, observation_width(3, 2))
    with pytest.raises(ValueError, match="use encode_flat"):
        encode(model, state)
