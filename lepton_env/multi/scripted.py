"""Firms played inside a multi-agent face by agents of :mod:`lepton_env.agents`.

A scripted firm is played in every env of the batch by one agent (a
heuristic of :mod:`lepton_env.agents.players.heuristics` or any object with the agent
protocol's ``predict``, e.g. a loaded SB3 model) with one batched ``predict``
call per step for all envs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env.agents.comparison.episodes import accepts_action_masks
from lepton_env.agents.players.heuristics import BASELINES, HeuristicAgent
from lepton_env.multi.firms import firm_params, single_width
from lepton_env.multi.population import Population, PopulationSeat
from lepton_env.params import Params

#: What may play a firm: an agent object, a baseline class, a baseline's class name, or a
#: :class:`~lepton_env.multi.population.Population` of these.
ScriptSpec = Any


def build_agent(spec: ScriptSpec, params: Params, firm: int, action_mode: str, where: str) -> Any:
    """The agent that plays ``firm``: a baseline name (``"HomeOnlyAgent"``) or class is built
    for the firm's own view of the world (its home, its distances); an object with
    ``predict`` is used as it is."""
    if isinstance(spec, str):
        if spec not in BASELINES:
            raise ValueError(f"{where} = {spec!r}: allowed baseline names {sorted(BASELINES)}")
        spec = BASELINES[spec]
    if isinstance(spec, type) and issubclass(spec, HeuristicAgent):
        return spec(params=firm_params(params, firm), action_mode=action_mode)
    if not callable(getattr(spec, "predict", None)):
        raise TypeError(
            f"{where} = {spec!r}: expected an agent with predict(), a baseline class or one "
            f"of {sorted(BASELINES)}"
        )
    return spec


def observation_width(agent: Any, params: Params, full_width: int) -> int:
    """The observation columns ``agent`` reads: the firm's own single-agent features for a
    heuristic or a model trained on the single-agent env, all ``full_width`` otherwise."""
    if isinstance(agent, HeuristicAgent):
        return single_width(params)
    space = getattr(agent, "observation_space", None)
    shape = getattr(space, "shape", None)
    if shape and len(shape) == 1 and int(shape[0]) in (single_width(params), full_width):
        return int(shape[0])
    return full_width


@dataclass
class ScriptedFirm:
    """One firm played by ``agent`` in every env: rows ``env * F + firm`` of the batch."""

    firm: int
    agent: Any
    # the firm's rows in the batch, env * F + firm: a strided view, not a copy (a population
    # member's: an index array of the envs that drew it)
    rows: slice | NDArray[np.intp]
    width: int  # observation columns the agent reads
    masked: bool  # whether predict takes action_masks=
    deterministic: bool
    recurrent_state: Any = None
    episode_start: NDArray[np.bool_] = field(default_factory=lambda: np.ones(0, dtype=bool))

    def act(self, observation: NDArray[np.float32], masks: NDArray[np.bool_]) -> NDArray[Any]:
        """The agent's actions in every env, from one batched ``predict`` call."""
        kwargs = {"action_masks": masks[self.rows]} if self.masked else {}
        actions, self.recurrent_state = self.agent.predict(
            observation[self.rows, : self.width],
            state=self.recurrent_state,
            episode_start=self.episode_start,
            deterministic=self.deterministic,
            **kwargs,
        )
        self.episode_start[:] = False
        return np.asarray(actions)

    def start_episodes(
        self, envs: NDArray[np.intp], keys: NDArray[np.uint64], num_envs: int, num_firms: int
    ) -> None:
        """Mark the new episodes of ``envs`` (for a recurrent agent's ``episode_start``)."""
        self.episode_start[envs] = True

    def act_into(
        self, actions: NDArray[Any], observation: NDArray[np.float32], masks: NDArray[np.bool_]
    ) -> None:
        """Write the firm's actions into its rows of ``actions``."""
        actions[self.rows] = self.act(observation, masks)


def scripted_firms(
    scripted: Mapping[str, ScriptSpec],
    agents: tuple[str, ...],
    params: Params,
    num_envs: int,
    action_mode: str,
    full_width: int,
    deterministic: bool,
) -> list[ScriptedFirm | PopulationSeat]:
    """The scripted firms, in firm order, from ``{agent name: agent spec or Population}``."""
    unknown = sorted(set(scripted) - set(agents))
    if unknown:
        raise ValueError(
            f"scripted names unknown agents {unknown}: this game's agents are {list(agents)}"
        )

    def player(spec: ScriptSpec, firm: int, where: str) -> ScriptedFirm:
        agent = build_agent(spec, params, firm, action_mode, where)
        return ScriptedFirm(
            firm=firm,
            agent=agent,
            rows=slice(firm, num_envs * len(agents), len(agents)),
            width=observation_width(agent, params, full_width),
            masked=accepts_action_masks(agent),
            deterministic=deterministic,
            episode_start=np.ones(num_envs, dtype=bool),
        )

    firms: list[ScriptedFirm | PopulationSeat] = []
    for firm, name in enumerate(agents):
        if name not in scripted:
            continue
        spec = scripted[name]
        if isinstance(spec, Population):
            members = [
                player(member, firm, f"scripted[{name!r}].members[{member_id!r}]")
                for member_id, member in spec.members.items()
            ]
            firms.append(PopulationSeat(name, firm, spec, members))
        else:
            firms.append(player(spec, firm, f"scripted[{name!r}]"))
    return firms
