"""The game tree of a small game, grown level by level on the compiled core.

A small game (:class:`SmallGame`) is a two-firm scenario whose only chance is
the conflict coins (:mod:`lepton_env.games.chance`), played on the Single face
(``Discrete(10 R + L)``, one (region, move) or an R&D level per quarter), as
the PettingZoo face plays it with ``action_mode="discrete"``: a masked action
is a pass (action 0), a bankrupt firm only passes.

:func:`expand` grows the tree of one profile from the episodes of ``seeds``,
one batched :meth:`lepton_env.core.Model.step` per quarter. Every node is an
episode; it branches

* over the *learner's* actions, if a learner is named: every action its menu
  allows at some node of its information set (what it has seen: its own
  actions, plus its observations for a feedback learner), so that one choice
  per information set is a strategy;
* over the members of every other firm's mixture (chance with the mixture's
  weights, at the root: the member is drawn once per episode);
* over the outcomes of the quarter's contested conflict coins
  (``chance="enumerate"``), or along the seed's own coins (``"fixed"``).

Every other firm plays its pure strategy. Each level records, per child, its
parent, the learner's action, its probability of being reached (chance and
mixtures only: the learner's own choices are not weighted) and every firm's
reward, and the learner's information set before and after; that is all
:mod:`lepton_env.games.best_response` needs for exact expectations and
backward induction.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.core import Model
from lepton_env.envs.actions import DiscreteActions
from lepton_env.games import chance as chance_nodes
from lepton_env.games.strategies import Mixture, Profile, Strategy, as_mixture, take
from lepton_env.params import Params
from lepton_env.scenarios import make_params
from lepton_env.state import State

#: Largest level the search accepts before refusing (memory guard).
MAX_NODES = 4_000_000


@dataclass(frozen=True)
class SmallGame:
    """A two-firm game small enough for exact best responses.

    ``menus`` optionally restricts each firm's Single-face actions (a bool (A,) per
    firm, or ``None`` for all): a smaller game with the same rules (the OpenSpiel
    test plays one). Pass (action 0) is always on the menu.
    """

    params: Params
    chance: str = "enumerate"
    menus: tuple[NDArray[np.bool_] | None, ...] = (None, None)
    model: Model = field(init=False, repr=False, compare=False)
    codec: DiscreteActions = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        chance_nodes.check_small_game(self.params)
        if self.chance not in chance_nodes.CHANCE_MODES:
            raise ValueError(f"chance = {self.chance!r}: allowed {list(chance_nodes.CHANCE_MODES)}")
        codec = DiscreteActions(self.params)
        if len(self.menus) != self.params.num_firms:
            raise ValueError(
                f"menus: one per firm ({self.params.num_firms}), got {len(self.menus)}"
            )
        for menu in self.menus:
            if menu is not None and np.shape(menu) != (codec.mask_size,):
                raise ValueError(f"a menu is a bool array of shape ({codec.mask_size},)")
        object.__setattr__(self, "model", Model(self.params))
        object.__setattr__(self, "codec", codec)

    @classmethod
    def make(
        cls,
        scenario: str | Params = "duel_toy",
        chance: str = "enumerate",
        menus: Sequence[Sequence[int] | None] | None = None,
        **overrides: Any,
    ) -> SmallGame:
        """The game of ``scenario`` (with Params ``overrides``); ``menus`` as action lists."""
        params = make_params(scenario, **overrides)
        size = DiscreteActions(params).mask_size
        masks: list[NDArray[np.bool_] | None] = []
        for menu in menus or [None] * params.num_firms:
            if menu is None:
                masks.append(None)
                continue
            mask = np.zeros(size, dtype=bool)
            mask[[0, *menu]] = True
            masks.append(mask)
        return cls(params, chance, tuple(masks))

    @property
    def num_firms(self) -> int:
        return self.params.num_firms

    @property
    def num_actions(self) -> int:
        """A, the Single face's actions."""
        return self.codec.mask_size

    @property
    def horizon(self) -> int:
        return self.params.horizon

    def root(self, seeds: Sequence[int]) -> tuple[State, NDArray[np.bool_], NDArray[np.float32]]:
        """The episodes ``reset(seed=s)`` for each seed: state, valid moves, observations."""
        keys = rng.episode_key(np.asarray(seeds), self.params.seed_offset)
        state = self.model.empty_state(len(seeds))
        valid, observation = self.model.empty_outputs(len(seeds))
        self.model.restart(state, np.arange(len(seeds)), keys, valid, observation)
        return state, valid, observation

    def masks(self, state: State, valid: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """Single-face masks (N * F, A) of the firm rows, each firm's menu applied: a
        bankrupt firm only passes, and pass is always allowed."""
        masks = self.codec.masks(valid, state.rnd_intensity)
        firms = self.num_firms
        for f, menu in enumerate(self.menus):
            if menu is not None:
                masks[f::firms] &= menu
        masks[state.cash < -self.params.credit_line] = False
        masks[:, 0] = True
        return masks


@dataclass(frozen=True)
class Level:
    """One quarter of the tree: the children of the nodes at depth ``t``."""

    parent: NDArray[np.intp]  # (M,) each child's node at depth t
    action: NDArray[np.int64]  # (M,) the learner's action (-1 without a learner)
    reach: NDArray[np.float64]  # (M,) chance x mixture probability of the child
    reward: NDArray[np.float64]  # (M, F) each firm's reward of the quarter
    played: NDArray[np.int64]  # (M, F) each firm's action as stepped (a masked one: 0)
    info_before: NDArray[np.int64]  # (N,) the learner's information set at the parents
    info_after: NDArray[np.int64]  # (M,) the learner's information set at the children
    index: dict[tuple[int, int, bytes], int]  # (id before, action, observation) -> id after


@dataclass(frozen=True)
class Tree:
    """The tree of a profile, level by level, with the members each episode plays."""

    levels: tuple[Level, ...]
    root_index: dict[tuple[int, int, bytes], int]  # (-1, -1, observation) -> root id
    root_info: NDArray[np.int64]  # (N0,) the learner's information set at each root node
    members: NDArray[np.int64]  # (M_T, F) each leaf's mixture member per firm (-1: learner)
    learner: int | None
    observed: bool

    @property
    def nodes(self) -> int:
        """Model steps taken (children of every level)."""
        return sum(level.parent.size for level in self.levels)

    def leaf_returns(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Every leaf's probability (M_T,) and every firm's return (M_T, F)."""
        returns = np.zeros((self.root_info.size, self.levels[0].reward.shape[1]))
        for level in self.levels:
            returns = returns[level.parent] + level.reward
        return self.levels[-1].reach, returns

    def paths(self) -> list[tuple[float, list[tuple[int, ...]], NDArray[np.float64]]]:
        """Every leaf as (probability, the firms' actions quarter by quarter, returns):
        the profile's play, for reports (a learner's every branch included)."""
        reach, returns = self.leaf_returns()
        row = np.arange(reach.size)
        history: list[NDArray[np.int64]] = []
        for level in reversed(self.levels):
            history.append(level.played[row])
            row = level.parent[row]
        steps = history[::-1]
        return [
            (
                float(reach[leaf]),
                [tuple(int(a) for a in step[leaf]) for step in steps],
                returns[leaf],
            )
            for leaf in range(reach.size)
        ]


def _info_ids(
    before: NDArray[np.int64],
    action: NDArray[np.int64],
    observation: NDArray[np.float32] | None,
) -> tuple[NDArray[np.int64], dict[tuple[int, int, bytes], int]]:
    """Ids of the information sets ``(before, action, observation)`` (exact grouping) and
    the index from each key to its id."""
    width = 0 if observation is None else observation.shape[1]
    rows = np.empty((before.size, 2 + width), dtype=np.uint32)
    rows[:, 0] = before.astype(np.int64).view(np.uint64).astype(np.uint32)
    rows[:, 1] = action.astype(np.uint32)
    if observation is not None:
        rows[:, 2:] = np.ascontiguousarray(observation, dtype=np.float32).view(np.uint32)
    void = np.ascontiguousarray(rows).view(np.dtype((np.void, rows.itemsize * rows.shape[1])))
    _, first, ids = np.unique(void.ravel(), return_index=True, return_inverse=True)
    index = {
        (
            int(before[row]),
            int(action[row]),
            b"" if observation is None else observation[row].astype(np.float32).tobytes(),
        ): k
        for k, row in enumerate(first)
    }
    return ids.astype(np.int64).reshape(-1), index


def expand(
    game: SmallGame,
    profile: Profile,
    seeds: Sequence[int] = (0,),
    learner: int | None = None,
    observed: bool = True,
) -> Tree:
    """The tree of ``profile`` (a strategy or mixture per firm; the learner's entry is
    ignored) from the episodes of ``seeds``, each weighted ``1 / len(seeds)``.

    ``observed``: whether the learner's information sets include its observations
    (feedback policies) or only its own actions (open-loop plans).
    """
    firms, actions = game.num_firms, game.num_actions
    if len(profile) != firms:
        raise ValueError(f"profile: one strategy per firm ({firms}), got {len(profile)}")
    if learner is not None and not 0 <= learner < firms:
        raise ValueError(f"learner = {learner}: allowed range [0, {firms - 1}]")
    mixtures = [as_mixture(s) for s in profile]
    choices = [
        np.array([-1]) if f == learner else mixtures[f].support.astype(np.int64)
        for f in range(firms)
    ]
    combos = np.array(list(itertools.product(*choices)), dtype=np.int64)  # (C, F)
    combo_weight = np.ones(combos.shape[0])
    for f in range(firms):
        if f != learner:
            combo_weight *= mixtures[f].weights[combos[:, f]]
    root_state, valid, observation = game.root(seeds)
    episodes = np.repeat(np.arange(len(seeds)), combos.shape[0])
    members = np.tile(combos, (len(seeds), 1))  # (N, F)
    reach_nodes = np.tile(combo_weight, len(seeds)) / len(seeds)
    state = root_state.take(episodes)
    valid = _firm_rows(valid, episodes, firms)
    observation = _firm_rows(observation, episodes, firms)
    memory: dict[tuple[int, int], Any] = {}
    for f in range(firms):
        for member in np.unique(members[:, f]) if f != learner else []:
            rows = np.flatnonzero(members[:, f] == member)
            memory[(f, int(member))] = _pure(mixtures[f], member).start(rows.size)
    learner_obs = None if learner is None else observation[learner::firms]
    count = episodes.size
    info, root_index = _info_ids(
        np.full(count, -1, dtype=np.int64),
        np.full(count, -1, dtype=np.int64),
        learner_obs if observed else None,
    )
    if learner is None:
        info = np.zeros(count, dtype=np.int64)
    root_info = info
    levels: list[Level] = []
    for quarter in range(game.horizon):
        menu_masks = game.masks(state, valid)  # (N * F, A), each firm's menu applied
        joint = np.zeros((count, firms), dtype=np.int64)
        for (f, member), mem in list(memory.items()):
            rows = np.flatnonzero(members[:, f] == member)
            chosen, memory[(f, member)] = _pure(mixtures[f], member).act(
                observation[rows * firms + f], menu_masks[rows * firms + f], quarter, mem
            )
            joint[rows, f] = chosen
        if learner is None:
            parent = np.arange(count)
            learner_action = np.full(count, -1, dtype=np.int64)
        else:
            allowed = np.zeros((int(info.max()) + 1, actions), dtype=np.int64)
            np.add.at(allowed, info, menu_masks[learner::firms].astype(np.int64))
            parent, learner_action = np.nonzero(allowed[info] > 0)
            learner_action = learner_action.astype(np.int64)
        if parent.size > MAX_NODES:
            raise ValueError(
                f"quarter {quarter} has {parent.size} nodes, above MAX_NODES = {MAX_NODES}: "
                "use a smaller horizon or menu"
            )
        taken = joint[parent]
        if learner is not None:
            taken[:, learner] = learner_action
        # a masked action (or one off the firm's menu) is a pass, as on the faces
        firm_rows = parent[:, None] * firms + np.arange(firms)
        allowed_taken = menu_masks[firm_rows.ravel(), taken.ravel()].reshape(taken.shape)
        taken = np.where(allowed_taken, taken, 0)
        decoded = game.codec.decode(taken.ravel())
        outcomes = chance_nodes.branches(
            decoded.moves, quarter, game.chance, state.episode_key[parent]
        )
        child = parent[outcomes.parent]
        step_rows = (outcomes.parent[:, None] * firms + np.arange(firms)).ravel()
        before = state.take(child)
        if outcomes.keys is not None:
            before = before.replace(episode_key=outcomes.keys)
        output = game.model.step(before, _take_action(decoded, step_rows))
        state = output.state.replace(episode_key=state.episode_key[child])
        valid, observation = output.valid, output.observation
        reach_child = reach_nodes[child] * outcomes.probability
        action_child = learner_action[outcomes.parent]
        if learner is None:
            info_after = np.zeros(child.size, dtype=np.int64)
            index: dict[tuple[int, int, bytes], int] = {}
        else:
            info_after, index = _info_ids(
                info[child], action_child, observation[learner::firms] if observed else None
            )
        levels.append(
            Level(
                parent=child,
                action=action_child,
                reach=reach_child,
                reward=output.reward.reshape(-1, firms),
                played=taken[outcomes.parent],
                info_before=info,
                info_after=info_after,
                index=index,
            )
        )
        for (f, member), mem in list(memory.items()):
            rows = np.flatnonzero(members[:, f] == member)
            position = np.full(count, -1)
            position[rows] = np.arange(rows.size)
            kept = child[members[child, f] == member]
            memory[(f, member)] = take(mem, position[kept])
        members = members[child]
        reach_nodes, info, count = reach_child, info_after, child.size
    return Tree(tuple(levels), root_index, root_info, members, learner, observed)


def _pure(mixture: Mixture, member: int) -> Strategy:
    return mixture.members[int(member)]


def _firm_rows(array: NDArray[Any], episodes: NDArray[np.intp], firms: int) -> NDArray[Any]:
    """Rows ``episode * F + f`` of ``array`` for the given episodes, env-major."""
    return array[(episodes[:, None] * firms + np.arange(firms)).ravel()]


def _take_action(action: Any, rows: NDArray[np.intp]) -> Any:
    """The decoded action's rows ``rows``."""
    from lepton_env.core import Action

    return Action(
        moves=action.moves[rows],
        marketing=action.marketing[rows],
        localization=action.localization[rows],
        compliance=action.compliance[rows],
        rnd=action.rnd[rows],
    )
