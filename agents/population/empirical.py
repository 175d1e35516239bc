"""PSRO on a large game (``race``): payoff tables estimated from play.

Where no tree can be enumerated, each cell of the populations' normal form is estimated
by playing the joint profile (member ``i_f`` in seat ``f``, deterministic) on the same
``multiagent.table_episodes`` keyed episodes, seeds from :data:`TABLE_FIRST_SEED`
(1,000,000: the validation range, held out from training, whose episodes are drawn from
the training envs' own keyed stream, and below the test seeds of the benchmarks). The
seats are not symmetric on ``race`` (each firm has its own home, distances and
screening), so the table is the full per-seat one: ``(F, |P_0|, ..., |P_F-1|)``, every
cell's per-episode returns stored (``table.npz``) with their standard errors.

Iteration ``k``

1. fills the missing cells (:class:`EmpiricalTables`, cached by the members' names);
2. solves the meta-game (:func:`lepton_env.games.meta_solvers.meta_strategies`:
   projected replicator dynamics or alpha-rank for three firms);
3. trains each firm's best response with the PPO oracle
   (:class:`~lepton_env.agents.population.psro.PpoOracle`: the run's agent for
   ``oracle.total_timesteps`` env steps against the others' meta-mixture);
4. scores each response against the mixture on the table's episodes: its gain over the
   meta-profile's own return is paired per episode (same episodes, same mixture), with
   its standard error; a trained response is no better than a best one, so the sum of the
   positive gains estimates NashConv from below (``nash_conv_lower_bound``);

and adds every response that gains more than ``tolerance``; it stops when none does
(with a trained oracle: when none was found) or after ``iterations``. Checkpoints and resume are
those of the small games' loop (:mod:`lepton_env.agents.population.psro`), with the
table's cells beside the populations.
"""

from __future__ import annotations

import itertools
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env.agents.comparison.episodes import VALIDATION_FIRST_SEED

#: The first seed of the table's episodes: the validation range of
#: :mod:`lepton_env.agents.comparison.episodes`.
TABLE_FIRST_SEED = VALIDATION_FIRST_SEED
TABLE_FILE = "table.npz"


@dataclass(frozen=True)
class PlayedGame:
    """A game whose payoffs are estimated from play: its params (what heuristics and the
    PPO oracle are built from)."""

    params: Any

    @property
    def num_firms(self) -> int:
        return int(self.params.num_firms)


def member_name(member: Any) -> str:
    return str(getattr(member, "name", "member"))


