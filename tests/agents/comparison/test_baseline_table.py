"""The end-of-training table: the trained policy against the baselines on the same seeds."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from omegaconf import OmegaConf

from lepton_env.agents.comparison.baseline_table import (
    TRAINED,
    NormalizedObservations,
    compare_with_baselines,
    report_trained_policy,
    table_rows,
)
from lepton_env.agents.players.oracle import OracleAgent
from lepton_env.experiments.schema import ConfigError, validate

BASELINES = {
    "home_only": {"_target_": "lepton_env.agents.players.heuristics.HomeOnlyAgent"},
    "born_global": {"_target_": "lepton_env.agents.players.heuristics.BornGlobalAgent"},
}


def test_a_policy_that_plays_the_optimum_scores_one() -> None:
    summary, honest = compare_with_baselines(
        OracleAgent("toy"), "discrete", {"scenario": "toy"}, [5, 6], BASELINES, reps=50
    )
    assert list(summary.index)[:2] == [TRAINED, "oracle"]  # tied at the top, in play order
    assert summary.loc[TRAINED, "kind"] == "learned"
    assert summary.loc[TRAINED, "normalized_iqm"] == pytest.approx(1.0)
    # the zero is the better heuristic, whichever it is under the scenario's economics
    assert honest.zero in BASELINES
    assert summary.loc[honest.zero, "normalized_iqm"] == pytest.approx(0.0)
    assert all(summary.loc[name, "normalized_iqm"] <= 1e-12 for name in BASELINES)
    header, rows = table_rows(summary)
    assert header[:4] == ["agent", "kind", "IQM [95% CI]", "normalized IQM [95% CI]"]
    assert "mean valuation" in header
    assert rows[0][0] == TRAINED and rows[0][3] == "1.000 [1.000, 1.000]"


def test_without_an_oracle_the_table_gives_the_gap_to_the_best_baseline() -> None:
    summary, honest = compare_with_baselines(
        OracleAgent("toy"), "discrete", {"scenario": "toy"}, [5], BASELINES, oracle=False, reps=50
    )
    best = max(BASELINES, key=lambda name: summary.loc[name, "iqm"])
    assert honest.best == best
    header, _ = table_rows(summary)
    assert "gap to best [95% CI]" in header
    # the optimum beats the best heuristic: a negative gap
    assert summary.loc[TRAINED, "gap_to_best"] < 0


class _Recorder:
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def predict(self, observation: Any, action_masks: Any = None, **kwargs: Any) -> Any:
        self.seen.append((observation, action_masks))
        return np.zeros((1,), dtype=np.int64), None


def test_normalized_observations_pass_through_the_normalizer_and_keep_masks() -> None:
    recorder = _Recorder()
    agent = NormalizedObservations(recorder, lambda observation: observation * 2.0)
    agent.predict(np.ones((1, 3)), action_masks="mask")
    observation, masks = recorder.seen[0]
    np.testing.assert_array_equal(observation, np.full((1, 3), 2.0))
    assert masks == "mask"


def config_of(enabled: bool) -> SimpleNamespace:
    return SimpleNamespace(
        final_table=SimpleNamespace(
            enabled=enabled, episodes=2, baselines=BASELINES, oracle="auto", reps=50
        ),
        scenario=SimpleNamespace(name="toy", kwargs={}),
        eval=SimpleNamespace(first_seed=1000, scenario_kwargs={}, deterministic=True),
        env=SimpleNamespace(action_mode="discrete", observation_mode="flat"),
    )


def test_report_prints_the_table_unless_switched_off(capsys: pytest.CaptureFixture[str]) -> None:
    report_trained_policy(OracleAgent("toy"), config_of(enabled=False))
    assert capsys.readouterr().out == ""
    normalizing_env = SimpleNamespace(norm_obs=True, normalize_obs=lambda observation: observation)
    report_trained_policy(OracleAgent("toy"), config_of(enabled=True), normalizing_env)
    out = capsys.readouterr().out
    assert "Trained policy against the baselines (2 evaluation seeds)" in out
    assert TRAINED in out and "born_global" in out and "oracle" in out
    assert "0 = the best heuristic, home_only" in out  # under the DCF valuation, on toy


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"episodes": 0}, "final_table.episodes = 0"),
        ({"oracle": "maybe"}, "final_table.oracle = 'maybe'"),
        ({"baselines": {"x": {"seed": 1}}}, "final_table.baselines.x"),
    ],
)
def test_bad_table_settings_are_named(override: dict[str, Any], message: str) -> None:
    cfg = OmegaConf.create(
        {
            "agent": {"name": "ppo", "model": {"_target_": "stable_baselines3.PPO"}},
            "final_table": override,
        }
    )
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        validate(cfg)
