"""Frozen, validated scenario parameters (the world an episode runs in).

Params never change during an episode; everything that does lives in
:class:`lepton_env.state.State`. Money is in millions of US$ ($M), time in
quarters. Each field's metadata gives its unit, its allowed range and its
shape (``R`` regions, ``K`` competitors per region, ``P`` partner candidates
per region, ``5`` entry modes indexed by :class:`~lepton_env.types.EntryMode`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env.types import NUM_MODES

INF = math.inf


def _no_rivals() -> NDArray[np.float64]:
    return np.zeros(0)


def _spec(unit: str, low: float, high: float, shape: str = "", integer: bool = False) -> Any:
    return field(
        metadata={"unit": unit, "low": low, "high": high, "shape": shape, "integer": integer}
    )


class ParamsError(ValueError):
    """A parameter is missing, misspelled, mis-shaped or out of its range."""


@dataclass(frozen=True)
class Params:
    """All parameters of one scenario. Arrays are read-only float64 after validation."""

    # --- episode ------------------------------------------------------------------------
    region_names: tuple[str, ...] = field(metadata={"unit": "names", "shape": "R"})
    horizon: int = _spec("quarters", 1, 400, integer=True)
    home_region: int = _spec("region index", 0, INF, integer=True)
    seed_offset: int = _spec(
        "added to episode seeds (separates train/test)", 0, 2**62, integer=True
    )

    # --- regions: market (Bass 1969) ----------------------------------------------------
    market_potential: NDArray[np.float64] = _spec("$M AI spend per quarter at t=0", 0, INF, "R")
    market_growth: NDArray[np.float64] = _spec("per year", -0.5, 1.0, "R")
    bass_innovation: NDArray[np.float64] = _spec("p, per quarter", 0, 1, "R")
    bass_imitation: NDArray[np.float64] = _spec("q, per quarter", 0, 1, "R")
    initial_adoption: NDArray[np.float64] = _spec("fraction", 0, 1, "R")
    price_sensitivity: NDArray[np.float64] = _spec("b_p, utility per log price", 0, 10, "R")
    psychic_distance: NDArray[np.float64] = _spec("0 = home, 1 = farthest", 0, 1, "R")
    # --- regions: regulation and geopolitics -------------------------------------------
    initial_stringency: NDArray[np.float64] = _spec("0..1", 0, 1, "R")
    stringency_drift: NDArray[np.float64] = _spec("per quarter", -0.1, 0.1, "R")
    regulatory_shock_rate: NDArray[np.float64] = _spec("new laws per quarter", 0, 2, "R")
    regulatory_shock_size: NDArray[np.float64] = _spec("stringency per law", 0, 1, "R")
    data_localization: NDArray[np.float64] = _spec("1 = data must stay in region", 0, 1, "R")
    geopolitical_risk: NDArray[np.float64] = _spec("closures per quarter", 0, 1, "R")
    closure_quarters: int = _spec("quarters a closure lasts", 0, 400, integer=True)
    fdi_screening: NDArray[np.float64] = _spec("acquisition veto weight", 0, 1, "R")
    trait_noise: float = _spec("log-sd of per-episode market size and distance", 0, 2)

    # --- product-market fit, learned by being there (mechanisms.fit) ------------------
    fit_prior_mean: float = _spec("mu, utility added to the firm's attraction abroad", -5, 5)
    fit_prior_sd: float = _spec("sigma_0, prior sd of fit at distance 0, utility", 0, 5)
    fit_prior_sd_distance: float = _spec("sigma_D, prior sd added per unit distance", 0, 5)
    fit_two_point: int = _spec(
        "1 = fit and signals are +-1 sd draws, 0 = normal", 0, 1, integer=True
    )
    fit_signal_precision: NDArray[np.float64] = _spec(
        "tau by mode, signal precision per quarter served, 1 / utility^2", 0, 1e6, "5"
    )
    experience_distance_rate: float = _spec("kappa_D, distance lost per quarter x similarity", 0, 1)
    experience_precision_rate: float = _spec("kappa_v, spillover precision per unit tau", 0, 100)

    # --- competitors -------------------------------------------------------------------
    competitor_active: NDArray[np.float64] = _spec("1 = present at t=0", 0, 1, "RK")
    competitor_quality: NDArray[np.float64] = _spec("relative to frontier", 0, 1, "RK")
    competitor_brand: NDArray[np.float64] = _spec("goodwill stock", 0, INF, "RK")
    competitor_price: NDArray[np.float64] = _spec("price index", 0.05, 20, "RK")
    competitor_persona: NDArray[np.float64] = _spec("index into personas", 0, 63, "RK", True)
    competitor_noise: float = _spec("sd of per-episode quality jitter", 0, 1)
    price_war_threshold: float = _spec("entrant share that triggers a price war", 0, 1)
    price_war_cut: float = _spec("price cut per quarter", 0, 1)
    price_floor: float = _spec("lowest price index", 0.05, 20)
    innovation_rate: float = _spec("quality gain per quarter toward frontier", 0, 1)
    follow_rate: float = _spec("brand catch-up per quarter", 0, 1)

    # --- partners ----------------------------------------------------------------------
    partner_quality_mean: NDArray[np.float64] = _spec("hidden quality mean", 0, 1, "RP")
    partner_quality_spread: float = _spec("sd of hidden quality", 0, 1)
    diligence_noise: float = _spec("sd of the quality estimate without diligence", 0, 2)
    max_diligence: int = _spec("diligence rounds per region", 0, 100, integer=True)
    diligence_cost: float = _spec("$M per round", 0, INF)
    partner_revenue_share: float = _spec("fraction of revenue kept by the partner", 0, 1)
    partner_localization_boost: float = _spec("localization per unit partner quality", 0, 1)
    partner_failure_rate: float = _spec("failures per quarter at quality 0", 0, 1)

    # --- firm --------------------------------------------------------------------------
    initial_cash: float = _spec("$M", -INF, INF)
    credit_line: float = _spec("$M borrowable before bankruptcy", 0, INF)
    initial_quality: float = _spec("relative to frontier", 0, 1)
    firm_price: float = _spec("price index", 0.05, 20)
    home_brand: float = _spec("goodwill stock at home at t=0", 0, INF)
    initial_compliance: float = _spec("compliance abroad before any spend", 0, 1)
    overhead: float = _spec("$M per quarter", 0, INF)
    variable_cost_rate: float = _spec("cost of revenue (compute), share of gross revenue", 0, 1)

    # --- attraction model (Cooper & Nakanishi 1988) ------------------------------------
    quality_weight: float = _spec("b_q", 0, 50)
    brand_weight: float = _spec("b_b, per ln(1 + brand)", 0, 50)
    localization_weight: float = _spec("b_l", 0, 50)
    outside_utility: float = _spec("U_0 of not buying", -50, 50)
    foreign_quality_penalty: float = _spec("quality lost per distance x (1 - localization)", 0, 1)
    share_adjustment: float = _spec("fraction of the gap to target closed per quarter", 0, 1)
    share_ceiling: NDArray[np.float64] = _spec("max share by mode", 0, 1, "5")
    data_localization_pilot_ceiling: float = _spec("pilot share ceiling under data rules", 0, 1)

    # --- entry modes (indexed by EntryMode) --------------------------------------------
    entry_cost_fixed: NDArray[np.float64] = _spec("$M", 0, INF, "5")
    entry_cost_market: NDArray[np.float64] = _spec("quarters of market potential", 0, INF, "5")
    operating_cost_fixed: NDArray[np.float64] = _spec("$M per quarter", 0, INF, "5")
    operating_cost_market: NDArray[np.float64] = _spec("share of potential / quarter", 0, INF, "5")
    exit_cost_fraction: NDArray[np.float64] = _spec("of the mode's entry cost", 0, INF, "5")
    greenfield_build_quarters: int = _spec("quarters", 0, 40, integer=True)
    control_premium: float = _spec("over the target's value, paid on acquisition", 0, 5)
    acquisition_filing_fee: float = _spec("fraction of price lost if vetoed", 0, 1)
    acquisition_brand_transfer: float = _spec("fraction of target brand kept", 0, 1)

    # --- spends (intensity 1 = full quarterly budget) ----------------------------------
    marketing_cost_fixed: float = _spec("$M per quarter", 0, INF)
    marketing_cost_market: float = _spec("share of potential per quarter", 0, INF)
    brand_efficiency: float = _spec("eta, goodwill per unit intensity", 0, INF)
    brand_decay: float = _spec("delta, per quarter", 0, 1)
    localization_cost_fixed: float = _spec("$M per quarter", 0, INF)
    localization_cost_market: float = _spec("share of potential per quarter", 0, INF)
    localization_rate: float = _spec("gap closed per unit intensity", 0, 1)
    compliance_cost_fixed: float = _spec("$M per quarter", 0, INF)
    compliance_cost_market: float = _spec("share of potential per quarter", 0, INF)
    compliance_rate: float = _spec("gap closed per unit intensity", 0, 1)
    compliance_erosion: float = _spec("compliance lost per unit stringency rise", 0, 10)

    # --- enforcement (GDPR Art. 83 style fines) ----------------------------------------
    enforcement_base_hazard: float = _spec("per quarter", 0, 10)
    enforcement_gap_hazard: float = _spec("per quarter per unit (stringency - compliance)", 0, 50)
    fine_rate: float = _spec("fraction of annual regional revenue", 0, 1)
    severe_probability: float = _spec("share of events that suspend operations", 0, 1)
    suspension_quarters: int = _spec("quarters", 0, 40, integer=True)

    # --- R&D and the technology frontier -----------------------------------------------
    rnd_max_budget: float = _spec("$M per quarter at full R&D", 0, INF)
    rnd_levels: int = _spec("discrete R&D levels (0 .. levels-1)", 2, 16, integer=True)
    rnd_efficiency: float = _spec("max gap closed per quarter", 0, 1)
    rnd_scale: float = _spec("$M of spend for 63% of the effect", 1e-9, INF)
    obsolescence: float = _spec("frontier drift, quality lost per quarter", 0, 1)
    initial_rnd: float = _spec("R&D intensity at t=0", 0, 1)

    # --- reward ------------------------------------------------------------------------
    reward_scale: float = _spec("$M per unit of reward", 1e-9, INF)
    discount_rate: float = _spec("cost of capital per year", 0, 1)
    valuation_quarters: int = _spec("H, quarters of cash flow valued", 1, 400, integer=True)
    bankruptcy_penalty: float = _spec("reward units", 0, INF)

    # --- rival firms (issue 14): X firms besides the scenario's own, each with its home ----
    # Every other parameter is the same for all firms. With no rivals (the default) the
    # world is the one-firm game.
    firm_name: str = field(default="Lepton AI", metadata={"unit": "name", "shape": ""})
    rival_names: tuple[str, ...] = field(default=(), metadata={"unit": "names", "shape": "X"})
    rival_home: NDArray[np.float64] = field(
        default_factory=_no_rivals, metadata=_spec("region index", 0, INF, "X", True).metadata
    )
    rival_psychic_distance: NDArray[np.float64] = field(
        default_factory=_no_rivals,
        metadata=_spec("0 = the rival's home, 1 = farthest", 0, 1, "XR").metadata,
    )
    rival_geopolitical_risk: NDArray[np.float64] = field(
        default_factory=_no_rivals,
        metadata=_spec("closures per quarter for the rival", 0, 1, "XR").metadata,
    )
    rival_fdi_screening: NDArray[np.float64] = field(
        default_factory=_no_rivals,
        metadata=_spec("acquisition veto weight for the rival", 0, 1, "XR").metadata,
    )

    def __post_init__(self) -> None:
        validate(self)

    @property
    def num_regions(self) -> int:
        """R."""
        return len(self.region_names)

    @property
    def num_competitors(self) -> int:
        """K, competitor slots per region."""
        return int(self.competitor_quality.shape[1])

    @property
    def num_firms(self) -> int:
        """F: the scenario's own firm and its rivals."""
        return 1 + len(self.rival_names)

    @property
    def firm_names(self) -> tuple[str, ...]:
        """The F firms' names; firm 0 is the scenario's own."""
        return (self.firm_name, *self.rival_names)

    @property
    def firm_homes(self) -> tuple[int, ...]:
        """Each firm's home region."""
        return (self.home_region, *(int(h) for h in self.rival_home))

    def firm_traits(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``(psychic_distance, geopolitical_risk, fdi_screening)`` of every firm, (F, R) each:
        row 0 the scenario's own firm, then the rivals."""
        return (
            np.vstack([self.psychic_distance, self.rival_psychic_distance]),
            np.vstack([self.geopolitical_risk, self.rival_geopolitical_risk]),
            np.vstack([self.fdi_screening, self.rival_fdi_screening]),
        )

    @property
    def num_partners(self) -> int:
        """P, partner candidates per region."""
        return int(self.partner_quality_mean.shape[1])

    def replace(self, **overrides: Any) -> Params:
        """A copy with fields overridden; unknown names raise :class:`ParamsError`."""
        check_names(overrides)
        return dataclasses.replace(self, **overrides)


FIELDS = {f.name: f for f in dataclasses.fields(Params)}

#: Fields that no longer exist, with what replaced them.
REMOVED = {
    "acquisition_revenue_multiple": (
        "acquisition prices are now the target's discounted share of expected demand "
        "(lepton_env.mechanisms.valuation) with a control premium: set 'control_premium', "
        "'discount_rate' and 'valuation_quarters' instead"
    ),
    "valuation_multiple": (
        "the terminal valuation is now the discounted value of the firm's positions "
        "(lepton_env.mechanisms.valuation): set 'discount_rate' and 'valuation_quarters' "
        "instead"
    ),
}


def check_names(overrides: dict[str, Any]) -> None:
    """Reject keyword names that are not Params fields, suggesting the closest one."""
    import difflib

    for name in overrides:
        if name in REMOVED:
            raise ParamsError(f"parameter {name!r} was removed: {REMOVED[name]}")
        if name not in FIELDS:
            close = difflib.get_close_matches(name, FIELDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ParamsError(f"unknown parameter {name!r}{hint}")


def _shape_of(code: str, num_regions: int, params: Params) -> tuple[int, ...]:
    sizes: dict[str, int] = {"R": num_regions, "5": NUM_MODES, "X": len(params.rival_names)}
    if code in ("RK", "RP"):
        source = params.competitor_quality if code == "RK" else params.partner_quality_mean
        width = np.asarray(source).shape[-1] if np.ndim(source) == 2 else -1
        return (num_regions, width)
    return tuple(sizes[c] for c in code)


def validate(params: Params) -> None:
    """Coerce array fields to read-only float64 and check every shape and range."""
    names = params.region_names
    if not isinstance(names, tuple) or not names or not all(isinstance(n, str) for n in names):
        raise ParamsError(f"region_names must be a non-empty tuple of str, got {names!r}")
    num_regions = len(names)
    _validate_firm_names(params)
    for name, spec in FIELDS.items():
        meta = spec.metadata
        if name in _NAME_FIELDS:
            continue
        value = getattr(params, name)
        if meta["shape"] == "XR" and np.size(value) == 0:
            value = np.zeros((len(params.rival_names), num_regions))
        if meta["shape"]:
            try:
                array = np.array(value, dtype=np.float64)
            except (TypeError, ValueError) as error:
                raise ParamsError(f"{name}: expected numbers, got {value!r}") from error
            expected = _shape_of(meta["shape"], num_regions, params)
            if array.shape != expected or -1 in expected:
                raise ParamsError(
                    f"{name}: expected shape {expected} ({meta['shape']}), got {array.shape}"
                )
            array.setflags(write=False)
            object.__setattr__(params, name, array)
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise ParamsError(f"{name}: expected a number, got {value!r}")
            array = np.asarray(value, dtype=np.float64)
        if not np.all(np.isfinite(array)):
            raise ParamsError(f"{name}: must be finite, got {value!r}")
        if meta["integer"] and np.any(array != np.round(array)):
            kind = "integers" if meta["shape"] else "an integer"
            raise ParamsError(f"{name}: expected {kind}, got {value!r}")
        low, high = meta["low"], meta["high"]
        if np.any(array < low) or np.any(array > high):
            bad = array[(array < low) | (array > high)].ravel()[0].item()
            raise ParamsError(
                f"{name} = {bad!r} is out of range: allowed [{low}, {high}] ({meta['unit']})"
            )
        if not meta["shape"]:
            # a whole float from a config (horizon: 20.0) becomes an int usable as a size
            object.__setattr__(params, name, int(value) if meta["integer"] else float(value))
    if params.home_region >= num_regions:
        raise ParamsError(
            f"home_region = {params.home_region} is out of range: allowed [0, {num_regions - 1}]"
        )
    if params.geopolitical_risk[params.home_region] != 0:
        raise ParamsError("geopolitical_risk of the home region must be 0 (home never closes)")
    for x, home in enumerate(params.rival_home):
        name = params.rival_names[x]
        if home >= num_regions:
            raise ParamsError(
                f"rival_home[{x}] = {int(home)} ({name}) is out of range: "
                f"allowed [0, {num_regions - 1}]"
            )
        if params.rival_geopolitical_risk[x, int(home)] != 0:
            raise ParamsError(
                f"rival_geopolitical_risk[{x}] of {name}'s home region must be 0 "
                "(home never closes)"
            )


#: Fields of names (strings), checked by :func:`_validate_firm_names`.
_NAME_FIELDS = ("region_names", "firm_name", "rival_names")


def _validate_firm_names(params: Params) -> None:
    """The firm's name and its rivals': strings, all different."""
    if not isinstance(params.firm_name, str) or not params.firm_name:
        raise ParamsError(f"firm_name must be a non-empty str, got {params.firm_name!r}")
    rivals = params.rival_names
    if isinstance(rivals, list):
        rivals = tuple(rivals)
        object.__setattr__(params, "rival_names", rivals)
    if not isinstance(rivals, tuple) or not all(isinstance(n, str) and n for n in rivals):
        raise ParamsError(f"rival_names must be a tuple of non-empty str, got {rivals!r}")
    names = (params.firm_name, *rivals)
    if len(set(names)) != len(names):
        raise ParamsError(f"firm names must differ, got {names!r}")