class EmpiricalTables:
    """Per-episode returns ``(F, E)`` of joint profiles, cached by the members' names."""

    def __init__(self, params: Any, seeds: Sequence[int], action_mode: str) -> None:
        self.params, self.seeds, self.action_mode = params, [int(s) for s in seeds], action_mode
        self.cells: dict[tuple[str, ...], NDArray[np.float64]] = {}
        self.played = 0  # cells played (not read from the cache)
        self.cpu_seconds = 0.0

    def returns(self, members: Sequence[Any]) -> NDArray[np.float64]:
        """(F, E) the returns of the joint profile ``members`` (one per seat)."""
        key = tuple(member_name(m) for m in members)
        if key not in self.cells:
            from lepton_env.agents.comparison.crossplay import play_profile
            from lepton_env.agents.population.psro import strategy_agent

            started = time.process_time()
            seats = [strategy_agent(m) for m in members]
            play = play_profile(self.params, seats, self.seeds, action_mode=self.action_mode)
            self.cells[key] = np.asarray(play.returns, dtype=np.float64)
            self.played += 1
            self.cpu_seconds += time.process_time() - started
        return self.cells[key]

    def episodes(self, populations: Sequence[Sequence[Any]]) -> NDArray[np.float64]:
        """(F, |P_0|, ..., |P_F-1|, E) every joint profile's per-episode returns."""
        sizes = [len(p) for p in populations]
        out = np.zeros((len(populations), *sizes, len(self.seeds)))
        for index in itertools.product(*(range(s) for s in sizes)):
            members = [populations[f][i] for f, i in enumerate(index)]
            position: tuple[Any, ...] = (slice(None), *index)
            out[position] = self.returns(members)
        return out

    def means(self, populations: Sequence[Sequence[Any]]) -> NDArray[np.float64]:
        """(F, |P_0|, ..., |P_F-1|) the estimated payoff tables."""
        return np.asarray(self.episodes(populations).mean(axis=-1), dtype=np.float64)

    def standard_errors(self, populations: Sequence[Sequence[Any]]) -> NDArray[np.float64]:
        """(F, |P_0|, ..., |P_F-1|) each cell's standard error over the episodes."""
        episodes = self.episodes(populations)
        count = episodes.shape[-1]
        if count < 2:
            return np.full(episodes.shape[:-1], np.nan)
        return np.asarray(episodes.std(axis=-1, ddof=1) / np.sqrt(count), dtype=np.float64)

    def mixture_episodes(
        self, populations: Sequence[Sequence[Any]], meta: Sequence[NDArray[np.float64]]
    ) -> NDArray[np.float64]:
        """(F, E) each firm's per-episode return when every firm plays its meta-mixture
        (the draw of members enumerated: an expectation over members, per episode)."""
        values = self.episodes(populations)
        for weights in reversed(meta):  # contract the last population axis first
            values = np.moveaxis(values, -1, 0) @ weights
            values = np.moveaxis(values, 0, -1)
        return np.asarray(values, dtype=np.float64)

    def forget(self, firm: int, name: str) -> None:
        """Drop the cells in which firm ``firm`` plays member ``name`` (a response left out
        of the population: the next response of that firm may take its name)."""
        for key in [key for key in self.cells if key[firm] == name]:
            del self.cells[key]

    def save(self, folder: Path, populations: Sequence[Sequence[Any]]) -> None:
        """``table.npz``: the cells of the populations' members (names in ``keys``, JSON)."""
        names = [{member_name(m) for m in p} for p in populations]
        kept = [key for key in sorted(self.cells) if all(n in names[f] for f, n in enumerate(key))]
        arrays: dict[str, Any] = {f"cell{k}": self.cells[key] for k, key in enumerate(kept)}
        arrays["keys"] = np.array(json.dumps([list(key) for key in kept]))
        arrays["seeds"] = np.asarray(self.seeds, dtype=np.int64)
        np.savez_compressed(folder / TABLE_FILE, **arrays)

    def load(self, folder: Path) -> None:
        """The cells saved by :meth:`save` (data only: no pickle is read)."""
        with np.load(folder / TABLE_FILE, allow_pickle=False) as arrays:
            seeds = arrays["seeds"].tolist()
            if seeds != self.seeds:
                raise ValueError(
                    f"{folder / TABLE_FILE} holds episodes {seeds[:3]}...: the run's are "
                    f"{self.seeds[:3]}... (multiagent.table_episodes changed?)"
                )
            keys = json.loads(str(arrays["keys"]))
            for k, key in enumerate(keys):
                self.cells[tuple(key)] = np.asarray(arrays[f"cell{k}"], dtype=np.float64)


