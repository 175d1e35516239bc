"""Params validation: every bad configuration is rejected with the field and its range."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lepton_env import Params, ParamsError, make_params
from lepton_env.params import FIELDS


def test_every_field_documents_unit_and_range() -> None:
    for name, spec in FIELDS.items():
        assert spec.metadata["unit"], name
        if name not in ("region_names", "firm_name", "rival_names"):
            assert spec.metadata["low"] <= spec.metadata["high"], name


def test_arrays_are_read_only_float64() -> None:
    params = make_params("toy")
    assert params.market_potential.dtype == np.float64
    with pytest.raises(ValueError, match="read-only"):
        params.market_potential[0] = 1.0


def test_whole_floats_from_configs_become_integers() -> None:
    params = make_params("toy", horizon=20.0, rnd_levels=3.0, home_region=np.int64(0))
    assert type(params.horizon) is int and params.horizon == 20
    assert type(params.rnd_levels) is int and type(params.home_region) is int
    assert type(make_params("toy", overhead=np.float32(2.5)).overhead) is float


def test_replace_and_make_params_from_params_apply_overrides() -> None:
    params = make_params("toy")
    assert params.replace(horizon=9).horizon == 9
    assert make_params(params, horizon=7).horizon == 7
    assert params.horizon == 5  # frozen: the original is unchanged


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"horizon": 0}, r"horizon = 0\.0 is out of range: allowed \[1, 400\] \(quarters\)"),
        ({"horizon": 401}, r"horizon = 401\.0 is out of range: allowed \[1, 400\]"),
        ({"brand_decay": 1.5}, r"brand_decay = 1\.5 is out of range: allowed \[0, 1\]"),
        ({"firm_price": 0.0}, r"firm_price = 0\.0 is out of range: allowed \[0\.05, 20\]"),
        (
            {"market_growth": [0.1, 2.0, 0.1]},
            r"market_growth = 2\.0 is out of range: allowed \[-0\.5, 1\.0\]",
        ),
        ({"horizon": 5.5}, r"horizon: expected an integer, got 5\.5"),
        ({"horizon": True}, r"horizon: expected a number, got True"),
        ({"initial_cash": "lots"}, r"initial_cash: expected a number, got 'lots'"),
        ({"overhead": math.nan}, r"overhead: must be finite"),
        ({"horizon": math.inf}, r"horizon: must be finite, got inf"),
        ({"horizon": math.nan}, r"horizon: must be finite, got nan"),
        ({"market_potential": [1.0, 2.0]}, r"market_potential: expected shape \(3,\) \(R\), got"),
        ({"market_potential": [1.0, 2.0, math.inf]}, r"market_potential: must be finite"),
        ({"market_potential": ["a", "b", "c"]}, r"market_potential: expected numbers"),
        ({"competitor_quality": np.ones((3, 3))}, r"competitor_active: expected shape \(3, 3\)"),
        ({"competitor_persona": np.full((3, 2), 1.5)}, r"competitor_persona: expected integers"),
        ({"home_region": 3}, r"home_region = 3 is out of range: allowed \[0, 2\]"),
        ({"geopolitical_risk": [0.1, 0.0, 0.0]}, r"geopolitical_risk of the home region"),
        ({"region_names": ()}, r"region_names must be a non-empty tuple of str"),
        ({"region_names": ["a", "b", "c"]}, r"region_names must be a non-empty tuple of str"),
        ({"horizont": 5}, r"unknown parameter 'horizont' \(did you mean 'horizon'\?\)"),
    ],
)
def test_bad_overrides_name_the_field_and_the_allowed_range(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ParamsError, match=message):
        make_params("toy", **overrides)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"difficulty": 1.5}, r"procedural difficulty = 1\.5 is out of range: \[0\.0, 1\.0\]"),
        ({"noise": -0.1}, r"procedural noise = -0\.1 is out of range"),
        ({"noise": math.nan}, r"procedural noise = nan is out of range"),
        ({"num_regions": 1}, r"procedural num_regions = 1 is out of range: \[2, 32\]"),
        ({"num_regions": 33}, r"procedural num_regions = 33 is out of range"),
        ({"num_regions": 2.5}, r"procedural num_regions: expected an integer, got 2\.5"),
        ({"difficulty": "hard"}, r"procedural difficulty: expected a number, got 'hard'"),
        ({"world_seed": -1}, r"procedural world_seed = -1 is out of range"),
        ({"split": "validation"}, r"procedural split = 'validation': allowed 'train' or 'test'"),
    ],
)
def test_bad_procedural_options_are_rejected(options: dict[str, object], message: str) -> None:
    with pytest.raises(ParamsError, match=message):
        make_params("procedural", **options)


def test_unknown_scenario_and_scenario_specific_options() -> None:
    allowed = r"unknown scenario 'moon': allowed \['duel_market', 'duel_toy', 'global'"
    with pytest.raises(ParamsError, match=allowed):
        make_params("moon")
    # difficulty belongs to the procedural generator only
    with pytest.raises(ParamsError, match=r"unknown parameter 'difficulty'"):
        make_params("global", difficulty=0.5)


def test_direct_construction_validates() -> None:
    fields = {name: getattr(make_params("toy"), name) for name in FIELDS}
    fields["reward_scale"] = 0.0
    with pytest.raises(ParamsError, match=r"reward_scale = 0\.0 is out of range"):
        Params(**fields)


@pytest.mark.parametrize("scenario", ["toy", "global", "procedural"])
def test_scenarios_build_valid_params(scenario: str) -> None:
    params = make_params(scenario)
    assert params.num_regions == len(params.region_names) >= 2
    assert params.competitor_quality.shape == (params.num_regions, params.num_competitors)
