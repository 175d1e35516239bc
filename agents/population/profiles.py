"""The profile a population run outputs, read back from its run directory as data.

* ``multiagent=selfplay``: ``final_model.zip`` played by every firm;
* ``multiagent=independent``: ``final_model.zip`` (firm 0) and ``final_model_firm<f>.zip``;
* ``multiagent=psro``: the meta-profile in ``profile/`` (a
  :class:`~lepton_env.games.strategies.Mixture` per firm).

The run's ``config.yaml`` is validated like a command line's (its ``_target_`` s must
pass the registry; the run's own ``allowed_targets`` are not honoured, only those given
here), and models are read without unpickling unless ``trust``
(:func:`lepton_env.agents.training.factory.load_agent`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lepton_env.experiments.schema import ConfigError, TrainConfig


def run_config(run_dir: Path, allowed_targets: Sequence[str] = ()) -> TrainConfig:
    """``run_dir``'s validated config (a population run's)."""
    from omegaconf import OmegaConf

    from lepton_env.agents.comparison.evaluation import read_run_config
    from lepton_env.experiments.schema import validate

    raw = read_run_config(run_dir)
    raw["allowed_targets"] = list(allowed_targets)
    config = validate(OmegaConf.create(raw))
    if config.multiagent is None:
        raise ConfigError(f"{run_dir} is a single-firm run: no profile of several firms")
    return config


def run_profile(
    run_dir: Path, trust: bool = False, allowed_targets: Sequence[str] = ()
) -> tuple[TrainConfig, list[Any]]:
    """The run's config and its output profile, one strategy (or mixture) per firm."""
    from lepton_env.agents.population.common import seat_env, small_game
    from lepton_env.agents.training.factory import load_agent
    from lepton_env.games.strategies import AgentStrategy, Mixture
    from lepton_env.multi.firms import agent_ids
    from lepton_env.scenarios import make_params

    config = run_config(run_dir, allowed_targets)
    config.trust = trust
    assert config.multiagent is not None
    if config.multiagent.mode == "psro":
        from lepton_env.agents.population.psro import PROFILE_FILE, load_populations

        game = small_game(config)
        if game is None:  # a large game: PSRO on tables estimated from play
            from lepton_env.agents.population.empirical import PlayedGame

            game = PlayedGame(make_params(config.scenario.name, **config.scenario.kwargs))
        folder = run_dir / "profile"
        holder = _Holder(config)
        populations = load_populations(folder, game, holder)
        meta = json.loads((folder / PROFILE_FILE).read_text())["meta"]
        return config, [Mixture(tuple(p), m) for p, m in zip(populations, meta, strict=True)]
    agents = agent_ids(make_params(config.scenario.name, **config.scenario.kwargs))
    profile = []
    for firm, agent in enumerate(agents):
        name = "final_model.zip"
        if config.multiagent.mode == "independent" and firm > 0:
            name = f"final_model_firm{firm}.zip"
        others = {other: "HomeOnlyAgent" for other in agents if other != agent}
        spaces = seat_env(config, 1, agent, others)
        model = load_agent(config, str(run_dir / name), spaces, "cpu", trust)
        profile.append(AgentStrategy(model, None, f"{config.multiagent.mode}{firm}"))
    return config, profile


class _Holder:
    """What :func:`lepton_env.agents.population.psro.load_populations` reads of a run."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.device = "cpu"
