"""World Bank calibration figures for the regions of the ``global`` scenario.

The figures come from World Bank World Development Indicators NY.GDP.MKTP.CD
(GDP, current US$) and SP.POP.TOTL (total population), as packaged by the
``datasets/gdp`` and ``datasets/population`` data packages. World Bank data is
licensed CC BY 4.0. The table ships with the package in
``data/world_bank_regions.csv``; ``data/SOURCES.md`` describes how it was built.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from importlib.resources import files

__all__ = ["RegionFigures", "load_region_figures"]


@dataclass(frozen=True)
class RegionFigures:
    """Economic figures for one scenario region.

    Attributes:
        region: Region id, e.g. ``"china"``.
        members: World Bank country or aggregate codes summed into the region.
        gdp_usd_2018: GDP in 2018, current US$.
        gdp_usd_2023: GDP in 2023, current US$.
        population_2023: Total population in 2023.
        gdp_growth_annual: Nominal current-US$ GDP growth per year, 2018 to 2023.
    """

    region: str
    members: tuple[str, ...]
    gdp_usd_2018: float
    gdp_usd_2023: float
    population_2023: float
    gdp_growth_annual: float


@functools.cache
def load_region_figures() -> tuple[RegionFigures, ...]:
    """Return the packaged figures, one per region, home region (china) first."""
    resource = files("lepton_env.scenarios") / "data" / "world_bank_regions.csv"
    text = resource.read_text(encoding="utf-8")
    return tuple(
        RegionFigures(
            region=row["region"],
            members=tuple(row["members"].split()),
            gdp_usd_2018=float(row["gdp_usd_2018"]),
            gdp_usd_2023=float(row["gdp_usd_2023"]),
            population_2023=float(row["population_2023"]),
            gdp_growth_annual=float(row["gdp_growth_annual"]),
        )
        for row in csv.DictReader(io.StringIO(text))
    )
