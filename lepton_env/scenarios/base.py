"""What every scenario shares: the generator protocol and the default economics.

The default economics are stated assumptions (no public data pins them down for a
single firm); the model card (docs/model.md) lists each with its reasoning.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from lepton_env.params import Params


class ScenarioGenerator(Protocol):
    """Makes the Params of a scenario; keyword overrides replace any field."""

    def __call__(self, **overrides: Any) -> Params: ...


def default_economics() -> dict[str, Any]:
    """Firm, entry-mode, spend, enforcement, R&D and reward parameters ($M, quarters)."""
    return {
        "horizon": 40,
        "home_region": 0,
        "seed_offset": 0,
        "closure_quarters": 8,
        "trait_noise": 0.0,
        "competitor_noise": 0.0,
        "fit_prior_mean": 0.0,
        "fit_prior_sd": 0.2,
        "fit_prior_sd_distance": 0.8,
        "fit_two_point": 0,
        # by EntryMode: none, pilot, partnership, acquisition, greenfield
        "fit_signal_precision": np.array([0.0, 1.0, 4.0, 16.0, 16.0]),
        "experience_distance_rate": 0.02,
        "experience_precision_rate": 0.1,
        "price_war_threshold": 0.05,
        "price_war_cut": 0.05,
        "price_floor": 0.5,
        "innovation_rate": 0.05,
        "follow_rate": 0.2,
        "partner_quality_spread": 0.2,
        "diligence_noise": 0.3,
        "max_diligence": 3,
        "diligence_cost": 1.0,
        "partner_revenue_share": 0.3,
        "partner_localization_boost": 0.8,
        "partner_failure_rate": 0.08,
        "initial_cash": 300.0,
        "credit_line": 100.0,
        "initial_quality": 0.8,
        "firm_price": 0.8,
        "home_brand": 5.0,
        "initial_compliance": 0.3,
        "overhead": 5.0,
        "variable_cost_rate": 0.35,
        "quality_weight": 3.0,
        "brand_weight": 0.5,
        "localization_weight": 1.0,
        "outside_utility": 3.0,
        "foreign_quality_penalty": 0.5,
        "share_adjustment": 0.3,
        # by EntryMode: none, pilot, partnership, acquisition, greenfield. The pilot is an
        # export trial with a few design-partner customers served from home: its share is
        # capped at 1% (below what a foreign entrant's attraction reaches, so scaling up is
        # what buys share) and it has almost no fixed cost (no local entity), so that it is
        # bought for its signals, not run as a cheap business (docs/model.md, "Pilots").
        "share_ceiling": np.array([0.0, 0.01, 0.3, 1.0, 1.0]),
        "data_localization_pilot_ceiling": 0.005,
        "entry_cost_fixed": np.array([0.0, 0.5, 5.0, 20.0, 30.0]),
        "entry_cost_market": np.array([0.0, 0.0, 0.02, 0.05, 0.1]),
        "operating_cost_fixed": np.array([0.0, 0.1, 1.0, 4.0, 5.0]),
        "operating_cost_market": np.array([0.0, 0.002, 0.004, 0.01, 0.01]),
        "exit_cost_fraction": np.array([0.0, 0.5, 0.5, 0.3, 0.6]),
        "greenfield_build_quarters": 3,
        "control_premium": 0.35,
        "acquisition_filing_fee": 0.05,
        "acquisition_brand_transfer": 0.8,
        "marketing_cost_fixed": 1.0,
        "marketing_cost_market": 0.005,
        "brand_efficiency": 1.0,
        "brand_decay": 0.1,
        "localization_cost_fixed": 1.0,
        "localization_cost_market": 0.005,
        "localization_rate": 0.25,
        "compliance_cost_fixed": 0.5,
        "compliance_cost_market": 0.003,
        "compliance_rate": 0.3,
        "compliance_erosion": 1.0,
        "enforcement_base_hazard": 0.005,
        "enforcement_gap_hazard": 0.5,
        "fine_rate": 0.04,
        "severe_probability": 0.1,
        "suspension_quarters": 2,
        "rnd_max_budget": 30.0,
        "rnd_levels": 5,
        "rnd_efficiency": 0.2,
        "rnd_scale": 15.0,
        "obsolescence": 0.03,
        "initial_rnd": 0.5,
        "reward_scale": 1000.0,
        "discount_rate": 0.25,
        "valuation_quarters": 40,
        "bankruptcy_penalty": 10.0,
    }


def build(fields: dict[str, Any], overrides: dict[str, Any]) -> Params:
    """Params from a scenario's fields with user overrides applied (unknown names raise)."""
    from lepton_env.params import check_names

    check_names(overrides)
    return Params(**{**fields, **overrides})
