"""A downloaded preset is data: it cannot set Hydra's machinery or extend what may run
(issue 23). Each crafted preset is refused, naming the key, before Hydra or anything else
builds a thing; the marker its payload would write never appears.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir

from lepton_env.experiments.provenance import ConfigSourceError, check_command_line
from lepton_env.experiments.run_files import RunDirectoryLinkError
from lepton_env.experiments.schema import ConfigError, validate
from lepton_env.experiments.train import CONFIGS


def _presets(marker: Path) -> dict[str, tuple[str, str]]:
    """name -> (the preset's body, the key its refusal names)."""
    touch = f"{{_target_: lepton_env.core.os.system, _args_: ['touch {marker}']}}"
    return {
        "callbacks": (f"hydra:\n  callbacks:\n    pwn: {touch}\n", "hydra.callbacks"),
        "logging": (
            "hydra:\n  job_logging:\n    handlers:\n      file:\n"
            f"        class: logging.FileHandler\n        filename: {marker}\n        mode: w\n",
            "hydra.job_logging",
        ),
        "launcher": (
            "hydra:\n  launcher:\n    _target_: lepton_env.core.os.system\n",
            "hydra.launcher",
        ),
        "sweeper": (
            "hydra:\n  sweeper:\n    _target_: lepton_env.core.os.system\n",
            "hydra.sweeper",
        ),
        "env_set": (
            "hydra:\n  job:\n    env_set:\n      LD_PRELOAD: /tmp/evil.so\n",
            "hydra.job.env_set",
        ),
        "allowed_targets": ("allowed_targets: [os, subprocess]\n", "allowed_targets"),
    }


def _preset_dir(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "downloaded"
    (folder / "experiment").mkdir(parents=True)
    (folder / "experiment" / "cool.yaml").write_text("# @package _global_\n" + body)
    return folder


@pytest.mark.parametrize("kind", list(_presets(Path("m"))))
def test_a_preset_setting_hydra_or_allowed_targets_is_refused(kind: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    body, key = _presets(marker)[kind]
    folder = _preset_dir(tmp_path, body)
    argv = [f"hydra.searchpath=[file://{folder}]", "experiment=cool", "scenario=toy"]
    with pytest.raises(ConfigSourceError, match=rf"^{key}\b.* outside the package"):
        check_command_line(argv, CONFIGS, "train")
    with pytest.raises(ConfigSourceError, match=rf"^{key}\b"):
        check_command_line(
            ["-m", f"--config-dir={folder}", "experiment=toy_ppo,cool"], CONFIGS, "train"
        )
    assert not marker.exists()


def test_the_same_keys_from_the_command_line_or_a_data_only_preset_pass(tmp_path: Path) -> None:
    folder = _preset_dir(tmp_path, "total_timesteps: 512\nagent:\n  model:\n    gamma: 0.9\n")
    base = [f"hydra.searchpath=[file://{folder}]", "experiment=cool", "scenario=toy"]
    check_command_line(base, CONFIGS, "train")
    check_command_line(
        [*base, "allowed_targets=[my_agents]", "launcher=sequential"], CONFIGS, "train"
    )
    check_command_line(["scenario=toy", "allowed_targets=[os]"], CONFIGS, "train")  # no folder


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("env.reward", "{_target_: lepton_env.reward.np.savetxt, fname: MARKER, X: [1.0]}"),
        (
            "agent.model.policy_kwargs",
            "{net_arch: [8], x: {_target_: lepton_env.core.np.savetxt, fname: MARKER, X: [1.0]}}",
        ),
        (
            "final_table.baselines",
            "{mine: {_target_: lepton_env.core.np.savetxt, fname: MARKER, X: [1.0]}}",
        ),
        (
            "sweeper.sampler",
            "{_target_: lepton_env.core.np.savetxt, fname: MARKER, X: [1.0]}",
        ),
    ],
)
def test_a_preset_payload_in_data_keys_is_refused_before_anything_is_built(
    key: str, value: str, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    *parents, leaf = key.split(".")
    body = "".join(f"{'  ' * depth}{name}:\n" for depth, name in enumerate(parents))
    body += f"{'  ' * len(parents)}{leaf}: {value.replace('MARKER', str(marker))}\n"
    folder = _preset_dir(tmp_path, body)
    name = "tune" if key.startswith("sweeper") else "train"
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        cfg = compose(
            name,
            overrides=[f"hydra.searchpath=[file://{folder}]", "experiment=cool", "scenario=toy"],
        )
    with pytest.raises(ConfigError, match=rf"{key}.*lepton_env\.\w+\.np\.savetxt"):
        validate(cfg)
    assert not marker.exists()


def test_experimental_rerun_and_linked_run_dirs_are_refused_before_hydra(tmp_path: Path) -> None:
    with pytest.raises(ConfigSourceError, match="unpickles"):
        check_command_line(["--experimental-rerun", "config.pickle"], CONFIGS, "train")
    run_dir = tmp_path / "copied"
    run_dir.mkdir()
    (run_dir / ".hydra").symlink_to(tmp_path)
    with pytest.raises(RunDirectoryLinkError, match=r"\.hydra ->"):
        check_command_line([f"hydra.run.dir={run_dir}"], CONFIGS, "train")


def test_lepton_train_refuses_a_preset_with_callbacks_before_hydra_runs_them(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "pwned"
    body, _ = _presets(marker)["callbacks"]
    folder = _preset_dir(tmp_path, body)
    result: Any = subprocess.run(
        [
            sys.executable,
            "-m",
            "lepton_env.experiments.train",
            f"hydra.searchpath=[file://{folder}]",
            "experiment=cool",
            "scenario=toy",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "lepton-train: hydra.callbacks set by a config outside the package" in result.stderr
    assert not marker.exists()
    assert not (tmp_path / "run").exists()
