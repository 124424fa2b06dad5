"""Server-side SVG charts for the supervisor dashboard, drawn with matplotlib.

Why matplotlib and SVG: a well-kept library installed as a package
(requirements), no JavaScript bundle to vendor, and the picture is part of
the HTML response, so it prints, archives and works offline. Figures are
built with the object-oriented ``Figure`` API on the Agg backend (no pyplot
global state, so concurrent requests cannot draw into each other's figure)
and serialised to an SVG string that the template embeds as is.

Text is kept as SVG text (``svg.fonttype = none``) so the browser renders
names in any script (Chinese collector names included) with its own fonts.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Sequence
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")

from matplotlib import rcParams  # noqa: E402  (after choosing the backend)
from matplotlib.figure import Figure  # noqa: E402

rcParams["svg.fonttype"] = "none"
rcParams["svg.hashsalt"] = "ledgerline"  # stable element ids: same data, same SVG

ACCENT = "#417690"  # Django admin's header blue
MUTED = "#79aec8"
GRID = "#dddddd"


def _to_svg(fig: Figure) -> str:
    buffer = io.StringIO()
    with warnings.catch_warnings():
        # Measuring CJK labels with the default font warns about missing
        # glyphs; the browser draws them with its own fonts anyway.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    # Drop the XML prolog and DOCTYPE: the SVG is inlined into HTML.
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def _figure(width: float = 7.0, height: float = 3.0) -> tuple[Figure, object]:
    fig = Figure(figsize=(width, height), dpi=96)
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _empty(fig: Figure, ax, title: str) -> str:
    ax.set_axis_off()
    ax.text(0.5, 0.5, "no data", ha="center", va="center", color="#999999", transform=ax.transAxes)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    return _to_svg(fig)


def _floats(values: Sequence[Decimal | int | float | None]) -> list[float]:
    return [float(v) if v is not None else 0.0 for v in values]


def bar_chart(
    labels: Sequence[str], values: Sequence, *, title: str = "", ylabel: str = "", percent: bool = False
) -> str:
    """A vertical bar chart as an SVG string."""
    fig, ax = _figure()
    if not labels:
        return _empty(fig, ax, title)
    heights = _floats(values)
    if percent:
        heights = [h * 100 for h in heights]
        ax.set_ylim(0, max([100.0, *heights]))
    ax.bar([str(label) for label in labels], heights, color=ACCENT)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    if ylabel:
        ax.set_ylabel(ylabel)
    if len(labels) > 8:
        ax.tick_params(axis="x", labelrotation=45)
    return _to_svg(fig)


def daily_chart(days: Sequence, values: Sequence, *, title: str = "", ylabel: str = "") -> str:
    """Amounts per day: bars for each day, a line for the running total."""
    fig, ax = _figure(7.5, 3.0)
    amounts = _floats(values)
    ax.bar(list(days), amounts, color=ACCENT, width=0.8, label=ylabel or None)
    running, total = [], 0.0
    for amount in amounts:
        total += amount
        running.append(total)
    twin = ax.twinx()
    twin.plot(list(days), running, color=MUTED, linewidth=1.5)
    twin.spines[["top"]].set_visible(False)
    twin.set_ylim(bottom=0)
    ax.set_ylim(bottom=0)
    fig.autofmt_xdate()
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    if ylabel:
        ax.set_ylabel(ylabel)
    return _to_svg(fig)


def matrix_chart(
    rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence], *, title: str = ""
) -> str:
    """A heat map of rates (0–1) with the percentage written in each cell."""
    fig = Figure(figsize=(max(4.0, 0.75 * len(columns) + 1.5), max(2.0, 0.5 * len(rows) + 1.2)), dpi=96)
    ax = fig.add_subplot()
    data = [[float(v) if v is not None else 0.0 for v in row] for row in cells]
    ax.imshow(data, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(columns)), [str(c) for c in columns])
    ax.set_yticks(range(len(rows)), [str(r) for r in rows])
    ax.set_xlabel("end of period")
    ax.set_ylabel("start of period")
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    for y, row in enumerate(cells):
        for x, value in enumerate(row):
            if value:
                ax.text(
                    x,
                    y,
                    f"{float(value) * 100:.0f}%",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if float(value) > 0.6 else "black",
                )
    if title:
        ax.set_title(title, loc="left", fontsize=11, pad=24)
    return _to_svg(fig)
