"""A small game's pure strategies as files without pickles (PSRO populations in a run dir).

* :class:`~lepton_env.games.strategies.PlanStrategy`: ``{"type": "plan", "plan": [...]}``;
* :class:`~lepton_env.games.strategies.TabularStrategy`: ``<name>.npz`` holding, per quarter
  ``t``, the information-set keys ``t/previous``, ``t/last`` (int64), ``t/observation``
  (float32 rows: the observation bytes the table is keyed by), ``t/id`` and the actions
  ``t/actions``; the JSON names the file;
* a heuristic played as :class:`~lepton_env.games.strategies.AgentStrategy`:
  ``{"type": "heuristic", "name": ...}`` (rebuilt for its firm on load);
* a learned policy (the PPO oracle): ``{"type": "model", "path": ..., "class_path": ...}``,
  read back without unpickling (:func:`lepton_env.agents.training.loading.load_algorithm`).

Files are read as data: a type not listed is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from lepton_env.games.strategies import AgentStrategy, PlanStrategy, Strategy, TabularStrategy
from lepton_env.games.tree import SmallGame

TYPES = ("plan", "tabular", "heuristic", "model")


def save_strategy(strategy: Strategy, folder: Path, stem: str) -> dict[str, Any]:
    """Write what ``strategy`` needs beside its record into ``folder``; its JSON record."""
    name = getattr(strategy, "name", stem)
    if isinstance(strategy, PlanStrategy):
        return {"type": "plan", "name": name, "plan": [int(a) for a in strategy.plan]}
    if isinstance(strategy, TabularStrategy):
        arrays: dict[str, Any] = {}
        for t, (table, actions) in enumerate(zip(strategy.index, strategy.actions, strict=True)):
            keys = list(table)
            arrays[f"{t}/previous"] = np.array([k[0] for k in keys], dtype=np.int64)
            arrays[f"{t}/last"] = np.array([k[1] for k in keys], dtype=np.int64)
            width = len(keys[0][2]) // 4 if keys else 0
            arrays[f"{t}/observation"] = np.frombuffer(
                b"".join(k[2] for k in keys), dtype=np.float32
            ).reshape(len(keys), width)
            arrays[f"{t}/id"] = np.array(list(table.values()), dtype=np.int64)
            arrays[f"{t}/actions"] = np.asarray(actions, dtype=np.int64)
        np.savez_compressed(folder / f"{stem}.npz", **arrays)
        return {
            "type": "tabular",
            "name": name,
            "file": f"{stem}.npz",
            "quarters": len(strategy.index),
            "observed": strategy.observed,
        }
    source = getattr(strategy, "source", None)
    if isinstance(strategy, AgentStrategy) and isinstance(source, dict):
        if source["type"] == "model":  # a copy inside the folder: the folder is the record
            import shutil

            shutil.copyfile(source["file"], folder / f"{stem}.zip")
            return {
                "type": "model",
                "name": name,
                "path": f"{stem}.zip",
                "class_path": source["class_path"],
            }
        return {"name": name, **source}
    raise TypeError(f"strategy {name!r} ({type(strategy).__name__}) cannot be written as data")


def load_strategy(
    record: dict[str, Any],
    folder: Path,
    game: SmallGame,
    firm: int,
    load_model: Callable[[str, str], Any] | None = None,
) -> Strategy:
    """The strategy ``record`` (from :func:`save_strategy`) describes; refuses other types."""
    kind = record.get("type")
    if kind == "plan":
        return PlanStrategy(tuple(int(a) for a in record["plan"]), name=str(record["name"]))
    if kind == "tabular":
        path = _inside(folder, str(record["file"]))
        index, actions = [], []
        with np.load(path, allow_pickle=False) as arrays:
            for t in range(int(record["quarters"])):
                observation = np.ascontiguousarray(arrays[f"{t}/observation"], dtype=np.float32)
                keys = zip(
                    arrays[f"{t}/previous"].tolist(),
                    arrays[f"{t}/last"].tolist(),
                    (row.tobytes() for row in observation),
                    strict=True,
                )
                index.append(dict(zip(keys, arrays[f"{t}/id"].tolist(), strict=True)))
                actions.append(arrays[f"{t}/actions"].copy())
        return TabularStrategy(
            tuple(index), tuple(actions), bool(record["observed"]), name=str(record["name"])
        )
    if kind == "heuristic":
        return heuristic_strategy(game, str(record["name"]), firm)
    if kind == "model":
        if load_model is None:
            raise ValueError(f"strategy {record.get('name')!r} is a model: no loader given")
        path = _inside(folder, str(record["path"]))
        model = load_model(str(path), str(record["class_path"]))
        strategy = AgentStrategy(model, None, str(record["name"]))
        strategy.source = {  # type: ignore[attr-defined]
            "type": "model",
            "file": str(path),
            "class_path": record["class_path"],
        }
        return strategy
    raise ValueError(f"strategy record {record!r}: type {kind!r} is not one of {list(TYPES)}")


def heuristic_strategy(game: SmallGame, name: str, firm: int) -> AgentStrategy:
    """Heuristic ``name`` built for ``firm``'s view of the world, as a strategy."""
    from lepton_env.multi.firms import single_width
    from lepton_env.multi.scripted import build_agent

    agent = build_agent(name, game.params, firm, "discrete", name)
    strategy = AgentStrategy(agent, single_width(game.params), name)
    strategy.source = {"type": "heuristic"}  # type: ignore[attr-defined]
    return strategy


def _inside(folder: Path, name: str) -> Path:
    """``folder / name``, refused when ``name`` leads out of ``folder`` (run dirs are data)."""
    path = (folder / name).resolve()
    if folder.resolve() not in path.parents:
        raise ValueError(f"strategy file {name!r} lies outside {folder}")
    return path
