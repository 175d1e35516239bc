"""Our NashConv against OpenSpiel's on a pyspiel wrapper of ``duel_toy``."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pyspiel", reason='needs open-spiel: pip install -e ".[games]"')

from open_spiel.python.algorithms import exploitability

from lepton_env.games import AgentStrategy, Mixture, PlanStrategy, SmallGame, nash_conv
from lepton_env.games.openspiel_game import LeptonDuelGame, ProfilePolicy

PARTNER_NEAR, ACQUIRE_NEAR, MARKET_NEAR = 12, 13, 16
MENUS = ([PARTNER_NEAR, ACQUIRE_NEAR, MARKET_NEAR],) * 2
TINY = {"horizon": 2, "market_potential": np.array([100.0, 400.0, 200.0]), "control_premium": 0.0}


def _profiles(game: SmallGame) -> list[list]:
    from lepton_env.multi.firms import single_width
    from lepton_env.multi.scripted import build_agent

    uppsala = AgentStrategy(
        build_agent("UppsalaAgent", game.params, 1, "discrete", "test"),
        width=single_width(game.params),
    )
    mixed = Mixture(
        (PlanStrategy((ACQUIRE_NEAR, MARKET_NEAR)), PlanStrategy((PARTNER_NEAR, 0))),
        np.array([0.6, 0.4]),
    )
    return [
        [PlanStrategy((ACQUIRE_NEAR, MARKET_NEAR)), PlanStrategy((ACQUIRE_NEAR, MARKET_NEAR))],
        [mixed, uppsala],
        [PlanStrategy((0, PARTNER_NEAR)), mixed],
    ]


@pytest.mark.parametrize("which", [0, 1, 2])
def test_nash_conv_equals_openspiel(which: int) -> None:
    game = SmallGame.make("duel_toy", menus=MENUS, **TINY)
    profile = _profiles(game)[which]
    ours = nash_conv(game, profile)
    spiel_game = LeptonDuelGame(game)
    theirs = exploitability.nash_conv(
        spiel_game, ProfilePolicy(spiel_game, profile), return_only_nash_conv=False
    )
    assert ours.nash_conv == pytest.approx(theirs.nash_conv, abs=1e-9)
    assert np.allclose(ours.gains, theirs.player_improvements, atol=1e-9)
    assert ours.nash_conv > 1e-6  # none of these profiles is an equilibrium


def test_openspiel_exploitability_refuses_the_general_sum_game() -> None:
    game = SmallGame.make("duel_toy", menus=MENUS, **TINY)
    spiel_game = LeptonDuelGame(game)
    with pytest.raises(ValueError, match="zero-sum"):
        exploitability.exploitability(spiel_game, ProfilePolicy(spiel_game, _profiles(game)[0]))
