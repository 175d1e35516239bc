"""The schema of ``configs/train.yaml``: every key, its type and its allowed range.

Hydra already refuses a misspelled key given on the command line; this schema
also catches one in a YAML file (an experiment preset, a user's agent file) and
checks every value, so that a bad config stops the run before any training
with a message naming the key, the value and what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

import lepton_env
from lepton_env.agents.training.targets import TargetNotAllowedError, check_prefixes, check_targets
from lepton_env.experiments.hyperparams import (
    MAX_STEPS,
    HyperparameterError,
    check_hyperparameters,
)

ACTION_MODES = tuple(lepton_env.ENV_IDS.values())
VEC_BACKENDS = ("dummy", "subproc", "lepton")
RESUME_CHOICES = ("auto", True, False, "restart")
#: Envs in one vector env (the batched core allocates every env's state at once).
MAX_ENVS = 2**16


class ConfigError(ValueError):
    """A config key or value is wrong; the message names it and what is allowed."""


@dataclass
class ScenarioConfig:
    name: str = "global"
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class NormalizeConfig:
    enabled: bool = False
    norm_obs: bool = False
    norm_reward: bool = True


@dataclass
class ShapingConfig:
    # Weight w of the potential-based shaping by the expected enforcement loss, training
    # only (agents/training/shaping.py); 0 = off.
    enforcement: float = 0.0


@dataclass
class EnvConfig:
    action_mode: str = "multi_discrete"
    num_envs: int = 8
    vec_backend: str = "dummy"
    observation_mode: str = "flat"
    invalid_action: str = "noop"
    # No-op, kept so that old run directories validate: the horizon now ends the episode
    # (terminated=True) on every face (issue 21); it once cleared TimeLimit.truncated.
    horizon_terminal: bool = False
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)
    shaping: ShapingConfig = field(default_factory=ShapingConfig)
    # The reward function's `_target_` class and its keyword arguments.
    reward: dict[str, Any] = field(
        default_factory=lambda: {"_target_": "lepton_env.reward.ProfitReward"}
    )


@dataclass
class BudgetConfig:
    """An agent's default budget: what ``training=default`` reads (env steps, summed over envs).

    Each agent has its own, since one count cannot suit both a PPO preset that
    steps 20,000 envs a second and SAC's one gradient step per env step.
    """

    total_timesteps: int = 50000
    eval_freq: int = 10000
    checkpoint_freq: int = 10000
    kpi_interval: int = 1000


@dataclass
class AgentConfig:
    name: str = "ppo"
    faces: list[str] = field(default_factory=lambda: list(ACTION_MODES))
    on_policy: bool = True
    action_noise_sigma: float | None = None
    # The `_target_` class and its keyword arguments: free-form, checked by instantiation.
    model: dict[str, Any] = field(default_factory=dict)
    search_space: dict[str, Any] = field(default_factory=dict)
    budget: BudgetConfig = field(default_factory=BudgetConfig)


@dataclass
class EvalConfig:
    freq: int = 5000
    episodes: int = 8
    first_seed: int = 1_000_000
    deterministic: bool = True
    scenario_kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass
class FinalTableConfig:
    """The end-of-training table: the trained policy against the baselines."""

    enabled: bool = True
    episodes: int = 8
    first_seed: int = 2_000_000
    oracle: Any = "auto"
    reps: int = 1000
    # name -> {_target_: lepton_env.agents.players.heuristics.X, ...settings}, as in lepton-compare
    baselines: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckpointConfig:
    freq: int = 5000
    keep: int = 2


@dataclass
class LoggerConfig:
    tensorboard: bool = True
    csv: bool = False
    stdout: bool = False
    kpi_interval: int = 1000
    expansion_figure: bool = True


@dataclass
class OptunaConfig:
    n_trials: int = 20
    storage: str | None = None
    study_name: str = "study"
    direction: str = "maximize"
    sampler: dict[str, Any] = field(default_factory=dict)
    pruner: dict[str, Any] = field(default_factory=dict)
    preset_dir: str | None = None
    preset_name: str = "tuned"


@dataclass
class OpponentsConfig:
    """Self-play's opponent population: the learner's frozen snapshots and heuristics."""

    # Learner rollouts (PPO updates) between frozen snapshots added to the population.
    snapshot_every: int = 4
    # Snapshot slots; when all are full the oldest is overwritten.
    max_snapshots: int = 8
    # How the snapshots share their probability: uniform | recent (decay ** age).
    weighting: str = "uniform"
    recent_decay: float = 0.5
    # Heuristic opponents {baseline class name: probability}; the snapshots share the rest.
    heuristics: dict[str, float] = field(default_factory=dict)


@dataclass
class OracleConfig:
    """PSRO's best-response oracle."""

    # exact (lepton_env.games.best_response, small games) | ppo (the run's agent trained
    # against the meta-mixture through a Population) | search (the cross-entropy search of a
    # plan against the meta-mixture, small games)
    kind: str = "exact"
    # exact: feedback (policies over observation histories) | open_loop (plans)
    strategies: str = "feedback"
    # ppo: env steps per best response
    total_timesteps: int = 20000
    # search: the cross-entropy search's settings (CrossEntropySearchAgent's keys; the family
    # is plans), e.g. population, generations, elite_fraction, smoothing, seed
    search: dict[str, Any] = field(default_factory=dict)


