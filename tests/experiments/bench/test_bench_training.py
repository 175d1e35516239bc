"""The phase clock of the training-throughput benchmark (no training run here)."""

from __future__ import annotations

import pytest

from lepton_env.experiments.bench import training as bench_training
from lepton_env.experiments.bench.training import PhaseClock


def test_nested_phases_count_exclusive_time_and_absorbing_phases_keep_theirs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Times read by the clock, in order: rollout 0..10 holding env step 2..5 and an
    # evaluation 6..9 whose own env step (7..8) counts as evaluation.
    ticks = iter([0.0, 2.0, 5.0, 6.0, 9.0, 10.0])
    monkeypatch.setattr(bench_training.time, "perf_counter", lambda: next(ticks))
    clock = PhaseClock()
    with clock.phase("rollout"):
        with clock.phase("env step"):
            pass
        with clock.phase("evaluation"):
            with clock.phase("env step"):
                pass
    assert clock.seconds["rollout"] == 4.0  # 10 - 3 (env step) - 3 (evaluation)
    assert clock.seconds["env step"] == 3.0
    assert clock.seconds["evaluation"] == 3.0
    assert sum(clock.seconds.values()) == 10.0
