"""``duel_market``: two firms racing for two contested markets; deterministic, four quarters.

A small game with real tension (issue 25): Lepton AI is at home in ``east``, its
rival in ``west``, and both are equally close to two foreign markets, ``north``
(the larger) and ``south``. Each has one strong local partner (quality 0.9) and
one weak one (0.3), and partners are exclusive: whoever partners there first
takes the strong one (preemption); when both partner in one market in the same
quarter, a coin picks who chooses first. Each also has one local incumbent, the
one acquisition target there. A firm alone partners in ``north``, then in
``south`` (its solo plan); against a rival that does the same, each gets the weak
partner half the time, twice. Firms that serve the same market split it in the
attraction model, so each firm's marketing there takes share from the other.

The economics are ``toy``'s; every random rate is zero, so the coins are the only
chance and best responses are exact (:mod:`lepton_env.games`). The distances,
potentials and incumbents are stated assumptions of this didactic world.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_env.params import Params
from lepton_env.scenarios.toy import ToyScenario


@dataclass(frozen=True)
class DuelMarketScenario:
    """Two firms, two homes and two contested markets, no randomness."""

    horizon: int = 4

    def __call__(self, **overrides: Any) -> Params:
        zeros = np.zeros(4)
        fields: dict[str, Any] = {
            "region_names": ("east", "west", "north", "south"),
            "market_potential": np.array([100.0, 100.0, 100.0, 80.0]),
            "market_growth": np.array([0.1, 0.1, 0.2, 0.2]),
            "bass_innovation": np.full(4, 0.01),
            "bass_imitation": np.full(4, 0.1),
            "initial_adoption": np.full(4, 0.3),
            "price_sensitivity": np.array([1.0, 1.0, 1.5, 1.5]),
            "psychic_distance": np.array([0.0, 0.7, 0.2, 0.2]),
            "initial_stringency": np.array([0.5, 0.5, 0.3, 0.3]),
            "stringency_drift": zeros,
            "regulatory_shock_rate": zeros,
            "regulatory_shock_size": zeros,
            "data_localization": np.array([1.0, 1.0, 0.0, 0.0]),
            "geopolitical_risk": zeros,
            "fdi_screening": zeros,
            # one incumbent in each contested market: the one target there
            "competitor_active": np.array([[1, 1], [1, 1], [1, 0], [1, 0]], dtype=bool),
            "competitor_quality": np.array([[0.75, 0.7], [0.75, 0.7], [0.7, 0.6], [0.7, 0.6]]),
            "competitor_brand": np.array([[5.0, 3.0], [5.0, 3.0], [2.0, 1.0], [2.0, 1.0]]),
            "competitor_price": np.ones((4, 2)),
            "competitor_persona": np.zeros((4, 2), dtype=np.int64),
            # one strong and one weak partner in each contested market
            "partner_quality_mean": np.array([[0.5, 0.5], [0.5, 0.5], [0.9, 0.3], [0.9, 0.3]]),
            "rival_names": ("Rival AI",),
            "rival_home": np.array([1]),
            "rival_psychic_distance": np.array([[0.7, 0.0, 0.2, 0.2]]),
            "rival_geopolitical_risk": np.zeros((1, 4)),
            "rival_fdi_screening": np.zeros((1, 4)),
        }
        return ToyScenario(horizon=self.horizon)(**{**fields, **overrides})
