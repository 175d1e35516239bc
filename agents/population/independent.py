"""Independent learners: each seat its own policy, all trained at once.

Learner ``f`` plays firm ``f`` in ``env.num_envs`` envs of its own (seeded from
``seed + f * num_envs``, so no two learners share an episode); every other firm there is
played by that firm's learner's current policy (deterministic:
:class:`~lepton_env.agents.population.common.LiveAgent`). A round is one rollout and
update of each learner in firm order, so each learns against the others as they are at
that moment (Tan 1993's independent learners; the game is non-stationary from each
learner's view).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from lepton_env.agents.population.common import EpisodeReturns, LiveAgent, seat_env
from lepton_env.agents.population.rounds import (
    Learner,
    RoundState,
    checkpoint_learners_problem,
    learner_folder,
    restore_learners,
    run_rounds,
)
from lepton_env.experiments.schema import ConfigError


def train_independent(run: Any) -> dict[str, Any]:
    """Independent learners for ``run``; the summary of the run's end."""
    from lepton_env.games.strategies import AgentStrategy
    from lepton_env.multi.firms import agent_ids
    from lepton_env.scenarios import make_params

    config = run.config
    assert config.multiagent is not None
    agents = agent_ids(make_params(config.scenario.name, **config.scenario.kwargs))
    if run.checkpoint is not None:
        problem = checkpoint_learners_problem(run.checkpoint, len(agents))
        if problem is not None:
            raise ConfigError(f"{run.checkpoint} cannot be resumed: {problem}")
    live = {agent: LiveAgent() for agent in agents}
    learners = []
    for firm, agent in enumerate(agents):
        own = replace(config, seed=config.seed + firm * config.env.num_envs)
        env = seat_env(own, config.env.num_envs, agent, {a: live[a] for a in agents if a != agent})
        folder = None if run.checkpoint is None else learner_folder(run.checkpoint, firm)
        venv = run.normalized(env, folder)
        model = run.agent(own, venv, folder)
        model.set_logger(run.sb3_logger(f"firm{firm}/"))
        live[agent].target = model
        groups = [f"firm{firm}"] * env.num_envs
        learners.append(Learner(f"firm{firm}", venv, model, EpisodeReturns(groups)))
    if run.checkpoint is not None:
        state = restore_learners(learners, run.checkpoint)
    else:
        state = RoundState(next_checkpoint=config.checkpoint.freq)

    def exact(step: int) -> None:
        profile = [AgentStrategy(learner.model, None, learner.name) for learner in learners]
        state.extra["exact"] = run.log_exact(profile, step)

    state = run_rounds(
        learners,
        state,
        total_timesteps=config.total_timesteps,
        checkpoint_freq=config.checkpoint.freq,
        checkpoint_keep=config.checkpoint.keep,
        exact_every=config.multiagent.exact_every,
        run_dir=run.run_dir,
        writer=run.writer,
        after_round=lambda state, step: None,
        exact=run.exact_callback(exact),
        write_extra=lambda folder: None,
    )
    for firm, learner in enumerate(learners):
        run.save_final(learner.model, learner.venv, firm)
    return {"rounds": state.rounds, "cpu_seconds": state.cpu_seconds, **state.extra}
