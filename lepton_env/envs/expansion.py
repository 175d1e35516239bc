"""The Gymnasium face: :class:`LeptonExpansionEnv`, a batch of one over the core."""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from lepton_env import render, rng
from lepton_env.core import Model, StepOutput
from lepton_env.envs.actions import ACTION_FACES, ActionError, ContinuousActions
from lepton_env.mechanisms.competitors import Persona
from lepton_env.observation import (
    FIRM_FEATURES,
    REGION_FEATURES,
    bounds,
    encode_flat,
    feature_table,
)
from lepton_env.params import Params
from lepton_env.reward import RewardFunction
from lepton_env.scenarios import ScenarioGenerator, make_params
from lepton_env.state import State
from lepton_env.types import Move

ActionMode = Literal["multi_discrete", "discrete", "continuous"]
ObservationMode = Literal["flat", "dict"]
InvalidAction = Literal["noop", "raise"]


def build_model(
    scenario: str | ScenarioGenerator | Params,
    reward_function: RewardFunction | None,
    personas: tuple[Persona, ...] | None,
    overrides: dict[str, Any],
    *,
    multi_firm: bool = False,
) -> Model:
    """The core Model for a scenario with keyword overrides and injected parts.

    A scenario with rival firms is refused unless ``multi_firm`` (the faces of
    :mod:`lepton_env.multi` play it): the single-agent faces drive one firm."""
    params = make_params(scenario, **overrides)
    if params.num_firms > 1 and not multi_firm:
        raise ValueError(
            f"this scenario has {params.num_firms} firms {list(params.firm_names)}: play it "
            "through the multi-agent faces, lepton_env.multi.parallel_env(scenario=...) or "
            "its batched VecEnv; the single-agent faces drive one firm"
        )
    parts: dict[str, Any] = {}
    if reward_function is not None:
        parts["reward_function"] = reward_function
    if personas is not None:
        parts["personas"] = tuple(personas)
    return Model(params, **parts)


def observation_space(
    params: Params, mode: ObservationMode, mask_size: int
) -> spaces.Box | spaces.Dict:
    """Flat Box, or Dict of ``regions (R, F)``, ``firm (G,)`` and ``action_mask``."""
    region_low, region_high = bounds(REGION_FEATURES)
    firm_low, firm_high = bounds(FIRM_FEATURES)
    regions = params.num_regions
    if mode == "flat":
        low = np.concatenate([np.tile(region_low, regions), firm_low])
        high = np.concatenate([np.tile(region_high, regions), firm_high])
        return spaces.Box(low, high, dtype=np.float32)
    if mode == "dict":
        return spaces.Dict(
            {
                "regions": spaces.Box(
                    np.tile(region_low, (regions, 1)),
                    np.tile(region_high, (regions, 1)),
                    dtype=np.float32,
                ),
                "firm": spaces.Box(firm_low, firm_high, dtype=np.float32),
                "action_mask": spaces.MultiBinary(mask_size),
            }
        )
    raise ValueError(f"observation_mode = {mode!r}: allowed 'flat' or 'dict'")


