"""The Bayes-optimal oracle of ``toy_pilot``: batched expectimax against a plain recursion."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lepton_env import rng
from lepton_env.agents.players.oracle import NotDeterministicError, _fit_worlds, solve_bayes
from lepton_env.core import Model
from lepton_env.envs.actions import DiscreteActions
from lepton_env.scenarios import make_params


def brute_force(horizon: int) -> tuple[float, float]:
    """Bayes value and clairvoyant value by a direct recursion over information states:
    unnormalized weights over the fit worlds, every valid action, and every joint signal
    each world can send, grouped by the exact signal values."""
    params = make_params("toy_pilot", horizon=horizon)
    model, codec = Model(params), DiscreteActions(params)
    root = model.reset(rng.episode_key(np.array([0]), params.seed_offset))
    worlds = _fit_worlds(params, root)
    count = worlds.fits.shape[0]
    start = root.take(np.zeros(count, dtype=np.intp)).replace(market_fit=worlds.fits.copy())

    def bayes(state, weights) -> float:  # type: ignore[no-untyped-def]
        masks = codec.masks(model.valid_moves(state), state.rnd_intensity)
        best = -np.inf
        for action in np.flatnonzero(masks[0]):
            out = model.step(state, codec.decode(np.full(count, action)))
            value = float(np.sum(weights * out.reward))
            if not (out.terminated[0] or out.truncated[0]):
                served = np.where(
                    out.state.build_quarters > 0, out.state.interim_mode, out.state.entry_mode
                )
                groups: dict[tuple[float, ...], np.ndarray] = {}
                for w in range(count):
                    tau = params.fit_signal_precision[served[w, worlds.regions]]
                    sending = [u for u in range(tau.size) if tau[u] > 0]
                    for signs in itertools.product((-1.0, 1.0), repeat=len(sending)):
                        y = tuple(
                            float(out.state.market_fit[w, worlds.regions[u]])
                            + sign / np.sqrt(tau[u])
                            for u, sign in zip(sending, signs, strict=True)
                        )
                        key = (*sending, *y)
                        groups.setdefault(key, np.zeros(count))[w] += weights[w] / 2 ** len(sending)
                value += sum(bayes(out.state, posterior) for posterior in groups.values())
            best = max(best, value)
        return best

    def clairvoyant(state) -> np.ndarray:  # type: ignore[no-untyped-def]
        masks = codec.masks(model.valid_moves(state), state.rnd_intensity)
        best = np.full(count, -np.inf)
        for action in np.flatnonzero(masks[0]):
            out = model.step(state, codec.decode(np.full(count, action)))
            value = out.reward.copy()
            if not (out.terminated[0] or out.truncated[0]):
                value += clairvoyant(out.state)
            best = np.maximum(best, value)
        return best

    return bayes(start, np.full(count, 1.0 / count)), float(clairvoyant(start).mean())


@pytest.mark.parametrize("horizon", [1, 2])
def test_expectimax_matches_the_plain_recursion(horizon: int) -> None:
    bayes, clairvoyant = brute_force(horizon)
    result = solve_bayes("toy_pilot", horizon=horizon)
    assert result.bayes_return == pytest.approx(bayes, rel=1e-9, abs=1e-9)
    assert result.clairvoyant_return == pytest.approx(clairvoyant, rel=1e-9, abs=1e-9)
    assert result.worlds == 4


def test_learning_is_worth_something_and_knowing_more() -> None:
    """At the default horizon the adaptive optimum beats every single plan, and knowing the
    fit beats learning it: open loop < Bayes < clairvoyant, each by a clear margin (the values
    are exact, so the margins only say that the gaps are not rounding)."""
    result = solve_bayes("toy_pilot")
    assert result.open_loop_return + 0.2 < result.bayes_return
    assert result.bayes_return + 0.5 < result.clairvoyant_return


def test_refuses_scenarios_it_cannot_solve() -> None:
    with pytest.raises(NotDeterministicError, match="fit_two_point"):
        solve_bayes("toy_pilot", fit_two_point=0)
    with pytest.raises(NotDeterministicError, match="partner_failure_rate"):
        solve_bayes("toy_pilot", partner_failure_rate=0.1)


def test_the_agent_plays_the_bayes_optimal_value_through_the_protocol() -> None:
    """Over many episodes the agent's mean return is the exact value, well above the best
    open-loop plan it would earn if it misread the signals; it never makes an invalid move."""
    from lepton_env.agents.comparison.episodes import evaluate_policy_episodes
    from lepton_env.agents.players.oracle import BayesOracleAgent

    agent = BayesOracleAgent("toy_pilot")
    result = agent.result
    episodes = evaluate_policy_episodes(
        agent, "LeptonExpansion-Single-v0", {"scenario": "toy_pilot"}, list(range(1000))
    )
    played = episodes["return"].to_numpy()
    se = played.std(ddof=1) / np.sqrt(played.size)
    assert abs(played.mean() - result.bayes_return) < 4 * se
    assert result.bayes_return - result.open_loop_return > 6 * se
    assert episodes["invalid_moves"].sum() == 0
    assert result.random_return < result.open_loop_return
