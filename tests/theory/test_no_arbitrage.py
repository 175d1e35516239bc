"""No arbitrage: a purchase at the horizon or a round trip through a region makes no value.

Acquisition prices and the terminal valuation share one valuation
(:mod:`lepton_env.mechanisms.valuation`), so buying a competitor in the last quarter
raises the return by no more than the bought share's own gross margin that quarter,
and entering a region only to leave it the next quarter never pays.
"""

from __future__ import annotations

import pytest
from theory_kit import STANDARD_ERRORS, Policy, clearly_positive, hold, play, scheduled

from lepton_env import make_params
from lepton_env.types import Move

PARAMS = make_params("global")
FOREIGN = [r for r in range(PARAMS.num_regions) if r != PARAMS.home_region]
LAST = PARAMS.horizon - 1
EVERYWHERE = {r: Move.ENTER_PARTNERSHIP for r in FOREIGN}


def with_moves(base: dict[int, dict[int, Move]], quarter: int, move: Move) -> Policy:
    plan = {q: dict(moves) for q, moves in base.items()}
    plan.setdefault(quarter, {}).update({r: move for r in FOREIGN})
    return scheduled(plan)


@pytest.mark.parametrize("initial_cash", [300.0, 1e5], ids=["cash_default", "cash_rich"])
@pytest.mark.parametrize(
    "base", [{}, {0: EVERYWHERE}], ids=["home_only", "partnerships_everywhere"]
)
def test_acquiring_in_the_last_quarter_gains_no_more_than_the_targets_profit(
    base: dict[int, dict[int, Move]], initial_cash: float
) -> None:
    plain, buying = play(
        [scheduled(base), with_moves(base, LAST, Move.ENTER_ACQUISITION)],
        initial_cash=initial_cash,
    )
    acquisitions = buying.total("entries") - plain.total("entries")
    assert acquisitions.mean() > 0.5  # the test is not vacuous: targets are bought
    # the bought share's gross margin in the last quarter, in reward units
    margin = 1.0 - PARAMS.variable_cost_rate
    gross_gain = buying.kpis["gross_revenue"][:, LAST] - plain.kpis["gross_revenue"][:, LAST]
    targets_profit = margin * gross_gain / PARAMS.reward_scale
    excess = (buying.returns - plain.returns) - targets_profit
    assert not buying.bankrupt.any()
    assert clearly_positive(-excess), (
        f"buying at the horizon gains {excess.mean():.3f} more than the targets' profit "
        f"(+- {STANDARD_ERRORS} standard errors)"
    )


@pytest.mark.parametrize(
    "move",
    [Move.ENTER_PILOT, Move.ENTER_PARTNERSHIP, Move.ENTER_ACQUISITION, Move.ENTER_GREENFIELD],
    ids=lambda move: move.name.lower(),
)
def test_an_enter_exit_cycle_never_gains(move: Move) -> None:
    quarters = (0, 13, 26, LAST - 1)
    policies = [hold()]
    for quarter in quarters:
        plan = {quarter: {r: move for r in FOREIGN}, quarter + 1: {r: Move.EXIT for r in FOREIGN}}
        policies.append(scheduled(plan))
    plain, *cycles = play(policies, initial_cash=1e5)
    for quarter, cycle in zip(quarters, cycles, strict=True):
        assert cycle.total("exits").mean() >= 1.0  # entered and left somewhere
        gain = cycle.returns - plain.returns
        # never a gain: at worst (a pilot in the last quarters, whose entry and write-off
        # are small) a loss within the noise of the hidden market fit
        assert gain.mean() <= 0.0 and not clearly_positive(gain), (
            f"{move.name} at quarter {quarter} and exit the next gains {gain.mean():.3f}"
        )
