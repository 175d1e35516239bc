"""Evaluation: the pipeline behind ``lepton-eval`` and ``lepton-compare``.

:func:`run_evaluation` builds the contenders a config names (saved models
loaded here by :func:`load_model`; baselines and the oracle by
:mod:`lepton_env.agents.comparison.contenders`), plays them on held-out seeds
(:mod:`lepton_env.agents.comparison.episodes`), computes the statistics and honest
scores (:mod:`lepton_env.agents.comparison.scores` over
:mod:`lepton_env.agents.comparison.stats`) and writes the reports
(:mod:`lepton_env.agents.comparison.reports`), figures
(:mod:`lepton_env.agents.comparison.plots`) and TensorBoard reference lines
(:mod:`lepton_env.agents.comparison.tensorboard_reference`), showing its progress on
stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pandas as pd
from numpy.typing import NDArray

import lepton_env
from lepton_env.agents.comparison.contenders import (
    Contender,
    action_mode_env_id,
    baseline_contenders,
    oracle_contender,
)
from lepton_env.agents.comparison.episodes import (
    TEST_EPISODES,
    TEST_FIRST_SEED,
    accepts_action_masks,
    run_scores,
)
from lepton_env.agents.comparison.reports import (
    console_table,
    improvement_markdown,
    strategy_report,
    summary_markdown,
)
from lepton_env.agents.comparison.scores import HonestScores, improvement_probabilities, summarize


def read_run_config(run_dir: Path) -> dict[str, Any]:
    """The resolved config of a ``lepton-train`` run (``config.yaml``, else ``.hydra/``)."""
    import yaml

    for candidate in (run_dir / "config.yaml", run_dir / ".hydra" / "config.yaml"):
        if candidate.exists():
            loaded = yaml.safe_load(candidate.read_text())
            return dict(loaded or {})
    raise FileNotFoundError(
        f"{run_dir} has no config.yaml or .hydra/config.yaml: is it a lepton-train run directory?"
    )


def load_model(
    path: str | Path,
    class_path: str | None = None,
    env_id: str | None = None,
    *,
    trust: bool = False,
    allowed_targets: Sequence[str] = (),
    **env_kwargs: Any,
) -> tuple[Any, str, dict[str, Any], Path | None]:
    """Load a saved model: ``(agent, env_id, env kwargs, run_dir)``.

    ``path`` is a run directory of ``lepton-train`` (its ``best_model.zip``, or
    ``final_model.zip``, loaded with the class its config names, on the face and
    scenario it trained on) or a model file with ``class_path`` (e.g.
    ``sb3_contrib.MaskablePPO``) and ``env_id`` given. A saved ``VecNormalize``
    with observation normalization is applied to the observations.

    Nothing in the files runs as code unless ``trust`` (agents/training/loading.py): the
    class must be an allowed target (agents/training/targets.py; the run directory's own
    ``allowed_targets`` do not count, only ``allowed_targets`` given here).
    """
    from hydra.utils import get_class

    from lepton_env.agents.training.loading import load_algorithm
    from lepton_env.agents.training.targets import check_target

    location = Path(path)
    run_dir: Path | None = None
    normalization: Path | None = None
    known: dict[str, Any] = {}
    if location.is_dir():
        run_dir = location
        config = read_run_config(run_dir)
        class_path = class_path or config["agent"]["model"]["_target_"]
        known = _config_values(config["agent"]["model"], allowed_targets)
        modes = {mode: env for env, mode in lepton_env.ENV_IDS.items()}
        env = config.get("env", {})
        env_id = env_id or modes[env.get("action_mode", "multi_discrete")]
        scenario = config.get("scenario", {})
        env_kwargs = {
            "scenario": scenario.get("name", "global"),
            **scenario.get("kwargs", {}),
            "observation_mode": env.get("observation_mode", "flat"),
            **env_kwargs,
        }
        model_file = next(
            (
                run_dir / name
                for name in ("best_model.zip", "final_model.zip")
                if (run_dir / name).exists()
            ),
            None,
        )
        if model_file is None:
            raise FileNotFoundError(f"{run_dir} holds neither best_model.zip nor final_model.zip")
        if env.get("normalize", {}).get("enabled") and env["normalize"].get("norm_obs"):
            normalization = run_dir / "best_vecnormalize.pkl"
    else:
        if class_path is None or env_id is None:
            raise ValueError(
                f"model {path}: a model file needs class_path (e.g. 'stable_baselines3.PPO') "
                "and env_id; a lepton-train run directory carries both in its config"
            )
        model_file = location
    if not model_file.exists():
        raise FileNotFoundError(f"model file {model_file} does not exist")
    agent_class: Any = get_class(check_target(class_path, f"class_path of {path}", allowed_targets))
    probe = gym.make(env_id, **env_kwargs)
    spaces = {"observation_space": probe.observation_space, "action_space": probe.action_space}
    probe.close()
    agent = load_algorithm(agent_class, model_file, spaces=spaces, known=known, trust=trust)
    if normalization is not None and (
        normalization.exists() or normalization.with_suffix(".npz").exists()
    ):
        agent = _ObservationNormalized(agent, normalization, env_id, env_kwargs, trust)
    return agent, env_id, dict(env_kwargs), run_dir


def _config_values(model: dict[str, Any], allowed_targets: Sequence[str]) -> dict[str, Any]:
    """``agent.model``'s keywords as objects (nested targets checked, then instantiated)."""
    from hydra.utils import instantiate

    from lepton_env.agents.training.targets import check_targets, policy_class
    from lepton_env.experiments.hyperparams import with_activation_classes

    values = {key: value for key, value in model.items() if key != "_target_"}
    check_targets(values, "agent.model", allowed_targets)
    built: dict[str, Any] = instantiate(with_activation_classes(values), _convert_="all")
    if "policy" in built:
        built["policy"] = policy_class(built["policy"])
    return built


