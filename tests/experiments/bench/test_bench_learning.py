"""The comparison protocol's plan: which presets it trains, what each comparison is given
(no training run here: the runs and comparisons are recorded, not made)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from lepton_env.experiments.bench import learning


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """``(preset, lepton-compare overrides)`` of every comparison ``protocol`` would run."""
    calls: list[tuple[str, list[str]]] = []

    def train_preset(preset: str, seeds: Sequence[int], out: Path, overrides: Sequence[str]):
        return [out / preset / f"seed{seed}" for seed in seeds]

    def compare_runs(name: str, runs: Sequence[Path], out: Path, overrides: Sequence[str]):
        calls.append((name, list(overrides)))
        return out

    monkeypatch.setattr(learning, "train_preset", train_preset)
    monkeypatch.setattr(learning, "compare_runs", compare_runs)
    monkeypatch.setattr(learning, "run_cpu_seconds", lambda runs: 80.0)
    return calls


def test_presets_replace_the_part_s_presets_one_figure_per_command(
    recorded: list[tuple[str, list[str]]], tmp_path: Path
) -> None:
    learning.protocol(tmp_path, ["global"], [0, 1], presets=["global_shared_ppo"])
    assert [preset for preset, _ in recorded] == ["global_shared_ppo"]
    overrides = recorded[0][1]
    # both searches get the runs' CPU seconds per run, one search per training seed
    for search in learning.SEARCHES:
        assert f"baselines.{search}.max_cpu_seconds=80.00" in overrides
        assert f"+baselines.{search}.run_seeds=[0,1]" in overrides


def test_every_contender_of_the_procedural_part_plays_the_test_split(
    recorded: list[tuple[str, list[str]]], tmp_path: Path
) -> None:
    learning.protocol(tmp_path, ["procedural"], [0])
    assert [preset for preset, _ in recorded] == [
        "procedural_maskable_ppo",
        "procedural_maskable_ppo_tuned",
    ]
    for _, overrides in recorded:
        assert "scenario=procedural" in overrides
        assert "+eval.scenario_kwargs.split=test" in overrides


def test_every_protocol_preset_has_a_cpu_estimate() -> None:
    presets = {p for part in learning.PROTOCOL_PARTS.values() for p in part["presets"]}
    assert presets <= set(learning.PRESET_CPU_SECONDS)
    one = learning.expected_cpu_seconds(["global"], 1, 1.0, ["global_maskable_ppo"])
    assert one == learning.PRESET_CPU_SECONDS["global_maskable_ppo"] * (1 + len(learning.SEARCHES))


@pytest.mark.parametrize(
    ("preset", "steps"),
    [
        ("global_maskable_ppo", 2_000_000),  # its own total_timesteps
        ("global_maskable_ppo_long", 6_000_000),  # the default's settings, a longer budget
        ("global_shared_ppo", 2_000_000),  # none: the agent's budget
    ],
)
def test_preset_steps_read_the_preset_its_parent_or_its_agent(preset: str, steps: int) -> None:
    assert learning.preset_steps(preset) == steps
