"""lepton-train multiagent=selfplay|psro|independent: per-firm TensorBoard tags, an exact
resume after a kill, PSRO's exact equilibrium on duel_toy, config errors named."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

#: A tiny self-play run: 8 envs (4 per seat), rollouts of 16 quarters, 8 rounds.
SELFPLAY = [
    "scenario=duel_toy",
    "env=discrete",
    "multiagent=selfplay",
    "training=smoke",
    "env.num_envs=8",
    "agent.model.n_steps=16",
    "agent.model.batch_size=64",
    "agent.model.policy_kwargs.net_arch=[16]",
    "total_timesteps=1024",
    "checkpoint.freq=256",
    "multiagent.opponents.snapshot_every=2",
    "multiagent.opponents.max_snapshots=3",
    "+multiagent.opponents.heuristics.BornGlobalAgent=0.25",
]


def compose(overrides: list[str]) -> Any:
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    from lepton_env.experiments.train import CONFIGS

    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        return hydra_compose("train", overrides=overrides)


def scalars(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    events = EventAccumulator(str(run_dir / "tb"), size_guidance={"scalars": 0})
    events.Reload()
    return {
        tag: [(e.step, e.value) for e in events.Scalars(tag)] for tag in events.Tags()["scalars"]
    }


def policy_parameters(path: Path) -> dict[str, Any]:
    import torch

    with zipfile.ZipFile(path) as archive:
        return torch.load(io.BytesIO(archive.read("policy.pth")), weights_only=True)  # type: ignore[no-any-return]


def test_selfplay_writes_per_firm_tags_and_resumes_exactly_after_a_kill(tmp_path: Path) -> None:
    import torch

    from lepton_env.experiments.train import train

    whole = tmp_path / "whole"
    train(compose(SELFPLAY), whole)
    tags = scalars(whole)
    for tag in (
        "firm0/return",
        "firm1/return",
        "population/weight/snapshot0",
        "population/weight/BornGlobalAgent",
        "versus/BornGlobalAgent/return",
        "exploitability/nash_conv",
        "firm0/gain",
        "train/loss",
    ):
        assert tag in tags, sorted(tags)
    assert len(tags["firm0/return"]) == 8  # one point per round
    assert tags["population/weight/BornGlobalAgent"][-1][1] == pytest.approx(0.25)

    killed = tmp_path / "killed"
    command = [sys.executable, "-m", "lepton_env.experiments.train", *SELFPLAY]
    process = subprocess.Popen(
        [*command, f"hydra.run.dir={killed}"],
        cwd=tmp_path,
        env={**os.environ, "MPLBACKEND": "Agg"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 240
    while not list((killed / "checkpoints").glob("step_*/manifest.json")):
        assert process.poll() is None, process.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    checkpoints = sorted((killed / "checkpoints").glob("step_*"))
    assert int(checkpoints[-1].name.removeprefix("step_")) < 1024
    assert not (killed / "final_model.zip").exists()

    result = train(compose(SELFPLAY), killed)  # the same command continues the run
    assert result.resumed_from is not None
    expected, got = (
        policy_parameters(whole / "final_model.zip"),
        policy_parameters(killed / "final_model.zip"),
    )
    assert all(torch.equal(expected[key], got[key]) for key in expected)
    resumed = scalars(killed)
    for tag in ("firm0/return", "firm1/return", "train/loss", "exploitability/nash_conv"):
        assert resumed[tag] == tags[tag], tag


def test_psro_with_the_exact_oracle_reaches_an_equilibrium_of_duel_toy(tmp_path: Path) -> None:
    import json

    from lepton_env.experiments.train import train

    run_dir = tmp_path / "psro"
    train(compose(["scenario=duel_toy", "multiagent=psro", "training=smoke"]), run_dir)
    summary = json.loads((run_dir / "run.json").read_text())["summary"]
    assert summary["converged"]
    assert summary["iterations"] <= 4
    assert abs(summary["exact"]["nash_conv"]) < 1e-9
    tags = scalars(run_dir)
    assert tags["exploitability/nash_conv"][-1][1] < 1e-9
    assert "psro/meta/firm0/solo0" in tags
    # the profile reads back from the run directory as data and plays the same
    from lepton_env.agents.population.profiles import run_profile
    from lepton_env.games import SmallGame, values

    config, profile = run_profile(run_dir)
    assert config.multiagent is not None and config.multiagent.mode == "psro"
    played = values(SmallGame.make("duel_toy"), profile)
    assert played.tolist() == pytest.approx(summary["exact"]["values"], abs=1e-9)


def test_psro_with_the_search_oracle_comes_near_an_equilibrium_of_duel_toy(
    tmp_path: Path,
) -> None:
    """The cross-entropy search of a plan against the meta-mixture as the oracle: within a
    few iterations the profile's exact NashConv is under 1% of the values (the exact
    oracle's is 0); no search response gains more than the exact best response."""
    import json

    from lepton_env.experiments.train import train

    run_dir = tmp_path / "search"
    overrides = [
        "scenario=duel_toy",
        "multiagent=psro",
        "training=smoke",
        "multiagent.oracle.kind=search",
        "multiagent.iterations=4",
        "+multiagent.oracle.search.seed=0",
    ]
    train(compose(overrides), run_dir)
    summary = json.loads((run_dir / "run.json").read_text())["summary"]
    assert 1 < summary["iterations"] <= 4
    for entry in summary["history"]:  # the exact NashConv bounds the search's gains
        assert sum(entry["oracle_gains"]) <= entry["nash_conv"] + 1e-9
    assert summary["history"][0]["nash_conv"] > 0.1  # the solo plans are no equilibrium
    assert 0.0 <= summary["exact"]["relative_nash_conv"] < 0.01
    assert all(budget["family"] == "plans" for budget in summary["search_budgets"])
    assert "psro/meta/firm0/search_firm0_1" in scalars(run_dir)


