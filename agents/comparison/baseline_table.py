"""How training went, in one console table: the trained policy against the baselines.

At the end of ``lepton-train`` the trained policy and the heuristic baselines
(and the oracle, where the scenario has one) play the same held-out
evaluation seeds; :func:`compare_with_baselines` returns the summary (IQM
with stratified-bootstrap intervals; the normalized score, 0 = best
heuristic and 1 = oracle, where an oracle exists; else the gap to the best
baseline) and :func:`print_table` shows it with rich. Every contender is
scored with the default reward (:class:`lepton_env.reward.ProfitReward`), so
the figures compare with ``lepton-compare``'s whatever reward the run trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from lepton_env.agents.comparison.contenders import (
    Contender,
    action_mode_env_id,
    baseline_contenders,
    oracle_contender,
)
from lepton_env.agents.comparison.episodes import COMPONENT_PREFIX, accepts_action_masks, run_scores
from lepton_env.agents.comparison.scores import HonestScores, summarize

#: The name the trained policy goes by in the table.
TRAINED = "trained"


class NormalizedObservations:
    """An agent that sees its observations through ``normalize`` (e.g. VecNormalize's)."""

    def __init__(self, agent: Any, normalize: Callable[[Any], Any]) -> None:
        self.agent = agent
        self.normalize = normalize
        if accepts_action_masks(agent):
            self.predict = self._predict_masked  # type: ignore[method-assign]

    def predict(self, observation: Any, **kwargs: Any) -> Any:
        """The agent's actions for the normalized observations."""
        return self.agent.predict(self.normalize(observation), **kwargs)

    def _predict_masked(self, observation: Any, action_masks: Any = None, **kwargs: Any) -> Any:
        return self.agent.predict(self.normalize(observation), action_masks=action_masks, **kwargs)


def compare_with_baselines(
    agent: Any,
    action_mode: str,
    env_kwargs: Mapping[str, Any],
    seeds: Sequence[int],
    baselines: Mapping[str, Any],
    oracle: Any = "auto",
    deterministic: bool = True,
    reps: int = 1000,
    seed: int = 0,
) -> tuple[pd.DataFrame, HonestScores]:
    """The trained ``agent`` and the ``baselines`` on ``seeds``: the summary and its scores.

    ``env_kwargs`` holds ``scenario`` and the scenario's overrides (and
    ``observation_mode``); the agent and the baselines play the ``action_mode``
    face, the oracle (``auto``: where the scenario has one) its own.
    ``baselines``: name -> ``{_target_: ..., settings}`` as in ``lepton-compare``.
    """
    if len(seeds) == 0:
        raise ValueError("seeds is empty: the table needs at least one evaluation episode")
    env_id = action_mode_env_id(action_mode)
    kwargs = dict(env_kwargs)
    contenders = [Contender(TRAINED, env_id, kwargs, [agent], "learned")]
    contenders += baseline_contenders(dict(baselines), list(baselines), env_id, kwargs)
    scenario_kwargs = {k: v for k, v in kwargs.items() if k != "observation_mode"}
    exact = oracle_contender(oracle, scenario_kwargs)
    if exact is not None:
        contenders.append(exact)
    scores: dict[str, NDArray[np.float64]] = {}
    tables = []
    for contender in contenders:
        values, table, _ = run_scores(contender, seeds, deterministic)
        scores[contender.name] = values
        tables.append(table)
    episodes = pd.concat(tables, ignore_index=True)
    summary, honest = summarize(contenders, scores, episodes, reps=reps, seed=seed)
    return summary.sort_values("iqm", ascending=False, kind="stable"), honest


def table_rows(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """The console table's header and rows (strings): IQM, score, return split."""

    def interval(row: pd.Series, column: str) -> str:
        if pd.isna(row[column]):
            return ""
        return f"{row[column]:.3f} [{row[column + '_low']:.3f}, {row[column + '_high']:.3f}]"

    score = next((c for c in ("normalized_iqm", "gap_to_best") if c in summary.columns), None)
    components = [c for c in summary.columns if c.startswith(COMPONENT_PREFIX)]
    header = ["agent", "kind", "IQM [95% CI]"]
    if score == "normalized_iqm":
        header.append("normalized IQM [95% CI]")
    elif score == "gap_to_best":
        header.append("gap to best [95% CI]")
    header += [f"mean {c.removeprefix(COMPONENT_PREFIX)}" for c in components]
    rows = []
    for name, row in summary.iterrows():
        cells = [str(name), str(row["kind"]), interval(row, "iqm")]
        if score is not None:
            cells.append(interval(row, score))
        cells += [f"{row[c]:.3f}" for c in components]
        rows.append(cells)
    return header, rows


def print_table(summary: pd.DataFrame, honest: HonestScores, episodes: int) -> None:
    """The summary as a rich table on stdout, with the notes that define its scores."""
    from rich.console import Console
    from rich.table import Table

    header, rows = table_rows(summary)
    table = Table(title=f"Trained policy against the baselines ({episodes} evaluation seeds)")
    for index, column in enumerate(header):
        table.add_column(column, justify="left" if index < 2 else "right")
    for cells in rows:
        table.add_row(*cells, style="bold" if cells[0] == TRAINED else None)
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # a log file: no wrapping to a guessed 80 columns
    console.print(table)
    for note in honest.notes:
        console.print(note, highlight=False)


def report_trained_policy(agent: Any, config: Any, train_env: Any = None) -> None:
    """The end-of-training table for a ``lepton-train`` config (its ``final_table`` keys).

    Plays ``final_table.episodes`` episodes from ``eval.first_seed`` (the
    periodic evaluation's seeds and world: ``eval.scenario_kwargs`` applied).
    A ``train_env`` that normalizes observations (SB3's ``VecNormalize`` with
    ``norm_obs``) lends the agent its normalization.
    """
    settings = config.final_table
    if not settings.enabled:
        return
    env_kwargs = {
        "scenario": config.scenario.name,
        **config.scenario.kwargs,
        **config.eval.scenario_kwargs,
        "observation_mode": config.env.observation_mode,
    }
    seeds = list(range(config.eval.first_seed, config.eval.first_seed + settings.episodes))
    normalizes = getattr(train_env, "norm_obs", False) and hasattr(train_env, "normalize_obs")
    player = NormalizedObservations(agent, train_env.normalize_obs) if normalizes else agent
    summary, honest = compare_with_baselines(
        player,
        config.env.action_mode,
        env_kwargs,
        seeds,
        settings.baselines,
        oracle=settings.oracle,
        deterministic=config.eval.deterministic,
        reps=settings.reps,
    )
    print_table(summary, honest, len(seeds))