@dataclass
class MultiAgentConfig:
    """Population training of several firms (configs/multiagent/*.yaml)."""

    # selfplay | psro | independent
    mode: str = "selfplay"
    opponents: OpponentsConfig = field(default_factory=OpponentsConfig)
    # psro: iterations at most, the NashConv that stops it, the initial population
    # (solo: each firm's single-firm oracle plan | a heuristic class name)
    iterations: int = 10
    tolerance: float = 1e-9
    initial: str = "solo"
    # psro: auto (nashpy for two firms, replicator beyond) | nashpy | replicator (OpenSpiel's
    # projected replicator dynamics) | alpharank (OpenSpiel's alpha-rank, its marginals)
    meta_solver: str = "auto"
    # psro on a large game (race): episodes per payoff-table cell (seeds from 1,000,000)
    table_episodes: int = 32
    oracle: OracleConfig = field(default_factory=OracleConfig)
    # Small games: the exact NashConv of the learned profile (false: skipped), over episodes
    # 0..exact_seeds-1 (coins enumerated), every exact_every rollouts (0: at the end only).
    exact: bool = True
    exact_seeds: int = 16
    exact_every: int = 0


@dataclass
class TrainConfig:
    seed: int = 0
    resume: Any = "auto"
    run_name: str = "run"
    trust: bool = False
    allowed_targets: list[str] = field(default_factory=list)
    scenario: ScenarioConfig = field(default_factory=ScenarioConfig)
    env: EnvConfig = field(default_factory=EnvConfig)
    agent: AgentConfig = field(default_factory=AgentConfig)
    total_timesteps: int = 30000
    device: str = "auto"
    gpu_for_small_mlp: bool = False
    torch_threads: int | None = None
    progress_bar: bool = True
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    logger: LoggerConfig = field(default_factory=LoggerConfig)
    final_table: FinalTableConfig = field(default_factory=FinalTableConfig)
    # Present only with sweeper=optuna (lepton-tune).
    sweeper: OptunaConfig | None = None
    # Several learning firms (multiagent=selfplay|psro|independent); None: one firm.
    multiagent: MultiAgentConfig | None = None


def _at_least(name: str, value: int | float, low: int | float) -> None:
    if value < low:
        raise ConfigError(f"{name} = {value!r}: must be >= {low}")


