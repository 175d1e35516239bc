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

#: Each agent's returns on the same four episodes (one run) and their IQMs (the middle
#: two of the sorted four).
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
    # the interval resamples the agent and both ends together, paired by episode
    low, high = columns.loc["ppo", ["normalized_iqm_low", "normalized_iqm_high"]]
    assert low < columns.loc["ppo", "normalized_iqm"] < high
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
    # random over two runs (rows) of the same four episodes: IQM 2.5 of its eight scores
    skewed = {**SCORES, "random": [[0.0, 0.0, 1.0, 2.0], [3.0, 4.0, 100.0, 100.0]]}
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
    low, high = honest.columns.loc["ppo", ["gap_to_best_low", "gap_to_best_high"]]
    assert low < -0.5 < high


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
    assert table.loc["skewed", ["runs", "episodes"]].tolist() == [1, 8]
    row = table.loc["skewed"]
    assert row["iqm_low"] <= row["iqm"] <= row["iqm_high"]
    assert row["mean_low"] <= row["mean"] <= row["mean_high"]
    flat = table.loc["flat"]
    assert flat["iqm_low"] == flat["iqm_high"] == flat["mean"] == pytest.approx(7.0)


def test_improvement_pairs_are_unordered_by_default() -> None:
    table = improvement_probabilities({"a": [1, 2], "b": [2, 1], "c": [0, 1]}, reps=50)
    assert table[["x", "y"]].values.tolist() == [["a", "b"], ["a", "c"], ["b", "c"]]
    # paired by episode: a = (1, 2) against b = (2, 1) wins one episode of two; the same
    # scores unpaired would tie three of four pairs
    assert table.loc[0, "probability"] == pytest.approx(0.5)
    assert table.loc[0, "mean_difference"] == pytest.approx(0.0)
    # a against c = (0, 1): ahead on both episodes, by 1 each
    assert table.loc[1, "probability"] == pytest.approx(1.0)
    assert table.loc[1, "mean_difference"] == pytest.approx(1.0)
    assert improvement_probabilities({"a": [1.0]}).empty


def test_the_probability_of_improvement_keeps_its_interval_in_the_unit_interval() -> None:
    # five runs ahead on 199 episodes of 200 and level on one (a tie counts half): P(X > Y)
    # = 0.9975, and the small-sample widening (symmetric about the point) reached 1.0017
    ahead = np.ones((5, 200))
    ahead[:, 0] = 0.0
    table = improvement_probabilities({"x": ahead, "y": np.zeros((1, 200))}, reps=200)
    assert table.loc[0, "probability"] == pytest.approx(0.9975)
    assert 0.0 <= table.loc[0, "low"] < 0.9975 < table.loc[0, "high"] <= 1.0


def test_learned_runs_are_scored_per_run_and_episode_against_the_references() -> None:
    # two training seeds (rows) on three episodes (columns), and two references
    scores = {
        "learner": [[5.0, 7.0, 9.0], [6.0, 8.0, 10.0]],
        "born_global": [4.0, 6.0, 8.0],
        "search": [6.0, 8.0, 8.0],
    }
    summary = aggregate(scores, reps=100)
    assert summary.loc["learner", ["runs", "episodes"]].tolist() == [2, 3]
    assert summary.loc["learner", "mean"] == pytest.approx(7.5)  # over all six scores
    honest = honest_scores(
        summary,
        scores,
        {"learner": "learned", "born_global": "baseline", "search": "baseline"},
        heuristics=["born_global"],
        searches=["search"],
        reps=100,
    )
    assert (honest.best_heuristic, honest.best_search) == ("born_global", "search")
    row = honest.columns.loc["learner"]
    assert row["vs_heuristic"] == pytest.approx(7.5 - 6.0)
    # per episode, P(learner > born_global) is 1 for both seeds
    assert row["vs_heuristic_p"] == pytest.approx(1.0)
    assert row["vs_search"] == pytest.approx(7.5 - 22.0 / 3)
    # against search: episode 1 (5, 6 vs 6) 0 and 1/2, episode 2 the same, episode 3 wins
    assert row["vs_search_p"] == pytest.approx((0.25 + 0.25 + 1.0) / 3)
    assert np.isnan(honest.columns.loc["search", "vs_search"])


def test_intervals_overlap() -> None:
    table = pd.DataFrame(
        {"iqm_low": [0.0, 0.5, 2.0], "iqm_high": [1.0, 1.5, 3.0]}, index=["a", "b", "c"]
    )
    assert intervals_overlap(table, "a", "b")
    assert not intervals_overlap(table, "a", "c")
