"""lepton-tune: hyperparameter search with Optuna, pruning on periodic evaluations.

    lepton-tune agent=ppo scenario=toy sweeper.n_trials=30 total_timesteps=20000
    lepton-tune agent=sac sweeper.storage=sqlite:///runs/tune.db   # several processes, one study
    lepton-train hydra.searchpath=[file://$PWD/runs/tune/toy__ppo/configs] \
        experiment=tuned_toy_ppo                                   # train with the best values

Each trial draws values for ``agent.model`` keys from ``agent.search_space``
(``{type: float|int, low, high, log}`` or ``{type: categorical, choices}``),
trains through :func:`lepton_env.experiments.train.train` into
``<run dir>/trials/<number>/`` (the layout of a training run), and reports each
periodic evaluation's mean return on the held-out seeds to the pruner
(``sweeper.pruner``, median by default). The objective is the final
evaluation's mean return. The best trial's values are written as an
experiment preset that holds only its overrides and records what it was tuned
with (scenario, budget, trials): ``<run dir>/configs/experiment/<sweeper.preset_name>.yaml``
(use it with ``lepton-train hydra.searchpath=[file://<run dir>/configs]
experiment=<name>``) and, on request, ``<sweeper.preset_dir>/<name>.yaml`` (a
user config tree's ``experiment/`` folder). The installed config tree is never written.

Optuna's own API is used rather than hydra-optuna-sweeper, which pins
``optuna<3``.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import hydra
import optuna
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

import lepton_env
from lepton_env.experiments.schema import ConfigError, TrainConfig, validate
from lepton_env.experiments.suggest import with_suggestions
from lepton_env.experiments.train import train

if TYPE_CHECKING:
    from lepton_env.agents.training.callbacks import Evaluation

log = logging.getLogger(__name__)

#: The config tree (an absolute path: the console script runs outside the repository).
CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def suggest(trial: optuna.Trial, search_space: dict[str, Any]) -> dict[str, Any]:
    """Values for each ``agent.model`` key of the search space."""
    values: dict[str, Any] = {}
    for key, spec in search_space.items():
        kind = spec.get("type")
        if kind == "float":
            values[key] = trial.suggest_float(
                key, spec["low"], spec["high"], log=spec.get("log", False)
            )
        elif kind == "int":
            values[key] = trial.suggest_int(
                key, spec["low"], spec["high"], log=spec.get("log", False)
            )
        elif kind == "categorical":
            values[key] = trial.suggest_categorical(key, list(spec["choices"]))
        else:
            raise ConfigError(
                f"agent.search_space.{key}.type = {kind!r}: allowed 'float', 'int', 'categorical'"
            )
    return values


def trial_config(cfg: DictConfig, values: dict[str, Any]) -> DictConfig:
    """The training config of one trial: ``cfg`` with ``values`` in ``agent.model``."""
    trial_cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    assert isinstance(trial_cfg, DictConfig)
    for key, value in values.items():
        OmegaConf.update(trial_cfg, f"agent.model.{key}", value, merge=False)
    trial_cfg.progress_bar = False
    trial_cfg.resume = False
    return trial_cfg


def write_preset(config: TrainConfig, study: optuna.Study, paths: list[Path]) -> list[Path]:
    """The best trial as an experiment preset holding only its overrides, at each path.

    Besides the tuned ``agent.model`` values the preset fixes what they were tuned
    for: the scenario (and its keyword arguments), the face and the budget
    (``total_timesteps``); a header records the trials.
    """
    best = study.best_trial
    states = [trial.state for trial in study.trials]
    complete = states.count(optuna.trial.TrialState.COMPLETE)
    pruned = states.count(optuna.trial.TrialState.PRUNED)
    preset: dict[str, Any] = {
        "defaults": [
            {"override /scenario": config.scenario.name},
            {"override /agent": config.agent.name},
            {"override /env": config.env.action_mode},
        ],
        "total_timesteps": config.total_timesteps,
        "agent": {"model": dict(best.params)},
    }
    if config.scenario.kwargs:
        preset["scenario"] = {"kwargs": dict(config.scenario.kwargs)}
    name = paths[0].stem
    header = (
        "# @package _global_\n"
        f"# Written by lepton-tune: study {study.study_name!r}, best of {len(study.trials)} "
        f"trials ({complete} complete, {pruned} pruned): trial {best.number}, eval mean "
        f"return {best.value:.4g}.\n"
        f"# Tuned on scenario {config.scenario.name!r} with {config.total_timesteps} steps "
        f"per trial, {config.env.num_envs} envs, seed {config.seed}.\n"
        f"#   lepton-train hydra.searchpath=[file://<this folder's parent>] experiment={name}\n"
    )
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + yaml.safe_dump(preset, sort_keys=False))
    return paths


def tune(cfg: DictConfig, run_dir: Path) -> optuna.Study:
    """Run the study described by ``cfg.sweeper`` and write the best preset."""
    config = validate(cfg)
    settings = config.sweeper
    if settings is None:
        raise ConfigError("sweeper: lepton-tune needs sweeper=optuna")
    if not config.agent.search_space:
        raise ConfigError(f"agent.search_space of agent {config.agent.name!r} is empty")
    study = optuna.create_study(
        study_name=settings.study_name,
        storage=settings.storage,
        direction="maximize" if settings.direction == "maximize" else "minimize",
        sampler=instantiate(settings.sampler),
        pruner=instantiate(settings.pruner),
        load_if_exists=True,
    )

    def objective(trial: optuna.Trial) -> float:
        values = suggest(trial, config.agent.search_space)

        def report(timesteps: int, evaluation: Evaluation) -> None:
            trial.report(evaluation.mean_reward, timesteps)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned at {timesteps} steps")

        result = train(trial_config(cfg, values), run_dir / "trials" / str(trial.number), report)
        return result.eval_mean_reward

    study.optimize(objective, n_trials=settings.n_trials)
    if not study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)):
        print(f"No trial of {study.study_name!r} completed (all pruned or failed): no preset")
        return study
    file_name = f"{settings.preset_name}.yaml"
    paths = [run_dir.resolve() / "configs" / "experiment" / file_name]
    if settings.preset_dir:
        paths.append(Path(settings.preset_dir).expanduser().resolve() / file_name)
    write_preset(config, study, paths)
    print(f"Best trial {study.best_trial.number}: {study.best_value:.4g} {study.best_params}")
    for path in paths:
        print(f"Preset written: {path}")
    print(
        f"  lepton-train hydra.searchpath=[file://{paths[0].parent.parent}] "
        f"experiment={settings.preset_name}"
    )
    return study


@hydra.main(version_base="1.3", config_path=str(CONFIGS), config_name="tune")
def tune_job(cfg: DictConfig) -> float:
    """One ``lepton-tune`` study; returns the best value."""
    try:
        study = tune(cfg, Path(HydraConfig.get().runtime.output_dir))
    except (ConfigError, lepton_env.ParamsError) as error:
        print(f"lepton-tune: bad config: {error}", file=sys.stderr)
        sys.exit(2)
    completed = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    return float(study.best_value) if completed else float("nan")


#: The ``lepton-tune`` entry point: Hydra's, with "did you mean" after a refused command line.
main = with_suggestions(
    tune_job, "lepton-tune", CONFIGS, [field.name for field in fields(TrainConfig)]
)


if __name__ == "__main__":
    main()
