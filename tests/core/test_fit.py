"""Market fit: the conjugate update, the spillovers, and the kernel's learning phase."""

from __future__ import annotations

import numpy as np
import pytest

from lepton_env import rng
from lepton_env.core import Action, Model
from lepton_env.features import REGION_FEATURES
from lepton_env.mechanisms import fit
from lepton_env.observation import encode_flat
from lepton_env.scenarios import make_params
from lepton_env.types import Move


def test_normal_normal_update_by_hand() -> None:
    # m = 0, v = 1, tau = 1, y = 2: k = 1 / 2, m' = 1, v' = 1 / 2
    assert fit.update_mean(0.0, 1.0, 2.0, 1.0) == pytest.approx(1.0)
    assert fit.update_variance(1.0, 1.0) == pytest.approx(0.5)
    # m = 1, v = 0.5, tau = 4, y = -1: k = 2 / 3, m' = 1 - 4 / 3, v' = 1 / 6
    assert fit.update_mean(1.0, 0.5, -1.0, 4.0) == pytest.approx(-1.0 / 3.0)
    assert fit.update_variance(0.5, 4.0) == pytest.approx(1.0 / 6.0)
    # a known fit (v = 0) and no signal (tau = 0) change nothing
    assert fit.update_mean(0.3, 0.0, 5.0, 4.0) == 0.3
    assert fit.update_mean(0.3, 2.0, 5.0, 0.0) == 0.3
    assert fit.update_variance(2.0, 0.0) == 2.0


def test_prior_sd_similarity_and_distance_spillover_by_hand() -> None:
    assert fit.prior_sd(0.2, 0.8, 0.5) == pytest.approx(0.6)
    assert fit.similarity(0.25, 0.5) == pytest.approx(0.75)
    assert fit.similarity(0.5, 0.25) == pytest.approx(0.75)
    assert fit.closer(0.5, 0.02, 0.75) == pytest.approx(0.5 * (1 - 0.015))
    assert fit.standard_draw(0.7, -0.3, True) == 1.0
    assert fit.standard_draw(0.2, -0.3, True) == -1.0
    assert fit.standard_draw(0.2, -0.3, False) == -0.3


def _pilot_step(scenario: str, region: int, seeds: int = 64, **overrides: object):  # type: ignore[no-untyped-def]
    params = make_params(scenario, **overrides)
    model = Model(params)
    state = model.reset(rng.episode_key(np.arange(seeds), params.seed_offset))
    hold = Action.hold(seeds, params.num_regions)
    moves = hold.moves.copy()
    moves[:, region] = Move.ENTER_PILOT
    output = model.step(
        state, Action(moves, hold.marketing, hold.localization, hold.compliance, hold.rnd)
    )
    return params, state, output


def test_a_pilot_updates_the_belief_with_a_two_point_signal() -> None:
    # toy_pilot near: fit m +- 1 with m = -c(1) = -ln cosh(1) to 2^-10 (prior variance 1),
    # pilot tau = 1: signal fit +- 1, m' = m + (y - m) / 2
    params, before, output = _pilot_step("toy_pilot", 1)
    after = output.state
    m = -np.round(np.log(np.cosh(1.0)) * 1024) / 1024
    assert np.all(before.fit_mean[:, 1] == np.float32(m))
    assert np.all(before.fit_variance[:, 1] == 1)
    assert set(np.unique(before.market_fit[:, 1])) == {np.float32(m - 1), np.float32(m + 1)}
    signal = 2 * after.fit_mean[:, 1].astype(float) - m
    assert np.all(np.isin(signal - before.market_fit[:, 1], [-1.0, 1.0]))
    assert np.all(after.fit_variance[:, 1] == 0.5)
    # the unvisited far region learns nothing (no spillover in toy_pilot)
    assert np.all(after.fit_variance[:, 2] == before.fit_variance[:, 2])
    # the observation carries the belief (mean, sd), never the hidden fit
    names = [f.name for f in REGION_FEATURES]
    width = len(names)
    column = output.observation[:, width : 2 * width]
    assert np.array_equal(column[:, names.index("fit_belief")], after.fit_mean[:, 1])
    np.testing.assert_allclose(column[:, names.index("fit_uncertainty")], np.sqrt(0.5))
    assert np.array_equal(encode_flat(Model(params), after), output.observation)


def test_the_fit_spreads_with_distance_with_no_mean_effect_on_the_attraction() -> None:
    """``E[exp(phi_r)] = exp(mu) = 1`` in every region (normal draws: the log-normal offset
    ``sigma^2 / 2``; two-point: ``ln cosh sigma``), while the spread grows with distance."""
    params = make_params("global")
    seeds = 20_000
    state = Model(params).reset(rng.episode_key(np.arange(seeds), params.seed_offset))
    attraction = np.exp(state.market_fit.astype(float))
    se = attraction.std(axis=0, ddof=1) / np.sqrt(seeds)
    assert np.all(np.abs(attraction.mean(axis=0) - 1.0) < 4 * se + 1e-12)
    sd = fit.prior_sd(params.fit_prior_sd, params.fit_prior_sd_distance, params.psychic_distance)
    foreign = np.arange(params.num_regions) != params.home_region
    np.testing.assert_allclose(state.market_fit.std(axis=0)[foreign], sd[foreign], rtol=0.05)
    for sigma in (0.5, 1.0, 2.0):
        c = fit.spread_offset(sigma, True)
        assert 0.5 * (np.exp(-c - sigma) + np.exp(-c + sigma)) == pytest.approx(1.0, abs=5e-4)
        assert fit.spread_offset(sigma, False) == 0.5 * sigma**2


