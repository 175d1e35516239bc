"""The batched simulation: ``reset`` and ``step`` as pure functions over the batch.

``Model(params).step(state, action)`` advances every environment of the batch
by one quarter and returns a new state; nothing is mutated. The order of a
quarter: (1) moves are checked against the masks and funded in region order
until cash and credit run out, (2) entries, upgrades, exits and diligence take
effect, (3) spends build brand, localization and compliance, R&D moves
quality against the frontier, (4) regulatory and geopolitical shocks hit,
(5) competitors react, (6) adoption diffuses and shares move toward their
attraction-model targets, (7) revenue, fines, partner failures and cash are
settled, and the firm is bankrupt if cash is below minus the credit line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.mechanisms import (
    brand,
    competitors,
    compliance,
    diffusion,
    entry,
    finance,
    localization,
    partners,
    rnd,
    share,
    shocks,
)
from lepton_env.params import Params
from lepton_env.reward import ProfitReward, RewardFunction
from lepton_env.rng import Stream
from lepton_env.state import State
from lepton_env.types import MODE_RANK, NUM_MODES, NUM_MOVES, EntryMode, Move

_RANK = np.array(MODE_RANK, dtype=np.int8)
Kpis = dict[str, NDArray[np.generic]]


@dataclass(frozen=True)
class Action:
    """A decoded action for the batch."""

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
    """What one quarter returns for the batch."""

    state: State
    reward: NDArray[np.float64]  # (B,)
    terminated: NDArray[np.bool_]  # (B,) bankrupt
    truncated: NDArray[np.bool_]  # (B,) horizon reached
    kpis: Kpis  # arrays with leading (B,)
    reward_components: dict[str, NDArray[np.float64]]


@dataclass(frozen=True)
class Model:
    """A scenario's parameters with the swappable parts of the dynamics."""

    params: Params
    reward_function: RewardFunction = field(default_factory=ProfitReward)
    personas: tuple[competitors.Persona, ...] = competitors.DEFAULT_PERSONAS

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

    @property
    def _foreign(self) -> NDArray[np.bool_]:
        """(R,) True for every region but home."""
        return np.arange(self.params.num_regions) != self.params.home_region

    # ------------------------------------------------------------------ reset
    def reset(self, keys: NDArray[np.uint64]) -> State:
        """Initial states for episodes with the given RNG keys, (B,)."""
        p = self.params
        keys = np.asarray(keys, dtype=np.uint64)
        batch = keys.shape[0]
        regions, slots, candidates = p.num_regions, p.num_competitors, p.num_partners
        quarter = np.zeros(batch, dtype=np.int32)
        home = np.arange(regions) == p.home_region

        size_z = rng.normal(keys, quarter, Stream.MARKET_SIZE_NOISE, (regions,))
        market_size = np.exp(p.trait_noise * size_z - 0.5 * p.trait_noise**2).astype(np.float32)
        distance_z = rng.normal(keys, quarter, Stream.DISTANCE_NOISE, (regions,))
        distance = np.clip(p.psychic_distance * np.exp(p.trait_noise * distance_z), 0.0, 1.0)
        comp_z = rng.normal(keys, quarter, Stream.COMPETITOR_NOISE, (regions, slots))
        comp_quality = np.clip(p.competitor_quality + p.competitor_noise * comp_z, 0.0, 1.0)
        quality_z = rng.normal(keys, quarter, Stream.PARTNER_QUALITY, (regions, candidates))
        partner_quality = partners.hidden_quality(
            p.partner_quality_mean, p.partner_quality_spread, quality_z
        )
        noise_z = rng.normal(keys, quarter, Stream.DILIGENCE_NOISE, (regions, candidates))
        rounds = np.zeros((batch, regions), dtype=np.int8)

        def per_region(home_value: float, abroad: float, dtype: type) -> NDArray[Any]:
            return np.broadcast_to(np.where(home, home_value, abroad), (batch, regions)).astype(
                dtype
            )

        state = State(
            episode_key=keys.copy(),
            quarter=quarter,
            cash=np.full(batch, p.initial_cash, dtype=np.float64),
            revenue=np.zeros(batch, dtype=np.float64),
            product_quality=np.full(batch, p.initial_quality, dtype=np.float32),
            rnd_intensity=np.full(batch, p.initial_rnd, dtype=np.float32),
            market_size=market_size,
            psychic_distance=distance.astype(np.float32),
            adoption=np.broadcast_to(p.initial_adoption, (batch, regions)).astype(np.float32),
            stringency=np.broadcast_to(p.initial_stringency, (batch, regions)).astype(np.float32),
            closed_quarters=np.zeros((batch, regions), dtype=np.int16),
            entry_mode=per_region(EntryMode.GREENFIELD, EntryMode.NONE, np.int8),
            interim_mode=np.zeros((batch, regions), dtype=np.int8),
            build_quarters=np.zeros((batch, regions), dtype=np.int16),
            suspended_quarters=np.zeros((batch, regions), dtype=np.int16),
            firm_share=np.zeros((batch, regions), dtype=np.float32),
            brand=per_region(p.home_brand, 0.0, np.float32),
            localization=per_region(1.0, 0.0, np.float32),
            compliance=per_region(1.0, p.initial_compliance, np.float32),
            diligence_rounds=rounds,
            partner=np.full((batch, regions), -1, dtype=np.int8),
            partner_quality=partner_quality,
            partner_estimate=partners.estimate(partner_quality, rounds, p.diligence_noise, noise_z),
            competitor_active=np.broadcast_to(p.competitor_active > 0.5, comp_z.shape).copy(),
            competitor_share=np.zeros(comp_z.shape, dtype=np.float32),
            competitor_quality=comp_quality.astype(np.float32),
            competitor_brand=np.broadcast_to(p.competitor_brand, comp_z.shape).astype(np.float32),
            competitor_price=np.broadcast_to(p.competitor_price, comp_z.shape).astype(np.float32),
        )
        serving = state.entry_mode > 0
        firm_target, comp_target = self._targets(state, serving, state.entry_mode)
        # Only the home greenfield serves at t=0, so net revenue is gross revenue.
        opening = finance.gross_revenue(
            firm_target, self.potential(state) * state.adoption, serving
        )
        return state.replace(
            firm_share=firm_target, competitor_share=comp_target, revenue=opening.sum(axis=1)
        )

    # ------------------------------------------------------------------ masks
    def move_costs(self, state: State) -> NDArray[np.float64]:
        """$M each move would cost this quarter, (B, R, NUM_MOVES)."""
        p = self.params
        potential = self.potential(state)
        demand = potential * state.adoption
        costs = np.zeros((*potential.shape, NUM_MOVES), dtype=np.float64)
        potential_64 = potential.astype(np.float64)  # converted once, not per move
        for mode in (EntryMode.PILOT, EntryMode.PARTNERSHIP, EntryMode.GREENFIELD):
            costs[..., mode] = entry.entry_cost(int(mode), potential_64, p)
        target = entry.acquisition_target(state.competitor_share, state.competitor_active)
        target_share = np.take_along_axis(state.competitor_share, target[..., None], -1)[..., 0]
        costs[..., Move.ENTER_ACQUISITION] = entry.acquisition_price(
            target_share, demand, potential, p
        )
        costs[..., Move.EXIT] = entry.exit_cost(state.entry_mode, potential, p)
        costs[..., Move.MARKETING] = p.marketing_cost_fixed + p.marketing_cost_market * potential
        costs[..., Move.LOCALIZE] = (
            p.localization_cost_fixed + p.localization_cost_market * potential
        )
        costs[..., Move.COMPLY] = p.compliance_cost_fixed + p.compliance_cost_market * potential
        costs[..., Move.DILIGENCE] = p.diligence_cost
        return costs

    def valid_moves(
        self, state: State, costs: NDArray[np.float64] | None = None
    ) -> NDArray[np.bool_]:
        """Which moves change the state this quarter, (B, R, NUM_MOVES); HOLD is always valid."""
        p = self.params
        costs = self.move_costs(state) if costs is None else costs
        affordable = costs <= (state.cash + p.credit_line)[:, None, None]
        mode = state.entry_mode
        present = mode > 0
        foreign = (np.arange(p.num_regions) != p.home_region)[None, :]
        can_enter = foreign & (state.closed_quarters == 0) & (state.suspended_quarters == 0)
        rank = _RANK[mode]
        valid = np.zeros(costs.shape, dtype=bool)
        valid[..., Move.HOLD] = True
        for move in (Move.ENTER_PILOT, Move.ENTER_PARTNERSHIP, Move.ENTER_GREENFIELD):
            valid[..., move] = can_enter & (MODE_RANK[move] > rank)
        valid[..., Move.ENTER_ACQUISITION] = (
            can_enter
            & (MODE_RANK[Move.ENTER_ACQUISITION] > rank)
            & state.competitor_active.any(axis=-1)
        )
        valid[..., Move.EXIT] = present & foreign
        # a spend is valid only where a full budget moves the float32 stock: near 1 the
        # gap-closing step rounds away, and a zero rate or efficiency does nothing
        full = np.ones_like(state.brand)
        valid[..., Move.MARKETING] = present & (
            brand.nerlove_arrow(state.brand, full, p.brand_efficiency, p.brand_decay)
            != brand.nerlove_arrow(state.brand, 0.0 * full, p.brand_efficiency, p.brand_decay)
        )
        valid[..., Move.LOCALIZE] = present & (
            localization.localize(state.localization, full, p.localization_rate)
            != state.localization
        )
        valid[..., Move.COMPLY] = present & (
            compliance.invest(state.compliance, full, p.compliance_rate) != state.compliance
        )
        valid[..., Move.DILIGENCE] = (
            can_enter & (mode <= EntryMode.PILOT) & (state.diligence_rounds < p.max_diligence)
        )
        valid[..., 1:] &= affordable[..., 1:]
        return valid

    # ------------------------------------------------------------------ helpers
    def potential(self, state: State) -> NDArray[np.float32]:
        """``M_r(t)``, (B, R)."""
        p = self.params
        return diffusion.market_potential(
            p.market_potential, p.market_growth, state.market_size, state.quarter
        )

    def _targets(
        self, state: State, serving: NDArray[np.bool_], serving_mode: NDArray[np.int8]
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        p = self.params
        firm_quality = share.effective_quality(
            state.product_quality,
            state.psychic_distance,
            state.localization,
            p.foreign_quality_penalty,
        )
        weights = (p.quality_weight, p.brand_weight, p.localization_weight)
        firm_utility = share.attraction(
            firm_quality,
            state.brand,
            state.localization,
            p.firm_price,
            p.price_sensitivity,
            *weights,
        )
        comp_utility = share.attraction(
            state.competitor_quality,
            state.competitor_brand,
            1.0,
            state.competitor_price,
            p.price_sensitivity[:, None],
            *weights,
        )
        firm_target, comp_target = share.target_shares(
            firm_utility, serving, comp_utility, state.competitor_active, p.outside_utility
        )
        ceiling = entry.share_ceiling(serving_mode, p.data_localization, p)
        return np.minimum(firm_target, ceiling), comp_target

    # ------------------------------------------------------------------ step
    def step(
        self,
        state: State,
        action: Action,
        costs: NDArray[np.float64] | None = None,
        valid: NDArray[np.bool_] | None = None,
    ) -> StepOutput:
        """Advance every environment of the batch by one quarter.

        ``costs`` and ``valid`` may be passed when the caller already computed
        ``move_costs(state)`` and ``valid_moves(state, costs)`` for its masks.
        """
        p = self.params
        batch, regions = state.entry_mode.shape
        rows = np.arange(batch)[:, None]
        cols = np.arange(regions)[None, :]
        key, quarter = state.episode_key, state.quarter
        potential = self.potential(state)

        # (1) validity and funding
        costs = self.move_costs(state) if costs is None else costs
        valid = self.valid_moves(state, costs) if valid is None else valid
        moves = action.moves.astype(np.intp)
        chosen_valid = valid[rows, cols, moves]
        present = state.entry_mode > 0
        intents = {
            Move.MARKETING: action.marketing,
            Move.LOCALIZE: action.localization,
            Move.COMPLY: action.compliance,
        }
        spend = {m: np.where(present, np.clip(x, 0.0, 1.0), 0.0) for m, x in intents.items()}
        for move in spend:
            spend[move] = np.where(chosen_valid & (moves == move), 1.0, spend[move])
        move_cost = np.where(
            chosen_valid
            & (moves != Move.MARKETING)
            & (moves != Move.LOCALIZE)
            & (moves != Move.COMPLY),
            costs[rows, cols, moves],
            0.0,
        )
        spend_cost = {m: spend[m] * costs[..., m] for m in spend}
        region_cost = move_cost + sum(spend_cost.values())
        funded = np.cumsum(region_cost, axis=1) <= (state.cash + p.credit_line)[:, None]
        accepted = chosen_valid & funded
        invalid_moves = ((moves != Move.HOLD) & ~accepted).sum(axis=1)
        moves = np.where(accepted, moves, Move.HOLD)
        spend = {m: np.where(funded, x, 0.0).astype(np.float32) for m, x in spend.items()}

        # (2) entries, upgrades, exits, diligence
        mode = state.entry_mode.copy()
        interim = state.interim_mode.copy()
        build = np.maximum(state.build_quarters - 1, 0).astype(np.int16)
        opened = (state.build_quarters > 0) & (build == 0)
        interim[opened] = 0
        partner = np.where(opened & (mode == EntryMode.GREENFIELD), -1, state.partner).astype(
            np.int8
        )
        firm_share = state.firm_share.copy()
        brand_stock = state.brand
        local = state.localization
        comp_share = state.competitor_share.copy()
        comp_active = state.competitor_active.copy()
        entry_spend = np.zeros((batch, regions), dtype=np.float64)

        entering = (moves >= Move.ENTER_PILOT) & (moves <= Move.ENTER_GREENFIELD)
        pilot_or_partner = entering & (moves != Move.ENTER_ACQUISITION)
        entry_spend += np.where(pilot_or_partner, costs[rows, cols, moves], 0.0)
        to_greenfield = moves == Move.ENTER_GREENFIELD
        interim = np.where(to_greenfield, mode, interim)
        build = np.where(to_greenfield, p.greenfield_build_quarters, build).astype(np.int16)
        interim = np.where(to_greenfield & (build == 0), 0, interim)

        to_partner = moves == Move.ENTER_PARTNERSHIP
        chosen = partners.choose_partner(state.partner_estimate)
        partner = np.where(to_partner, chosen, partner).astype(np.int8)
        chosen_quality = np.take_along_axis(
            state.partner_quality, chosen[..., None].astype(np.intp), -1
        )[..., 0]
        local = np.where(
            to_partner,
            localization.partner_head_start(local, chosen_quality, p.partner_localization_boost),
            local,
        )

        bidding = moves == Move.ENTER_ACQUISITION
        approve_u = rng.uniform_where(
            bidding.any(axis=1), key, quarter, Stream.ACQUISITION_APPROVAL, (regions,)
        )
        approved = bidding & (
            approve_u < entry.approval_probability(state.stringency, p.fdi_screening)
        )
        vetoed = bidding & ~approved
        price = costs[..., Move.ENTER_ACQUISITION]
        entry_spend += np.where(
            approved, price, np.where(vetoed, p.acquisition_filing_fee * price, 0.0)
        )
        target = entry.acquisition_target(state.competitor_share, state.competitor_active)
        bought = approved[..., None] & (np.arange(p.num_competitors) == target[..., None])
        firm_share = firm_share + np.where(bought, comp_share, 0.0).sum(axis=-1)
        target_brand = np.where(bought, state.competitor_brand, 0.0).sum(axis=-1)
        brand_stock = np.where(
            approved,
            np.maximum(brand_stock, p.acquisition_brand_transfer * target_brand),
            brand_stock,
        )
        local = np.where(approved, 1.0, local)
        comp_share = np.where(bought, 0.0, comp_share)
        comp_active = comp_active & ~bought
        succeeded = (entering & ~bidding) | approved
        partner = np.where(
            approved | to_greenfield & (interim != EntryMode.PARTNERSHIP), -1, partner
        )
        mode = np.where(succeeded, moves, mode).astype(np.int8)

        exiting = moves == Move.EXIT
        exit_spend = np.where(exiting, costs[..., Move.EXIT], 0.0)
        mode = np.where(exiting, EntryMode.NONE, mode).astype(np.int8)
        interim = np.where(exiting, 0, interim).astype(np.int8)
        build = np.where(exiting, 0, build).astype(np.int16)
        partner = np.where(exiting, -1, partner).astype(np.int8)
        firm_share = np.where(exiting, 0.0, firm_share)

        diligent = moves == Move.DILIGENCE
        rounds = (state.diligence_rounds + diligent).astype(np.int8)
        # Draws are per env, so only the envs doing diligence need theirs.
        searching = np.flatnonzero(diligent.any(axis=1))
        estimate = state.partner_estimate.copy()
        if len(searching):
            estimate_z = rng.normal(
                key[searching],
                quarter[searching],
                Stream.DILIGENCE_NOISE,
                (regions, p.num_partners),
            )
            estimate[searching] = np.where(
                diligent[searching, :, None],
                partners.estimate(
                    state.partner_quality[searching],
                    rounds[searching],
                    p.diligence_noise,
                    estimate_z,
                ),
                state.partner_estimate[searching],
            )
        entry_spend += np.where(diligent, costs[..., Move.DILIGENCE], 0.0)

        # (3) spends and R&D
        brand_stock = brand.nerlove_arrow(
            brand_stock, spend[Move.MARKETING], p.brand_efficiency, p.brand_decay
        )
        local = localization.localize(local, spend[Move.LOCALIZE], p.localization_rate)
        comply = compliance.invest(state.compliance, spend[Move.COMPLY], p.compliance_rate)
        rnd_intensity = np.where(
            np.isnan(action.rnd), state.rnd_intensity, np.clip(action.rnd, 0.0, 1.0)
        ).astype(np.float32)
        rnd_spend = rnd_intensity.astype(np.float64) * p.rnd_max_budget
        quality = rnd.rnd_quality(
            state.product_quality, rnd_spend, p.rnd_efficiency, p.rnd_scale, p.obsolescence
        )

        # (4) shocks
        stringency, laws = shocks.regulatory_step(
            state.stringency,
            p.stringency_drift,
            p.regulatory_shock_rate,
            p.regulatory_shock_size,
            rng.uniform(key, quarter, Stream.REGULATORY_SHOCK, (regions,)),
        )
        comply = compliance.erode(comply, state.stringency, stringency, p.compliance_erosion)
        closed, closing = shocks.geopolitical_step(
            state.closed_quarters,
            p.geopolitical_risk,
            p.closure_quarters,
            rng.uniform(key, quarter, Stream.GEOPOLITICAL_SHOCK, (regions,)),
        )
        suspended = np.maximum(state.suspended_quarters - 1, 0).astype(np.int16)

        # (5) competitors react to the entrant's position at the start of the quarter
        comp_quality, comp_brand, comp_price = competitors.react(
            competitors.Rivals(
                quality=state.competitor_quality,
                brand=state.competitor_brand,
                price=state.competitor_price,
                share=state.competitor_share,
                # Incumbents react to the firm as an entrant: not to its home business.
                firm_share=np.where(self._foreign, state.firm_share, 0.0).astype(np.float32),
                firm_brand=state.brand,
            ),
            p.competitor_persona,
            self.personas,
            p,
        )

        # (6) diffusion and shares
        adoption = diffusion.bass_adoption(state.adoption, p.bass_innovation, p.bass_imitation)
        served_mode = entry.serving_mode(mode, interim, build)
        # a suspension imposed at the end of a quarter idles the next suspension_quarters quarters
        # A closure idles the quarter it strikes and the `closed_quarters` counted at its start,
        # so the observation's count is exactly the quarters still lost.
        serving = (
            (served_mode > 0)
            & (state.closed_quarters == 0)
            & ~closing
            & (state.suspended_quarters == 0)
        )
        interim_state = state.replace(
            product_quality=quality,
            brand=brand_stock,
            localization=local,
            competitor_quality=comp_quality,
            competitor_brand=comp_brand,
            competitor_price=comp_price,
            competitor_active=comp_active,
        )
        firm_target, comp_target = self._targets(interim_state, serving, served_mode)
        firm_share = share.adjust_shares(firm_share, firm_target, p.share_adjustment)
        comp_share = share.adjust_shares(comp_share, comp_target, p.share_adjustment)

        # (7) settlement
        demand = potential * adoption
        gross = finance.gross_revenue(firm_share, demand, serving)
        partner_cut = np.where(served_mode == EntryMode.PARTNERSHIP, p.partner_revenue_share, 0.0)
        net = gross * (1.0 - partner_cut)
        enforce_p = compliance.enforcement_probability(
            stringency, comply, p.enforcement_base_hazard, p.enforcement_gap_hazard
        )
        events = serving & (rng.uniform(key, quarter, Stream.ENFORCEMENT, (regions,)) < enforce_p)
        fines = np.where(events, compliance.fine(4.0 * gross, p.fine_rate), 0.0)
        severe = events & (
            rng.uniform(key, quarter, Stream.ENFORCEMENT_SEVERITY, (regions,))
            < p.severe_probability
        )
        suspended = np.where(severe, p.suspension_quarters, suspended).astype(np.int16)

        with_partner = serving & (served_mode == EntryMode.PARTNERSHIP)
        held = np.take_along_axis(
            state.partner_quality, np.maximum(partner, 0)[..., None].astype(np.intp), -1
        )[..., 0]
        failed = with_partner & (
            rng.uniform_where(
                with_partner.any(axis=1), key, quarter, Stream.PARTNER_FAILURE, (regions,)
            )
            < partners.failure_probability(held, p.partner_failure_rate)
        )
        mode = np.where(failed & (mode == EntryMode.PARTNERSHIP), EntryMode.NONE, mode).astype(
            np.int8
        )
        interim = np.where(failed & (interim == EntryMode.PARTNERSHIP), 0, interim).astype(np.int8)
        partner = np.where(failed, -1, partner).astype(np.int8)
        firm_share = np.where(failed, 0.0, firm_share).astype(np.float32)

        operating = entry.operating_cost(mode, potential, p)
        spend_total = sum(spend_cost[m] * (spend[m] > 0) for m in spend)
        costs_by_kind = {
            "cost_of_revenue": p.variable_cost_rate * gross.sum(axis=1),
            "operating_cost": operating.sum(axis=1),
            "entry_cost": entry_spend.sum(axis=1),
            "exit_cost": exit_spend.sum(axis=1),
            "spend_cost": np.asarray(spend_total).sum(axis=1),
            "rnd_cost": rnd_spend,
            "fines": fines.sum(axis=1),
            "overhead": np.full(batch, p.overhead),
        }
        revenue = net.sum(axis=1)
        profit = revenue - sum(costs_by_kind.values())
        cash = state.cash + profit
        terminated = finance.is_bankrupt(cash, p.credit_line)
        next_quarter = (quarter + 1).astype(np.int32)
        truncated = (next_quarter >= p.horizon) & ~terminated

        new_state = State(
            episode_key=key,
            quarter=next_quarter,
            cash=cash,
            revenue=revenue,
            product_quality=quality,
            rnd_intensity=rnd_intensity,
            market_size=state.market_size,
            psychic_distance=state.psychic_distance,
            adoption=adoption,
            stringency=stringency,
            closed_quarters=closed,
            entry_mode=mode,
            interim_mode=interim.astype(np.int8),
            build_quarters=build,
            suspended_quarters=suspended,
            firm_share=firm_share.astype(np.float32),
            brand=brand_stock.astype(np.float32),
            localization=local.astype(np.float32),
            compliance=comply,
            diligence_rounds=rounds,
            partner=partner,
            partner_quality=state.partner_quality,
            partner_estimate=estimate.astype(np.float32),
            competitor_active=comp_active,
            competitor_share=comp_share,
            competitor_quality=comp_quality,
            competitor_brand=comp_brand,
            competitor_price=comp_price,
        )
        entries_by_mode = np.stack(
            [((moves == m) & succeeded).sum(axis=1) for m in range(NUM_MODES)], axis=1
        )
        entries_by_mode[:, 0] = 0
        kpis: Kpis = {
            "revenue": revenue,
            "previous_revenue": state.revenue,
            "gross_revenue": gross.sum(axis=1),
            "profit": profit,
            "cash": cash,
            **costs_by_kind,
            "total_potential": potential.astype(np.float64).sum(axis=1),
            "market_share": firm_share.astype(np.float32),
            "entry_mode": mode,
            "regions_present": (mode > 0).sum(axis=1),
            "entries": entries_by_mode.sum(axis=1),
            "entries_by_mode": entries_by_mode,
            "exits": exiting.sum(axis=1),
            "acquisitions_vetoed": vetoed.sum(axis=1),
            "partner_failures": failed.sum(axis=1),
            "enforcement_events": events.sum(axis=1),
            "suspensions": severe.sum(axis=1),
            "new_laws": laws.sum(axis=1),
            "closures": closing.sum(axis=1),
            "invalid_moves": invalid_moves,
            "bankrupt": terminated,
        }
        reward, components = self.reward_function(kpis, terminated, truncated, p)
        return StepOutput(new_state, reward, terminated, truncated, kpis, components)
