"""Heuristic baselines from international-business practice and theory.

Every baseline speaks the agent protocol (:class:`lepton_env.agents.players.protocol.Agent`):
``predict(observation, state, episode_start, deterministic, action_masks=None)``
returns a batch of actions for the face it was built for (MultiDiscrete,
Discrete or Continuous), ``learn`` does nothing, ``save``/``load`` keep its
few settings. A baseline reads the flat (or dict) observation through the
feature table of :mod:`lepton_env.observation` by feature name, and the valid
moves from ``action_masks=`` (what the evaluator passes) or, when built with
an env, from the env's ``action_masks()``.

Each policy decides, per region, a desired :class:`~lepton_env.types.Move`
and its priority; the face adapter then plays every valid desired move
(MultiDiscrete), the single most urgent one (Discrete: one move per
quarter), or encodes them as intensities (Continuous). The policies:

* :class:`RandomAgent`: uniformly random among the valid actions.
* :class:`HomeOnlyAgent`: never leaves home (the "no internationalization" floor).
* :class:`GreedyLargestMarketAgent`: enter the largest market not yet
  served, in the highest-control mode the firm can afford (market-seeking
  FDI, Dunning 1993), then market where revenue is largest.
* :class:`UppsalaAgent`: incremental internationalization (Johanson &
  Vahlne 1977): enter the psychically closest market first, by export pilot,
  one market at a time; deepen commitment pilot -> partnership -> subsidiary
  as the market share (experiential knowledge) grows.
* :class:`PilotThenScaleAgent`: segment the foreign regions with K-means on
  their traits, pilot the largest region of each segment, and scale (upgrade
  the pilot, enter the segment's other regions by partnership) where the
  pilot's quarterly contribution margin is positive (lean "test then
  scale" market entry; Ries 2011, and the pilot stage of the seeds' strategy).
* :class:`BornGlobalAgent`: enter many regions at once through local
  partners (Oviatt & McDougall 1994; Knight & Cavusgil 2004).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from lepton_env.envs.actions import CONTINUOUS_PER_REGION
from lepton_env.observation import FIRM_FEATURES, REGION_FEATURES
from lepton_env.params import Params
from lepton_env.types import NUM_MOVES, EntryMode, Move

REGION_INDEX = {feature.name: i for i, feature in enumerate(REGION_FEATURES)}
FIRM_INDEX = {feature.name: i for i, feature in enumerate(FIRM_FEATURES)}
MODE_COLUMNS = [REGION_INDEX[f"mode_{mode.name.lower()}"] for mode in EntryMode]
#: Continuous face: the centre of each entry move's bin of the ``entry`` component.
CONTINUOUS_ENTRY_VALUE = {
    Move.EXIT: -0.75,
    Move.HOLD: 0.0,
    Move.ENTER_PILOT: 0.3,
    Move.ENTER_PARTNERSHIP: 0.5,
    Move.ENTER_ACQUISITION: 0.7,
    Move.ENTER_GREENFIELD: 0.9,
}
ACTION_MODES = ("multi_discrete", "discrete", "continuous")


class ObservationView:
    """Named access to a batch of observations: ``region("firm_share")`` is (B, R)."""

    def __init__(self, observation: Any, num_regions: int) -> None:
        if isinstance(observation, dict):
            regions = np.asarray(observation["regions"], dtype=np.float64)
            firm = np.asarray(observation["firm"], dtype=np.float64)
            if regions.ndim == 2:
                regions, firm = regions[None], firm[None]
        else:
            flat = np.atleast_2d(np.asarray(observation, dtype=np.float64))
            width = num_regions * len(REGION_FEATURES) + len(FIRM_FEATURES)
            if flat.shape[1] != width:
                raise ValueError(
                    f"observation has {flat.shape[1]} features, expected {width} for "
                    f"{num_regions} regions (R * {len(REGION_FEATURES)} + {len(FIRM_FEATURES)})"
                )
            split = num_regions * len(REGION_FEATURES)
            regions = flat[:, :split].reshape(flat.shape[0], num_regions, len(REGION_FEATURES))
            firm = flat[:, split:]
        self.regions = regions  # (B, R, F_region)
        self.firm = firm  # (B, F_firm)

    @property
    def batch_size(self) -> int:
        return int(self.regions.shape[0])

    def region(self, name: str) -> NDArray[np.float64]:
        """Feature ``name`` of every region, (B, R)."""
        return self.regions[..., REGION_INDEX[name]]

    def firm_feature(self, name: str) -> NDArray[np.float64]:
        """Firm feature ``name``, (B,)."""
        return self.firm[:, FIRM_INDEX[name]]

    @property
    def entry_mode(self) -> NDArray[np.int64]:
        """The :class:`EntryMode` held in each region, (B, R)."""
        return np.argmax(self.regions[..., MODE_COLUMNS], axis=-1)


@dataclass(frozen=True)
class Intent:
    """What a policy wants this quarter: a move per region, its urgency, an R&D level."""

    moves: NDArray[np.int64]  # (B, R) Move
    priority: NDArray[np.float64]  # (B, R) higher first; only one move is played on Discrete
    rnd_level: NDArray[np.int64]  # (B,) R&D level index, -1 keeps the current one


class HeuristicAgent:
    """A rule-based policy over the agent protocol, for any action face.

    Build it with an env (a ``gymnasium.Env`` or an SB3 ``VecEnv`` of the
    expansion env), or with ``params`` and ``action_mode``. Settings are the
    subclass's dataclass-like keyword arguments (``SETTINGS``).
    """

    SETTINGS: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        env: Any = None,
        *,
        params: Params | None = None,
        action_mode: str | None = None,
        **settings: Any,
    ) -> None:
        unknown = sorted(set(settings) - set(self.SETTINGS))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unknown settings {unknown}; "
                f"allowed: {sorted(self.SETTINGS)}"
            )
        self.settings = {**self.SETTINGS, **settings}
        self.env = env
        if env is not None:
            params = params or _env_params(env)
            action_mode = action_mode or _action_mode(env.action_space)
        if params is None or action_mode is None:
            raise ValueError(f"{type(self).__name__} needs an env, or both params and action_mode")
        if action_mode not in ACTION_MODES:
            raise ValueError(f"action_mode = {action_mode!r}: allowed {list(ACTION_MODES)}")
        self.params = params
        self.action_mode = action_mode
        self.foreign = np.arange(params.num_regions) != params.home_region

    # ------------------------------------------------------------ protocol
    def predict(
        self,
        observation: Any,
        state: tuple[NDArray[Any], ...] | None = None,
        episode_start: NDArray[np.bool_] | None = None,
        deterministic: bool = True,
        action_masks: NDArray[np.bool_] | None = None,
        **kwargs: Any,
    ) -> tuple[NDArray[Any], tuple[NDArray[Any], ...] | None]:
        """Actions for a batch of observations; the rules are deterministic."""
        view = ObservationView(observation, self.params.num_regions)
        masks = self._masks(action_masks, view.batch_size)
        valid = self._valid_moves(masks)
        intent = self.intent(view, valid)
        return self._encode(intent, valid, masks, view), state

    def learn(self, total_timesteps: int = 0, callback: Any = None, **kwargs: Any) -> Any:
        """Heuristics do not learn; returns self so ``learn`` chains as in SB3."""
        return self

    def save(self, path: str | Path) -> None:
        """Write the class name, the action mode and the settings as JSON."""
        record = {
            "class": type(self).__name__,
            "action_mode": self.action_mode,
            "settings": self.settings,
        }
        Path(path).write_text(json.dumps(record, indent=2))

    @classmethod
    def load(
        cls, path: str | Path, env: Any = None, params: Params | None = None, **kwargs: Any
    ) -> HeuristicAgent:
        """Read an agent written by :meth:`save`; it needs the env (or params) again."""
        record = json.loads(Path(path).read_text())
        agent_cls = BASELINES.get(record["class"])
        if agent_cls is None or not issubclass(agent_cls, cls):
            raise ValueError(f"{path} holds a {record['class']}, not a {cls.__name__}")
        return agent_cls(
            env,
            params=params,
            action_mode=None if env is not None else record["action_mode"],
            **record["settings"],
        )

    # ------------------------------------------------------------ policy
    def intent(self, view: ObservationView, valid: NDArray[np.bool_]) -> Intent:
        """The moves this policy wants; subclasses implement it."""
        raise NotImplementedError

    def hold(self, view: ObservationView) -> Intent:
        """Nothing anywhere, R&D unchanged."""
        shape = (view.batch_size, self.params.num_regions)
        return Intent(
            moves=np.zeros(shape, dtype=np.int64),
            priority=np.zeros(shape),
            rnd_level=np.full(view.batch_size, -1, dtype=np.int64),
        )

    def pilot_ceiling(self, view: ObservationView) -> NDArray[np.float64]:
        """The export pilot's share ceiling per region (lower under data localization), (B, R)."""
        p = self.params
        local_rule = view.region("data_localization") > 0.5
        return np.where(
            local_rule, p.data_localization_pilot_ceiling, p.share_ceiling[EntryMode.PILOT]
        )

    def cash(self, view: ObservationView) -> NDArray[np.float64]:
        """Cash in $M, inverted from the feature ``asinh(cash / reward_scale) / 2``, (B,)."""
        return np.sinh(2.0 * view.firm_feature("cash")) * self.params.reward_scale

    def market_potential(self, view: ObservationView) -> NDArray[np.float64]:
        """$M per quarter, from ``log_potential = ln(M_r / M_home(0)) / 2`` (B, R).

        ``M_home(0)`` is taken from the scenario's nominal home potential (the
        per-episode market-size noise is not observed).
        """
        home = self.params.market_potential[self.params.home_region]
        return np.exp(2.0 * view.region("log_potential")) * home

    # ------------------------------------------------------------ faces
    def _masks(self, action_masks: NDArray[np.bool_] | None, batch: int) -> NDArray[np.bool_]:
        if action_masks is None:
            if self.env is None:
                raise ValueError(
                    f"{type(self).__name__}.predict needs action_masks= or an env to ask for them"
                )
            if hasattr(self.env, "env_method"):
                action_masks = np.stack(self.env.env_method("action_masks"))
            else:
                action_masks = np.asarray(self.env.unwrapped.action_masks())
        masks = np.asarray(action_masks, dtype=bool).reshape(batch, -1)
        expected = self.params.num_regions * NUM_MOVES + self.params.rnd_levels
        if masks.shape[1] != expected:
            raise ValueError(f"action_masks has {masks.shape[1]} entries, expected {expected}")
        return masks

    def _valid_moves(self, masks: NDArray[np.bool_]) -> NDArray[np.bool_]:
        regions = self.params.num_regions
        valid = masks[:, : regions * NUM_MOVES].reshape(-1, regions, NUM_MOVES).copy()
        valid[..., Move.HOLD] = True
        return valid

    def _encode(
        self,
        intent: Intent,
        valid: NDArray[np.bool_],
        masks: NDArray[np.bool_],
        view: ObservationView,
    ) -> NDArray[Any]:
        p = self.params
        moves = np.where(
            np.take_along_axis(valid, intent.moves[..., None], -1)[..., 0], intent.moves, Move.HOLD
        )
        batch = moves.shape[0]
        current_level = np.rint(view.firm_feature("rnd") * (p.rnd_levels - 1)).astype(np.int64)
        level = np.where(intent.rnd_level >= 0, intent.rnd_level, current_level)
        if self.action_mode == "multi_discrete":
            return np.concatenate([moves, level[:, None]], axis=1).astype(np.int64)
        if self.action_mode == "discrete":
            urgency = np.where(moves != Move.HOLD, intent.priority, -np.inf)
            region = np.argmax(urgency, axis=1)
            rows = np.arange(batch)
            chosen = region * NUM_MOVES + moves[rows, region]
            level_action = p.num_regions * NUM_MOVES + level
            level_ok = masks[rows, level_action] & (level != current_level)
            fallback = np.where(level_ok, level_action, 0)
            return np.where(np.isfinite(urgency[rows, region]), chosen, fallback).astype(np.int64)
        action = np.full((batch, p.num_regions, CONTINUOUS_PER_REGION), -1.0, dtype=np.float32)
        action[..., 0] = 0.0
        for move, value in CONTINUOUS_ENTRY_VALUE.items():
            action[..., 0] = np.where(moves == move, value, action[..., 0])
        for column, move in enumerate((Move.MARKETING, Move.LOCALIZE, Move.COMPLY), start=1):
            action[..., column] = np.where(moves == move, 1.0, -1.0)
        action[..., 4] = np.where(moves == Move.DILIGENCE, 1.0, -1.0)
        # the Continuous face can keep any R&D intensity exactly; the others snap to a level
        kept = 2.0 * view.firm_feature("rnd") - 1.0
        rnd = np.where(intent.rnd_level >= 0, 2.0 * level / max(p.rnd_levels - 1, 1) - 1.0, kept)
        return np.concatenate([action.reshape(batch, -1), rnd[:, None]], axis=1).astype(np.float32)


