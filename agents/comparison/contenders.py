"""The agents of a comparison: learned runs, baselines (heuristics and search) and the oracle.

A :class:`Contender` is one named agent with one or more runs (trained
seeds) on one env face. Baselines are built from ``_target_`` specs on the
comparison's face; the oracle where the scenario has one. Learned runs are
loaded by :mod:`lepton_env.agents.comparison.evaluation` (model files and run directories).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import lepton_env

#: The contender kinds; ``baseline`` covers heuristics and search baselines (the
#: latter carry a ``budget``).
KINDS = ("learned", "baseline", "oracle")
#: What a run's training or search cost, counted the same way for every contender.
COST_KEYS = ("cpu_seconds", "env_steps")
#: A baseline spec's key (not passed to the class): one run per listed ``seed``.
RUN_SEEDS = "run_seeds"


@dataclass
class Contender:
    """One agent of a comparison: one or more runs (trained seeds) playing one env face."""

    name: str
    env_id: str
    env_kwargs: dict[str, Any]
    runs: list[Any]  # agents, one per training seed (a heuristic has one)
    kind: str  # "learned" | "baseline" | "oracle"
    run_dirs: list[Path] | None = None  # where learned runs keep their TensorBoard logs
    # How its runs play under ``eval.deterministic: auto``: a learned contender as its runs'
    # own ``eval.deterministic`` (the play that chose their checkpoint); None: the comparison's.
    deterministic: bool | None = None

    @property
    def budget(self) -> dict[str, Any] | None:
        """A search baseline's budget (its agent's ``budget``: env_steps, wall_seconds, ...)."""
        budget = getattr(self.runs[0], "budget", None) if self.runs else None
        return dict(budget) if isinstance(budget, dict) else None

    @property
    def is_heuristic(self) -> bool:
        """A baseline without a search budget: a fixed rule from theory or practice."""
        return self.kind == "baseline" and self.budget is None

    @property
    def is_search(self) -> bool:
        """A baseline with a search budget (agents/players/search.py)."""
        return self.kind == "baseline" and self.budget is not None

    def cost(self) -> dict[str, float]:
        """The mean over runs of what each run cost to train or search: ``cpu_seconds``
        (CPU time of the work itself) and ``env_steps``, where the runs record them.

        Searches carry them in their ``budget``; learned runs in their run directory's
        ``run.json`` (written by ``lepton-train``). Empty for fixed rules and the oracle.
        """
        records: list[dict[str, Any]] = []
        if self.run_dirs:
            for run_dir in self.run_dirs:
                info = Path(run_dir) / "run.json"
                records.append(json.loads(info.read_text()) if info.exists() else {})
        else:
            records = [getattr(run, "budget", None) or {} for run in self.runs]
        cost = {}
        for key in COST_KEYS:
            values = [float(record[key]) for record in records if record.get(key) is not None]
            if values and len(values) == len(records):
                cost[key] = float(np.mean(values))
        return cost


def action_mode_env_id(action_mode: str) -> str:
    """The env id of a face (``multi_discrete`` -> ``LeptonExpansion-v0``)."""
    modes = {mode: env for env, mode in lepton_env.ENV_IDS.items()}
    if action_mode not in modes:
        raise ValueError(f"action_mode = {action_mode!r}: allowed {sorted(modes)}")
    return modes[action_mode]


def baseline_contenders(
    specs: dict[str, Any],
    chosen: Any,
    env_id: str,
    env_kwargs: dict[str, Any],
    on_build: Callable[[str], None] | None = None,
    allowed_targets: Sequence[str] = (),
    play_kwargs: dict[str, Any] | None = None,
) -> list[Contender]:
    """The baselines ``chosen`` (``all`` or a list of names) from ``specs``, on one face.

    ``specs``: name -> ``{_target_: lepton_env.agents.players.heuristics.X, ...settings}``; each is
    instantiated with an env of ``env_kwargs`` as first argument (a search baseline
    searches that world then; a spec's ``run_seeds: [0, 1, ...]`` builds one run per
    seed, its ``seed`` set to each, like a learner's training seeds) and plays
    ``play_kwargs`` (``env_kwargs`` where None): a search built on a train split
    and scored on the test split never sees a test episode. ``on_build(name)`` is
    called before each (progress display). Every ``_target_`` must be an allowed
    one (:mod:`lepton_env.agents.training.targets`, with ``allowed_targets`` listed
    by the user) and is checked before any is built.
    """
    from hydra.utils import instantiate

    from lepton_env.agents.training.targets import check_targets

    if chosen == "all":
        chosen = list(specs)
    elif isinstance(chosen, str) or not all(name in specs for name in chosen):
        raise ValueError(
            f"use_baselines = {chosen}: allowed 'all' or a list drawn from {sorted(specs)}"
        )
    for name in chosen:
        spec = specs[name]
        if not isinstance(spec, dict) or "_target_" not in spec:
            raise ValueError(f"baselines.{name} must be a mapping with a _target_, got {spec!r}")
        check_targets(spec, f"baselines.{name}", allowed_targets)
    contenders = []
    for name in chosen:
        spec = dict(specs[name])
        run_seeds = spec.pop(RUN_SEEDS, None)
        if run_seeds is not None and (isinstance(run_seeds, str | int) or not run_seeds):
            raise ValueError(
                f"baselines.{name}.{RUN_SEEDS} = {run_seeds!r}: a non-empty list of seeds"
            )
        if on_build is not None:
            on_build(str(name))
        agents = []
        for run_seed in run_seeds if run_seeds is not None else [None]:
            env = gym.make(env_id, **env_kwargs)
            settings = spec if run_seed is None else {**spec, "seed": int(run_seed)}
            agents.append(instantiate(settings, env))
        played = dict(env_kwargs if play_kwargs is None else play_kwargs)
        contenders.append(Contender(str(name), env_id, played, agents, "baseline"))
    return contenders


def oracle_contender(setting: Any, scenario_kwargs: dict[str, Any]) -> Contender | None:
    """The exact oracle (``agents/players/oracle.py``) as a contender of kind ``oracle``.

    ``setting``: ``auto`` adds it where the scenario has one (the enumerated optimum
    where it is deterministic; the Bayes-optimal policy where its only randomness is
    a two-point market fit, ``toy_pilot``), ``true`` requires it, ``false`` leaves it out.
    """
    from lepton_env.agents.players.oracle import (
        BayesOracleAgent,
        NotDeterministicError,
        OracleAgent,
    )

    if setting in (False, "false", None):
        return None
    if setting not in (True, "true", "auto"):
        raise ValueError(f"oracle = {setting!r}: allowed auto, true or false")
    scenario = scenario_kwargs["scenario"]
    overrides = {k: v for k, v in scenario_kwargs.items() if k != "scenario"}
    agent: OracleAgent | BayesOracleAgent
    try:
        agent = OracleAgent(scenario, **overrides)
    except NotDeterministicError as not_deterministic:
        try:  # a hidden two-point fit (toy_pilot): the exact Bayes-optimal policy
            agent = BayesOracleAgent(scenario, **overrides)
        except NotDeterministicError:
            if setting == "auto":
                return None
            raise not_deterministic from None
    return Contender(
        "oracle", "LeptonExpansion-Single-v0", dict(scenario_kwargs), [agent], "oracle"
    )
