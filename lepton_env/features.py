"""The observation's feature table: names, bounds and meanings.

``REGION_FEATURES`` and ``FIRM_FEATURES`` are the single source of the table:
the sizes, the Box bounds, the compiled encoder's clipping
(:func:`lepton_env.kernel.encoding.encode_env`) and the spec table in the env
docstring all come from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

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
    Feature("fit_belief", -3, 3, "belief mean of the product-market fit (utility), clipped"),
    Feature("fit_uncertainty", 0, 3, "belief sd of the product-market fit (utility), clipped"),
    Feature(
        "expected_fine",
        0,
        10,
        "expected enforcement loss to the horizon if S_r, C_r and the revenue held: P(event)"
        " x (fine_rate x 4 gross + severe_probability x suspension_quarters x net) x"
        " quarters left / reward scale, P(event) = 1 - exp(-(h_0 + h_1 max(0, S_r - C_r)));"
        " 0 where not served; clipped",
    ),
)
FIRM_FEATURES: tuple[Feature, ...] = (
    Feature("cash", -10, 10, "asinh(cash / reward scale) / 2"),
    Feature("headroom", 0, 10, "(cash + credit line) / (initial cash + credit line), clipped"),
    Feature("quality", 0, 1, "product quality relative to the frontier"),
    Feature("rnd", 0, 1, "R&D intensity"),
    Feature("time", 0, 1, "quarter / horizon"),
    Feature("revenue", 0, 10, "asinh(total net revenue / reward scale) / 2"),
    Feature("presence", 0, 1, "share of regions the firm is present in"),
    Feature("unfunded", 0, 1, "moves refused last quarter for want of cash + credit / regions"),
)

#: With rival firms (issue 14): each rival's public state, per region, after the firm's own
#: table (rivals in turn after the firm: f + 1, f + 2, ... mod F), then the firm's identity.
#: Never a rival's cash, beliefs or partner estimates.
RIVAL_FEATURES: tuple[Feature, ...] = (
    Feature("rival_present", 0, 1, "1 if the rival is present in the region"),
    Feature("rival_mode", 0, 1, "the rival's entry mode rank / 4 (commitment)"),
    Feature("rival_share", 0, 1, "the rival's market share in the region"),
)


def observation_width(regions: int, firms: int = 1) -> int:
    """D, the flat observation's width: the firm's own table, and with rivals
    ``len(RIVAL_FEATURES)`` columns per rival and region and a one-hot of the F firms."""
    own = regions * len(REGION_FEATURES) + len(FIRM_FEATURES)
    if firms == 1:
        return own
    return own + (firms - 1) * regions * len(RIVAL_FEATURES) + firms


def bounds(features: tuple[Feature, ...]) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Low and high bounds, (F,) each."""
    return (
        np.array([f.low for f in features], dtype=np.float32),
        np.array([f.high for f in features], dtype=np.float32),
    )


def feature_table() -> str:
    """The markdown table of every feature (used in the env docstring and docs)."""
    lines = ["| part | index | name | range | meaning |", "| --- | --- | --- | --- | --- |"]
    parts = (("regions", REGION_FEATURES), ("firm", FIRM_FEATURES), ("rivals", RIVAL_FEATURES))
    for part, features in parts:
        for index, f in enumerate(features):
            lines.append(f"| {part} | {index} | {f.name} | [{f.low}, {f.high}] | {f.description} |")
    return "\n".join(lines)
