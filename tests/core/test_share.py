"""The attraction (multinomial-logit) share model with an outside option and inertia."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lepton_env.core import Model
from lepton_env.mechanisms.share import (
    adjust_shares,
    attraction,
    effective_quality,
    target_shares,
)
from lepton_env.state import State

WEIGHTS = (3.0, 0.5, 1.0)  # b_q, b_b, b_l


def _target_shares(firm_u, firm_serving, comp_u, comp_active, outside):
    """``target_shares`` of every region of a (B, R) batch, as the core calls it per region:
    the firm's (B, R) and the competitors' (B, R, K) target shares."""
    firm = np.zeros(firm_u.shape)
    comps = np.array(comp_u, dtype=np.float64)  # overwritten region by region with the shares
    for b, r in np.ndindex(firm_u.shape):
        firm[b, r] = target_shares(
            float(firm_u[b, r]), bool(firm_serving[b, r]), comps[b, r], comp_active[b, r], outside
        )
    return firm, comps


def test_attraction_matches_hand_computation() -> None:
    utility = attraction(
        np.array([0.8]), np.array([math.e - 1.0]), np.array([0.5]), 2.0, np.array([1.0]), *WEIGHTS
    )
    # 3 * 0.8 + 0.5 * ln(e) + 1 * 0.5 - 1 * ln 2 = 3.4 - 0.693147
    assert utility[0] == pytest.approx(3.4 - 0.6931472, rel=1e-6)
    assert utility.dtype == np.float64  # the ufuncs compute in float64; the core rounds to store


def test_attraction_falls_with_price_more_in_price_sensitive_markets() -> None:
    cheap = attraction(np.array([0.8]), np.zeros(1), 0.0, 1.0, np.array([2.0]), *WEIGHTS)
    dear = attraction(np.array([0.8]), np.zeros(1), 0.0, 2.0, np.array([2.0]), *WEIGHTS)
    # b_p ln(price): 2 * ln 2 apart
    assert cheap[0] - dear[0] == pytest.approx(2.0 * math.log(2.0), rel=1e-6)


def test_effective_quality_penalizes_distance_without_localization() -> None:
    quality = np.array([0.8], dtype=np.float32)  # (B,) broadcast over regions
    distance = np.array([[0.0, 0.6, 0.6]], dtype=np.float32)
    local = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    # 0.8 - 0.5 * d * (1 - L): home 0.8, 0.8 - 0.5 * 0.6 * 0.5 = 0.65, fully localized 0.8
    np.testing.assert_allclose(
        effective_quality(quality, distance, local, 0.5), [[0.8, 0.65, 0.8]], rtol=1e-6
    )


def test_target_shares_are_logit_with_outside_option() -> None:
    firm_u = np.array([[math.log(2.0)]], dtype=np.float32)
    comp_u = np.array([[[0.0, math.log(3.0)]]], dtype=np.float32)
    firm, comps = _target_shares(
        firm_u, np.array([[True]]), comp_u, np.array([[[True, True]]]), math.log(4.0)
    )
    # exp: outside 4, firm 2, rivals 1 and 3: total 10
    assert firm[0, 0] == pytest.approx(0.2, rel=1e-6)
    np.testing.assert_allclose(comps[0, 0], [0.1, 0.3], rtol=1e-6)


def test_absent_players_have_no_share() -> None:
    firm_u = np.array([[math.log(2.0), math.log(2.0)]], dtype=np.float32)
    comp_u = np.array([[[0.0, math.log(3.0)], [0.0, math.log(3.0)]]], dtype=np.float32)
    firm, comps = _target_shares(
        firm_u,
        np.array([[True, False]]),
        comp_u,
        np.array([[[True, False], [True, True]]]),
        math.log(4.0),
    )
    # region 0 without the second rival: 4 + 2 + 1 = 7; region 1 without the firm: 4 + 1 + 3
    np.testing.assert_allclose(firm[0], [2.0 / 7.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(comps[0], [[1.0 / 7.0, 0.0], [0.125, 0.375]], rtol=1e-6)


def test_huge_utilities_do_not_overflow() -> None:
    firm, comps = _target_shares(
        np.array([[1000.0]], dtype=np.float32),
        np.array([[True]]),
        np.array([[[1000.0]]], dtype=np.float32),
        np.array([[[True]]]),
        0.0,
    )
    # two equal giants split the market; the outside option's exp(-1000) vanishes
    assert firm[0, 0] == pytest.approx(0.5)
    assert comps[0, 0, 0] == pytest.approx(0.5)


def test_adjust_shares_closes_a_fraction_of_the_gap() -> None:
    share = np.array([0.1, 0.4], dtype=np.float32)
    target = np.array([0.3, 0.0], dtype=np.float32)
    # 0.1 + 0.25 * (0.3 - 0.1) = 0.15; 0.4 + 0.25 * (0 - 0.4) = 0.3
    np.testing.assert_allclose(adjust_shares(share, target, 0.25), [0.15, 0.3], rtol=1e-6)
    # k = 1 reaches the target; with float32 inputs numba forms s* - s in float32, a rounding
    # difference of 7.5e-9 (half a float32 ulp at 0.2)
    np.testing.assert_allclose(adjust_shares(share, target, 1.0), target, rtol=1e-6)
    np.testing.assert_array_equal(adjust_shares(share, target, 0.0), share)


def test_model_home_share_follows_the_attraction_model(
    toy_model: Model, toy_start: State, act
) -> None:
    """Toy home region after one HOLD quarter, computed by hand from the scenario's numbers."""
    # rivals at home: passive, quality 0.75 and 0.7, brand 5 and 3, price 1
    rival_utilities = [3 * 0.75 + 0.5 * math.log(6.0) + 1.0, 3 * 0.7 + 0.5 * math.log(4.0) + 1.0]

    def firm_share(quality: float, brand: float) -> tuple[float, list[float]]:
        # firm: home distance 0, localization 1, price 0.8, price sensitivity 1, U_0 = 3
        firm_u = 3 * quality + 0.5 * math.log(1.0 + brand) + 1.0 - math.log(0.8)
        total = math.exp(3.0) + math.exp(firm_u) + sum(math.exp(u) for u in rival_utilities)
        return math.exp(firm_u) / total, [math.exp(u) / total for u in rival_utilities]

    start_firm, start_rivals = firm_share(0.8, 5.0)  # reset starts at the target
    assert toy_start.firm_share[0, 0] == pytest.approx(start_firm, rel=1e-5)
    np.testing.assert_allclose(toy_start.competitor_share[0, 0], start_rivals, rtol=1e-5)
    # abroad the firm is absent at reset
    np.testing.assert_array_equal(toy_start.firm_share[0, 1:], [0.0, 0.0])

    after = toy_model.step(toy_start, act(3)).state
    # one quarter: quality 0.8 * (1 - 0.03) without R&D, brand 5 * 0.9 without marketing
    target_firm, target_rivals = firm_share(0.776, 4.5)
    # shares close 30% of the gap to the target
    expected_firm = start_firm + 0.3 * (target_firm - start_firm)
    expected_rivals = [s + 0.3 * (t - s) for s, t in zip(start_rivals, target_rivals, strict=True)]
    assert after.firm_share[0, 0] == pytest.approx(expected_firm, rel=1e-5)
    np.testing.assert_allclose(after.competitor_share[0, 0], expected_rivals, rtol=1e-5)
