"""Reference values of rliable's statistics on fixed inputs (tests/agents/comparison/test_stats.py).

    pip install rliable "pandas<3"   # rliable 1.x is archived; arch 7 needs pandas < 3
    python tests/agents/comparison/reference/make_rliable_reference.py

Writes ``rliable_reference.json`` beside this file: the inputs, rliable's point
estimates (mean, median, IQM, optimality gap, probability of improvement,
performance profiles) and, for each interval bound, its mean and standard
deviation over ``SEEDS`` independent bootstraps of ``REPS`` replicates each.
The standard deviation is the bootstrap noise the test allows for: an
independent bootstrap of ``REPS`` replicates falls within a few of them.
rliable draws its resamples from NumPy's global generator, seeded per bootstrap here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path

import numpy as np
from rliable import library, metrics

REPS = 5000
SEEDS = tuple(range(8))
CONFIDENCE = 0.95
TAUS = [-1.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5]
OUTPUT = Path(__file__).with_name("rliable_reference.json")


def inputs() -> dict[str, np.ndarray]:
    """Score matrices (runs, tasks) of different shapes, with ties and skew."""
    generator = np.random.default_rng(20211206)
    return {
        "normal_10x3": generator.normal(0.6, 0.3, size=(10, 3)),
        "skewed_7x1": np.array([[0.0], [0.0], [0.1], [0.2], [0.3], [0.4], [5.0]]),
        "ties_12x2": generator.integers(0, 4, size=(12, 2)) / 3.0,
        "lognormal_5x3": generator.lognormal(-0.5, 0.6, size=(5, 3)),
    }


def aggregates(matrix: np.ndarray) -> np.ndarray:
    return np.array(
        [
            metrics.aggregate_mean(matrix),
            metrics.aggregate_median(matrix),
            metrics.aggregate_iqm(matrix),
            metrics.aggregate_optimality_gap(matrix, gamma=1.0),
        ]
    )


def bounds_over_seeds(run: Callable[[], tuple[dict, dict]]) -> dict[str, dict]:
    """Point estimates and per-bound (mean, std) over SEEDS bootstraps."""
    lows, highs, points = [], [], None
    for seed in SEEDS:
        np.random.seed(seed)  # noqa: NPY002  (rliable resamples from the global generator)
        points, intervals = run()
        lows.append({k: np.asarray(v[0]).tolist() for k, v in intervals.items()})
        highs.append({k: np.asarray(v[1]).tolist() for k, v in intervals.items()})
    assert points is not None
    result = {}
    for key in points:
        low = np.array([entry[key] for entry in lows])
        high = np.array([entry[key] for entry in highs])
        result[key] = {
            "point": np.atleast_1d(points[key]).astype(float).tolist(),
            "low_mean": np.atleast_1d(low.mean(axis=0)).tolist(),
            "low_std": np.atleast_1d(low.std(axis=0, ddof=1)).tolist(),
            "high_mean": np.atleast_1d(high.mean(axis=0)).tolist(),
            "high_std": np.atleast_1d(high.std(axis=0, ddof=1)).tolist(),
        }
    return result


def main() -> None:
    logging.getLogger("absl").setLevel(logging.WARNING)
    scores = inputs()
    paired = {
        "normal_10x3,lognormal_5x3": (scores["normal_10x3"], scores["lognormal_5x3"]),
        "ties_12x2,ties_12x2_shifted": (scores["ties_12x2"], scores["ties_12x2"][::-1] + 1 / 3),
    }
    aggregate = bounds_over_seeds(
        lambda: library.get_interval_estimates(
            scores, aggregates, reps=REPS, confidence_interval_size=CONFIDENCE
        )
    )
    improvement = bounds_over_seeds(
        lambda: library.get_interval_estimates(
            paired,
            metrics.probability_of_improvement,
            reps=REPS,
            confidence_interval_size=CONFIDENCE,
        )
    )
    profiles = bounds_over_seeds(
        lambda: library.create_performance_profile(
            scores, np.array(TAUS), reps=REPS, confidence_interval_size=CONFIDENCE
        )
    )
    average_profiles = bounds_over_seeds(
        lambda: library.create_performance_profile(
            scores,
            np.array(TAUS),
            use_score_distribution=False,
            reps=REPS,
            confidence_interval_size=CONFIDENCE,
        )
    )
    reference = {
        "generator": "tests/agents/comparison/reference/make_rliable_reference.py",
        "rliable": version("rliable"),
        "arch": version("arch"),
        "numpy": version("numpy"),
        "reps": REPS,
        "seeds": list(SEEDS),
        "confidence": CONFIDENCE,
        "taus": TAUS,
        "statistics": ["mean", "median", "iqm", "optimality_gap"],
        "scores": {name: matrix.tolist() for name, matrix in scores.items()},
        "pairs": {key: [x.tolist(), y.tolist()] for key, (x, y) in paired.items()},
        "aggregate": aggregate,
        "probability_of_improvement": improvement,
        "score_distribution": profiles,
        "average_score_distribution": average_profiles,
    }
    OUTPUT.write_text(json.dumps(reference, indent=1) + "\n")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
