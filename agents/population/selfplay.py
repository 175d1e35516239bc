"""Parameter-shared self-play: one policy in every seat against its own frozen past.

The learner plays every seat of :class:`~lepton_env.agents.population.seats.SeatRotationVecEnv`
(``env.num_envs // F`` envs per seat); every other seat is played by a
:class:`~lepton_env.multi.population.Population` of its frozen snapshots
(:class:`~lepton_env.agents.population.snapshots.SnapshotRing`) and optional heuristics,
drawn per env and episode. The population starts with the initial policy; every
``opponents.snapshot_every`` rollouts the current policy joins it (the oldest slot is
overwritten once ``max_snapshots`` are full).

Weights (:func:`opponent_weights`): heuristic ``h`` is drawn with its stated probability
``p_h``; the snapshots share ``1 - sum_h p_h``, alike (``uniform``) or in proportion to
``recent_decay ** age`` (``recent``: age 0 the newest snapshot, 1 the one before ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lepton_env.agents.population.seats import SeatRotationVecEnv
from lepton_env.agents.population.snapshots import SnapshotRing

if TYPE_CHECKING:
    from lepton_env.experiments.schema import OpponentsConfig, TrainConfig


def opponent_weights(ring: SnapshotRing, opponents: OpponentsConfig) -> dict[str, float]:
    """``{member id: probability}`` of the population (see the module docstring)."""
    heuristics = dict(opponents.heuristics)
    share = 1.0 - sum(heuristics.values())
    filled = [slot for slot in ring.slots if slot.step is not None]
    weights = {slot.name: 0.0 for slot in ring.slots}
    if filled:
        if opponents.weighting == "recent":
            order = sorted(filled, key=lambda slot: -int(slot.step or 0))
            raw = np.array([opponents.recent_decay**age for age in range(len(order))])
        else:
            order, raw = filled, np.ones(len(filled))
        for slot, value in zip(order, raw / raw.sum() * share, strict=True):
            weights[slot.name] = float(value)
    return {**weights, **heuristics}


def selfplay_env(config: TrainConfig) -> tuple[SeatRotationVecEnv, SnapshotRing]:
    """The rotation env of the run and its snapshot ring (empty and unbound: the learner's
    policy, built on this env, gives the slots their architecture)."""
    from lepton_env.agents.population.common import seat_env
    from lepton_env.multi.firms import agent_ids
    from lepton_env.multi.population import Population
    from lepton_env.scenarios import make_params

    assert config.multiagent is not None
    opponents = config.multiagent.opponents
    agents = agent_ids(make_params(config.scenario.name, **config.scenario.kwargs))
    ring = SnapshotRing(opponents.max_snapshots)
    members: dict[str, Any] = {slot.name: slot for slot in ring.slots}
    members.update({name: name for name in opponents.heuristics})
    per_seat = max(1, config.env.num_envs // len(agents))
    # every slot weighs alike until the first snapshot sets the real weights
    population = Population(members)
    seats = [
        seat_env(config, per_seat, agent, {other: population for other in agents if other != agent})
        for agent in agents
    ]
    return SeatRotationVecEnv(seats), ring


def train_selfplay(run: Any) -> dict[str, Any]:
    """Self-play for ``run`` (a :class:`~lepton_env.agents.population.launch.PopulationRun`);
    the summary of the run's end."""
    from lepton_env.agents.population.common import EpisodeReturns
    from lepton_env.agents.population.rounds import (
        Learner,
        RoundState,
        restore_learners,
        run_rounds,
    )
    from lepton_env.games.strategies import AgentStrategy

    config = run.config
    assert config.multiagent is not None
    multi = config.multiagent
    env, ring = selfplay_env(config)
    venv = run.normalized(env, run.checkpoint)
    model = run.agent(config, venv, run.checkpoint)
    ring.bind(model.policy)
    model.set_logger(run.sb3_logger(""))
    groups = [f"firm{seat}" for seat, sub in enumerate(env.seats) for _ in range(sub.num_envs)]
    learner = Learner("", venv, model, EpisodeReturns(groups))
    if run.checkpoint is not None:
        state = restore_learners([learner], run.checkpoint)
        ring.load(run.checkpoint)
    else:
        ring.add(model.policy, 0)
        state = RoundState(next_checkpoint=config.checkpoint.freq)
    env.set_population_weights(opponent_weights(ring, multi.opponents))
    num_firms = len(env.seats)

    def after_round(state: RoundState, step: int) -> None:
        if state.rounds % multi.opponents.snapshot_every == 0:
            ring.add(model.policy, step)
            env.set_population_weights(opponent_weights(ring, multi.opponents))
        weights = opponent_weights(ring, multi.opponents)
        for member, weight in weights.items():
            run.writer.add_scalar(f"population/weight/{member}", weight, step)
        run.writer.add_scalar("population/snapshots", len(ring.filled()), step)

    def exact(step: int) -> None:
        profile = [AgentStrategy(model, None, "selfplay") for _ in range(num_firms)]
        state.extra["exact"] = run.log_exact(profile, step)

    state = run_rounds(
        [learner],
        state,
        total_timesteps=config.total_timesteps,
        checkpoint_freq=config.checkpoint.freq,
        checkpoint_keep=config.checkpoint.keep,
        exact_every=multi.exact_every,
        run_dir=run.run_dir,
        writer=run.writer,
        after_round=after_round,
        exact=run.exact_callback(exact),
        write_extra=ring.save,
    )
    run.save_final(model, venv)
    return {"rounds": state.rounds, "cpu_seconds": state.cpu_seconds, **state.extra}
