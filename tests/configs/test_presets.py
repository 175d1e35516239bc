"""The tuned presets (configs/experiment/<scenario>_<agent>.yaml) and the default they feed.

Config-compose checks only: no learning run here (those live in
``experiments/bench/learning.py`` and ``experiments/bench/training.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from lepton_env.agents.training.factory import make_agent, make_vec_env
from lepton_env.experiments.schema import ConfigError, TrainConfig, validate

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
#: Preset -> (scenario, agent): PPO, MaskablePPO and an off-policy agent on both worlds.
PRESETS = {
    "global_ppo": ("global", "ppo"),
    "global_maskable_ppo": ("global", "maskable_ppo"),
    "global_maskable_ppo_long": ("global", "maskable_ppo"),
    "global_maskable_ppo_tuned": ("global", "maskable_ppo"),
    "global_sac": ("global", "sac"),
    "global_shared_ppo": ("global", "maskable_ppo"),
    "procedural_ppo": ("procedural", "ppo"),
    "procedural_maskable_ppo": ("procedural", "maskable_ppo"),
    "procedural_maskable_ppo_tuned": ("procedural", "maskable_ppo"),
    "procedural_sac": ("procedural", "sac"),
    "procedural_shared_ppo": ("procedural", "maskable_ppo"),
    "toy_maskable_ppo": ("toy", "maskable_ppo"),
    "toy_pilot_dqn": ("toy_pilot", "dqn"),
}
#: The large-batch presets of the long worlds (toy's five quarters take small rollouts).
ON_POLICY = [
    name
    for name, (scenario, agent) in PRESETS.items()
    if agent not in ("sac", "dqn") and scenario in ("global", "procedural")
]
#: Presets scored against the exact optimum, which plays the Single face.
AGAINST_THE_OPTIMUM = [
    name for name, (scenario, _) in PRESETS.items() if scenario.startswith("toy")
]


@pytest.fixture
def compose_train() -> Iterator[object]:
    def _compose(overrides: list[str]) -> DictConfig:
        return compose("train", overrides=overrides, return_hydra_config=True)

    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        yield _compose


def preset(compose_train, name: str, *more: str) -> TrainConfig:
    return validate(compose_train([f"experiment={name}", *more]))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_composes_for_its_world_and_agent(name: str, compose_train) -> None:
    config = preset(compose_train, name)
    assert (config.scenario.name, config.agent.name) == PRESETS[name]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_records_its_budget_and_how_it_was_tuned(name: str) -> None:
    header = (CONFIGS / "experiment" / f"{name}.yaml").read_text().split("\n\n")[0]
    assert "# Budget:" in header
    assert "# Tuned:" in header


@pytest.mark.parametrize("name", ON_POLICY)
def test_on_policy_presets_take_large_batches_on_the_batched_core(name: str, compose_train) -> None:
    config = preset(compose_train, name)
    model = config.agent.model
    rollout = model["n_steps"] * config.env.num_envs
    assert config.env.vec_backend == "lepton"
    assert 64 <= config.env.num_envs <= 512
    assert rollout >= 8192
    # Whole minibatches: SB3 warns and drops the remainder otherwise.
    assert rollout % model["batch_size"] == 0
    assert model["n_epochs"] <= 4


@pytest.mark.parametrize("name", [n for n in PRESETS if n.startswith("procedural")])
def test_procedural_presets_train_on_train_and_evaluate_on_test(name: str, compose_train) -> None:
    config = preset(compose_train, name)
    assert config.scenario.kwargs["split"] == "train"
    assert config.eval.scenario_kwargs == {"split": "test"}


def test_the_default_run_is_the_global_maskable_ppo_preset(compose_train) -> None:
    default = validate(compose_train([]))
    tuned = preset(compose_train, "global_maskable_ppo")
    assert default.agent.name == "maskable_ppo"
    assert default.agent.model == tuned.agent.model
    assert default.env == tuned.env
    assert default.total_timesteps == tuned.total_timesteps


def test_the_long_preset_is_the_default_with_a_longer_budget(compose_train) -> None:
    default = preset(compose_train, "global_maskable_ppo")
    long = preset(compose_train, "global_maskable_ppo_long")
    assert long.agent.model == default.agent.model
    assert long.env == default.env
    assert long.total_timesteps == 3 * default.total_timesteps


def test_the_tuned_preset_is_the_default_with_longer_rollouts(compose_train) -> None:
    """The same transitions per update (8,192) and budget, in 64-step rollouts of 128 envs."""
    default = preset(compose_train, "global_maskable_ppo")
    tuned = preset(compose_train, "global_maskable_ppo_tuned")
    changed = {"n_steps": 64, "batch_size": 2048}
    assert tuned.agent.model == {**default.agent.model, **changed}
    assert tuned.env.num_envs == 128
    assert dataclasses.replace(tuned.env, num_envs=default.env.num_envs) == default.env
    rollout = tuned.agent.model["n_steps"] * tuned.env.num_envs
    assert rollout == default.agent.model["n_steps"] * default.env.num_envs
    assert tuned.total_timesteps == default.total_timesteps
    # played as trained: actions sampled in validation and in lepton-compare
    assert default.eval.deterministic and not tuned.eval.deterministic


def test_the_procedural_tuned_preset_takes_the_global_tuned_rollouts(compose_train) -> None:
    """procedural_maskable_ppo with global_maskable_ppo_tuned's changes, and only those."""
    default = preset(compose_train, "global_maskable_ppo")
    tuned = preset(compose_train, "global_maskable_ppo_tuned")
    base = preset(compose_train, "procedural_maskable_ppo")
    procedural = preset(compose_train, "procedural_maskable_ppo_tuned")
    changed = {k: v for k, v in tuned.agent.model.items() if default.agent.model[k] != v}
    assert procedural.agent.model == {**base.agent.model, **changed}
    assert procedural.env == dataclasses.replace(base.env, num_envs=tuned.env.num_envs)
    assert procedural.scenario == base.scenario
    assert procedural.eval == dataclasses.replace(base.eval, deterministic=False)
    assert procedural.total_timesteps == base.total_timesteps


