"""The exact oracle of a deterministic scenario: every valid action sequence, enumerated.

For the Single face (``LeptonExpansion-Single-v0``, ``Discrete(10 R + L)``) of
a deterministic scenario such as ``toy``, the optimal return is
``max over a_0..a_{T-1} of sum_t r_t``. The enumeration grows the tree of
action sequences one quarter at a time in a single batched
:meth:`lepton_env.core.Model.step` per depth: every node of the frontier is
expanded only into the actions its mask allows. That loses nothing: on the
Single face a masked action is a no-op, exactly like the always-valid "pass"
(action 0), so the masked actions reach every outcome any sequence can reach.
Bankrupt nodes are leaves (the episode terminates there).

With the branching recorded, the same tree also gives the exact expected
return of the uniformly random valid-move policy, ``sum_leaf prod_t
1/|valid_t| * G_leaf``: the ``0`` of the normalized score.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env import rng
from lepton_env.core import Model
from lepton_env.envs.actions import DiscreteActions
from lepton_env.params import Params
from lepton_env.scenarios import make_params

#: Largest frontier the enumeration accepts before refusing (memory guard).
MAX_FRONTIER = 5_000_000


class NotDeterministicError(ValueError):
    """The scenario draws random numbers, so one enumerated path is no plan."""


@dataclass(frozen=True)
class OracleResult:
    """The optimum of one episode (and the random policy's exact expectation)."""

    optimal_return: float
    plan: tuple[int, ...]  # Single-face actions, one per quarter
    random_return: float  # expected return of the uniformly random valid-move policy
    leaves: int  # complete action sequences enumerated
    nodes: int  # model steps taken


def _is_deterministic(params: Params) -> list[str]:
    rates = {
        "trait_noise": params.trait_noise,
        "competitor_noise": params.competitor_noise,
        "partner_quality_spread": params.partner_quality_spread,
        "diligence_noise": params.diligence_noise,
        "partner_failure_rate": params.partner_failure_rate,
        "enforcement_base_hazard": params.enforcement_base_hazard,
        "enforcement_gap_hazard": params.enforcement_gap_hazard,
        "regulatory_shock_rate": params.regulatory_shock_rate,
        "geopolitical_risk": params.geopolitical_risk,
        "fdi_screening": params.fdi_screening,
        "market_fit": params.fit_prior_sd + params.fit_prior_sd_distance,
    }
    return [name for name, value in rates.items() if np.any(np.asarray(value) != 0)]


def solve(
    scenario: str | Params = "toy",
    seed: int = 0,
    model: Model | None = None,
    check_deterministic: bool = True,
    **overrides: Any,
) -> OracleResult:
    """Enumerate every valid Single-face action sequence of the episode ``reset(seed=seed)``.

    ``overrides`` are Params fields (e.g. ``horizon=3``). Raises ``ValueError``
    if the scenario has randomness (the optimum of one sampled path would not
    be a plan) or if the tree would exceed ``MAX_FRONTIER`` nodes.
    """
    model = model or Model(make_params(scenario, **overrides))
    params = model.params
    random_parts = _is_deterministic(params)
    if check_deterministic and random_parts:
        raise NotDeterministicError(
            f"the oracle needs a deterministic scenario; these must be 0: {random_parts}"
        )
    codec = DiscreteActions(params)
    state = model.reset(rng.episode_key(np.array([seed]), params.seed_offset))
    # Per frontier node: the return so far, the probability of its path under the
    # uniform random policy, and its action history (a (N, depth) matrix).
    returns = np.zeros(1)
    probability = np.ones(1)
    history = np.zeros((1, 0), dtype=np.int64)
    leaf_returns: list[NDArray[np.float64]] = []
    leaf_probability: list[NDArray[np.float64]] = []
    leaf_history: list[NDArray[np.int64]] = []
    nodes = 0
    for _ in range(params.horizon):
        masks = codec.masks(model.valid_moves(state), state.rnd_intensity)
        parent, action = np.nonzero(masks)
        if parent.size > MAX_FRONTIER:
            raise ValueError(
                f"the enumeration frontier has {parent.size} nodes, above MAX_FRONTIER = "
                f"{MAX_FRONTIER}: use a smaller horizon or scenario"
            )
        output = model.step(state.take(parent), codec.decode(action.astype(np.int64)))
        nodes += parent.size
        returns = returns[parent] + output.reward
        probability = probability[parent] / masks.sum(axis=1)[parent]
        history = np.concatenate([history[parent], action[:, None]], axis=1)
        done = output.terminated | output.truncated
        if done.any():
            leaf_returns.append(returns[done])
            leaf_probability.append(probability[done])
            leaf_history.append(_pad(history[done], params.horizon))
        alive = np.flatnonzero(~done)
        if alive.size == 0:
            break
        state = output.state.take(alive)
        returns, probability, history = returns[alive], probability[alive], history[alive]
    all_returns = np.concatenate(leaf_returns)
    all_probability = np.concatenate(leaf_probability)
    best = int(np.argmax(all_returns))
    plan_row = np.concatenate(leaf_history)[best]
    return OracleResult(
        optimal_return=float(all_returns[best]),
        plan=tuple(int(a) for a in plan_row if a >= 0),
        random_return=float(np.sum(all_probability * all_returns)),
        leaves=int(all_returns.size),
        nodes=nodes,
    )


def _pad(history: NDArray[np.int64], horizon: int) -> NDArray[np.int64]:
    """Histories of episodes that ended early, padded with -1 to the horizon."""
    missing = horizon - history.shape[1]
    return np.pad(history, ((0, 0), (0, missing)), constant_values=-1)


class OracleAgent:
    """Plays the oracle's plan through the agent protocol (Single face, deterministic scenario).

    The plan is open-loop: the quarter is read from the observation's ``time``
    feature, so the agent replays the optimal action of that quarter.
    """

    def __init__(self, scenario: str | Params = "toy", seed: int = 0, **overrides: Any) -> None:
        from lepton_env.observation import FIRM_FEATURES, REGION_FEATURES

        self.params = make_params(scenario, **overrides)
        self.result = solve(self.params, seed=seed)
        self._time_column = self.params.num_regions * len(REGION_FEATURES) + [
            f.name for f in FIRM_FEATURES
        ].index("time")

    def predict(
        self,
        observation: NDArray[np.floating],
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        **kwargs: Any,
    ) -> tuple[NDArray[np.int64], None]:
        """The plan's action for the quarter of each observation."""
        batch = np.atleast_2d(np.asarray(observation))
        quarter = np.rint(batch[:, self._time_column] * self.params.horizon).astype(int)
        plan = np.asarray(self.result.plan, dtype=np.int64)
        # after the plan ends (never on a deterministic replay) pass with action 0
        actions = np.where(quarter < plan.size, plan[np.minimum(quarter, plan.size - 1)], 0)
        return actions.astype(np.int64), None

    def learn(self, total_timesteps: int, callback: Any = None, **kwargs: Any) -> OracleAgent:
        """Nothing to learn: the plan is exact."""
        return self


# ---------------------------------------------------------------------- Bayes-optimal
@dataclass(frozen=True)
class _Chain:
    """One uncertain region's beliefs ``P(fit = high)`` reachable from 1/2, and their moves."""

    low: float  # mu - sigma, as the kernel stores it
    high: float  # mu + sigma
    beliefs: NDArray[np.float64]  # (B,) the reachable beliefs, 1/2 first
    transition: NDArray[np.float64]  # (T, B, B) P(belief j next | belief i, precision k)
    outcomes: dict[tuple[int, int], list[tuple[float, int]]]  # (k, i) -> [(signal, j)]


@dataclass(frozen=True)
class BayesPolicy:
    """The Bayes-optimal policy as tables over the tree of action sequences.

    Per quarter ``t``: ``best[t]`` (N_t, B_1, ..., B_U) the optimal Single-face action at
    each node and belief; ``child[t]`` maps ``node * A + action`` to the node it leads to at
    ``t + 1`` (-1: the episode ends); ``tau[t]`` (N_t * A, U) the index into ``precisions``
    of the signal each uncertain region then sends.
    """

    regions: NDArray[np.intp]  # (U,) the uncertain regions
    precisions: tuple[float, ...]  # the signal precisions, 0 first
    chains: tuple[_Chain, ...]
    best: tuple[NDArray[np.int64], ...]
    child: tuple[NDArray[np.int64], ...]
    tau: tuple[NDArray[np.int64], ...]
    actions: int  # A, the Single face's action count


@dataclass(frozen=True)
class BayesResult:
    """The exact values of a scenario with a hidden two-point fit (``toy_pilot``)."""

    bayes_return: float  # E[return] of the Bayes-optimal (history-dependent) policy
    clairvoyant_return: float  # E over fits of the optimum knowing the fit: an upper bound
    open_loop_return: float  # best single plan for all fits (no learning used)
    random_return: float  # E[return] of the uniformly random valid-move policy
    first_action: int  # the Bayes-optimal action at quarter 0
    worlds: int  # fit vectors enumerated
    nodes: int  # model steps taken (all worlds)
    policy: BayesPolicy = dataclasses.field(repr=False, compare=False)

    @property
    def optimal_return(self) -> float:
        """The oracle's value, as the evaluation reports read it: :attr:`bayes_return`."""
        return self.bayes_return

    @property
    def plan(self) -> tuple[int, ...]:
        """The policy depends on the signals: only its first action is a plan."""
        return (self.first_action,)


@dataclass(frozen=True)
class _FitWorlds:
    """The fit vectors of a two-point prior: every combination of ``mu +- sigma_u`` over the
    uncertain regions ``u``, each with probability ``2^-U``."""

    regions: NDArray[np.intp]  # (U,) region indices with an uncertain fit
    low: NDArray[np.float64]  # (U,) mu - sigma_u as the kernel stores it (float32)
    high: NDArray[np.float64]  # (U,)
    fits: NDArray[np.float32]  # (W, R) market_fit of each world, W = 2^U, the first region
    # of ``regions`` the most significant bit (``itertools.product`` order)


def _fit_worlds(params: Params, state: Any) -> _FitWorlds:
    import itertools

    from lepton_env.mechanisms import fit

    sd: NDArray[np.float64] = np.asarray(
        fit.prior_sd(
            params.fit_prior_sd,
            params.fit_prior_sd_distance,
            state.psychic_distance[0].astype(float),
        ),
        dtype=np.float64,
    )
    foreign = np.arange(params.num_regions) != params.home_region
    regions = np.flatnonzero(foreign & (sd > 0))
    mean = params.fit_prior_mean
    low = np.asarray(mean - sd[regions], dtype=np.float32).astype(np.float64)
    high = np.asarray(mean + sd[regions], dtype=np.float32).astype(np.float64)
    fits = np.repeat(state.market_fit[:1], 2**regions.size, axis=0)
    for w, bits in enumerate(itertools.product((0, 1), repeat=regions.size)):
        for u, bit in enumerate(bits):
            fits[w, regions[u]] = high[u] if bit else low[u]
    return _FitWorlds(regions, low, high, fits)


def _signal_outcomes(low: float, high: float, precision: float) -> list[tuple[float, float, float]]:
    """The two-point signal ``fit +- precision^(-1/2)`` as the kernel draws it: each distinct
    value ``y`` with its likelihood under the low and the high fit, ``(y, L_low, L_high)``."""
    if precision == 0.0:
        return [(np.nan, 1.0, 1.0)]
    step = 1.0 / np.sqrt(precision)
    likelihood: dict[float, list[float]] = {}
    for which, value in ((0, low), (1, high)):
        for sign in (-1.0, 1.0):
            likelihood.setdefault(value + sign * step, [0.0, 0.0])[which] += 0.5
    return [(y, lo, hi) for y, (lo, hi) in likelihood.items()]


def _belief_chain(low: float, high: float, precisions: tuple[float, ...]) -> _Chain:
    """The beliefs ``P(fit = high)`` reachable from 1/2 by the signals of ``precisions`` and
    their transitions: Bayes' rule ``b' = b L_high / ((1 - b) L_low + b L_high)``."""
    beliefs = [0.5]
    outcomes: dict[tuple[int, int], list[tuple[float, int]]] = {}
    chances: dict[tuple[int, int], list[float]] = {}
    frontier = [0]
    while frontier:
        i = frontier.pop()
        for k, precision in enumerate(precisions):
            moves, weights = [], []
            for y, l_low, l_high in _signal_outcomes(low, high, precision):
                chance = (1 - beliefs[i]) * l_low + beliefs[i] * l_high
                if chance == 0.0:
                    continue
                posterior = beliefs[i] * l_high / chance
                match = [j for j, b in enumerate(beliefs) if abs(b - posterior) < 1e-12]
                if not match:
                    beliefs.append(posterior)
                    frontier.append(len(beliefs) - 1)
                    match = [len(beliefs) - 1]
                moves.append((y, match[0]))
                weights.append(chance)
            outcomes[(k, i)] = moves
            chances[(k, i)] = weights
    transition = np.zeros((len(precisions), len(beliefs), len(beliefs)))
    for (k, i), moves in outcomes.items():
        for (_, j), chance in zip(moves, chances[(k, i)], strict=True):
            transition[k, i, j] += chance
    return _Chain(low, high, np.array(beliefs), transition, outcomes)


def _contract(
    values: NDArray[np.float64], axis: int, matrix: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``values`` with ``axis`` replaced by ``matrix @`` it, per node when ``matrix`` is
    (nodes, I, J) and ``values`` (nodes, ...)."""
    moved = np.moveaxis(values, axis, -1)
    if matrix.ndim == 2:
        out = moved @ matrix.T
    else:
        shape = moved.shape
        flat = moved.reshape(shape[0], -1, shape[-1])
        out = np.einsum("nxj,nij->nxi", flat, matrix).reshape(*shape[:-1], matrix.shape[1])
    return np.moveaxis(out, -1, axis)


def _group_argmax(
    value: NDArray[np.float64], parent: NDArray[np.intp]
) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
    """Per parent (children are sorted by parent) and belief: the best value and the first
    child that reaches it."""
    starts = np.flatnonzero(np.r_[True, parent[1:] != parent[:-1]])
    best = np.maximum.reduceat(value, starts, axis=0)
    index = np.arange(parent.size).reshape(-1, *(1,) * (value.ndim - 1))
    reaching = np.where(value == best[parent], index, parent.size)
    return best, np.minimum.reduceat(reaching, starts, axis=0)


def solve_bayes(
    scenario: str | Params = "toy_pilot",
    seed: int = 0,
    model: Model | None = None,
    **overrides: Any,
) -> BayesResult:
    """The exact Bayes-optimal expected return of a scenario whose only randomness is a
    two-point fit prior and two-point signals (``fit_two_point = 1``), e.g. ``toy_pilot``.

    Bellman's equation of the belief MDP (Astrom 1965; Kaelbling, Littman & Cassandra
    1998) solved by expectimax over the chance outcomes: with ``b`` the posterior over the
    fit worlds ``f`` given the signals so far,
        ``V_t(h, b) = max_a [ sum_f b(f) r_f(h, a) + sum_y P(y | b, h a) V_{t+1}(h a, b'_y) ]``
    The physical quarter depends on the fit but never on the belief, so one batched
    enumeration of every valid Single-face action sequence per world (as :func:`solve`)
    gives ``r_f``; fits and signals are independent across regions, so the posterior is one
    ``P(high)`` per uncertain region, from a small reachable set, and ``V_t`` is a table
    (nodes x beliefs) filled backwards, batched over nodes. The same tree gives the
    clairvoyant value ``E_f[max_plan G_f]``, the best open-loop plan ``max_plan E_f[G_f]``
    and the uniformly random valid-move policy's expectation.
    Raises :class:`NotDeterministicError` if anything else is random and ``ValueError`` if
    which moves are valid (or bankruptcy) depends on the fit: the enumeration would then
    need the fit to know the actions.
    """
    model = model or Model(make_params(scenario, **overrides))
    params = model.params
    random_parts = [n for n in _is_deterministic(params) if n != "market_fit"]
    if random_parts:
        raise NotDeterministicError(
            "the Bayes oracle needs a scenario whose only randomness is a two-point market "
            f"fit (toy_pilot); these must be 0: {random_parts}"
        )
    if params.fit_two_point != 1:
        raise NotDeterministicError("solve_bayes needs fit_two_point = 1 (a two-point prior)")
    codec = DiscreteActions(params)
    actions = codec.mask_size
    root = model.reset(rng.episode_key(np.array([seed]), params.seed_offset))
    if np.any(root.entry_mode[0, np.arange(params.num_regions) != params.home_region] != 0):
        raise ValueError("solve_bayes assumes the firm starts absent from every foreign region")
    worlds = _fit_worlds(params, root)
    count = worlds.fits.shape[0]
    state = root.take(np.zeros(count, dtype=np.intp)).replace(market_fit=worlds.fits.copy())
    precisions = tuple(sorted({float(t) for t in params.fit_signal_precision} | {0.0}))
    chains = tuple(
        _belief_chain(worlds.low[u], worlds.high[u], precisions) for u in range(worlds.regions.size)
    )
    # forward: the tree of action sequences, every world side by side (world-major rows)
    frontier, nodes = 1, 0
    cumulative = np.zeros((count, 1))
    chance = np.ones(1)  # of each node under the uniformly random valid-move policy
    layers: list[dict[str, NDArray[Any]]] = []
    leaf_best = np.full(count, -np.inf)
    leaf_expected: list[float] = []
    random_return = 0.0
    for _ in range(params.horizon):
        masks = codec.masks(model.valid_moves(state), state.rnd_intensity)
        masks = masks.reshape(count, frontier, -1)
        if not np.all(masks == masks[:1]):
            raise ValueError("the valid moves depend on the fit: give the scenario more cash")
        parent, action = np.nonzero(masks[0])
        if parent.size * count > MAX_FRONTIER:
            raise ValueError(
                f"the enumeration frontier has {parent.size * count} nodes, above MAX_FRONTIER "
                f"= {MAX_FRONTIER}: use a smaller horizon or scenario"
            )
        rows = (np.arange(count)[:, None] * frontier + parent[None, :]).ravel()
        output = model.step(state.take(rows), codec.decode(np.tile(action, count)))
        nodes += rows.size
        children = parent.size
        reward = output.reward.reshape(count, children)
        done = (output.terminated | output.truncated).reshape(count, children)
        if not np.all(done == done[:1]):
            raise ValueError("bankruptcy depends on the fit: give the scenario more cash")
        done = done[0]
        new = output.state
        served = np.where(new.build_quarters > 0, new.interim_mode, new.entry_mode)
        open_ = (new.closed_quarters == 0) & (new.suspended_quarters == 0)
        tau = np.where(open_, params.fit_signal_precision[served], 0.0)[:, worlds.regions]
        tau = tau.reshape(count, children, -1)
        if not np.all(tau == tau[:1]):
            raise ValueError("the signals' precision depends on the fit")
        cumulative = cumulative[:, parent] + reward
        chance = chance[parent] / masks[0].sum(axis=1)[parent]
        if done.any():
            leaf_best = np.maximum(leaf_best, cumulative[:, done].max(axis=1))
            leaf_expected.append(float(cumulative[:, done].mean(axis=0).max()))
            random_return += float(np.sum(chance[done] * cumulative[:, done].mean(axis=0)))
        alive = np.flatnonzero(~done)
        position = np.full(children, -1)
        position[alive] = np.arange(alive.size)
        layers.append(
            dict(
                parent=parent,
                action=action,
                reward=reward,
                alive=alive,
                position=position,
                tau=np.searchsorted(precisions, tau[0]),
                frontier=np.array(frontier),
            )
        )
        if alive.size == 0:
            break
        state = new.take((np.arange(count)[:, None] * children + alive[None, :]).ravel())
        cumulative, chance, frontier = cumulative[:, alive], chance[alive], alive.size
    # backward: V_t over (nodes, belief of region 0, belief of region 1, ...)
    sizes = tuple(chain.beliefs.size for chain in chains)
    later: NDArray[np.float64] | None = None
    best_actions, child_maps, tau_maps = [], [], []
    for layer in reversed(layers):
        children = layer["parent"].size
        expected = layer["reward"].T.reshape(children, *(2,) * len(sizes))
        for u, chain in enumerate(chains):
            belief_of_world = np.stack([1.0 - chain.beliefs, chain.beliefs], axis=1)
            expected = _contract(expected, 1 + u, belief_of_world)
        future = np.zeros((children, *sizes))
        if later is not None:
            future[layer["alive"]] = later
        for u, chain in enumerate(chains):
            future = _contract(future, 1 + u, chain.transition[layer["tau"][:, u]])
        later, best_child = _group_argmax(expected + future, layer["parent"])
        best_actions.append(layer["action"][best_child])
        slots = layer["parent"] * actions + layer["action"]
        child = np.full(int(layer["frontier"]) * actions, -1)
        child[slots] = layer["position"]
        tau_index = np.zeros((int(layer["frontier"]) * actions, len(sizes)), dtype=np.int64)
        tau_index[slots] = layer["tau"]
        child_maps.append(child)
        tau_maps.append(tau_index)
    assert later is not None
    prior = (0,) * len(sizes)
    policy = BayesPolicy(
        regions=worlds.regions,
        precisions=precisions,
        chains=chains,
        best=tuple(reversed(best_actions)),
        child=tuple(reversed(child_maps)),
        tau=tuple(reversed(tau_maps)),
        actions=actions,
    )
    return BayesResult(
        bayes_return=float(later[(0, *prior)]),
        clairvoyant_return=float(leaf_best.mean()),
        open_loop_return=max(leaf_expected),
        random_return=random_return,
        first_action=int(policy.best[0][(0, *prior)]),
        worlds=count,
        nodes=nodes,
        policy=policy,
    )


class BayesOracleAgent:
    """Plays the Bayes-optimal policy of :func:`solve_bayes` through the agent protocol
    (Single face, ``toy_pilot``-like scenario).

    It follows its own actions down the tree and reads the signals from the observation:
    each quarter a region sends one, the belief mean ``fit_belief`` moved by the kernel's
    normal-normal update (:mod:`lepton_env.mechanisms.fit`); the agent predicts that mean
    for every signal the region could have sent and takes the nearest, then updates its
    exact two-point posterior. Its recurrent ``state`` is a list of per-env trackers.
    """

    def __init__(self, scenario: str | Params = "toy_pilot", seed: int = 0, **overrides: Any):
        from lepton_env.observation import REGION_FEATURES

        self.params = make_params(scenario, **overrides)
        self.result = solve_bayes(self.params, seed=seed)
        names = [f.name for f in REGION_FEATURES]
        width = len(names)
        self._belief_columns = [
            int(r) * width + names.index("fit_belief") for r in self.result.policy.regions
        ]
        self._sd_columns = [
            int(r) * width + names.index("fit_uncertainty") for r in self.result.policy.regions
        ]

    def _start(self, row: NDArray[np.floating]) -> dict[str, Any]:
        means = np.array([float(row[c]) for c in self._belief_columns])
        sds = np.array([float(row[c]) for c in self._sd_columns])
        return {"t": 0, "node": 0, "beliefs": [0] * len(means), "mean": means, "var": sds**2,
                "last": -1}  # fmt: skip

    def _observe(self, tracker: dict[str, Any], row: NDArray[np.floating]) -> None:
        from lepton_env.mechanisms import fit

        policy = self.result.policy
        t, slot = tracker["t"] - 1, tracker["node"] * policy.actions + tracker["last"]
        tracker["node"] = int(policy.child[t][slot])
        for u, chain in enumerate(policy.chains):
            k = int(policy.tau[t][slot, u])
            precision = policy.precisions[k]
            if precision == 0.0:
                continue
            moves = chain.outcomes[(k, tracker["beliefs"][u])]
            mean, var = tracker["mean"][u], tracker["var"][u]
            predicted = [fit.update_mean(mean, var, y, precision) for y, _ in moves]
            seen = float(row[self._belief_columns[u]])
            pick = int(np.argmin(np.abs(np.array(predicted) - seen)))
            tracker["beliefs"][u] = moves[pick][1]
            tracker["mean"][u] = seen
            tracker["var"][u] = fit.update_variance(var, precision)

    def predict(
        self,
        observation: NDArray[np.floating],
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = True,
        **kwargs: Any,
    ) -> tuple[NDArray[np.int64], Any]:
        """The optimal action of each env's node and posterior; ``state`` carries them."""
        batch = np.atleast_2d(np.asarray(observation))
        starts = np.ones(len(batch), dtype=bool) if episode_start is None else episode_start
        trackers: list[Any] = list(state) if state is not None else [None] * len(batch)
        policy = self.result.policy
        actions = np.zeros(len(batch), dtype=np.int64)
        for i, row in enumerate(batch):
            if starts[i] or trackers[i] is None:
                trackers[i] = self._start(row)
            else:
                self._observe(trackers[i], row)
            tracker = trackers[i]
            if tracker["node"] >= 0 and tracker["t"] < len(policy.best):
                actions[i] = policy.best[tracker["t"]][(tracker["node"], *tracker["beliefs"])]
            tracker["last"], tracker["t"] = int(actions[i]), tracker["t"] + 1
        return actions, trackers

    def learn(self, total_timesteps: int, callback: Any = None, **kwargs: Any) -> BayesOracleAgent:
        """Nothing to learn: the policy is exact."""
        return self
