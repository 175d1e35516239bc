"""Opponent populations: a scripted seat played, per env and episode, by a member drawn at random.

A :class:`Population` names its members (anything :func:`~lepton_env.multi.scripted.build_agent`
takes: a heuristic's name or class, a search or a loaded SB3 model, any object with a batched
``predict``) and weights them. At each episode start of an env, the seat's member is drawn
with probability ``weights[m] / sum(weights)`` from the counter-based RNG
(:mod:`lepton_env.rng`, stream ``OPPONENT``, draw ``seat`` of quarter 0) keyed by the
episode's key: a pure function of the episode seed, whatever the batch size. The weights may
change between episodes (a prioritized population: e.g. a PSRO meta-strategy, or win rates
against the learner); an episode keeps the member it drew.

:class:`PopulationSeat` plays one seat in every env: each step, one batched ``predict`` per
member over the envs that drew it (members drawn by no env are not called).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from lepton_env import rng

if TYPE_CHECKING:
    from lepton_env.multi.scripted import ScriptedFirm

#: What may play a member (as :data:`lepton_env.multi.scripted.ScriptSpec`).
ScriptSpec = Any

#: Weights of a population's members: one per member in order, or ``{member id: weight}``
#: (members not named weigh 0).
Weights = Sequence[float] | Mapping[str, float] | NDArray[np.floating]


def member_weights(weights: Weights | None, ids: Sequence[str], where: str) -> NDArray[np.float64]:
    """``weights`` as one finite, non-negative float per member of ``ids``, summing to > 0
    (``None``: uniform); a ``ValueError`` naming ``where`` otherwise."""
    if weights is None:
        return np.ones(len(ids), dtype=np.float64)
    if isinstance(weights, Mapping):
        unknown = sorted(set(weights) - set(ids))
        if unknown:
            raise ValueError(
                f"{where} names unknown members {unknown}: the members are {list(ids)}"
            )
        weights = [weights.get(member, 0.0) for member in ids]
    array = np.asarray(weights, dtype=np.float64)
    if array.shape != (len(ids),):
        raise ValueError(
            f"{where} = {array.tolist()}: expected one weight per member, {len(ids)} ({list(ids)})"
        )
    bad = [ids[int(m)] for m in np.flatnonzero(~np.isfinite(array) | (array < 0))]
    if bad:
        raise ValueError(
            f"{where} = {array.tolist()}: members {bad} have a negative or non-finite weight; "
            "allowed [0, inf)"
        )
    if not array.sum() > 0:
        raise ValueError(f"{where} = {array.tolist()}: the weights sum to 0, expected > 0")
    return array


@dataclass(frozen=True)
class Population:
    """The members that may play a seat, ``{member id: agent spec}``, and their weights.

    ``weights`` need not sum to 1 (they are normalized); ``None`` weighs every member alike.
    """

    members: Mapping[str, ScriptSpec]
    weights: Weights | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.members, Mapping) or not self.members:
            raise ValueError(
                f"Population members = {self.members!r}: expected a non-empty "
                "{member id: agent spec} mapping"
            )
        object.__setattr__(self, "members", dict(self.members))
        member_weights(self.weights, self.ids, "Population weights")

    @property
    def ids(self) -> tuple[str, ...]:
        """The member ids, in order (a member's index in the draws)."""
        return tuple(self.members)


def draw_members(
    keys: NDArray[np.uint64], seat: int, weights: NDArray[np.float64]
) -> NDArray[np.intp]:
    """The member index drawn for ``seat`` in the episodes of ``keys`` (B,): the inverse
    CDF of ``weights`` at ``uniform(key, 0, OPPONENT)[seat]``; a zero weight is never drawn."""
    uniform = rng.uniform(keys, np.zeros(len(keys), np.int64), rng.Stream.OPPONENT, (seat + 1,))
    cumulative = np.cumsum(weights)
    drawn = np.searchsorted(cumulative, uniform[:, seat] * cumulative[-1], side="right")
    # rounding can put u * total at the total: that is the last member with a weight
    return np.minimum(drawn, int(np.flatnonzero(weights > 0)[-1])).astype(np.intp)


def recurrent_batch_axis(agent: Any) -> int:
    """The batch axis of ``agent``'s recurrent state arrays: 1 for sb3-contrib's LSTM
    policies (``(layers, batch, hidden)``), 0 for the heuristics' form."""
    return 1 if hasattr(getattr(agent, "policy", None), "lstm_actor") else 0


def carry_state(
    state: Any, kept_from: NDArray[np.intp], kept_to: NDArray[np.intp], count: int, axis: int
) -> Any:
    """A recurrent state over ``count`` new rows: old rows ``kept_from`` moved to new rows
    ``kept_to``, the other new rows zero (they start an episode: the agent resets them)."""
    if state is None or count == 0:
        return None
    if not isinstance(state, tuple):
        raise TypeError(
            f"a population member's recurrent state is a {type(state).__name__}: expected None "
            "or a tuple of arrays with a batch axis"
        )
    carried = []
    for part in state:
        part = np.asarray(part)
        shape = list(part.shape)
        shape[axis] = count
        moved = np.zeros(shape, dtype=part.dtype)
        np.moveaxis(moved, axis, 0)[kept_to] = np.moveaxis(part, axis, 0)[kept_from]
        carried.append(moved)
    return tuple(carried)


class PopulationSeat:
    """One seat (firm ``firm``, agent ``agent``) played by a :class:`Population` in every env.

    ``draws`` (n,) is each env's member index; ``players[m]`` plays member ``m`` on the firm
    rows ``env * F + firm`` of the envs that drew it (an index array, in env order).
    """

    def __init__(
        self, agent: str, firm: int, population: Population, players: list[ScriptedFirm]
    ) -> None:
        self.agent, self.firm = agent, firm
        self.ids = population.ids
        self.weights = member_weights(population.weights, self.ids, f"scripted[{agent!r}] weights")
        self.players = players
        self.draws = np.zeros(0, dtype=np.intp)  # (n,) member index of each env's episode
        self._axes = [recurrent_batch_axis(player.agent) for player in players]
        for player in players:  # no rows until the first draw
            player.rows = np.zeros(0, dtype=np.intp)
            player.episode_start = np.zeros(0, dtype=bool)

    def set_weights(self, weights: Weights) -> None:
        """The weights of the draws from the next episode starts on."""
        self.weights = member_weights(weights, self.ids, f"population weights of {self.agent!r}")

    def start_episodes(
        self, envs: NDArray[np.intp], keys: NDArray[np.uint64], num_envs: int, num_firms: int
    ) -> None:
        """Draw the members of the new episodes of ``envs`` (keys ``keys``) and regroup the
        members' rows, carrying the recurrent state of the envs that play on."""
        if len(self.draws) != num_envs:
            self.draws = np.zeros(num_envs, dtype=np.intp)
        self.draws[envs] = draw_members(keys, self.firm, self.weights)
        starting = np.zeros(num_envs, dtype=bool)
        starting[envs] = True
        for member, (player, axis) in enumerate(zip(self.players, self._axes, strict=True)):
            old_envs = np.asarray(player.rows, dtype=np.intp) // num_firms
            new_envs = np.flatnonzero(self.draws == member)
            if np.array_equal(new_envs, old_envs):
                player.episode_start[starting[new_envs]] = True
                continue
            kept = np.intersect1d(old_envs, new_envs[~starting[new_envs]])
            player.recurrent_state = carry_state(
                player.recurrent_state,
                np.searchsorted(old_envs, kept),
                np.searchsorted(new_envs, kept),
                len(new_envs),
                axis,
            )
            player.rows = new_envs * num_firms + self.firm
            player.episode_start = starting[new_envs].copy()

    def act_into(
        self, actions: NDArray[Any], observation: NDArray[np.float32], masks: NDArray[np.bool_]
    ) -> None:
        """Write the seat's actions into its firm rows of ``actions``: one ``predict`` per
        member over the envs that drew it."""
        for player in self.players:
            if player.episode_start.size:  # one flag per env that drew the member
                actions[player.rows] = player.act(observation, masks)

    def restore_draws(self, draws: NDArray[np.intp], num_firms: int) -> None:
        """Continue episodes whose members were ``draws`` (n,); the members' recurrent
        states start afresh."""
        self.draws = draws.copy()
        for member, player in enumerate(self.players):
            envs = np.flatnonzero(draws == member)
            player.rows = envs * num_firms + self.firm
            player.recurrent_state = None
            player.episode_start = np.ones(len(envs), dtype=bool)

    def member_ids(self) -> list[str]:
        """Each env's member id, (n,)."""
        return [self.ids[m] for m in self.draws]
