"""Exact best responses, values and NashConv of a small game.

On a :class:`~lepton_env.games.tree.SmallGame` every expectation is exact: the
conflict coins are enumerated chance nodes, mixtures are enumerated members,
nothing is sampled.

* :func:`values`: each firm's expected return under a profile.
* :func:`best_response`: the best strategy of one firm against the others'
  strategies, by backward induction over its information sets (Kuhn 1953; the
  firm has perfect recall: an information set holds its own past actions). Two
  strategy spaces: ``kind="feedback"``, policies over the firm's observation
  histories (what it sees of its own state and of the rival's public state:
  the PettingZoo face's observation), and ``kind="open_loop"``, plans that
  ignore every observation. ``U(I) = max_a [sum_{n in I} P(n) r(n, a) +
  sum_{I' after (I, a)} U(I')]`` with ``P(n)`` the chance and mixture
  probability of node ``n``; the value is ``sum_{I at the root} U(I)``.
* :func:`nash_conv`: ``sum_f [max_{s'} u_f(s', s_-f) - u_f(s)]`` (Lanctot et al.
  2017). The game is general-sum (the firms' returns do not add to a constant):
  each term is one firm's own incentive to deviate alone, NashConv is 0 exactly
  at a Nash equilibrium, and, unlike in a zero-sum game, it is not an
  exploitability (a deviation may help or hurt the other firm, and there is no
  game value). Over feedback policies it is the NashConv of the extensive-form
  game. ``kind="open_loop"`` restricts deviations to plans: the NashConv of the
  game whose strategies are plans (meaningful for a profile of plans; a
  feedback profile's terms can be negative there).
* :func:`payoff_tables`: the normal-form payoffs of populations of pure
  strategies (for a meta-solver), all pairs in one tree.

Any strategy with the :class:`~lepton_env.games.strategies.Strategy` protocol can
be scored: heuristics and saved deterministic models through
:class:`~lepton_env.games.strategies.AgentStrategy`, population meta-strategies
as :class:`~lepton_env.games.strategies.Mixture`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from lepton_env.games.strategies import Mixture, PlanStrategy, Profile, Strategy, TabularStrategy
from lepton_env.games.tree import SmallGame, Tree, expand

KINDS = ("feedback", "open_loop")


@dataclass(frozen=True)
class BestResponse:
    """A firm's exact best response to the other firms' strategies."""

    firm: int
    kind: str  # "feedback" or "open_loop"
    value: float  # the firm's expected return when it plays ``strategy``
    strategy: TabularStrategy | PlanStrategy
    information_sets: int  # decision points of the firm over all quarters
    nodes: int  # model steps taken


@dataclass(frozen=True)
class NashConv:
    """NashConv of a profile and its parts (general-sum: see the module docstring)."""

    values: NDArray[np.float64]  # (F,) each firm's expected return under the profile
    best_response_values: NDArray[np.float64]  # (F,)
    best_responses: tuple[BestResponse, ...]

    @property
    def gains(self) -> NDArray[np.float64]:
        """(F,) what each firm gains by deviating alone to its best response."""
        return self.best_response_values - self.values

    @property
    def nash_conv(self) -> float:
        """The sum of the gains: 0 at a Nash equilibrium."""
        return float(self.gains.sum())


def values(game: SmallGame, profile: Profile, seeds: Sequence[int] = (0,)) -> NDArray[np.float64]:
    """(F,) each firm's exact expected return under ``profile`` (episodes of ``seeds``
    weighted alike)."""
    reach, returns = expand(game, profile, seeds).leaf_returns()
    return np.asarray(reach @ returns, dtype=np.float64)


def payoff_tables(
    game: SmallGame, populations: Sequence[Sequence[Strategy]], seeds: Sequence[int] = (0,)
) -> NDArray[np.float64]:
    """(F, |P_0|, |P_1|) firm f's expected return when firm 0 plays member i of its
    population and firm 1 member j (two firms), from one tree over every pair."""
    if len(populations) != 2 or game.num_firms != 2:
        raise ValueError("payoff_tables is for two firms: give two populations")
    sizes = [len(p) for p in populations]
    profile = [Mixture(tuple(p), np.full(len(p), 1.0 / len(p))) for p in populations]
    tree = expand(game, profile, seeds)
    reach, returns = tree.leaf_returns()
    pair = tree.members[:, 0] * sizes[1] + tree.members[:, 1]
    tables = np.stack(
        [
            np.bincount(pair, weights=reach * returns[:, f], minlength=sizes[0] * sizes[1])
            for f in range(2)
        ]
    )
    return np.asarray(tables.reshape(2, *sizes) * (sizes[0] * sizes[1]), dtype=np.float64)


def best_response(
    game: SmallGame,
    profile: Profile,
    firm: int,
    seeds: Sequence[int] = (0,),
    kind: str = "feedback",
) -> BestResponse:
    """Firm ``firm``'s exact best response to the other firms' strategies of ``profile``
    (its own entry is ignored), over feedback policies or open-loop plans (``kind``).

    The tree is grown once over every action the firm's information sets allow; the
    backward pass is a few grouped sums per quarter.
    """
    if kind not in KINDS:
        raise ValueError(f"kind = {kind!r}: allowed {list(KINDS)}")
    tree = expand(game, profile, seeds, learner=firm, observed=kind == "feedback")
    value, best = _backward(tree, firm, game.num_actions)
    indexes = (tree.root_index, *(level.index for level in tree.levels[:-1]))
    strategy: TabularStrategy | PlanStrategy
    if kind == "feedback":
        strategy = TabularStrategy(indexes, tuple(best), observed=True, name=f"br{firm}")
    else:
        strategy = PlanStrategy(_plan(indexes, best), name=f"br{firm}_plan")
    return BestResponse(
        firm=firm,
        kind=kind,
        value=value,
        strategy=strategy,
        information_sets=sum(b.size for b in best),
        nodes=tree.nodes,
    )


def nash_conv(
    game: SmallGame, profile: Profile, seeds: Sequence[int] = (0,), kind: str = "feedback"
) -> NashConv:
    """The exact NashConv of ``profile``: every firm's best response against the others."""
    on_policy = values(game, profile, seeds)
    responses = tuple(best_response(game, profile, f, seeds, kind) for f in range(game.num_firms))
    return NashConv(on_policy, np.array([r.value for r in responses]), responses)


