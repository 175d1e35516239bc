"""The firms of a scenario as the multi-agent faces name and see them.

A scenario has F firms (firm 0 is its own firm, ``params.firm_name``; the
others are ``params.rival_names``). The core keeps one row per firm and env,
``env * F + firm``; these helpers give the agent names, each firm's view of
the parameters (its home and its distances, for the heuristics of
:mod:`lepton_env.agents.baselines`) and the per-agent observation space.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from gymnasium import spaces

from lepton_env.envs.expansion import observation_space
from lepton_env.params import Params

#: Width of a rival's public state per region: presence, mode rank / 4, share (all in [0, 1]).
RIVAL_PUBLIC_FEATURES = ("rival_present", "rival_mode", "rival_share")


def firm_names(params: Params) -> tuple[str, ...]:
    """The F firm names, firm 0 first (``params.firm_names``; one firm before issue 14's Params)."""
    names = getattr(params, "firm_names", None)
    if names is None:
        return (str(getattr(params, "firm_name", "Lepton AI")),)
    return tuple(str(name) for name in names)


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
    names = firm_names(params)
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
    num_firms = len(firm_names(params))
    if not 0 <= firm < num_firms:
        raise ValueError(f"firm = {firm}: allowed range [0, {num_firms - 1}]")
    if num_firms == 1:
        return params
    own: dict[str, Any] = {}
    if firm > 0:
        rival = firm - 1
        own = {
            "firm_name": params.rival_names[rival],  # type: ignore[attr-defined]
            "home_region": int(params.rival_home[rival]),  # type: ignore[attr-defined]
            "psychic_distance": params.rival_psychic_distance[rival],  # type: ignore[attr-defined]
            "geopolitical_risk": params.rival_geopolitical_risk[rival],  # type: ignore[attr-defined]
            "fdi_screening": params.rival_fdi_screening[rival],  # type: ignore[attr-defined]
        }
    regions = params.num_regions
    return params.replace(
        rival_names=(),
        rival_home=np.zeros(0, dtype=np.int64),
        rival_psychic_distance=np.zeros((0, regions)),
        rival_geopolitical_risk=np.zeros((0, regions)),
        rival_fdi_screening=np.zeros((0, regions)),
        **own,
    )


def single_width(params: Params) -> int:
    """D1: the width of the single-agent observation (a firm's own features)."""
    box = observation_space(params, "flat", 0)
    assert isinstance(box, spaces.Box)
    return int(box.shape[0])


def firm_observation_space(params: Params) -> spaces.Box:
    """One firm's flat observation: its own single-agent features (D1 columns), then for
    each rival in order ``f+1, f+2, ...`` (mod F) and each region its public state
    (:data:`RIVAL_PUBLIC_FEATURES`), then the firm-identity one-hot (F > 1 only)."""
    own = observation_space(params, "flat", 0)
    assert isinstance(own, spaces.Box)
    num_firms = len(firm_names(params))
    extra = 0
    if num_firms > 1:
        extra = len(RIVAL_PUBLIC_FEATURES) * params.num_regions * (num_firms - 1) + num_firms
    low = np.concatenate([own.low, np.zeros(extra, dtype=np.float32)])
    high = np.concatenate([own.high, np.ones(extra, dtype=np.float32)])
    return spaces.Box(low, high, dtype=np.float32)
