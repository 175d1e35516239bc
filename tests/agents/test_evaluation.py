"""Evaluation: statistics on known inputs, rollouts, timelines and TensorBoard round trips."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from lepton_env.agents.baselines import HomeOnlyAgent
from lepton_env.agents.evaluation import (
    EntryEvent,
    aggregate,
    evaluate_policy_episodes,
    improvement_probabilities,
    intervals_overlap,
    learning_curves,
    log_reference,
    normalized_score,
    optimality_gap,
    strategy_report,
)
from lepton_env.agents.oracle import OracleAgent


def test_normalized_score_maps_random_to_zero_and_oracle_to_one() -> None:
    assert normalized_score([10.0, 20.0, 15.0, 25.0], 10.0, 20.0) == pytest.approx(
        [0.0, 1.0, 0.5, 1.5]
    )
    with pytest.raises(ValueError, match="must exceed"):
        normalized_score([1.0], 5.0, 5.0)


def test_aggregate_gives_mean_and_interquartile_mean() -> None:
    skewed = [0, 0, 1, 2, 3, 4, 100, 100]
    table = aggregate({"skewed": skewed, "flat": [7.0] * 5}, reps=200)
    assert table.loc["skewed", "mean"] == pytest.approx(np.mean(skewed))
    assert table.loc["skewed", "iqm"] == pytest.approx(2.5)  # mean of the middle half 1..4
    assert table.loc["skewed", "runs"] == 8
    row = table.loc["skewed"]
    assert row["iqm_low"] <= row["iqm"] <= row["iqm_high"]
    assert row["mean_low"] <= row["mean"] <= row["mean_high"]
    flat = table.loc["flat"]
    assert flat["iqm_low"] == flat["iqm_high"] == flat["mean"] == pytest.approx(7.0)


def test_aggregate_is_reproducible_and_leaves_numpy_global_state_alone() -> None:
    # rliable resamples with NumPy's legacy global generator: it must be left as found
    np.random.seed(123)  # noqa: NPY002
    expected_next = np.random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    first = aggregate({"a": [1.0, 5.0, 2.0, 8.0, 3.0]}, reps=300, seed=4)
    assert np.random.random() == expected_next  # noqa: NPY002
    second = aggregate({"a": [1.0, 5.0, 2.0, 8.0, 3.0]}, reps=300, seed=4)
    pd.testing.assert_frame_equal(first, second)


def test_wider_confidence_gives_wider_intervals() -> None:
    scores = {"a": [1.0, 5.0, 2.0, 8.0, 3.0, 4.0]}
    narrow = aggregate(scores, reps=500, confidence=0.5).loc["a"]
    wide = aggregate(scores, reps=500, confidence=0.99).loc["a"]
    assert wide["mean_high"] - wide["mean_low"] > narrow["mean_high"] - narrow["mean_low"]


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        ([5, 6, 7], [1, 2], 1.0),
        ([1, 2], [5, 6, 7], 0.0),
        ([3, 3], [3, 3, 3], 0.5),
        ([2, 3, 4], [1, 3], 0.75),  # (1 + 0 + 1 + 0.5 + 1 + 1) / 6
    ],
)
def test_probability_of_improvement_is_the_mann_whitney_statistic(
    x: list, y: list, expected: float
) -> None:
    table = improvement_probabilities({"x": x, "y": y}, reps=200)
    assert table[["x", "y"]].values.tolist() == [["x", "y"]]
    row = table.iloc[0]
    assert row["probability"] == pytest.approx(expected)
    assert row["low"] <= row["probability"] <= row["high"]
    if expected in (0.0, 1.0):
        assert row["low"] == row["high"] == expected


def test_improvement_pairs_are_unordered_by_default() -> None:
    table = improvement_probabilities({"a": [1, 2], "b": [2, 3], "c": [0, 1]}, reps=50)
    assert table[["x", "y"]].values.tolist() == [["a", "b"], ["a", "c"], ["b", "c"]]


def test_optimality_gap_and_overlap() -> None:
    assert optimality_gap([0.5, 1.2, 1.0]) == pytest.approx(0.5 / 3)
    table = pd.DataFrame(
        {"iqm_low": [0.0, 0.5, 2.0], "iqm_high": [1.0, 1.5, 3.0]}, index=["a", "b", "c"]
    )
    assert intervals_overlap(table, "a", "b")
    assert not intervals_overlap(table, "a", "c")


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
