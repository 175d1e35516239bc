"""A small game as an OpenSpiel game, to check our NashConv against OpenSpiel's.

``pip install -e ".[games]"`` (the ``open-spiel`` package). :class:`LeptonDuelGame`
plays a :class:`~lepton_env.games.tree.SmallGame` through ``pyspiel``'s Python
game API, turn-based: in each quarter firm 0 chooses, then firm 1 (which does not
see firm 0's choice of the quarter: the simultaneous move in OpenSpiel's
sequential form), then a chance node settles the contested conflict coins (if
any), and the quarter is stepped on the compiled core (a batch of one). A
firm's information state is its own actions and its observations (the
PettingZoo face's), exactly the information sets of a feedback best response
in :mod:`lepton_env.games.best_response`; the game is general-sum, so
``exploitability`` (constant-sum only) does not apply and ``nash_conv`` does.

:class:`ProfilePolicy` is a profile of our strategies as an OpenSpiel policy. The
wrapper steps the core once per tree node through Python: keep the game tiny
(short horizon, small menus).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyspiel
from numpy.typing import NDArray
from open_spiel.python import policy as openspiel_policy

from lepton_env.core import Action
from lepton_env.games import chance as chance_nodes
from lepton_env.games.strategies import Profile, as_mixture
from lepton_env.games.tree import SmallGame
from lepton_env.state import State

_GAMES: dict[int, SmallGame] = {}


def _game_type() -> pyspiel.GameType:
    return pyspiel.GameType(
        short_name="python_lepton_duel",
        long_name="Lepton small game (Python)",
        dynamics=pyspiel.GameType.Dynamics.SEQUENTIAL,
        chance_mode=pyspiel.GameType.ChanceMode.EXPLICIT_STOCHASTIC,
        information=pyspiel.GameType.Information.IMPERFECT_INFORMATION,
        utility=pyspiel.GameType.Utility.GENERAL_SUM,
        reward_model=pyspiel.GameType.RewardModel.TERMINAL,
        max_num_players=2,
        min_num_players=2,
        provides_information_state_string=True,
        provides_information_state_tensor=False,
        provides_observation_string=False,
        provides_observation_tensor=False,
        provides_factored_observation_string=False,
    )


class LeptonDuelGame(pyspiel.Game):
    """A two-firm small game, turn-based, with the conflict coins as chance nodes."""

    def __init__(self, small_game: SmallGame, seed: int = 0) -> None:
        if small_game.chance != "enumerate":
            raise ValueError("the OpenSpiel game enumerates the coins: use chance='enumerate'")
        info = pyspiel.GameInfo(
            num_distinct_actions=small_game.num_actions,
            max_chance_outcomes=1 << (2 * small_game.params.num_regions),
            num_players=2,
            min_utility=-1e6,
            max_utility=1e6,
            utility_sum=None,
            max_game_length=3 * small_game.horizon,
        )
        super().__init__(_game_type(), info, {})
        self.small_game = small_game
        self.seed = seed
        _GAMES[id(small_game)] = small_game
        self._key = id(small_game)

    def new_initial_state(self) -> LeptonDuelState:
        return LeptonDuelState(self)

    def make_py_observer(
        self, iig_obs_type: Any = None, params: Any = None
    ) -> _InformationStateObserver:
        return _InformationStateObserver()


class LeptonDuelState(pyspiel.State):
    """A node: the core's state of one episode, the pending moves and each firm's history."""

    def __init__(self, game: LeptonDuelGame) -> None:
        super().__init__(game)
        small = _GAMES[game._key]
        self._key = game._key
        state, valid, observation = small.root([game.seed])
        self.core = state
        self.masks = small.masks(state, valid)  # (2, A), the menus applied
        self.observations = [[observation[f].copy()] for f in range(2)]  # per firm, per quarter
        self.actions: list[list[int]] = [[], []]
        self.mask_history: list[list[NDArray[np.bool_]]] = [
            [self.masks[f].copy()] for f in range(2)
        ]
        self.pending: list[int] = []
        self.contested = 0  # coin mask awaiting its chance node
        self.totals = np.zeros(2)
        self.quarter = 0

    @property
    def _small(self) -> SmallGame:
        return _GAMES[self._key]

    def current_player(self) -> int:
        if self.quarter >= self._small.horizon:
            return int(pyspiel.PlayerId.TERMINAL)
        if self.contested:
            return int(pyspiel.PlayerId.CHANCE)
        return len(self.pending)

    def _legal_actions(self, player: int) -> list[int]:
        return [int(a) for a in np.flatnonzero(self.masks[player])]

    def chance_outcomes(self) -> list[tuple[int, float]]:
        coins = [c for c in range(2 * self._small.params.num_regions) if self.contested >> c & 1]
        patterns = []
        for j in range(1 << len(coins)):
            pattern = sum(((j >> k) & 1) << coin for k, coin in enumerate(coins))
            patterns.append((pattern, 1.0 / (1 << len(coins))))
        return patterns

    def _apply_action(self, action: int) -> None:
        small = self._small
        if self.is_chance_node():
            key = chance_nodes.pattern_keys(self.quarter, small.params.num_regions)[action]
            self._step(np.uint64(key))
            return
        self.pending.append(int(action))
        if len(self.pending) < 2:
            return
        decoded = small.codec.decode(np.array(self.pending, dtype=np.int64))
        self.contested = int(chance_nodes.contested_coins(decoded.moves)[0])
        if not self.contested:
            self._step(None)

    def _step(self, key: np.uint64 | None) -> None:
        small = self._small
        decoded = small.codec.decode(np.array(self.pending, dtype=np.int64))
        before: State = self.core
        if key is not None:
            before = before.replace(episode_key=np.array([key], dtype=np.uint64))
        output = small.model.step(before, _copy(decoded))
        self.core = output.state.replace(episode_key=self.core.episode_key.copy())
        self.totals += output.reward
        self.masks = small.masks(self.core, output.valid)
        for f in range(2):
            self.actions[f].append(self.pending[f])
            self.observations[f].append(output.observation[f].copy())
            self.mask_history[f].append(self.masks[f].copy())
        self.pending, self.contested = [], 0
        self.quarter += 1

    def _action_to_string(self, player: int, action: int) -> str:
        if player == pyspiel.PlayerId.CHANCE:
            return f"coins:{action}"
        return f"firm{player}:{action}"

    def is_terminal(self) -> bool:
        return self.quarter >= self._small.horizon

    def returns(self) -> list[float]:
        return [float(v) for v in self.totals] if self.is_terminal() else [0.0, 0.0]

    def information_state(self, player: int) -> str:
        """The firm's own actions and observations so far (never the rival's pending move)."""
        pieces = [f"p{player}"]
        for t, seen in enumerate(self.observations[player][: self.quarter + 1]):
            pieces.append(seen.astype(np.float32).tobytes().hex())
            if t < len(self.actions[player]):
                pieces.append(str(self.actions[player][t]))
        return "|".join(pieces)

    def __str__(self) -> str:
        return f"quarter {self.quarter}: actions {self.actions}, pending {self.pending}"


class _InformationStateObserver:
    """The pyspiel observer: information-state strings only."""

    def __init__(self) -> None:
        self.tensor = np.zeros(0, np.float32)
        self.dict: dict[str, NDArray[np.float32]] = {}

    def set_from(self, state: LeptonDuelState, player: int) -> None:
        # no tensor to fill: OpenSpiel's algorithms here read string_from alone
        return None

    def string_from(self, state: LeptonDuelState, player: int) -> str:
        return state.information_state(player)


def _copy(action: Action) -> Action:
    return Action(
        moves=action.moves.copy(),
        marketing=action.marketing.copy(),
        localization=action.localization.copy(),
        compliance=action.compliance.copy(),
        rnd=action.rnd.copy(),
    )


class ProfilePolicy(openspiel_policy.Policy):
    """Our profile (pure strategies or mixtures per firm) as an OpenSpiel policy.

    A pure strategy is replayed on the firm's observation history; a mixture's members
    are weighted by their posterior given the firm's own past actions (behavioural
    strategy of the mixture, Kuhn 1953).
    """

    def __init__(self, game: LeptonDuelGame, profile: Profile) -> None:
        super().__init__(game, [0, 1])
        self.mixtures = [as_mixture(s) for s in profile]

    def action_probabilities(
        self, state: LeptonDuelState, player_id: int | None = None
    ) -> dict[int, float]:
        player = state.current_player() if player_id is None else player_id
        mixture = self.mixtures[player]
        legal = set(state.legal_actions(player))
        weights: dict[int, float] = {}
        for member, weight in zip(mixture.members, mixture.weights, strict=True):
            if weight <= 0:
                continue
            memory = member.start(1)
            likelihood = 1.0
            action = 0
            for t in range(state.quarter + 1):
                chosen, memory = member.act(
                    state.observations[player][t][None, :],
                    state.mask_history[player][t][None, :],
                    t,
                    memory,
                )
                action = int(chosen[0])
                if not state.mask_history[player][t][action]:
                    action = 0  # a masked action is a pass, as on the faces
                if t < state.quarter and action != state.actions[player][t]:
                    likelihood = 0.0
                    break
            if likelihood > 0:
                action = action if action in legal else 0
                weights[action] = weights.get(action, 0.0) + weight
        total = sum(weights.values())
        return {a: w / total for a, w in weights.items()}
