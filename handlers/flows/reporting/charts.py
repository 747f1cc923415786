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

_DRAWING = threading.Lock()

NAMES = ("weekly", "sla", "satisfaction", "fault_types")
CJK_FONTS = ["Noto Sans CJK SC", "WenQuanYi Zen Hei", "Source Han Sans SC", "SimHei",
             "DejaVu Sans"]


def _weekly(ax: Axes, fig: Figures, lb: Labels) -> None:
    labels = [f"{w.start:%m-%d}" for w in fig.weeks]
    bottom = [0] * len(fig.weeks)
    for p in PRIORITIES:
        counts = [w.by_priority[p] for w in fig.weeks]
        ax.bar(labels, counts, bottom=bottom, label=p)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set_xlabel(lb("chart_week"))
    ax.set_ylabel(lb("chart_count"))
    ax.yaxis.set_major_locator(_integer_ticks())
    ax.legend()


def _integer_ticks():  # type: ignore[no-untyped-def]
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _pct(rate: Rate) -> float:
    """A week with nothing due is a gap in the line, not a 0 % point."""
    return math.nan if rate.percent is None else rate.percent


def _sla(ax: Axes, fig: Figures, lb: Labels) -> None:
    labels = [f"{w.start:%m-%d}" for w in fig.weeks]
    ax.plot(labels, [_pct(w.response) for w in fig.weeks], marker="o", label=lb("timeliness"))
    ax.plot(labels, [_pct(w.resolution) for w in fig.weeks], marker="s", label=lb("resolution"))
    for target in {fig.response.target, fig.resolution.target} - {None}:
        ax.axhline(100 * (target or 0), linestyle="--", color="grey", linewidth=0.8)
    ax.set_ylim(0, 105)
    ax.set_ylabel("%")
    ax.legend(fontsize="small")


def _satisfaction(ax: Axes, fig: Figures, lb: Labels) -> None:
    ax.bar([str(s) for s in fig.scores], list(fig.scores.values()), color="tab:green")
    ax.yaxis.set_major_locator(_integer_ticks())
    ax.set_xlabel(lb("scores"))
    ax.set_ylabel(lb("chart_count"))


def _fault_types(ax: Axes, fig: Figures, lb: Labels) -> None:
    names = [lb.name("fault_type", k) for k in fig.by_fault_type]
    ax.barh(names or ["-"], list(fig.by_fault_type.values()) or [0], color="tab:orange")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_xlabel(lb("chart_count"))


DRAW: dict[str, Callable[[Axes, Figures, Labels], None]] = {
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


def png(fig: Figures, lb: Labels, name: str) -> bytes:
    """One chart as PNG bytes (blocking: call through `png_async` from the event loop)."""
    lb = readable(lb)
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), dpi=100)
    ax = figure.add_subplot()
    # rcParams and warning filters are process-global: one drawing at a time.
    with _DRAWING, warnings.catch_warnings(), rc_context({"font.sans-serif": CJK_FONTS}):
        warnings.simplefilter("ignore")  # missing CJK glyphs: the chart is still useful
        DRAW[name](ax, fig, lb)
        ax.set_title(lb(f"chart_{name}"))
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


async def png_async(fig: Figures, lb: Labels, name: str) -> bytes:
    return await asyncio.to_thread(png, fig, lb, name)


async def write_async(fig: Figures, lb: Labels, folder: Path) -> dict[str, Path]:
    return await asyncio.to_thread(write, fig, lb, folder)
