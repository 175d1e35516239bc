"""Fixed entry policies for the value-of-information tests, run on the batched core.

Each policy acts in one foreign region of each row only and reads nothing but the
observation (the belief feature ``fit_belief``), as an agent would. Every (region, policy)
pair plays the same seeds in one batch, so differences between policies are paired.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.core import Action, Model
from lepton_env.features import REGION_FEATURES
from lepton_env.observation import encode_flat
from lepton_env.types import EntryMode, Move

_NAMES = [f.name for f in REGION_FEATURES]
_BELIEF = _NAMES.index("fit_belief")
_MODE = {m: _NAMES.index(f"mode_{m.name.lower()}") for m in EntryMode}
#: ``never`` holds; ``commit`` enters the full mode at quarter 0 and holds it; ``pilot``
#: pilots at quarter 0 and pilots for ever; ``pilot_then_scale`` pilots at quarter 0, then
#: upgrades to the full mode once the belief's mean is above the prior's and exits once it
#: is below (it keeps piloting while the signals say nothing).
POLICIES = ("never", "commit", "pilot", "pilot_then_scale")


def returns(
    model: Model,
    regions: Sequence[int],
    seeds: NDArray[np.int64],
    full_mode: Move = Move.ENTER_PARTNERSHIP,
) -> dict[tuple[int, str], NDArray[np.float64]]:
    """Episode returns of every policy of :data:`POLICIES` in each region of ``regions``,
    one per seed, all in one batch: ``{(region, policy): (seeds,)}``."""
    params = model.params
    width = len(_NAMES)
    pairs = [(r, name) for r in regions for name in POLICIES]
    n = seeds.size
    rows = n * len(pairs)
    region_of = np.repeat([r for r, _ in pairs], n)
    policy_of = np.repeat([name for _, name in pairs], n)
    index = np.arange(rows)
    state = model.reset(rng.episode_key(np.tile(seeds, len(pairs)), params.seed_offset))
    observation = encode_flat(model, state)
    prior_mean = observation[index, region_of * width + _BELIEF].copy()
    scales = policy_of == "pilot_then_scale"
    enters = {"commit": full_mode, "pilot": Move.ENTER_PILOT, "pilot_then_scale": Move.ENTER_PILOT}
    total = np.zeros(rows)
    alive = np.ones(rows, dtype=bool)
    for quarter in range(params.horizon):
        moves = np.zeros((rows, params.num_regions), dtype=np.int8)
        if quarter == 0:
            for name, move in enters.items():
                moves[policy_of == name, region_of[policy_of == name]] = move
        else:
            piloting = observation[index, region_of * width + _MODE[EntryMode.PILOT]] == 1
            belief = observation[index, region_of * width + _BELIEF]
            up = scales & piloting & (belief > prior_mean + 1e-6)
            down = scales & piloting & (belief < prior_mean - 1e-6)
            moves[up, region_of[up]] = full_mode
            moves[down, region_of[down]] = Move.EXIT
        hold = Action.hold(rows, params.num_regions)
        output = model.step(
            state, Action(moves, hold.marketing, hold.localization, hold.compliance, hold.rnd)
        )
        total += np.where(alive, output.reward, 0.0)
        alive &= ~(output.terminated | output.truncated)
        state, observation = output.state, output.observation
    return {pair: total[i * n : (i + 1) * n] for i, pair in enumerate(pairs)}
