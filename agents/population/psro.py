"""PSRO through ``lepton-train``: a double-oracle loop with a pluggable oracle, resumable.

Lanctot et al. (2017), McMahan, Gordon & Blum (2003). Each firm keeps a population of
pure strategies; iteration ``k``

1. fills the populations' payoff tables exactly (coins enumerated, episodes
   ``0..exact_seeds-1``: :func:`lepton_env.games.payoff_tables`);
2. solves the restricted game for a meta-strategy per firm (:func:`meta_strategies`:
   nashpy for two firms, a pure equilibrium first, then support enumeration; or
   OpenSpiel's projected replicator dynamics, ``meta_solver=replicator``);
3. asks the oracle for each firm's best response to the others' meta-mixture:
   ``exact`` (:func:`lepton_env.games.best_response`, feedback policies or plans) or
   ``ppo`` (the run's agent trained for ``oracle.total_timesteps`` steps against the
   mixture, played by a :class:`~lepton_env.multi.population.Population` with the meta
   weights, :class:`PpoOracle`) or ``search`` (the cross-entropy search of a plan against
   the mixture, :mod:`lepton_env.agents.population.search_oracle`);
4. scores the meta-profile: with the exact oracle, NashConv ``sum_f [u_f(BR_f, s_-f) -
   u_f(s)]`` is exact; with the PPO or search oracle its gains are lower bounds, and the exact
   NashConv (exact best responses) is computed beside them;

and adds every response that gains more than ``tolerance``. It stops at NashConv <=
``tolerance`` (an approximate oracle: when no response gains more than ``tolerance``) or
after ``iterations``. Each iteration ends in a checkpoint (``checkpoints/step_<k>/``:
``model.zip`` holds the meta-profile as JSON, the strategies' files beside it,
:mod:`lepton_env.agents.population.strategy_files`), so a killed run continues at the next
iteration, and a run given more ``iterations`` continues from its last one; the final
profile is ``profile/`` and ``final_model.zip``. On a large game (``race``) the tables are
estimated from play: :mod:`lepton_env.agents.population.empirical`.
"""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env.agents.population.common import (
    exact_seeds,
    log_nash_conv,
    read_trainer,
    small_game,
    write_checkpoint,
)
from lepton_env.agents.population.strategy_files import (
    heuristic_strategy,
    load_strategy,
    save_strategy,
)
from lepton_env.games.best_response import best_response, nash_conv, payoff_tables, values
from lepton_env.games.meta_solvers import meta_strategies
from lepton_env.games.strategies import AgentStrategy, Mixture, PlanStrategy, Strategy
from lepton_env.games.tree import SmallGame

PROFILE_FILE = "profile.json"


class PlanAgent:
    """A :class:`~lepton_env.games.strategies.PlanStrategy` with ``predict``, for a Population
    seat (its quarter counted from ``episode_start``)."""

    def __init__(self, plan: PlanStrategy) -> None:
        self.plan = plan

    def predict(
        self,
        observation: NDArray[Any],
        state: Any = None,
        episode_start: NDArray[np.bool_] | None = None,
        deterministic: bool = True,
    ) -> tuple[NDArray[np.int64], Any]:
        count = np.atleast_2d(observation).shape[0]
        quarter = np.zeros(count, dtype=np.int64) if state is None else state[0].copy()
        if episode_start is not None:
            quarter[np.asarray(episode_start, dtype=bool)] = 0
        plan = self.plan.plan
        actions = np.array([plan[q] if q < len(plan) else 0 for q in quarter], dtype=np.int64)
        return actions, (quarter + 1,)


def strategy_agent(strategy: Strategy) -> Any:
    """An object with ``predict`` that plays ``strategy`` in a multi-agent face."""
    if isinstance(strategy, PlanStrategy):
        return PlanAgent(strategy)
    if isinstance(strategy, AgentStrategy):
        source = getattr(strategy, "source", None)
        if isinstance(source, dict) and source.get("type") == "heuristic":
            return strategy.name  # built by the face for its own action mode
        return strategy.agent
    return strategy  # a TabularStrategy plays through its own predict


