"""Entry modes: an acquisition buys speed at a price, and is worth it only in some markets.

Entry-mode theory (Anderson & Gatignon 1986; Hennart & Park 1993) expects buying
a local firm to reach share faster than building one, at a higher upfront cost;
priced at the target's value (:mod:`lepton_env.mechanisms.valuation`), whether
it is the best entry depends on the market (at a market price it is nowhere the best
in ``global`` at defaults: :func:`test_at_a_market_price_acquisition_is_the_best_entry_nowhere`
says why). Values are present values at the
scenario's cost of capital (the value a market would see), on the rich firm
(financing aside); speed and cost are compared with FDI screening off (approval
aside), the best entry with the scenario's screening.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from theory_kit import Episodes, clearly_less, play, scheduled

from lepton_env import make_params
from lepton_env.types import Move

PARAMS = make_params("global")
FOREIGN = [r for r in range(PARAMS.num_regions) if r != PARAMS.home_region]
MODES = (Move.ENTER_PILOT, Move.ENTER_PARTNERSHIP, Move.ENTER_ACQUISITION, Move.ENTER_GREENFIELD)


def _by_region_and_mode(**setting: Any) -> dict[tuple[int, Move], Episodes]:
    """Enter one region at quarter 0 in one mode, then localize and market there."""
    keys = [(region, mode) for region in FOREIGN for mode in MODES]
    policies = [
        scheduled({0: {region: mode}}, upkeep=(Move.LOCALIZE, Move.MARKETING))
        for region, mode in keys
    ]
    return dict(zip(keys, play(policies, **setting), strict=True))


@pytest.fixture(scope="module")
def unscreened() -> dict[tuple[int, Move], Episodes]:
    return _by_region_and_mode(initial_cash=1e5, fdi_screening=np.zeros(PARAMS.num_regions))


@pytest.fixture(scope="module")
def screened() -> dict[tuple[int, Move], Episodes]:
    # screening's vetoes add variance: more seeds
    return _by_region_and_mode(initial_cash=1e5, seeds=range(30_000, 30_160))


def test_acquisition_reaches_share_faster_and_costs_more_than_greenfield(
    unscreened: dict[tuple[int, Move], Episodes],
) -> None:
    for region in FOREIGN:
        bought = unscreened[region, Move.ENTER_ACQUISITION]
        built = unscreened[region, Move.ENTER_GREENFIELD]
        name = PARAMS.region_names[region]
        for quarter in (0, 3, 7):  # after one, four and eight quarters
            assert clearly_less(
                built.market_share[:, quarter, region], bought.market_share[:, quarter, region]
            ), f"{name}: greenfield's share is not clearly below the acquisition's at {quarter}"
        assert clearly_less(built.kpis["entry_cost"][:, 0], bought.kpis["entry_cost"][:, 0]), name


def _ranking(screened: dict[tuple[int, Move], Episodes]) -> tuple[list[str], list[str]]:
    """The regions where acquisition is clearly the best entry, and where it is clearly beaten."""
    best, beaten = [], []
    for region in FOREIGN:
        bought = screened[region, Move.ENTER_ACQUISITION].present_values
        others = [screened[region, m].present_values for m in MODES if m != Move.ENTER_ACQUISITION]
        if all(clearly_less(other, bought) for other in others):
            best.append(PARAMS.region_names[region])
        if any(clearly_less(bought, other) for other in others):
            beaten.append(PARAMS.region_names[region])
    return best, beaten


def test_acquisition_is_not_the_best_entry_everywhere(
    screened: dict[tuple[int, Move], Episodes],
) -> None:
    best, beaten = _ranking(screened)
    assert beaten, f"acquisition is the best entry everywhere (best in {best})"


def test_at_a_market_price_acquisition_is_the_best_entry_nowhere(
    screened: dict[tuple[int, Move], Episodes],
) -> None:
    """At defaults no ``global`` region makes an acquisition the best entry, and that is
    the economics, not a mispricing. The price is what a market would set: the target's
    standalone value plus a control premium (35%) and the deal's costs
    (:mod:`lepton_env.mechanisms.entry`). For it the buyer gets the target's position (its
    share, most of its brand, full localization), whose value the target's owners are
    paid in full, and then the share drifts to the buyer's own attraction. What the buyer
    gains beyond the price is only speed, against a greenfield that opens in three quarters
    and localizes at cost, or a partnership that brings localization at once; speed is
    worth less than the premium, and FDI screening vetoes some bids (a filing fee lost).
    That the target's owners, not the acquirer, capture an acquisition's gains is the
    empirical rule (Jensen & Ruback 1983, *JFE* 11; Andrade, Mitchell & Stafford 2001,
    *JEP* 15(2)); an acquisition pays when building is barred or slow, or with synergies,
    neither of which ``global`` has at defaults. So acquisition is clearly the best entry
    nowhere, another entry (greenfield or partnership) is worth more on average in every
    region, and clearly more in most (in the small, low-screening markets the gap is
    within the noise of 160 seeds). With the premium at 0, acquisition becomes the best
    entry in South-East Asia and Africa, and this test fails."""
    best, beaten = _ranking(screened)
    assert not best, f"acquisition is clearly the best entry in {best}"
    for region in FOREIGN:
        bought = screened[region, Move.ENTER_ACQUISITION].present_values.mean()
        other = max(
            screened[region, m].present_values.mean() for m in MODES if m != Move.ENTER_ACQUISITION
        )
        assert other > bought, (PARAMS.region_names[region], bought, other)
    assert len(beaten) >= len(FOREIGN) - 2, beaten
