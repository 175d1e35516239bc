"""The firms of a scenario as the multi-agent faces name and see them.

A scenario has F firms (firm 0 is its own firm, ``params.firm_name``; the
others are ``params.rival_names``). The core keeps one row per firm and env,
``env * F + firm``; these helpers give the agent names, each firm's view of
the parameters (its home and its distances, for the heuristics of
:mod:`lepton_env.agents.players.heuristics`) and the per-agent observation space.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from gymnasium import spaces

from lepton_env.envs.expansion import observation_space
from lepton_env.features import RIVAL_FEATURES, bounds, observation_width
from lepton_env.params import Params


def agent_id(name: str) -> str:
    """A firm name as a Python identifier: lower case, runs of other characters as ``_``.

    ``"Lepton AI"`` -> ``"lepton_ai"``, ``"US firm"`` -> ``"us_firm"``; a name that
    starts with a digit gets ``firm_`` in front.
    """
    identifier = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    if not identifier:
        raise ValueError(f"firm name {name!r} has no letter or digit to name its agent")
    return f"firm_{identifier}" if identifier[0].isdigit() else identifier


def agent_ids(params: Params) -> tuple[str, ...]:
    """The agents' names, one per firm in firm order; two firms may not share one."""
    names = params.firm_names
    ids = tuple(agent_id(name) for name in names)
    if len(set(ids)) != len(ids):
        raise ValueError(
            f"firm names {list(names)} give the agent names {list(ids)}: two firms share one; "
            "rename a firm (params.firm_name / params.rival_names)"
        )
    return ids


def firm_params(params: Params, firm: int) -> Params:
    """The one-firm world of firm ``firm``: ``params`` without the rivals, with the firm's
    home region and its psychic distances, geopolitical risks and FDI screening (the
    ``rival_*`` rows for a rival). Every other parameter is common to all firms.

    What a single-agent agent of that firm (a heuristic, a model trained on the
    single-agent env) is built for; for firm 0 it is the single-agent env's world.
    """
    num_firms = params.num_firms
    if not 0 <= firm < num_firms:
        raise ValueError(f"firm = {firm}: allowed range [0, {num_firms - 1}]")
    if num_firms == 1:
        return params
    own: dict[str, Any] = {}
    if firm > 0:
        rival = firm - 1
        own = {
            "firm_name": params.rival_names[rival],
            "home_region": params.firm_homes[firm],
            "psychic_distance": params.rival_psychic_distance[rival],
            "geopolitical_risk": params.rival_geopolitical_risk[rival],
            "fdi_screening": params.rival_fdi_screening[rival],
        }
    return params.replace(
        rival_names=(),
        rival_home=(),
        rival_psychic_distance=(),
        rival_geopolitical_risk=(),
        rival_fdi_screening=(),
        **own,
    )


def single_width(params: Params) -> int:
    """D1: the width of the single-agent observation (a firm's own features)."""
    box = observation_space(params, "flat", 0)
    assert isinstance(box, spaces.Box)
    return int(box.shape[0])


def firm_observation_space(params: Params) -> spaces.Box:
    """One firm's flat observation, ``observation_width(R, F)`` columns: its own
    single-agent features (D1 columns), then for each rival in order ``f+1, f+2, ...``
    (mod F) and each region its public state (:data:`~lepton_env.features.RIVAL_FEATURES`),
    then the firm-identity one-hot (F > 1 only)."""
    own = observation_space(params, "flat", 0)
    assert isinstance(own, spaces.Box)
    regions, firms = params.num_regions, params.num_firms
    rival_low, rival_high = bounds(RIVAL_FEATURES)
    identity = firms if firms > 1 else 0
    low = np.concatenate(
        [own.low, np.tile(rival_low, regions * (firms - 1)), np.zeros(identity, np.float32)]
    )
    high = np.concatenate(
        [own.high, np.tile(rival_high, regions * (firms - 1)), np.ones(identity, np.float32)]
    )
    assert low.shape == (observation_width(regions, firms),)
    return spaces.Box(low, high, dtype=np.float32)
