"""Tests for the packaged World Bank calibration table."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from lepton_env.scenarios.world_bank import RegionFigures, load_region_figures

REGION_IDS = (
    "china",
    "united_states",
    "european_union",
    "united_kingdom",
    "japan",
    "south_korea",
    "india",
    "southeast_asia",
    "gulf",
    "brazil",
    "africa",
)

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA_DIRS = (Path("/work/shared/data"), REPO_ROOT.parent / "shared" / "data")


def _by_region() -> dict[str, RegionFigures]:
    return {figures.region: figures for figures in load_region_figures()}


def test_regions_in_order_with_china_first() -> None:
    """The eleven regions come in scenario order, home region first."""
    figures = load_region_figures()
    assert tuple(f.region for f in figures) == REGION_IDS
    assert figures[0].region == "china"
    assert figures[0].members == ("CHN",)


def test_loader_is_cached() -> None:
    """Repeated loads return the same cached tuple."""
    assert load_region_figures() is load_region_figures()


def test_figures_are_frozen() -> None:
    """Region figures cannot be modified."""
    figures = load_region_figures()[0]
    with pytest.raises(AttributeError):
        figures.region = "elsewhere"  # type: ignore[misc]


def test_members() -> None:
    """Aggregates and summed regions list their World Bank codes."""
    regions = _by_region()
    assert regions["european_union"].members == ("EUU",)
    assert regions["africa"].members == ("SSF",)
    assert regions["southeast_asia"].members == ("IDN", "THA", "VNM", "MYS", "PHL", "SGP")
    assert regions["gulf"].members == ("SAU", "ARE", "QAT", "KWT", "OMN", "BHR")


def test_hand_checked_values() -> None:
    """Spot values match the World Bank source files."""
    regions = _by_region()
    # World Bank NY.GDP.MKTP.CD, United States 2023 (worldbank_gdp_current_usd.csv).
    assert regions["united_states"].gdp_usd_2023 == 27_360_935_000_000
    # World Bank NY.GDP.MKTP.CD, United States 2018.
    assert regions["united_states"].gdp_usd_2018 == 20_656_516_000_000
    # World Bank SP.POP.TOTL, United States 2023 (worldbank_population.csv).
    assert regions["united_states"].population_2023 == 336_806_231
    # World Bank NY.GDP.MKTP.CD, China 2023: 17794781986104.457, rounded.
    assert regions["china"].gdp_usd_2023 == 17_794_781_986_104
    # World Bank SP.POP.TOTL, China 2023.
    assert regions["china"].population_2023 == 1_410_710_000


def test_growth_matches_gdp_columns() -> None:
    """Growth is the 2018-2023 compound rate of the GDP columns."""
    for figures in load_region_figures():
        expected = (figures.gdp_usd_2023 / figures.gdp_usd_2018) ** (1 / 5) - 1
        assert figures.gdp_growth_annual == pytest.approx(expected, abs=5e-5)
    regions = _by_region()
    assert regions["japan"].gdp_growth_annual < 0
    assert regions["united_states"].gdp_growth_annual == pytest.approx(0.0578)


def test_southeast_asia_is_sum_of_members() -> None:
    """Southeast Asia sums its six member countries."""
    # World Bank NY.GDP.MKTP.CD 2023 for IDN, THA, VNM, MYS, PHL, SGP
    # (worldbank_gdp_current_usd.csv).
    members_2023 = (
        1371171152331.155,
        514944993833.5776,
        429716969049.5928,
        399648828546.5043,
        437146372729.94244,
        501427500080.05853,
    )
    sea = _by_region()["southeast_asia"]
    assert sea.gdp_usd_2023 == round(math.fsum(members_2023))
    assert sea.gdp_usd_2023 == 3_654_055_816_571
    assert sea.gdp_usd_2018 == 2_941_655_659_672
    # World Bank SP.POP.TOTL 2023, sum over the same six countries.
    assert sea.population_2023 == 609_179_839


def test_gulf_uses_qatar_2022_gdp() -> None:
    """The gulf 2023 GDP includes Qatar at its latest (2022) value."""
    # Qatar has no 2023 GDP in the source; its 2022 value stands in (see data/SOURCES.md).
    assert _by_region()["gulf"].gdp_usd_2023 == 2_120_696_468_084


def _shared_data_dir() -> Path | None:
    for candidate in SHARED_DATA_DIRS:
        if candidate.is_dir():
            return candidate
    return None


def _read_series(path: Path) -> dict[str, dict[int, float]]:
    series: dict[str, dict[int, float]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["Value"]:
                series.setdefault(row["Country Code"], {})[int(row["Year"])] = float(row["Value"])
    return series


def _latest_at_or_before(values: dict[int, float], year: int) -> float:
    return values[max(y for y in values if y <= year)]


def test_rederive_from_shared_data() -> None:
    """Every row re-derives from the shared World Bank files when present."""
    data_dir = _shared_data_dir()
    if data_dir is None:
        pytest.skip("shared World Bank data not available")
    gdp = _read_series(data_dir / "worldbank_gdp_current_usd.csv")
    population = _read_series(data_dir / "worldbank_population.csv")
    for figures in load_region_figures():
        gdp_2018 = round(sum(_latest_at_or_before(gdp[m], 2018) for m in figures.members))
        gdp_2023 = round(sum(_latest_at_or_before(gdp[m], 2023) for m in figures.members))
        pop_2023 = round(sum(_latest_at_or_before(population[m], 2023) for m in figures.members))
        growth = round((gdp_2023 / gdp_2018) ** (1 / 5) - 1, 4)
        assert figures.gdp_usd_2018 == gdp_2018, figures.region
        assert figures.gdp_usd_2023 == gdp_2023, figures.region
        assert figures.population_2023 == pop_2023, figures.region
        assert figures.gdp_growth_annual == growth, figures.region
