"""The integer names the compiled functions index with: the rows of a step's KPI outputs,
the entry modes and moves, the observation's bounds, and the columns of the per-firm
values that pass from one phase of the quarter to the next.

Module-level constants, so numba freezes them into the compiled code.
"""

from __future__ import annotations

import numpy as np

from lepton_env.features import FIRM_FEATURES, REGION_FEATURES, bounds
from lepton_env.types import MODE_RANK, EntryMode, Move

#: Per-env KPIs in $M (float64), rows of the ``money`` output.
MONEY_KPIS = (
    "revenue",
    "gross_revenue",
    "profit",
    "cash",
    "cost_of_revenue",
    "operating_cost",
    "entry_cost",
    "exit_cost",
    "spend_cost",
    "rnd_cost",
    "fines",
    "overhead",
    "total_potential",
    "firm_value",
    "previous_firm_value",
)
#: Per-env counts (int64), rows of the ``counts`` output.
COUNT_KPIS = (
    "regions_present",
    "entries",
    "exits",
    "acquisitions_vetoed",
    "partner_failures",
    "enforcement_events",
    "suspensions",
    "new_laws",
    "closures",
    "invalid_moves",
    # valid moves (each allowed by its mask) refused because together they exceed cash + credit
    "unfunded_moves",
)
(
    _REVENUE,
    _GROSS,
    _PROFIT,
    _CASH,
    _COST_OF_REVENUE,
    _OPERATING,
    _ENTRY,
    _EXIT,
    _SPEND,
    _RND,
    _FINES,
    _OVERHEAD,
    _POTENTIAL,
    _FIRM_VALUE,
    _PREVIOUS_FIRM_VALUE,
) = range(len(MONEY_KPIS))
(
    _PRESENT,
    _ENTRIES,
    _EXITS,
    _VETOED,
    _FAILURES,
    _EVENTS,
    _SUSPENSIONS,
    _LAWS,
    _CLOSURES,
    _INVALID,
    _UNFUNDED,
) = range(len(COUNT_KPIS))

_RANK = np.array(MODE_RANK, dtype=np.int64)
_NONE, _PILOT, _PARTNERSHIP, _ACQUISITION, _GREENFIELD = (int(m) for m in EntryMode)
_HOLD, _EXIT_MOVE, _MARKETING, _LOCALIZE, _COMPLY, _DILIGENCE = (
    int(Move.HOLD),
    int(Move.EXIT),
    int(Move.MARKETING),
    int(Move.LOCALIZE),
    int(Move.COMPLY),
    int(Move.DILIGENCE),
)

#: The observation's bounds per column (:mod:`lepton_env.features`), which the encoder clips to.
_REGION_LOW, _REGION_HIGH = bounds(REGION_FEATURES)
_FIRM_LOW, _FIRM_HIGH = bounds(FIRM_FEATURES)
OBSERVATION_WIDTH = (len(REGION_FEATURES), len(FIRM_FEATURES))


# Per-firm values that pass from one phase of a region to the next, columns of the scratch
# ``flags`` (F, .) int64 and ``work`` (F, .) float64.
_MOVE, _CLAIM, _CLOSED0, _CLOSING, _SUSPENDED0, _SUSPENDED, _ACTIVE = range(7)
_SPEND_MARKETING, _SPEND_LOCALIZATION, _SPEND_COMPLIANCE, _COMMITTED, _BUDGET, _MOVE_COST = range(6)
# and the firms' own random streams of the quarter, columns of ``keys`` (F, .) uint64
_KEY, _CLOSURE_STREAM, _ENFORCEMENT_STREAM = range(3)
