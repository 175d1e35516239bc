"""``race``: Lepton AI (home China), a US and a European AI firm racing for the ``global`` regions.

The world is ``global``'s (markets, regulation, incumbents); the two rivals follow the
same economics as Lepton AI (cash, costs, R&D, attraction) and differ only where their
home does. Their traits are stated assumptions, in the spirit of ``global``'s own
(:data:`lepton_env.scenarios.global_regions.TRAITS`):

- psychic distance from each home, informed by Hofstede's culture scores, a shared
  language and legal origin: the UK is close to both, East Asia far from both, the EU
  and the US close to each other (Johanson & Vahlne 1977 for the construct);
- geopolitical risk, closures per quarter: China's market access for US and European AI
  services (app bans, licensing of generative AI services, 2023 Interim Measures) is the
  main risk, and elsewhere a Western firm faces a tenth of what a Chinese one does;
- FDI screening of each acquirer: China screens foreign acquirers of AI firms strictly,
  CFIUS reviews every foreign acquirer of US AI firms, the EU framework (2019/452) and the
  UK NSI Act 2021 screen non-EU / non-UK buyers; a firm's home does not screen it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lepton_env.params import Params
from lepton_env.scenarios.global_regions import GlobalScenario

#: Rival firms: name, home region, then per region of ``global`` (distance, closures per
#: quarter, FDI screening of the firm as an acquirer), in the order of ``RACE_REGIONS``.
RACE_REGIONS = (
    "china", "united_states", "european_union", "united_kingdom", "japan", "south_korea",
    "india", "southeast_asia", "gulf", "brazil", "africa",
)  # fmt: skip
RIVALS: dict[str, tuple[str, tuple[tuple[float, float, float], ...]]] = {
    "US AI firm": (
        "united_states",
        (
            (0.80, 0.030, 0.8),  # china
            (0.00, 0.000, 0.0),  # united_states: home
            (0.30, 0.003, 0.4),  # european_union
            (0.15, 0.001, 0.3),  # united_kingdom
            (0.45, 0.001, 0.3),  # japan
            (0.45, 0.001, 0.3),  # south_korea
            (0.45, 0.002, 0.4),  # india
            (0.50, 0.001, 0.2),  # southeast_asia
            (0.55, 0.001, 0.2),  # gulf
            (0.45, 0.001, 0.2),  # brazil
            (0.60, 0.001, 0.1),  # africa
        ),
    ),
    "European AI firm": (
        "european_union",
        (
            (0.75, 0.020, 0.8),  # china
            (0.30, 0.003, 0.6),  # united_states
            (0.00, 0.000, 0.0),  # european_union: home
            (0.15, 0.001, 0.3),  # united_kingdom
            (0.50, 0.001, 0.3),  # japan
            (0.50, 0.001, 0.3),  # south_korea
            (0.50, 0.002, 0.4),  # india
            (0.55, 0.001, 0.2),  # southeast_asia
            (0.50, 0.001, 0.2),  # gulf
            (0.40, 0.001, 0.2),  # brazil
            (0.45, 0.001, 0.1),  # africa
        ),
    ),
}


@dataclass(frozen=True)
class RaceScenario:
    """``global`` with three firms: Lepton AI, a US and a European rival."""

    def __call__(self, **overrides: Any) -> Params:
        world = GlobalScenario()()
        if world.region_names != RACE_REGIONS:
            raise AssertionError(f"race's traits are for {RACE_REGIONS}, got {world.region_names}")
        names = tuple(RIVALS)
        traits = np.array([RIVALS[name][1] for name in names])  # (X, R, 3)
        rivals = {
            "rival_names": names,
            "rival_home": np.array([RACE_REGIONS.index(RIVALS[n][0]) for n in names]),
            "rival_psychic_distance": traits[..., 0],
            "rival_geopolitical_risk": traits[..., 1],
            "rival_fdi_screening": traits[..., 2],
        }
        return world.replace(**{**rivals, **overrides})
