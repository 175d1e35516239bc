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
    # toy_pilot near: fit +-1 (prior variance 1), pilot tau = 1: signal fit +- 1
    params, before, output = _pilot_step("toy_pilot", 1)
    after = output.state
    assert np.all(before.fit_mean[:, 1] == 0) and np.all(before.fit_variance[:, 1] == 1)
    assert set(np.unique(before.market_fit[:, 1])) == {-1.0, 1.0}
    signal = 2 * after.fit_mean[:, 1].astype(float)  # m' = y / 2
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
    params, before, output = _pilot_step("global", 1, seeds=4000)
    after = output.state
    us = 1
    prior_var = before.fit_variance[:, us].astype(float)
    error = before.market_fit[:, us].astype(float) - params.fit_prior_mean
    assert abs(error.mean()) < 4 * np.sqrt(prior_var.mean() / error.size)
    assert np.mean(error**2 / prior_var) == pytest.approx(1.0, abs=0.1)
    posterior_error = after.market_fit[:, us].astype(float) - after.fit_mean[:, us]
    posterior_var = after.fit_variance[:, us].astype(float)
    assert np.mean(posterior_error**2 / posterior_var) == pytest.approx(1.0, abs=0.1)
    assert np.mean(posterior_var) < 0.7 * np.mean(prior_var)
