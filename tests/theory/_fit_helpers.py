"""Fixed entry policies for the value-of-information tests, run on the batched core.

Each policy acts in one foreign region of each row only and reads nothing but the
observation (the belief feature ``fit_belief``), as an agent would. Every (region, policy)
pair plays the same seeds in one batch, so differences between policies are paired.

``pilot_then_scale`` decides as a firm valuing its options by net present value at its
belief (the certainty-equivalent NPV rule; Dixit & Pindyck 1994, ch. 2): it pilots at
quarter 0 and, each later quarter, holds whichever of the full mode, the pilot and no
position is worth most at the belief's mean fit ``m``, valued by the model itself: the
return of holding that mode from quarter 0 with the fit known to be ``m``
(:func:`values_by_fit`, interpolated). It scales up as soon as the full mode is worth
most; it neither exits nor stays a pilot before a trial of :data:`TRIAL_QUARTERS` has
told it something (a pilot is bought for its signals), and decides between them after.
"""

from __future__ import annotations

import dataclasses
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
#: holds the position worth most at its belief (the module's docstring).
POLICIES = ("never", "commit", "pilot", "pilot_then_scale")
#: quarters of piloting before the firm may exit or settle on the pilot: a year's trial,
#: the length of a typical enterprise proof of concept
TRIAL_QUARTERS = 4
#: the fits (utility) at which the value of each position is measured, and the seeds
FIT_GRID = np.arange(-2.0, 3.01, 0.25)
_VALUE_SEEDS = 64


def values_by_fit(
    model: Model, region: int, full_mode: Move, seeds: int = _VALUE_SEEDS
) -> NDArray[np.float64]:
    """``(3, G)``: the mean return of holding no position, a pilot and ``full_mode`` in
    ``region`` from quarter 0, with the region's hidden fit set to each value of
    :data:`FIT_GRID` (common seeds)."""
    params = model.params
    moves = (Move.HOLD, Move.ENTER_PILOT, full_mode)
    count = len(moves) * FIT_GRID.size
    state = model.reset(
        rng.episode_key(np.tile(np.arange(seeds, dtype=np.uint64), count), params.seed_offset)
    )
    fit = np.array(state.market_fit)
    fit[:, region] = np.tile(np.repeat(FIT_GRID, seeds), len(moves))
    state = dataclasses.replace(state, market_fit=fit.astype(np.float32))
    entry = np.repeat(np.array([int(m) for m in moves], dtype=np.int8), FIT_GRID.size * seeds)
    total = np.zeros(count * seeds)
    for quarter in range(params.horizon):
        hold = Action.hold(count * seeds, params.num_regions)
        if quarter == 0:
            hold.moves[:, region] = entry
        output = model.step(state, hold)
        total += output.reward
        state = output.state
    return total.reshape(len(moves), FIT_GRID.size, seeds).mean(axis=2)


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
    curves = {r: values_by_fit(model, r, full_mode) for r in regions}
    state = model.reset(rng.episode_key(np.tile(seeds, len(pairs)), params.seed_offset))
    observation = encode_flat(model, state)
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
            best = np.zeros(rows, dtype=np.int64)
            for r, curve in curves.items():
                here = region_of == r
                worth = np.stack([np.interp(belief[here], FIT_GRID, c) for c in curve])
                best[here] = worth.argmax(axis=0)
            up = scales & piloting & (best == 2)
            down = scales & piloting & (best == 0) & (quarter >= TRIAL_QUARTERS)
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