def _backward(tree: Tree, firm: int, actions: int) -> tuple[float, list[NDArray[np.int64]]]:
    """Backward induction over the learner's information sets: the value and the best
    action of every information set, quarter by quarter (ties: the lowest action)."""
    later: NDArray[np.float64] | None = None
    best: list[NDArray[np.int64]] = []
    for level in reversed(tree.levels):
        group = level.info_before[level.parent] * actions + level.action
        groups, of_child = np.unique(group, return_inverse=True)
        of_child = of_child.reshape(-1)
        q = np.bincount(
            of_child, weights=level.reach * level.reward[:, firm], minlength=groups.size
        )
        if later is not None:
            first = np.zeros(later.size, dtype=np.int64)
            first[level.info_after[::-1]] = np.arange(level.info_after.size)[::-1]
            group_of_next = of_child[first]
            if not np.array_equal(group_of_next[level.info_after], of_child):
                raise AssertionError("an information set follows two (set, action) pairs")
            q += np.bincount(group_of_next, weights=later, minlength=groups.size)
        info, action = groups // actions, groups % actions
        sets = int(level.info_before.max()) + 1
        value = np.full(sets, -np.inf)
        np.maximum.at(value, info, q)
        # groups are sorted by (info, action): the first that reaches the maximum
        reaching = np.flatnonzero(q >= value[info])
        _, first_best = np.unique(info[reaching], return_index=True)
        chosen = np.zeros(sets, dtype=np.int64)
        chosen[info[reaching[first_best]]] = action[reaching[first_best]]
        best.append(chosen)
        later = value
    assert later is not None
    return float(later.sum()), best[::-1]


def _plan(
    indexes: Sequence[dict[tuple[int, int, bytes], int]], best: list[NDArray[np.int64]]
) -> tuple[int, ...]:
    """The open-loop best response as a plan: its actions along its one path."""
    plan: list[int] = []
    node, last = -1, -1
    for table, chosen in zip(indexes, best, strict=True):
        node = table[(node, last, b"")]
        last = int(chosen[node])
        plan.append(last)
    return tuple(plan)
