"""Scenario generators: ``toy``, ``toy_pilot``, ``global`` and ``procedural``, and with
rival firms ``race``, ``duel_toy`` and ``duel_market`` (for the multi-agent faces,
:mod:`lepton_env.multi`).

``SCENARIOS`` maps a name to its generator class; ``make_params`` builds the
Params from a name or a generator object, routing each keyword either to the
generator (e.g. ``difficulty``) or to a Params field (e.g. ``horizon``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from lepton_env.params import Params, ParamsError
from lepton_env.scenarios.base import ScenarioGenerator
from lepton_env.scenarios.duel_market import DuelMarketScenario
from lepton_env.scenarios.duel_toy import DuelToyScenario
from lepton_env.scenarios.global_regions import GlobalScenario
from lepton_env.scenarios.procedural import ProceduralScenario
from lepton_env.scenarios.race import RaceScenario
from lepton_env.scenarios.toy import ToyScenario
from lepton_env.scenarios.toy_pilot import ToyPilotScenario

SCENARIOS: dict[str, type] = {
    "toy": ToyScenario,
    "global": GlobalScenario,
    "procedural": ProceduralScenario,
    "toy_pilot": ToyPilotScenario,
    "race": RaceScenario,
    "duel_toy": DuelToyScenario,
    "duel_market": DuelMarketScenario,
}
#: The scenarios with rival firms: played through :mod:`lepton_env.multi`.
MULTI_FIRM_SCENARIOS = ("race", "duel_toy", "duel_market")


def make_params(scenario: str | ScenarioGenerator | Params = "global", **kwargs: Any) -> Params:
    """Params of ``scenario`` with keyword overrides."""
    if isinstance(scenario, Params):
        return scenario.replace(**kwargs)
    if isinstance(scenario, str):
        if scenario not in SCENARIOS:
            raise ParamsError(f"unknown scenario {scenario!r}: allowed {sorted(SCENARIOS)}")
        cls = SCENARIOS[scenario]
        options = {f.name for f in dataclasses.fields(cls)}
        generator = cls(**{k: v for k, v in kwargs.items() if k in options})
        kwargs = {k: v for k, v in kwargs.items() if k not in options}
        return generator(**kwargs)
    if not callable(scenario):
        raise ParamsError(
            f"scenario must be one of {sorted(SCENARIOS)}, a generator or Params, got {scenario!r}"
        )
    return scenario(**kwargs)


__all__ = [
    "MULTI_FIRM_SCENARIOS",
    "SCENARIOS",
    "DuelToyScenario",
    "GlobalScenario",
    "ProceduralScenario",
    "RaceScenario",
    "ScenarioGenerator",
    "ToyPilotScenario",
    "ToyScenario",
    "make_params",
]
