"""Value of information (real options; Johanson & Vahlne 1977, 2009): where the market fit
is uncertain, piloting first and scaling on good news beats committing at once, never
entering and piloting for ever, and the advantage shrinks with the uncertainty.

Fixed policies (:mod:`tests.theory._fit_helpers`) over many seeds in one batch each; the
seeds are common to the policies, so the margins are paired differences, asserted at
several standard errors. ``pilot_then_scale`` acts on its belief by the NPV rule (the
helpers' docstring). Disabling learning (``fit_signal_precision=[0, 0, 0, 0, 0]``) leaves
the pilot with nothing to act on, and these tests fail.

The controlled cases widen the fit's prior above the defaults (high) and narrow it far
below (low); :func:`test_at_defaults_pilot_then_scale_beats_every_rival` asserts the
statics at the default parameters of ``global``, in its three regions of widest prior,
for greenfield and partnership as the full mode (the pilot's terms at defaults:
docs/model.md, "Pilots").
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from lepton_env.core import Model
from lepton_env.scenarios import make_params
from lepton_env.types import Move
from tests.theory._fit_helpers import POLICIES, returns

Z = 4.0  # standard errors of margin
#: (scenario, region, full commitment, seeds, overrides of high and of low uncertainty)
CASES = {
    "toy_pilot": (
        "toy_pilot", 2, Move.ENTER_PARTNERSHIP, 1600,
        {"fit_prior_sd_distance": 4.0}, {"fit_prior_sd_distance": 1.0},
    ),
    "global": (
        "global", 1, Move.ENTER_GREENFIELD, 3000,  # the signals are worth less at present value
        {"fit_prior_sd": 0.2, "fit_prior_sd_distance": 2.0},
        {"fit_prior_sd": 0.05, "fit_prior_sd_distance": 0.2},
    ),
}  # fmt: skip


@functools.cache
def _returns(case: str, uncertainty: int, blind: bool = False) -> dict[str, NDArray[np.float64]]:
    """Each policy's returns (one per seed); ``blind``: learning off (no signals)."""
    scenario, region, full, seeds, high, low = CASES[case]
    extra: dict[str, Any] = {"fit_signal_precision": np.zeros(5)} if blind else {}
    model = Model(make_params(scenario, **(high if uncertainty else low), **extra))
    result = returns(model, [region], np.arange(seeds), full)
    return {p: result[region, p] for p in POLICIES}


def _margin(result: dict[str, NDArray[np.float64]]) -> tuple[NDArray[np.float64], str]:
    """Per-seed advantage of pilot-then-scale over the best policy that does not learn:
    never, commit or pilot for ever (with a narrow prior the NPV rule keeps piloting where
    the pilot pays at the prior, and the advantage is nil)."""
    rival = max(("never", "commit", "pilot"), key=lambda p: float(result[p].mean()))
    return result["pilot_then_scale"] - result[rival], rival


def _se(values: NDArray[np.float64]) -> float:
    return float(values.std(ddof=1) / np.sqrt(values.size))


@pytest.mark.parametrize("case", sorted(CASES))
def test_pilot_then_scale_beats_every_rival_under_high_uncertainty(case: str) -> None:
    result = _returns(case, uncertainty=1)
    for rival in ("never", "commit", "pilot"):
        gap = result["pilot_then_scale"] - result[rival]
        assert gap.mean() > Z * _se(gap), (case, rival, gap.mean(), _se(gap))


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_value_of_the_signals_shrinks_with_the_uncertainty(case: str) -> None:
    """What the pilot's signals are worth, pilot-then-scale against the same policy with
    learning off (no signal: it never scales nor exits), falls with the fit's prior spread."""
    worth = []
    for level in (1, 0):
        learned = _returns(case, level)["pilot_then_scale"]
        worth.append(learned - _returns(case, level, blind=True)["pilot_then_scale"])
    shrink = worth[0] - worth[1]  # same seeds: the same standard draws, scaled
    assert worth[0].mean() > Z * _se(worth[0]), (case, worth[0].mean(), _se(worth[0]))
    assert shrink.mean() > Z * _se(shrink), (case, worth[0].mean(), worth[1].mean(), _se(shrink))


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_advantage_shrinks_with_the_uncertainty(case: str) -> None:
    """The margin over the best of never, commit and pilot for ever falls with the spread
    of the fit."""
    high, _ = _margin(_returns(case, uncertainty=1))
    low, _ = _margin(_returns(case, uncertainty=0))
    shrink = high - low  # same seeds: the same standard draws, scaled
    assert shrink.mean() > Z * _se(shrink), (case, high.mean(), low.mean(), _se(shrink))


#: seeds of the test at defaults: scaling up to a greenfield pays only in the upper tail of
#: the fit (a spend-free subsidiary breaks even at a fit above about +1 in the US, +1.5 in the
#: UK, +1.9 in Brazil), so its margin over piloting for ever is small and needs many seeds
DEFAULT_SEEDS = 5000


@pytest.mark.slow
@pytest.mark.parametrize("full", [Move.ENTER_GREENFIELD, Move.ENTER_PARTNERSHIP])
def test_at_defaults_pilot_then_scale_beats_every_rival(full: Move) -> None:
    """``global`` at its defaults, in the three regions of widest fit prior: pilot-then-scale
    beats committing at once, never entering and piloting for ever."""
    params = make_params("global")
    sd = params.fit_prior_sd + params.fit_prior_sd_distance * params.psychic_distance
    widest = [int(r) for r in np.argsort(-sd) if r != params.home_region][:3]
    result = returns(Model(params), widest, np.arange(DEFAULT_SEEDS), full)
    for region in widest:
        for rival in ("never", "commit", "pilot"):
            gap = result[region, "pilot_then_scale"] - result[region, rival]
            assert gap.mean() > Z * _se(gap), (params.region_names[region], rival, gap.mean())
