"""Config errors, --help and --cfg answer before torch and SB3 load; "did you mean"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lepton_env.experiments.suggest import closest, group_options, search_dirs, suggestions

OPTIONS = {"agent": {"ppo", "sac", "maskable_ppo"}, "scenario": {"toy", "global"}}
KEYS = ("seed", "total_timesteps", "device")


def test_closest_prefers_a_case_match_then_a_near_miss() -> None:
    assert closest("PPO", OPTIONS["agent"]) == "ppo"
    assert closest("pp0", OPTIONS["agent"]) == "ppo"
    assert closest("maskableppo", OPTIONS["agent"]) == "maskable_ppo"
    assert closest("zzz", OPTIONS["agent"]) is None


def test_suggestions_for_options_sweeps_and_keys() -> None:
    argv = ["agent=PPO,sac", "scenario=Global", "totl_timesteps=5", "seed=1", "-m"]
    assert suggestions(argv, OPTIONS, KEYS) == [
        "agent=PPO: did you mean agent=ppo?",
        "scenario=Global: did you mean scenario=global?",
        "totl_timesteps=5: did you mean total_timesteps=5?",
    ]
    valid = ["agent=ppo", "+scenario=toy", "experiment=null", "hydra.run.dir=x", "seed=2"]
    assert suggestions(valid, OPTIONS, KEYS) == []


def test_options_come_from_the_command_lines_search_path(tmp_path: Path) -> None:
    (tmp_path / "mine" / "agent").mkdir(parents=True)
    (tmp_path / "mine" / "agent" / "tabular.yaml").write_text("agent: {}\n")
    argv = [f"hydra.searchpath=[file://{tmp_path / 'mine'}]", "agent=Tabular"]
    dirs = search_dirs(argv, tmp_path / "configs")
    assert dirs == [tmp_path / "configs", tmp_path / "mine"]
    assert group_options(dirs) == {"agent": {"tabular"}}
    assert suggestions(argv, group_options(dirs), KEYS) == [
        "agent=Tabular: did you mean agent=tabular?"
    ]


def imported_modules(entry: str, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run an entry point's module under ``-X importtime``; the top-level packages it loaded."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", f"lepton_env.experiments.{entry}", *args],
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    loaded = {
        line.split("|")[-1].strip().split(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    return result, loaded


@pytest.mark.parametrize(
    ("entry", "args", "returncode", "message"),
    [
        ("train", ("agent=PPO",), 1, "lepton-train: agent=PPO: did you mean agent=ppo?"),
        ("train", ("totl_timesteps=5",), 1, "did you mean total_timesteps=5?"),
        (
            "train",
            ("total_timesteps=-5",),
            2,
            "total_timesteps = -5: must be in [1, 1,000,000,000,000]",
        ),
        ("train", ("--help",), 0, "lepton-train: train one agent on one scenario"),
        ("train", ("scenario=toy", "--cfg", "job"), 0, "name: toy"),
        ("tune", ("agent=SAC",), 1, "lepton-tune: agent=SAC: did you mean agent=sac?"),
        ("compare", ("scenario=Toy",), 1, "lepton-compare: scenario=Toy: did you mean"),
    ],
)
def test_answers_before_torch_and_sb3_load(
    entry: str, args: tuple[str, ...], returncode: int, message: str
) -> None:
    result, loaded = imported_modules(entry, *args)
    assert result.returncode == returncode, result.stderr[-2000:]
    assert message in result.stdout + result.stderr
    assert "hydra" in loaded
    assert not loaded & {"torch", "stable_baselines3", "sb3_contrib"}
