"""Horizon consistency: does the terminal value pay an end-game move what the game would?

The return of an episode ends at the planning horizon ``H`` with a terminal value
``V_H``: the value of the positions held then. A terminal value the dynamics agree
with pays every move made near the end exactly what that move earns if the game
goes on. This tool checks it by playing the same worlds past the horizon:

* each **deviation** is a base plan with an end-game change (a spend, an R&D level,
  an exit, an upgrade, an entry) in the last ``k`` quarters before ``H``, ``k`` in
  (1, 4, 8); base and deviation are played on the same seeds (paired);
* the **credit** of the deviation is what the return credits it:
  ``sum_{t<=H} delta^(t-H) profit_t + V_H``, deviation minus base;
* the **continuation** plays the same worlds on from quarter ``H`` for
  ``valuation_quarters`` more (the valuation window) under the stated
  continuation policy, and sums ``sum_{t<=H+W} delta^(t-H) profit_t``, deviation
  minus base: what the move is worth when the game goes on.

The continuation policy (the one the terminal value states): hold every position
(no entries, upgrades or exits), no discretionary spend on marketing, localization
or compliance, R&D at the scenario's initial intensity. ``delta = (1 + rate)^(-1/4)``
is the quarterly discount factor of the valuation's cost of capital. Values are in
reward units (``reward_scale`` $M) as of quarter ``H``; the return as of quarter 0 is
``delta^H`` times them, the same for credit and continuation.

A row passes when ``|credit - continuation|`` is within 15 % of ``|continuation|`` or
within 2 standard errors of the paired difference (the bias's own noise). Usage::

    python -m lepton_env.experiments.horizon_check                   # global, 256 seeds
    python -m lepton_env.experiments.horizon_check --seeds 64 --quick
    python -m lepton_env.experiments.horizon_check --markdown        # the docs table
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env import make_params, rng
from lepton_env.core import Action, Model
from lepton_env.params import Params
from lepton_env.state import State
from lepton_env.types import Move

#: the end-game windows: the deviation is made in the last ``k`` quarters before ``H``
WINDOWS = (1, 4, 8)
#: a row passes within this fraction of the continuation's value ...
RELATIVE_TOLERANCE = 0.15
#: ... or within this many standard errors of the paired bias
ERROR_TOLERANCE = 2.0
#: ample cash, so that no plan is refused for funds and no firm goes bankrupt
RICH = 1e5


@dataclass(frozen=True)
class Plan:
    """An open-loop plan: moves by quarter and region, spends and R&D by quarter.

    ``moves[q][r]`` is made where valid (an invalid move is a no-op); ``spends[q]`` are
    the (marketing, localization, compliance) intensities in every present region;
    ``rnd[q]`` the R&D intensity (the scenario's initial one where absent).
    """

    moves: dict[int, dict[int, Move]] = field(default_factory=dict)
    spends: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    rnd: dict[int, float] = field(default_factory=dict)

    def with_moves(self, quarters: Sequence[int], moves: dict[int, Move]) -> Plan:
        planned = {q: dict(m) for q, m in self.moves.items()}
        for quarter in quarters:
            planned.setdefault(quarter, {}).update(moves)
        return Plan(planned, dict(self.spends), dict(self.rnd))

    def with_spends(self, quarters: Sequence[int], spends: tuple[float, float, float]) -> Plan:
        return Plan(self.moves, {**self.spends, **dict.fromkeys(quarters, spends)}, self.rnd)

    def with_rnd(self, quarters: Sequence[int], level: float) -> Plan:
        return Plan(self.moves, self.spends, {**self.rnd, **dict.fromkeys(quarters, level)})


@dataclass(frozen=True)
class Deviation:
    """One row of the table: a base plan and the same plan with an end-game change."""

    family: str
    window: int  # the change is made in the last ``window`` quarters before H
    base: str  # the name of the base plan
    plan: Plan


@dataclass(frozen=True)
class Row:
    """The measured credit and continuation value of one deviation, reward units at H."""

    family: str
    window: int
    base: str
    credit: float
    credit_se: float
    continuation: float
    continuation_se: float
    bias: float  # credit - continuation, mean over seeds
    bias_se: float  # standard error of the paired bias

    @property
    def passes(self) -> bool:
        return abs(self.bias) <= max(
            RELATIVE_TOLERANCE * abs(self.continuation), ERROR_TOLERANCE * self.bias_se
        )


# ---------------------------------------------------------------------- the plans
def base_plans(params: Params) -> dict[str, Plan]:
    """The positions the deviations start from.

    ``home``: the home business only; ``pilots``, ``partnerships``: that mode in every
    foreign region from quarter 0; ``mixed``: the foreign regions cycle through pilot,
    partnership, acquisition and greenfield from quarter 0; ``building``: a greenfield
    entered in every foreign region at ``H - 3``, so that builds are under way at ``H``.
    """
    foreign = _foreign(params)
    modes = (
        Move.ENTER_PILOT,
        Move.ENTER_PARTNERSHIP,
        Move.ENTER_ACQUISITION,
        Move.ENTER_GREENFIELD,
    )
    last = params.horizon - 1
    return {
        "home": Plan(),
        "pilots": Plan({0: dict.fromkeys(foreign, Move.ENTER_PILOT)}),
        "partnerships": Plan({0: dict.fromkeys(foreign, Move.ENTER_PARTNERSHIP)}),
        "mixed": Plan({0: {r: modes[i % len(modes)] for i, r in enumerate(foreign)}}),
        "building": Plan({last - 2: dict.fromkeys(foreign, Move.ENTER_GREENFIELD)}),
    }


def deviations(params: Params, windows: Sequence[int] = WINDOWS) -> list[Deviation]:
    """Every family of end-game deviation, in each window of ``windows``.

    Spends (marketing, localization, compliance at full intensity everywhere) and R&D
    (up to 1, down to 0) run through the whole window on the ``partnerships`` base; a
    move (an exit, an upgrade, an entry) is made once, ``k`` quarters before ``H``.
    """
    plans = base_plans(params)
    foreign = _foreign(params)
    horizon = params.horizon
    rows: list[Deviation] = []

    def every(move: Move) -> dict[int, Move]:
        return dict.fromkeys(foreign, move)

    spends = {"marketing": (1.0, 0.0, 0.0), "localization": (0.0, 1.0, 0.0)}
    spends["compliance"] = (0.0, 0.0, 1.0)
    for k in windows:
        window = list(range(horizon - k, horizon))
        once = [horizon - k]
        base = plans["partnerships"]
        for name, intensities in spends.items():
            rows.append(Deviation(name, k, "partnerships", base.with_spends(window, intensities)))
        rows.append(Deviation("rnd_up", k, "partnerships", base.with_rnd(window, 1.0)))
        rows.append(Deviation("rnd_down", k, "partnerships", base.with_rnd(window, 0.0)))
        for mode in ("pilot", "partnership", "acquisition", "greenfield"):
            mixed = plans["mixed"]
            regions = [r for r, move in mixed.moves[0].items() if move.name.endswith(mode.upper())]
            rows.append(
                Deviation(
                    f"exit_{mode}",
                    k,
                    "mixed",
                    mixed.with_moves(once, dict.fromkeys(regions, Move.EXIT)),
                )
            )
        upgrades = (
            ("pilot", "partnership"),
            ("pilot", "acquisition"),
            ("pilot", "greenfield"),
            ("partnership", "acquisition"),
            ("partnership", "greenfield"),
        )
        for low, high in upgrades:
            move = Move[f"ENTER_{high.upper()}"]
            rows.append(
                Deviation(
                    f"upgrade_{low}_{high}",
                    k,
                    f"{low}s",
                    plans[f"{low}s"].with_moves(once, every(move)),
                )
            )
        for mode in ("pilot", "partnership", "acquisition", "greenfield"):
            move = Move[f"ENTER_{mode.upper()}"]
            rows.append(
                Deviation(f"enter_{mode}", k, "home", plans["home"].with_moves(once, every(move)))
            )
    # a build under way at the horizon: exit it in the last quarter
    rows.append(
        Deviation(
            "exit_building",
            1,
            "building",
            plans["building"].with_moves([horizon - 1], every(Move.EXIT)),
        )
    )
    return rows


def _foreign(params: Params) -> list[int]:
    return [r for r in range(params.num_regions) if r != params.home_region]


# ---------------------------------------------------------------------- playing
@dataclass(frozen=True)
class _Schedule:
    """The plans as arrays over the batch: rows are (plan, seed) pairs, plan-major."""

    moves: NDArray[np.int8]  # (P, H, R)
    spends: NDArray[np.float32]  # (P, H, 3, R)
    rnd: NDArray[np.float32]  # (P, H)

    @staticmethod
    def of(plans: Sequence[Plan], params: Params) -> _Schedule:
        count, horizon, regions = len(plans), params.horizon, params.num_regions
        moves = np.zeros((count, horizon, regions), dtype=np.int8)
        spends = np.zeros((count, horizon, 3, regions), dtype=np.float32)
        rnd = np.full((count, horizon), params.initial_rnd, dtype=np.float32)
        for i, plan in enumerate(plans):
            for quarter, by_region in plan.moves.items():
                for region, move in by_region.items():
                    moves[i, quarter, region] = int(move)
            for quarter, intensities in plan.spends.items():
                spends[i, quarter] = np.asarray(intensities, dtype=np.float32)[:, None]
            for quarter, level in plan.rnd.items():
                rnd[i, quarter] = level
        return _Schedule(moves, spends, rnd)

    def action(self, quarter: int, seeds: int) -> Action:
        moves = np.repeat(self.moves[:, quarter], seeds, axis=0)
        spends = np.repeat(self.spends[:, quarter], seeds, axis=0)
        return Action(
            moves=moves,
            marketing=np.ascontiguousarray(spends[:, 0]),
            localization=np.ascontiguousarray(spends[:, 1]),
            compliance=np.ascontiguousarray(spends[:, 2]),
            rnd=np.repeat(self.rnd[:, quarter], seeds),
        )


def continuation_action(params: Params, batch: int) -> Action:
    """The stated continuation policy: hold, no discretionary spend, initial R&D."""
    hold = Action.hold(batch, params.num_regions)
    return Action(
        hold.moves,
        hold.marketing,
        hold.localization,
        hold.compliance,
        np.full(batch, params.initial_rnd, dtype=np.float32),
    )


def terminal_value(kpis: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
    """The value the return credits at the horizon, $M, from the horizon step's KPIs (a
    checkout before the terminal value existed paid the book value ``firm_value``)."""
    name = "terminal_value" if "terminal_value" in kpis else "firm_value"
    return np.asarray(kpis[name], dtype=np.float64)


#: ``(model, state at H, the horizon step's KPIs) -> terminal value ($M) per row``: an
#: alternative valuation to check (the default reads the KPI ``terminal_value``)
TerminalValue = Callable[[Model, State, dict[str, NDArray[Any]]], NDArray[np.float64]]


def book_value(model: Model, state: State, kpis: dict[str, NDArray[Any]]) -> NDArray[np.float64]:
    """The book value of the positions (KPI ``firm_value``: each share held for the window
    at its margin, :mod:`lepton_env.mechanisms.valuation`), the terminal value before
    issue 21: ``check(..., terminal=book_value)`` shows what the check rejects."""
    return np.asarray(kpis["firm_value"], dtype=np.float64)


def play(
    plans: Sequence[Plan],
    params: Params,
    seeds: Sequence[int],
    terminal: TerminalValue | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(credited, continued)``, (P, n) each: each plan's value at ``H`` (reward units) with
    the terminal value, and with the continuation played for ``valuation_quarters``."""
    horizon, window = params.horizon, params.valuation_quarters
    delta = (1.0 + params.discount_rate) ** -0.25
    extended = Model(params.replace(horizon=horizon + window))
    model = Model(params)
    count, n = len(plans), len(seeds)
    schedule = _Schedule.of(plans, params)
    keys = np.tile(rng.episode_key(np.asarray(seeds, dtype=np.uint64), params.seed_offset), count)
    state = model.reset(keys)
    in_horizon = np.zeros(count * n)
    for quarter in range(horizon):
        out = model.step(state, schedule.action(quarter, n))
        state = out.state
        in_horizon += delta ** (quarter + 1 - horizon) * out.kpis["profit"]
    credited = in_horizon + (
        terminal_value(out.kpis) if terminal is None else terminal(model, state, out.kpis)
    )
    continued = in_horizon.copy()
    hold = continuation_action(params, count * n)
    for k in range(1, window + 1):
        out = extended.step(state, hold)
        state = out.state
        continued += delta**k * out.kpis["profit"]
    scale = params.reward_scale
    return (credited / scale).reshape(count, n), (continued / scale).reshape(count, n)