def _within(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{name} = {value!r}: must be in [{low}, {high:,}]")


def _one_of(name: str, value: Any, allowed: tuple[Any, ...] | list[Any]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} = {value!r}: allowed {list(allowed)}")


def check_values(config: TrainConfig) -> None:
    """Ranges and choices of every value that has one; raises :class:`ConfigError`."""
    _at_least("seed", config.seed, 0)
    if config.seed > 2**32 - 1:
        # SB3 seeds NumPy's global generator with it, which takes 32-bit seeds.
        raise ConfigError(f"seed = {config.seed}: must be in [0, 2**32 - 1]")
    _one_of("resume", config.resume, RESUME_CHOICES)
    _within("total_timesteps", config.total_timesteps, 1, MAX_STEPS)
    device = config.device
    if not (device in ("auto", "cpu", "cuda", "mps") or device.startswith("cuda:")):
        raise ConfigError(f"device = {device!r}: allowed 'auto', 'cpu', 'cuda', 'cuda:N', 'mps'")
    if config.torch_threads is not None:
        _at_least("torch_threads", config.torch_threads, 1)
    _one_of("scenario.name", config.scenario.name, sorted(lepton_env.SCENARIOS))
    env = config.env
    _one_of("env.action_mode", env.action_mode, ACTION_MODES)
    _within("env.num_envs", env.num_envs, 1, MAX_ENVS)
    _one_of("env.vec_backend", env.vec_backend, VEC_BACKENDS)
    _one_of("env.observation_mode", env.observation_mode, ("flat", "dict"))
    _one_of("env.invalid_action", env.invalid_action, ("noop", "raise"))
    _within("env.shaping.enforcement", env.shaping.enforcement, 0.0, 100.0)
    if env.shaping.enforcement and env.observation_mode != "flat":
        raise ConfigError(
            f"env.shaping.enforcement = {env.shaping.enforcement}: reads the flat observation; "
            f"allowed with env.observation_mode = 'flat' only (got {env.observation_mode!r})"
        )
    agent = config.agent
    for face in agent.faces:
        _one_of("agent.faces[...]", face, ACTION_MODES)
    if env.action_mode not in agent.faces:
        raise ConfigError(
            f"env.action_mode = {env.action_mode!r}: agent {agent.name!r} acts only in "
            f"{agent.faces} (choose env={agent.faces[0]} or another agent)"
        )
    if "_target_" not in agent.model:
        raise ConfigError(f"agent.model of agent {agent.name!r} needs a `_target_` class path")
    for key in ("total_timesteps", "eval_freq", "checkpoint_freq", "kpi_interval"):
        _within(f"agent.budget.{key}", getattr(agent.budget, key), 1, MAX_STEPS)
    try:
        allowed = check_prefixes(config.allowed_targets)
        check_targets(env.reward, "env.reward", allowed)
        check_targets(agent.model, "agent.model", allowed)
        check_hyperparameters(agent.model, agent.name)
    except (TargetNotAllowedError, HyperparameterError) as error:
        raise ConfigError(str(error)) from None
    if agent.action_noise_sigma is not None:
        _at_least("agent.action_noise_sigma", agent.action_noise_sigma, 0.0)
    _at_least("eval.freq", config.eval.freq, 1)
    _at_least("eval.episodes", config.eval.episodes, 1)
    _at_least("eval.first_seed", config.eval.first_seed, 0)
    if config.eval.first_seed + config.eval.episodes > 2**64:
        raise ConfigError(
            f"eval.first_seed = {config.eval.first_seed}: with eval.episodes = "
            f"{config.eval.episodes} the held-out seeds pass 2**64 - 1"
        )
    if config.seed + env.num_envs > config.eval.first_seed:
        raise ConfigError(
            f"seed = {config.seed}: training seeds seed..seed+num_envs-1 must stay below "
            f"eval.first_seed = {config.eval.first_seed} (held-out evaluation seeds)"
        )
    _at_least("checkpoint.freq", config.checkpoint.freq, 1)
    _at_least("checkpoint.keep", config.checkpoint.keep, 1)
    _at_least("logger.kpi_interval", config.logger.kpi_interval, 1)
    table = config.final_table
    _at_least("final_table.episodes", table.episodes, 1)
    _at_least("final_table.reps", table.reps, 1)
    _one_of("final_table.oracle", table.oracle, ("auto", True, False))
    for name, spec in table.baselines.items():
        if not isinstance(spec, dict) or "_target_" not in spec:
            raise ConfigError(
                f"final_table.baselines.{name} = {spec!r}: a mapping with a `_target_` class"
            )
        try:
            check_targets(spec, f"final_table.baselines.{name}", allowed)
        except TargetNotAllowedError as error:
            raise ConfigError(str(error)) from None
    if config.sweeper is not None:
        for part in ("sampler", "pruner"):
            try:
                check_targets(getattr(config.sweeper, part), f"sweeper.{part}", allowed)
            except TargetNotAllowedError as error:
                raise ConfigError(str(error)) from None
        _at_least("sweeper.n_trials", config.sweeper.n_trials, 1)
        _one_of("sweeper.direction", config.sweeper.direction, ("maximize", "minimize"))


MULTIAGENT_MODES = ("selfplay", "psro", "independent")
ORACLES = ("exact", "ppo", "search")
META_SOLVERS = ("auto", "nashpy", "replicator", "alpharank")
SNAPSHOT_WEIGHTING = ("uniform", "recent")


def check_multiagent(config: TrainConfig) -> None:
    """The ``multiagent`` group's keys; raises :class:`ConfigError` naming key and range."""
    from lepton_env.agents.players.heuristics import BASELINES

    num_firms = lepton_env.make_params(config.scenario.name, **config.scenario.kwargs).num_firms
    multi = config.multiagent
    if multi is None:
        if num_firms > 1:
            raise ConfigError(
                f"scenario.name = {config.scenario.name!r} has {num_firms} firms: choose "
                f"multiagent={'|'.join(MULTIAGENT_MODES)} (configs/multiagent/)"
            )
        return
    if num_firms < 2:
        raise ConfigError(
            f"multiagent.mode = {multi.mode!r}: scenario.name = {config.scenario.name!r} has one "
            "firm; multiagent needs a scenario with two or more (duel_toy, duel_market, race)"
        )
    _one_of("multiagent.mode", multi.mode, MULTIAGENT_MODES)
    opponents = multi.opponents
    _within("multiagent.opponents.snapshot_every", opponents.snapshot_every, 1, MAX_STEPS)
    _within("multiagent.opponents.max_snapshots", opponents.max_snapshots, 1, 1024)
    _one_of("multiagent.opponents.weighting", opponents.weighting, SNAPSHOT_WEIGHTING)
    if not 0.0 < opponents.recent_decay <= 1.0:
        raise ConfigError(
            f"multiagent.opponents.recent_decay = {opponents.recent_decay!r}: must be in (0, 1]"
        )
    for name, probability in opponents.heuristics.items():
        _one_of("multiagent.opponents.heuristics key", name, sorted(BASELINES))
        if not 0.0 <= probability < 1.0:
            raise ConfigError(
                f"multiagent.opponents.heuristics.{name} = {probability!r}: a probability in [0, 1)"
            )
    total = sum(opponents.heuristics.values())
    if total >= 1.0:
        raise ConfigError(
            f"multiagent.opponents.heuristics sum to {total}: must be < 1 (the snapshots "
            "share the rest)"
        )
    _within("multiagent.iterations", multi.iterations, 1, 1000)
    _at_least("multiagent.tolerance", multi.tolerance, 0.0)
    if multi.initial != "solo":
        _one_of("multiagent.initial", multi.initial, ["solo", *sorted(BASELINES)])
    _one_of("multiagent.meta_solver", multi.meta_solver, META_SOLVERS)
    _one_of("multiagent.oracle.kind", multi.oracle.kind, ORACLES)
    _one_of("multiagent.oracle.strategies", multi.oracle.strategies, ("feedback", "open_loop"))
    _within("multiagent.oracle.total_timesteps", multi.oracle.total_timesteps, 1, MAX_STEPS)
    _within("multiagent.exact_seeds", multi.exact_seeds, 1, 4096)
    _within("multiagent.exact_every", multi.exact_every, 0, MAX_STEPS)
    _within("multiagent.table_episodes", multi.table_episodes, 2, 4096)
    small = config.scenario.name in SMALL_GAMES
    if multi.mode == "psro" and not small:
        # payoff tables estimated from play (agents/population/empirical.py): no exact
        # oracle, no single-firm oracle plan to start from
        if multi.oracle.kind != "ppo":
            raise ConfigError(
                f"multiagent.oracle.kind = {multi.oracle.kind!r}: scenario.name = "
                f"{config.scenario.name!r} is no small game ({list(SMALL_GAMES)}); allowed "
                "'ppo' there"
            )
        if multi.initial == "solo":
            raise ConfigError(
                f"multiagent.initial = 'solo': the single-firm oracle plans exist on the small "
                f"games only ({list(SMALL_GAMES)}); on {config.scenario.name!r} allowed a "
                f"heuristic: {sorted(BASELINES)}"
            )
        if multi.meta_solver == "nashpy" and num_firms != 2:
            raise ConfigError(
                f"multiagent.meta_solver = 'nashpy' solves two-firm games; "
                f"{config.scenario.name!r} has {num_firms} firms: allowed auto, replicator, "
                "alpharank"
            )
    if multi.mode == "psro" and multi.meta_solver in ("replicator", "alpharank", "auto"):
        needs_openspiel = multi.meta_solver != "auto" or num_firms > 2
        try:
            import pyspiel  # noqa: F401
        except ImportError:
            if needs_openspiel:
                raise ConfigError(
                    f"multiagent.meta_solver = {multi.meta_solver!r} ({num_firms} firms) needs "
                    "OpenSpiel: pip install 'lepton-env[games]' (the open-spiel package)"
                ) from None
    if (
        multi.mode == "psro"
        and small
        and multi.oracle.kind == "ppo"
        and config.env.action_mode != "discrete"
    ):
        raise ConfigError(
            f"env.action_mode = {config.env.action_mode!r}: PSRO's payoff tables are exact "
            "on the Single face, so a learned member must play it; allowed 'discrete' "
            "(env=discrete)"
        )
    if multi.mode == "psro" and multi.oracle.kind == "search":
        check_search_settings(multi.oracle.search)
    learning = multi.mode != "psro" or multi.oracle.kind == "ppo"
    if learning and config.env.vec_backend != "lepton":
        raise ConfigError(
            f"env.vec_backend = {config.env.vec_backend!r}: multiagent={multi.mode} runs on "
            "the batched multi-agent VecEnv; allowed 'lepton'"
        )


def check_search_settings(settings: dict[str, Any]) -> None:
    """``multiagent.oracle.search``: CrossEntropySearchAgent's keys and ranges (the family is
    plans, the budget is the search's own: generations and population)."""
    from lepton_env.agents.players.search import CrossEntropySearchAgent, _validate

    fixed = {"family", "train_seeds", "validation_episodes", "max_wall_seconds"}
    allowed = sorted(set(CrossEntropySearchAgent.SETTINGS) - fixed)
    unknown = sorted(set(settings) - set(allowed))
    if unknown:
        raise ConfigError(f"multiagent.oracle.search keys {unknown}: allowed {allowed}")
    try:
        _validate({**CrossEntropySearchAgent.SETTINGS, **settings, "family": "plans"})
    except ValueError as error:
        raise ConfigError(f"multiagent.oracle.search.{error}") from None


#: The scenarios on which exact best responses are computed (lepton_env.games.SmallGame).
SMALL_GAMES = ("duel_toy", "duel_market")


def validate(cfg: DictConfig) -> TrainConfig:
    """Merge ``cfg`` into the schema (unknown keys and wrong types fail) and check values.

    Returns the typed config; raises :class:`ConfigError` naming the offending key.
    """
    try:
        # `hydra` is present when composed with return_hydra_config; it is Hydra's to check.
        plain = {
            key: OmegaConf.to_container(value, resolve=True)
            if OmegaConf.is_config(value)
            else value
            for key, value in cfg.items()
            if key != "hydra"
        }
        merged = OmegaConf.merge(OmegaConf.structured(TrainConfig), plain)
        config = OmegaConf.to_object(merged)
    except OmegaConfBaseException as error:
        key = getattr(error, "full_key", None) or "?"
        reason = str(error).splitlines()[0]
        raise ConfigError(f"config key {key!r}: {reason}") from None
    assert isinstance(config, TrainConfig)
    check_values(config)
    check_multiagent(config)
    return config
