"""Action faces: the three action spaces, their decoding and their masks.

* ``MultiDiscreteActions``: one :class:`~lepton_env.types.Move` per region plus
  an R&D level, ``MultiDiscrete([10] * R + [L])``. Mask: per component, HOLD
  and every R&D level always valid.
* ``DiscreteActions``: one (region, move) per quarter, or a new R&D level,
  ``Discrete(R * 10 + L)``: action ``a < 10 R`` is move ``a % 10`` in region
  ``a // 10``; ``a >= 10 R`` sets R&D level ``a - 10 R``. Mask: exactly the
  actions that change the state, plus one "pass" (action 0: HOLD in region 0).
* ``ContinuousActions``: ``Box(-1, 1, (5 R + 1,))``; per region
  ``[entry, marketing, localization, compliance, diligence]`` then R&D.
  ``entry`` below -0.5 exits, in (0.2, 0.4] pilots, (0.4, 0.6] partners,
  (0.6, 0.8] acquires, above 0.8 builds a greenfield, else holds; spends are
  intensities ``(x + 1) / 2`` where present (ignored elsewhere); diligence when
  ``x > 0``; R&D intensity ``(x + 1) / 2``.

Malformed actions (shape, dtype, NaN, out of range) raise :class:`ActionError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from lepton_env.core import Action
from lepton_env.params import Params
from lepton_env.types import NUM_MOVES, Move

CONTINUOUS_PER_REGION = 5
ENTRY_BINS = np.array([-0.5, 0.2, 0.4, 0.6, 0.8], dtype=np.float32)
ENTRY_BIN_MOVES = np.array(
    [
        Move.EXIT,
        Move.HOLD,
        Move.ENTER_PILOT,
        Move.ENTER_PARTNERSHIP,
        Move.ENTER_ACQUISITION,
        Move.ENTER_GREENFIELD,
    ],
    dtype=np.int8,
)


class ActionError(ValueError):
    """An action of the wrong shape, dtype or range, or an invalid move in ``raise`` mode."""


def _integers(
    array: NDArray[Any], shape: tuple[int, ...], high: NDArray[np.int64] | int
) -> NDArray[np.int64]:
    """Check a batch of integer actions, each of ``shape`` with entries in ``[0, high)``."""
    if array.ndim == 0 or array.shape[1:] != shape:
        raise ActionError(f"action has shape {array.shape[1:]}, expected {shape}")
    kind = array.dtype.kind  # "f" floating, "i"/"u" integer
    if kind == "f" and not np.all(np.isfinite(array)):
        raise ActionError(f"action contains NaN or inf: {array.tolist()}")
    if kind not in "iu":
        raise ActionError(f"action has dtype {array.dtype}, expected an integer dtype")
    outside = (array < 0) | (array >= high)
    if np.any(outside):
        where = tuple(np.argwhere(outside)[0])
        bound = int(np.broadcast_to(high, array.shape)[where])
        name = f"action[{', '.join(str(i) for i in where[1:])}]" if shape else "action"
        raise ActionError(f"{name} = {int(array[where])} is out of range: allowed [0, {bound - 1}]")
    return array.astype(np.int64)


def _rnd_levels_mask(rnd: NDArray[np.float32], levels: int) -> NDArray[np.bool_]:
    grid = np.arange(levels) / (levels - 1)
    return np.abs(grid[None, :] - rnd[:, None]) > 1e-6


@dataclass(frozen=True)
class MultiDiscreteActions:
    """One move per region plus an R&D level."""

    params: Params

    @cached_property
    def space(self) -> spaces.MultiDiscrete:
        p = self.params
        return spaces.MultiDiscrete([NUM_MOVES] * p.num_regions + [p.rnd_levels], dtype=np.int64)

    @property
    def mask_size(self) -> int:
        return self.params.num_regions * NUM_MOVES + self.params.rnd_levels

    def check(self, actions: object) -> NDArray[np.int64]:
        """Validate a batch of actions, (B, R + 1)."""
        nvec = self.space.nvec
        return _integers(np.asarray(actions), (len(nvec),), nvec)

    def decode(self, actions: NDArray[np.int64]) -> Action:
        p = self.params
        zeros = np.zeros((actions.shape[0], p.num_regions), dtype=np.float32)
        return Action(
            moves=actions[:, : p.num_regions].astype(np.int8),
            marketing=zeros,
            localization=zeros,
            compliance=zeros,
            rnd=(actions[:, -1] / (p.rnd_levels - 1)).astype(np.float32),
        )

    def masks(self, valid: NDArray[np.bool_], rnd: NDArray[np.float32]) -> NDArray[np.bool_]:
        ones = np.ones((valid.shape[0], self.params.rnd_levels), dtype=bool)
        return np.concatenate([valid.reshape(valid.shape[0], -1), ones], axis=1)

    def invalid(self, actions: NDArray[np.int64], masks: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Per component: was the chosen entry masked, (B, R + 1)."""
        return ~np.take_along_axis(masks, actions + self._offsets, axis=1)

    @cached_property
    def _offsets(self) -> NDArray[np.int64]:
        return np.concatenate([[0], np.cumsum(self.space.nvec)[:-1]])

    def neutralize(
        self, actions: NDArray[np.int64], invalid: NDArray[np.bool_]
    ) -> NDArray[np.int64]:
        """Masked moves become HOLD (the R&D component is never masked)."""
        return np.where(invalid, 0, actions)


