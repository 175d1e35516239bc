"""lepton-crossplay: the cross-play table, its intervals, the ratings and the reports."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lepton_env.agents.comparison.crossplay import cross_play, play_profile, seat_agent
from lepton_env.agents.comparison.crossplay_report import race_figure, strategy_markdown
from lepton_env.agents.comparison.ratings import (
    OPENSKILL_HINT,
    antisymmetric,
    nash_averaging,
    openskill_ratings,
)
from lepton_env.agents.comparison.stats import (
    hierarchical_bootstrap,
    mean_difference,
    paired_bootstrap,
)
from lepton_env.multi.firms import agent_ids
from lepton_env.params import Params
from lepton_env.scenarios import make_params

SEEDS = list(range(2_000_000, 2_000_006))
#: Heuristics whose duels on the twin world draw no conflict coin between different ones.
CALM = {"home": "HomeOnlyAgent", "uppsala": "UppsalaAgent", "greedy": "GreedyLargestMarketAgent"}


def twin_world() -> Params:
    """``duel_toy`` with the rival a copy of Lepton AI: same home, distances and risks."""
    base = make_params("duel_toy")
    return base.replace(
        rival_home=np.array([base.home_region]),
        rival_psychic_distance=base.psychic_distance[None].copy(),
        rival_geopolitical_risk=base.geopolitical_risk[None].copy(),
        rival_fdi_screening=base.fdi_screening[None].copy(),
    )


def test_identical_firms_on_swapped_seats_swap_their_returns_episode_by_episode() -> None:
    table = cross_play(twin_world(), CALM, SEEDS, reps=50)
    count = len(CALM)
    for i in range(count):
        for j in range(count):
            if i == j and i == 2:
                continue  # greedy against itself contests a target: a coin per episode
            # i in seat 0 against j is i in seat 1 against j, on every episode
            assert np.array_equal(table.scores[0, i, j], table.scores[1, i, j])
            swapped = table.plays[0, j, i].returns[::-1]  # j in seat 0, i in seat 1, swapped
            assert np.array_equal(table.plays[0, i, j].returns, swapped)
    margins = table.margins
    assert np.array_equal(margins, -margins.T)
    assert np.all(np.diag(margins) == 0)


def test_where_a_coin_settles_a_contest_identical_firms_are_symmetric_in_expectation() -> None:
    pytest.importorskip("nashpy", reason='needs the games extra: pip install -e ".[games]"')
    from lepton_env.games import SmallGame, values
    from lepton_env.games.report import heuristic_profile

    game = SmallGame(twin_world())
    exact = values(game, heuristic_profile(game, "GreedyLargestMarketAgent"))
    assert exact[0] == pytest.approx(exact[1], abs=1e-9)
    # the sampled episodes of the cross-play differ from seat to seat: a coin each
    play = play_profile(twin_world(), ["GreedyLargestMarketAgent"] * 2, SEEDS)
    assert not np.array_equal(play.returns[0], play.returns[1])


def test_the_intervals_are_the_hierarchical_and_paired_bootstrap_of_the_same_episodes() -> None:
    table = cross_play(make_params("duel_toy"), CALM, SEEDS, reps=200, stats_seed=3)
    assert table.seeds == tuple(SEEDS)
    for key, estimate in table.focal.items():
        seat, i, j = key
        expected = hierarchical_bootstrap(table.plays[key].returns[seat], reps=200, seed=3)
        assert np.array_equal(estimate.point, expected.point)
        assert np.array_equal(estimate.low, expected.low)
        assert np.array_equal(estimate.high, expected.high)
        assert table.plays[key].seeds == tuple(SEEDS)  # the same episodes in every cell
    per_episode = table.seat_scores
    for (i, j), estimate in table.margin.items():
        expected = paired_bootstrap(
            per_episode[i, j], per_episode[j, i], statistic=mean_difference, reps=200, seed=3
        )
        assert np.array_equal(estimate.low, expected.low)
        assert np.array_equal(estimate.high, expected.high)
        assert estimate.point[0] == pytest.approx(table.margins[i, j])
        assert estimate.low[0] <= estimate.point[0] <= estimate.high[0]


def test_nash_averaging_of_rock_paper_scissors_with_a_dominated_fourth() -> None:
    rps = np.array([[0, 1, -1], [-1, 0, 1], [1, -1, 0]], dtype=float)
    margins = np.zeros((4, 4))
    margins[:3, :3] = rps
    margins[3, :3], margins[:3, 3] = -0.5, 0.5  # the fourth loses to all
    result = nash_averaging(margins)
    np.testing.assert_allclose(result.equilibrium, [1 / 3, 1 / 3, 1 / 3, 0.0], atol=1e-6)
    np.testing.assert_allclose(result.ratings, [0.0, 0.0, 0.0, -0.5], atol=1e-6)
    # a copy of rock does not move the ratings (Balduzzi et al. 2018: invariant to copies)
    copied = np.zeros((5, 5))
    index = [0, 1, 2, 3, 0]
    copied[:, :] = margins[np.ix_(index, index)]
    again = nash_averaging(copied)
    np.testing.assert_allclose(again.ratings, [0.0, 0.0, 0.0, -0.5, 0.0], atol=1e-6)
    # the maximum-entropy Nash splits rock's weight between its copies
    np.testing.assert_allclose(again.equilibrium, [1 / 6, 1 / 3, 1 / 3, 0.0, 1 / 6], atol=1e-5)


def test_nash_averaging_puts_all_weight_on_a_dominant_player() -> None:
    margins = np.array([[0.0, 2.0, 1.0], [-2.0, 0.0, 3.0], [-1.0, -3.0, 0.0]])
    result = nash_averaging(margins)
    np.testing.assert_allclose(result.equilibrium, [1.0, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(result.ratings, [0.0, -2.0, -1.0], atol=1e-7)
    with pytest.raises(ValueError, match="not antisymmetric"):
        antisymmetric(np.ones((2, 2)))


def test_openskill_orders_a_dominant_player_first() -> None:
    pytest.importorskip("openskill", reason=OPENSKILL_HINT)
    rng = np.random.default_rng(0)
    strength = np.array([0.0, 3.0, 1.0])  # "strong" beats "middle" beats "weak", noisily
    margins = (strength[:, None] - strength[None, :])[..., None] + rng.normal(0, 0.5, (3, 3, 40))
    margins = margins - margins.transpose(1, 0, 2)
    skill = openskill_ratings(("weak", "strong", "middle"), margins)
    order = sorted(skill, key=lambda name: -skill[name][2])
    assert order == ["strong", "middle", "weak"]


def test_a_saved_model_plays_a_seat_through_the_safe_loader(tmp_path: Path) -> None:
    pytest.importorskip("sb3_contrib")
    from sb3_contrib import MaskablePPO

    from lepton_env.multi import LeptonMultiVecEnv

    venv = LeptonMultiVecEnv(
        1, "duel_toy", learners=["lepton_ai"], scripted={"rival_ai": "HomeOnlyAgent"}
    )
    model = MaskablePPO("MlpPolicy", venv, n_steps=8, batch_size=8, seed=0)
    model.save(tmp_path / "model.zip")
    params = make_params("duel_toy")
    spec = {"path": str(tmp_path / "model.zip"), "class_path": "sb3_contrib.MaskablePPO"}
    agent = seat_agent(spec, params, 0, "multi_discrete", "contenders['ppo']")
    play = play_profile(params, [agent, "HomeOnlyAgent"], SEEDS[:2], names=["ppo", "home"])
    assert play.returns.shape == (2, 2) and np.all(np.isfinite(play.returns))


def test_the_strategy_report_and_the_race_figure_are_written(tmp_path: Path) -> None:
    params = make_params("race")
    agents = agent_ids(params)
    play = play_profile(params, ["BornGlobalAgent", "UppsalaAgent", "HomeOnlyAgent"], SEEDS[:2])
    assert play.entry_mode.shape == (2, 3, params.horizon, params.num_regions)
    report = strategy_markdown(play, agents, params.region_names)
    assert all(f"Seat {firm} ({agent})" in report for firm, agent in enumerate(agents))
    assert "| mode |" in report
    path = race_figure(play, agents, params.region_names, tmp_path / "race.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_writes_the_table_the_ratings_and_the_exact_nash_conv(
    tmp_path: Path,
) -> None:
    pytest.importorskip("nashpy", reason='needs the games extra: pip install -e ".[games]"')
    from lepton_env.experiments.crossplay import main

    output = tmp_path / "duel"
    main(
        [
            "--scenario=duel_toy",
            "--heuristics",
            "HomeOnlyAgent",
            "UppsalaAgent",
            "RandomAgent",
            "--episodes=2",
            "--reps=50",
            "--exact",
            f"--output={output}",
        ]
    )
    figures = json.loads((output / "crossplay.json").read_text())
    assert figures["contenders"] == ["HomeOnlyAgent", "UppsalaAgent", "RandomAgent"]
    assert set(figures["exact_nash_conv"]) == {
        "HomeOnlyAgent/HomeOnlyAgent",
        "HomeOnlyAgent/UppsalaAgent",
        "UppsalaAgent/HomeOnlyAgent",
        "UppsalaAgent/UppsalaAgent",
    }  # random is no pure strategy: left out
    gains = figures["exact_nash_conv"]["HomeOnlyAgent/HomeOnlyAgent"]["gains"]
    assert all(gain >= -1e-9 for gain in gains)  # a best response never does worse
    text = (output / "crossplay.md").read_text()
    assert "Nash-averaging rating" in text and "Exact NashConv" in text
    assert (output / "race.png").exists() and (output / "strategy.md").exists()
