"""Server-side SVG charts for the supervisor dashboard, drawn with matplotlib.

Why matplotlib and SVG: a well-kept library installed as a package
(requirements), no JavaScript bundle to vendor, and the picture is part of
the HTML response, so it prints, archives and works offline. Figures are
built with the object-oriented ``Figure`` API on the Agg backend (no pyplot
global state, so concurrent requests cannot draw into each other's figure)
and serialised to an SVG string that the template embeds as is.

Text is kept as SVG text (``svg.fonttype = none``) so the browser renders
names in any script (Chinese collector names included) with its own fonts.

Matplotlib writes its colours and fonts as ``style="…"`` attributes and one
``<style>`` element. The Content-Security-Policy (``settings``) refuses
inline styles, so ``_to_svg`` rewrites them as SVG presentation attributes
(``fill="#417690"``), which are markup, not CSS, and need no exception in
the policy.
"""

from __future__ import annotations

import io
import re
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


# SVG 1.1 presentation attributes: the properties that may be written as
# plain attributes. Anything else stays in ``style`` (and the CSP ignores it).
PRESENTATION_ATTRIBUTES = frozenset(
    {
        "alignment-baseline", "baseline-shift", "clip", "clip-path", "clip-rule", "color",
        "color-interpolation", "color-interpolation-filters", "color-rendering", "cursor", "direction",
        "display", "dominant-baseline", "fill", "fill-opacity", "fill-rule", "filter", "flood-color",
        "flood-opacity", "font-family", "font-size", "font-size-adjust", "font-stretch", "font-style",
        "font-variant", "font-weight", "image-rendering", "letter-spacing", "lighting-color",
        "marker-end", "marker-mid", "marker-start", "mask", "opacity", "overflow", "pointer-events",
        "shape-rendering", "stop-color", "stop-opacity", "stroke", "stroke-dasharray",
        "stroke-dashoffset", "stroke-linecap", "stroke-linejoin", "stroke-miterlimit",
        "stroke-opacity", "stroke-width", "text-anchor", "text-decoration", "text-rendering",
        "unicode-bidi", "visibility", "word-spacing", "writing-mode",
    }
)  # fmt: skip
_TAG_WITH_STYLE = re.compile(r'<[a-zA-Z][^<>]*?\sstyle="[^"]*"[^<>]*>')
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')
# Matplotlib's one style sheet: ``*{stroke-linejoin: round; stroke-linecap: butt}``.
_UNIVERSAL_STYLE_ELEMENT = re.compile(r'\s*<style type="text/css">\*\{([^{}<]*)\}</style>')


def _declarations(css: str) -> list[tuple[str, str]]:
    pairs = []
    for declaration in css.split(";"):
        name, colon, value = declaration.partition(":")
        if colon and name.strip() and value.strip():
            pairs.append((name.strip().lower(), value.strip()))
    return pairs


def _with_attributes(tag: str, css: str) -> str:
    """``tag`` (one start tag, without its style attribute) with the
    declarations of ``css`` as presentation attributes; a declaration
    replaces an attribute of the same name, as CSS would override it."""
    rest = []
    for name, value in _declarations(css):
        if name not in PRESENTATION_ATTRIBUTES:
            rest.append(f"{name}: {value}")
            continue
        tag = re.sub(rf'\s{re.escape(name)}="[^"]*"', "", tag)
        end = -2 if tag.endswith("/>") else -1
        tag = f'{tag[:end]} {name}="{value}"{tag[end:]}'
    if rest:
        end = -2 if tag.endswith("/>") else -1
        tag = f'{tag[:end]} style="{"; ".join(rest)}"{tag[end:]}'
    return tag


def _without_inline_css(svg: str) -> str:
    """The SVG with style attributes and matplotlib's universal style rule
    turned into presentation attributes (on the root for the rule: the two
    properties it sets are inherited)."""
    universal = _UNIVERSAL_STYLE_ELEMENT.search(svg)
    if universal:
        svg = svg[: universal.start()] + svg[universal.end() :]
        root = re.search(r"<svg\b[^<>]*>", svg)
        if root:
            rooted = _with_attributes(root.group(0), universal.group(1))
            svg = svg[: root.start()] + rooted + svg[root.end() :]

    def rewrite(match: re.Match) -> str:
        tag = match.group(0)
        css = _STYLE_ATTRIBUTE.search(tag).group(1)
        return _with_attributes(_STYLE_ATTRIBUTE.sub("", tag, count=1), css)

    return _TAG_WITH_STYLE.sub(rewrite, svg)


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
    return _without_inline_css(svg[start:] if start >= 0 else svg)


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