def train_psro_empirical(run: Any) -> dict[str, Any]:
    """The PSRO loop of a large game for ``run`` (module docstring); its summary."""
    from lepton_env.agents.population.common import read_trainer, write_checkpoint
    from lepton_env.agents.population.psro import (
        PpoOracle,
        load_populations,
        save_populations,
    )
    from lepton_env.agents.population.strategy_files import heuristic_strategy
    from lepton_env.games.meta_solvers import expected_values, meta_strategies
    from lepton_env.games.strategies import Mixture
    from lepton_env.scenarios import make_params

    config = run.config
    multi = config.multiagent
    assert multi is not None
    game: Any = PlayedGame(make_params(config.scenario.name, **config.scenario.kwargs))
    firms = game.num_firms
    seeds = list(range(TABLE_FIRST_SEED, TABLE_FIRST_SEED + multi.table_episodes))
    table = EmpiricalTables(game.params, seeds, config.env.action_mode)
    history: list[dict[str, Any]]
    if run.checkpoint is not None:
        populations = load_populations(run.checkpoint, game, run)
        table.load(run.checkpoint)
        record = read_trainer(run.checkpoint)
        history = record["extra"]["history"]
        cpu_seconds = float(record["cpu_seconds"])
        converged = bool(record["extra"]["converged"])
    else:
        populations = [[heuristic_strategy(game, multi.initial, f)] for f in range(firms)]
        history, cpu_seconds, converged = [], 0.0, False
    oracle = PpoOracle(run, game)
    writer = run.writer
    while not converged and len(history) < multi.iterations:
        started = time.process_time()
        means = table.means(populations)
        meta = meta_strategies(means, multi.meta_solver)
        on_policy = expected_values(means, meta)
        own = table.mixture_episodes(populations, meta)  # (F, E)
        profile = [Mixture(tuple(p), m) for p, m in zip(populations, meta, strict=True)]
        responses, gains, errors, oracle_cpu = [], [], [], []
        for f in range(firms):
            response = oracle.train(profile, f)
            oracle_cpu.append(oracle.cpu_seconds)
            deviation = [list(p) for p in populations]
            deviation[f] = [response]
            against = [np.ones(1) if g == f else m for g, m in enumerate(meta)]
            # the response's per-episode return against the others' mixtures, paired
            difference = table.mixture_episodes(deviation, against)[f] - own[f]
            responses.append(response)
            gains.append(float(difference.mean()))
            errors.append(float(difference.std(ddof=1) / np.sqrt(len(seeds))))
        iteration = len(history) + 1
        entry = {
            "sizes": [len(p) for p in populations],
            "members": [[member_name(m) for m in p] for p in populations],
            "meta": [m.round(9).tolist() for m in meta],
            "values": on_policy.tolist(),
            "oracle_gains": gains,
            "oracle_gain_standard_errors": errors,
            "oracle_nash_conv": float(np.sum(gains)),
            # a trained response that loses is no deviation: the bound counts it as 0
            "nash_conv_lower_bound": float(np.maximum(gains, 0.0).sum()),
            "oracle_cpu_seconds": oracle_cpu,
        }
        for f, (population, weights) in enumerate(zip(populations, meta, strict=True)):
            writer.add_scalar(f"psro/size/firm{f}", len(population), iteration)
            for member, weight in zip(population, weights, strict=True):
                writer.add_scalar(f"psro/meta/firm{f}/{member_name(member)}", weight, iteration)
            writer.add_scalar(f"firm{f}/return", float(on_policy[f]), iteration)
            writer.add_scalar(f"psro/oracle_gain/firm{f}", gains[f], iteration)
        writer.add_scalar("psro/nash_conv_lower_bound", entry["nash_conv_lower_bound"], iteration)
        history.append(entry)
        print(
            f"PSRO iteration {iteration}: populations {entry['sizes']}, values "
            f"{np.round(on_policy, 4).tolist()}, oracle gains {np.round(gains, 4).tolist()} "
            f"(+- {np.round(errors, 4).tolist()})",
            flush=True,
        )
        # no response gains (a loss of one does not offset the gain of another)
        converged = max(gains) <= multi.tolerance
        for f, response in enumerate(responses):
            if not converged and gains[f] > multi.tolerance:
                populations[f].append(response)
            else:
                table.forget(f, member_name(response))
        cpu_seconds += time.process_time() - started
        writer.flush()

        def write(folder: Path) -> None:
            save_populations(populations, None, folder)
            table.save(folder, populations)

        write_checkpoint(
            run.run_dir,
            iteration,
            config.checkpoint.keep,
            write,
            {
                "rounds": iteration,
                "next_checkpoint": iteration + 1,
                "next_exact": 0,
                "cpu_seconds": cpu_seconds,
                "extra": {"history": history, "converged": converged},
            },
        )
    started = time.process_time()
    means = table.means(populations)
    errors_table = table.standard_errors(populations)
    meta = meta_strategies(means, multi.meta_solver)
    cpu_seconds += time.process_time() - started
    folder = run.run_dir / "profile"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    save_populations(populations, meta, folder)
    table.save(folder, populations)
    shutil.copyfile(folder / "model.zip", run.run_dir / "final_model.zip")
    values = expected_values(means, meta)
    print(f"PSRO profile: meta {[np.round(m, 3).tolist() for m in meta]}, values {values}")
    return {
        "iterations": len(history),
        "converged": converged,
        "meta": [m.tolist() for m in meta],
        "sizes": [len(p) for p in populations],
        "members": [[member_name(m) for m in p] for p in populations],
        "values": values.tolist(),
        "table": {
            "episodes": len(seeds),
            "first_seed": TABLE_FIRST_SEED,
            "means": means.tolist(),
            "standard_errors": errors_table.tolist(),
            "cpu_seconds": table.cpu_seconds,
        },
        "oracle_steps": int(multi.oracle.total_timesteps),
        "cpu_seconds": cpu_seconds,
        "history": history,
    }
