"""The quarter of one env: :func:`_step_env`, a short sequence of named phases, each an
``inline="always"`` function of its own module, so the split costs nothing (numba inlines
them into one compiled loop body). Its docstring lists the phases in the order they run
and where each lives.
"""

from __future__ import annotations

from typing import Any

from numba import njit

from lepton_env import rng
from lepton_env.kernel.encoding import encode_env
from lepton_env.kernel.indices import (
    _ACQUISITION,
    _ACTIVE,
    _CASH,
    _FIRM_VALUE,
    _HOLD,
    _KEY,
    _MOVE,
    _PARTNERSHIP,
    _PREVIOUS_FIRM_VALUE,
)
from lepton_env.kernel.phases_books import _finance, _learn, _settle
from lepton_env.kernel.phases_market import _compete, _share, _shock
from lepton_env.kernel.phases_moves import (
    _carry_firm,
    _carry_world,
    _claim,
    _fund,
    _move,
    _open_books,
    _research,
    _spend,
)
from lepton_env.kernel.shared import _position_value, _potential, _valuation_terms
from lepton_env.kernel.valid_moves import _region_masks
from lepton_env.rng import Stream


@njit(cache=True)
def _step_env(p: Any, s: Any, b: int, out: Any, o: int, w: Any, known: bool) -> None:
    """One quarter of env ``b`` of ``s``, written to env ``o`` of ``out``: R&D, then region by
    region funding, claims, moves, spends, shocks, competitors, shares and settlement, then
    learning and finance; each phase for every firm (row ``b * F + f``) of the env.

    The phases in the order they run, and their modules (``lepton_env.kernel.``):

    * per firm: ``_open_books`` (KPIs at zero, budget, streams), then ``_research`` (R&D),
      or ``_carry_firm`` for a firm that has left the game: ``phases_moves``;
    * region by region, after ``_carry_world`` (``phases_moves``) and the valuation before
      the quarter (``_potential``, ``_valuation_terms``, ``_position_value``: ``shared``):

      - ``_fund`` (moves and spends checked against the masks and funded), ``_claim``
        (conflicts over scarce targets), ``_move`` (entries, upgrades, exits, diligence),
        ``_spend`` (marketing, localization, compliance): ``phases_moves``;
      - ``_shock`` (laws, closures, suspensions), ``_compete`` (the competitors' reactions,
        ``_react``), ``_share`` (adoption and shares): ``phases_market``;
      - ``_settle`` (revenue, enforcement, partner failure, costs): ``phases_books``;
    * per firm: ``_learn`` (market-fit signals and spillovers), ``_finance`` (cash,
      bankruptcy): ``phases_books``;
    * the new state's firm values (``shared``), valid moves (``_region_masks``:
      ``valid_moves``) and observation (``encode_env``: ``encoding``).

    ``w`` holds the action and the outputs (:class:`~lepton_env.kernel.structs.Work`): the
    KPIs of firm row ``i`` go to column ``i`` of its ``money`` and ``counts``, the new state's
    valid moves and observation to row ``i`` of ``next_valid`` and ``observation``."""
    regions = s.entry_mode.shape[1]
    firms = len(w.firm_index)
    key, quarter = s.episode_key[b], s.quarter[b]
    out.episode_key[o] = key
    out.quarter[o] = quarter + 1
    for f in range(firms):
        i, oi = b * firms + f, o * firms + f
        _open_books(p, s, w, i, f, firms, key, quarter)
        if w.flags[f, _ACTIVE]:
            _research(p, s, w, i, out, oi)
        else:
            _carry_firm(s, i, out, oi)
    law_stream = rng.stream_key(key, quarter, Stream.REGULATORY_SHOCK)
    for r in range(regions):
        potential = _potential(p, s, b, r)
        demand_value, potential_value = _valuation_terms(p, s, b, r)
        _carry_world(s, b, out, o, r)
        contested = False  # a move for a scarce target: an incumbent or a partner
        for f in range(firms):
            i = b * firms + f
            w.flags[f, _MOVE] = _HOLD
            if w.flags[f, _ACTIVE]:
                w.money[_PREVIOUS_FIRM_VALUE, i] += _position_value(
                    p, s, b, i, r, demand_value, potential_value
                )
                _fund(p, s, w, b, i, f, r, potential, demand_value, known)
                move = w.flags[f, _MOVE]
                contested = contested or move == _ACQUISITION or move == _PARTNERSHIP
        if contested:
            _claim(p, s, w, b, r, key, quarter)
        for f in range(firms):
            if w.flags[f, _ACTIVE]:
                i, oi = b * firms + f, o * firms + f
                _move(p, s, b, i, f, r, quarter, out, o, oi, w)
                _spend(p, s, w, i, f, r, out, oi)
        _shock(p, s, w, b, r, out, o, law_stream)
        _compete(p, s, w, b, r, out, o, firms)
        _share(p, s, w, b, r, out, o)
        for f in range(firms):
            if w.flags[f, _ACTIVE]:
                i, oi = b * firms + f, o * firms + f
                _settle(p, s, b, i, f, r, quarter, potential, out, o, oi, w)
    for f in range(firms):
        i, oi = b * firms + f, o * firms + f
        if w.flags[f, _ACTIVE]:
            _learn(p, out, oi, f, w.keys[f, _KEY], quarter, w.precisions, w.served_regions)
            _finance(p, s, w, i, out, oi, firms)
        else:
            w.money[_CASH, i] = s.cash[i]
    # what the faces need of the new state, while its row is in cache
    for r in range(regions):
        demand_value, potential_value = _valuation_terms(p, out, o, r)
        w.potentials[r] = _potential(p, out, o, r)
        for f in range(firms):
            i, oi = b * firms + f, o * firms + f
            w.money[_FIRM_VALUE, i] += _position_value(
                p, out, o, oi, r, demand_value, potential_value
            )
            _region_masks(
                p, out, o, oi, f, firms, r, w.potentials[r], demand_value, w.cost,
                w.next_valid[i, r],
            )  # fmt: skip
    for f in range(firms):
        i = b * firms + f
        encode_env(p, out, o, o * firms + f, f, w.observation, i, w.column, w.potentials)
