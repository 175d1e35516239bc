"""A run directory is written whole or not at all, never through a link (issue 23).

Each test pins a break found by trying: a kill while the final model was written, all
checkpoints corrupt, links followed when writing, a full disk.
"""

from __future__ import annotations

import errno
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir

from lepton_env.agents.training.callbacks import (
    CheckpointWarning,
    checkpoint_dirs,
    checkpoint_problem,
    latest_valid_checkpoint,
    write_manifest,
)
from lepton_env.experiments.run_files import (
    RunDirectoryLinkError,
    RunWriteError,
    atomic_path,
    write_text,
)
from lepton_env.experiments.schema import ConfigError
from lepton_env.experiments.train import CONFIGS, train

TINY = [
    "scenario=toy",
    "agent=ppo",
    "training=smoke",
    "total_timesteps=128",
    "checkpoint.freq=64",
    "eval.freq=64",
    "eval.episodes=1",
    "env.num_envs=4",
    "agent.model.n_steps=16",
    "agent.model.batch_size=32",
    "agent.model.policy_kwargs.net_arch=[8]",
    "logger.expansion_figure=false",
    "final_table.enabled=false",
]


@pytest.fixture
def run_train() -> Iterator[Any]:
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        yield lambda run_dir, *extra: train(compose("train", overrides=[*TINY, *extra]), run_dir)


def _events(run_dir: Path) -> list[str]:
    return sorted(str(path.relative_to(run_dir)) for path in (run_dir / "tb").rglob("*tfevents*"))


def test_an_atomic_write_keeps_the_old_file_when_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.json"
    write_text(path, "old")

    def killed(*args: Any) -> None:
        raise KeyboardInterrupt  # the process dies between writing and renaming

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        write_text(path, "new")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.json"]


def test_a_link_is_replaced_never_written_through(tmp_path: Path) -> None:
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "run.json").symlink_to(outside)
    write_text(run_dir / "run.json", "{}")
    assert outside.read_text() == "keep me"
    assert not (run_dir / "run.json").is_symlink()


def test_a_full_disk_is_one_line_naming_the_path_and_keeps_the_old_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "evaluations.npz"
    write_text(path, "old")
    with pytest.raises(RunWriteError) as raised, atomic_path(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    message = str(raised.value)
    assert "\n" not in message
    assert f"could not write {path}: No space left on device (ENOSPC)" in message
    assert path.read_text() == "old"


def test_a_run_directory_linking_outside_itself_is_refused_before_any_write(
    tmp_path: Path, run_train: Any
) -> None:
    outside = tmp_path / "other_run"
    (outside / "checkpoints" / "step_64").mkdir(parents=True)
    (outside / "lock").write_text("another run's file")
    run_dir = tmp_path / "copied"
    run_dir.mkdir()
    (run_dir / "checkpoints").symlink_to(outside / "checkpoints")
    (run_dir / ".lock").symlink_to(outside / "lock")
    with pytest.raises(RunDirectoryLinkError, match=r"checkpoints -> .*other_run/checkpoints"):
        run_train(run_dir)
    assert (outside / "checkpoints" / "step_64").is_dir()
    assert (outside / "lock").read_text() == "another run's file"
    assert sorted(p.name for p in run_dir.iterdir()) == [".lock", "checkpoints"]


def test_rotation_never_deletes_through_a_link(tmp_path: Path) -> None:
    other = tmp_path / "other" / "step_64"
    other.mkdir(parents=True)
    checkpoints = tmp_path / "run" / "checkpoints"
    (checkpoints / "step_128").mkdir(parents=True)
    (checkpoints / "step_64").symlink_to(other)
    assert checkpoint_dirs(checkpoints) == [checkpoints / "step_128"]


def test_a_kill_while_writing_the_final_model_is_completed_on_rerun(
    tmp_path: Path, run_train: Any, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from tbparse import SummaryReader

    run_dir = tmp_path / "run"
    replace = os.replace

    def killed_at_the_final_model(source: Any, target: Any) -> None:
        if Path(target).name == "final_model.zip":
            raise KeyboardInterrupt
        replace(source, target)

    monkeypatch.setattr(os, "replace", killed_at_the_final_model)
    with pytest.raises(KeyboardInterrupt):
        run_train(run_dir)
    monkeypatch.setattr(os, "replace", replace)
    assert not (run_dir / "final_model.zip").exists()
    assert json.loads((run_dir / "run.json").read_text())["status"] == "running"

    run_train(run_dir)  # once said "Already trained", leaving the run broken for good
    assert "Already trained" not in capsys.readouterr().out
    assert json.loads((run_dir / "run.json").read_text())["status"] == "finished"
    tags = SummaryReader(str(run_dir / "tb")).scalars
    assert (tags["tag"] == "final/eval_mean_reward").sum() == 1
    assert not tags[tags["tag"] == "eval/mean_reward"].duplicated(["step"]).any()

    run_train(run_dir)
    assert "Already trained: 128 steps" in capsys.readouterr().out


def test_no_verifying_checkpoint_stops_instead_of_restarting_in_place(
    tmp_path: Path, run_train: Any
) -> None:
    run_dir = tmp_path / "run"
    run_train(run_dir, "total_timesteps=64")
    for checkpoint in checkpoint_dirs(run_dir / "checkpoints"):
        (checkpoint / "manifest.json").unlink()  # manifest-less: unusable, with the reason
    config, events = (run_dir / "config.yaml").read_bytes(), _events(run_dir)
    with (
        pytest.warns(CheckpointWarning, match=r"manifest\.json is missing"),
        pytest.raises(ConfigError, match=r"no checkpoint that verifies.*resume=restart"),
    ):
        run_train(run_dir)
    assert (run_dir / "config.yaml").read_bytes() == config
    assert _events(run_dir) == events

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CheckpointWarning)
        result = run_train(run_dir, "resume=restart")
    assert result.num_timesteps == 128 and result.resumed_from is None
    [aside] = run_dir.glob("restarted_*")
    assert _events(aside) == events  # the old points moved aside, not mixed with the new
    assert len(_events(run_dir)) == 1


def test_a_bad_resume_file_falls_back_with_the_reason(tmp_path: Path, run_train: Any) -> None:
    run_dir = tmp_path / "run"
    run_train(run_dir)
    older, latest = checkpoint_dirs(run_dir / "checkpoints")[-2:]
    (latest / "resume.json").write_text("{}")
    write_manifest(latest)  # the manifest agrees: only reading the state tells
    assert "resume.json lacks" in (checkpoint_problem(latest) or "")
    with pytest.warns(CheckpointWarning, match=r"resume\.json lacks"):
        assert latest_valid_checkpoint(run_dir / "checkpoints") == older
