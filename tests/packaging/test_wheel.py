"""The built wheel works on its own: one namespace, configs inside, entry points anywhere.

The wheel is built from a copy of the checkout (an in-tree ``build/`` would keep
files deleted since) without the network (``--no-build-isolation``: the dev extra
brings setuptools and wheel), then installed with its ``train`` extra and the
dependencies it pulls into a fresh venv, as a user without the checkout installs it.
The resolver is held to the versions this (dev) venv runs, its torch build included
(``pip freeze`` as constraints), so it takes them from the package index or cache
this venv came from and the test measures the wheel's dependency list, not the day's
releases. Every console script then runs its default path from another folder: an
import the ``train`` extra does not bring fails here, as it would for a user.
"""

from __future__ import annotations

import importlib.metadata
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


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv holding the wheel with its ``train`` extra and nothing of the dev venv."""
    root = tmp_path_factory.mktemp("fresh")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)], cwd=root)
    freeze = run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable", "--exclude", "lepton-env"],
        cwd=root,
    )
    pinned = [line for line in freeze.stdout.splitlines() if "==" in line and "@" not in line]
    constraints = root / "constraints.txt"
    constraints.write_text("\n".join(pinned) + "\n")
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(constraints)]
    # The torch build this venv runs (CI's CPU build) first, so the extra keeps it.
    run([*pip, f"torch=={importlib.metadata.version('torch')}"], cwd=root)
    run([*pip, f"{wheel}[train]"], cwd=root)
    return venv


@pytest.mark.slow
def test_the_train_extra_brings_what_the_entry_points_import(fresh_venv: Path) -> None:
    python = str(fresh_venv / "bin" / "python")
    # pilot_then_scale's K-means, lepton-compare's learning curves, lepton-play's GIF
    for module in ("sklearn.cluster", "tbparse", "imageio.v3", "pandas", "rich", "optuna"):
        run([python, "-c", f"import {module}"], cwd=fresh_venv)
    dev_only = run(
        [python, "-c", "import importlib.util as u; print(u.find_spec('pytest') is None)"],
        cwd=fresh_venv,
    )
    assert dev_only.stdout.strip() == "True", "the fresh venv sees the dev venv's packages"


@pytest.mark.slow
def test_every_entry_point_runs_its_default_path_from_anywhere(
    fresh_venv: Path, tmp_path: Path
) -> None:
    scripts = fresh_venv / "bin"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # Only what the venv holds: no checkout on the path, no dev venv.
    env = {"PYTHONPATH": "", "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}"}
    where = run(
        [str(scripts / "python"), "-c", "import lepton_env.agents as a; print(a.__file__)"],
        cwd=elsewhere,
        **env,
    )
    assert Path(where.stdout.strip()).is_relative_to(fresh_venv)

    # The default training pipeline on toy: MaskablePPO, its end-of-run table of every
    # default baseline (pilot_then_scale's K-means) and the oracle.
    trained = run(
        [
            str(scripts / "lepton-train"),
            "scenario=toy",
            "total_timesteps=2048",
            "env.num_envs=64",
            "agent.model.batch_size=512",
            "agent.model.policy_kwargs.net_arch=[8]",
            "progress_bar=false",
        ],
        cwd=elsewhere,
        **env,
    )
    assert "pilot_then_scale" in trained.stdout
    (run_dir,) = (elsewhere / "runs").glob("toy__maskable_ppo__seed0__h*")
    assert (run_dir / "final_model.zip").is_file()

    # lepton-compare with a model: its learning curves are read back with tbparse.
    compared = run(
        [
            str(scripts / "lepton-compare"),
            "scenario=toy",
            f"+models.trained={run_dir}",
            "eval.episodes=2",
            "hydra.run.dir=compare",
        ],
        cwd=elsewhere,
        **env,
    )
    assert "pilot_then_scale" in compared.stdout
    assert (elsewhere / "compare" / "plots" / "learning_curves.png").is_file()

    evaluated = run(
        [str(scripts / "lepton-eval"), "scenario=toy", "eval.episodes=2", "hydra.run.dir=eval"],
        cwd=elsewhere,
        **env,
    )
    assert (elsewhere / "eval" / "summary.md").is_file(), evaluated.stdout

    played = run(
        [str(scripts / "lepton-play"), str(run_dir), "--gif", "episode.gif", "--quiet"],
        cwd=elsewhere,
        **env,
    )
    assert "seed 0" in played.stdout
    assert (elsewhere / "episode.gif").stat().st_size > 0

    tuned = run(
        [
            str(scripts / "lepton-tune"),
            "scenario=toy",
            "agent=ppo",
            "sweeper.n_trials=1",
            "training=smoke",
            "total_timesteps=64",
            "env.num_envs=2",
            "agent.model.n_steps=32",
            "agent.model.batch_size=32",
            "agent.model.policy_kwargs.net_arch=[8]",
        ],
        cwd=elsewhere,
        **env,
    )
    assert list((elsewhere / "runs" / "tune").rglob("tuned_toy_ppo.yaml")), tuned.stdout
