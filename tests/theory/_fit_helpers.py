"""Fixed entry policies for the value-of-information tests, run on the batched core.

Each policy acts in one foreign ``region`` only and reads nothing but the observation
(the belief features ``fit_belief``), as an agent would.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.core import Action, Model
from lepton_env.features import REGION_FEATURES
from lepton_env.observation import encode_flat
from lepton_env.types import EntryMode, Move

_BELIEF = [f.name for f in REGION_FEATURES].index("fit_belief")
_MODE = {m: [f.name for f in REGION_FEATURES].index(f"mode_{m.name.lower()}") for m in EntryMode}
POLICIES = ("never", "commit", "pilot_then_scale")


def returns(
    model: Model,
    policy: str,
    region: int,
    seeds: NDArray[np.int64],
    full_mode: Move = Move.ENTER_PARTNERSHIP,
) -> NDArray[np.float64]:
    """Episode returns of ``policy`` in ``region``, one per seed (every seed in one batch).

    ``never`` holds; ``commit`` enters ``full_mode`` at quarter 0; ``pilot_then_scale``
    pilots at quarter 0, then upgrades to ``full_mode`` once the belief mean is above the
    prior mean and exits once it is below (it keeps piloting while the signals say nothing).
    """
    params = model.params
    width = len(REGION_FEATURES)
    prior_mean = params.fit_prior_mean
    state = model.reset(rng.episode_key(seeds, params.seed_offset))
    observation = encode_flat(model, state)
    total = np.zeros(seeds.size)
    alive = np.ones(seeds.size, dtype=bool)
    for quarter in range(params.horizon):
        moves = np.zeros((seeds.size, params.num_regions), dtype=np.int8)
        if quarter == 0 and policy == "commit":
            moves[:, region] = full_mode
        elif quarter == 0 and policy == "pilot_then_scale":
            moves[:, region] = Move.ENTER_PILOT
        elif quarter > 0 and policy == "pilot_then_scale":
            column = observation[:, region * width : (region + 1) * width]
            piloting = column[:, _MODE[EntryMode.PILOT]] == 1
            belief = column[:, _BELIEF]
            moves[piloting & (belief > prior_mean + 1e-6), region] = full_mode
            moves[piloting & (belief < prior_mean - 1e-6), region] = Move.EXIT
        action = Action.hold(seeds.size, params.num_regions)
        output = model.step(state, Action(moves, action.marketing, action.localization,
                                          action.compliance, action.rnd))  # fmt: skip
        total += np.where(alive, output.reward, 0.0)
        alive &= ~(output.terminated | output.truncated)
        state, observation = output.state, output.observation
    return total