class PpoOracle:
    """A best response trained with the run's agent against the others' meta-mixture."""

    def __init__(self, run: Any, game: Any) -> None:
        self.run, self.game = run, game
        self.cpu_seconds = 0.0

    def __call__(
        self, game: SmallGame, profile: list[Mixture], firm: int, seeds: Any, kind: str
    ) -> Any:
        from lepton_env.games.best_response import BestResponse

        strategy = self.train(profile, firm)
        deviation = [*profile]
        deviation[firm] = Mixture((strategy,), np.ones(1))
        value = float(values(game, deviation, seeds)[firm])
        return BestResponse(firm, "ppo", value, strategy, 0, 0)  # type: ignore[arg-type]

    def train(self, profile: list[Mixture], firm: int) -> AgentStrategy:
        """Firm ``firm``'s response, trained against the other firms' mixtures in
        ``profile``; saved as ``psro/ppo_firm<f>_<size>.zip``, its CPU in :attr:`cpu_seconds`."""
        from dataclasses import replace

        from lepton_env.agents.population.common import seat_env
        from lepton_env.multi.firms import agent_ids
        from lepton_env.multi.population import Population

        config = self.run.config
        agents = agent_ids(self.game.params)
        scripted = {}
        for other, mixture in enumerate(profile):
            if other == firm:
                continue
            members = {
                f"{getattr(m, 'name', 'member')}#{k}": strategy_agent(m)
                for k, m in enumerate(mixture.members)
            }
            scripted[agents[other]] = Population(members, mixture.weights)
        size = len(profile[firm].members)
        own = replace(config, seed=config.seed + 1000 * size + firm)
        venv = self.run.normalized(seat_env(own, config.env.num_envs, agents[firm], scripted), None)
        model = self.run.agent(own, venv, None)
        model.set_logger(self.run.sb3_logger(f"oracle/firm{firm}/"))
        started = time.process_time()
        model.learn(config.multiagent.oracle.total_timesteps, progress_bar=False)
        self.cpu_seconds = time.process_time() - started
        folder = self.run.run_dir / "psro"
        folder.mkdir(exist_ok=True)
        name = f"ppo_firm{firm}_{size}"
        model.save(str(folder / f"{name}.zip"))
        strategy = AgentStrategy(model, None, name)
        strategy.source = {  # type: ignore[attr-defined]
            "type": "model",
            "file": str(folder / f"{name}.zip"),
            "class_path": config.agent.model["_target_"],
        }
        return strategy


def save_populations(
    populations: list[list[Strategy]], meta: list[NDArray[np.float64]] | None, folder: Path
) -> None:
    """``profile.json`` (the members' records and meta-strategies) and the members' files."""
    records = [
        [save_strategy(member, folder, f"firm{f}_member{k}") for k, member in enumerate(population)]
        for f, population in enumerate(populations)
    ]
    document = {
        "populations": records,
        "meta": None if meta is None else [m.tolist() for m in meta],
    }
    (folder / PROFILE_FILE).write_text(json.dumps(document, indent=1))
    # model.zip: the profile as the checkpoint's model (a zip with a data entry)
    with zipfile.ZipFile(folder / "model.zip", "w") as archive:
        archive.writestr("data", json.dumps(document))


def load_populations(folder: Path, game: SmallGame, run: Any) -> list[list[Strategy]]:
    document = json.loads((folder / PROFILE_FILE).read_text())

    from lepton_env.agents.population.common import seat_env
    from lepton_env.agents.training.factory import load_agent
    from lepton_env.multi.firms import agent_ids

    agents = agent_ids(game.params)

    def loader(firm: int) -> Any:
        def load_model(path: str, class_path: str) -> Any:
            # the firm's spaces come from an env of one in which it learns
            others = {agent: "HomeOnlyAgent" for agent in agents if agent != agents[firm]}
            spaces = seat_env(run.config, 1, agents[firm], others)
            return load_agent(run.config, path, spaces, run.device, run.config.trust)

        return load_model

    return [
        [load_strategy(record, folder, game, f, loader(f)) for record in population]
        for f, population in enumerate(document["populations"])
    ]


def initial_populations(game: SmallGame, initial: str) -> list[list[Strategy]]:
    """Each firm's first member: its single-firm oracle plan (``solo``) or a heuristic."""
    if initial == "solo":
        from lepton_env.games.report import solo_plans

        return [[plan] for plan in solo_plans(game)]
    return [[heuristic_strategy(game, initial, f)] for f in range(game.num_firms)]