def _belief_path(policy_move: Move, quarters: int, **overrides: object):  # type: ignore[no-untyped-def]
    """toy_pilot's near region entered in ``policy_move`` at quarter 0, then held: the fit
    variance after each quarter (T + 1, n), the near region's revenue in each (T, n) (the
    return's revenue less that of holding everywhere, on the same seeds) and its closed
    quarters after each (T + 1, n)."""
    params = make_params("toy_pilot", horizon=quarters, **overrides)
    model = Model(params)
    seeds = np.arange(16)
    states = [model.reset(rng.episode_key(np.concatenate([seeds, seeds]), params.seed_offset))]
    variance, revenue = [states[0].fit_variance[:16, 1].astype(float)], []
    for quarter in range(quarters):
        hold = Action.hold(32, params.num_regions)
        moves = hold.moves.copy()
        if quarter == 0:
            moves[:16, 1] = policy_move
        output = model.step(
            states[-1], Action(moves, hold.marketing, hold.localization, hold.compliance, hold.rnd)
        )
        states.append(output.state)
        variance.append(output.state.fit_variance[:16, 1].astype(float))
        revenue.append(output.kpis["revenue"][:16] - output.kpis["revenue"][16:])
    closed = np.array([state.closed_quarters[:16, 1] for state in states])
    return params, np.array(variance), np.array(revenue), closed


def _signalled(variance: np.ndarray) -> np.ndarray:
    return variance[1:] < variance[:-1]


def test_signals_arrive_only_in_quarters_served_at_the_boundaries() -> None:
    """The fit's signal comes from the quarter served, as its revenue: none while a greenfield
    is built from nothing and one in the quarter it opens; none in the quarter a closure
    strikes nor in any closed quarter, the last included; one in a served quarter in which a
    suspension is imposed, none in the suspended quarters, the last included."""
    # opening: a one-quarter build, then a greenfield's precision (16) in its first quarter
    _, variance, revenue, _ = _belief_path(Move.ENTER_GREENFIELD, 3)
    assert np.array_equal(_signalled(variance).all(axis=1), [False, True, True])
    np.testing.assert_allclose(variance[2], 1.0 / (1.0 + 16.0))
    assert np.array_equal(_signalled(variance), revenue > 0)
    # closures: a region that closes with probability 1 - exp(-1) a quarter while open
    risk = np.array([0.0, 1.0, 0.0])
    _, variance, revenue, closed = _belief_path(
        Move.ENTER_PILOT, 16, geopolitical_risk=risk, closure_quarters=2
    )
    signalled, before = _signalled(variance), closed[:-1]
    closing = (before == 0) & (closed[1:] == 2)
    assert closing.any() and (before == 1).any() and signalled.any()
    assert not signalled[closing].any()  # the quarter a closure strikes
    assert not signalled[before > 0].any()  # every closed quarter, the last included
    assert np.array_equal(signalled, revenue > 0)
    # suspensions: enforcement certain and severe in every served quarter, two quarters each
    _, variance, revenue, _ = _belief_path(
        Move.ENTER_PILOT, 8, enforcement_base_hazard=10.0, severe_probability=1.0,
        suspension_quarters=2,
    )  # fmt: skip
    assert np.array_equal(_signalled(variance).all(axis=1), [q % 3 == 0 for q in range(8)]), (
        _signalled(variance)
    )
    assert np.array_equal(_signalled(variance), revenue > 0)


def test_presence_teaches_about_similar_regions() -> None:
    # global: a pilot in south_korea (D = 0.35) moves japan (D = 0.4) closer and narrows its
    # belief, by their similarity 0.95; the home region is untouched
    params, before, output = _pilot_step("global", 5)
    after = output.state
    japan = params.region_names.index("japan")
    tau = params.fit_signal_precision[Move.ENTER_PILOT]
    similar = 1 - abs(0.4 - 0.35)
    expected = before.psychic_distance[:, japan] * (1 - params.experience_distance_rate * similar)
    np.testing.assert_allclose(after.psychic_distance[:, japan], expected, rtol=1e-6)
    v = before.fit_variance[:, japan].astype(float)
    narrowed = v / (1 + v * params.experience_precision_rate * similar * tau)
    np.testing.assert_allclose(after.fit_variance[:, japan], narrowed, rtol=1e-6)
    assert np.array_equal(after.fit_mean[:, japan], before.fit_mean[:, japan])
    assert np.all(after.fit_variance[:, 0] == 0) and np.all(after.market_fit[:, 0] == 0)


def test_toy_fit_is_known_exactly() -> None:
    params, before, output = _pilot_step("toy", 2)
    for state in (before, output.state):
        assert np.all(state.market_fit == 0) and np.all(state.fit_variance == 0)
        assert np.array_equal(state.psychic_distance[0], params.psychic_distance.astype("f4"))


def test_prior_draws_and_posterior_are_calibrated_with_normal_signals() -> None:
    """global (normal draws): the hidden fit has the prior's mean and variance, and after a
    pilot quarter the squared error of the belief mean is the posterior variance on average
    (the normal-normal update is exact), several times smaller than the prior's."""
    _, before, output = _pilot_step("global", 1, seeds=4000)
    after = output.state
    us = 1
    prior_var = before.fit_variance[:, us].astype(float)
    error = before.market_fit[:, us].astype(float) - before.fit_mean[:, us]
    assert abs(error.mean()) < 4 * np.sqrt(prior_var.mean() / error.size)
    assert np.mean(error**2 / prior_var) == pytest.approx(1.0, abs=0.1)
    posterior_error = after.market_fit[:, us].astype(float) - after.fit_mean[:, us]
    posterior_var = after.fit_variance[:, us].astype(float)
    assert np.mean(posterior_error**2 / posterior_var) == pytest.approx(1.0, abs=0.1)
    assert np.mean(posterior_var) < 0.7 * np.mean(prior_var)
