"""``global``: home China plus ten regions, calibrated from World Bank data.

Market potential is 2023 GDP (World Bank NY.GDP.MKTP.CD, copied into
``data/world_bank_regions.csv``) times an AI-spend intensity of 0.2% of GDP
(IDC's 2024 Worldwide AI Spending Guide puts AI spending near $235B against a
world GDP near $105T) times an addressable share of 10% for an AI-infrastructure
firm (assumption), per quarter. Growth is the region's 2018-2023 nominal GDP
growth plus 15% a year of AI-spend growth above GDP (assumption). Initial
adoption rises with GDP per capita (World Bank SP.POP.TOTL for population).
Regulatory, geopolitical and distance traits are stated assumptions, each
named in the table below and in docs/model.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_env.params import Params
from lepton_env.scenarios.base import build, default_economics
from lepton_env.scenarios.world_bank import load_region_figures

AI_SPEND_SHARE_OF_GDP = 0.002
ADDRESSABLE_SHARE = 0.10
AI_GROWTH_PREMIUM = 0.15

# Assumptions per region (relative to a Beijing-based firm):
#   distance: psychic distance, informed by Hofstede culture scores and language;
#   stringency: AI / data-protection regime (EU AI Act and GDPR highest);
#   shock_rate: new AI laws per quarter; data_local: data-localization rule;
#   geo_risk: closures per quarter for a Chinese AI firm (export controls, app bans);
#   screening: FDI screening of Chinese acquirers (CFIUS, EU 2019/452, India Press Note 3).
#            distance stringency shock_rate data_local geo_risk screening price_sens
TRAITS = {
    "china": (0.00, 0.60, 0.05, 1.0, 0.000, 0.0, 1.5),
    "united_states": (0.80, 0.45, 0.06, 0.0, 0.030, 0.9, 1.0),
    "european_union": (0.75, 0.80, 0.10, 0.0, 0.010, 0.6, 1.0),
    "united_kingdom": (0.75, 0.60, 0.06, 0.0, 0.015, 0.6, 1.0),
    "japan": (0.40, 0.45, 0.04, 0.0, 0.010, 0.5, 1.0),
    "south_korea": (0.35, 0.50, 0.05, 0.0, 0.005, 0.4, 1.2),
    "india": (0.60, 0.40, 0.06, 1.0, 0.020, 0.7, 2.0),
    "southeast_asia": (0.30, 0.35, 0.05, 1.0, 0.003, 0.2, 2.0),
    "gulf": (0.60, 0.30, 0.04, 1.0, 0.002, 0.2, 1.2),
    "brazil": (0.90, 0.50, 0.05, 0.0, 0.002, 0.2, 1.8),
    "africa": (0.70, 0.20, 0.03, 0.0, 0.002, 0.1, 2.5),
}
# Competitors per region: a global leader (innovator), a local champion and a
# low-cost or open-source player; (quality, brand, price, persona) each.
# Personas index DEFAULT_PERSONAS: 0 passive, 1 price warrior, 2 innovator, 3 follower.
LEADER = (0.85, 6.0, 1.2, 2)
CHAMPION_STRONG = (0.80, 6.0, 1.0, 3)
CHAMPION_WEAK = (0.65, 3.0, 1.0, 3)
LOW_COST = (0.60, 1.5, 0.6, 1)


def _competitors(region: str) -> tuple[tuple[float, float, float, int], ...]:
    strong_local = {"china", "united_states", "european_union", "japan", "south_korea"}
    champion = CHAMPION_STRONG if region in strong_local else CHAMPION_WEAK
    if region == "china":
        return (CHAMPION_STRONG, (0.78, 5.0, 0.9, 1), LOW_COST)
    return (LEADER, champion, LOW_COST)


@dataclass(frozen=True)
class GlobalScenario:
    """Eleven real regions; stochastic shocks; 40 quarters."""

    def __call__(self, **overrides: Any) -> Params:
        figures = load_region_figures()
        names = tuple(f.region for f in figures)
        gdp = np.array([f.gdp_usd_2023 for f in figures])
        per_capita = gdp / np.array([f.population_2023 for f in figures])
        traits = np.array([TRAITS[name] for name in names])
        comps = np.array([_competitors(name) for name in names])  # (R, K, 4)
        quarterly_potential = gdp * AI_SPEND_SHARE_OF_GDP * ADDRESSABLE_SHARE / 4.0 / 1e6
        fields = default_economics()
        fields.update(
            region_names=names,
            market_potential=quarterly_potential,
            market_growth=np.array([f.gdp_growth_annual for f in figures]) + AI_GROWTH_PREMIUM,
            bass_innovation=np.full(len(names), 0.008),
            bass_imitation=np.full(len(names), 0.09),
            initial_adoption=np.clip(0.05 + 0.25 * per_capita / 80_000.0, 0.05, 0.3),
            psychic_distance=traits[:, 0],
            initial_stringency=traits[:, 1],
            stringency_drift=np.full(len(names), 0.003),
            regulatory_shock_rate=traits[:, 2],
            regulatory_shock_size=np.full(len(names), 0.1),
            data_localization=traits[:, 3],
            geopolitical_risk=traits[:, 4],
            fdi_screening=traits[:, 5],
            price_sensitivity=traits[:, 6],
            competitor_active=np.ones((len(names), 3)),
            competitor_quality=comps[..., 0],
            competitor_brand=comps[..., 1],
            competitor_price=comps[..., 2],
            competitor_persona=comps[..., 3],
            competitor_noise=0.03,
            partner_quality_mean=np.tile([0.4, 0.6, 0.75], (len(names), 1)),
        )
        return build(fields, overrides)