def _se(values: NDArray[np.float64]) -> float:
    return float(values.std(ddof=1) / np.sqrt(values.size))


def check(
    scenario: str = "global",
    seeds: Sequence[int] = tuple(range(256)),
    windows: Sequence[int] = WINDOWS,
    families: Sequence[str] | None = None,
    terminal: TerminalValue | None = None,
    **overrides: Any,
) -> list[Row]:
    """The table's rows for ``scenario`` (with ``overrides`` of its parameters; ample cash
    unless ``initial_cash`` is given)."""
    params = make_params(scenario, **{"initial_cash": RICH, **overrides})
    chosen = [d for d in deviations(params, windows) if families is None or d.family in families]
    bases = base_plans(params)
    used = sorted({d.base for d in chosen})
    plans = [bases[name] for name in used] + [d.plan for d in chosen]
    credited, continued = play(plans, params, seeds, terminal)
    index = {name: i for i, name in enumerate(used)}
    rows = []
    for j, deviation in enumerate(chosen, start=len(used)):
        b = index[deviation.base]
        credit = credited[j] - credited[b]
        truth = continued[j] - continued[b]
        bias = credit - truth
        rows.append(
            Row(
                deviation.family,
                deviation.window,
                deviation.base,
                float(credit.mean()),
                _se(credit),
                float(truth.mean()),
                _se(truth),
                float(bias.mean()),
                _se(bias),
            )
        )
    return rows