def test_a_psro_run_given_more_iterations_continues_in_place(tmp_path: Path) -> None:
    """multiagent.iterations is a budget: a run stopped after one iteration and given more
    continues from its checkpoint and ends as the run that had them from the start."""
    import json

    from lepton_env.experiments.train import train

    base = ["scenario=duel_toy", "multiagent=psro", "training=smoke"]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    train(compose([*base, "multiagent.iterations=10"]), whole)
    train(compose([*base, "multiagent.iterations=1"]), parts)
    first = json.loads((parts / "run.json").read_text())["summary"]
    assert first["iterations"] == 1 and not first["converged"]
    result = train(compose([*base, "multiagent.iterations=10"]), parts)
    assert result.resumed_from == 1
    expected = json.loads((whole / "run.json").read_text())["summary"]
    extended = json.loads((parts / "run.json").read_text())["summary"]
    assert extended["converged"] and extended["iterations"] == expected["iterations"] > 1
    for key in ("history", "meta", "sizes", "exact"):
        assert extended[key] == expected[key], key
    # converged: more iterations report the run and change nothing
    written = (parts / "final_model.zip").stat().st_mtime_ns
    again = train(compose([*base, "multiagent.iterations=20"]), parts)
    assert again.resumed_from == expected["iterations"]
    assert (parts / "final_model.zip").stat().st_mtime_ns == written


#: PSRO on race with a tiny budget: random play to start from, 64 PPO steps per response,
#: 4 episodes per table cell.
RACE_PSRO = [
    "scenario=race",
    "env=multi_discrete",
    "agent=maskable_ppo",
    "multiagent=psro",
    "training=smoke",
    "multiagent.initial=RandomAgent",
    "multiagent.oracle.kind=ppo",
    "multiagent.oracle.total_timesteps=64",
    "multiagent.table_episodes=4",
    "env.num_envs=2",
    "agent.model.n_steps=16",
    "agent.model.batch_size=32",
    "agent.model.policy_kwargs.net_arch=[16]",
]


