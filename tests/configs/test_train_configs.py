"""Every option of every config group composes, validates and instantiates."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.plugins.launcher import Launcher
from hydra.plugins.sweeper import Sweeper
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

import lepton_env
from lepton_env.agents.players.protocol import Agent
from lepton_env.agents.training.factory import make_agent, make_vec_env
from lepton_env.experiments.schema import ConfigError, validate

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
#: Groups of configs/train.yaml; scenario/*.yaml and the evaluate/compare files are others'.
GROUPS = (
    "scenario",
    "env",
    "agent",
    "training",
    "logger",
    "launcher",
    "sweeper",
    "experiment",
    "multiagent",
)
#: Scenarios of several firms: trained with a multiagent option.
MULTI_FIRM = ("duel_toy", "duel_market", "race")


#: Options whose Hydra plugin comes with an extra that `dev` lacks: (module, install hint).
NEEDS_EXTRA = {
    ("launcher", "ray"): ("hydra_plugins.hydra_ray_launcher", "pip install -e '.[ray]'"),
}


def options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONFIGS / group).glob("*.yaml"))


def option_params(group: str) -> list[object]:
    """``(group, option)`` pairs, skipped with the install hint where the extra is missing."""
    params: list[object] = []
    for option in options(group):
        module, hint = NEEDS_EXTRA.get((group, option), (None, ""))
        missing = module is not None and importlib.util.find_spec(module) is None
        marks = pytest.mark.skipif(missing, reason=f"needs the extra: {hint}")
        params.append(pytest.param(group, option, marks=marks, id=f"{group}-{option}"))
    return params


@pytest.fixture
def compose_train() -> Iterator[object]:
    def _compose(overrides: list[str], name: str = "train") -> DictConfig:
        return compose(name, overrides=overrides, return_hydra_config=True)

    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        yield _compose


def test_train_yaml_lists_every_group() -> None:
    text = (CONFIGS / "train.yaml").read_text()
    for group in GROUPS:
        assert f"  - {group}: " in text
        assert options(group), group


@pytest.mark.parametrize(
    ("group", "option"), [param for group in GROUPS for param in option_params(group)]
)
def test_every_option_composes_and_instantiates(group: str, option: str, compose_train) -> None:
    overrides = [f"{group}={option}"]
    if group == "multiagent":
        overrides.append("scenario=duel_toy")
    elif group not in ("scenario", "experiment"):
        overrides.append("scenario=toy")
    if group == "scenario" and option in MULTI_FIRM:
        overrides.append("multiagent=selfplay")
    if group == "env":
        # PPO acts in every face; the default agent (MaskablePPO) lacks the continuous one.
        overrides.append("agent=ppo")
    cfg = compose_train(overrides)
    multi_firm = cfg.get("multiagent") is not None
    config = validate(cfg)
    assert lepton_env.make_params(config.scenario.name, **config.scenario.kwargs).horizon >= 1
    if group in ("launcher", "sweeper"):
        node = cfg.hydra.launcher if group == "launcher" else cfg.hydra.sweeper
        base = Launcher if group == "launcher" else Sweeper
        # Hydra's own plugins are outside `instantiate`'s allowed targets: build them directly.
        plugin = get_class(node._target_)
        assert issubclass(plugin, base)
        keywords = OmegaConf.to_container(node, resolve=True)
        assert isinstance(keywords, dict)
        keywords.pop("_target_")
        assert isinstance(plugin(**keywords), base)
    if group == "sweeper" and option == "optuna":
        assert instantiate(cfg.sweeper.sampler) is not None
        assert instantiate(cfg.sweeper.pruner) is not None
    if multi_firm and cfg.multiagent.mode != "psro":
        from lepton_env.agents.population.selfplay import selfplay_env

        env, _ = selfplay_env(config)
        agent = make_agent(config, env)
        actions, _ = agent.predict(env.reset(), deterministic=True)
        assert len(actions) == env.num_envs
    elif multi_firm and cfg.multiagent.oracle.kind == "ppo":
        # PSRO's learned oracle: the agent in one seat, the others scripted
        from lepton_env.agents.population.common import seat_env
        from lepton_env.multi.firms import agent_ids

        agents = agent_ids(lepton_env.make_params(config.scenario.name, **config.scenario.kwargs))
        env = seat_env(config, 2, agents[0], {other: "HomeOnlyAgent" for other in agents[1:]})
        agent = make_agent(config, env)
        actions, _ = agent.predict(env.reset(), deterministic=True)
        assert len(actions) == env.num_envs
    elif multi_firm:
        pass  # PSRO with the exact or search oracle on a small game: no learner to build
    elif group in ("scenario", "env", "agent", "experiment"):
        env = make_vec_env(config, seed=0, num_envs=2)
        agent = make_agent(config, env)
        assert isinstance(agent, Agent)
        actions, _ = agent.predict(env.reset(), deterministic=True)
        assert len(actions) == 2
        env.close()


@pytest.mark.parametrize("agent", options("agent"))
def test_agent_pairs_with_a_face_it_acts_in(agent: str, compose_train) -> None:
    config = validate(compose_train([f"agent={agent}"]))
    assert config.env.action_mode in config.agent.faces
    assert config.agent.name == agent


def test_tune_config_composes(compose_train) -> None:
    config = validate(compose_train(["agent=sac"], name="tune"))
    assert config.sweeper is not None
    assert config.sweeper.study_name == "global__sac"
    assert config.agent.search_space


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["total_timesteps=0"], "total_timesteps = 0: must be in [1, "),
        (["env.num_envs=0"], "env.num_envs = 0: must be in [1, 65,536]"),
        (["env.vec_backend=threads"], "env.vec_backend = 'threads': allowed"),
        (["agent=dqn", "env=continuous"], "agent 'dqn' acts only in ['discrete']"),
        (["+agent.model_kwargs=1"], "config key 'agent.model_kwargs'"),
        (["eval.episodes=abc"], "config key 'eval.episodes'"),
        (["resume=maybe"], "resume = 'maybe': allowed"),
        (["device=tpu"], "device = 'tpu'"),
        (["seed=999999", "eval.first_seed=1000"], "must stay below eval.first_seed"),
    ],
)
def test_bad_values_name_the_key(overrides: list[str], message: str, compose_train) -> None:
    with pytest.raises(ConfigError) as error:
        validate(compose_train(overrides))
    assert message in str(error.value)


@pytest.mark.parametrize("backend", ["dummy", "subproc", "lepton"])
def test_every_vec_backend_steps_the_face(backend: str, compose_train) -> None:
    config = validate(compose_train(["scenario=toy", "agent=ppo", f"env.vec_backend={backend}"]))
    env = make_vec_env(config, seed=3, num_envs=2)
    try:
        observations = env.reset()
        assert observations.shape == (2, *env.observation_space.shape)
        actions = np.stack([env.action_space.sample() for _ in range(2)])
        _, rewards, dones, infos = env.step(actions)
        assert rewards.shape == (2,) and dones.shape == (2,) and len(infos) == 2
        assert env.get_attr("params", indices=[0])[0].region_names == ("home", "near", "far")
    finally:
        env.close()