def _env_params(env: Any) -> Params:
    if hasattr(env, "get_attr"):
        params: Params = env.get_attr("params", [0])[0]
        return params
    unwrapped_params: Params = env.unwrapped.params
    return unwrapped_params


def _action_mode(space: spaces.Space[Any]) -> str:
    if isinstance(space, spaces.MultiDiscrete):
        return "multi_discrete"
    if isinstance(space, spaces.Discrete):
        return "discrete"
    if isinstance(space, spaces.Box):
        return "continuous"
    raise ValueError(f"action space {space} is not one of the expansion env's faces")


# ---------------------------------------------------------------------- policies
class RandomAgent(HeuristicAgent):
    """Uniformly random among the valid actions of the face (``seed`` fixes the draws).

    Discrete: uniform over the mask. MultiDiscrete: each region's move uniform
    over its valid moves, R&D level uniform. Continuous: a valid move per
    region encoded in its bin, R&D intensity uniform. Random even when
    ``deterministic=True``: it is the random policy.
    """

    SETTINGS: ClassVar[dict[str, Any]] = {"seed": 0}

    def __init__(self, env: Any = None, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        self.generator = np.random.default_rng(self.settings["seed"])

    def predict(
        self,
        observation: Any,
        state: tuple[NDArray[Any], ...] | None = None,
        episode_start: NDArray[np.bool_] | None = None,
        deterministic: bool = True,
        action_masks: NDArray[np.bool_] | None = None,
        **kwargs: Any,
    ) -> tuple[NDArray[Any], tuple[NDArray[Any], ...] | None]:
        view = ObservationView(observation, self.params.num_regions)
        masks = self._masks(action_masks, view.batch_size)
        if self.action_mode == "discrete":
            return _uniform_choice(masks, self.generator), state
        valid = self._valid_moves(masks)
        moves = _uniform_choice(valid.reshape(-1, NUM_MOVES), self.generator).reshape(
            valid.shape[:2]
        )
        levels = self.generator.integers(0, self.params.rnd_levels, size=view.batch_size)
        intent = Intent(moves=moves, priority=np.zeros(moves.shape), rnd_level=levels)
        return self._encode(intent, valid, masks, view), state


def _uniform_choice(masks: NDArray[np.bool_], generator: np.random.Generator) -> NDArray[np.int64]:
    """One index per row, uniform over the row's True entries (every row has one)."""
    scores = np.where(masks, generator.random(masks.shape), -1.0)
    return np.argmax(scores, axis=1).astype(np.int64)


class HomeOnlyAgent(HeuristicAgent):
    """Serve the home market only: hold everywhere, R&D unchanged."""

    def intent(self, view: ObservationView, valid: NDArray[np.bool_]) -> Intent:
        return self.hold(view)


class GreedyLargestMarketAgent(HeuristicAgent):
    """Enter the largest unserved foreign market in the highest-control mode it can fund.

    Market-seeking expansion (Dunning 1993): each quarter the largest foreign
    region not yet entered (by ``log_potential``) is entered in the first mode
    of ``mode_preference`` (greenfield, partnership, pilot by default) that is
    valid and funded from cash: entry cost ``F_m + c_m M_r`` plus
    ``reserve_quarters`` quarters of its operating cost ``f_m + o_m M_r`` must
    not exceed the cash in hand (credit is not counted). With nothing to
    enter, it markets where its revenue is largest.
    """

    SETTINGS: ClassVar[dict[str, Any]] = {
        "mode_preference": [
            int(Move.ENTER_GREENFIELD),
            int(Move.ENTER_PARTNERSHIP),
            int(Move.ENTER_PILOT),
        ],
        "reserve_quarters": 4,
    }

    def intent(self, view: ObservationView, valid: NDArray[np.bool_]) -> Intent:
        intent = self.hold(view)
        absent = (view.entry_mode == EntryMode.NONE) & self.foreign
        size = view.region("log_potential")
        cash = self.cash(view)[:, None]
        entry = np.full(absent.shape, Move.HOLD, dtype=np.int64)
        for move in reversed(self.settings["mode_preference"]):
            funded = self.commitment_cost(view, move) <= cash
            entry = np.where(valid[..., move] & funded, move, entry)
        target = _argmax_where(size, absent)
        rows = np.flatnonzero(target >= 0)
        rows = rows[entry[rows, target[rows]] != Move.HOLD]
        intent.moves[rows, target[rows]] = entry[rows, target[rows]]
        intent.priority[rows, target[rows]] = 2.0
        idle = np.setdiff1d(np.flatnonzero(cash[:, 0] > 0), rows)
        _market_best(intent, view, valid, idle)
        return intent

    def commitment_cost(self, view: ObservationView, move: int) -> NDArray[np.float64]:
        """Entry cost plus ``reserve_quarters`` of operating cost of a mode, $M (B, R).

        An acquisition's price also depends on the target's share, which is not
        observed; the entry-cost part of its price is used.
        """
        p = self.params
        potential = self.market_potential(view)
        entry_cost = p.entry_cost_fixed[move] + p.entry_cost_market[move] * potential
        running = p.operating_cost_fixed[move] + p.operating_cost_market[move] * potential
        return np.asarray(entry_cost + self.settings["reserve_quarters"] * running)


def _argmax_where(values: NDArray[np.float64], allowed: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Per row, the index of the largest allowed value, -1 where none is allowed."""
    best = np.argmax(np.where(allowed, values, -np.inf), axis=1)
    return np.where(allowed.any(axis=1), best, -1).astype(np.int64)


def _market_best(
    intent: Intent, view: ObservationView, valid: NDArray[np.bool_], rows: NDArray[np.intp]
) -> None:
    """In ``rows``, market in the region with the largest revenue (lowest priority)."""
    target = _argmax_where(view.region("revenue"), valid[..., Move.MARKETING])
    rows = rows[target[rows] >= 0]
    free = intent.moves[rows, target[rows]] == Move.HOLD
    rows = rows[free]
    intent.moves[rows, target[rows]] = Move.MARKETING
    intent.priority[rows, target[rows]] = 0.5


class UppsalaAgent(HeuristicAgent):
    """Incremental internationalization (Johanson & Vahlne 1977, 2009).

    The establishment chain: markets are entered in order of psychic
    distance, closest first, by an export pilot, and a new market is entered
    only when no other market is still at the pilot stage (one market is
    learned at a time). Commitment deepens with experiential knowledge, read
    here as market share: a pilot whose share reached ``upgrade_fraction`` of
    the pilot's ceiling becomes a partnership, a partnership with share above
    ``subsidiary_share`` becomes a greenfield subsidiary. Upgrades go first.
    Entries and upgrades wait while headroom is below ``min_headroom``.
    """

    SETTINGS: ClassVar[dict[str, Any]] = {
        "upgrade_fraction": 0.8,
        "subsidiary_share": 0.15,
        "min_headroom": 0.3,
    }

    def intent(self, view: ObservationView, valid: NDArray[np.bool_]) -> Intent:
        intent = self.hold(view)
        mode = view.entry_mode
        share = view.region("firm_share")
        cash_ok = (view.firm_feature("headroom") > self.settings["min_headroom"])[:, None]
        pilot_ready = (
            (mode == EntryMode.PILOT)
            & (share >= self.settings["upgrade_fraction"] * self.pilot_ceiling(view))
            & valid[..., Move.ENTER_PARTNERSHIP]
        )
        partner_ready = (
            (mode == EntryMode.PARTNERSHIP)
            & (share >= self.settings["subsidiary_share"])
            & valid[..., Move.ENTER_GREENFIELD]
            & (view.region("build_left") == 0)
        )
        upgrade = np.where(pilot_ready, Move.ENTER_PARTNERSHIP, Move.HOLD)
        upgrade = np.where(partner_ready, Move.ENTER_GREENFIELD, upgrade)
        upgrade = np.where(cash_ok, upgrade, Move.HOLD)
        intent.moves[:] = upgrade
        intent.priority[:] = np.where(upgrade != Move.HOLD, 2.0 - share, 0.0)
        learning = ((mode == EntryMode.PILOT) & self.foreign).any(axis=1)
        absent = (mode == EntryMode.NONE) & self.foreign & valid[..., Move.ENTER_PILOT]
        target = _argmax_where(-view.region("distance"), absent)
        rows = np.flatnonzero((target >= 0) & ~learning & cash_ok[:, 0])
        intent.moves[rows, target[rows]] = Move.ENTER_PILOT
        intent.priority[rows, target[rows]] = 1.0
        return intent


class PilotThenScaleAgent(HeuristicAgent):
    """Segment, pilot one region per segment, scale where the pilot pays.

    Foreign regions are clustered by K-means (scikit-learn, ``n_segments``
    clusters, fixed seed) on their standardized traits: ``log_potential``,
    ``growth``, ``distance``, ``stringency``, ``data_localization``,
    ``geopolitical_risk``, ``fdi_screening``. The largest region of each
    segment is piloted (largest segments' pilots first, one entry a
    quarter). A pilot pays when its quarterly contribution is positive:
    ``revenue_r (1 - v) - (f_pilot + o_pilot M_r) > 0`` with ``v`` the
    variable cost rate and the operating costs of the pilot mode. A paying
    pilot is scaled up to ``scale_mode`` and the other regions of its
    segment are entered by partnership.
    """

    SETTINGS: ClassVar[dict[str, Any]] = {
        "n_segments": 3,
        "scale_mode": int(Move.ENTER_PARTNERSHIP),
        "min_headroom": 0.3,
        "seed": 0,
    }
    TRAITS = (
        "log_potential",
        "growth",
        "distance",
        "stringency",
        "data_localization",
        "geopolitical_risk",
        "fdi_screening",
    )

    def __init__(self, env: Any = None, **kwargs: Any) -> None:
        super().__init__(env, **kwargs)
        if int(self.settings["n_segments"]) < 1:
            raise ValueError(f"n_segments = {self.settings['n_segments']}: allowed >= 1")
        # K-means with a fixed seed is a function of the traits: fit each distinct world once
        self._segments_of: dict[bytes, NDArray[np.int64]] = {}

    def segments(self, traits: NDArray[np.float64]) -> NDArray[np.int64]:
        """Segment label of every region (-1 for home) from one env's traits (R, T)."""
        key = np.ascontiguousarray(traits, dtype=np.float64).tobytes()
        if key not in self._segments_of:
            self._segments_of[key] = self._fit_segments(traits)
        return self._segments_of[key].copy()

    def _fit_segments(self, traits: NDArray[np.float64]) -> NDArray[np.int64]:
        from sklearn.cluster import KMeans

        foreign = np.flatnonzero(self.foreign)
        data = traits[foreign]
        spread = data.std(axis=0)
        scaled = (data - data.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
        clusters = min(int(self.settings["n_segments"]), len(np.unique(scaled, axis=0)))
        labels = np.full(self.params.num_regions, -1, dtype=np.int64)
        fit = KMeans(n_clusters=clusters, n_init=10, random_state=self.settings["seed"])
        labels[foreign] = fit.fit_predict(scaled)
        return labels

    def predict(
        self,
        observation: Any,
        state: tuple[NDArray[Any], ...] | None = None,
        episode_start: NDArray[np.bool_] | None = None,
        deterministic: bool = True,
        action_masks: NDArray[np.bool_] | None = None,
        **kwargs: Any,
    ) -> tuple[NDArray[Any], tuple[NDArray[Any], ...] | None]:
        """Actions; the segments are fitted at an episode's start and carried in ``state``.

        ``state`` is ``(labels,)`` with ``labels`` (B, R) the segment of each
        region, as a recurrent policy's state: pass back what ``predict``
        returned, with ``episode_start`` marking new episodes.
        """
        view = ObservationView(observation, self.params.num_regions)
        masks = self._masks(action_masks, view.batch_size)
        valid = self._valid_moves(masks)
        if state is None:
            labels = np.full((view.batch_size, self.params.num_regions), -2, dtype=np.int64)
        else:
            labels = np.asarray(state[0], dtype=np.int64).copy()
        fresh = labels[:, 0] == -2
        if episode_start is not None:
            fresh |= np.asarray(episode_start, dtype=bool).reshape(-1)
        traits = np.stack([view.region(name) for name in self.TRAITS], axis=-1)
        for row in np.flatnonzero(fresh):
            labels[row] = self.segments(traits[row])
        intent = self.scale_intent(view, valid, labels)
        return self._encode(intent, valid, masks, view), (labels,)

    def pays(self, view: ObservationView) -> NDArray[np.bool_]:
        """Whether a pilot's quarterly contribution margin is positive, (B, R)."""
        p = self.params
        revenue = view.region("revenue") * p.reward_scale
        cost = p.operating_cost_fixed[EntryMode.PILOT] + p.operating_cost_market[
            EntryMode.PILOT
        ] * self.market_potential(view)
        return np.asarray(revenue * (1.0 - p.variable_cost_rate) - cost > 0)

    def intent(self, view: ObservationView, valid: NDArray[np.bool_]) -> Intent:
        """Segments fitted on this observation (use :meth:`predict` to fit once an episode)."""
        traits = np.stack([view.region(name) for name in self.TRAITS], axis=-1)
        labels = np.stack([self.segments(row) for row in traits])
        return self.scale_intent(view, valid, labels)

    def scale_intent(
        self, view: ObservationView, valid: NDArray[np.bool_], labels: NDArray[np.int64]
    ) -> Intent:
        """Pilot each segment's largest region; scale the segments whose pilot pays."""
        intent = self.hold(view)
        mode = view.entry_mode
        size = view.region("log_potential")
        pays = self.pays(view)
        cash_ok = view.firm_feature("headroom") > self.settings["min_headroom"]
        scale_move = int(self.settings["scale_mode"])
        for row in np.flatnonzero(cash_ok):
            for segment in np.unique(labels[row][labels[row] >= 0]):
                members = np.flatnonzero(labels[row] == segment)
                pilot = members[np.argmax(size[row, members])]
                if mode[row, pilot] == EntryMode.NONE:
                    if valid[row, pilot, Move.ENTER_PILOT]:
                        intent.moves[row, pilot] = Move.ENTER_PILOT
                        intent.priority[row, pilot] = 1.0 + size[row, pilot]
                    continue
                if mode[row, pilot] == EntryMode.PILOT:
                    if pays[row, pilot] and valid[row, pilot, scale_move]:
                        intent.moves[row, pilot] = scale_move
                        intent.priority[row, pilot] = 3.0
                    continue
                for member in members:
                    if (
                        mode[row, member] == EntryMode.NONE
                        and valid[row, member, Move.ENTER_PARTNERSHIP]
                    ):
                        intent.moves[row, member] = Move.ENTER_PARTNERSHIP
                        intent.priority[row, member] = 2.0 + size[row, member]
        return intent


class BornGlobalAgent(HeuristicAgent):
    """Enter many regions fast through local partners (Oviatt & McDougall 1994).

    Each quarter, up to ``entries_per_quarter`` foreign regions not yet
    served are entered by partnership, largest first (an existing pilot is
    upgraded to partnership the same way); with every region entered, it
    markets where its revenue is largest. Entries wait while headroom is
    below ``min_headroom``.
    """

    SETTINGS: ClassVar[dict[str, Any]] = {"entries_per_quarter": 3, "min_headroom": 0.2}

    def intent(self, view: ObservationView, valid: NDArray[np.bool_]) -> Intent:
        intent = self.hold(view)
        mode = view.entry_mode
        size = view.region("log_potential")
        wanted = (mode < EntryMode.PARTNERSHIP) & self.foreign & valid[..., Move.ENTER_PARTNERSHIP]
        cash_ok = view.firm_feature("headroom") > self.settings["min_headroom"]
        wanted &= cash_ok[:, None]
        order = np.argsort(np.where(wanted, -size, np.inf), axis=1, kind="stable")
        rank = np.argsort(order, axis=1, kind="stable")
        chosen = wanted & (rank < int(self.settings["entries_per_quarter"]))
        intent.moves[chosen] = Move.ENTER_PARTNERSHIP
        intent.priority[:] = np.where(chosen, 2.0 + size, 0.0)
        idle = np.flatnonzero(~chosen.any(axis=1) & cash_ok)
        _market_best(intent, view, valid, idle)
        return intent


BASELINES: dict[str, type[HeuristicAgent]] = {
    cls.__name__: cls
    for cls in (
        RandomAgent,
        HomeOnlyAgent,
        GreedyLargestMarketAgent,
        UppsalaAgent,
        PilotThenScaleAgent,
        BornGlobalAgent,
    )
}
