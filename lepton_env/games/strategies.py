"""Strategies of a small game: what a firm plays, as the exact tree search steps it.

A strategy acts for a batch of tree nodes at once, each node one episode of the
game: from the firm's own observation rows (its full multi-firm observation, as
:class:`~lepton_env.multi.parallel.LeptonParallelEnv` gives it), its Single-face masks
and the quarter, it returns one action per node and carries a per-node memory
(an array with a leading node axis, or ``None``) that the search gathers when
nodes branch. :class:`BatchStrategy` writes the protocol once (memory ``None`` at the
start; ``act`` hands the quarter's :class:`Nodes` to the subclass's ``decide``). Pure
strategies are deterministic:

* :class:`PlanStrategy`: an open-loop plan, one Single-face action per quarter;
* :class:`AgentStrategy`: any agent with the SB3 ``predict`` protocol (a heuristic
  of :mod:`lepton_env.agents.players.heuristics`, a saved model played deterministically);
* :class:`TabularStrategy`: a feedback policy over the firm's observation histories,
  as :func:`lepton_env.games.best_response.best_response` returns it; it also plays
  through ``predict`` (recurrent ``state``: the history's id per env), so a best
  response can be a scripted firm of the multi-agent faces.

A :class:`Mixture` weights pure strategies (a PSRO or double-oracle meta-strategy);
the search enumerates its members as chance. A profile gives each firm one.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

#: Per-node memory: ``None``, an array or a tuple of arrays with a leading node axis.
Memory = Any


@runtime_checkable
class Strategy(Protocol):
    """A deterministic strategy of one firm, batched over tree nodes."""

    def start(self, count: int) -> Memory:
        """The memory of ``count`` nodes at the start of an episode."""
        ...

    def act(
        self,
        observation: NDArray[np.float32],
        masks: NDArray[np.bool_],
        quarter: int,
        memory: Memory,
    ) -> tuple[NDArray[np.int64], Memory]:
        """Actions (N,) for nodes with ``observation`` (N, D) and Single-face ``masks``
        (N, A) in ``quarter``, and the memory after them."""
        ...


def take(memory: Memory, rows: NDArray[np.intp]) -> Memory:
    """The memory of ``rows`` (children inherit their parent's)."""
    if memory is None:
        return None
    if isinstance(memory, tuple):
        return tuple(part[rows] for part in memory)
    return memory[rows]


@dataclass(frozen=True)
class Nodes:
    """The tree nodes a strategy acts for in one quarter."""

    observation: NDArray[np.float32]  # (N, D) the firm's own observation rows
    masks: NDArray[np.bool_]  # (N, A) Single-face valid moves
    quarter: int
    memory: Memory  # per-node memory, leading axis N


class BatchStrategy(ABC):
    """The :class:`Strategy` protocol written once: memory starts empty (``None``) unless a
    subclass says otherwise, and :meth:`act` hands the nodes to the subclass's :meth:`decide`."""

    def start(self, count: int) -> Memory:
        return None

    def act(
        self,
        observation: NDArray[np.float32],
        masks: NDArray[np.bool_],
        quarter: int,
        memory: Memory,
    ) -> tuple[NDArray[np.int64], Memory]:
        return self.decide(Nodes(observation, masks, quarter, memory))

    @abstractmethod
    def decide(self, nodes: Nodes) -> tuple[NDArray[np.int64], Memory]:
        """Actions (N,) for ``nodes`` and the memory after them."""


@dataclass(frozen=True)
class PlanStrategy(BatchStrategy):
    """An open-loop plan: action ``plan[t]`` in quarter ``t`` (pass, 0, after its end)."""

    plan: tuple[int, ...]
    name: str = "plan"

    def decide(self, nodes: Nodes) -> tuple[NDArray[np.int64], Memory]:
        action = self.plan[nodes.quarter] if nodes.quarter < len(self.plan) else 0
        return np.full(nodes.observation.shape[0], action, dtype=np.int64), nodes.memory


@dataclass
class AgentStrategy(BatchStrategy):
    """Any agent with ``predict`` (deterministic), reading the first ``width`` columns
    of the firm's observation (a single-agent heuristic reads its own features only).

    The agent's recurrent ``state`` must be ``None`` or a tuple of arrays with a leading
    batch axis (the heuristics' form); an LSTM state, batch second, needs its own
    :class:`Strategy`.
    """

    agent: Any
    width: int | None = None
    name: str = "agent"

    def decide(self, nodes: Nodes) -> tuple[NDArray[np.int64], Memory]:
        from lepton_env.agents.comparison.episodes import accepts_action_masks

        observation = nodes.observation
        columns = observation if self.width is None else observation[:, : self.width]
        kwargs = {"action_masks": nodes.masks} if accepts_action_masks(self.agent) else {}
        actions, state = self.agent.predict(
            columns,
            state=nodes.memory,
            episode_start=np.full(columns.shape[0], nodes.quarter == 0),
            deterministic=True,
            **kwargs,
        )
        if state is not None and not isinstance(state, tuple):
            raise TypeError(f"{self.name}: a recurrent state must be a tuple of arrays")
        return np.asarray(actions, dtype=np.int64).reshape(-1), state


@dataclass(frozen=True)
class TabularStrategy(BatchStrategy):
    """A feedback policy: an action per information set of the firm's observation history.

    ``index[t]`` maps ``(id of the history before quarter t, own action of quarter t - 1,
    observation bytes at t)`` to the id of the history at ``t`` (quarter 0: ``(-1, -1,
    bytes)``); ``actions[t][id]`` is the action there. A history the table does not know
    (a rival strategy the best response was not computed against) passes (action 0) for
    the rest of the episode. With ``observed=False`` the observation is ignored: an
    open-loop plan written as a table.
    """

    index: tuple[dict[tuple[int, int, bytes], int], ...]
    actions: tuple[NDArray[np.int64], ...]
    observed: bool = True
    name: str = "tabular"

    def start(self, count: int) -> Memory:
        return np.full((count, 2), -1, dtype=np.int64)  # (history id, last own action)

    def decide(self, nodes: Nodes) -> tuple[NDArray[np.int64], Memory]:
        memory, quarter = nodes.memory, nodes.quarter
        assert memory is not None
        count = nodes.observation.shape[0]
        ids = np.full(count, -1, dtype=np.int64)
        actions = np.zeros(count, dtype=np.int64)
        if quarter < len(self.index):
            table, chosen = self.index[quarter], self.actions[quarter]
            rows = np.ascontiguousarray(nodes.observation, dtype=np.float32)
            for n in range(count):
                previous, last = int(memory[n, 0]), int(memory[n, 1])
                if quarter > 0 and previous < 0:
                    continue  # off the table: pass
                seen = rows[n].tobytes() if self.observed else b""
                found = table.get((previous, last, seen), -1)
                ids[n] = found
                if found >= 0:
                    actions[n] = chosen[found]
        return actions, np.stack([ids, actions], axis=1)

    # ---------------------------------------------------------------- predict protocol
    def predict(
        self,
        observation: NDArray[np.floating],
        state: Any = None,
        episode_start: NDArray[np.bool_] | None = None,
        deterministic: bool = True,
        **kwargs: Any,
    ) -> tuple[NDArray[np.int64], Any]:
        """Plays the table in an env (the quarter counted from ``episode_start``);
        ``state`` is ``(memory (N, 2), quarter (N,))``."""
        batch = np.atleast_2d(np.asarray(observation, dtype=np.float32))
        count = batch.shape[0]
        if state is None:
            memory, quarter = self.start(count), np.zeros(count, dtype=np.int64)
        else:
            memory, quarter = state[0].copy(), state[1].copy()
        if episode_start is not None:
            restart = np.asarray(episode_start, dtype=bool)
            memory[restart], quarter[restart] = -1, 0
        actions = np.zeros(count, dtype=np.int64)
        for t in np.unique(quarter):
            rows = np.flatnonzero(quarter == t)
            actions[rows], memory[rows] = self.act(
                batch[rows], np.ones((rows.size, 1), dtype=bool), int(t), memory[rows]
            )
        return actions, (memory, quarter + 1)


@dataclass(frozen=True)
class Mixture:
    """A mixed strategy: pure strategies with probabilities (a meta-strategy)."""

    members: tuple[Strategy, ...]
    weights: NDArray[np.float64] = field(default_factory=lambda: np.ones(1))

    def __post_init__(self) -> None:
        weights = np.asarray(self.weights, dtype=np.float64)
        if weights.shape != (len(self.members),) or np.any(weights < 0):
            raise ValueError(
                f"Mixture weights {weights.tolist()}: one non-negative weight per member "
                f"({len(self.members)})"
            )
        if not np.isclose(weights.sum(), 1.0):
            raise ValueError(f"Mixture weights sum to {weights.sum()}, not 1")
        object.__setattr__(self, "weights", weights)

    @property
    def support(self) -> NDArray[np.intp]:
        """The members played with positive probability."""
        return np.flatnonzero(self.weights > 0)


Profile = Sequence[Strategy | Mixture]


def as_mixture(strategy: Strategy | Mixture) -> Mixture:
    """A pure strategy as a mixture of one."""
    if isinstance(strategy, Mixture):
        return strategy
    return Mixture((strategy,), np.ones(1))
