"""The batched simulation: ``reset`` and ``step`` as pure functions over the batch.

``Model(params).step(state, action)`` advances every environment of the batch
by one quarter and returns a new state; nothing is mutated. The vector faces,
which own their batch, use ``step_in_place`` and ``restart`` instead: the same
quarter written over their own arrays. The order of a
quarter: (1) moves are checked against the masks and funded in region order
until cash and credit run out, (2) entries, upgrades, exits and diligence take
effect, (3) spends build brand, localization and compliance, R&D moves
quality against the frontier, (4) regulatory and geopolitical shocks hit,
(5) competitors react, (6) adoption diffuses and shares move toward their
attraction-model targets, (7) revenue, fines, partner failures and cash are
settled, and the firm is bankrupt if cash is below minus the credit line,
(8) served regions send signals about their hidden market fit and the firm's
beliefs and the psychic distance of similar regions update
(:mod:`lepton_env.mechanisms.fit`).

With rival firms (``Params.rival_names``, scenarios ``race`` and ``duel_toy``) every
firm takes each step of the quarter, firm-level arrays have a row per (episode,
firm), and conflicts over an incumbent or a partner are settled by documented
rules (docs/model.md, section 5b); with none, the quarter is the one-firm game.

The quarter itself is compiled (:mod:`lepton_env.kernel`); this module holds
the Python-facing model: actions, outputs, personas and the reward function.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env import kernel
from lepton_env.features import observation_width
from lepton_env.kernel import terminal
from lepton_env.mechanisms import competitors, diffusion
from lepton_env.params import Params
from lepton_env.reward import ProfitReward, RewardFunction
from lepton_env.state import State

Kpis = dict[str, NDArray[np.generic]]


@dataclass(frozen=True)
class Action:
    """A decoded action for the batch: a row per firm of each env (``B`` with one firm,
    ``B * F`` env-major with rivals)."""

    moves: NDArray[np.int8]  # (B, R) Move per region
    marketing: NDArray[np.float32]  # (B, R) extra marketing intensity, [0, 1]
    localization: NDArray[np.float32]  # (B, R) extra localization intensity, [0, 1]
    compliance: NDArray[np.float32]  # (B, R) extra compliance intensity, [0, 1]
    rnd: NDArray[np.float32]  # (B,) R&D intensity in [0, 1]; NaN keeps the current one

    @staticmethod
    def hold(batch_size: int, num_regions: int) -> Action:
        """Every region holds, R&D unchanged."""
        zeros = np.zeros((batch_size, num_regions), dtype=np.float32)
        return Action(
            moves=np.zeros((batch_size, num_regions), dtype=np.int8),
            marketing=zeros,
            localization=zeros,
            compliance=zeros,
            rnd=np.full(batch_size, np.nan, dtype=np.float32),
        )


@dataclass(frozen=True)
class StepOutput:
    """What one quarter returns for the batch: a row per firm of each env, as in
    :class:`Action`. ``terminated`` marks the end of the task: bankruptcy or the horizon
    (where the terminal value is paid; KPIs ``bankrupt`` and ``at_horizon`` say which).
    With rivals, a firm that went bankrupt leaves the game and its later rows stay
    terminated, with reward 0. ``truncated`` is always False: the core imposes no limit
    outside the task (a wrapper's time limit may)."""

    state: State
    reward: NDArray[np.float64]  # (B,)
    terminated: NDArray[np.bool_]  # (B,) bankrupt or at the horizon
    truncated: NDArray[np.bool_]  # (B,) always False
    kpis: Kpis  # arrays with leading (B,)
    reward_components: dict[str, NDArray[np.float64]]
    valid: NDArray[np.bool_]  # (B, R, NUM_MOVES) Model.valid_moves of the new state
    observation: NDArray[np.float32]  # (B, obs) observation.encode_flat of the new state


@dataclass(frozen=True)
class Model:
    """A scenario's parameters with the swappable parts of the dynamics."""

    params: Params
    reward_function: RewardFunction = field(default_factory=ProfitReward)
    personas: tuple[competitors.Persona, ...] = competitors.DEFAULT_PERSONAS
    # set once in __post_init__: the params as the kernel takes them (a copy per chunk),
    # the persona kind of each competitor slot, and whether any slot needs a Python persona
    _compiled: Any = field(init=False, repr=False, compare=False)
    _kinds: NDArray[np.int8] = field(init=False, repr=False, compare=False)
    _custom: bool = field(init=False, repr=False, compare=False)
    _discounts: NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __reduce__(self) -> tuple[Any, ...]:
        # the compiled params are rebuilt from the fields, not pickled
        return (Model, (self.params, self.reward_function, self.personas))

    def __post_init__(self) -> None:
        if not callable(self.reward_function):
            raise TypeError(
                "reward_function must be callable as (kpis, terminated, truncated, params) -> "
                f"(reward, components), got {self.reward_function!r}"
            )
        for persona in self.personas:
            if not callable(getattr(persona, "react", None)):
                raise TypeError(
                    f"personas must have a react(rivals, params) method, got {persona!r}"
                )
        highest = int(self.params.competitor_persona.max())
        if highest >= len(self.personas):
            raise ValueError(
                f"competitor_persona uses index {highest} but only {len(self.personas)} "
                f"personas were given: {[p.name for p in self.personas]}"
            )
        kinds = competitors.persona_kinds(self.params.competitor_persona, self.personas)
        object.__setattr__(self, "_compiled", kernel.compile_params_per_chunk(self.params))
        object.__setattr__(self, "_kinds", kinds)
        object.__setattr__(self, "_custom", bool((kinds == competitors.CUSTOM_KIND).any()))
        # delta^t for t = 0 .. horizon: the present value of a quarter's reward at quarter 0
        delta = (1.0 + self.params.discount_rate) ** -0.25
        discounts = delta ** np.arange(self.params.horizon + 1, dtype=np.float64)
        object.__setattr__(self, "_discounts", discounts)

    # ------------------------------------------------------------------ reset
    def reset(self, keys: NDArray[np.uint64]) -> State:
        """Initial states for episodes with the given RNG keys, (B,)."""
        p = self.params
        keys = np.asarray(keys, dtype=np.uint64)
        arrays = kernel.empty_state(
            keys.shape[0], p.num_regions, p.num_competitors, p.num_partners, p.num_firms
        )
        arrays.episode_key[:] = keys
        kernel.reset(self._compiled, arrays)
        return State(*arrays)

    def empty_state(self, batch_size: int) -> State:
        """An uninitialized state of ``batch_size`` envs, for :meth:`restart` to fill."""
        p = self.params
        return State(
            *kernel.empty_state(
                batch_size, p.num_regions, p.num_competitors, p.num_partners, p.num_firms
            )
        )

    def empty_outputs(self, batch_size: int) -> tuple[NDArray[np.bool_], NDArray[np.float32]]:
        """Uninitialized valid-move (B * F, R, NUM_MOVES) and flat observation (B * F, D)
        buffers: a row per firm of each env."""
        regions, firms = self.params.num_regions, self.params.num_firms
        return (
            np.empty((batch_size * firms, regions, kernel.NUM_MOVES), dtype=np.bool_),
            np.empty((batch_size * firms, observation_width(regions, firms)), dtype=np.float32),
        )

    def restart(
        self,
        state: State,
        rows: NDArray[np.intp],
        keys: NDArray[np.uint64],
        valid: NDArray[np.bool_],
        observation: NDArray[np.float32],
    ) -> None:
        """Start new episodes with ``keys`` in ``rows`` of ``state`` **in place**, and write
        their valid moves and observations into ``valid`` and ``observation`` rows.

        Only for a caller that owns these arrays (the vector faces' autoreset); the
        rows end up exactly as ``reset(keys)``, ``valid_moves`` and ``encode_flat`` give.
        """
        kernel.restart(
            self._compiled,
            state.arrays,
            np.asarray(rows, dtype=np.int64),
            np.asarray(keys, dtype=np.uint64),
            valid,
            observation,
        )

    # ------------------------------------------------------------------ masks
    def masks(self, state: State) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        """``(move_costs(state), valid_moves(state))`` in one pass."""
        costs, valid = kernel.masks(self._compiled, state.arrays)
        return costs, valid

    def move_costs(self, state: State) -> NDArray[np.float64]:
        """$M each move would cost this quarter, (B, R, NUM_MOVES)."""
        return self.masks(state)[0]

    def valid_moves(self, state: State) -> NDArray[np.bool_]:
        """Which moves change the state this quarter, (B, R, NUM_MOVES); HOLD is always valid."""
        return self.masks(state)[1]

    # ------------------------------------------------------------------ helpers
    def potential(self, state: State) -> NDArray[np.float32]:
        """``M_r(t)``, (B, R)."""
        p = self.params
        return diffusion.market_potential(
            p.market_potential, p.market_growth, state.market_size, state.quarter[:, None]
        ).astype(np.float32)

    # ------------------------------------------------------------------ step
    def step(self, state: State, action: Action) -> StepOutput:
        """Advance every environment of the batch by one quarter.

        The output also carries the new state's valid moves and observation,
        computed in the same compiled pass.
        """
        return self._step(state, action, in_place=False)

    def step_in_place(
        self,
        state: State,
        action: Action,
        valid: NDArray[np.bool_] | None = None,
        observation: NDArray[np.float32] | None = None,
        frozen: NDArray[np.bool_] | None = None,
    ) -> StepOutput:
        """:meth:`step`, writing the new state **over** ``state`` (whose arrays must be
        writable and owned by the caller), and the new valid moves and observation into
        ``valid`` (B, R, NUM_MOVES) and ``observation`` (B, D) when given. A given
        ``valid`` must hold :meth:`valid_moves` of ``state`` (as the previous step or
        :meth:`restart` left it): the step reads it instead of recomputing it.

        For the vector faces, which own their batch: a step then allocates no state.
        The output's ``state`` is ``state``; its KPIs are copies, never views of it.
        ``frozen`` (B,) envs do not step: their state, valid moves and observation rows
        are left as they are and their KPIs are zero, so their other outputs mean nothing
        (for envs the caller resets next, as Gymnasium's next-step autoreset does).
        """
        return self._step(
            state, action, in_place=True, valid=valid, observation=observation, frozen=frozen
        )

    def _step(
        self,
        state: State,
        action: Action,
        *,
        in_place: bool,
        valid: NDArray[np.bool_] | None = None,
        observation: NDArray[np.float32] | None = None,
        frozen: NDArray[np.bool_] | None = None,
    ) -> StepOutput:
        p = self.params
        arrays = state.arrays
        reacted = _NO_REACTION
        if self._custom:
            reacted = np.stack(self._python_reactions(state)).astype(np.float32, copy=False)
        rows = state.cash.shape[0]
        firms = p.num_firms
        # firms that left the game before this quarter earn nothing more (several firms only)
        gone = state.cash < -p.credit_line if firms > 1 else None
        # last quarter's revenue is a KPI; an in-place step overwrites it
        previous_revenue = state.revenue.copy() if in_place else state.revenue
        quarter = kernel.step(
            self._compiled,
            arrays,
            np.ascontiguousarray(action.moves, dtype=np.int8),
            np.ascontiguousarray(action.marketing, dtype=np.float32),
            np.ascontiguousarray(action.localization, dtype=np.float32),
            np.ascontiguousarray(action.compliance, dtype=np.float32),
            _per_env(action.rnd, rows),
            self._kinds,
            reacted,
            in_place=in_place,
            valid=valid,
            observation=observation,
            frozen=None if frozen is None else np.ascontiguousarray(frozen, dtype=np.bool_),
        )
        if in_place:
            new_state = state
        else:
            new_state = State(*quarter.state)
            new_state.__dict__["arrays"] = (
                quarter.state
            )  # the tuple the kernel built: no second one
        bankrupt = quarter.money[kernel.MONEY_KPIS.index("cash")] < -p.credit_line
        horizon = new_state.quarter >= p.horizon
        at_horizon = np.repeat(horizon, firms) if firms > 1 else horizon
        # the horizon ends the task (the terminal value is paid there): terminated, as
        # bankruptcy is; nothing in the core truncates
        terminated = bankrupt | at_horizon
        truncated = np.zeros_like(terminated)
        valued = at_horizon & ~bankrupt
        if frozen is not None:
            valued &= ~(np.repeat(frozen, firms) if firms > 1 else frozen)
        terminal_value = np.zeros(rows)
        if valued.any():
            where = np.flatnonzero(valued)
            terminal_value[where] = terminal.terminal_values(
                self._compiled[0], new_state.arrays, self._kinds, where
            )
        quarters = np.repeat(new_state.quarter, firms) if firms > 1 else new_state.quarter
        kpis = _kpis(
            previous_revenue,
            new_state,
            quarter.money,
            quarter.counts,
            quarter.entries_by_mode,
            bankrupt,
        )
        kpis["terminal_value"] = terminal_value
        kpis["at_horizon"] = at_horizon
        kpis["discount"] = self._discounts[np.minimum(quarters, self._discounts.shape[0] - 1)]
        reward, components = self.reward_function(kpis, terminated, truncated, p)
        if gone is not None and gone.any():
            reward = np.where(gone, 0.0, reward)
            components = {name: np.where(gone, 0.0, value) for name, value in components.items()}
        return StepOutput(
            new_state,
            reward,
            terminated,
            truncated,
            kpis,
            components,
            quarter.valid,
            quarter.observation,
        )

    def _python_reactions(
        self, state: State
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
        """Rivals' (quality, brand, price) after the personas' own ``react``, (B, R, K) each.

        As the built-in personas in the kernel, they see the firms' summed share where the
        firms are foreign and the strongest firm brand."""
        p = self.params
        regions, firms = p.num_regions, p.num_firms
        # Incumbents react to a firm as an entrant: not to its home business.
        foreign = np.arange(regions)[None, :] != np.array(p.firm_homes)[:, None]  # (F, R)
        shares = state.firm_share.reshape(-1, firms, regions)
        rivals = competitors.Rivals(
            quality=state.competitor_quality,
            brand=state.competitor_brand,
            price=state.competitor_price,
            share=state.competitor_share,
            firm_share=np.where(foreign, shares, 0.0).sum(axis=1).astype(np.float32),
            firm_brand=state.brand.reshape(-1, firms, regions).max(axis=1),
        )
        return competitors.react(rivals, self.params.competitor_persona, self.personas, self.params)


_NO_REACTION = np.empty((3, 0, 0, 0), dtype=np.float32)


def _per_env(values: NDArray[np.float32], batch: int) -> NDArray[np.float32]:
    """``values`` as a contiguous float32 (B,) array (a scalar is broadcast)."""
    if values.shape != (batch,):
        values = np.broadcast_to(values, (batch,))
    return np.ascontiguousarray(values, dtype=np.float32)


# the KPI dict's order: last quarter's revenue follows this quarter's
_MONEY_ORDER = (kernel.MONEY_KPIS[0], "previous_revenue", *kernel.MONEY_KPIS[1:])


def _kpis(
    previous_revenue: NDArray[np.float64],
    new_state: State,
    money: NDArray[np.float64],
    counts: NDArray[np.int64],
    by_mode: NDArray[np.int64],
    terminated: NDArray[np.bool_],
) -> Kpis:
    """The KPI dict: rows of the kernel's outputs as (B,) arrays, per-region ones (B, R)."""
    rows = dict(zip(kernel.MONEY_KPIS, money, strict=True))
    rows["previous_revenue"] = previous_revenue
    count_rows = dict(zip(kernel.COUNT_KPIS, counts, strict=True))
    kpis: Kpis = {name: rows[name] for name in _MONEY_ORDER}
    # copies: a KPI must not change when its env's state is later rewritten in place
    kpis["market_share"] = new_state.firm_share.copy()
    kpis["entry_mode"] = new_state.entry_mode.copy()
    kpis["regions_present"] = count_rows["regions_present"]
    kpis["entries"] = count_rows["entries"]
    kpis["entries_by_mode"] = by_mode
    for name in kernel.COUNT_KPIS[2:]:
        kpis[name] = count_rows[name]
    kpis["bankrupt"] = terminated
    return kpis