class _ObservationNormalized:
    """An agent behind the observation normalization it was trained with."""

    def __init__(
        self,
        agent: Any,
        stats: Path,
        env_id: str,
        env_kwargs: dict[str, Any],
        trust: bool = False,
    ) -> None:
        from stable_baselines3.common.vec_env import DummyVecEnv

        from lepton_env.agents.training.loading import load_vec_normalize

        venv = DummyVecEnv([lambda: gym.make(env_id, **env_kwargs)])
        self.normalizer = load_vec_normalize(stats, venv, trust)
        self.normalizer.training = False
        self.agent = agent
        if accepts_action_masks(agent):
            self.predict = self._predict_masked  # type: ignore[method-assign]

    def predict(self, observation: Any, **kwargs: Any) -> Any:
        return self.agent.predict(self.normalizer.normalize_obs(observation), **kwargs)

    def _predict_masked(self, observation: Any, action_masks: Any = None, **kwargs: Any) -> Any:
        return self.agent.predict(
            self.normalizer.normalize_obs(observation), action_masks=action_masks, **kwargs
        )


# ---------------------------------------------------------------------- the pipeline
def build_contenders(cfg: Any, on_build: Callable[[str], None] | None = None) -> list[Contender]:
    """The agents a ``lepton-eval`` / ``lepton-compare`` config names.

    ``cfg.models``: name -> run directory, glob of run directories, list of
    them, or ``{path, class_path, env_id}``; ``cfg.baselines``: name ->
    ``{_target_: lepton_env.agents.players.heuristics.X, ...settings}`` built on the config's face,
    those named by ``cfg.use_baselines`` (``all`` or a list) played;
    ``cfg.oracle``: ``auto`` adds the exact oracle where the scenario is
    deterministic, ``true`` requires it. ``on_build(name)`` is called before each
    baseline and the oracle are built (searching and solving take the time).

    ``cfg.eval.scenario_kwargs`` (e.g. ``{split: test}`` on ``procedural``) is applied
    to every contender's evaluation episodes: learned runs play the scenario they
    trained on with these overrides, the baselines and the oracle play
    ``cfg.scenario`` with them, and a search baseline still searches
    ``cfg.scenario`` without them (the train split).
    """
    from omegaconf import OmegaConf

    from lepton_env.agents.training.targets import check_prefixes

    overrides: dict[str, Any] = dict(OmegaConf.to_container(cfg.scenario.kwargs) or {})  # type: ignore[arg-type]
    evaluation = evaluation_overrides(cfg)
    scenario_kwargs = {"scenario": cfg.scenario.name, **overrides}
    baseline_env_id = action_mode_env_id(cfg.action_mode)
    baseline_kwargs = {**scenario_kwargs, "observation_mode": cfg.observation_mode}
    contenders = []
    models: dict[str, Any] = OmegaConf.to_container(cfg.models, resolve=True) or {}  # type: ignore[assignment]
    trust = bool(cfg.get("trust", False))
    listed = cfg.get("allowed_targets")
    allowed = check_prefixes(list(listed) if listed is not None else [])
    for name, spec in models.items():
        learned = _learned(str(name), spec, trust, allowed)
        learned.env_kwargs.update(evaluation)
        contenders.append(learned)
    baselines: dict[str, Any] = OmegaConf.to_container(cfg.baselines, resolve=True) or {}  # type: ignore[assignment]
    chosen = cfg.use_baselines
    if not isinstance(chosen, str):
        chosen = list(chosen)
    contenders += baseline_contenders(
        baselines,
        chosen,
        baseline_env_id,
        baseline_kwargs,
        on_build=on_build,
        allowed_targets=allowed,
        play_kwargs={**baseline_kwargs, **evaluation},
    )
    if on_build is not None and cfg.oracle not in (False, "false", None):
        on_build("oracle")
    oracle = oracle_contender(cfg.oracle, {**scenario_kwargs, **evaluation})
    if oracle is not None:
        contenders.append(oracle)
    if not contenders:
        raise ValueError("nothing to evaluate: name models=..., baselines=... or oracle=true")
    return contenders


