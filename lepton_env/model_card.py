"""Generated parts of the model card (docs/model.md), so they cannot drift from the code.

Three tables are rendered from the code and written between markers in
docs/model.md: the parameter table (``params``) from the metadata of
:data:`lepton_env.params.FIELDS` with the values of the ``global`` and ``toy``
scenarios, the observation feature table (``features``) from
:func:`lepton_env.observation.feature_table`, and the action faces
(``actions``) from the registered ids and :class:`~lepton_env.types.Move`.
Each parameter's source or stated assumption lives in :data:`SECTIONS`; a
Params field without one is an error, so a new parameter cannot enter the
model without a documented basis.

Usage::

    python -m lepton_env.model_card                           # print the parameter table
    python -m lepton_env.model_card --write docs/model.md     # refresh every marked block
    python -m lepton_env.model_card --check docs/model.md     # exit 1 if a block is stale
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lepton_env.envs.actions import ACTION_FACES
from lepton_env.observation import FIRM_FEATURES, REGION_FEATURES, feature_table
from lepton_env.params import FIELDS, Params
from lepton_env.scenarios import make_params
from lepton_env.scenarios.global_regions import (
    ADDRESSABLE_SHARE,
    AI_GROWTH_PREMIUM,
    AI_SPEND_SHARE_OF_GDP,
)
from lepton_env.types import Move

_A = "Assumption"

#: Every Params field, grouped as in params.py, with its source or stated assumption.
SECTIONS: tuple[tuple[str, dict[str, str]], ...] = (
    (
        "Episode",
        {
            "region_names": "Scenario definition; `global`: the World Bank regions of SOURCES.md.",
            "horizon": f"{_A}: a ten-year strategic-planning horizon; `toy` is "
            "short so that the oracle can enumerate every action sequence.",
            "home_region": "Definition: the headquarters region (China in `global`); it is "
            "served from the start, cannot be exited and never closes.",
            "seed_offset": "Experimental design: `procedural` with `split='test'` adds 2^40 so "
            "train and test episode seeds never overlap.",
        },
    ),
    (
        "Regions: market (Bass 1969)",
        {
            "market_potential": "`global`: 2023 GDP (World Bank NY.GDP.MKTP.CD) × "
            f"{AI_SPEND_SHARE_OF_GDP:.1%} AI spend per GDP (IDC Worldwide AI Spending Guide "
            f"2024: ≈ $235B of AI spending against ≈ $105T world GDP) × {ADDRESSABLE_SHARE:.0%} "
            f"addressable by an AI-infrastructure firm ({_A.lower()}) / 4 quarters. `toy`, "
            f"`procedural`: {_A.lower()}.",
            "market_growth": "`global`: nominal GDP growth 2018–2023 (World Bank "
            f"NY.GDP.MKTP.CD, compound annual) + {AI_GROWTH_PREMIUM:.0%} a year of AI-spend "
            f"growth above GDP ({_A.lower()}).",
            "bass_innovation": f"{_A}: one p for every `global` region; for comparison, "
            "p ≈ 0.03 per year (≈ 0.008 per quarter) is the mean of published Bass-model fits "
            "(Sultan, Farley & Lehmann 1990).",
            "bass_imitation": f"{_A}: one q for every `global` region; for comparison, "
            "q ≈ 0.38 per year (≈ 0.09 per quarter) is the mean of published fits (Sultan, "
            "Farley & Lehmann 1990).",
            "initial_adoption": "`global`: rises linearly with GDP per capita (World Bank "
            f"NY.GDP.MKTP.CD / SP.POP.TOTL, 2023), bounded; the mapping is an {_A.lower()} "
            "(richer economies adopt earlier).",
            "price_sensitivity": f"{_A}: b_p higher in lower-income regions.",
            "psychic_distance": f"{_A}, informed by cultural (Hofstede) and language distance "
            "from China; the concept is Johanson & Vahlne (1977). 0 at home.",
        },
    ),
    (
        "Regions: regulation and geopolitics",
        {
            "initial_stringency": f"{_A}: ranks each region's AI and data-protection regime; "
            "the EU (GDPR, AI Act) is highest.",
            "stringency_drift": f"{_A}: AI rules tighten slowly between new laws.",
            "regulatory_shock_rate": f"{_A}: expected new AI laws per quarter.",
            "regulatory_shock_size": f"{_A}: stringency added by one new law.",
            "data_localization": f"{_A}: 1 where data-residency rules bind AI services.",
            "geopolitical_risk": f"{_A}: hazard that a region closes to a Chinese AI firm "
            "(export controls, app bans); 0 at home (validated).",
            "closure_quarters": f"{_A}: how long a geopolitical closure lasts.",
            "fdi_screening": f"{_A}: weight of FDI screening of Chinese acquirers (CFIUS, EU "
            "Regulation 2019/452, India's Press Note 3 of 2020; UNCTAD World Investment Report "
            "2023).",
            "trait_noise": "Experimental design: per-episode variation of market size and "
            "distance (`procedural` noise ladder); 0 in `toy` and `global`.",
        },
    ),
    (
        "Market fit, learned by being there (Johanson & Vahlne 1977, 2009; DeGroot 1970)",
        {
            "fit_prior_mean": f"{_A}: mu, the fit a firm expects abroad (utility added to "
            "its attraction); the fit is drawn mu - c(sigma) + sigma z with c = ln E[exp(sigma "
            "z)], so E[exp(fit)] = exp(mu) at every distance.",
            "fit_prior_sd": f"{_A}: sigma_0, uncertainty about a market at distance 0.",
            "fit_prior_sd_distance": "Uncertainty grows with psychic distance (Johanson & "
            f"Vahlne 1977); the slope sigma_D is an {_A.lower()}.",
            "fit_two_point": "Design: 1 draws fit and signals as +-1 sd (toy_pilot: exact "
            "Bayes-optimal value), 0 as normals (exact normal-normal posteriors).",
            "fit_signal_precision": "Deeper commitment teaches faster (Johanson & Vahlne "
            f"1977); the precisions by mode are an {_A.lower()}.",
            "experience_distance_rate": "Experiential knowledge lowers the psychic distance "
            f"of similar markets (Johanson & Vahlne 2009); kappa_D is an {_A.lower()}.",
            "experience_precision_rate": "Experiential knowledge narrows beliefs about "
            f"similar markets (Johanson & Vahlne 2009); kappa_v is an {_A.lower()}.",
        },
    ),
    (
        "Competitors",
        {
            "competitor_active": "Scenario design: `global` has three incumbents per region.",
            "competitor_quality": f"{_A}: a global leader, a local champion (strong in large "
            "home markets) and a low-cost or open-model player.",
            "competitor_brand": f"{_A}, same archetypes as quality.",
            "competitor_price": f"{_A}: price index, the low-cost player below the others.",
            "competitor_persona": f"{_A}: leader = innovator, champion = follower, low-cost "
            "player = price warrior (indices into the personas tuple).",
            "competitor_noise": "Experimental design: per-episode jitter of competitor quality.",
            "price_war_threshold": f"{_A}; the reaction is limit pricing (Milgrom & Roberts 1982).",
            "price_war_cut": f"{_A}: price cut per quarter of a price war.",
            "price_floor": f"{_A}: a price warrior does not price below this index.",
            "innovation_rate": f"{_A}: an innovator closes this share of its gap to the "
            "frontier each quarter.",
            "follow_rate": f"{_A}: a follower closes this share of its brand gap to the "
            "entrant each quarter.",
        },
    ),
    (
        "Partners (Williamson 1985)",
        {
            "partner_quality_mean": f"{_A}: three candidates of low, medium and high expected "
            "quality per region.",
            "partner_quality_spread": f"{_A}: spread of a candidate's hidden quality.",
            "diligence_noise": f"{_A}: error of the quality estimate before diligence; each "
            "round averages one more independent signal.",
            "max_diligence": f"{_A}: rounds of due diligence per region.",
            "diligence_cost": f"{_A}: cost of one round (advisers, audits).",
            "partner_revenue_share": f"{_A}: the partner's cut of the revenue it serves.",
            "partner_localization_boost": f"{_A}: localization a partner brings per unit of "
            "its quality.",
            "partner_failure_rate": f"{_A}: hazard of hold-up or the partner's exit "
            "(Williamson 1985) for a partner of quality 0.",
        },
    ),
    (
        "Firm",
        {
            "initial_cash": f"{_A}: the scale of a well-funded AI start-up.",
            "credit_line": f"{_A}: borrowing before bankruptcy; no interest is charged.",
            "initial_quality": f"{_A}: near the technology frontier at the start.",
            "firm_price": f"{_A}: the price index of the firm's one product, on the "
            "incumbents' scale.",
            "home_brand": f"{_A}: goodwill stock at home at the start.",
            "initial_compliance": f"{_A}: compliance abroad before any compliance spend "
            "(1 at home).",
            "overhead": f"{_A}: headquarters cost per quarter.",
            "variable_cost_rate": f"{_A}: compute (inference) cost as a share of gross revenue.",
        },
    ),
    (
        "Attraction model (Cooper & Nakanishi 1988; McFadden 1974)",
        {
            "quality_weight": f"{_A}: b_q on quality relative to the frontier.",
            "brand_weight": f"{_A}: b_b on ln(1 + goodwill).",
            "localization_weight": f"{_A}: b_l on localization in [0, 1].",
            "outside_utility": f"{_A}: U_0 of not buying from any player; sets the share left "
            "to non-adopters.",
            "foreign_quality_penalty": "Psychic distance (Johanson & Vahlne 1977); the size is "
            f"an {_A.lower()}.",
            "share_adjustment": "Switching-cost inertia (Klemperer 1995); the speed is an "
            f"{_A.lower()}.",
            "share_ceiling": "Control rises with commitment (Anderson & Gatignon 1986); the "
            f"ceilings are an {_A.lower()}. The pilot's 1% (issue 21): a trial with a few "
            "design-partner customers, below the share a spend-free foreign entrant's "
            "attraction reaches, so that scaling up is what buys share (section 5, Pilots).",
            "data_localization_pilot_ceiling": f"{_A}: an export pilot that keeps data abroad "
            "reaches half the customers it would elsewhere where data must stay local.",
        },
    ),
    (
        "Entry modes (Johanson & Vahlne 1977; Anderson & Gatignon 1986)",
        {
            "entry_cost_fixed": f"{_A}: higher for more committed modes; a pilot sets up no "
            "local entity ($0.5M: contracts and a cloud region; section 5, Pilots).",
            "entry_cost_market": f"{_A}: the part of entry cost that scales with the market.",
            "operating_cost_fixed": f"{_A}: rises with commitment; a pilot's is a small "
            "account team ($0.1M a quarter), its cost scales with the market it serves.",
            "operating_cost_market": f"{_A}: the part of running cost that scales with the market.",
            "exit_cost_fraction": f"{_A}: share of the entry cost written off on exit.",
            "greenfield_build_quarters": f"{_A}: time to build a subsidiary.",
            "control_premium": "Betton, Eckbo & Thorburn (2008), 'Corporate takeovers', "
            "Handbook of Empirical Corporate Finance 2: average offer premia of about 30-45 % "
            "over the target's pre-bid value; 35 % here, paid over the target's discounted "
            "value (the valuation section).",
            "acquisition_filing_fee": f"{_A}: share of the price lost when FDI screening "
            "vetoes the bid.",
            "acquisition_brand_transfer": f"{_A}: share of the target's goodwill kept.",
        },
    ),
    (
        "Spends (brand: Nerlove & Arrow 1962)",
        {
            "marketing_cost_fixed": f"{_A}: fixed part of a full quarterly marketing budget.",
            "marketing_cost_market": f"{_A}: market-scaled part of the marketing budget.",
            "brand_efficiency": f"{_A}: eta, goodwill per quarter of full marketing.",
            "brand_decay": f"{_A}: delta, share of goodwill lost per quarter without spend.",
            "localization_cost_fixed": f"{_A}: fixed part of a full localization budget.",
            "localization_cost_market": f"{_A}: market-scaled part of the localization budget.",
            "localization_rate": f"{_A}: lambda, share of the localization gap closed per "
            "quarter of full spend.",
            "compliance_cost_fixed": f"{_A}: fixed part of a full compliance budget.",
            "compliance_cost_market": f"{_A}: market-scaled part of the compliance budget.",
            "compliance_rate": f"{_A}: kappa, share of the compliance gap closed per quarter "
            "of full spend.",
            "compliance_erosion": f"{_A}: compliance lost per unit rise of stringency.",
        },
    ),
    (
        "Enforcement (GDPR Art. 83)",
        {
            "enforcement_base_hazard": f"{_A}: enforcement hazard of a compliant firm.",
            "enforcement_gap_hazard": f"{_A}: added hazard per unit of compliance gap.",
            "fine_rate": "GDPR Art. 83(5): fines up to 4% of total worldwide annual turnover "
            "(or EUR 20M); here a share of the region's annual revenue.",
            "severe_probability": f"{_A}: share of enforcement events that suspend service "
            "(as Italy's data-protection authority did with ChatGPT in 2023).",
            "suspension_quarters": f"{_A}: length of a suspension.",
        },
    ),
    (
        "R&D and the technology frontier (Griliches 1979)",
        {
            "rnd_max_budget": f"{_A}: R&D spend per quarter at full intensity.",
            "rnd_levels": "Action design: discrete R&D levels of the MultiDiscrete and "
            "Discrete faces.",
            "rnd_efficiency": f"{_A}: e, largest share of the quality gap closed per quarter.",
            "rnd_scale": f"{_A}: X_0 of the concave knowledge-production function.",
            "obsolescence": f"{_A}: frontier drift; quality decays without R&D.",
            "initial_rnd": f"{_A}: R&D intensity before the first action.",
        },
    ),
    (
        "Reward",
        {
            "reward_scale": "Design: keeps quarterly rewards of order one for learners.",
            "discount_rate": "25 % a year: the low end of the 25-35 % target returns of "
            "late-stage (bridge / pre-IPO) venture capital (Damodaran 2009, 'Valuing young, "
            "start-up and growth companies'), for a growth-stage AI firm expanding abroad; "
            "listed US software firms' cost of capital is about 10 % (Damodaran, 'Cost of "
            "capital by sector', NYU Stern data). One rate: it prices acquisitions, the terminal "
            "value, and every reward (`delta^t` times the quarter's, so the return is the "
            "present value).",
            "valuation_quarters": f"{_A}: H = 40 quarters, a ten-year explicit forecast (Koller, "
            "Goedhart & Wessels, *Valuation*) with no continuing value after it (a "
            "competitive-advantage period), long enough to price the Bass adoption ahead of "
            "young markets; also the terminal value's roll-forward window; `toy` values one "
            "year so that its five quarters of profit weigh as much as its valuation.",
            "bankruptcy_penalty": "Design: reward units lost on bankruptcy.",
        },
    ),
    (
        "Rival firms (`race`, `duel_toy`; none elsewhere)",
        {
            "firm_name": "Definition: the scenario's own firm, Lepton AI.",
            "rival_names": "Scenario definition: `race` adds a US and a European AI firm, "
            "`duel_toy` one rival; every other parameter is the same for every firm "
            f"({_A.lower()}: the firms differ only where their homes do).",
            "rival_home": "Scenario definition: each rival's headquarters region (`race`: the "
            "United States, the European Union); served from the start, never closes.",
            "rival_psychic_distance": f"{_A}, as `psychic_distance` but from each rival's home, "
            "informed by Hofstede's culture scores, a shared language and legal origin "
            "(lepton_env/scenarios/race.py lists every value).",
            "rival_geopolitical_risk": f"{_A}: China's market access for US and European AI "
            "services (app bans, the 2023 licensing of generative AI services) is the main "
            "risk; elsewhere a tenth of what a Chinese firm faces.",
            "rival_fdi_screening": "Each acquirer's screening: CFIUS for every foreign buyer of "
            "US AI firms, EU Regulation 2019/452, the UK NSI Act 2021, China's security review "
            f"of foreign acquirers; weights are an {_A.lower()}; a firm's home does not screen "
            "it.",
        },
    ),
)

_SHAPES = {"": "scalar", "R": "R", "RK": "R × K", "RP": "R × P", "5": "5 (mode)"}
_SHAPES.update(X="X (rivals)", XR="X × R")


class ModelCardError(ValueError):
    """The model card is incomplete or its markers are missing."""


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.4g}"


def compact(value: Any) -> str:
    """A short rendering of a parameter value: a number, a short list or a min–max range."""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple) and all(isinstance(item, str) for item in value):
        shown = ", ".join(value[:3])
        return f"{shown}, … ({len(value)})" if len(value) > 3 else shown
    array = np.asarray(value, dtype=np.float64)
    if array.size == 0:
        return "none"
    if array.ndim == 0:
        return _number(float(array))
    flat = array.ravel()
    if np.all(flat == flat[0]):
        return f"all {_number(flat[0])}"
    if flat.size <= 5:
        return "[" + ", ".join(_number(x) for x in flat) + "]"
    return f"{_number(flat.min())}–{_number(flat.max())}"


def _range(meta: Any) -> str:
    if "low" not in meta:
        return "—"
    low, high = meta["low"], meta["high"]
    if math.isinf(low) and math.isinf(high):
        text = "any"
    elif math.isinf(high):
        text = f"≥ {_number(low)}"
    else:
        text = f"[{_number(low)}, {_number(high)}]"
    return text + (", integer" if meta["integer"] else "")


def _check_sections() -> None:
    listed = [name for _, fields in SECTIONS for name in fields]
    missing = [name for name in FIELDS if name not in listed]
    unknown = [name for name in listed if name not in FIELDS]
    repeated = sorted({name for name in listed if listed.count(name) > 1})
    if missing or unknown or repeated:
        raise ModelCardError(
            "lepton_env/model_card.py SECTIONS must list every Params field once: "
            f"without a source {missing}, not a field {unknown}, repeated {repeated}"
        )


def parameter_table(scenarios: Sequence[str] = ("global", "toy")) -> str:
    """Markdown tables of every Params field: unit, range, shape, values, source."""
    _check_sections()
    worlds: dict[str, Params] = {name: make_params(name) for name in scenarios}
    header = "| name | unit | range | shape | " + " | ".join(f"`{n}`" for n in scenarios)
    rule = "| --- " * (5 + len(scenarios)) + "|"
    blocks = []
    for title, fields in SECTIONS:
        lines = [f"#### {title}", "", header + " | source or assumption |", rule]
        for name, basis in fields.items():
            meta = FIELDS[name].metadata
            values = " | ".join(compact(getattr(world, name)) for world in worlds.values())
            unit = meta["unit"].replace("|", "/")
            lines.append(
                f"| `{name}` | {unit} | {_range(meta)} | "
                f"{_SHAPES[meta['shape']]} | {values} | {basis} |"
            )
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


#: What each move does; every :class:`~lepton_env.types.Move` must be listed.
MOVE_EFFECTS: dict[Move, str] = {
    Move.HOLD: "nothing (always valid)",
    Move.ENTER_PILOT: "enter a region where the firm is absent as an export pilot",
    Move.ENTER_PARTNERSHIP: "enter, or upgrade a pilot, with the candidate partner of best "
    "estimated quality",
    Move.ENTER_ACQUISITION: "bid for the largest active local competitor (from absent, pilot "
    "or partnership); FDI screening may veto it",
    Move.ENTER_GREENFIELD: "build an own subsidiary (from absent, pilot or partnership); the "
    "region is served in the previous mode until it opens",
    Move.EXIT: "leave a foreign region, writing off part of the entry cost",
    Move.MARKETING: "full marketing budget this quarter (brand)",
    Move.LOCALIZE: "full localization budget this quarter",
    Move.COMPLY: "full compliance budget this quarter",
    Move.DILIGENCE: "one round of due diligence on the region's partner candidates",
}

_SPACE_FORMULAS = {
    "multi_discrete": "`MultiDiscrete([10] × R + [L])`, `action_masks()`",
    "discrete": "`Discrete(10 R + L)`",
    "continuous": "`Box(-1, 1, (5 R + 1,))`",
}


def action_table(scenarios: Sequence[str] = ("global", "toy")) -> str:
    """Markdown tables of the registered action faces and of the per-region moves."""
    from lepton_env import ENV_IDS

    missing = [move.name for move in Move if move not in MOVE_EFFECTS]
    if missing or set(ENV_IDS.values()) != set(_SPACE_FORMULAS):
        raise ModelCardError(
            f"lepton_env/model_card.py: moves {missing} or action modes "
            f"{sorted(set(ENV_IDS.values()) ^ set(_SPACE_FORMULAS))} are not documented"
        )
    worlds = {name: make_params(name) for name in scenarios}
    lines = [
        "| id | action mode | space | " + " | ".join(f"`{n}`" for n in scenarios) + " |",
        "| --- " * (3 + len(scenarios)) + "|",
    ]
    for env_id, mode in ENV_IDS.items():
        face: Any = ACTION_FACES[mode]
        spaces = " | ".join(f"`{face(world).space}`" for world in worlds.values())
        lines.append(f"| `{env_id}` | {mode} | {_SPACE_FORMULAS[mode]} | {spaces} |")
    lines += ["", "| move | name | effect |", "| --- | --- | --- |"]
    lines += [f"| {int(m)} | `{m.name}` | {MOVE_EFFECTS[m]} |" for m in Move]
    return "\n".join(lines)


def observation_table() -> str:
    """The feature table with the observation sizes of the ``global`` and ``toy`` scenarios."""
    sizes = ", ".join(
        f"`{name}` R = {make_params(name).num_regions}: "
        f"{make_params(name).num_regions * len(REGION_FEATURES) + len(FIRM_FEATURES)}"
        for name in ("global", "toy")
    )
    return (
        f"F_region = {len(REGION_FEATURES)}, F_firm = {len(FIRM_FEATURES)}; flat size "
        f"R × F_region + F_firm ({sizes}).\n\n{feature_table()}"
    )


def region_table() -> str:
    """The ``global`` regions: World Bank figures and the traits derived or assumed from them."""
    from lepton_env.scenarios.world_bank import load_region_figures

    world = make_params("global")
    lines = [
        "| region | World Bank members | GDP 2023 ($bn) | population 2023 (M) | GDP growth "
        "2018–23 | `market_potential` ($M/quarter) | `market_growth` | `initial_adoption` | "
        "`psychic_distance` | `initial_stringency` | `data_localization` | "
        "`geopolitical_risk` | `fdi_screening` | `price_sensitivity` |",
        "| --- " * 14 + "|",
    ]
    for figures in load_region_figures():
        r = world.region_names.index(figures.region)
        traits = (
            world.market_potential[r],
            world.market_growth[r],
            world.initial_adoption[r],
            world.psychic_distance[r],
            world.initial_stringency[r],
            world.data_localization[r],
            world.geopolitical_risk[r],
            world.fdi_screening[r],
            world.price_sensitivity[r],
        )
        lines.append(
            f"| {figures.region} | {' '.join(figures.members)} | "
            f"{figures.gdp_usd_2023 / 1e9:,.0f} | {figures.population_2023 / 1e6:,.1f} | "
            f"{figures.gdp_growth_annual:.2%} | "
            + " | ".join(_number(float(value)) for value in traits)
            + " |"
        )
    return "\n".join(lines)


#: Marker name -> generator of the block between ``<!-- name:start -->`` and ``<!-- name:end -->``.
BLOCKS: dict[str, Callable[[], str]] = {
    "params": parameter_table,
    "features": observation_table,
    "actions": action_table,
    "regions": region_table,
}


def render_blocks(text: str) -> str:
    """``text`` with every marked block replaced by its freshly generated content."""
    for name, generate in BLOCKS.items():
        pattern = re.compile(
            rf"(^<!-- {name}:start -->\n)(?:.*?\n)?(<!-- {name}:end -->$)",
            flags=re.DOTALL | re.MULTILINE,
        )
        matches = list(pattern.finditer(text))
        if len(matches) != 1:
            raise ModelCardError(
                f"expected one pair of markers <!-- {name}:start --> and <!-- {name}:end -->, "
                "each on its own line"
            )
        block = matches[0]
        text = text[: block.end(1)] + generate() + "\n" + text[block.start(2) :]
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: print the parameter table, or refresh / check a model card file."""
    parser = argparse.ArgumentParser(prog="python -m lepton_env.model_card", description=__doc__)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", type=Path, metavar="PATH", help="refresh the blocks in PATH")
    group.add_argument("--check", type=Path, metavar="PATH", help="exit 1 if PATH is stale")
    args = parser.parse_args(argv)
    if args.write is None and args.check is None:
        print(parameter_table())
        return 0
    path: Path = args.write or args.check
    text = path.read_text(encoding="utf-8")
    try:
        fresh = render_blocks(text)
    except ModelCardError as error:
        print(f"{path}: {error}", file=sys.stderr)
        return 2
    if args.check is not None:
        if fresh != text:
            print(f"{path} is stale: run python -m lepton_env.model_card --write {path}")
            return 1
        return 0
    path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
