"""The Stable-Baselines3 face: :class:`LeptonExpansionVecEnv`, an SB3 ``VecEnv`` over the batch.

Usable wherever SB3 takes a ``VecEnv`` (PPO, A2C, DQN, SAC, MaskablePPO,
``VecNormalize``, ``VecFrameStack``, ``evaluate_policy``). It follows
``DummyVecEnv``'s conventions exactly: an env that ends is reset in the same
``step_wait()``, its last observation is in ``info["terminal_observation"]``
and ``info["TimeLimit.truncated"]`` is False: the horizon, like bankruptcy, ends
the task (the terminal value is paid there), so SB3 does not bootstrap past it;
``seed(s)`` seeds env ``i`` with ``s + i`` at the next ``reset()``; rewards are float32.

Per-step Python work is proportional to the envs that finished, not to n:
the ``infos`` list holds an empty dict for every env that is still running,
and only a finished env's dict is filled, with its final KPIs (as the single
env's ``info``), ``terminal_observation``, ``TimeLimit.truncated`` and the
``episode`` statistics ``{"r", "l", "t"}`` exactly as ``VecMonitor`` reports
them (so no Monitor wrapper is needed, and ``env_is_wrapped(Monitor)`` is
True). The KPIs of every env at the last step are in :attr:`kpis` as arrays;
``info_kpis=True`` also copies them into every env's info dict (O(n) work).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.typing import NDArray
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import VecEnv
from stable_baselines3.common.vec_env.base_vec_env import (
    VecEnvIndices,
    VecEnvObs,
    VecEnvStepReturn,
)

from lepton_env import rng
from lepton_env.envs.actions import ActionError
from lepton_env.envs.expansion import ActionMode, InvalidAction, ObservationMode, step_infos
from lepton_env.envs.vector import BatchedExpansion, batch_kpi_infos
from lepton_env.mechanisms.competitors import Persona
from lepton_env.observation import encode_flat
from lepton_env.params import Params
from lepton_env.reward import RewardFunction
from lepton_env.scenarios import ScenarioGenerator
from lepton_env.state import FIELDS, State

#: Attributes shared by every env of the batch, readable with ``get_attr``.
SHARED_ATTRIBUTES = (
    "params",
    "model",
    "action_mode",
    "observation_mode",
    "invalid_action",
    "render_mode",
)
#: Attributes ``set_attr`` may change (for all envs at once: they share one core).
SETTABLE_ATTRIBUTES = ("invalid_action",)
#: Per-env methods reachable through ``env_method``.
ENV_METHODS = ("action_masks", "render")


class LeptonExpansionVecEnv(VecEnv):
    """n Lepton AI expansion environments as one SB3 ``VecEnv``, stepped in one batched call.

    Arguments are those of :class:`~lepton_env.envs.expansion.LeptonExpansionEnv`
    plus ``num_envs`` and ``info_kpis``. ``action_masks()`` returns the (n, mask
    size) valid actions; MaskablePPO reads them through
    ``env_method("action_masks")``, which is served from the same batched array.
    """

    def __init__(
        self,
        num_envs: int,
        scenario: str | ScenarioGenerator | Params = "global",
        *,
        action_mode: ActionMode = "multi_discrete",
        observation_mode: ObservationMode = "flat",
        invalid_action: InvalidAction = "noop",
        reward_function: RewardFunction | None = None,
        personas: tuple[Persona, ...] | None = None,
        render_mode: str | None = None,
        info_kpis: bool = False,
        **params: Any,
    ) -> None:
        if render_mode is not None and render_mode not in ("ansi", "rgb_array"):
            raise ValueError(f"render_mode = {render_mode!r}: allowed ['ansi', 'rgb_array']")
        self.batch = BatchedExpansion(
            num_envs,
            scenario,
            action_mode=action_mode,
            observation_mode=observation_mode,
            invalid_action=invalid_action,
            reward_function=reward_function,
            personas=personas,
            **params,
        )
        self.render_mode = render_mode
        self.info_kpis = info_kpis
        super().__init__(
            self.batch.num_envs, self.batch.single_observation_space, self.batch.single_action_space
        )
        n = self.num_envs
        self._np_random = np.random.default_rng()
        self._actions: NDArray[Any] | None = None
        self._kpis: dict[str, Any] = {}
        # VecMonitor's bookkeeping, with its dtypes, so "episode" infos match it bit for bit
        self._episode_returns = np.zeros(n, dtype=np.float32)
        self._episode_lengths = np.zeros(n, dtype=np.int32)
        self._t_start = time.time()

    # ---------------------------------------------------------------- VecEnv API
    def reset(self) -> VecEnvObs:
        rows = np.arange(self.num_envs)
        keys = self.batch.episode_keys(rows, self._seeds, self._np_random)
        self.batch.reset_rows(rows, keys)
        self._reset_seeds()
        self._reset_options()
        self._episode_returns[:] = 0.0
        self._episode_lengths[:] = 0
        masks = self.batch.action_masks()
        self.reset_infos = [{"action_mask": masks[i]} for i in range(self.num_envs)]
        return self.batch.observe_all()

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Seed the envs ``seed, seed + 1, ...`` at the next ``reset()`` (SB3's convention)."""
        if seed is not None:
            seed = rng.check_seed(seed, count=self.num_envs)
        return super().seed(seed)

    def step_async(self, actions: NDArray[Any]) -> None:
        if actions is None:
            raise ActionError(
                f"actions = None: expected one action per env, shape "
                f"({self.num_envs}, *{self.action_space.shape})"
            )
        self._actions = actions

    def step_wait(self) -> VecEnvStepReturn:
        if self._actions is None:
            raise RuntimeError("call step_async() before step_wait()")
        actions, self._actions = self._actions, None
        result = self.batch.step_same(actions)
        output = result.output
        rewards = output.reward.astype(np.float32)
        dones = output.terminated | output.truncated
        self._episode_returns += rewards
        self._episode_lengths += 1
        self._kpis = batch_kpi_infos(output, result.face_invalid)
        rows = result.done_rows
        if self.info_kpis:
            infos = step_infos(output, np.arange(self.num_envs), result.face_invalid)
        else:
            infos = [{} for _ in range(self.num_envs)]
            for row, info in zip(
                rows.tolist(), step_infos(output, rows, result.face_invalid[rows]), strict=True
            ):
                infos[row] = info
        if len(rows):
            final = result.final_observation
            assert final is not None
            if isinstance(final, dict):
                terminal: list[Any] = [
                    {k: v[i] for k, v in final.items()} for i in range(len(rows))
                ]
            else:
                terminal = list(final)
            # one vectorized gather per field; VecMonitor's numpy scalar types are kept
            time_limit = (output.truncated & ~output.terminated)[rows].tolist()
            returns = list(self._episode_returns[rows])
            lengths = list(self._episode_lengths[rows])
            masks = list(self.batch.action_masks()[rows])
            elapsed = round(time.time() - self._t_start, 6)
            for row, observation, truncated, episode_return, length, mask in zip(
                rows.tolist(), terminal, time_limit, returns, lengths, masks, strict=True
            ):
                info = infos[row]
                info["terminal_observation"] = observation
                info["TimeLimit.truncated"] = truncated
                info["episode"] = {"r": episode_return, "l": length, "t": elapsed}
                self.reset_infos[row] = {"action_mask": mask}
            self._episode_returns[rows] = 0.0
            self._episode_lengths[rows] = 0
        return result.observation, rewards, dones, infos

    def close(self) -> None:
        """Nothing to release: the batch lives in this process."""

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """A per-env attribute: the single env's spaces, ``state`` rows, or a shared attribute."""
        rows = self._indices(indices)
        if attr_name == "action_space":
            return [self.batch.single_action_space for _ in rows]
        if attr_name == "observation_space":
            return [self.batch.single_observation_space for _ in rows]
        if attr_name == "state":
            state = self.batch.state
            return [None if state is None else state.take(np.array([i])) for i in rows]
        if attr_name in ENV_METHODS:
            return [self._env_method(attr_name, i) for i in rows]
        if attr_name in SHARED_ATTRIBUTES:
            owner: Any = self if attr_name == "render_mode" else self.batch
            value = getattr(owner, attr_name)
            return [value for _ in rows]
        raise AttributeError(
            f"get_attr({attr_name!r}): the envs of {type(self).__name__} have "
            f"{['action_space', 'observation_space', 'state', *ENV_METHODS, *SHARED_ATTRIBUTES]}"
        )

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Change a shared setting; all envs share one core, so it applies to every env."""
        if attr_name not in SETTABLE_ATTRIBUTES:
            raise AttributeError(
                f"set_attr({attr_name!r}): settable attributes are {list(SETTABLE_ATTRIBUTES)}"
            )
        if len(self._indices(indices)) != self.num_envs:
            raise ValueError(
                f"set_attr({attr_name!r}) must address every env (indices=None): "
                "the envs share one batched core"
            )
        if attr_name == "invalid_action" and value not in ("noop", "raise"):
            raise ValueError(f"invalid_action = {value!r}: allowed 'noop' or 'raise'")
        setattr(self.batch, attr_name, value)

    def env_method(
        self,
        method_name: str,
        *method_args: Any,
        indices: VecEnvIndices = None,
        **method_kwargs: Any,
    ) -> list[Any]:
        """Call a per-env method (``action_masks`` or ``render``) on the given envs."""
        if method_name not in ENV_METHODS:
            raise AttributeError(
                f"env_method({method_name!r}): available methods are {list(ENV_METHODS)}"
            )
        if method_name == "action_masks":
            # MaskablePPO asks every step: one gather of the batch's masks, not n calls.
            masks = self.batch.action_masks(*method_args, **method_kwargs)
            return list(masks[self._indices(indices)])
        return [
            self._env_method(method_name, i)(*method_args, **method_kwargs)
            for i in self._indices(indices)
        ]

    def env_is_wrapped(
        self, wrapper_class: type[gym.Wrapper[Any, Any, Any, Any]], indices: VecEnvIndices = None
    ) -> list[bool]:
        """True for ``Monitor`` (and its bases): the infos carry its ``episode`` statistics."""
        wrapped = issubclass(Monitor, wrapper_class)
        return [wrapped for _ in self._indices(indices)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [self.batch.render_env(i, "rgb_array") for i in range(self.num_envs)]

    # ---------------------------------------------------------------- extras
    def action_masks(self) -> NDArray[np.bool_]:
        """Valid actions of every env, (n, mask size) bool."""
        return self.batch.action_masks()

    @property
    def kpis(self) -> dict[str, Any]:
        """KPIs of every env at the last step, as arrays over the batch (empty before a step)."""
        return self._kpis

    def snapshot(self) -> dict[str, NDArray[Any]]:
        """Everything the next steps depend on, as arrays: the batch's state (``state/<field>``),
        which envs have an episode key, and the episodes' running return and length.

        With :meth:`restore` a training run resumed from a checkpoint continues the same
        episodes it was in (the counter-based RNG needs no generator state).
        """
        state = self.batch.state
        if state is None:
            raise RuntimeError("call reset() before snapshot()")
        arrays = {f"state/{f.name}": np.array(getattr(state, f.name)) for f in FIELDS}
        arrays["has_key"] = self.batch._has_key.copy()
        arrays["episode_returns"] = self._episode_returns.copy()
        arrays["episode_lengths"] = self._episode_lengths.copy()
        return arrays

    def restore(self, arrays: Mapping[str, NDArray[Any]]) -> VecEnvObs:
        """Continue from a :meth:`snapshot`; returns the current observation."""
        if self.batch.state is None:
            self.reset()
        current = self.batch.state
        assert current is not None
        fields = {}
        for f in FIELDS:
            key = f"state/{f.name}"
            expected = getattr(current, f.name)
            if key not in arrays or arrays[key].shape != expected.shape:
                found = arrays[key].shape if key in arrays else "absent"
                raise ValueError(f"snapshot {key}: shape {found}, this env's is {expected.shape}")
            fields[f.name] = np.array(arrays[key], dtype=expected.dtype)
        state = State(**fields)
        batch = self.batch
        batch.state = state
        batch._valid = batch.model.valid_moves(state)
        batch._observation = encode_flat(batch.model, state)
        batch._spare = None
        batch._masks = None
        batch._has_key[:] = arrays["has_key"]
        self._episode_returns[:] = arrays["episode_returns"]
        self._episode_lengths[:] = arrays["episode_lengths"]
        self._actions = None
        return batch.observe_all()

    # ---------------------------------------------------------------- helpers
    def _indices(self, indices: VecEnvIndices) -> list[int]:
        if indices is None:
            return list(range(self.num_envs))
        if isinstance(indices, int | np.integer):
            return [int(indices)]
        return [int(i) for i in indices]

    def _env_method(self, name: str, index: int) -> Callable[..., Any]:
        if name == "action_masks":
            return lambda: self.batch.action_masks()[index]
        return lambda: self.batch.render_env(index, self.render_mode)
