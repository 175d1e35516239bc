"""Episode KPIs for kpi/ and eval/: sums, final values, and the same numbers from every backend."""

from __future__ import annotations

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from lepton_env.agents.training.callbacks import EpisodeKpis, batched_core, kpi_batch, mean_kpis
from lepton_env.agents.training.factory import make_vec_env
from lepton_env.experiments.schema import validate
from lepton_env.experiments.train import CONFIGS


def step(revenue: list[float], cash: list[float], entries: list[list[int]]) -> dict[str, object]:
    two = np.zeros(2)
    return {
        "revenue": np.array(revenue),
        "profit": np.array(revenue) - 1.0,
        "fines": two,
        "partner_failures": two,
        "invalid_moves": np.array([1, 0]),
        "unfunded_moves": np.array([0, 1]),
        "cash": np.array(cash),
        "regions_present": np.array([1, 2]),
        "entries_by_mode": np.array(entries),
        "market_share": np.array([[0.5, 0.1], [0.4, 0.2]]),
        "entry_mode": np.array([[4, 0], [4, 1]]),
        "reward_components": {"profit": np.array(revenue) / 10, "valuation": two},
    }


def test_episode_sums_and_final_values_by_hand() -> None:
    kpis = EpisodeKpis(2, ("home", "abroad"))
    none = kpis.update(
        step([1.0, 2.0], [10.0, 20.0], [[0, 0, 0, 0, 0], [0, 1, 0, 0, 0]]), np.array([False, False])
    )
    assert none == []
    (first,) = kpis.update(
        step([3.0, 4.0], [11.0, 21.0], [[0, 0, 1, 0, 0], [0, 0, 0, 0, 0]]), np.array([True, False])
    )
    assert first["revenue"] == 4.0  # 1 + 3
    assert first["profit"] == 2.0  # (1 - 1) + (3 - 1)
    assert first["cash"] == 11.0  # the last quarter's
    assert first["invalid_moves"] == 2.0
    assert first["unfunded_moves"] == 0.0
    assert first["entries/partnership"] == 1.0 and first["entries/pilot"] == 0.0
    assert first["market_share/home"] == 0.5 and first["market_share/abroad"] == 0.1
    assert first["reward/profit"] == pytest.approx(0.4)
    # env 0 starts afresh; env 1 carries on
    (second,) = kpis.update(
        step([5.0, 6.0], [12.0, 22.0], [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1]]), np.array([False, True])
    )
    assert second["revenue"] == 12.0  # 2 + 4 + 6
    assert second["unfunded_moves"] == 3.0  # one refused move in each of its three quarters
    assert second["entries/pilot"] == 1.0 and second["entries/greenfield"] == 1.0
    assert mean_kpis([first, second])["revenue"] == 8.0


def test_lepton_backend_reports_the_kpis_of_per_env_backends() -> None:
    with initialize_config_dir(str(CONFIGS), version_base="1.3"):
        config = validate(compose("train", overrides=["scenario=toy", "agent=ppo"]))
    lepton = make_vec_env(config, seed=11, num_envs=3, backend="lepton")
    dummy = make_vec_env(config, seed=11, num_envs=3, backend="dummy")
    assert batched_core(lepton) is not None and batched_core(dummy) is None
    lepton.reset()
    dummy.reset()
    sampler = np.random.default_rng(0)
    names = ("home", "near", "far")
    from_lepton, from_dummy = EpisodeKpis(3, names), EpisodeKpis(3, names)
    ended: list[tuple[list[dict[str, float]], list[dict[str, float]]]] = []
    for _ in range(12):
        actions = np.stack([lepton.action_space.sample() for _ in range(3)])
        actions = sampler.integers(
            0, lepton.action_space.nvec, size=(3, len(lepton.action_space.nvec))
        )
        _, _, lepton_dones, lepton_infos = lepton.step(actions)
        _, _, dummy_dones, dummy_infos = dummy.step(actions)
        np.testing.assert_array_equal(lepton_dones, dummy_dones)
        ended.append(
            (
                from_lepton.update(kpi_batch(batched_core(lepton), lepton_infos), lepton_dones),
                from_dummy.update(kpi_batch(None, dummy_infos), dummy_dones),
            )
        )
    assert sum(len(pair[0]) for pair in ended) == 6  # two toy episodes of 5 quarters per env
    for lepton_summaries, dummy_summaries in ended:
        assert len(lepton_summaries) == len(dummy_summaries)
        for lepton_summary, dummy_summary in zip(lepton_summaries, dummy_summaries, strict=True):
            assert lepton_summary.keys() == dummy_summary.keys()
            assert lepton_summary == pytest.approx(dummy_summary)
    lepton.close()
    dummy.close()
