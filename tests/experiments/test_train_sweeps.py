"""-m sweeps through the launchers: joblib (local, parallel) and Ray (a local instance)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SMALL = [
    "scenario=toy",
    "training=smoke",
    "total_timesteps=256",
    "env.num_envs=4",
    "agent.model.n_steps=16",
    "agent.model.batch_size=32",
    "agent.model.policy_kwargs.net_arch=[16]",
    "logger.expansion_figure=false",
]


def sweep(overrides: list[str], sweep_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lepton_env.experiments.train",
            "-m",
            *overrides,
            *SMALL,
            f"hydra.sweep.dir={sweep_dir}",
        ],
        cwd=sweep_dir.parent,
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=500,
    )


def finished_runs(sweep_dir: Path) -> dict[str, dict[str, object]]:
    return {
        path.parent.name: json.loads(path.read_text())
        for path in sorted(sweep_dir.glob("*/run.json"))
    }


@pytest.mark.slow
def test_two_seeds_in_parallel_with_joblib(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    result = sweep(["seed=0,1", "launcher=local", "hydra.launcher.n_jobs=2"], sweep_dir)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Joblib.Parallel(n_jobs=2," in result.stderr + result.stdout
    runs = finished_runs(sweep_dir)
    assert sorted(runs) == ["0__toy__ppo__seed0", "1__toy__ppo__seed1"]
    assert [run["seed"] for run in runs.values()] == [0, 1]
    assert all(run["status"] == "finished" for run in runs.values())
    assert all((sweep_dir / name / "final_model.zip").exists() for name in runs)


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None,
    reason="needs the ray extra: pip install -e '.[ray]'",
)
def test_one_job_through_ray_on_a_local_instance(tmp_path: Path) -> None:
    sweep_dir = tmp_path / "sweep"
    result = sweep(
        [
            "seed=2",
            "launcher=ray",
            "+hydra.launcher.ray.init.num_cpus=1",
            "+hydra.launcher.ray.init.include_dashboard=false",
        ],
        sweep_dir,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Ray Launcher is launching 1 jobs" in result.stderr + result.stdout
    runs = finished_runs(sweep_dir)
    assert list(runs) == ["0__toy__ppo__seed2"]
    assert runs["0__toy__ppo__seed2"]["status"] == "finished"