def test_the_default_budget_is_the_agents(compose_train) -> None:
    default = validate(compose_train([]))
    budget = default.agent.budget
    assert default.total_timesteps == budget.total_timesteps
    assert default.eval.freq == budget.eval_freq
    assert default.checkpoint.freq == budget.checkpoint_freq
    assert default.logger.kpi_interval == budget.kpi_interval
    # An agent file without a budget block keeps the former default of 50,000 steps.
    assert validate(compose_train(["agent=dqn"])).total_timesteps == 50000
    # A training option other than `default` sets its own budget.
    assert validate(compose_train(["training=long"])).total_timesteps == 1_000_000


def test_a_budget_out_of_range_names_the_key(compose_train) -> None:
    with pytest.raises(ConfigError, match=r"agent.budget.eval_freq = 0: must be in \[1, "):
        validate(compose_train(["agent.budget.eval_freq=0"]))


def test_the_default_preset_builds_its_env_and_agent(compose_train) -> None:
    config = validate(compose_train([]))
    env = make_vec_env(config, seed=0)
    try:
        agent = make_agent(config, env)
        assert env.num_envs == config.env.num_envs
        model = config.agent.model
        assert (agent.n_steps, agent.batch_size) == (model["n_steps"], model["batch_size"])  # type: ignore[attr-defined]
        actions, _ = agent.predict(env.reset(), deterministic=True)
        assert actions.shape == (config.env.num_envs, *env.action_space.shape)
    finally:
        env.close()


@pytest.mark.parametrize("name", AGAINST_THE_OPTIMUM)
def test_toy_presets_play_the_optimum_s_face_to_the_horizon(name: str, compose_train) -> None:
    """The oracle plays the Single face; five quarters and a terminal valuation: gamma 1,
    and the horizon is the episode's end for the learner (no bootstrap past it)."""
    config = preset(compose_train, name)
    assert config.env.action_mode == "discrete"
    assert config.env.horizon_terminal is True
    assert config.agent.model["gamma"] == 1.0
    assert config.env.vec_backend == "lepton"
