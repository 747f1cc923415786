"""Report charts as PNG (matplotlib, Agg): weekly tickets, SLA trend, scores, fault types.

Drawing is CPU work, so the async entry points run it in a thread. Figures are made with
`matplotlib.figure.Figure` directly (no pyplot global state), which is safe off the main
thread. Chinese labels need a CJK font (e.g. Debian's fonts-noto-cjk); where none is
installed the charts are labelled in English rather than with empty boxes.
"""

from __future__ import annotations

import asyncio
import functools
import io
import math
import threading
import warnings
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from handlers.flows.reporting.figures import PRIORITIES, Figures
from handlers.flows.reporting.rates import Rate
from handlers.flows.reporting.render import Labels

if TYPE_CHECKING:  # matplotlib is imported when a chart is drawn: it costs ~40 MB and 0.2 s
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure as MplFigure

_DRAWING = threading.Lock()

NAMES = ("weekly", "sla", "satisfaction", "fault_types")
WIDE, NARROW = (7.0, 4.0), (4.4, 3.4)  # inches at 100 dpi
CJK_FONTS = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC", "SimHei",
             "DejaVu Sans"]


def _places(ax: Axes, labels: list[str]) -> list[int]:
    """x positions for labels such as "11-30" or "5": given as strings, matplotlib guesses
    whether they are numbers or dates (and logs that it guessed) before taking them as
    categories; positions with tick labels say so outright."""
    places = list(range(len(labels)))
    ax.set_xticks(places, labels)
    return places


def _weekly(ax: Axes, fig: Figures, lb: Labels) -> bool:
    weeks = _places(ax, [f"{w.start:%m-%d}" for w in fig.weeks])
    bottom = [0] * len(fig.weeks)
    for p in PRIORITIES:
        counts = [w.by_priority[p] for w in fig.weeks]
        ax.bar(weeks, counts, bottom=bottom, label=p)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_xlabel(lb("chart_week"))
    ax.set_ylabel(lb("chart_count"))
    _count_axis(ax, "y", max(bottom, default=0))
    if any(bottom):
        ax.legend(fontsize="small")
    return any(bottom)


def _count_axis(ax: Axes, which: str, most: float) -> None:
    """Counts on the x or y axis: whole-number ticks from 0. With nothing to count,
    matplotlib would centre the axis on 0 (−0.045…0.045); 0…1 reads as "none" instead."""
    from matplotlib.ticker import MaxNLocator

    top = most * 1.05 if most > 0 else 1
    if which == "y":
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(0, top)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(0, top)


def _pct(rate: Rate) -> float:
    """A week with nothing due is a gap in the line, not a 0 % point."""
    return math.nan if rate.percent is None else rate.percent


def _sla(ax: Axes, fig: Figures, lb: Labels) -> bool:
    weeks = _places(ax, [f"{w.start:%m-%d}" for w in fig.weeks])
    ax.plot(weeks, [_pct(w.response) for w in fig.weeks], marker="o", label=lb("timeliness"))
    ax.plot(weeks, [_pct(w.resolution) for w in fig.weeks], marker="s", label=lb("resolution"))
    for target in {fig.response.target, fig.resolution.target} - {None}:
        ax.axhline(100 * (target or 0), linestyle="--", color="grey", linewidth=0.8)
    ax.set_ylim(0, 105)
    ax.set_xlim(-0.5, len(weeks) - 0.5)  # weeks with no point still get their place
    ax.set_ylabel("%")
    drawn = any(w.response.percent is not None or w.resolution.percent is not None
                for w in fig.weeks)
    if drawn:
        ax.legend(fontsize="small")
    return drawn


def _satisfaction(ax: Axes, fig: Figures, lb: Labels) -> bool:
    ax.bar(_places(ax, [str(s) for s in fig.scores]), list(fig.scores.values()),
           color="tab:green")
    _count_axis(ax, "y", max(fig.scores.values(), default=0))
    ax.set_xlabel(lb("scores"))
    ax.set_ylabel(lb("chart_count"))
    return any(fig.scores.values())


def _fault_types(ax: Axes, fig: Figures, lb: Labels) -> bool:
    names = [lb.name("fault_type", k) for k in fig.by_fault_type]
    ax.barh(names or ["-"], list(fig.by_fault_type.values()) or [0], color="tab:orange")
    _count_axis(ax, "x", max(fig.by_fault_type.values(), default=0))
    ax.set_xlabel(lb("chart_count"))
    if not fig.by_fault_type:
        ax.set_yticks([])  # no fault type to name: not a lone "-"
    return any(fig.by_fault_type.values())


# Each draws one chart on `ax` and says whether the period had anything to show in it.
DRAW: dict[str, Callable[[Axes, Figures, Labels], bool]] = {
    "weekly": _weekly, "sla": _sla, "satisfaction": _satisfaction, "fault_types": _fault_types,
}


@functools.cache
def has_cjk_font() -> bool:
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return any(name in installed for name in CJK_FONTS[:-1])


def readable(lb: Labels) -> Labels:
    """Chinese labels only where a font can show them; otherwise English (not empty boxes)."""
    return lb if lb.lang != "zh" or has_cjk_font() else replace(lb, lang="en")


def draw(fig: Figures, lb: Labels, name: str, narrow: bool = False) -> MplFigure:
    """One chart as a matplotlib figure; a period with nothing to show says so across it.
    `narrow` is for phones: fewer pixels across, so the same lettering is not shrunk away."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=NARROW if narrow else WIDE, dpi=100)
    ax = figure.add_subplot()
    if not DRAW[name](ax, fig, lb):
        ax.text(0.5, 0.5, lb("chart.no_data"), transform=ax.transAxes, ha="center",
                va="center", fontsize="large", color="dimgrey",
                bbox={"facecolor": "white", "edgecolor": "lightgrey", "boxstyle": "round"})
    ax.set_title(lb(f"chart_{name}"))
    return figure


def png(fig: Figures, lb: Labels, name: str, narrow: bool = False) -> bytes:
    """One chart as PNG bytes (blocking: call through `png_async` from the event loop)."""
    lb = readable(lb)
    from matplotlib import rc_context

    # rcParams and warning filters are process-global: one drawing at a time.
    with _DRAWING, warnings.catch_warnings(), rc_context({"font.sans-serif": CJK_FONTS}):
        warnings.simplefilter("ignore")  # missing CJK glyphs: the chart is still useful
        figure = draw(fig, lb, name, narrow)
        figure.tight_layout()
        buf = io.BytesIO()
        figure.savefig(buf, format="png")
    return buf.getvalue()


def write(fig: Figures, lb: Labels, folder: Path) -> dict[str, Path]:
    """All charts into `folder` as <name>.png; returns name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for name in NAMES:
        path = folder / f"{name}.png"
        path.write_bytes(png(fig, lb, name))
        out[name] = path
    return out


async def png_async(fig: Figures, lb: Labels, name: str, narrow: bool = False) -> bytes:
    return await asyncio.to_thread(png, fig, lb, name, narrow)


async def write_async(fig: Figures, lb: Labels, folder: Path) -> dict[str, Path]:
    return await asyncio.to_thread(write, fig, lb, folder)
