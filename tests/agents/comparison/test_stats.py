"""agents/comparison/stats.py: rliable's estimators and bootstrap intervals, reimplemented.

The reference values come from rliable itself (tests/agents/comparison/reference/
make_rliable_reference.py, stored in rliable_reference.json): point estimates
must agree to 1e-9 and interval bounds within the bootstrap noise measured there.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lepton_env.agents.comparison import stats

REFERENCE = json.loads((Path(__file__).parent / "reference" / "rliable_reference.json").read_text())


def four_aggregates(matrix: stats.FloatArray) -> stats.FloatArray:
    return np.stack(
        [
            stats.mean(matrix),
            stats.median(matrix),
            stats.interquartile_mean(matrix),
            stats.optimality_gap(matrix),
        ],
        axis=-1,
    )


def assert_matches_reference(estimate: stats.Estimate, reference: dict[str, Any]) -> None:
    np.testing.assert_allclose(estimate.point, reference["point"], rtol=0, atol=1e-9)
    # Our bound and rliable's mean bound over K seeds differ by the noise of both:
    # sd * sqrt(1 + 1/K); four of those is far in the tail for each of ~60 bounds.
    widening = np.sqrt(1 + 1 / len(REFERENCE["seeds"]))
    for bound, ours in (("low", estimate.low), ("high", estimate.high)):
        allowed = 4 * np.asarray(reference[f"{bound}_std"]) * widening + 1e-9
        error = np.abs(ours - np.asarray(reference[f"{bound}_mean"]))
        assert np.all(error <= allowed), (bound, error, allowed)


@pytest.mark.parametrize("name", sorted(REFERENCE["scores"]))
def test_aggregates_match_rliable(name: str) -> None:
    estimate = stats.bootstrap(
        REFERENCE["scores"][name],
        four_aggregates,
        reps=REFERENCE["reps"],
        confidence=REFERENCE["confidence"],
    )
    assert_matches_reference(estimate, REFERENCE["aggregate"][name])


@pytest.mark.parametrize("name", sorted(REFERENCE["scores"]))
@pytest.mark.parametrize("average", [False, True])
def test_performance_profiles_match_rliable(name: str, average: bool) -> None:
    profiles = stats.performance_profiles(
        {name: REFERENCE["scores"][name]},
        REFERENCE["taus"],
        reps=REFERENCE["reps"],
        use_score_distribution=not average,
    )
    key = "average_score_distribution" if average else "score_distribution"
    assert_matches_reference(profiles[name], REFERENCE[key][name])


@pytest.mark.parametrize("key", sorted(REFERENCE["pairs"]))
def test_probability_of_improvement_matches_rliable(key: str) -> None:
    x, y = REFERENCE["pairs"][key]
    estimate = stats.bootstrap_pair(x, y, reps=REFERENCE["reps"])
    assert_matches_reference(estimate, REFERENCE["probability_of_improvement"][key])


def test_estimators_on_hand_computed_cases() -> None:
    skewed = stats.score_matrix([0, 0, 1, 2, 3, 4, 100, 100])
    assert stats.interquartile_mean(skewed) == pytest.approx(2.5)  # mean of 1, 2, 3, 4
    # n = 7: floor(7/4) = 1 cut at each end -> mean of 1..5
    assert stats.interquartile_mean(stats.score_matrix([0, 1, 2, 3, 4, 5, 60])) == 3.0
    tasks = np.array([[1.0, 10.0, 4.0], [3.0, 20.0, 6.0]])  # task means 2, 15, 5
    assert stats.mean(tasks) == pytest.approx(22 / 3)
    assert stats.median(tasks) == pytest.approx(5.0)
    assert stats.optimality_gap(stats.score_matrix([0.5, 1.2, 1.0])) == pytest.approx(0.5 / 3)
    assert stats.optimality_gap(stats.score_matrix([40.0, 50.0]), gamma=45.0) == 2.5


@pytest.mark.parametrize(
    ("x", "y", "expected"),
    [
        ([5, 6, 7], [1, 2], 1.0),
        ([1, 2], [5, 6, 7], 0.0),
        ([3, 3], [3, 3, 3], 0.5),
        ([2, 3, 4], [1, 3], 0.75),  # x = 2: 1 + 0, x = 3: 1 + 1/2, x = 4: 1 + 1; / 6
    ],
)
def test_probability_of_improvement_is_the_mann_whitney_statistic(
    x: list[int], y: list[int], expected: float
) -> None:
    point = stats.probability_of_improvement(stats.score_matrix(x), stats.score_matrix(y))
    assert point == pytest.approx(expected)
    estimate = stats.bootstrap_pair(x, y, reps=300)
    assert estimate.low[0] <= estimate.point[0] <= estimate.high[0]
    if expected in (0.0, 1.0):
        assert estimate.low[0] == estimate.high[0] == expected


def test_score_distribution_counts_scores_strictly_above_tau() -> None:
    profile = stats.score_distribution(stats.score_matrix([0.0, 1.0, 2.0, 3.0]), [-1, 1, 3])
    np.testing.assert_allclose(profile, [1.0, 0.5, 0.0])


def test_constant_scores_have_a_zero_width_interval() -> None:
    estimate = stats.bootstrap([7.0] * 5, stats.mean_and_iqm, reps=100)
    np.testing.assert_array_equal(estimate.low, [7.0, 7.0])
    np.testing.assert_array_equal(estimate.high, [7.0, 7.0])


def test_bootstrap_is_reproducible_and_leaves_the_global_generator_alone() -> None:
    np.random.seed(123)  # noqa: NPY002
    expected_next = np.random.random()  # noqa: NPY002
    np.random.seed(123)  # noqa: NPY002
    scores = [1.0, 5.0, 2.0, 8.0, 3.0]
    first = stats.bootstrap(scores, stats.mean_and_iqm, reps=300, seed=4)
    assert np.random.random() == expected_next  # noqa: NPY002
    second = stats.bootstrap(scores, stats.mean_and_iqm, reps=300, seed=4)
    np.testing.assert_array_equal(first.low, second.low)
    np.testing.assert_array_equal(first.high, second.high)
    other = stats.bootstrap(scores, stats.mean_and_iqm, reps=300, seed=5)
    assert not np.array_equal(first.low, other.low)


def test_an_agents_interval_does_not_depend_on_the_others() -> None:
    alone = stats.interval_estimates({"a": [1.0, 4.0, 2.0, 9.0]}, stats.mean, reps=200)
    together = stats.interval_estimates(
        {"b": [0.0, 3.0], "a": [1.0, 4.0, 2.0, 9.0]}, stats.mean, reps=200
    )
    np.testing.assert_array_equal(alone["a"].low, together["a"].low)


def test_chunked_replicates_equal_one_draw(monkeypatch: pytest.MonkeyPatch) -> None:
    scores = np.arange(12.0).reshape(6, 2)
    whole = stats.bootstrap(scores, stats.mean, reps=50, seed=1)
    monkeypatch.setattr(stats, "CHUNK_ELEMENTS", 24)  # 2 replicates per chunk
    chunked = stats.bootstrap(scores, stats.mean, reps=50, seed=1)
    assert chunked.low == pytest.approx(whole.low) and chunked.high == pytest.approx(whole.high)


def test_wider_confidence_gives_a_wider_interval() -> None:
    scores = [1.0, 5.0, 2.0, 8.0, 3.0, 4.0]
    narrow = stats.bootstrap(scores, stats.mean, reps=500, confidence=0.5)
    wide = stats.bootstrap(scores, stats.mean, reps=500, confidence=0.99)
    assert wide.high[0] - wide.low[0] > narrow.high[0] - narrow.low[0]


def test_bad_inputs_are_named() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        stats.score_matrix([])
    with pytest.raises(ValueError, match="finite"):
        stats.score_matrix([1.0, np.nan])
    with pytest.raises(ValueError, match="reps = 0"):
        stats.bootstrap([1.0], stats.mean, reps=0)
    with pytest.raises(ValueError, match=r"confidence = 1\.5"):
        stats.bootstrap([1.0], stats.mean, confidence=1.5)
    with pytest.raises(ValueError, match="tasks"):
        stats.bootstrap_pair(np.ones((2, 2)), np.ones((2, 3)))


def test_pairs_after_lists_each_unordered_pair_once() -> None:
    assert stats.pairs_after(["a", "b", "c"]) == [("a", "b"), ("a", "c"), ("b", "c")]
