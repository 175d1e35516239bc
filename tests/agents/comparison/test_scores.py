"""agents/comparison/scores.py: summary statistics and honest score definitions, hand-made cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lepton_env.agents.comparison.scores import (
    aggregate,
    honest_scores,
    improvement_probabilities,
    intervals_overlap,
    normalized_score,
)

#: Runs of each agent and their IQMs (4 runs: the middle two of the sorted four).
SCORES = {
    "random": [0.0, 1.0, 2.0, 3.0],  # IQM 1.5
    "home_only": [2.0, 2.0, 2.0, 2.0],  # IQM 2
    "born_global": [4.0, 4.0, 4.0, 4.0],  # IQM 4: the best heuristic
    "search": [5.0, 5.0, 5.0, 5.0],  # IQM 5, a baseline with a budget (not a heuristic)
    "ppo": [3.0, 5.0, 6.0, 9.0],  # IQM 5.5
    "oracle": [6.0, 6.0, 6.0, 6.0],  # IQM 6
}
KINDS = {
    "random": "baseline",
    "home_only": "baseline",
    "born_global": "baseline",
    "search": "baseline",
    "ppo": "learned",
    "oracle": "oracle",
}
HEURISTICS = ["random", "home_only", "born_global"]


def summary_of(scores: dict[str, list[float]]) -> pd.DataFrame:
    return aggregate(scores, reps=200)


def test_normalized_score_puts_the_best_heuristic_at_zero_and_the_oracle_at_one() -> None:
    summary = summary_of(SCORES)
    honest = honest_scores(summary, SCORES, KINDS, HEURISTICS)
    columns = honest.columns
    assert honest.zero == "born_global" and honest.one == "oracle"
    assert honest.ends == (4.0, 6.0)
    assert columns.loc["born_global", "normalized_iqm"] == pytest.approx(0.0)
    assert columns.loc["oracle", "normalized_iqm"] == pytest.approx(1.0)
    assert columns.loc["ppo", "normalized_iqm"] == pytest.approx((5.5 - 4) / 2)
    # the search baseline is stronger than every heuristic but is not the zero
    assert columns.loc["search", "normalized_iqm"] == pytest.approx(0.5)
    assert columns.loc["random", "normalized_iqm"] == pytest.approx((1.5 - 4) / 2)
    # the interval is the IQM's interval mapped by the same affine map
    assert columns.loc["ppo", "normalized_iqm_low"] == pytest.approx(
        (summary.loc["ppo", "iqm_low"] - 4) / 2
    )
    # optimality gap of ppo's normalized runs (-0.5, 0.5, 1, 2.5): mean(max(1 - s, 0))
    assert columns.loc["ppo", "optimality_gap"] == pytest.approx((1.5 + 0.5 + 0 + 0) / 4)
    assert columns.loc["oracle", "optimality_gap"] == pytest.approx(0.0)
    assert "born_global" in honest.notes[0]


def test_random_zero_score_is_an_iqm_against_iqms() -> None:
    summary = summary_of(SCORES)
    columns = honest_scores(summary, SCORES, KINDS, HEURISTICS).columns
    # random's own IQM (1.5) is the zero, not its mean (1.5 here) or an exact expectation
    assert columns.loc["random", "random_normalized_iqm"] == pytest.approx(0.0)
    assert columns.loc["oracle", "random_normalized_iqm"] == pytest.approx(1.0)
    assert columns.loc["born_global", "random_normalized_iqm"] == pytest.approx(2.5 / 4.5)
    skewed = {**SCORES, "random": [0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 100.0, 100.0]}  # IQM 2.5
    columns = honest_scores(summary_of(skewed), skewed, KINDS, HEURISTICS).columns
    assert columns.loc["random", "random_normalized_iqm"] == pytest.approx(0.0)
    assert columns.loc["born_global", "random_normalized_iqm"] == pytest.approx(1.5 / 3.5)


def test_without_an_oracle_the_gap_is_to_the_best_heuristic_or_search() -> None:
    scores = {name: values for name, values in SCORES.items() if name != "oracle"}
    summary = summary_of(scores)
    honest = honest_scores(summary, scores, KINDS, HEURISTICS)
    assert honest.best == "search" and honest.one is None
    assert "normalized_iqm" not in honest.columns
    assert honest.columns.loc["search", "gap_to_best"] == pytest.approx(0.0)
    assert honest.columns.loc["born_global", "gap_to_best"] == pytest.approx(1.0)
    assert honest.columns.loc["ppo", "gap_to_best"] == pytest.approx(-0.5)
    assert honest.columns.loc["ppo", "gap_to_best_low"] == pytest.approx(
        5.0 - summary.loc["ppo", "iqm_high"]
    )


def test_no_normalized_score_when_a_heuristic_reaches_the_oracle() -> None:
    scores = {"born_global": [6.0, 6.0], "oracle": [6.0, 6.0]}
    honest = honest_scores(summary_of(scores), scores, KINDS, ["born_global"], random_name=None)
    assert "normalized_iqm" not in honest.columns
    assert honest.ends is None
    assert "reaches oracle" in honest.notes[0]


def test_normalized_score_maps_its_ends() -> None:
    assert normalized_score([10.0, 20.0, 15.0, 25.0], 10.0, 20.0) == pytest.approx(
        [0.0, 1.0, 0.5, 1.5]
    )
    with pytest.raises(ValueError, match=r"one_return \(5\.0\) must exceed zero_return"):
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


def test_improvement_pairs_are_unordered_by_default() -> None:
    table = improvement_probabilities({"a": [1, 2], "b": [2, 3], "c": [0, 1]}, reps=50)
    assert table[["x", "y"]].values.tolist() == [["a", "b"], ["a", "c"], ["b", "c"]]
    # a = (1, 2) against b = (2, 3): 1 < 2, 1 < 3, 2 = 2, 2 < 3 -> 0.5 / 4
    assert table.loc[0, "probability"] == pytest.approx(0.125)
    assert improvement_probabilities({"a": [1.0]}).empty


def test_intervals_overlap() -> None:
    table = pd.DataFrame(
        {"iqm_low": [0.0, 0.5, 2.0], "iqm_high": [1.0, 1.5, 3.0]}, index=["a", "b", "c"]
    )
    assert intervals_overlap(table, "a", "b")
    assert not intervals_overlap(table, "a", "c")
