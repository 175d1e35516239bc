"""Build what a training run needs from its config: vector envs, the agent, the device.

The agent is whatever class ``agent.model._target_`` names: any SB3 or sb3-contrib
algorithm, or a user's own class satisfying :class:`lepton_env.agents.players.protocol.Agent`.
The pipeline supplies ``env`` and ``seed`` (and ``device`` / ``verbose`` /
``action_noise`` where the class's constructor takes them); every other keyword
comes from the config. No name-based dispatch: Hydra instantiates the target.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import hydra.utils
import numpy as np
from hydra.errors import InstantiationException
from hydra.utils import get_class, instantiate
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import (
    DummyVecEnv,
    SubprocVecEnv,
    VecEnv,
    VecMonitor,
)

import lepton_env
from lepton_env.agents.players.protocol import Agent
from lepton_env.agents.training.targets import policy_class
from lepton_env.experiments.hyperparams import with_activation_classes
from lepton_env.experiments.schema import ConfigError

if TYPE_CHECKING:
    from lepton_env.experiments.schema import TrainConfig

#: The registered id of each action mode (the env faces).
ENV_ID_OF_MODE = {mode: env_id for env_id, mode in lepton_env.ENV_IDS.items()}

#: Policies that SB3's maintainers advise running on the CPU with on-policy agents.
SMALL_MLP_POLICIES = (
    "MlpPolicy",
    "MlpLstmPolicy",
    "MultiInputPolicy",
    "MultiInputLstmPolicy",
    "lepton_env.agents.training.policies.MaskableMultiCategoricalPolicy",
    "lepton_env.agents.training.shared_policy.RegionSharedPolicy",
)


class AgentConfigError(ConfigError):
    """``agent.model`` cannot be instantiated (unknown class, unknown keyword ...)."""


def env_kwargs(
    config: TrainConfig, scenario_kwargs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``gymnasium.make`` keywords of the run's env face and scenario."""
    return {
        "scenario": config.scenario.name,
        "reward_function": hydra.utils.instantiate(config.env.reward),
        "observation_mode": config.env.observation_mode,
        "invalid_action": config.env.invalid_action,
        **config.scenario.kwargs,
        **(scenario_kwargs or {}),
    }


def _dummy(env_id: str, num_envs: int, seed: int, kwargs: dict[str, Any]) -> VecEnv:
    venv = DummyVecEnv([partial(gym.make, env_id, **kwargs) for _ in range(num_envs)])
    venv.seed(seed)
    return venv


def _subproc(env_id: str, num_envs: int, seed: int, kwargs: dict[str, Any]) -> VecEnv:
    # "module:id" makes each fresh worker process import lepton_env (registering the ids).
    qualified = f"lepton_env:{env_id}"
    venv = SubprocVecEnv([partial(gym.make, qualified, **kwargs) for _ in range(num_envs)])
    venv.seed(seed)
    return venv


def _lepton(env_id: str, num_envs: int, seed: int, kwargs: dict[str, Any]) -> VecEnv:
    builder = getattr(lepton_env, "make_vec_env", None)
    if builder is None:
        raise AgentConfigError(
            "env.vec_backend = 'lepton': this lepton_env has no make_vec_env; "
            "allowed here 'dummy' or 'subproc'"
        )
    venv: VecEnv = builder(env_id, num_envs=num_envs, seed=seed, **kwargs)
    return venv


#: How each ``env.vec_backend`` builds ``num_envs`` envs seeded ``seed, seed + 1, ...``.
VEC_BACKENDS: dict[str, Callable[[str, int, int, dict[str, Any]], VecEnv]] = {
    "dummy": _dummy,
    "subproc": _subproc,
    "lepton": _lepton,
}


def make_vec_env(
    config: TrainConfig,
    *,
    seed: int,
    num_envs: int | None = None,
    backend: str | None = None,
    scenario_kwargs: dict[str, Any] | None = None,
) -> VecEnv:
    """The run's env face as an SB3 VecEnv with episode stats in ``info["episode"]``.

    Per-env backends are wrapped in VecMonitor; the batched ``lepton`` backend
    reports the same statistics itself. The horizon ends the episode (``terminated``,
    no ``TimeLimit.truncated``) on every face, so no learner bootstraps past it;
    ``env.horizon_terminal``, which once cleared that flag, is a no-op kept for old run
    directories (issue 21).
    """
    env_id = ENV_ID_OF_MODE[config.env.action_mode]
    build = VEC_BACKENDS[backend or config.env.vec_backend]
    venv = build(env_id, num_envs or config.env.num_envs, seed, env_kwargs(config, scenario_kwargs))
    if not venv.env_is_wrapped(Monitor)[0]:
        venv = VecMonitor(venv)
    return venv


