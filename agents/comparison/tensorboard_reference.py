"""TensorBoard reference lines: a baseline's evaluation drawn beside learned runs.

:func:`log_reference` writes an agent's evaluation as flat lines under the
training runs' tags; :func:`learning_curves` reads a tag back from runs'
TensorBoard logs (tbparse). The writer is TensorBoard's own event-file writer,
so a comparison does not import torch for it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from lepton_env.agents.comparison.episodes import KPI_COLUMNS, TRAINING_KPI_COLUMNS


def reference_values(table: pd.DataFrame) -> dict[str, float]:
    """The tags and values of an agent's evaluation (episode rows of ``episodes.csv``).

    Tags match the training runs' (``eval/mean_reward``, ``eval/std_reward``,
    ``eval/mean_ep_length``, and under ``eval/`` and ``kpi/`` the episode means of
    :data:`~lepton_env.agents.comparison.episodes.TRAINING_KPI_COLUMNS` and
    :data:`~lepton_env.agents.comparison.episodes.KPI_COLUMNS`).
    """
    values = {
        "eval/mean_reward": float(table["return"].mean()),
        "eval/std_reward": float(table["return"].std(ddof=0)),
        "eval/mean_ep_length": float(table["length"].mean()),
    }
    for column in dict.fromkeys((*TRAINING_KPI_COLUMNS, *KPI_COLUMNS)):
        if column not in table:
            continue
        mean = float(table[column].mean())
        values[f"eval/{column}"] = mean
        values[f"kpi/{column}"] = mean
    return values


def log_reference(log_dir: Path, table: pd.DataFrame, steps: Sequence[int]) -> None:
    """Write an agent's evaluation to TensorBoard as flat lines at ``steps``."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    log_dir.mkdir(parents=True, exist_ok=True)
    writer = EventFileWriter(str(log_dir))
    try:
        for step in steps:
            summary = Summary(
                value=[
                    Summary.Value(tag=tag, simple_value=value)
                    for tag, value in reference_values(table).items()
                ]
            )
            writer.add_event(Event(wall_time=time.time(), step=int(step), summary=summary))
    finally:
        writer.close()


def learning_curves(
    run_dirs: Mapping[str, Sequence[Path]], tag: str = "eval/mean_reward"
) -> pd.DataFrame:
    """``tag`` from each run's TensorBoard logs (read by tbparse): agent, run, step, value."""
    columns = ["agent", "run", "step", "value"]
    if not any(run_dirs.values()):
        return pd.DataFrame(columns=columns)
    from tbparse import SummaryReader

    frames = []
    for name, directories in run_dirs.items():
        for index, directory in enumerate(directories):
            logs = directory / "tb" if (directory / "tb").exists() else directory
            scalars = SummaryReader(str(logs)).scalars
            if scalars.empty:
                continue
            picked = scalars[scalars["tag"] == tag][["step", "value"]].copy()
            picked.insert(0, "run", index)
            picked.insert(0, "agent", name)
            frames.append(picked)
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)
