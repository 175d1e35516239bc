"""On ``global``, strategy matters: the orderings international-business research expects.

Each policy is a fixed plan run through the batched core over 48 seeds; the
comparisons use the mean with a 3-standard-error margin so they are not luck.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from lepton_env import Action, Model, Move, make_params
from lepton_env.rng import episode_key
from lepton_env.state import State

SEEDS = np.arange(10_000, 10_048)
Plan = dict[int, list[tuple[str, Move]]]


def run(
    model: Model, schedule: Plan, upkeep: bool
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Returns and bankruptcies of a scheduled plan; ``upkeep`` spends on present regions."""
    params = model.params
    state = model.reset(episode_key(SEEDS))
    total = np.zeros(len(SEEDS))
    alive = np.ones(len(SEEDS), dtype=bool)
    bankrupt = np.zeros(len(SEEDS), dtype=bool)
    for quarter in range(params.horizon):
        action = planned_action(model, state, schedule.get(quarter, []), upkeep)
        output = model.step(state, action)
        total += np.where(alive, output.reward, 0.0)
        bankrupt |= output.kpis["bankrupt"] & alive
        alive &= ~(output.terminated | output.truncated)
        state = output.state
    return total, bankrupt


def planned_action(
    model: Model, state: State, moves: list[tuple[str, Move]], upkeep: bool
) -> Action:
    params = model.params
    action = Action.hold(state.batch_size, params.num_regions)
    planned = action.moves.copy()
    for region, move in moves:
        planned[:, params.region_names.index(region)] = move
    if not upkeep:
        return Action(planned, action.marketing, action.localization, action.compliance, action.rnd)
    present = state.entry_mode > 0
    foreign = present & (np.arange(params.num_regions) != params.home_region)
    return Action(
        moves=planned,
        marketing=np.where(present, 0.5, 0.0).astype(np.float32),
        localization=np.where(foreign & (state.localization < 0.9), 1.0, 0.0).astype(np.float32),
        compliance=np.where(present & (state.compliance < state.stringency + 0.1), 1.0, 0.0).astype(
            np.float32
        ),
        rnd=action.rnd,
    )


def clearly_less(low: NDArray[np.float64], high: NDArray[np.float64]) -> bool:
    margin = 3.0 * np.sqrt(low.var() / low.size + high.var() / high.size)
    return bool(low.mean() + margin < high.mean())


UPPSALA: Plan = {
    0: [("southeast_asia", Move.ENTER_PILOT)],
    2: [("south_korea", Move.ENTER_PARTNERSHIP)],
    4: [("southeast_asia", Move.ENTER_PARTNERSHIP)],
    6: [("japan", Move.ENTER_PARTNERSHIP)],
    10: [("south_korea", Move.ENTER_GREENFIELD)],
    12: [("gulf", Move.ENTER_PARTNERSHIP)],
    16: [("japan", Move.ENTER_GREENFIELD)],
}
FOREIGN = (
    "united_states",
    "european_union",
    "united_kingdom",
    "japan",
    "south_korea",
    "india",
    "southeast_asia",
    "gulf",
    "brazil",
    "africa",
)


@pytest.fixture(scope="module")
def model() -> Model:
    return Model(make_params("global"))


def test_sensible_expansion_beats_staying_home(model: Model) -> None:
    home_only, _ = run(model, {}, upkeep=True)
    expansion, bankrupt = run(model, UPPSALA, upkeep=True)
    assert clearly_less(home_only, expansion)
    assert not bankrupt.any()


def test_reckless_entry_everywhere_risks_bankruptcy(model: Model) -> None:
    reckless, bankrupt = run(model, {0: [(r, Move.ENTER_GREENFIELD) for r in FOREIGN]}, True)
    home_only, _ = run(model, {}, upkeep=True)
    assert bankrupt.mean() > 0.5
    assert clearly_less(reckless, home_only)


@pytest.mark.parametrize("move", list(Move))
def test_no_single_repeated_move_matches_a_plan(model: Model, move: Move) -> None:
    """Repeating one move everywhere every quarter (the trivial policies) loses to a plan."""
    every_quarter = {q: [(r, move) for r in FOREIGN] for q in range(model.params.horizon)}
    trivial, _ = run(model, every_quarter, upkeep=False)
    expansion, _ = run(model, UPPSALA, upkeep=True)
    assert clearly_less(trivial, expansion)
