"""``toy``: home plus two foreign regions, deterministic, five quarters.

Small enough that the exact optimum is found by enumerating every valid
action sequence of the Single face (see ``lepton_env.agents.players.oracle``). Every random
rate is zero: no shocks, no enforcement, no partner failure, no FDI veto,
no per-episode noise, partner quality known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_env.params import Params
from lepton_env.scenarios.base import build, default_economics


@dataclass(frozen=True)
class ToyScenario:
    """The deterministic three-region world."""

    horizon: int = 5

    def __call__(self, **overrides: Any) -> Params:
        fields = default_economics()
        zeros = np.zeros(3)
        fields.update(
            region_names=("home", "near", "far"),
            horizon=self.horizon,
            market_potential=np.array([100.0, 80.0, 200.0]),
            market_growth=np.array([0.1, 0.2, 0.2]),
            bass_innovation=np.full(3, 0.01),
            bass_imitation=np.full(3, 0.1),
            initial_adoption=np.array([0.3, 0.3, 0.3]),
            price_sensitivity=np.array([1.0, 1.5, 1.0]),
            psychic_distance=np.array([0.0, 0.2, 0.7]),
            initial_stringency=np.array([0.5, 0.3, 0.7]),
            stringency_drift=zeros,
            regulatory_shock_rate=zeros,
            regulatory_shock_size=zeros,
            data_localization=np.array([1.0, 0.0, 0.0]),
            geopolitical_risk=zeros,
            fdi_screening=zeros,
            competitor_active=np.ones((3, 2)),
            competitor_quality=np.array([[0.75, 0.7], [0.7, 0.6], [0.85, 0.8]]),
            competitor_brand=np.array([[5.0, 3.0], [2.0, 1.0], [6.0, 4.0]]),
            competitor_price=np.ones((3, 2)),
            competitor_persona=np.array([[0, 0], [1, 0], [2, 3]]),
            partner_quality_mean=np.array([[0.5, 0.5], [0.6, 0.8], [0.5, 0.7]]),
            partner_quality_spread=0.0,
            diligence_noise=0.0,
            max_diligence=0,
            partner_failure_rate=0.0,
            enforcement_base_hazard=0.0,
            enforcement_gap_hazard=0.0,
            rnd_levels=2,
            rnd_max_budget=10.0,
            initial_rnd=0.0,
            initial_cash=60.0,
            credit_line=20.0,
            overhead=2.0,
            greenfield_build_quarters=1,
            # the pilot terms the toys were solved with (before issue 21 tuned the defaults
            # for ``global``): their exact optima are reference numbers
            share_ceiling=np.array([0.0, 0.05, 0.3, 1.0, 1.0]),
            data_localization_pilot_ceiling=0.01,
            entry_cost_fixed=np.array([0.0, 2.0, 5.0, 20.0, 30.0]),
            operating_cost_fixed=np.array([0.0, 0.5, 1.0, 4.0, 5.0]),
            reward_scale=10.0,
            # a one-year valuation window: with five quarters played, the profit earned and
            # the positions' value weigh alike (a stated assumption of this didactic world)
            valuation_quarters=4,
            fit_prior_sd=0.0,  # fit known exactly (0): the open-loop oracle applies
            fit_prior_sd_distance=0.0,
            experience_distance_rate=0.0,
            experience_precision_rate=0.0,
        )
        return build(fields, overrides)