def format_table(rows: Sequence[Row], markdown: bool = False) -> str:
    """The rows as a text (or markdown) table."""
    header = ("family", "k", "base", "credit", "continuation", "bias", "ok")
    lines = []
    for row in rows:
        lines.append(
            (
                row.family,
                str(row.window),
                row.base,
                f"{row.credit:+.3f} ({row.credit_se:.3f})",
                f"{row.continuation:+.3f} ({row.continuation_se:.3f})",
                f"{row.bias:+.3f} ({row.bias_se:.3f})",
                "yes" if row.passes else "NO",
            )
        )
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="global")
    parser.add_argument("--seeds", type=int, default=256, help="paired seeds per row (>= 2)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--windows", type=int, nargs="+", default=list(WINDOWS))
    parser.add_argument("--families", nargs="+", default=None, help="only these families")
    parser.add_argument("--markdown", action="store_true", help="a markdown table")
    parser.add_argument("--output", default=None, help="write the rows as JSON here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    seeds = tuple(range(args.first_seed, args.first_seed + args.seeds))
    rows = check(args.scenario, seeds, args.windows, args.families)
    print(format_table(rows, markdown=args.markdown))
    failing = sum(not row.passes for row in rows)
    print(
        f"\n{args.scenario}, {len(seeds)} seeds, {len(rows)} rows, {failing} outside the "
        f"tolerance; {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    if args.output:
        with open(args.output, "w") as handle:
            json.dump([{**asdict(row), "passes": row.passes} for row in rows], handle, indent=1)
    return rows


if __name__ == "__main__":
    main()
