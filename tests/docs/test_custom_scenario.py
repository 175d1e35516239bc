"""``add_region``: a new region appended to every per-region field, validated."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import lepton_env
from lepton_env.params import FIELDS, ParamsError
from lepton_env.scenarios.custom import REGION_FIELDS, add_region
from lepton_env.types import NUM_MOVES


@pytest.fixture(scope="module")
def toy() -> lepton_env.Params:
    return lepton_env.make_params("toy")


def test_region_fields_are_exactly_the_per_region_arrays() -> None:
    expected = {
        name
        for name, spec in FIELDS.items()
        if spec.metadata["shape"] in ("R", "RK", "RP") and name != "region_names"
    }
    assert set(REGION_FIELDS) == expected
    assert {"market_potential", "competitor_persona", "partner_quality_mean"} <= expected
    assert "share_ceiling" not in REGION_FIELDS


def test_like_copies_every_trait_not_given(toy: lepton_env.Params) -> None:
    world = add_region(
        toy, "island", like="far", market_potential=50.0, competitor_price=(1.1, 0.9)
    )
    new, far = 3, toy.region_names.index("far")
    assert world.region_names == ("home", "near", "far", "island")
    assert world.market_potential[new] == 50.0
    np.testing.assert_array_equal(world.competitor_price[new], [1.1, 0.9])
    for name in REGION_FIELDS:
        if name in ("market_potential", "competitor_price"):
            continue
        np.testing.assert_array_equal(getattr(world, name)[new], getattr(toy, name)[far])
    for name in REGION_FIELDS:  # existing regions are untouched
        np.testing.assert_array_equal(getattr(world, name)[:new], getattr(toy, name))
    assert world.horizon == toy.horizon


def test_every_trait_given_explicitly_needs_no_template(toy: lepton_env.Params) -> None:
    near = toy.region_names.index("near")
    traits = {name: getattr(toy, name)[near] for name in REGION_FIELDS}
    world = add_region(toy, "twin", **traits)
    for name in REGION_FIELDS:
        np.testing.assert_array_equal(getattr(world, name)[-1], getattr(toy, name)[near])


def test_the_new_region_runs_in_the_core(toy: lepton_env.Params) -> None:
    model = lepton_env.Model(add_region(toy, "island", like="near"))
    state = model.reset(np.arange(2, dtype=np.uint64))
    valid = model.valid_moves(state)
    assert valid.shape == (2, 4, NUM_MOVES)
    hold = lepton_env.Action.hold(2, 4)
    moves = hold.moves.copy()
    moves[:, 3] = lepton_env.Move.ENTER_PILOT
    output = model.step(state, dataclasses.replace(hold, moves=moves))
    np.testing.assert_array_equal(output.state.entry_mode[:, 3], lepton_env.EntryMode.PILOT)


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("near", {"like": "far"}, "region 'near' already exists"),
        ("", {"like": "far"}, "non-empty str"),
        ("island", {"like": "mars"}, "like = 'mars' is not a region"),
        ("island", {}, r"no value for \['bass_imitation'"),
        ("island", {"like": "far", "horizon": 3}, "horizon is not a per-region field"),
        ("island", {"like": "far", "market_potental": 3.0}, "did you mean 'market_potential'"),
        (
            "island",
            {"like": "far", "market_potential": -1.0},
            "market_potential = .*is out of range",
        ),
        ("island", {"like": "far", "market_potential": [1.0, 2.0]}, "expected one number"),
        ("island", {"like": "far", "competitor_quality": (0.5,)}, r"expected 2 numbers \(K = 2\)"),
        ("island", {"like": "far", "partner_quality_mean": "high"}, "expected numbers"),
        (
            "island",
            {"like": "far", "psychic_distance": 1.5},
            "psychic_distance = .*is out of range",
        ),
    ],
)
def test_bad_regions_are_rejected_naming_the_field(
    toy: lepton_env.Params, name: str, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ParamsError, match=message):
        add_region(toy, name, **kwargs)