def resolve_device(config: TrainConfig) -> str:
    """``device=auto``: the GPU when present, except where SB3 advises the CPU.

    SB3's maintainers advise the CPU for on-policy agents (PPO, A2C) with small
    MLP policies: the rollout is CPU-bound and the network too small to gain
    from a GPU. ``gpu_for_small_mlp=true`` overrides the advice.
    """
    if config.device != "auto":
        return config.device
    import torch

    if not torch.cuda.is_available():
        return "cpu"
    policy = config.agent.model.get("policy")
    small_mlp = config.agent.on_policy and policy in SMALL_MLP_POLICIES
    if small_mlp and not config.gpu_for_small_mlp:
        return "cpu"
    return "cuda"


def _accepted(cls: type, name: str) -> bool:
    parameters = inspect.signature(cls).parameters
    return name in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def agent_class(config: TrainConfig) -> Any:
    """The class named by ``agent.model._target_``."""
    target = config.agent.model["_target_"]
    try:
        return get_class(target)
    except Exception as error:
        raise AgentConfigError(f"agent.model._target_ = {target!r}: {error}") from None


def check_agent_keywords(config: TrainConfig) -> None:
    """Fail early (before any env or log exists) on a keyword the agent's class lacks."""
    cls = agent_class(config)
    keywords = {key: None for key in config.agent.model if key != "_target_"}
    try:
        inspect.signature(cls).bind_partial(**keywords)
    except TypeError as error:
        raise AgentConfigError(f"agent.model of agent {config.agent.name!r}: {error}") from None


def make_agent(config: TrainConfig, env: VecEnv, device: str = "cpu") -> Agent:
    """Instantiate ``agent.model`` on ``env``; a bad keyword fails naming the agent."""
    cls = agent_class(config)
    supplied: dict[str, Any] = {"env": env, "seed": config.seed}
    if "policy" in config.agent.model:
        supplied["policy"] = policy_class(config.agent.model["policy"])
    if _accepted(cls, "device"):
        supplied["device"] = device
    if _accepted(cls, "verbose"):
        supplied["verbose"] = 0
    sigma = config.agent.action_noise_sigma
    if sigma is not None:
        dims = int(np.prod(env.action_space.shape or ()))
        supplied["action_noise"] = NormalActionNoise(np.zeros(dims), np.full(dims, sigma))
    try:
        model = with_activation_classes(config.agent.model)
        agent = instantiate(model, **supplied, _convert_="all")
    except InstantiationException as error:
        reason = str(error).strip().splitlines()[-1]
        raise AgentConfigError(f"agent.model of agent {config.agent.name!r}: {reason}") from None
    if not isinstance(agent, Agent):
        raise AgentConfigError(
            f"agent.model._target_ = {config.agent.model['_target_']!r} lacks the agent "
            "protocol (learn / predict / save / load, agents/players/protocol.py)"
        )
    return agent


def load_agent(
    config: TrainConfig, path: str, env: VecEnv, device: str = "cpu", trust: bool = False
) -> Agent:
    """Read an agent written by ``save``, attached to ``env``.

    An SB3 algorithm is read without unpickling (agents/training/loading.py): its pickled
    entries are rebuilt from the run's config and ``env``, unless ``trust``.
    Another agent class reads its own file with its ``load``.
    """
    from stable_baselines3.common.base_class import BaseAlgorithm

    from lepton_env.agents.training.loading import load_algorithm

    cls = agent_class(config)
    if isinstance(cls, type) and issubclass(cls, BaseAlgorithm):
        model = with_activation_classes(config.agent.model)
        known = instantiate(
            {key: value for key, value in model.items() if key != "_target_"},
            _convert_="all",
        )
        if "policy" in known:
            known["policy"] = policy_class(known["policy"])
        sigma = config.agent.action_noise_sigma
        if sigma is not None:
            dims = int(np.prod(env.action_space.shape or ()))
            known["action_noise"] = NormalActionNoise(np.zeros(dims), np.full(dims, sigma))
        loaded: Agent = load_algorithm(cls, path, env=env, known=known, trust=trust, device=device)
        return loaded
    kwargs: dict[str, Any] = {"env": env}
    if _accepted(cls.load, "device"):
        kwargs["device"] = device
    agent: Agent = cls.load(path, **kwargs)
    return agent