def check_play_setting(setting: Any) -> None:
    """``eval.deterministic`` is ``true``, ``false`` or ``auto``; else a ValueError naming it."""
    if not (isinstance(setting, bool) or setting == "auto"):
        raise ValueError(f"eval.deterministic = {setting!r}: allowed true, false or 'auto'")


def plays_deterministically(setting: Any, contender: Contender) -> bool:
    """``eval.deterministic``: ``true`` / ``false`` for every contender, or ``auto``: a learned
    contender as its runs were validated (:attr:`Contender.deterministic`), the rest
    deterministically (heuristics, searches and the oracle choose no action at random
    unless their own seed says so)."""
    check_play_setting(setting)
    if setting == "auto":
        return contender.deterministic if contender.deterministic is not None else True
    return bool(setting)


def evaluation_overrides(cfg: Any) -> dict[str, Any]:
    """``cfg.eval.scenario_kwargs``: the scenario overrides of the evaluation episodes."""
    from omegaconf import OmegaConf

    given = cfg.eval.get("scenario_kwargs")
    overrides = OmegaConf.to_container(given, resolve=True) if given is not None else {}
    if not isinstance(overrides, dict):
        raise ValueError(
            f"eval.scenario_kwargs = {given!r}: expected a mapping of scenario overrides, "
            "e.g. {split: test}"
        )
    return {str(key): value for key, value in overrides.items()}


