"""docs/extending.md runs exactly as written, and each extension has its documented effect.

The python blocks of each numbered section are executed, in order, as one
module; the tests then inspect the objects the page builds.
"""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

import lepton_env
import lepton_env.scenarios
from lepton_env.observation import REGION_FEATURES
from lepton_env.scenarios.world_bank import load_region_figures
from lepton_env.types import EntryMode

EXTENDING = Path(__file__).resolve().parents[2] / "docs" / "extending.md"
SECTIONS = {
    1: "A new region",
    2: "A competitor persona",
    3: "A reward function",
    4: "A scenario generator",
    5: "A rival firm",
}


def _sections() -> dict[int, str]:
    text = EXTENDING.read_text(encoding="utf-8")
    parts = re.split(r"^## ", text, flags=re.MULTILINE)[1:]
    return {int(part.split(".", 1)[0]): part for part in parts if part[0].isdigit()}


def _python_blocks(section: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", section, flags=re.DOTALL | re.MULTILINE)


def run_section(number: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Execute the section's python blocks as a module named like a user's file; its namespace."""
    code = "\n".join(_python_blocks(_sections()[number]))
    module = types.ModuleType(f"extending_section_{number}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    # The page may register scenarios; give it a private copy of the registry.
    registry = dict(lepton_env.SCENARIOS)
    monkeypatch.setattr(lepton_env, "SCENARIOS", registry)
    monkeypatch.setattr(lepton_env.scenarios, "SCENARIOS", registry)
    exec(compile(code, f"{EXTENDING}, section {number}", "exec"), module.__dict__)
    return module.__dict__


def test_the_page_has_the_five_extension_points_each_with_code() -> None:
    sections = _sections()
    assert sorted(sections) == sorted(SECTIONS)
    for number, title in SECTIONS.items():
        assert sections[number].startswith(f"{number}. {title}\n")
        assert _python_blocks(sections[number]), f"section {number} has no python block"


def test_new_region_joins_the_world_with_its_gdp_calibration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = run_section(1, monkeypatch)
    world, env = page["world"], page["env"]
    base = lepton_env.make_params("global")
    mexico, brazil = world.region_names.index("mexico"), base.region_names.index("brazil")

    assert world.region_names == (*base.region_names, "mexico")
    assert env.unwrapped.params.region_names == world.region_names
    base_env = gym.make("LeptonExpansion-v0", scenario="global")
    assert env.observation_space.shape[0] == base_env.observation_space.shape[0] + len(
        REGION_FEATURES
    )
    assert len(env.action_space.nvec) == len(base_env.action_space.nvec) + 1
    # The region-shared policy's weights, trained on `global`, play the larger world.
    trained, extended = page["trained"].policy, page["extended"].policy
    assert extended.layout.regions == trained.layout.regions + 1
    for name, tensor in trained.state_dict().items():
        assert torch.equal(tensor, extended.state_dict()[name]), name
    # Sized like the global regions: potential proportional to 2023 GDP ...
    brazil_figures = next(f for f in load_region_figures() if f.region == "brazil")
    assert world.market_potential[mexico] == pytest.approx(
        base.market_potential[brazil] * page["gdp_2023"] / brazil_figures.gdp_usd_2023
    )
    # Grown like them: GDP growth plus the same AI-spend premium.
    premium = base.market_growth[brazil] - brazil_figures.gdp_growth_annual
    mexico_gdp_growth = (page["gdp_2023"] / page["gdp_2018"]) ** (1 / 5) - 1
    assert world.market_growth[mexico] == pytest.approx(mexico_gdp_growth + premium)
    # Traits not given come from Brazil; the given ones do not.
    assert world.initial_stringency[mexico] == base.initial_stringency[brazil]
    np.testing.assert_array_equal(world.competitor_quality[mexico], base.competitor_quality[brazil])
    np.testing.assert_array_equal(
        world.partner_quality_mean[mexico], base.partner_quality_mean[brazil]
    )
    assert world.psychic_distance[mexico] == 0.85 != base.psychic_distance[brazil]
    # The firm entered the new region.
    assert page["info"]["entry_mode"][mexico] == EntryMode.PILOT
    assert page["observation"].shape == env.observation_space.shape


def test_persona_cuts_prices_where_the_entrant_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    page = run_section(2, monkeypatch)
    toy = page["toy"]
    near = toy.region_names.index("near")
    prices = page["env"].unwrapped.state.competitor_price

    np.testing.assert_allclose(prices[0, near], 0.9 * toy.competitor_price[near], rtol=1e-6)
    untouched = [r for r in range(toy.num_regions) if r != near]
    np.testing.assert_array_equal(prices[0, untouched], toy.competitor_price[untouched])
    # With the built-in personas (near: a price warrior and a passive rival) the same
    # quarters leave the passive rival's price alone.
    default = gym.make("LeptonExpansion-Single-v0", scenario="toy")
    default.reset(seed=0)
    default.step(11)
    default.step(0)
    passive = int(np.flatnonzero(toy.competitor_persona[near] == 0)[0])
    assert (
        default.unwrapped.state.competitor_price[0, near, passive]
        == toy.competitor_price[near, passive]
    )


def test_reward_function_value_is_what_the_env_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    page = run_section(3, monkeypatch)
    reward, components = page["reward"], page["info"]["reward_components"]

    delta = page["info"]["discount"]  # the first quarter's, as every reward: a present value
    assert components["presence"] == pytest.approx(0.5 * delta)
    assert reward == pytest.approx(sum(components.values()))
    default = gym.make("LeptonExpansion-v0", scenario="toy")
    default.reset(seed=0)
    _, default_reward, *_ = default.step(page["action"])
    assert reward == pytest.approx(default_reward + 0.5 * delta)


def test_scenario_generator_builds_the_world_and_keeps_user_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = run_section(4, monkeypatch)
    base = lepton_env.make_params("global")
    abroad = np.arange(base.num_regions) != base.home_region

    def expected_stringency(extra: float) -> np.ndarray:
        raised = np.minimum(base.initial_stringency + extra, 1.0)
        return np.where(abroad, raised, base.initial_stringency)

    generated = page["RegulatoryCrackdown"](extra_stringency=0.2)()
    np.testing.assert_allclose(generated.initial_stringency, expected_stringency(0.2))
    np.testing.assert_allclose(generated.regulatory_shock_rate, 2 * base.regulatory_shock_rate)
    assert page["params"].horizon == 8
    np.testing.assert_allclose(page["params"].initial_stringency, expected_stringency(0.3))
    # Registered by name, the generator option and the Params override both arrive.
    env_params = page["env"].unwrapped.params
    assert env_params.horizon == 8
    np.testing.assert_allclose(env_params.initial_stringency, expected_stringency(0.3))
    # A user override beats the generator's own change.
    overridden = page["RegulatoryCrackdown"]()(regulatory_shock_rate=base.regulatory_shock_rate)
    np.testing.assert_array_equal(overridden.regulatory_shock_rate, base.regulatory_shock_rate)


def test_registration_on_the_page_does_not_leak_into_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = lepton_env.SCENARIOS
    with monkeypatch.context() as patch:
        run_section(4, patch)
        assert "crackdown" in lepton_env.SCENARIOS
    assert lepton_env.SCENARIOS is original
    assert "crackdown" not in original


def test_a_rival_firm_joins_the_race_at_home_in_japan(monkeypatch: pytest.MonkeyPatch) -> None:
    page = run_section(5, monkeypatch)
    four, model, output = page["four"], page["model"], page["output"]
    japan = four.region_names.index("japan")
    assert four.num_firms == 4 and four.firm_homes[-1] == japan
    assert output.reward.shape == (8,) and output.observation.shape[0] == 8
    state = model.reset(lepton_env.rng.episode_key(np.arange(1), 0))
    assert state.entry_mode[3, japan] == 4  # at home with its greenfield
    assert state.psychic_distance[3, japan] == 0.0
    with pytest.raises(ValueError, match="multi-agent faces"):
        gym.make("LeptonExpansion-v0", scenario=four)
