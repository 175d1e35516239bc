"""lepton-tune: hyperparameter search with Optuna, pruning on periodic evaluations.

    lepton-tune agent=ppo scenario=toy sweeper.n_trials=30 total_timesteps=20000
    lepton-tune agent=sac sweeper.storage=sqlite:///runs/tune.db   # several processes, one study
    lepton-train experiment=tuned_toy_ppo                          # train with the best values

Each trial draws values for ``agent.model`` keys from ``agent.search_space``
(``{type: float|int, low, high, log}`` or ``{type: categorical, choices}``),
trains through :func:`lepton_env.experiments.train.train` into
``<run dir>/trials/<number>/`` (the layout of a training run), and reports each
periodic evaluation's mean return on the held-out seeds to the pruner
(``sweeper.pruner``, median by default). The objective is the final
evaluation's mean return. The best trial's values are written as an
experiment preset, ``<sweeper.preset_dir>/<sweeper.preset_name>.yaml``
(``configs/experiment/`` by default), that holds only its overrides.

Optuna's own API is used rather than hydra-optuna-sweeper, which pins
``optuna<3``.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import hydra
import optuna
import yaml
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

import lepton_env
from lepton_env.agents.callbacks import Evaluation
from lepton_env.agents.factory import AgentConfigError
from lepton_env.experiments.schema import ConfigError, TrainConfig, validate
from lepton_env.experiments.train import train

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


def write_preset(config: TrainConfig, study: optuna.Study, path: Path) -> Path:
    """The best trial as an experiment preset holding only its overrides."""
    best = study.best_trial
    preset = {
        "defaults": [
            {"override /scenario": config.scenario.name},
            {"override /agent": config.agent.name},
            {"override /env": config.env.action_mode},
        ],
        "agent": {"model": dict(best.params)},
    }
    header = (
        "# @package _global_\n"
        f"# Written by lepton-tune: best of {len(study.trials)} trials of study "
        f"{study.study_name!r} (trial {best.number}, eval mean return {best.value:.4g}).\n"
        f"#   lepton-train experiment={path.stem}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(preset, sort_keys=False))
    return path


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
    preset_dir = Path(settings.preset_dir) if settings.preset_dir else CONFIGS / "experiment"
    preset = write_preset(config, study, preset_dir / f"{settings.preset_name}.yaml")
    print(f"Best trial {study.best_trial.number}: {study.best_value:.4g} {study.best_params}")
    print(f"Preset written: {preset}  (lepton-train experiment={preset.stem})")
    return study


@hydra.main(version_base="1.3", config_path=str(CONFIGS), config_name="tune")
def main(cfg: DictConfig) -> float:
    """The ``lepton-tune`` entry point; returns the best value."""
    try:
        study = tune(cfg, Path(HydraConfig.get().runtime.output_dir))
    except (ConfigError, AgentConfigError, lepton_env.ParamsError) as error:
        print(f"lepton-tune: bad config: {error}", file=sys.stderr)
        sys.exit(2)
    completed = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    return float(study.best_value) if completed else float("nan")


if __name__ == "__main__":
    main()
