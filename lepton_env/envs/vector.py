"""The Gymnasium vector face: :class:`LeptonExpansionVectorEnv`, n environments in one batch.

The standard vectorizations (Gymnasium's ``SyncVectorEnv``, SB3's
``DummyVecEnv``) step n Python environments one after the other. The core is
already batched (:class:`~lepton_env.core.Model` works over a leading batch
axis), so here one call steps all n. :class:`BatchedExpansion` holds the batch
(state, per-env episode keys, cached move costs and masks) and is shared with
the SB3 face (:mod:`lepton_env.envs.sb3_vec`); actions are decoded by the
single env's :func:`~lepton_env.envs.expansion.decode_with_masks` and
observations encoded by :func:`~lepton_env.observation.encode_flat`, so every face
runs the same code path.

Seeding follows the single env exactly, per sub-env: a seeded reset starts the
episode ``rng.episode_key(seed, seed_offset)``, an unseeded reset after an
episode starts ``rng.next_episode_key(previous key)``, and a sub-env's very
first unseeded reset draws its seed from the vector env's ``np_random``. So n
single envs seeded ``s_1..s_n`` and one vector env seeded the same produce
bit-identical trajectories.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space
from numpy.typing import NDArray

from lepton_env import render, rng
from lepton_env.core import Model, StepOutput
from lepton_env.envs.actions import ACTION_FACES, ActionError, DiscreteActions
from lepton_env.envs.expansion import (
    ActionMode,
    InvalidAction,
    ObservationMode,
    build_model,
    decode_with_masks,
    observation_space,
)
from lepton_env.mechanisms.competitors import Persona
from lepton_env.observation import REGION_FEATURES, encode_flat
from lepton_env.params import Params
from lepton_env.reward import RewardFunction
from lepton_env.scenarios import ScenarioGenerator
from lepton_env.state import State

Observation = NDArray[np.float32] | dict[str, NDArray[Any]]


def writable(state: State) -> State:
    """``state``, with copies of its read-only arrays, so that it can be rewritten in place."""
    if all(a.flags.writeable for a in state.arrays):
        return state
    return State(*(a if a.flags.writeable else a.copy() for a in state.arrays))


# stand for the valid moves and observation the batch keeps (see BatchedExpansion.step)
_KEPT_VALID = np.empty((0, 0, 0), dtype=np.bool_)
_KEPT_OBSERVATION = np.empty((0, 0), dtype=np.float32)

# sys.getrefcount of an array that only an attribute refers to, as _unshared sees it
_OWN_REFERENCES = 3


def _unshared(array: NDArray[Any] | None) -> bool:
    """Whether nothing but the caller's attribute refers to ``array``, so it may be
    rewritten: a returned observation the user still holds, a view of it, or a tensor
    sharing its memory all count as references."""
    return array is not None and sys.getrefcount(array) <= _OWN_REFERENCES


@dataclasses.dataclass(frozen=True)
class SameStep:
    """A step with same-step autoreset: the observation already shows the new episodes."""

    observation: Observation  # first observation of a new episode where one ended
    output: StepOutput  # the core's output for the step (rewards, flags, KPIs)
    face_invalid: NDArray[np.int64]  # (n,) masked moves the face turned into no-ops
    done_rows: NDArray[np.intp]  # (k,) envs whose episode ended this step
    final_observation: Observation | None  # (k, ...) their last observations


class BatchedExpansion:
    """n environments of one scenario in one batched state, with per-env episode keys.

    Holds what the vector faces share: the model, the action codec, the state,
    the episode keys, and the move costs and valid moves of the current state
    (computed once per step, used both for the masks and by the core step).
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
        multi_firm: bool = False,
        **params: Any,
    ) -> None:
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer):
            raise TypeError(f"num_envs = {num_envs!r}: expected an integer >= 1")
        if num_envs < 1:
            raise ValueError(f"num_envs = {num_envs}: allowed range [1, inf)")
        if action_mode not in ACTION_FACES:
            raise ValueError(f"action_mode = {action_mode!r}: allowed {sorted(ACTION_FACES)}")
        if invalid_action not in ("noop", "raise"):
            raise ValueError(f"invalid_action = {invalid_action!r}: allowed 'noop' or 'raise'")
        self.num_envs = int(num_envs)
        self.model: Model = build_model(
            scenario, reward_function, personas, params, multi_firm=multi_firm
        )
        self.params = self.model.params
        # F firms per env (multi_firm faces): the core's firm rows are env * F + firm
        self.num_firms = self.params.num_firms
        self.num_rows = self.num_envs * self.num_firms
        self.action_mode = action_mode
        self.observation_mode = observation_mode
        self.invalid_action = invalid_action
        codec: Any = ACTION_FACES[action_mode]
        self.actions: Any = codec(self.params)
        self.single_action_space: Any = self.actions.space
        self.single_observation_space = observation_space(
            self.params, observation_mode, self.actions.mask_size
        )
        self.state: State | None = None
        self._has_key = np.zeros(self.num_envs, dtype=bool)
        # valid moves (n, R, NUM_MOVES) and flat observations (n, D) of the current state, as
        # the core's step returns them; rewritten in place by the next step or autoreset
        # unless something else still refers to them (then that one gets fresh arrays)
        self._valid: NDArray[np.bool_] | None = None
        self._observation: NDArray[np.float32] | None = None
        # the observation buffer before: a caller that holds the last observation while it
        # calls step() has let go of this one, so steps alternate between two buffers
        self._spare: NDArray[np.float32] | None = None
        self._masks: NDArray[np.bool_] | None = None

    # ---------------------------------------------------------------- keys and resets
    def episode_keys(
        self,
        rows: NDArray[np.intp],
        seeds: Sequence[int | None],
        np_random: np.random.Generator,
    ) -> NDArray[np.uint64]:
        """Keys of the next episodes of ``rows``, as the single env's ``reset(seed=...)``."""
        seeded = np.array([seed is not None for seed in seeds], dtype=bool)
        has_key = self._has_key[rows] if self.state is not None else np.zeros(len(rows), bool)
        chained = ~seeded & has_key
        fresh = ~seeded & ~chained
        given = [int(seed) for seed in seeds if seed is not None]
        for seed in given:
            if not 0 <= seed < 2**64:
                raise ValueError(f"seed = {seed}: allowed range [0, 2**64)")
        seed_values = np.zeros(len(rows), dtype=np.uint64)
        seed_values[seeded] = given
        # A sub-env's first unseeded reset draws its seed, as the single env does from np_random.
        seed_values[fresh] = np_random.integers(0, 2**31, size=int(fresh.sum()))
        keys = rng.episode_key(seed_values, self.params.seed_offset)
        if chained.any():
            assert self.state is not None
            keys[chained] = rng.next_episode_key(self.state.episode_key[rows[chained]])
        return keys

    def reset_rows(self, rows: NDArray[np.intp], keys: NDArray[np.uint64]) -> None:
        """Start new episodes with ``keys`` in ``rows``."""
        if self.state is None:
            if not np.array_equal(rows, np.arange(self.num_envs)):
                raise RuntimeError("the first reset must reset every environment")
            # every row is restarted below, in the batch's own arrays: state, valid moves and
            # observations in one pass, without the move costs a mask pass would allocate
            self.state = self.model.empty_state(self.num_envs)
            self._valid, self._observation = self.model.empty_outputs(self.num_envs)
        # The batch owns its state, masks and observations; a returned observation or
        # mask the caller still holds is copied before the rows are rewritten.
        state = writable(self.state)
        if self._valid is None:
            self._valid = self.model.valid_moves(state)
        elif not _unshared(self._valid):
            self._valid = self._valid.copy()
        if self._observation is None:
            self._observation = encode_flat(self.model, state)
        elif not _unshared(self._observation):
            self._observation = self._observation.copy()
        self.model.restart(state, rows, keys, self._valid, self._observation)
        self.state = state
        self._masks = None
        self._has_key[rows] = True

    def autoreset(self, rows: NDArray[np.intp]) -> None:
        """Reset finished ``rows`` without a seed: their next episodes."""
        assert self.state is not None
        self.reset_rows(rows, rng.next_episode_key(self.state.episode_key[rows]))

    # ---------------------------------------------------------------- masks and step
    def _valid_moves(self) -> NDArray[np.bool_]:
        assert self.state is not None
        if self._valid is None:
            self._valid = self.model.valid_moves(self.state)
        return self._valid

    def action_masks(self) -> NDArray[np.bool_]:
        """Valid actions of every firm row, (n F, mask size), as the single env's
        ``action_masks()`` (F = 1: one row per env)."""
        if self.state is None:
            raise RuntimeError("call reset() before action_masks()")
        if self._masks is None:
            masks = self.actions.masks(self._valid_moves(), self.state.rnd_intensity)
            if self.params.num_firms > 1 and isinstance(self.actions, DiscreteActions):
                # a bankrupt firm's moves are held: on the Discrete face only the pass is
                # valid (its R&D levels too would be no-ops)
                gone = self.state.cash < -self.params.credit_line
                masks[gone] = False
                masks[gone, 0] = True
            self._masks = masks
        return self._masks

    def step(
        self, actions: object, hold_rows: NDArray[np.bool_] | None = None
    ) -> tuple[StepOutput, NDArray[np.int64]]:
        """One quarter for the whole batch, except ``hold_rows`` (n,) envs, which do not step
        (their KPIs are zero and their other outputs mean nothing: the caller resets them next).
        ``actions`` has one row per firm row, env * F + firm (n F rows; F = 1: one per env).

        Returns the core's output (whose state becomes the batch's state) and the
        face's count of masked moves per env. The new valid moves and observation stay
        with the batch (``action_masks()``, ``observe_all()``): the output's are empty.
        """
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        single = self.single_action_space.shape
        if actions is None:
            raise ActionError(
                f"actions = None: expected one action per env, shape ({self.num_envs}, *{single})"
            )
        try:
            shape = np.shape(actions)  # type: ignore[call-overload]
        except ValueError:
            raise ActionError(f"actions = {actions!r}: not a rectangular array") from None
        if len(shape) != 1 + len(single):
            raise ActionError(
                f"actions has shape {shape}, expected ({self.num_rows}, *{single}): "
                + ("one action per env" if self.num_firms == 1 else "one action per firm row")
            )
        checked = self.actions.check(actions)
        if checked.shape[0] != self.num_rows:
            expected = (
                f"num_envs = {self.num_envs}"
                if self.num_firms == 1
                else f"num_envs x num_firms = {self.num_envs} x {self.num_firms}"
            )
            raise ActionError(f"actions has {checked.shape[0]} rows, expected {expected}")
        if hold_rows is not None and hold_rows.any():
            # The all-zero action is valid in every state of every action face.
            checked = checked.copy()
            checked[np.repeat(hold_rows, self.num_firms)] = 0
        masks = self.action_masks()
        decoded, face_invalid = decode_with_masks(self.actions, checked, masks, self.invalid_action)
        self._masks = None
        # the batch steps its own state in place, and its valid moves and observation where
        # nothing else refers to them; the KPIs of an in-place step are copies
        state = writable(self.state)
        valid = self._valid if _unshared(self._valid) else None
        if _unshared(self._observation):
            observation, spare = self._observation, self._spare
        elif _unshared(self._spare):
            observation, spare = self._spare, self._observation
        else:
            observation, spare = None, self._observation
        output = self.model.step_in_place(state, decoded, valid, observation, hold_rows)
        self.state = output.state
        self._valid, self._observation, self._spare = output.valid, output.observation, spare
        # the batch hands these out itself (observe_all, action_masks); an output that
        # still referred to them would make the autoreset copy them
        output = dataclasses.replace(output, valid=_KEPT_VALID, observation=_KEPT_OBSERVATION)
        return output, face_invalid

    def step_same(self, actions: object) -> SameStep:
        """Step, then reset the envs that ended within the same call (SB3's convention)."""
        output, face_invalid = self.step(actions)
        done = output.terminated | output.truncated
        rows = np.flatnonzero(done)
        final_observation = None
        if len(rows):
            assert self._observation is not None  # the step's, not handed out yet
            masks = self.action_masks()[rows] if self.observation_mode == "dict" else None
            final_observation = self._format(self._observation[rows], masks)
            self.autoreset(rows)
        return SameStep(self.observe_all(), output, face_invalid, rows, final_observation)

    def observe(self, state: State, masks: NDArray[np.bool_] | None = None) -> Observation:
        """The batch observation of ``state`` (flat (B, D) or the dict of arrays)."""
        if self.observation_mode == "dict" and masks is None:
            masks = self.actions.masks(self.model.valid_moves(state), state.rnd_intensity)
        return self._format(encode_flat(self.model, state), masks)

    def observe_all(self) -> Observation:
        """Observation of the current batch state (the step's own, encoded in its pass)."""
        assert self.state is not None
        if self._observation is None:
            self._observation = encode_flat(self.model, self.state)
        masks = self.action_masks() if self.observation_mode == "dict" else None
        return self._format(self._observation, masks)

    def _format(self, flat: NDArray[np.float32], masks: NDArray[np.bool_] | None) -> Observation:
        """Flat observations as the face's observation mode gives them."""
        if self.observation_mode == "dict":
            assert masks is not None
            batch, regions = flat.shape[0], self.params.num_regions
            width = regions * len(REGION_FEATURES)
            return {
                "regions": flat[:, :width].reshape(batch, regions, -1),
                "firm": flat[:, width:],
                "action_mask": masks.astype(np.int8),
            }
        return flat

    def render_env(self, index: int, render_mode: str | None) -> Any:
        """What the single env's ``render()`` shows, for env ``index``."""
        if self.state is None or render_mode is None:
            return None
        single = self.state.take(np.array([index]))
        if render_mode == "ansi":
            return render.ansi(single, self.params)
        return render.rgb_array(single, self.params, [float(single.cash[0])])


