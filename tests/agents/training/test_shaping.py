"""The enforcement shaping: its potential by hand, the telescoping, identity at weight 0."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3.common.vec_env import VecNormalize, unwrap_vec_wrapper

from lepton_env.agents.players.heuristics import BornGlobalAgent
from lepton_env.agents.training.factory import VEC_BACKENDS
from lepton_env.agents.training.shaping import EnforcementShaping
from lepton_env.features import FIRM_FEATURES, REGION_FEATURES

ENVS = 8


def venv(seed: int = 0):  # type: ignore[no-untyped-def]
    return VEC_BACKENDS["lepton"]("LeptonExpansion-v0", ENVS, seed, {"scenario": "global"})


def test_the_potential_by_hand() -> None:
    shaping = EnforcementShaping(venv(), weight=2.0)
    params = shaping.venv.get_attr("params", indices=[0])[0]
    assert (params.horizon, params.discount_rate, params.valuation_quarters) == (40, 0.25, 40)
    regions, width = shaping.regions, len(REGION_FEATURES)
    obs = np.zeros((1, regions * width + len(FIRM_FEATURES)), dtype=np.float32)
    fine = [f.name for f in REGION_FEATURES].index("expected_fine")
    obs[0, fine] = 0.2  # region 0
    obs[0, width + fine] = 0.1  # region 1
    obs[0, regions * width + [f.name for f in FIRM_FEATURES].index("time")] = 38 / 40
    # delta = 1.25^(-1/4) = 0.945742; A_40 = sum_{k=1..40} delta^k = 15.558762;
    # 0.3 to the horizon over 2 quarters, 0.15 a quarter after it for the window:
    # Phi = -2 delta^38 (0.3 + 0.15 delta^2 A_40) = -2 (0.120048) (0.3 + 2.087427) = -0.573212
    assert shaping.potential(obs)[0] == pytest.approx(-0.573212, abs=2e-6)


def test_the_shaped_return_is_the_return_less_the_first_potential() -> None:
    plain, shaped = venv(), EnforcementShaping(venv(), weight=1.0)
    agent = BornGlobalAgent(env=plain)
    obs, first = plain.reset(), shaped.reset()
    start = shaped.potential_now.copy()
    assert np.all(start <= 0.0)
    totals, shaped_totals, finished = np.zeros(ENVS), np.zeros(ENVS), False
    moved = 0.0
    while not finished:
        action, _ = agent.predict(obs, deterministic=True)
        obs, reward, done, _ = plain.step(action)
        first, shaped_reward, shaped_done, _ = shaped.step(action)
        np.testing.assert_array_equal(obs, first)
        np.testing.assert_array_equal(done, shaped_done)
        totals += reward
        shaped_totals += shaped_reward
        moved = max(moved, float(np.abs(shaped_reward - reward).max()))
        finished = bool(done.all())
    assert moved > 1e-3, "the shaping never moved a reward"
    # float32 rewards: each step rounds
    np.testing.assert_allclose(shaped_totals, totals - start, atol=1e-4)


def test_weight_zero_is_the_identity() -> None:
    plain, shaped = venv(), EnforcementShaping(venv(), weight=0.0)
    agent = BornGlobalAgent(env=plain)
    obs, _ = plain.reset(), shaped.reset()
    for _ in range(12):
        action, _ = agent.predict(obs, deterministic=True)
        obs, reward, _, _ = plain.step(action)
        _, same, _, _ = shaped.step(action)
        np.testing.assert_array_equal(reward, same)


def test_found_under_vec_normalize_and_refused_on_another_observation() -> None:
    shaping = EnforcementShaping(venv(), weight=1.0)
    assert unwrap_vec_wrapper(VecNormalize(shaping, norm_obs=False), EnforcementShaping) is shaping
    assert unwrap_vec_wrapper(venv(), EnforcementShaping) is None
    duel = VEC_BACKENDS["lepton"](
        "LeptonExpansion-v0", 2, 0, {"scenario": "global", "observation_mode": "dict"}
    )
    with pytest.raises(ValueError, match=r"env\.shaping\.enforcement = 1\.0: needs the flat"):
        EnforcementShaping(duel, weight=1.0)
