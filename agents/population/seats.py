"""One shared policy on every seat: :class:`SeatRotationVecEnv`, F multi-firm VecEnvs side by side.

Parameter-shared self-play needs the learner in every seat (a firm's home, its
distances and its order in conflicts differ by seat) while the other seats are
played by opponents drawn from a population. A
:class:`~lepton_env.multi.vec_env.LeptonMultiVecEnv` has fixed learning seats, so
this face holds one per seat: sub-env ``f`` has ``envs_per_seat`` envs in which
firm ``f`` learns and every other firm is played by the population (its own draw
per seat and episode, :mod:`lepton_env.multi.population`). Rows are the sub-envs'
rows in seat order; the observation carries the firm-identity one-hot, so one
policy knows which seat it plays.

Seeds: ``seed(s)`` seeds the envs of seat ``f`` with ``s + f * envs_per_seat + e``:
every env of the face has its own episode seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnvIndices, VecEnvObs, VecEnvStepReturn

from lepton_env.multi.population import Weights
from lepton_env.multi.vec_env import LeptonMultiVecEnv


class SeatRotationVecEnv(VecEnv):
    """``seats`` (one :class:`LeptonMultiVecEnv` per learning seat, same spaces) as one VecEnv."""

    def __init__(self, seats: Sequence[LeptonMultiVecEnv]) -> None:
        if not seats:
            raise ValueError("SeatRotationVecEnv needs one sub-env per seat, got none")
        first = seats[0]
        for seat in seats[1:]:
            if seat.observation_space != first.observation_space:
                raise ValueError("the seats' observation spaces differ: one policy cannot play all")
        self.seats = list(seats)
        self.offsets = np.cumsum([0, *(seat.num_envs for seat in seats)])
        super().__init__(int(self.offsets[-1]), first.observation_space, first.action_space)

    @property
    def batch(self) -> Any:
        """The first seat's batch (what the resume state checks for a started episode)."""
        return self.seats[0].batch

    @property
    def agents(self) -> tuple[str, ...]:
        return self.seats[0].agents

    def seat_rows(self, seat: int) -> slice:
        """The rows of the sub-env of ``seat``."""
        return slice(int(self.offsets[seat]), int(self.offsets[seat + 1]))

    # ---------------------------------------------------------------- VecEnv API
    def reset(self) -> VecEnvObs:
        observations = [seat.reset() for seat in self.seats]
        self.reset_infos = [info for seat in self.seats for info in seat.reset_infos]
        return np.concatenate(observations)  # type: ignore[arg-type]

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        seeds: list[int | None] = []
        for index, seat in enumerate(self.seats):
            offset = None if seed is None else seed + index * seat.batch.num_envs
            seeds.extend(seat.seed(offset))
        return seeds

    def step_async(self, actions: NDArray[Any]) -> None:
        for index, seat in enumerate(self.seats):
            seat.step_async(np.asarray(actions)[self.seat_rows(index)])

    def step_wait(self) -> VecEnvStepReturn:
        results = [seat.step_wait() for seat in self.seats]
        self.reset_infos = [info for seat in self.seats for info in seat.reset_infos]
        observations = np.concatenate([r[0] for r in results])
        rewards = np.concatenate([r[1] for r in results])
        dones = np.concatenate([r[2] for r in results])
        infos = [info for r in results for info in r[3]]
        return observations, rewards, dones, infos

    def close(self) -> None:
        for seat in self.seats:
            seat.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [
            self._sub(row, lambda s, i: s.get_attr(attr_name, i)[0]) for row in self._rows(indices)
        ]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for seat in self.seats:
            seat.set_attr(attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        if method_name == "action_masks":
            masks = self.action_masks()
            return list(masks[self._rows(indices)])
        return [
            self._sub(
                row,
                lambda s, i: s.env_method(method_name, *method_args, indices=i, **method_kwargs)[0],
            )
            for row in self._rows(indices)
        ]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper[Any, Any, Any, Any]], indices: VecEnvIndices = None
    ) -> list[bool]:
        return [
            self._sub(row, lambda s, i: s.env_is_wrapped(wrapper_class, i)[0])
            for row in self._rows(indices)
        ]

    # ---------------------------------------------------------------- extras
    def action_masks(self) -> NDArray[np.bool_]:
        """Valid actions of every row, (rows, mask size)."""
        return np.concatenate([seat.action_masks() for seat in self.seats])

    def set_population_weights(self, weights: Weights) -> None:
        """The same weights for every population seat of every sub-env."""
        for seat in self.seats:
            for agent in seat.populations:
                seat.set_population_weights(agent, weights)

    def snapshot(self) -> dict[str, NDArray[Any]]:
        """Every sub-env's :meth:`LeptonMultiVecEnv.snapshot`, under ``seat<f>/``."""
        return {
            f"seat{index}/{key}": value
            for index, seat in enumerate(self.seats)
            for key, value in seat.snapshot().items()
        }

    def restore(self, arrays: Mapping[str, NDArray[Any]]) -> VecEnvObs:
        observations = []
        for index, seat in enumerate(self.seats):
            prefix = f"seat{index}/"
            part = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
            observations.append(seat.restore(part))
        return np.concatenate(observations)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- helpers
    def _rows(self, indices: VecEnvIndices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int | np.integer):
            return [int(indices)]
        return [int(i) for i in indices]

    def _sub(self, row: int, call: Any) -> Any:
        seat = int(np.searchsorted(self.offsets, row, side="right") - 1)
        return call(self.seats[seat], row - int(self.offsets[seat]))
