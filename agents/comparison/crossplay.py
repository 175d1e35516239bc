"""Cross-play: every contender against every other, per seat, on the same held-out episodes.

A multi-firm scenario has F seats (firm 0, its own firm, then its rivals). A cell of the
cross-play table is a focal contender ``i`` in seat ``s`` against contender ``j`` in every
other seat; :func:`cross_play` plays every cell on the same episode seeds (the test range
of :mod:`lepton_env.agents.comparison.episodes` by default), each cell one batch of the
compiled core with every seat played by one batched ``predict`` per step
(:mod:`lepton_env.multi.scripted`). From the cells:

* ``focal[s, i, j]``: the focal seat's mean return with its hierarchical-bootstrap interval
  (:func:`~lepton_env.agents.comparison.stats.hierarchical_bootstrap`);
* ``payoff[i, j]``: the focal return averaged over the seats (each seat in turn focal), and
  the antisymmetric ``margin[i, j] = payoff[i, j] - payoff[j, i]`` (the meta-game of Nash
  averaging, :mod:`lepton_env.agents.comparison.ratings`) with its paired interval
  (:func:`~lepton_env.agents.comparison.stats.paired_bootstrap`: the same episodes in the
  same columns for both cells).

Contenders (:func:`seat_agent`): a heuristic's class name (built for the seat's own view of
the world, :func:`lepton_env.multi.firms.firm_params`), a search spec (``_target_``, searched
on the seat's one-firm world, targets checked as ``lepton-compare`` checks them) or a saved
SB3 model (``{path, class_path, observation}``, read through the project's safe loader
:func:`lepton_env.agents.training.loading.load_algorithm`: nothing unpickled without
``trust``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env.agents.comparison.episodes import TEST_EPISODES, TEST_FIRST_SEED
from lepton_env.agents.comparison.stats import (
    Estimate,
    hierarchical_bootstrap,
    mean_difference,
    paired_bootstrap,
)
from lepton_env.multi.firms import agent_ids, firm_observation_space, firm_params, single_width
from lepton_env.multi.parallel import multi_firm_batch
from lepton_env.multi.scripted import ScriptedFirm, build_agent, observation_width, scripted_firms
from lepton_env.params import Params

#: A contender: a heuristic's class name, a search spec (``_target_``) or a saved model
#: (``{path, class_path, observation: firm | own}``).
ContenderSpec = str | Mapping[str, Any]


@dataclass(frozen=True)
class Play:
    """Every episode of one profile (a contender per seat), batched over episodes.

    ``returns[f, e]`` sums firm ``f``'s rewards until it ended (its bankruptcy or the
    horizon); the trajectories record each quarter's state after the firms' moves.
    """

    profile: tuple[str, ...]  # (F,) contender name per seat
    seeds: tuple[int, ...]  # (E,)
    returns: NDArray[np.float64]  # (F, E)
    initial_mode: NDArray[np.int8]  # (E, F, R) EntryMode at the start
    entry_mode: NDArray[np.int8]  # (E, F, T, R) EntryMode after quarter t
    market_share: NDArray[np.float32]  # (E, F, T, R) [0, 1]
    bankrupt: NDArray[np.bool_]  # (E, F)


def seat_agent(
    spec: ContenderSpec,
    params: Params,
    firm: int,
    action_mode: str,
    where: str,
    trust: bool = False,
    allowed_targets: Sequence[str] = (),
) -> Any:
    """The agent that plays seat ``firm``: a heuristic name as
    :func:`~lepton_env.multi.scripted.build_agent`; a ``_target_`` spec (a search) built on
    the seat's one-firm world; ``{path, class_path, observation}`` a saved model loaded
    without unpickling unless ``trust`` (``observation``: ``firm``, the multi-agent face's
    full observation, or ``own``, a single-agent model's)."""
    if isinstance(spec, str):
        return build_agent(spec, params, firm, action_mode, where)
    if not isinstance(spec, Mapping):
        raise TypeError(f"{where} = {spec!r}: expected a heuristic name or a mapping")
    if "_target_" in spec:
        import gymnasium as gym
        from hydra.utils import instantiate

        from lepton_env.agents.comparison.contenders import action_mode_env_id
        from lepton_env.agents.training.targets import check_targets

        check_targets(dict(spec), where, allowed_targets)
        env = gym.make(action_mode_env_id(action_mode), scenario=firm_params(params, firm))
        return instantiate(dict(spec), env)
    if "path" in spec:
        from hydra.utils import get_class

        from lepton_env.agents.training.loading import load_algorithm
        from lepton_env.agents.training.targets import check_target

        unknown = sorted(set(spec) - {"path", "class_path", "observation"})
        if unknown or "class_path" not in spec:
            raise ValueError(
                f"{where} = {dict(spec)}: a saved model is {{path, class_path, observation}} "
                f"(observation: firm | own), unknown keys {unknown}"
            )
        observation = spec.get("observation", "firm")
        if observation not in ("firm", "own"):
            raise ValueError(f"{where}.observation = {observation!r}: allowed firm or own")
        batch = multi_firm_batch(
            1, params, action_mode=action_mode, render_mode=None, render_modes=()
        )
        box = firm_observation_space(params)
        if observation == "own":
            width = single_width(params)
            import gymnasium as gym

            box = gym.spaces.Box(box.low[:width], box.high[:width], dtype=np.float32)
        cls = get_class(
            check_target(str(spec["class_path"]), f"{where}.class_path", allowed_targets)
        )
        spaces = {"observation_space": box, "action_space": batch.single_action_space}
        return load_algorithm(cls, spec["path"], spaces=spaces, trust=trust)
    raise ValueError(
        f"{where} = {dict(spec)}: expected a heuristic name, a _target_ spec (a search) or "
        "{path, class_path, observation} (a saved model)"
    )


def play_profile(
    params: Params,
    seats: Sequence[Any],
    seeds: Sequence[int],
    action_mode: str = "multi_discrete",
    names: Sequence[str] | None = None,
) -> Play:
    """Play one episode per seed with ``seats[f]`` (an agent or a heuristic name) in seat
    ``f``: one batch of ``len(seeds)`` envs, seeded as ``parallel_env.reset(seed=s)``."""
    agents = agent_ids(params)
    if len(seats) != len(agents):
        raise ValueError(f"{len(seats)} seats given: the scenario has firms {list(agents)}")
    count = len(seeds)
    if count == 0:
        raise ValueError("seeds is empty: cross-play needs at least one episode")
    batch = multi_firm_batch(
        count, params, action_mode=action_mode, render_mode=None, render_modes=()
    )
    num_firms, envs = len(agents), np.arange(count)
    keys = batch.episode_keys(envs, [int(s) for s in seeds], np.random.default_rng(0))
    batch.reset_rows(envs, keys)
    width = int(firm_observation_space(batch.params).shape[0])
    players = scripted_firms(
        dict(zip(agents, seats, strict=True)),
        agents,
        batch.params,
        count,
        action_mode,
        width,
        deterministic=True,
    )
    shape = tuple(batch.single_action_space.shape or ())
    returns = np.zeros(count * num_firms)
    ended = np.zeros(count * num_firms, dtype=bool)
    bankrupt = np.zeros(count * num_firms, dtype=bool)
    modes, shares = [], []
    assert batch.state is not None
    initial = batch.state.entry_mode.copy()
    while not ended.all():
        actions = np.zeros((batch.num_rows, *shape), dtype=np.int64)
        observation, masks = batch.observe_all(), batch.action_masks()
        assert isinstance(observation, np.ndarray)
        for player in players:
            assert isinstance(player, ScriptedFirm)
            player.act_into(actions, observation, masks)
        held = np.asarray(ended.reshape(count, num_firms).all(axis=1), dtype=bool)
        output, _ = batch.step(actions, hold_rows=held)
        # a firm's return stops at its end: after a bankruptcy its row is inert
        returns += np.where(ended, 0.0, output.reward)
        bankrupt |= output.terminated & ~ended & (batch.state.cash < -batch.params.credit_line)
        ended |= output.terminated | output.truncated
        modes.append(batch.state.entry_mode.copy())
        shares.append(batch.state.firm_share.copy())
    regions = batch.params.num_regions

    def trajectory(frames: list[NDArray[Any]]) -> NDArray[Any]:
        return np.stack(frames, axis=1).reshape(count, num_firms, len(frames), regions)

    return Play(
        profile=tuple(names or [str(seat) for seat in seats]),
        seeds=tuple(int(s) for s in seeds),
        returns=returns.reshape(count, num_firms).T.copy(),
        initial_mode=initial.reshape(count, num_firms, regions),
        entry_mode=trajectory(modes),
        market_share=trajectory(shares),
        bankrupt=bankrupt.reshape(count, num_firms),
    )


@dataclass(frozen=True)
class CrossPlay:
    """The cross-play table of ``names`` on ``seeds`` (see the module docstring)."""

    names: tuple[str, ...]  # (C,)
    seeds: tuple[int, ...]  # (E,)
    scores: NDArray[np.float64]  # (F, C, C, E) focal seat s, focal i, others j, episode
    focal: dict[tuple[int, int, int], Estimate]  # (s, i, j) -> [mean, IQM] of the focal seat
    margin: dict[tuple[int, int], Estimate]  # (i, j), i < j -> [mean difference]
    plays: dict[tuple[int, int, int], Play]
    budgets: dict[str, list[dict[str, Any]]]  # a search's budget per seat (what it cost)

    @property
    def payoff(self) -> NDArray[np.float64]:
        """(C, C) the focal contender's mean return against the other, over seats."""
        return np.asarray(self.scores.mean(axis=(0, 3)), dtype=np.float64)

    @property
    def margins(self) -> NDArray[np.float64]:
        """(C, C) antisymmetric: ``payoff - payoff.T``."""
        return self.payoff - self.payoff.T

    @property
    def seat_scores(self) -> NDArray[np.float64]:
        """(C, C, E) the focal return averaged over the seats, per episode."""
        return np.asarray(self.scores.mean(axis=0), dtype=np.float64)


def cross_play(
    params: Params,
    contenders: Mapping[str, ContenderSpec],
    seeds: Sequence[int] | None = None,
    action_mode: str = "multi_discrete",
    reps: int = 2000,
    confidence: float = 0.95,
    stats_seed: int = 0,
    trust: bool = False,
    allowed_targets: Sequence[str] = (),
    on_cell: Callable[[str], None] | None = None,
) -> CrossPlay:
    """Every contender in every seat against every contender in the other seats, on
    ``seeds`` (default: the test range, ``TEST_EPISODES`` from ``TEST_FIRST_SEED``).

    Each contender is built once per seat (a search searches the seat's world once).
    ``on_cell(label)`` is called before each cell (progress display).
    """
    names = tuple(contenders)
    if len(names) < 2:
        raise ValueError(f"contenders = {list(names)}: cross-play needs at least two")
    if seeds is None:
        seeds = range(TEST_FIRST_SEED, TEST_FIRST_SEED + TEST_EPISODES)
    seeds = tuple(int(s) for s in seeds)
    num_firms = params.num_firms
    if num_firms < 2:
        raise ValueError("the scenario has one firm: cross-play needs two or more")
    agents = {
        (name, firm): seat_agent(
            spec, params, firm, action_mode, f"contenders[{name!r}]", trust, allowed_targets
        )
        for name, spec in contenders.items()
        for firm in range(num_firms)
    }
    count = len(names)
    scores = np.zeros((num_firms, count, count, len(seeds)))
    plays: dict[tuple[int, int, int], Play] = {}
    focal: dict[tuple[int, int, int], Estimate] = {}
    for seat in range(num_firms):
        for i, focal_name in enumerate(names):
            for j, other in enumerate(names):
                profile = [focal_name if f == seat else other for f in range(num_firms)]
                if on_cell is not None:
                    on_cell(" vs ".join(profile))
                play = play_profile(
                    params,
                    [agents[name, f] for f, name in enumerate(profile)],
                    seeds,
                    action_mode,
                    names=profile,
                )
                plays[seat, i, j] = play
                scores[seat, i, j] = play.returns[seat]
                focal[seat, i, j] = hierarchical_bootstrap(
                    play.returns[seat], reps=reps, confidence=confidence, seed=stats_seed
                )
    seat_mean = scores.mean(axis=0)
    margin = {
        (i, j): paired_bootstrap(
            seat_mean[i, j],
            seat_mean[j, i],
            statistic=mean_difference,
            reps=reps,
            confidence=confidence,
            seed=stats_seed,
        )
        for i in range(count)
        for j in range(i + 1, count)
    }
    budgets = {
        name: [dict(agents[name, f].budget) for f in range(num_firms)]
        for name in names
        if isinstance(getattr(agents[name, 0], "budget", None), dict)
    }
    return CrossPlay(names, seeds, scores, focal, margin, plays, budgets)


#: Contenders that are no pure strategy (their play draws random numbers): left out of
#: the exact NashConv.
NOT_DETERMINISTIC = ("RandomAgent",)


def exact_nash_conv(
    scenario: str | Params,
    contenders: Mapping[str, ContenderSpec],
    seeds: Sequence[int] = (0,),
    trust: bool = False,
    allowed_targets: Sequence[str] = (),
    on_cell: Callable[[str], None] | None = None,
) -> dict[tuple[str, ...], Any]:
    """The exact NashConv (:func:`lepton_env.games.nash_conv`, coins enumerated) of every
    profile of deterministic contenders on a small game (``duel_toy``, ``duel_market``):
    ``{(seat-0 name, seat-1 name): NashConv}``. The contenders play the Discrete face the
    small games are solved on (a saved model must have been trained on it)."""
    from lepton_env.games import AgentStrategy, SmallGame, nash_conv

    game = SmallGame.make(scenario)
    full = int(firm_observation_space(game.params).shape[0])
    strategies: dict[tuple[str, int], AgentStrategy] = {}
    for name, spec in contenders.items():
        if isinstance(spec, str) and spec in NOT_DETERMINISTIC:
            continue
        for firm in range(game.num_firms):
            agent = seat_agent(
                spec, game.params, firm, "discrete", f"contenders[{name!r}]", trust, allowed_targets
            )
            width = observation_width(agent, game.params, full)
            strategies[name, firm] = AgentStrategy(agent, width, name)
    names = sorted({name for name, _ in strategies}, key=list(contenders).index)
    results: dict[tuple[str, ...], Any] = {}
    for first in names:
        for second in names:
            if on_cell is not None:
                on_cell(f"{first} vs {second}")
            profile = [strategies[first, 0], strategies[second, 1]]
            results[first, second] = nash_conv(game, profile, seeds)
    return results
