"""Observation encoding: a documented feature table, scaled for learning.

Every feature is bounded (the bounds are the Box bounds) and of order one, so
agents learn without VecNormalize. ``REGION_FEATURES`` and ``FIRM_FEATURES``
are the single source of the table: the sizes, the Box bounds and the spec
table in the env docstring all come from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env.core import Model
from lepton_env.mechanisms import entry
from lepton_env.state import State
from lepton_env.types import EntryMode


@dataclass(frozen=True)
class Feature:
    """One observation feature: name, bounds and meaning."""

    name: str
    low: float
    high: float
    description: str


REGION_FEATURES: tuple[Feature, ...] = (
    *(
        Feature(f"mode_{m.name.lower()}", 0, 1, f"1 if the entry mode is {m.name.lower()}")
        for m in EntryMode
    ),
    Feature("serving", 0, 1, "1 if the firm serves customers this quarter"),
    Feature("build_left", 0, 1, "greenfield build quarters left / build time"),
    Feature("firm_share", 0, 1, "firm's market share"),
    Feature("rival_share", 0, 1, "sum of competitors' shares"),
    Feature("top_rival_share", 0, 1, "largest competitor's share"),
    Feature("adoption", 0, 1, "Bass adopted fraction a_r"),
    Feature("log_potential", -3, 3, "ln(M_r / M_home(0)) / 2, clipped"),
    Feature("growth", -1, 1, "annual growth of potential"),
    Feature("distance", 0, 1, "psychic distance from home"),
    Feature("stringency", 0, 1, "regulatory stringency S_r"),
    Feature("compliance", 0, 1, "compliance level C_r"),
    Feature("localization", 0, 1, "localization L_r"),
    Feature("brand", 0, 5, "brand goodwill / 5, clipped"),
    Feature("rival_brand", 0, 5, "largest competitor brand / 5, clipped"),
    Feature("suspended", 0, 1, "suspension quarters left / suspension length"),
    Feature("closed", 0, 1, "closure quarters left / closure length"),
    Feature("data_localization", 0, 1, "1 if data must stay in the region"),
    Feature("geopolitical_risk", 0, 1, "closure hazard x 10, clipped"),
    Feature("fdi_screening", 0, 1, "acquisition veto weight"),
    Feature("diligence", 0, 1, "diligence rounds / max rounds"),
    Feature("best_partner", 0, 1, "best estimated partner quality"),
    Feature("revenue", 0, 10, "net revenue from the region / reward scale, clipped"),
)
FIRM_FEATURES: tuple[Feature, ...] = (
    Feature("cash", -10, 10, "asinh(cash / reward scale) / 2"),
    Feature("headroom", 0, 10, "(cash + credit line) / (initial cash + credit line), clipped"),
    Feature("quality", 0, 1, "product quality relative to the frontier"),
    Feature("rnd", 0, 1, "R&D intensity"),
    Feature("time", 0, 1, "quarter / horizon"),
    Feature("revenue", 0, 10, "asinh(total net revenue / reward scale) / 2"),
    Feature("presence", 0, 1, "share of regions the firm is present in"),
)


def bounds(features: tuple[Feature, ...]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Low and high bounds, (F,) each."""
    return (
        np.array([f.low for f in features], dtype=np.float32),
        np.array([f.high for f in features], dtype=np.float32),
    )


def feature_table() -> str:
    """The markdown table of every feature (used in the env docstring and docs)."""
    lines = ["| part | index | name | range | meaning |", "| --- | --- | --- | --- | --- |"]
    for part, features in (("regions", REGION_FEATURES), ("firm", FIRM_FEATURES)):
        for index, f in enumerate(features):
            lines.append(f"| {part} | {index} | {f.name} | [{f.low}, {f.high}] | {f.description} |")
    return "\n".join(lines)


def region_net_revenue(model: Model, state: State) -> NDArray[np.float64]:
    """Net revenue each region would book at the current shares, (B, R) $M."""
    served = entry.serving_mode(state.entry_mode, state.interim_mode, state.build_quarters)
    serving = (served > 0) & (state.closed_quarters == 0) & (state.suspended_quarters == 0)
    return _net_revenue(model, state, model.potential(state), served, serving)


def _net_revenue(
    model: Model,
    state: State,
    potential: NDArray[np.float32],
    served: NDArray[np.int8],
    serving: NDArray[np.bool_],
) -> NDArray[np.float64]:
    demand = potential * state.adoption
    cut = np.where(served == EntryMode.PARTNERSHIP, model.params.partner_revenue_share, 0.0)
    return np.where(serving, state.firm_share * demand * (1.0 - cut), 0.0)


