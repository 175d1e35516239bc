"""The built wheel works on its own: one namespace, configs inside, entry points anywhere.

The wheel is built from a copy of the checkout (an in-tree ``build/`` would keep
files deleted since) without the network (``--no-build-isolation``: the dev extra
brings setuptools and wheel) and installed with ``--target`` into a
folder outside the checkout; its console scripts then run from another folder with
that folder first on ``sys.path``, so they import the wheel's copy, not the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(command: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, "MPLBACKEND": "Agg", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = tmp_path_factory.mktemp("source") / "lepton-env"
    skip = shutil.ignore_patterns(
        ".*", "build", "dist", "runs", "outputs", "*.egg-info", "__pycache__"
    )
    shutil.copytree(REPO, source, symlinks=True, ignore=skip)
    out = tmp_path_factory.mktemp("dist")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    run([*pip_wheel, "--no-index", "-w", str(out), str(source)], cwd=out)
    (built,) = out.glob("lepton_env-*.whl")
    return built


def test_only_lepton_env_lands_at_the_top(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"lepton_env", wheel.name.split("-py")[0] + ".dist-info"}
    for member in (
        "lepton_env/agents/training/factory.py",
        "lepton_env/multi/parallel.py",
        "lepton_env/experiments/bench/multi.py",
        "lepton_env/experiments/train.py",
        "lepton_env/configs/train.yaml",
        "lepton_env/configs/agent/ppo.yaml",
        "lepton_env/configs/experiment/toy_ppo.yaml",
        "lepton_env/scenarios/data/world_bank_regions.csv",
    ):
        assert member in names


@pytest.mark.slow
def test_entry_points_train_play_tune_and_compare_from_anywhere(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    pip_install = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index"]
    run([*pip_install, "--target", str(site), str(wheel)], cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(site)}
    where = run(
        [sys.executable, "-c", "import lepton_env.experiments.train as t; print(t.__file__)"],
        cwd=elsewhere,
        **env,
    )
    assert Path(where.stdout.strip()).is_relative_to(site)

    scripts = site / "bin"
    trained = run(
        [
            str(scripts / "lepton-train"),
            "scenario=toy",
            "agent=ppo",
            "training=smoke",
            "total_timesteps=64",
            "eval.freq=64",
            "checkpoint.freq=64",
            "env.num_envs=2",
            "agent.model.n_steps=32",
            "agent.model.batch_size=32",
            "agent.model.policy_kwargs.net_arch=[8]",
        ],
        cwd=elsewhere,
        **env,
    )
    assert "Done: 64 steps" in trained.stdout
    (run_dir,) = (elsewhere / "runs").glob("toy__ppo__seed0__h*")
    assert (run_dir / "final_model.zip").is_file()
    played = run([str(scripts / "lepton-play"), str(run_dir), "--quiet"], cwd=elsewhere, **env)
    assert (
        "LeptonExpansion-v0 {'scenario': 'toy', 'observation_mode': 'flat'} seed 0" in played.stdout
    )

    tune = run([str(scripts / "lepton-tune"), "--cfg", "job", "scenario=toy"], cwd=elsewhere, **env)
    assert "n_trials" in tune.stdout
    compare = run(
        [str(scripts / "lepton-compare"), "--cfg", "job", "scenario=toy"], cwd=elsewhere, **env
    )
    assert "lepton_env.agents.players.heuristics.RandomAgent" in compare.stdout
