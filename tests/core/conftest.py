"""Fixtures for the core tests: the deterministic toy world and an action builder."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from lepton_env import make_params, rng
from lepton_env.core import Action, Model
from lepton_env.state import State

ActionBuilder = Callable[..., Action]


@pytest.fixture
def toy_model() -> Model:
    """The toy world: home, near (index 1) and far (index 2); no randomness."""
    return Model(make_params("toy"))


@pytest.fixture
def toy_start(toy_model: Model) -> State:
    """The toy world's initial state, a batch of one."""
    return toy_model.reset(rng.episode_key(np.array([0])))


@pytest.fixture
def act() -> ActionBuilder:
    """``act(num_regions, {region: move}, rnd=None, batch=1)``: those moves, HOLD elsewhere."""

    def build(
        num_regions: int,
        moves: dict[int, int] | None = None,
        rnd: float | None = None,
        batch: int = 1,
    ) -> Action:
        hold = Action.hold(batch, num_regions)
        chosen = hold.moves.copy()
        for region, move in (moves or {}).items():
            chosen[:, region] = move
        level = hold.rnd if rnd is None else np.full(batch, rnd, dtype=np.float32)
        return Action(chosen, hold.marketing, hold.localization, hold.compliance, level)

    return build