def test_psro_on_race_grows_populations_on_tables_estimated_from_play(tmp_path: Path) -> None:
    import json

    import numpy as np

    from lepton_env.agents.population.empirical import TABLE_FIRST_SEED
    from lepton_env.experiments.train import train

    run_dir, parts = tmp_path / "race", tmp_path / "parts"
    train(compose([*RACE_PSRO, "multiagent.iterations=2"]), run_dir)
    summary = json.loads((run_dir / "run.json").read_text())["summary"]
    # one iteration, then extended to two from its checkpoint (populations, table cells):
    # the same run
    train(compose([*RACE_PSRO, "multiagent.iterations=1"]), parts)
    assert (parts / "checkpoints" / "step_1" / "table.npz").is_file()
    assert train(compose([*RACE_PSRO, "multiagent.iterations=2"]), parts).resumed_from == 1
    extended = json.loads((parts / "run.json").read_text())["summary"]
    for key in ("meta", "values", "members"):
        assert extended[key] == summary[key], key
    for entry, expected_entry in zip(extended["history"], summary["history"], strict=True):
        for key, value in expected_entry.items():
            assert key.endswith("cpu_seconds") or entry[key] == value, key
    assert extended["table"]["means"] == summary["table"]["means"]
    first, second = summary["history"]
    assert first["sizes"] == [1, 1, 1]
    # each response that gained joined its firm's population
    grown = [1 + (gain > 0) for gain in first["oracle_gains"]]
    assert second["sizes"] == grown and sum(grown) > 3
    assert first["nash_conv_lower_bound"] == pytest.approx(
        sum(max(gain, 0.0) for gain in first["oracle_gains"])
    )
    table = summary["table"]
    assert table["episodes"] == 4 and table["first_seed"] == TABLE_FIRST_SEED
    means, errors = np.array(table["means"]), np.array(table["standard_errors"])
    assert means.shape == errors.shape == (3, *summary["sizes"])
    assert np.all(errors > 0)
    for weights in summary["meta"]:
        assert sum(weights) == pytest.approx(1.0)
    # the values are the table's expectation under the meta-strategies
    expected = np.einsum("fijk,i,j,k->f", means, *map(np.asarray, summary["meta"]))
    assert summary["values"] == pytest.approx(expected.tolist())
    tags = scalars(run_dir)
    for tag in ("psro/meta/firm0/RandomAgent", "psro/oracle_gain/firm2", "firm1/return"):
        assert tag in tags, sorted(tags)
    # the profile reads back as data (heuristics and models, no pickle) and replays a cell
    from lepton_env.agents.comparison.crossplay import play_profile
    from lepton_env.agents.population.profiles import run_profile
    from lepton_env.agents.population.psro import strategy_agent
    from lepton_env.scenarios import make_params

    _, profile = run_profile(run_dir)
    assert [len(m.members) for m in profile] == summary["sizes"]
    seats = [strategy_agent(m.members[-1]) for m in profile]
    seeds = list(range(TABLE_FIRST_SEED, TABLE_FIRST_SEED + 4))
    played = play_profile(make_params("race"), seats, seeds, action_mode="multi_discrete")
    last = tuple(size - 1 for size in summary["sizes"])
    assert played.returns.mean(axis=1) == pytest.approx(means[(slice(None), *last)])


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["scenario=duel_toy"], "scenario.name = 'duel_toy' has 2 firms: choose multiagent="),
        (["scenario=toy", "multiagent=selfplay"], "scenario.name = 'toy' has one firm"),
        (
            ["scenario=duel_toy", "multiagent=selfplay", "env.vec_backend=dummy"],
            "env.vec_backend = 'dummy': multiagent=selfplay runs on the batched",
        ),
        (
            [
                "scenario=duel_toy",
                "multiagent=selfplay",
                "+multiagent.opponents.heuristics.BornGlobalAgent=0.7",
                "+multiagent.opponents.heuristics.UppsalaAgent=0.3",
            ],
            "multiagent.opponents.heuristics sum to 1.0: must be < 1",
        ),
        (
            [
                "scenario=duel_toy",
                "multiagent=selfplay",
                "+multiagent.opponents.heuristics.Nobody=0.1",
            ],
            "multiagent.opponents.heuristics key = 'Nobody': allowed",
        ),
        (
            ["scenario=race", "multiagent=psro"],
            "multiagent.oracle.kind = 'exact': scenario.name = 'race' is no small game",
        ),
        (
            ["scenario=race", "multiagent=psro", "multiagent.oracle.kind=ppo"],
            "multiagent.initial = 'solo': the single-firm oracle plans exist on the small",
        ),
        (
            [
                "scenario=race",
                "multiagent=psro",
                "multiagent.oracle.kind=ppo",
                "multiagent.initial=UppsalaAgent",
                "multiagent.meta_solver=nashpy",
            ],
            "multiagent.meta_solver = 'nashpy' solves two-firm games; 'race' has 3 firms",
        ),
        (
            ["scenario=duel_toy", "multiagent=psro", "multiagent.table_episodes=1"],
            "multiagent.table_episodes = 1: must be in [2, 4,096]",
        ),
        (
            [
                "scenario=duel_toy",
                "multiagent=psro",
                "multiagent.oracle.kind=search",
                "+multiagent.oracle.search.population=1",
            ],
            "multiagent.oracle.search.population = 1: allowed integers in [2, inf)",
        ),
        (
            [
                "scenario=duel_toy",
                "multiagent=psro",
                "multiagent.oracle.kind=search",
                "+multiagent.oracle.search.family=rules",
            ],
            "multiagent.oracle.search keys ['family']: allowed",
        ),
        (
            ["scenario=duel_toy", "multiagent=psro", "multiagent.iterations=0"],
            "multiagent.iterations = 0: must be in [1, 1,000]",
        ),
        (
            ["scenario=duel_toy", "multiagent=psro", "multiagent.oracle.kind=dqn"],
            "multiagent.oracle.kind = 'dqn': allowed ['exact', 'ppo', 'search']",
        ),
        (
            ["scenario=duel_toy", "multiagent=selfplay", "multiagent.opponents.recent_decay=0"],
            "multiagent.opponents.recent_decay = 0.0: must be in (0, 1]",
        ),
    ],
)
def test_population_config_errors_name_the_key_and_range(
    overrides: list[str], message: str, tmp_path: Path
) -> None:
    from lepton_env.experiments.schema import ConfigError
    from lepton_env.experiments.train import train

    with pytest.raises(ConfigError) as error:
        train(compose(overrides), tmp_path / "run")
    assert message in str(error.value)
    assert not (tmp_path / "run").exists()


