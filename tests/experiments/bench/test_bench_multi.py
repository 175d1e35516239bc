"""The multi-agent benchmark runs every row on a one-firm scenario (no timing asserted)."""

from __future__ import annotations

import pytest

from lepton_env.experiments.bench import multi as bench_multi


def test_every_row_is_measured_and_compared_with_the_batched_face() -> None:
    pytest.importorskip("supersuit", reason="pip install 'lepton-env[multi]'")
    result = bench_multi.main(
        ["--scenario", "toy", "--num-envs", "8", "--small-num-envs", "2", "--seconds", "0.03"]
    )
    rows = result["rows"]
    assert [row["n"] for row in rows] == [8, 8, 8, 2, 2, 1, 8]
    assert rows[0]["ratio"] == 1.0
    assert all(row["steps_per_s"] > 0 for row in rows)
    assert "SuperSuit" in rows[4]["face"] and rows[4]["world"] == "no bankruptcy"