@dataclass(frozen=True)
class DiscreteActions:
    """One (region, move) per quarter, or an R&D level."""

    params: Params

    @cached_property
    def space(self) -> spaces.Discrete:
        return spaces.Discrete(self.mask_size)

    @property
    def mask_size(self) -> int:
        return self.params.num_regions * NUM_MOVES + self.params.rnd_levels

    def check(self, actions: object) -> NDArray[np.int64]:
        array = np.asarray(actions)
        if array.ndim != 1:
            raise ActionError(f"action has shape {array.shape[1:]}, expected ()")
        return _integers(array, (), self.mask_size)

    def decode(self, actions: NDArray[np.int64]) -> Action:
        p = self.params
        batch, regions = actions.shape[0], p.num_regions
        region_moves = regions * NUM_MOVES
        moves = np.zeros((batch, regions), dtype=np.int8)
        is_move = actions < region_moves
        rows = np.nonzero(is_move)[0]
        moves[rows, actions[is_move] // NUM_MOVES] = actions[is_move] % NUM_MOVES
        level = (actions - region_moves) / (p.rnd_levels - 1)
        zeros = np.zeros((batch, regions), dtype=np.float32)
        return Action(
            moves=moves,
            marketing=zeros,
            localization=zeros,
            compliance=zeros,
            rnd=np.where(is_move, np.nan, level).astype(np.float32),
        )

    def masks(self, valid: NDArray[np.bool_], rnd: NDArray[np.float32]) -> NDArray[np.bool_]:
        moves = valid.copy()
        moves[..., Move.HOLD] = False
        moves[:, 0, Move.HOLD] = True
        flat = moves.reshape(valid.shape[0], -1)
        return np.concatenate([flat, _rnd_levels_mask(rnd, self.params.rnd_levels)], axis=1)

    def invalid(self, actions: NDArray[np.int64], masks: NDArray[np.bool_]) -> NDArray[np.bool_]:
        return ~np.take_along_axis(masks, actions[:, None], axis=1)

    def neutralize(
        self, actions: NDArray[np.int64], invalid: NDArray[np.bool_]
    ) -> NDArray[np.int64]:
        return np.where(invalid[:, 0], 0, actions)


@dataclass(frozen=True)
class ContinuousActions:
    """Per-region intensities and R&D in [-1, 1]."""

    params: Params

    @cached_property
    def space(self) -> spaces.Box:
        size = self.params.num_regions * CONTINUOUS_PER_REGION + 1
        return spaces.Box(-1.0, 1.0, shape=(size,), dtype=np.float32)

    @property
    def mask_size(self) -> int:
        return self.params.num_regions * NUM_MOVES + self.params.rnd_levels

    def check(self, actions: object) -> NDArray[np.float32]:
        array = np.asarray(actions)
        size = self.space.shape[0]
        if array.ndim != 2 or array.shape[1] != size:
            raise ActionError(f"action has shape {array.shape[1:]}, expected ({size},)")
        if not np.issubdtype(array.dtype, np.floating):
            raise ActionError(f"action has dtype {array.dtype}, expected a float dtype")
        if not np.all(np.isfinite(array)):
            raise ActionError(f"action contains NaN or inf: {array.tolist()}")
        if np.any(np.abs(array) > 1.0 + 1e-6):
            raise ActionError(f"action {array.tolist()} is out of range: each entry in [-1, 1]")
        return np.clip(array, -1.0, 1.0).astype(np.float32)

    def decode(self, actions: NDArray[np.float32]) -> Action:
        p = self.params
        per_region = actions[:, :-1].reshape(actions.shape[0], p.num_regions, CONTINUOUS_PER_REGION)
        entry_move = ENTRY_BIN_MOVES[np.searchsorted(ENTRY_BINS, per_region[..., 0], side="left")]
        moves = np.where(per_region[..., 4] > 0.0, Move.DILIGENCE, Move.HOLD)
        moves = np.where(entry_move != Move.HOLD, entry_move, moves).astype(np.int8)
        intensity = (per_region[..., 1:4] + 1.0) / 2.0
        return Action(
            moves=moves,
            marketing=intensity[..., 0],
            localization=intensity[..., 1],
            compliance=intensity[..., 2],
            rnd=((actions[:, -1] + 1.0) / 2.0).astype(np.float32),
        )

    def masks(self, valid: NDArray[np.bool_], rnd: NDArray[np.float32]) -> NDArray[np.bool_]:
        ones = np.ones((valid.shape[0], self.params.rnd_levels), dtype=bool)
        return np.concatenate([valid.reshape(valid.shape[0], -1), ones], axis=1)


ActionFace = MultiDiscreteActions | DiscreteActions | ContinuousActions
ACTION_FACES: dict[str, type[ActionFace]] = {
    "multi_discrete": MultiDiscreteActions,
    "discrete": DiscreteActions,
    "continuous": ContinuousActions,
}
