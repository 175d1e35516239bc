"""Enumerations shared by the core and the faces: entry modes and per-region moves."""

from __future__ import annotations

from enum import IntEnum


class EntryMode(IntEnum):
    """How the firm is present in a region (Hollensen, *Global Marketing*, ch. 9-12)."""

    NONE = 0
    PILOT = 1  # export pilot: cheap, fast, low share ceiling
    PARTNERSHIP = 2  # local partner: revenue share, partner-driven localization
    ACQUISITION = 3  # bought a local competitor
    GREENFIELD = 4  # own subsidiary, built over several quarters


class Move(IntEnum):
    """One move per region per quarter."""

    HOLD = 0
    ENTER_PILOT = 1
    ENTER_PARTNERSHIP = 2
    ENTER_ACQUISITION = 3
    ENTER_GREENFIELD = 4
    EXIT = 5
    MARKETING = 6
    LOCALIZE = 7
    COMPLY = 8
    DILIGENCE = 9


NUM_MODES = len(EntryMode)
NUM_MOVES = len(Move)
ENTRY_MOVES = (
    Move.ENTER_PILOT,
    Move.ENTER_PARTNERSHIP,
    Move.ENTER_ACQUISITION,
    Move.ENTER_GREENFIELD,
)
#: Commitment rank of each mode; an upgrade must raise it (Johanson & Vahlne 1977).
MODE_RANK = (0, 1, 2, 3, 3)
