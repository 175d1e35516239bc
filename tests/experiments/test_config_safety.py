"""Bad hyperparameters and unlisted targets stop lepton-train before any env is built."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

import lepton_env.experiments.train as train_module
from lepton_env.agents.training.targets import TargetNotAllowedError, check_target, check_targets
from lepton_env.experiments.hyperparams import Bound, HyperparameterError, check_hyperparameters
from lepton_env.experiments.schema import ConfigError

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.fixture
def compose_train() -> Iterator[Any]:
    def _compose(overrides: list[str]) -> DictConfig:
        return compose(
            "train", overrides=["scenario=toy", "training=smoke", "agent=ppo", *overrides]
        )

    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        yield _compose


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building an env (or touching the run directory's lock) fails the test."""

    def built(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("an env was built before the config was rejected")

    import lepton_env.agents.training.factory as factory_module

    # train.py imports the factory (SB3) only once the config validates
    monkeypatch.setattr(factory_module, "make_vec_env", built)
    monkeypatch.setattr(train_module, "run_lock", built)


NUMBER = "must be a number in"
INTEGER = "must be an integer in"
WIDTHS = "must be a list of positive integer layer widths"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("agent.model.gamma=2.0", f"agent.model.gamma = 2.0 (agent 'ppo'): {NUMBER} (0, 1]"),
        ("agent.model.gamma=0", f"agent.model.gamma = 0 (agent 'ppo'): {NUMBER} (0, 1]"),
        (
            "agent.model.clip_range=-0.2",
            f"agent.model.clip_range = -0.2 (agent 'ppo'): {NUMBER} (0, inf)",
        ),
        (
            "agent.model.learning_rate=abc",
            f"agent.model.learning_rate = 'abc' (agent 'ppo'): {NUMBER} (0, inf)",
        ),
        (
            "agent.model.learning_rate=-1",
            f"agent.model.learning_rate = -1 (agent 'ppo'): {NUMBER} (0, inf)",
        ),
        (
            "agent.model.policy_kwargs.net_arch=[-4]",
            f"agent.model.policy_kwargs.net_arch = [-4] (agent 'ppo'): {WIDTHS}",
        ),
        (
            "agent.model.batch_size=0",
            f"agent.model.batch_size = 0 (agent 'ppo'): {INTEGER} (0, inf)",
        ),
        ("agent.model.n_steps=1.5", f"agent.model.n_steps = 1.5 (agent 'ppo'): {INTEGER} (0, inf)"),
        (
            "agent.model.gae_lambda=1.5",
            f"agent.model.gae_lambda = 1.5 (agent 'ppo'): {NUMBER} [0, 1]",
        ),
        ("seed=4294967296", "seed = 4294967296: must be in [0, 2**32 - 1]"),
        ("eval.first_seed=18446744073709551615", "the held-out seeds pass 2**64 - 1"),
        (
            "env.reward._target_=shutil.copyfile",
            "env.reward._target_ = 'shutil.copyfile': not an allowed target",
        ),
        (
            "agent.model._target_=stable_baselines3.PPO.load",
            "agent.model._target_ = 'stable_baselines3.PPO.load': not an allowed target",
        ),
    ],
)
def test_bad_values_are_rejected_before_any_env(
    compose_train: Any, no_env: None, override: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as raised:
        train_module.train(compose_train([override]), tmp_path / "run")
    assert message in str(raised.value)
    assert not (tmp_path / "run").exists()


def test_sac_keys_are_bounded(compose_train: Any, no_env: None, tmp_path: Path) -> None:
    cfg = compose_train(["agent=sac", "agent.model.tau=0", "agent.model.buffer_size=-3"])
    with pytest.raises(ConfigError, match=r"agent.model.(tau = 0|buffer_size = -3)"):
        train_module.train(cfg, tmp_path / "run")


def test_every_shipped_agent_passes_the_bounds(compose_train: Any) -> None:
    from lepton_env.experiments.schema import validate

    for agent in sorted(path.stem for path in (CONFIGS / "agent").glob("*.yaml")):
        validate(compose_train([f"agent={agent}"]))


def test_a_listed_prefix_is_allowed_and_matches_whole_components() -> None:
    assert check_target("my_agents.tabular.Agent", "x", ["my_agents"]) == "my_agents.tabular.Agent"
    with pytest.raises(TargetNotAllowedError, match="allowed_targets"):
        check_target("my_agents_evil.X", "x", ["my_agents"])
    check_target("torch.nn.ReLU", "x")
    check_target("sb3_contrib.MaskablePPO", "x")
    check_target("lepton_env.agents.players.heuristics.RandomAgent", "x")
    with pytest.raises(TargetNotAllowedError):
        check_target("torch.nn.Linear", "x")  # a layer, not an activation
    with pytest.raises(TargetNotAllowedError, match=r"a\.b\[0\]\._target_ = 'os.system'"):
        check_targets({"b": [{"_target_": "os.system"}]}, "a")


def test_allowed_targets_lets_a_user_package_in(compose_train: Any) -> None:
    from lepton_env.experiments.schema import validate

    override = "agent.model._target_=my_agents.tabular.TabularQAgent"
    with pytest.raises(ConfigError, match="allowed_targets"):
        validate(compose_train([override]))
    validate(compose_train([override, "allowed_targets=[my_agents]"]))


def test_bound_edges() -> None:
    gamma = Bound(float, 0.0, 1.0, low_open=True)
    assert gamma.accepts(1.0) and gamma.accepts(1) and not gamma.accepts(0.0)
    assert not gamma.accepts(True) and not gamma.accepts(float("nan"))
    assert gamma.describe() == "a number in (0, 1]"
    ent = Bound(float, 0.0, also=("auto",))
    assert ent.accepts("auto") and not ent.accepts("abc") and not ent.accepts(-0.1)
    with pytest.raises(HyperparameterError, match=r"train_freq = \[4, 'hour'\]"):
        check_hyperparameters({"train_freq": [4, "hour"]}, "sac")
    check_hyperparameters({"train_freq": [1, "episode"], "gradient_steps": -1}, "sac")