def train_psro(run: Any) -> dict[str, Any]:
    """The PSRO loop for ``run``; the summary of its end."""
    config = run.config
    multi = config.multiagent
    assert multi is not None
    game = small_game(config)
    if game is None:  # a large game (race): payoff tables estimated from play
        from lepton_env.agents.population.empirical import train_psro_empirical

        return train_psro_empirical(run)
    seeds = exact_seeds(config, game)
    if run.checkpoint is not None:
        populations = load_populations(run.checkpoint, game, run)
        record = read_trainer(run.checkpoint)
        history: list[dict[str, Any]] = record["extra"]["history"]
        cpu_seconds = float(record["cpu_seconds"])
        converged = bool(record["extra"]["converged"])
    else:
        populations, history, cpu_seconds, converged = (
            initial_populations(game, multi.initial),
            [],
            0.0,
            False,
        )
    oracle: Any
    if multi.oracle.kind == "exact":
        oracle = best_response
    elif multi.oracle.kind == "search":
        from lepton_env.agents.population.search_oracle import SearchOracle

        oracle = SearchOracle(multi.oracle.search)
    else:
        oracle = PpoOracle(run, game)
    profile: list[Mixture] = []
    while not converged and len(history) < multi.iterations:
        started = time.process_time()
        tables = payoff_tables(game, populations, seeds)
        meta = meta_strategies(tables, multi.meta_solver)
        profile = [Mixture(tuple(p), m) for p, m in zip(populations, meta, strict=True)]
        on_policy = np.array([meta[0] @ tables[f] @ meta[1] for f in range(2)])
        responses = [oracle(game, profile, f, seeds, multi.oracle.strategies) for f in range(2)]
        gains = np.array([r.value for r in responses]) - on_policy
        iteration = len(history) + 1
        step = iteration
        writer = run.writer
        for f, (population, weights) in enumerate(zip(populations, meta, strict=True)):
            writer.add_scalar(f"psro/size/firm{f}", len(population), step)
            for member, weight in zip(population, weights, strict=True):
                name = getattr(member, "name", "member")
                writer.add_scalar(f"psro/meta/firm{f}/{name}", float(weight), step)
            writer.add_scalar(f"firm{f}/return", float(on_policy[f]), step)
            writer.add_scalar(f"psro/oracle_gain/firm{f}", float(gains[f]), step)
        entry = {
            "sizes": [len(p) for p in populations],
            "meta": [m.round(9).tolist() for m in meta],
            "values": on_policy.tolist(),
            "oracle_gains": gains.tolist(),
            "oracle_nash_conv": float(gains.sum()),
        }
        if multi.oracle.kind == "exact":
            entry["nash_conv"] = float(gains.sum())
            writer.add_scalar("exploitability/nash_conv", float(gains.sum()), step)
            for f in range(2):
                writer.add_scalar(f"firm{f}/value", float(on_policy[f]), step)
                writer.add_scalar(f"firm{f}/gain", float(gains[f]), step)
        else:
            entry["nash_conv"] = log_nash_conv(writer, nash_conv(game, profile, seeds), step)[
                "nash_conv"
            ]
        history.append(entry)
        print(
            f"PSRO iteration {iteration}: populations {entry['sizes']}, values "
            f"{np.round(on_policy, 6).tolist()}, NashConv {entry['nash_conv']:.6g}"
        )
        # an approximate oracle's losing response does not offset another's gain
        converged = (
            entry["oracle_nash_conv"] <= multi.tolerance
            if multi.oracle.kind == "exact"
            else float(gains.max()) <= multi.tolerance
        )
        if not converged:
            for f, response in enumerate(responses):
                if gains[f] > multi.tolerance:
                    populations[f].append(response.strategy)
        cpu_seconds += time.process_time() - started
        writer.flush()
        write_checkpoint(
            run.run_dir,
            iteration,
            config.checkpoint.keep,
            lambda folder: save_populations(populations, None, folder),
            {
                "rounds": iteration,
                "next_checkpoint": iteration + 1,
                "next_exact": 0,
                "cpu_seconds": cpu_seconds,
                "extra": {"history": history, "converged": converged},
            },
        )
    # the final meta-profile: re-solved (after growth the last tables are not the final
    # ones), except where the exact oracle certified the last one (then it is that one)
    tables = payoff_tables(game, populations, seeds)
    meta = meta_strategies(tables, multi.meta_solver)
    profile = [Mixture(tuple(p), m) for p, m in zip(populations, meta, strict=True)]
    last = history[-1] if history else None
    if converged and multi.oracle.kind == "exact" and last is not None:
        final_values = np.asarray(last["values"])
        final_gains = np.asarray(last["oracle_gains"])
    else:
        scored = nash_conv(game, profile, seeds)
        final_values, final_gains = scored.values, scored.gains
    folder = run.run_dir / "profile"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    save_populations(populations, meta, folder)
    shutil.copyfile(folder / "model.zip", run.run_dir / "final_model.zip")
    scale = float(np.abs(final_values).sum())
    total = float(final_gains.sum())
    exact = {
        "nash_conv": total,
        "relative_nash_conv": total / scale if scale else float("nan"),
        "values": final_values.tolist(),
        "gains": final_gains.tolist(),
    }
    relative = exact["relative_nash_conv"]
    print(f"PSRO profile: exact NashConv {total:.6g} ({relative:.3g} relative)")
    budgets = getattr(oracle, "budgets", None)
    return {
        "iterations": len(history),
        "converged": converged,
        "meta": [m.tolist() for m in meta],
        "sizes": [len(p) for p in populations],
        **({"search_budgets": budgets} if budgets else {}),
        "cpu_seconds": cpu_seconds,
        "exact_seeds": seeds,
        "exact": exact,
        "history": history,
    }