def _learned(
    name: str, spec: Any, trust: bool = False, allowed_targets: Sequence[str] = ()
) -> Contender:
    import glob

    if isinstance(spec, dict):
        entries: list[Any] = [spec]
    elif isinstance(spec, str):
        matched = sorted(glob.glob(spec))
        if not matched:
            raise FileNotFoundError(f"models.{name} = {spec!r} matches no file or directory")
        entries = list(matched)
    elif isinstance(spec, list):
        entries = list(spec)
    else:
        raise ValueError(f"models.{name} = {spec!r}: a path, a glob, a list or a mapping")
    runs, run_dirs = [], []
    env_id, env_kwargs = "", dict[str, Any]()
    for entry in entries:
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - {"path", "class_path", "env_id", "env_kwargs"})
            if unknown or "path" not in entry:
                raise ValueError(
                    f"models.{name}: a mapping needs path (and class_path, env_id, env_kwargs); "
                    f"unknown keys {unknown}"
                )
            agent, env_id, env_kwargs, run_dir = load_model(
                entry["path"],
                entry.get("class_path"),
                entry.get("env_id"),
                trust=trust,
                allowed_targets=allowed_targets,
                **entry.get("env_kwargs", {}),
            )
        else:
            agent, env_id, env_kwargs, run_dir = load_model(
                entry, trust=trust, allowed_targets=allowed_targets
            )
        runs.append(agent)
        if run_dir is not None:
            run_dirs.append(run_dir)
    return Contender(
        name, env_id, env_kwargs, runs, "learned", run_dirs or None, _played_as(name, run_dirs)
    )


def _played_as(name: str, run_dirs: Sequence[Path]) -> bool | None:
    """The runs' own ``eval.deterministic`` (True where a run's config lacks it); None
    without run directories. Runs of one contender must agree."""
    modes = {
        bool(read_run_config(run_dir).get("eval", {}).get("deterministic", True))
        for run_dir in run_dirs
    }
    if len(modes) > 1:
        raise ValueError(
            f"models.{name}: its runs were validated with eval.deterministic true and false; "
            "compare them as two models, or set eval.deterministic for the comparison"
        )
    return modes.pop() if modes else None


@contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """A rich progress display on stderr (a do-nothing one when ``enabled`` is false)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    ) as progress:
        yield progress


def run_evaluation(cfg: Any, output_dir: Path, comparative: bool) -> pd.DataFrame:
    """Evaluate every contender on the held-out seeds and write the reports; the summary.

    Always: ``episodes.csv`` (every episode's return, its reward components and
    KPIs), ``summary.csv`` and ``summary.md`` (per agent: runs, episodes, mean and IQM
    with 95% hierarchical intervals; paired differences to the best heuristic and the
    best search; CPU seconds and env-steps per run; with an oracle the normalized
    IQM (0 = best heuristic, 1 = oracle), the random-zero IQM and the optimality
    gap, without one the gap to the best baseline; mean return components and KPIs; a search
    baseline's budget), ``strategy/<agent>.md``. With ``comparative``:
    ``improvement.csv`` / ``.md`` (probability of improvement), ``plots/`` and
    TensorBoard reference lines for the baselines under ``tb/<agent>/``.
    ``summary.txt``: the 80-column console table.
    Progress goes to stderr unless ``cfg.report.progress`` is false.
    """
    check_play_setting(cfg.eval.deterministic)
    output_dir.mkdir(parents=True, exist_ok=True)
    seeds = list(range(cfg.eval.first_seed, cfg.eval.first_seed + cfg.eval.episodes))
    stats = cfg.stats
    with _progress(bool(cfg.report.progress)) as progress:
        building = progress.add_task("loading models", total=None)

        def announce(name: str) -> None:
            progress.update(building, description=f"building {name}")

        contenders = build_contenders(cfg, on_build=announce)
        progress.update(building, description="built the contenders", total=1, completed=1)
        scores: dict[str, NDArray[np.float64]] = {}
        sampled: list[str] = []
        episodes = []
        strategy_dir = output_dir / "strategy"
        strategy_dir.mkdir(exist_ok=True)
        for contender in contenders:
            playing = progress.add_task(
                f"{contender.kind} {contender.name}", total=len(contender.runs) * len(seeds)
            )
            deterministic = plays_deterministically(cfg.eval.deterministic, contender)
            if not deterministic and contender.kind == "learned":
                sampled.append(contender.name)
            values, table, timeline = run_scores(
                contender,
                seeds,
                deterministic,
                on_episode=partial(progress.advance, playing),
            )
            scores[contender.name] = values
            table.insert(2, "face", lepton_env.ENV_IDS[contender.env_id])
            episodes.append(table)
            report = strategy_report(
                contender.name, timeline, seeds[: cfg.report.strategy_episodes]
            )
            (strategy_dir / f"{contender.name}.md").write_text(report)
        all_episodes = pd.concat(episodes, ignore_index=True)
        all_episodes.to_csv(output_dir / "episodes.csv", index=False)

        steps = 2 if comparative else 1
        computing = progress.add_task("statistics and reports", total=steps)
        summary, honest = summarize(
            contenders,
            scores,
            all_episodes,
            reps=stats.reps,
            confidence=stats.confidence,
            seed=stats.seed,
            random_baseline=cfg.scores.random_baseline,
        )
        evaluation = evaluation_overrides(cfg)
        if evaluation:
            honest.notes.append(
                f"Every contender scored on episodes with eval.scenario_kwargs {evaluation}; "
                "search baselines searched scenario.kwargs without them."
            )
        if sampled:
            honest.notes.append(
                f"Played with sampled actions (eval.deterministic = "
                f"{str(cfg.eval.deterministic).lower()}; "
                f"the draws keyed by the episode seed): {', '.join(sampled)}."
            )
        if cfg.eval.first_seed < TEST_FIRST_SEED or cfg.eval.episodes < TEST_EPISODES:
            honest.notes.append(
                f"Episodes {seeds[0]}..{seeds[-1]}: not the test set (at least {TEST_EPISODES} "
                f"episodes from seed {TEST_FIRST_SEED}); not for reported figures."
            )
        summary.to_csv(output_dir / "summary.csv")
        (output_dir / "summary.md").write_text(summary_markdown(summary, honest.notes))
        title = f"{len(seeds)} episodes from seed {seeds[0]} (full table: summary.md)"
        (output_dir / "summary.txt").write_text(console_table(summary, honest.notes, title))
        progress.advance(computing)
        if comparative:
            _comparative_reports(cfg, output_dir, contenders, scores, all_episodes, honest)
            progress.advance(computing)
    return summary


def _comparative_reports(
    cfg: Any,
    output_dir: Path,
    contenders: list[Contender],
    scores: dict[str, NDArray[np.float64]],
    episodes: pd.DataFrame,
    honest: HonestScores,
) -> None:
    """Probability of improvement, TensorBoard reference lines and figures."""
    from lepton_env.agents.comparison.plots import plot_comparison
    from lepton_env.agents.comparison.scores import normalized_score
    from lepton_env.agents.comparison.tensorboard_reference import learning_curves, log_reference

    stats = cfg.stats
    improvement = improvement_probabilities(
        scores, reps=stats.reps, confidence=stats.confidence, seed=stats.seed
    )
    improvement.to_csv(output_dir / "improvement.csv", index=False)
    (output_dir / "improvement.md").write_text(improvement_markdown(improvement))
    tensorboard = cfg.tensorboard
    if tensorboard.baselines:
        for contender in contenders:
            if contender.kind == "learned":
                continue
            rows = episodes[episodes["agent"] == contender.name]
            log_reference(output_dir / "tb" / contender.name, rows, list(tensorboard.steps))
    if not cfg.report.plots:
        return
    curves = learning_curves(
        {c.name: c.run_dirs for c in contenders if c.run_dirs},
        tag=cfg.report.learning_curve_tag,
    )
    references = {c.name: float(np.mean(scores[c.name])) for c in contenders if c.kind != "learned"}
    plot_scores: dict[str, NDArray[np.float64]] = scores
    label = "Return"
    if honest.ends is not None:
        zero, one = honest.ends
        plot_scores = {name: normalized_score(v, zero, one) for name, v in scores.items()}
        label = "Normalized score"
    plot_comparison(
        plot_scores,
        output_dir / "plots",
        label,
        curves=curves,
        references=references,
        reps=stats.reps,
        confidence=stats.confidence,
        seed=stats.seed,
    )
