"""lepton-compare / lepton-eval: Hydra composition, saved models, reports and plots."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hydra import compose, initialize_config_dir

from lepton_env.agents.comparison.evaluation import run_evaluation

CONFIGS = str(Path(__file__).resolve().parents[2] / "configs")
FAST = ["eval.episodes=2", "stats.reps=100", "report.strategy_episodes=1"]


def composed(name: str, overrides: list[str]):
    with initialize_config_dir(config_dir=CONFIGS, version_base="1.3"):
        return compose(config_name=name, overrides=overrides)


def saved_ppo_run(run_dir: Path) -> Path:
    """A lepton-train-like run directory: config, best_model.zip and eval/ TensorBoard scalars."""
    import gymnasium as gym
    from stable_baselines3 import PPO
    from torch.utils.tensorboard import SummaryWriter

    run_dir.mkdir(parents=True)
    env = gym.make("LeptonExpansion-Single-v0", scenario="toy")
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=32, n_epochs=1, seed=0, device="cpu")
    model.learn(32)
    model.save(run_dir / "best_model.zip")
    config = {
        "seed": 0,
        "scenario": {"name": "toy", "kwargs": {}},
        "env": {"action_mode": "discrete", "observation_mode": "flat"},
        "agent": {"name": "ppo", "model": {"_target_": "stable_baselines3.PPO"}},
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    writer = SummaryWriter(str(run_dir / "tb" / "run_1"))
    for step, value in ((0, 20.0), (32, 25.0)):
        writer.add_scalar("eval/mean_reward", value, step)
    writer.close()
    return run_dir


def test_compare_on_toy_ranks_baselines_against_the_oracle(tmp_path: Path) -> None:
    cfg = composed(
        "compare",
        [
            *FAST,
            "use_baselines=[random,home_only,uppsala,born_global]",
            "tensorboard.steps=[0,100]",
        ],
    )
    summary = run_evaluation(cfg, tmp_path, comparative=True)
    assert set(summary.index) == {"random", "home_only", "uppsala", "born_global", "oracle"}
    assert summary.loc["oracle", "normalized_iqm"] == pytest.approx(1.0)
    assert summary.loc["oracle", "optimality_gap"] == pytest.approx(0.0)
    # 0 = the best heuristic (uppsala on toy under the DCF valuation), the random-zero
    # score beside it
    heuristics = ["random", "home_only", "uppsala", "born_global"]
    best = max(heuristics, key=lambda name: summary.loc[name, "iqm"])
    assert summary.loc[best, "normalized_iqm"] == pytest.approx(0.0)
    assert all(summary.loc[name, "normalized_iqm"] <= 1e-9 for name in heuristics)
    assert summary.loc["random", "random_normalized_iqm"] == pytest.approx(0.0)
    assert summary.loc["random", "normalized_iqm"] < 0
    # cumulative profit and terminal value apart: the components add up to the return
    parts = summary[["return_profit", "return_valuation", "return_bankruptcy"]].sum(axis=1)
    assert parts.to_numpy() == pytest.approx(summary["mean"].to_numpy())
    assert summary.loc["oracle", "return_valuation"] > 0
    for name in summary.index:
        assert summary.loc[name, "iqm"] <= summary.loc["oracle", "iqm"] + 1e-9
    assert summary.loc["home_only", "regions_entered"] == 0
    for name in (
        "episodes.csv",
        "summary.csv",
        "summary.md",
        "improvement.csv",
        "improvement.md",
        "plots/aggregate_intervals.png",
        "plots/performance_profiles.png",
        "strategy/uppsala.md",
    ):
        assert (tmp_path / name).exists(), name
    improvement = pd.read_csv(tmp_path / "improvement.csv")
    row = improvement[(improvement.x == "home_only") & (improvement.y == "oracle")].iloc[0]
    assert row["probability"] == 0.0
    markdown = (tmp_path / "summary.md").read_text()
    assert "| oracle | oracle | discrete |" in markdown
    assert f"0 = the best heuristic, {best}" in markdown
    assert "mean profit" in markdown and "mean valuation" in markdown
    episodes = pd.read_csv(tmp_path / "episodes.csv")
    assert {"return_profit", "return_valuation"} <= set(episodes.columns)
    assert any((tmp_path / "tb" / "uppsala").iterdir())


def test_eval_loads_a_saved_run_directory_and_plays_its_face(tmp_path: Path) -> None:
    run_dir = saved_ppo_run(tmp_path / "runs" / "toy__ppo__seed0")
    cfg = composed(
        "evaluate", [*FAST, "use_baselines=[]", "oracle=false", f"+models.ppo={run_dir}"]
    )
    summary = run_evaluation(cfg, tmp_path / "out", comparative=False)
    assert list(summary.index) == ["ppo"]
    assert summary.loc["ppo", "kind"] == "learned"
    assert summary.loc["ppo", "face"] == "discrete"
    episodes = pd.read_csv(tmp_path / "out" / "episodes.csv")
    assert episodes["length"].tolist() == [5, 5]
    assert not (tmp_path / "out" / "improvement.csv").exists()


def played_as(run_dir: Path, deterministic: bool) -> Path:
    """``run_dir`` validated with ``eval.deterministic = deterministic`` (its config says so)."""
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    config["eval"] = {"deterministic": deterministic}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    return run_dir


def returns(tmp_path: Path, name: str, *overrides: str) -> pd.Series:
    cfg = composed(
        "evaluate",
        ["eval.episodes=12", "stats.reps=100", "use_baselines=[]", "oracle=false", *overrides],
    )
    run_evaluation(cfg, tmp_path / name, comparative=False)
    episodes = pd.read_csv(tmp_path / name / "episodes.csv")
    return episodes.set_index(["agent", "seed"])["return"]


def test_auto_plays_each_model_as_its_runs_were_validated(tmp_path: Path) -> None:
    argmax = saved_ppo_run(tmp_path / "argmax")
    sampled = played_as(saved_ppo_run(tmp_path / "sampled"), deterministic=False)
    both = returns(tmp_path, "auto", f"+models.a={argmax}", f"+models.s={sampled}")
    # the same weights (seed 0): the argmax run as under `true`, the sampled one as under `false`
    forced_true = returns(tmp_path, "true", "eval.deterministic=true", f"+models.s={sampled}")
    forced_false = returns(tmp_path, "false", "eval.deterministic=false", f"+models.a={argmax}")
    np.testing.assert_array_equal(both["a"], forced_true["s"])
    np.testing.assert_array_equal(both["s"], forced_false["a"])
    assert not np.array_equal(both["a"], both["s"]), "sampling never changed an episode"
    # the draws are keyed by the episode seed: the same alone, in another order, or elsewhere
    alone = returns(tmp_path, "alone", "eval.first_seed=2000004", f"+models.s={sampled}")
    np.testing.assert_array_equal(alone["s"].to_numpy()[:8], both["s"].to_numpy()[4:])
    summary = (tmp_path / "auto" / "summary.md").read_text()
    assert "Played with sampled actions (eval.deterministic = auto" in summary
    assert "): s." in summary


def test_runs_validated_both_ways_are_refused_and_the_setting_is_checked(tmp_path: Path) -> None:
    argmax = saved_ppo_run(tmp_path / "runs" / "seed0")
    sampled = played_as(saved_ppo_run(tmp_path / "runs" / "seed1"), deterministic=False)
    cfg = composed("evaluate", [*FAST, "use_baselines=[]", f"+models.m=[{argmax},{sampled}]"])
    with pytest.raises(ValueError, match=r"models\.m: its runs were validated with eval\.det"):
        run_evaluation(cfg, tmp_path / "out", comparative=False)
    cfg = composed("evaluate", [*FAST, "eval.deterministic=sometimes"])
    with pytest.raises(ValueError, match=r"eval\.deterministic = 'sometimes': allowed true"):
        run_evaluation(cfg, tmp_path / "out2", comparative=False)


def test_compare_draws_learning_curves_of_saved_runs(tmp_path: Path) -> None:
    run_dir = saved_ppo_run(tmp_path / "runs" / "toy__ppo__seed0")
    cfg = composed(
        "compare",
        [
            *FAST,
            "oracle=true",
            f"+models.ppo={tmp_path}/runs/toy__ppo__seed*",
            "use_baselines=[home_only]",
        ],
    )
    summary = run_evaluation(cfg, tmp_path / "out", comparative=True)
    assert set(summary.index) == {"ppo", "home_only", "oracle"}
    assert (tmp_path / "out" / "plots" / "learning_curves.png").exists()
    assert run_dir.exists()


def test_without_an_oracle_the_summary_gives_the_gap_to_the_best_baseline(
    tmp_path: Path,
) -> None:
    cfg = composed(
        "evaluate",
        [*FAST, "scenario=global", "oracle=false", "use_baselines=[home_only,born_global]"],
    )
    summary = run_evaluation(cfg, tmp_path, comparative=False)
    assert "normalized_iqm" not in summary.columns
    best = summary["iqm"].idxmax()
    assert summary.loc[best, "gap_to_best"] == pytest.approx(0.0)
    other = ({"home_only", "born_global"} - {best}).pop()
    gap = summary.loc[best, "iqm"] - summary.loc[other, "iqm"]
    assert summary.loc[other, "gap_to_best"] == pytest.approx(gap)
    assert f"best heuristic or search baseline, {best}" in (tmp_path / "summary.md").read_text()


def test_bad_inputs_are_named(tmp_path: Path) -> None:
    cfg = composed("compare", [*FAST, "+models.ppo=/nonexistent/run*"])
    with pytest.raises(FileNotFoundError, match=r"models\.ppo"):
        run_evaluation(cfg, tmp_path, comparative=False)
    cfg = composed("compare", [*FAST, "action_mode=tabular"])
    with pytest.raises(ValueError, match="action_mode"):
        run_evaluation(cfg, tmp_path, comparative=False)
    cfg = composed("compare", [*FAST, "use_baselines=[uppsala,uppsla]"])
    with pytest.raises(ValueError, match="uppsla"):
        run_evaluation(cfg, tmp_path, comparative=False)
    cfg = composed("compare", [*FAST, "scenario=global", "oracle=true", "use_baselines=[]"])
    with pytest.raises(ValueError, match="deterministic"):
        run_evaluation(cfg, tmp_path, comparative=False)
    with pytest.raises(Exception, match=r"eval\.episdes"):
        composed("compare", ["eval.episdes=3"])


@pytest.mark.slow
def test_lepton_compare_command_writes_to_the_hydra_run_dir(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "lepton_env.experiments.compare",
        "scenario=toy",
        *FAST,
        "use_baselines=[uppsala]",
        "report.plots=false",
        f"hydra.run.dir={tmp_path}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    # the 80-column console table (summary.md keeps the full one)
    assert any(line.startswith("uppsala ") for line in done.stdout.splitlines())
    assert "full table: summary.md" in done.stdout
    # progress on stderr: one line per contender with its episodes counted
    assert "baseline uppsala" in done.stderr and "2/2" in done.stderr
    assert "built the contenders" in done.stderr
    assert (tmp_path / "summary.md").exists()
    failed = subprocess.run(
        [*command[:-1], "+models.x=/nonexistent", f"hydra.run.dir={tmp_path}/bad"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert failed.returncode == 2
    assert "models.x" in failed.stderr


def test_eval_scenario_kwargs_score_every_contender_on_the_test_split(tmp_path: Path) -> None:
    """``eval.scenario_kwargs={split: test}``: a run trained on the train split, the
    heuristics and the search all play test-split episodes; the search searched the
    train split (seed offset 0) and the test episodes are the test split's."""
    import gymnasium as gym
    from stable_baselines3 import PPO

    from lepton_env.agents.comparison.episodes import evaluate_policy_episodes
    from lepton_env.agents.comparison.evaluation import build_contenders
    from lepton_env.agents.players.heuristics import HomeOnlyAgent
    from lepton_env.scenarios.procedural import TEST_SEED_OFFSET

    world = {"num_regions": 3, "split": "train"}
    run_dir = tmp_path / "proc_run"
    run_dir.mkdir()
    env = gym.make("LeptonExpansion-v0", scenario="procedural", **world)
    PPO("MlpPolicy", env, n_steps=16, batch_size=16, n_epochs=1, seed=0, device="cpu").save(
        run_dir / "best_model.zip"
    )
    config = {
        "seed": 0,
        "scenario": {"name": "procedural", "kwargs": world},
        "env": {"action_mode": "multi_discrete", "observation_mode": "flat"},
        "agent": {"name": "ppo", "model": {"_target_": "stable_baselines3.PPO"}},
    }
    (run_dir / "config.yaml").write_text(yaml.safe_dump(config))
    cfg = composed(
        "compare",
        [
            *FAST,
            "scenario=procedural",
            "scenario.kwargs.num_regions=3",
            "action_mode=multi_discrete",
            "+eval.scenario_kwargs.split=test",
            "use_baselines=[home_only,search_rules]",
            "baselines.search_rules.generations=1",
            "baselines.search_rules.population=4",
            "baselines.search_rules.train_seeds=1",
            f"+models.ppo={run_dir}",
        ],
    )
    contenders = {c.name: c for c in build_contenders(cfg)}
    assert set(contenders) == {"ppo", "home_only", "search_rules"}
    assert all(c.env_kwargs["split"] == "test" for c in contenders.values())
    assert contenders["ppo"].env_kwargs["num_regions"] == 3  # its own world, test episodes
    assert contenders["search_rules"].runs[0].params.seed_offset == 0  # searched train
    summary = run_evaluation(cfg, tmp_path / "out", comparative=False)
    assert "split" in (tmp_path / "out" / "summary.md").read_text()
    episodes = pd.read_csv(tmp_path / "out" / "episodes.csv")
    home = episodes[episodes["agent"] == "home_only"]["return"].to_numpy()
    seeds = [cfg.eval.first_seed, cfg.eval.first_seed + 1]
    kwargs = {"scenario": "procedural", "num_regions": 3}
    played: dict[str, list[float]] = {}
    for split in ("train", "test"):
        agent_env = gym.make("LeptonExpansion-v0", **kwargs, split=split)
        assert agent_env.unwrapped.params.seed_offset == (
            TEST_SEED_OFFSET if split == "test" else 0
        )
        rows = evaluate_policy_episodes(
            HomeOnlyAgent(agent_env), "LeptonExpansion-v0", {**kwargs, "split": split}, seeds
        )
        played[split] = rows["return"].tolist()
    assert home.tolist() == pytest.approx(played["test"])
    assert home.tolist() != pytest.approx(played["train"])  # the split changes the episodes
    assert summary.loc["home_only", "iqm"] == pytest.approx(float(np.mean(home)))