class LeptonExpansionEnv(gym.Env[Any, Any]):
    """Lepton AI's international expansion, one quarter per step.

    ## Description
    A Beijing-based AI company decides, each quarter, which foreign regions to
    enter, by which mode (export pilot, partnership, acquisition, greenfield),
    what to spend on marketing, localization, compliance and partner due
    diligence, how much R&D to fund, and when to exit. Markets diffuse (Bass),
    shares follow an attraction model against incumbents with personas,
    regulators tighten and fine, and geopolitics can close a region.
    See ``docs/model.md`` for every equation.

    ## Action Space
    ``action_mode="multi_discrete"`` (``LeptonExpansion-v0``):
    ``MultiDiscrete([10] * R + [L])``, one :class:`~lepton_env.types.Move` per
    region (0 hold, 1 pilot, 2 partnership, 3 acquisition, 4 greenfield, 5 exit,
    6 marketing, 7 localize, 8 comply, 9 diligence) and an R&D level.
    ``"discrete"`` (``LeptonExpansion-Single-v0``): ``Discrete(10 R + L)``.
    ``"continuous"`` (``LeptonExpansion-Continuous-v0``): ``Box(-1, 1, (5 R + 1,))``.
    ``action_masks()`` gives the valid actions (for MaskablePPO); an invalid
    action is a no-op counted in ``info["invalid_moves"]``, or raises
    :class:`ActionError` with ``invalid_action="raise"``.

    ## Observation Space
    Flat ``Box`` of ``R * F_region + F_firm`` float32 (regions row-major, then
    the firm), or with ``observation_mode="dict"`` a ``Dict`` with
    ``regions (R, F_region)``, ``firm (F_firm,)`` and ``action_mask``:

    {features}

    ## Rewards
    By default (:class:`~lepton_env.reward.ProfitReward`) quarterly profit over
    ``reward_scale``, plus at the horizon the terminal value (KPI ``terminal_value``:
    the expected discounted profit of the positions over ``valuation_quarters`` under
    the model's own dynamics and a stated continuation policy), minus
    ``bankruptcy_penalty`` on bankruptcy, all at present value: the reward of quarter
    ``t`` is ``delta^t`` times that, ``delta = (1 + discount_rate)^(-1/4)`` (KPI
    ``discount``), so the return is the firm's present value at the cost of capital
    that also prices acquisitions. The parts are in ``info["reward_components"]``;
    pass ``reward_function=`` to swap it.

    ## Starting State
    The firm serves only its home region, with a greenfield operation there,
    ``initial_cash`` and ``initial_quality``. Per-episode noise (``procedural``)
    varies market sizes, distances, competitor and partner quality. Each foreign
    region's hidden product-market fit is drawn from a prior that widens with
    psychic distance; the observation carries the firm's belief about it
    (``fit_belief``, ``fit_uncertainty``), which signals sharpen while it serves
    the region.

    ## Episode End
    Terminated: cash below minus ``credit_line`` (bankruptcy, ``info["bankrupt"]``),
    or ``horizon`` quarters have passed (``info["at_horizon"]``): the horizon is part
    of the task (the terminal value is paid there and the quarter is observed).
    Truncated: never by the environment (a wrapper's time limit may).

    ## Arguments
    ``gymnasium.make(id, scenario="global", observation_mode="flat",
    invalid_action="noop", reward_function=None, personas=None,
    render_mode=None, **params)``; ``scenario`` is ``"toy"``, ``"toy_pilot"``,
    ``"global"``, ``"procedural"``, a generator or a :class:`~lepton_env.params.Params`;
    every Params field (e.g. ``horizon=20``) and every generator option (e.g.
    ``difficulty=0.8`` for ``procedural``) can be given by keyword.

    >>> import gymnasium as gym, lepton_env
    >>> env = gym.make("LeptonExpansion-v0", scenario="toy")
    >>> observation, info = env.reset(seed=0)
    >>> observation, reward, terminated, truncated, info = env.step(env.action_space.sample())

    ## Version History
    * v0: initial release. Issue 21 (same id): rewards at present value (one rate), the
      terminal value by the dynamics, and the horizon reported as ``terminated``.
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}  # noqa: RUF012 (gym API)

    def __init__(
        self,
        scenario: str | ScenarioGenerator | Params = "global",
        *,
        action_mode: ActionMode = "multi_discrete",
        observation_mode: ObservationMode = "flat",
        invalid_action: InvalidAction = "noop",
        reward_function: RewardFunction | None = None,
        personas: tuple[Persona, ...] | None = None,
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        if action_mode not in ACTION_FACES:
            raise ValueError(f"action_mode = {action_mode!r}: allowed {sorted(ACTION_FACES)}")
        if invalid_action not in ("noop", "raise"):
            raise ValueError(f"invalid_action = {invalid_action!r}: allowed 'noop' or 'raise'")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode = {render_mode!r}: allowed {self.metadata['render_modes']}"
            )
        self.model = build_model(scenario, reward_function, personas, params)
        self.params = self.model.params
        self.action_mode = action_mode
        self.observation_mode = observation_mode
        self.invalid_action = invalid_action
        self.render_mode = render_mode
        self.actions = ACTION_FACES[action_mode](self.params)
        self.action_space = self.actions.space
        self.observation_space = observation_space(
            self.params, observation_mode, self.actions.mask_size
        )
        self.state: State | None = None
        self._key: NDArray[np.uint64] | None = None
        self._masks: NDArray[np.bool_] | None = None
        # the current state's valid moves (1, R, NUM_MOVES) and flat observation (1, D),
        # as the core's step returns them; computed on demand after a reset
        self._valid: NDArray[np.bool_] | None = None
        self._observation: NDArray[np.float32] | None = None
        self._cash_history: list[float] = []

    # ---------------------------------------------------------------- API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            seed = rng.check_seed(seed)
        super().reset(seed=seed)
        if seed is not None:
            self._key = rng.episode_key(np.array([seed]), self.params.seed_offset)
        elif self._key is None:
            drawn = int(self.np_random.integers(0, 2**31))
            self._key = rng.episode_key(np.array([drawn]), self.params.seed_offset)
        else:
            self._key = rng.next_episode_key(self._key)
        self.state = self.model.reset(self._key)
        self._masks = self._valid = self._observation = None
        self._cash_history = [float(self.state.cash[0])]
        return self._observe(), {"action_mask": self.action_masks()}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        if action is None:
            raise ActionError(f"action = None: expected an element of {self.action_space}")
        batch_action = np.asarray(action)[None, ...]
        checked = self.actions.check(batch_action)
        decoded, face_invalid = self._decode(checked)
        output = self.model.step(self.state, decoded)
        self.state = output.state
        self._masks = None
        self._valid, self._observation = output.valid, output.observation
        self._cash_history.append(float(self.state.cash[0]))
        info = step_info(output, 0, face_invalid[0])
        return (
            self._observe(),
            float(output.reward[0]),
            bool(output.terminated[0]),
            bool(output.truncated[0]),
            info,
        )

    def action_masks(self) -> NDArray[np.bool_]:
        """Valid actions now, flat (as MaskablePPO expects)."""
        if self.state is None:
            raise RuntimeError("call reset() before action_masks()")
        if self._masks is None:
            if self._valid is None:
                self._valid = self.model.valid_moves(self.state)
            self._masks = self.actions.masks(self._valid, self.state.rnd_intensity)
        return self._masks[0]

    def render(self) -> Any:
        if self.state is None or self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            return render.ansi(self.state, self.params)
        return render.rgb_array(self.state, self.params, self._cash_history)

    # ---------------------------------------------------------------- helpers
    def _decode(self, checked: NDArray[Any]) -> tuple[Any, NDArray[np.int64]]:
        masks = self.action_masks()[None, :]
        return decode_with_masks(self.actions, checked, masks, self.invalid_action)

    def _observe(self) -> Any:
        assert self.state is not None
        if self._observation is None:
            self._observation = encode_flat(self.model, self.state)
        flat = self._observation[0]
        if self.observation_mode == "dict":
            width = self.params.num_regions * len(REGION_FEATURES)
            return {
                "regions": flat[:width].reshape(self.params.num_regions, -1),
                "firm": flat[width:],
                "action_mask": self.action_masks().astype(np.int8),
            }
        return flat


def decode_with_masks(
    actions: Any, checked: NDArray[Any], masks: NDArray[np.bool_], invalid_action: InvalidAction
) -> tuple[Any, NDArray[np.int64]]:
    """Decode a checked batch, turning masked moves into no-ops (or raising)."""
    if isinstance(actions, ContinuousActions):
        decoded = actions.decode(checked)
        regions = decoded.moves.shape[1]
        valid = masks[:, : regions * len(Move)].reshape(-1, regions, len(Move))
        chosen = np.take_along_axis(valid, decoded.moves[..., None].astype(np.intp), -1)[..., 0]
        from_entry = (decoded.moves != Move.HOLD) & (decoded.moves != Move.DILIGENCE)
        invalid = ~chosen & from_entry
        if invalid_action == "raise" and invalid.any():
            raise ActionError(f"invalid entry or exit move in regions {np.nonzero(invalid)[1]}")
        moves = np.where(chosen, decoded.moves, Move.HOLD).astype(np.int8)
        from dataclasses import replace

        return replace(decoded, moves=moves), invalid.sum(axis=1)
    invalid = actions.invalid(checked, masks)
    if invalid_action == "raise" and invalid.any():
        raise ActionError(f"action {checked.tolist()} is masked as invalid in this state")
    return actions.decode(actions.neutralize(checked, invalid)), invalid.sum(axis=1)


def step_info(output: StepOutput, row: int, face_invalid: int) -> dict[str, Any]:
    """The info dict of one environment: KPIs and reward components.

    Python scalars for per-env KPIs, array copies for per-region ones, as
    :func:`step_infos` gives them for several rows.
    """
    info: dict[str, Any] = {
        name: value[row].copy() if value.ndim > 1 else value.item(row)
        for name, value in output.kpis.items()
    }
    info["invalid_moves"] += int(face_invalid)
    info["reward_components"] = {
        name: float(value.item(row)) for name, value in output.reward_components.items()
    }
    return info


def step_infos(
    output: StepOutput, rows: NDArray[np.intp], face_invalid: NDArray[np.integer]
) -> list[dict[str, Any]]:
    """The info dicts of the envs at ``rows`` (``face_invalid`` per row), one KPI at a time.

    Python scalars for per-env KPIs, arrays for per-region ones; the work per
    KPI is vectorized, so building k dicts costs k dict insertions per KPI.
    """
    columns: dict[str, list[Any]] = {}
    for name, value in output.kpis.items():
        taken = value[rows]
        columns[name] = list(taken) if value.ndim > 1 else taken.tolist()
    invalid = output.kpis["invalid_moves"][rows].astype(np.int64) + face_invalid
    columns["invalid_moves"] = invalid.tolist()
    parts = {k: v[rows].astype(np.float64).tolist() for k, v in output.reward_components.items()}
    names = (*columns, "reward_components")
    components = [
        dict(zip(parts, values, strict=True)) for values in zip(*parts.values(), strict=True)
    ]
    if not parts:
        components = [{} for _ in range(len(rows))]
    return [
        dict(zip(names, values, strict=True))
        for values in zip(*columns.values(), components, strict=True)
    ]


LeptonExpansionEnv.__doc__ = (LeptonExpansionEnv.__doc__ or "").replace(
    "{features}", feature_table().replace("\n", "\n    ")
)
