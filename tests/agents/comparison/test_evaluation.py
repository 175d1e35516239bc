"""Evaluation: rollouts, reward components, timelines and TensorBoard round trips."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from lepton_env.agents.comparison.episodes import EntryEvent, evaluate_policy_episodes
from lepton_env.agents.comparison.reports import strategy_report
from lepton_env.agents.comparison.tensorboard_reference import learning_curves, log_reference
from lepton_env.agents.players.heuristics import HomeOnlyAgent
from lepton_env.agents.players.oracle import OracleAgent


def test_rollout_returns_and_kpis_match_a_manual_episode() -> None:
    env = gym.make("LeptonExpansion-v0", scenario="toy")
    env.reset(seed=0)
    total, revenue, revenue_sum, done = 0.0, 0.0, 0.0, False
    hold = np.zeros(env.action_space.shape, dtype=np.int64)
    hold[-1] = round(env.unwrapped.params.initial_rnd * (env.unwrapped.params.rnd_levels - 1))
    while not done:
        _, reward, terminated, truncated, info = env.step(hold)
        total += reward
        revenue = info["revenue"]
        revenue_sum += revenue
        done = terminated or truncated
    episodes = evaluate_policy_episodes(
        HomeOnlyAgent(env), "LeptonExpansion-v0", {"scenario": "toy"}, seeds=[0, 1]
    )
    assert episodes["return"].tolist() == pytest.approx([total, total])
    assert episodes["final_revenue"].iloc[0] == pytest.approx(revenue)
    assert episodes["revenue"].iloc[0] == pytest.approx(revenue_sum)
    assert episodes["regions_present"].tolist() == [1, 1]  # home only
    assert episodes["regions_entered"].tolist() == [0, 0]
    assert episodes["length"].tolist() == [5, 5]
    assert episodes["bankrupt"].tolist() == [0, 0]
    with pytest.raises(ValueError, match="seeds"):
        evaluate_policy_episodes(HomeOnlyAgent(env), "LeptonExpansion-v0", {"scenario": "toy"}, [])


def test_reward_components_are_summed_per_episode_and_add_up_to_the_return() -> None:
    env = gym.make("LeptonExpansion-Single-v0", scenario="toy")
    env.reset(seed=3)
    agent = OracleAgent("toy")
    sums: dict[str, float] = {}
    observation, _ = env.reset(seed=3)
    done = False
    while not done:
        action, _ = agent.predict(observation[None, :])
        observation, _, terminated, truncated, info = env.step(int(action[0]))
        for name, value in info["reward_components"].items():
            sums[name] = sums.get(name, 0.0) + value
        done = terminated or truncated
    played = []
    episodes = evaluate_policy_episodes(
        agent,
        "LeptonExpansion-Single-v0",
        {"scenario": "toy"},
        [3],
        on_episode=lambda: played.append(1),
    )
    row = episodes.iloc[0]
    assert {f"return_{name}" for name in sums} <= set(episodes.columns)
    for name, value in sums.items():
        assert row[f"return_{name}"] == pytest.approx(value)
    assert sum(row[f"return_{name}"] for name in sums) == pytest.approx(row["return"])
    # the oracle's plan builds revenue: a terminal value apart from the quarters' profit
    assert row["return_valuation"] > 0
    assert played == [1]


def test_timeline_records_each_entry_of_the_oracle_plan() -> None:
    agent = OracleAgent("toy")
    events: list[EntryEvent] = []
    evaluate_policy_episodes(
        agent, "LeptonExpansion-Single-v0", {"scenario": "toy"}, [7], on_timeline=events.append
    )
    names = agent.params.region_names
    expected = []
    for quarter, action in enumerate(agent.result.plan):
        region, move = divmod(action, 10)
        if 1 <= move <= 4:
            expected.append((quarter, names[region]))
    assert [(e.quarter, e.region) for e in events] == expected
    assert all(e.previous_mode == "none" for e in events)
    report = strategy_report("oracle", events, [7, 8])
    assert f"| {events[0].quarter} | {events[0].region} | none | {events[0].mode} |" in report
    assert "## Episode seed 8" in report and "Stayed at home" in report


def test_tensorboard_reference_lines_read_back_as_learning_curves(tmp_path) -> None:
    rows = pd.DataFrame(
        {
            "return": [1.0, 3.0],
            "length": [5, 5],
            "final_revenue": [2.0, 2.0],
            "final_market_share": [0.1, 0.1],
            "regions_entered": [1, 2],
            "fines": [0.0, 0.0],
            "bankrupt": [0, 0],
            "invalid_moves": [0, 0],
            "revenue": [10.0, 30.0],
        }
    )
    log_reference(tmp_path / "uppsala", rows, steps=[0, 1000])
    curves = learning_curves({"uppsala": [tmp_path / "uppsala"]}, tag="eval/mean_reward")
    assert curves["step"].tolist() == [0, 1000]
    assert curves["value"].tolist() == pytest.approx([2.0, 2.0])
    entered = learning_curves({"uppsala": [tmp_path / "uppsala"]}, tag="kpi/regions_entered")
    assert entered["value"].tolist() == pytest.approx([1.5, 1.5])
    revenue = learning_curves({"uppsala": [tmp_path / "uppsala"]}, tag="kpi/revenue")
    assert revenue["value"].tolist() == pytest.approx([20.0, 20.0])


class _Searched:
    """A stand-in search baseline: only its budget matters to the summary."""

    def __init__(self) -> None:
        self.budget = {"env_steps": 4096, "wall_seconds": 1.5}


def test_summary_prints_a_search_baselines_budget_and_keeps_it_out_of_the_zero() -> None:
    from lepton_env.agents.comparison.contenders import Contender
    from lepton_env.agents.comparison.reports import summary_markdown
    from lepton_env.agents.comparison.scores import summarize

    face = "LeptonExpansion-Single-v0"
    contenders = [
        Contender("born_global", face, {}, [object()], "baseline"),
        Contender("search", face, {}, [_Searched()], "baseline"),
        Contender("oracle", face, {}, [object()], "oracle"),
    ]
    scores = {
        "born_global": np.array([4.0, 4.0]),
        "search": np.array([5.0, 5.0]),
        "oracle": np.array([6.0, 6.0]),
    }
    episodes = pd.DataFrame(
        [
            {"agent": name, "return": value, "return_profit": value - 1, "return_valuation": 1}
            | {column: 0.0 for column in ("final_revenue", "final_market_share")}
            | {column: 0 for column in ("regions_entered", "fines", "bankrupt", "invalid_moves")}
            for name, values in scores.items()
            for value in values
        ]
    )
    summary, honest = summarize(contenders, scores, episodes, reps=50)
    assert contenders[1].budget is not None and not contenders[1].is_heuristic
    assert honest.zero == "born_global"
    assert summary.loc["search", "normalized_iqm"] == pytest.approx(0.5)
    assert summary.loc["search", "budget"] == "env_steps=4096, wall_seconds=1.5"
    contenders[1].runs[0].budget["wall_seconds"] = 30.88743984199982  # floats to 4 digits
    assert summarize(contenders, scores, episodes, reps=50)[0].loc["search", "budget"] == (
        "env_steps=4096, wall_seconds=30.89"
    )
    assert summary.loc["born_global", "budget"] == ""
    assert summary.loc["search", "return_profit"] == pytest.approx(4.0)
    markdown = summary_markdown(summary, honest.notes)
    assert "| budget |" in markdown and "env_steps=4096, wall_seconds=1.5 |" in markdown
