"""Run directories name what differs; a refused resume names every differing key."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lepton_env.experiments.run_names import identity_differences, identity_overrides, run_tag


def test_no_tag_without_a_preset_or_an_identity_override() -> None:
    assert run_tag(None, []) == ""
    # Budget, seed, group choices already in the name and logging keys leave the name alone.
    assert run_tag(None, ["seed=3", "agent=sac", "total_timesteps=9", "logger.csv=true"]) == ""


def test_the_preset_and_a_hash_of_the_identity_overrides() -> None:
    assert run_tag("toy_ppo", []) == "__toy_ppo"
    # sha1(b"env.num_envs=4").hexdigest()[:6] == "762bb6"
    assert run_tag(None, ["env.num_envs=4", "seed=1"]) == "__h762bb6"
    assert run_tag("toy_ppo", ["env.num_envs=4"]) == "__toy_ppo__h762bb6"
    assert run_tag("sub/preset", []) == "__sub-preset"


def test_the_hash_ignores_order_and_sees_every_identity_key() -> None:
    overrides = ["agent.model.gamma=0.9", "env=discrete", "+scenario.kwargs.horizon=8", "seed=0"]
    assert identity_overrides(overrides) == [
        "+scenario.kwargs.horizon=8",
        "agent.model.gamma=0.9",
        "env=discrete",
    ]
    assert run_tag(None, overrides) == run_tag(None, list(reversed(overrides)))
    assert run_tag(None, overrides) != run_tag(None, overrides[:2])


def test_differences_name_every_leaf_with_both_values() -> None:
    before = {
        "seed": 0,
        "agent": {"name": "ppo", "model": {"gamma": 0.99, "n_steps": 64}},
        "env": {"num_envs": 8},
    }
    now = {
        "seed": 1,
        "agent": {"name": "ppo", "model": {"gamma": 0.9, "n_steps": 64, "ent_coef": 0.0}},
        "env": {"num_envs": 8},
    }
    assert identity_differences(before, now, ("seed", "scenario", "env", "agent")) == [
        "seed: 0 in the run, 1 now",
        "agent.model.ent_coef: '<absent>' in the run, 0.0 now",
        "agent.model.gamma: 0.99 in the run, 0.9 now",
    ]
    assert identity_differences(before, before, ("seed", "agent")) == []


def resolved_run_name(*overrides: str) -> str:
    show = ["--cfg", "job", "-p", "run_name", "--resolve"]
    result = subprocess.run(
        [sys.executable, "-m", "lepton_env.experiments.train", *overrides, *show],
        env={**os.environ, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        (("scenario=toy",), "toy__maskable_ppo__seed0"),  # the default agent
        (("experiment=toy_ppo",), "toy__ppo__seed0__toy_ppo"),
        (("experiment=toy_ppo", "env.num_envs=4", "seed=2"), "toy__ppo__seed2__toy_ppo__h762bb6"),
    ],
)
def test_the_entry_point_names_its_run_directory(overrides: tuple[str, ...], name: str) -> None:
    assert resolved_run_name(*overrides) == name


def test_a_run_written_before_a_key_existed_behaved_as_its_old_value() -> None:
    old_run = {"env": {"scenario": "toy"}}
    assert (
        identity_differences(
            old_run, {"env": {"scenario": "toy", "horizon_terminal": False}}, ["env"]
        )
        == []
    )
    assert identity_differences(
        old_run, {"env": {"scenario": "toy", "horizon_terminal": True}}, ["env"]
    ) == ["env.horizon_terminal: False in the run, True now"]