def test_independent_learners_log_per_firm_and_continue_exactly(tmp_path: Path) -> None:
    """Each seat's learner logs under firm<f>/; a run stopped at a checkpoint and extended
    equals the uninterrupted run (both learners' parameters, the per-firm returns)."""
    import torch

    from lepton_env.experiments.train import train

    tiny = [
        "scenario=duel_toy",
        "env=discrete",
        "multiagent=independent",
        "training=smoke",
        "env.num_envs=4",
        "agent.model.n_steps=16",
        "agent.model.batch_size=32",
        "agent.model.policy_kwargs.net_arch=[8]",
        "checkpoint.freq=64",
        "multiagent.exact=false",
    ]
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    train(compose([*tiny, "total_timesteps=256"]), whole)
    train(compose([*tiny, "total_timesteps=128"]), parts)
    result = train(compose([*tiny, "total_timesteps=256"]), parts)
    assert result.resumed_from == 128
    finished = (parts / "final_model_firm1.zip").stat().st_mtime_ns
    again = train(compose([*tiny, "total_timesteps=256"]), parts)  # finished: reported only
    assert again.resumed_from == 256
    assert (parts / "final_model_firm1.zip").stat().st_mtime_ns == finished
    tags = scalars(whole)
    for tag in ("firm0/train/loss", "firm1/train/loss", "firm0/return", "firm1/return"):
        assert tag in tags, sorted(tags)
    for name in ("final_model.zip", "final_model_firm1.zip"):
        expected, got = policy_parameters(whole / name), policy_parameters(parts / name)
        assert all(torch.equal(expected[key], got[key]) for key in expected)
    resumed = scalars(parts)
    for tag in ("firm0/return", "firm1/return", "firm1/train/loss"):
        assert resumed[tag] == tags[tag], tag


def test_independent_learners_each_save_their_normalization(tmp_path: Path) -> None:
    import numpy as np

    from lepton_env.experiments.train import train

    run_dir = tmp_path / "independent"
    overrides = [
        "scenario=duel_toy",
        "env=discrete",
        "multiagent=independent",
        "training=smoke",
        "env.num_envs=4",
        "env.normalize.enabled=true",
        "env.normalize.norm_obs=true",
        "agent.model.n_steps=16",
        "agent.model.batch_size=32",
        "agent.model.policy_kwargs.net_arch=[8]",
        "total_timesteps=64",
        "multiagent.exact=false",
    ]
    train(compose(overrides), run_dir)
    firm0, firm1 = run_dir / "vecnormalize.npz", run_dir / "vecnormalize_firm1.npz"
    assert (run_dir / "vecnormalize.pkl").is_file() and (
        run_dir / "vecnormalize_firm1.pkl"
    ).is_file()
    with np.load(firm0) as zero, np.load(firm1) as one:
        # each learner's own statistics: the firms see different observations
        assert zero["obs/count"] == one["obs/count"] > 0
        assert not np.array_equal(zero["obs/mean"], one["obs/mean"])
