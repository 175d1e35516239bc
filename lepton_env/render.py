"""Rendering: an ``ansi`` table of the regions and an ``rgb_array`` figure.

The figure shows presence and market share by region (bars coloured by entry
mode) and the cash path of the episode so far.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from lepton_env.params import Params
from lepton_env.state import State
from lepton_env.types import EntryMode

MODE_COLOURS = {
    EntryMode.NONE: "#d0d0d0",
    EntryMode.PILOT: "#9ecae1",
    EntryMode.PARTNERSHIP: "#fdae6b",
    EntryMode.ACQUISITION: "#e6550d",
    EntryMode.GREENFIELD: "#31a354",
}


def _status(state: State, row: int, region: int) -> str:
    flags = []
    if state.build_quarters[row, region] > 0:
        flags.append(f"building {state.build_quarters[row, region]}q")
    if state.suspended_quarters[row, region] > 0:
        flags.append(f"suspended {state.suspended_quarters[row, region]}q")
    if state.closed_quarters[row, region] > 0:
        flags.append(f"closed {state.closed_quarters[row, region]}q")
    return ", ".join(flags)


def ansi(state: State, params: Params, row: int = 0) -> str:
    """A text table of one environment of the batch."""
    header = (
        f"Quarter {int(state.quarter[row])}/{params.horizon}   cash ${state.cash[row]:,.1f}M   "
        f"quality {state.product_quality[row]:.2f}   R&D {state.rnd_intensity[row]:.2f}\n"
    )
    lines = [
        f"{'region':<16}{'mode':<12}{'share':>7}{'rivals':>8}{'brand':>7}{'local':>7}"
        f"{'comply':>8}{'strict':>8}  status"
    ]
    for r, name in enumerate(params.region_names):
        mode = EntryMode(int(state.entry_mode[row, r])).name.lower()
        lines.append(
            f"{name:<16}{mode:<12}{state.firm_share[row, r]:>7.3f}"
            f"{state.competitor_share[row, r].sum():>8.3f}{state.brand[row, r]:>7.2f}"
            f"{state.localization[row, r]:>7.2f}{state.compliance[row, r]:>8.2f}"
            f"{state.stringency[row, r]:>8.2f}  {_status(state, row, r)}"
        )
    return header + "\n".join(lines) + "\n"


def rgb_array(
    state: State, params: Params, cash_history: list[float], row: int = 0
) -> NDArray[np.uint8]:
    """An (H, W, 3) image: share by region coloured by mode, and the cash path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = render_figure(state, params, cash_history, row)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def render_figure(state: State, params: Params, cash_history: list[float], row: int = 0) -> Any:
    """The matplotlib ``Figure`` behind :func:`rgb_array` (not yet drawn)."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    figure = Figure(figsize=(9, 4), dpi=80)
    share_axes, cash_axes = figure.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    modes = state.entry_mode[row]
    colours = [MODE_COLOURS[EntryMode(int(m))] for m in modes]
    positions = np.arange(params.num_regions)
    share_axes.bar(positions, state.firm_share[row], color=colours, edgecolor="black")
    share_axes.set_xticks(positions, [n.replace("_", "\n") for n in params.region_names])
    share_axes.tick_params(axis="x", labelsize=7)
    share_axes.set_ylim(0, max(0.5, float(state.firm_share[row].max()) * 1.2))
    share_axes.set_ylabel("firm market share")
    share_axes.set_title(f"Presence by region, quarter {int(state.quarter[row])}")
    # The modes' legend sits in a row above both panels, clear of any bar however tall.
    figure.legend(
        handles=[Patch(color=c, label=m.name.lower()) for m, c in MODE_COLOURS.items()],
        fontsize=7,
        loc="upper center",
        ncol=len(MODE_COLOURS),
        frameon=False,
    )
    cash_axes.plot(np.arange(len(cash_history)), cash_history, color="#3182bd")
    cash_axes.axhline(-params.credit_line, color="#de2d26", linestyle="--", label="credit line")
    cash_axes.set_xlabel("quarter")
    cash_axes.set_ylabel("cash ($M)")
    cash_axes.set_title("Cash")
    cash_axes.legend(fontsize=7)
    figure.tight_layout(rect=(0.0, 0.0, 1.0, 0.93))
    return figure
