"""lepton-tune: Optuna trials through the training pipeline, pruning, the best preset."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from hydra import compose, initialize_config_dir

from lepton_env.experiments.schema import validate
from lepton_env.experiments.tune import tune

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TINY = [
    "scenario=toy",
    "agent=ppo",
    "training=smoke",
    "total_timesteps=256",
    "eval.freq=128",
    "eval.episodes=2",
    "env.num_envs=4",
    "agent.model.n_steps=16",
    "agent.model.batch_size=32",
    "agent.model.policy_kwargs.net_arch=[8]",
    "logger.expansion_figure=false",
    "sweeper.n_trials=2",
]


@pytest.mark.slow
def test_study_writes_the_best_trial_as_a_preset(tmp_path: Path) -> None:
    mine = tmp_path / "my_configs" / "experiment"
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        cfg = compose("tune", overrides=[*TINY, f"sweeper.preset_dir={mine}"])
        study = tune(cfg, tmp_path / "study")
        assert len(study.trials) == 2
        assert all(len(trial.intermediate_values) == 2 for trial in study.trials)
        assert (tmp_path / "study" / "trials" / "1" / "final_model.zip").exists()
        written = tmp_path / "study" / "configs" / "experiment" / "tuned_toy_ppo.yaml"
        assert written.read_text() == (mine / "tuned_toy_ppo.yaml").read_text()
        preset = compose(
            "train",
            overrides=[
                f"hydra.searchpath=[file://{tmp_path / 'study' / 'configs'}]",
                "experiment=tuned_toy_ppo",
            ],
        )
    # The installed config tree is left alone.
    assert not (CONFIGS / "experiment" / "tuned_toy_ppo.yaml").exists()
    header = written.read_text().splitlines()
    assert "best of 2 trials (2 complete, 0 pruned)" in header[1]
    assert "Tuned on scenario 'toy' with 256 steps per trial, 4 envs, seed 0." in header[2]
    config = validate(preset)
    assert config.scenario.name == "toy"
    assert config.total_timesteps == 256
    for key, value in study.best_params.items():
        assert config.agent.model[key] == value


@pytest.mark.slow
def test_pruner_stops_trials_on_evaluation_results(tmp_path: Path) -> None:
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        cfg = compose(
            "tune",
            overrides=[
                *TINY,
                "~sweeper.pruner",
                "+sweeper.pruner={_target_: optuna.pruners.ThresholdPruner, lower: 1.0e9}",
                f"sweeper.preset_dir={tmp_path / 'presets'}",
            ],
        )
        study = tune(cfg, tmp_path / "study")
    states = [trial.state for trial in study.trials]
    assert states == [optuna.trial.TrialState.PRUNED] * 2
    # Pruned at the first evaluation, before the budget was spent.
    assert [list(trial.intermediate_values) for trial in study.trials] == [[128], [128]]
    assert not (tmp_path / "presets").exists()