def batch_kpi_infos(output: StepOutput, face_invalid: NDArray[np.int64]) -> dict[str, Any]:
    """Gymnasium-style infos of a step: each KPI as an array over the batch.

    The arrays are the core's own (no per-env Python work); ``invalid_moves``
    adds the masked moves the face turned into no-ops, as the single env's
    :func:`~lepton_env.envs.expansion.step_info` does.
    """
    infos: dict[str, Any] = dict(output.kpis)
    infos["invalid_moves"] = np.asarray(output.kpis["invalid_moves"], dtype=np.int64) + face_invalid
    infos["reward_components"] = dict(output.reward_components)
    return infos


def _with_masks(infos: dict[str, Any], present: NDArray[np.bool_]) -> dict[str, Any]:
    """Add Gymnasium's ``_key`` presence masks (recursively for nested dicts)."""
    masked: dict[str, Any] = {}
    for key, value in infos.items():
        masked[key] = _with_masks(value, present) if isinstance(value, dict) else value
        masked[f"_{key}"] = present
    return masked


class LeptonExpansionVectorEnv(gym.vector.VectorEnv[Any, Any, Any]):
    """n Lepton AI expansion environments stepped in one batched call.

    ``gymnasium.make_vec("LeptonExpansion-v0", num_envs=n,
    vectorization_mode="vector_entry_point", scenario="global")`` returns it;
    every argument of :class:`~lepton_env.envs.expansion.LeptonExpansionEnv`
    is accepted, plus ``autoreset_mode``.

    Autoreset follows Gymnasium 1.x, declared in ``metadata["autoreset_mode"]``:

    * ``NEXT_STEP`` (default, as ``SyncVectorEnv``): a sub-env that ended is
      reset by the next ``step()``, which ignores its action and returns the
      first observation of the new episode with reward 0 and both flags False.
    * ``SAME_STEP``: a sub-env that ends is reset within the same ``step()``;
      the last observation of the episode is in ``infos["final_obs"]`` (an
      object array, ``None`` elsewhere) and its KPIs in ``infos["final_info"]``.

    ``reset(seed=s)`` seeds sub-env ``i`` with ``s + i`` (a list gives one seed
    per sub-env); ``reset(options={"reset_mask": mask})`` resets only the masked
    sub-envs. ``infos`` is a dict of arrays over the batch: every KPI of the
    single env's ``info`` (and its ``_name`` presence mask). ``action_masks()``
    gives the (n, mask size) valid actions. ``render()`` returns a tuple of the
    sub-envs' renders.
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
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
        **params: Any,
    ) -> None:
        modes = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
        try:
            autoreset = AutoresetMode(autoreset_mode)
        except ValueError:
            autoreset = None
        if autoreset not in modes:
            raise ValueError(
                f"autoreset_mode = {autoreset_mode!r}: allowed {[m.value for m in modes]}"
            )
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
        self.num_envs = self.batch.num_envs
        self.model = self.batch.model
        self.params = self.batch.params
        self.render_mode = render_mode
        self.autoreset_mode = autoreset
        self.metadata = {
            "render_modes": ["ansi", "rgb_array"],
            "render_fps": 4,
            "autoreset_mode": autoreset,
        }
        self.single_action_space = self.batch.single_action_space
        self.single_observation_space = self.batch.single_observation_space
        self._autoreset_envs = np.zeros(self.num_envs, dtype=bool)
        self._all_present = np.ones(self.num_envs, dtype=bool)

    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[Observation, dict[str, Any]]:
        n = self.num_envs
        if isinstance(seed, int | np.integer) and not isinstance(seed, bool):
            first = rng.check_seed(seed, count=n)
            super().reset(seed=first)
            seeds: list[int | None] = [first + i for i in range(n)]
        elif seed is None:
            seeds = [None] * n
        elif isinstance(seed, Sequence) and not isinstance(seed, str | bytes):
            seeds = [
                None if value is None else rng.check_seed(value, f"seed[{index}]")
                for index, value in enumerate(seed)
            ]
            if len(seeds) != n:
                raise ValueError(f"seed has {len(seeds)} entries, expected num_envs = {n}")
        else:
            raise TypeError(f"seed = {seed!r}: expected an int, a list of num_envs ints, or None")
        reset_mask = np.ones(n, dtype=bool)
        if options and "reset_mask" in options:
            reset_mask = np.asarray(options["reset_mask"], dtype=bool)
            if reset_mask.shape != (n,):
                raise ValueError(
                    f"options['reset_mask'] has shape {reset_mask.shape}, expected ({n},)"
                )
        rows = np.flatnonzero(reset_mask)
        keys = self.batch.episode_keys(rows, [seeds[i] for i in rows], self.np_random)
        self.batch.reset_rows(rows, keys)
        self._autoreset_envs[rows] = False
        infos = _with_masks({"action_mask": self.batch.action_masks()}, reset_mask)
        return self.batch.observe_all(), infos

    def step(
        self, actions: Any
    ) -> tuple[
        Observation, NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], dict[str, Any]
    ]:
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
            return self._step_same_step(actions)
        resetting = bool(self._autoreset_envs.any())
        output, face_invalid = self.batch.step(actions, self._autoreset_envs if resetting else None)
        reward, terminated, truncated = output.reward, output.terminated, output.truncated
        infos = batch_kpi_infos(output, face_invalid)
        present = self._all_present
        if resetting:
            rows = np.flatnonzero(self._autoreset_envs)
            self.batch.autoreset(rows)
            reward, terminated, truncated = reward.copy(), terminated.copy(), truncated.copy()
            reward[rows] = 0.0
            terminated[rows] = False
            truncated[rows] = False
            present = ~self._autoreset_envs
        self._autoreset_envs = terminated | truncated
        return self.batch.observe_all(), reward, terminated, truncated, _with_masks(infos, present)

    def _step_same_step(
        self, actions: Any
    ) -> tuple[
        Observation, NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_], dict[str, Any]
    ]:
        result = self.batch.step_same(actions)
        output = result.output
        infos = _with_masks(batch_kpi_infos(output, result.face_invalid), self._all_present)
        rows = result.done_rows
        if len(rows):
            done = np.zeros(self.num_envs, dtype=bool)
            done[rows] = True
            final_obs = np.full(self.num_envs, None, dtype=object)
            final_rows = result.final_observation
            assert final_rows is not None
            for position, row in enumerate(rows):
                final_obs[row] = (
                    {k: v[position] for k, v in final_rows.items()}
                    if isinstance(final_rows, dict)
                    else final_rows[position]
                )
            final_info = {k: v for k, v in infos.items() if not k.startswith("_")}
            infos["final_obs"], infos["_final_obs"] = final_obs, done
            infos["final_info"], infos["_final_info"] = _with_masks(final_info, done), done
        return result.observation, output.reward, output.terminated, output.truncated, infos

    def action_masks(self) -> NDArray[np.bool_]:
        """Valid actions of every sub-env, (n, mask size) bool (for MaskablePPO-style agents)."""
        return self.batch.action_masks()

    # Built on first use: a batched Box holds its bounds and their finiteness for every
    # sub-env (3.3 KB per env on `global`), more than the env's own state.
    @cached_property
    def action_space(self) -> Any:  # type: ignore[override]
        """The batched action space (``gymnasium.vector.utils.batch_space``)."""
        return batch_space(self.single_action_space, self.num_envs)

    @cached_property
    def observation_space(self) -> Any:  # type: ignore[override]
        """The batched observation space (``gymnasium.vector.utils.batch_space``)."""
        return batch_space(self.single_observation_space, self.num_envs)

    @property
    def state(self) -> State | None:
        """The batch state, rewritten in place by every step and reset: copy what you keep
        (``state.take(rows)``)."""
        return self.batch.state

    def render(self) -> tuple[Any, ...] | None:
        if self.render_mode is None:
            return None
        return tuple(self.batch.render_env(i, self.render_mode) for i in range(self.num_envs))