_REGION_BOUNDS = bounds(REGION_FEATURES)
_FIRM_BOUNDS = bounds(FIRM_FEATURES)
_MODES = np.arange(len(EntryMode), dtype=np.int8)


def encode(model: Model, state: State) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """``(regions (B, R, F_region), firm (B, F_firm))``, clipped to the bounds.

    Both are views into one :func:`encode_flat` buffer.
    """
    flat = encode_flat(model, state)
    batch, regions = state.entry_mode.shape
    width = regions * len(REGION_FEATURES)
    return flat[:, :width].reshape(batch, regions, -1), flat[:, width:]


def encode_flat(model: Model, state: State) -> NDArray[np.float32]:
    """The flat observation (B, R * F_region + F_firm), regions row-major then the firm.

    Each feature is written straight into one float32 buffer and clipped there:
    rounding to float32 is monotone and the bounds are float32 numbers, so this
    equals clipping in float64 and rounding after.
    """
    p = model.params
    batch, regions = state.entry_mode.shape
    served = entry.serving_mode(state.entry_mode, state.interim_mode, state.build_quarters)
    serving = (served > 0) & (state.closed_quarters == 0) & (state.suspended_quarters == 0)
    potential = model.potential(state)
    home_potential = p.market_potential[p.home_region]
    revenue = _net_revenue(model, state, potential, served, serving)
    scale = p.reward_scale

    def ratio(value: NDArray[Any], denominator: float) -> NDArray[np.float32]:
        return np.asarray(value / denominator if denominator > 0 else 0.0 * value, np.float32)

    columns = [
        serving,
        ratio(state.build_quarters, p.greenfield_build_quarters),
        state.firm_share,
        state.competitor_share.sum(axis=-1),
        state.competitor_share.max(axis=-1),
        state.adoption,
        np.log(np.maximum(potential, 1e-9) / max(home_potential, 1e-9)) / 2.0,
        np.broadcast_to(p.market_growth, (batch, regions)),
        state.psychic_distance,
        state.stringency,
        state.compliance,
        state.localization,
        state.brand / 5.0,
        np.where(state.competitor_active, state.competitor_brand, 0.0).max(axis=-1) / 5.0,
        ratio(state.suspended_quarters, p.suspension_quarters),
        ratio(state.closed_quarters, p.closure_quarters),
        np.broadcast_to(p.data_localization, (batch, regions)),
        np.broadcast_to(p.geopolitical_risk * 10.0, (batch, regions)),
        np.broadcast_to(p.fdi_screening, (batch, regions)),
        ratio(state.diligence_rounds, p.max_diligence),
        state.partner_estimate.max(axis=-1),
        revenue / scale,
    ]
    firm_columns = [
        np.arcsinh(state.cash / scale) / 2.0,
        (state.cash + p.credit_line) / max(p.initial_cash + p.credit_line, 1e-9),
        state.product_quality,
        state.rnd_intensity,
        state.quarter / p.horizon,
        np.arcsinh(revenue.sum(axis=1) / scale) / 2.0,
        (state.entry_mode > 0).mean(axis=1),
    ]
    width = regions * len(REGION_FEATURES)
    flat = np.empty((batch, width + len(FIRM_FEATURES)), dtype=np.float32)
    region_obs = flat[:, :width].reshape(batch, regions, len(REGION_FEATURES))
    firm_obs = flat[:, width:]
    one_hot = region_obs[..., : len(_MODES)]
    np.equal(state.entry_mode[..., None], _MODES, out=one_hot, casting="unsafe")
    for index, column in enumerate(columns, start=len(_MODES)):
        region_obs[..., index] = column
    for index, column in enumerate(firm_columns):
        firm_obs[:, index] = column
    # maximum then minimum over the contiguous buffer: np.clip's result (NaN too), faster
    low = np.concatenate([np.tile(_REGION_BOUNDS[0], regions), _FIRM_BOUNDS[0]])
    high = np.concatenate([np.tile(_REGION_BOUNDS[1], regions), _FIRM_BOUNDS[1]])
    np.maximum(flat, low, out=flat)
    np.minimum(flat, high, out=flat)
    return flat


def flatten(region_obs: NDArray[np.float32], firm_obs: NDArray[np.float32]) -> NDArray[np.float32]:
    """The flat observation: regions row-major, then the firm, (B, R * F_region + F_firm)."""
    return np.concatenate([region_obs.reshape(region_obs.shape[0], -1), firm_obs], axis=1)
