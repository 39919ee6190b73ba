"""Plots with matplotlib (imported only here): where memory, parameters and MACs go layer by layer,
and several networks side by side. Colours from matplotlib's colour-blind-safe Tableau palette, with
hatching too, so that they also read in black and white; axes in K, M, G as the tables are."""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

from ..engine import Analysis, collapse
from .numbers import compact

MAX_BARS = 60  # beyond this, blocks are shown as one bar each
MIN_POINTS = 8  # the smallest text a printed plot has: tick labels, names, annotations
STYLE = "tableau-colorblind10"  # matplotlib's colour-blind-safe cycle


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.style.use(STYLE)
    matplotlib.rcParams.update({"svg.hashsalt": "archcalc", "font.size": 8, "hatch.linewidth": 0.6})
    return plt


def _palette(plt) -> list[str]:
    return plt.rcParams["axes.prop_cycle"].by_key()["color"]


def _counts(axis, which: str = "y") -> None:
    """Tick labels in K, M, G (K = 1000), as the table's cells: 290K, 37.7M; no offset text."""
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda value, _: compact(int(value)) if value >= 1 or value == 0 else f"{value:g}")
    (axis.yaxis if which == "y" else axis.xaxis).set_major_formatter(formatter)


def _title(text: str, width_inches: float) -> str:
    """A title wrapped to the figure's width (about 13 characters an inch at 9 pt)."""
    return textwrap.fill(text, width=max(30, int(width_inches * 13)))


PRINT_WIDTH_INCHES = 7.2  # an A4 or Letter page's text width


MAX_DRAWN = 200  # beyond this (a flat 10,000-layer network), consecutive rows share a bar


@dataclass(frozen=True)
class Bar:
    """Consecutive rows drawn as one bar: their sums, named by the first and last."""

    name: str
    memory: int
    params: int
    macs: int


def plottable_rows(analysis: Analysis):
    """Rows to draw: every row, or one per block where there are too many to read; past MAX_DRAWN
    even then, consecutive rows summed into MAX_DRAWN bars, so that drawing stays bounded."""
    rows = analysis.rows
    if len(rows) > MAX_BARS and analysis.blocks:
        rows = collapse(analysis, 0).rows
    rows = [row for row in rows if row.kind != "input"] if len(rows) > 1 else list(rows)
    if len(rows) <= MAX_DRAWN:
        return rows
    size = -(-len(rows) // MAX_DRAWN)
    groups = [rows[start:start + size] for start in range(0, len(rows), size)]
    return [Bar(f"{group[0].name} - {group[-1].name}", sum(r.memory for r in group), sum(r.params for r in group),
                sum(r.macs for r in group)) for group in groups]


def plot_network(analysis: Analysis, path: str | Path) -> None:
    """Three aligned bar charts: output values (memory), parameters and MACs per layer."""
    plt = _pyplot()
    rows = plottable_rows(analysis)
    names = [row.name for row in rows]
    width = PRINT_WIDTH_INCHES  # drawn at the size it prints: fonts are the points they say
    figure, axes = plt.subplots(3, 1, figsize=(width, 3.9), sharex=True)
    colours = _palette(plt)
    series = (("memory (output values)", [row.memory for row in rows], "///"),
              ("parameters", [row.params for row in rows], "..."),
              ("MACs", [row.macs for row in rows], "xx"))
    for number, (axis, (label, values, hatch)) in enumerate(zip(axes, series)):
        axis.bar(range(len(rows)), values, color=colours[number], edgecolor="black", hatch=hatch, linewidth=0.5)
        axis.set_ylabel(label.replace(" (", "\n("), fontsize=MIN_POINTS)
        axis.tick_params(axis="y", labelsize=MIN_POINTS)
        _counts(axis)
        axis.grid(axis="y", color="0.85", linewidth=0.5)
        axis.set_axisbelow(True)
        top = max(range(len(values)), key=values.__getitem__)
        axis.set_ylim(0, max(values[top], 1) * 1.22)  # room for the label above the tallest bar
        axis.annotate(f"most: {names[top]} ({compact(values[top])})", (top, values[top]), xytext=(0, 2),
                      textcoords="offset points", ha="center" if 2 < top < len(rows) - 3 else
                      ("left" if top <= 2 else "right"), va="bottom", fontsize=MIN_POINTS)
    # names at 8 pt, as many as fit side by side (a rotated name is one line high): every n-th past that
    fitting = int(width * 72 * 0.85 / (MIN_POINTS * 1.4))
    every = -(-len(rows) // fitting)
    axes[-1].set_xticks(range(0, len(rows), every))
    axes[-1].set_xticklabels(names[::every], rotation=90, fontsize=MIN_POINTS)
    axes[0].set_title(_title(f"{analysis.spec.title}: where memory, parameters and MACs go", width), fontsize=9)
    figure.tight_layout()
    _save(figure, path)
    plt.close(figure)


def plot_comparison(analyses: list[Analysis], path: str | Path) -> None:
    """Parameters against MACs (log scales), labelled with the top-5 error where the spec records it."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 4.5))
    markers = "osD^vP*X"
    colours = _palette(plt)
    labels = []
    for number, analysis in enumerate(analyses):
        params, macs = analysis.totals.params, analysis.totals.macs
        axis.scatter([params], [macs], marker=markers[number % len(markers)], s=70,
                     facecolor=colours[number % len(colours)], edgecolor="black", linewidth=1.0, zorder=3)
        error = analysis.spec.meta.get("top5_error")
        label = analysis.spec.name + (f"\ntop-5 {error}%" if error is not None else "")
        labels.append(axis.annotate(label, (params, macs), xytext=(6, 4), textcoords="offset points", fontsize=8))
    axis.set_xscale("log")
    axis.set_yscale("log")
    _counts(axis, "x")
    _counts(axis, "y")
    axis.set_xlabel("parameters (log scale)")
    axis.set_ylabel("MACs per image (log scale)")
    axis.set_title("Cost of the networks compared")
    axis.grid(True, which="both", color="0.85", linewidth=0.5)
    axis.margins(0.3)
    figure.tight_layout()
    _spread(figure, labels)
    _save(figure, path)
    plt.close(figure)


def plot_accuracy(analyses: list[Analysis], path: str | Path) -> None:
    """Top-5 error against MACs (log scale), each network a circle whose area grows with its
    parameters: the networks whose specs record an error figure."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(9, 6))
    shown = [a for a in analyses if a.spec.meta.get("top5_error") is not None]
    if not shown:
        from ..errors import ArchcalcError

        raise ArchcalcError("--accuracy: none of these specs records a top-5 error (top5_error in [model])")
    largest = max(a.totals.params for a in shown)
    labels = []
    for analysis in shown:
        macs, error = analysis.totals.macs, analysis.spec.meta["top5_error"]
        axis.scatter([macs], [error], s=30 + 900 * analysis.totals.params / largest, facecolor=_palette(plt)[0],
                     edgecolor="black", linewidth=0.8, alpha=0.6, zorder=3)
        labels.append(axis.annotate(analysis.spec.name, (macs, error), xytext=(5, 3), textcoords="offset points",
                                    fontsize=MIN_POINTS, zorder=5))
    axis.set_xscale("log")
    _counts(axis, "x")
    axis.set_xlabel("MACs per image (log scale)")
    axis.set_ylabel("top-5 error (%)")
    axis.set_title("Accuracy against cost (circle area: parameters)")
    axis.grid(True, which="both", color="0.9", linewidth=0.5)
    figure.tight_layout()
    _spread(figure, labels)
    _save(figure, path)
    plt.close(figure)


PLACES = ((5, 3, "left"), (5, -9, "left"), (-5, 3, "right"), (-5, -9, "right"), (5, 12, "left"),
          (-5, 12, "right"), (5, -18, "left"), (-5, -18, "right"))  # label offsets in points, nearest first


def _spread(figure, labels) -> None:
    """Put each label at the first of a few places beside its point where it overlaps no label placed
    before it (or at the first place, if every one does)."""
    renderer = figure.canvas.get_renderer()
    placed = []
    for label in sorted(labels, key=lambda text: (text.xy[0], text.xy[1])):
        for dx, dy, align in PLACES + PLACES[:1]:
            label.set_position((dx, dy))
            label.set_horizontalalignment(align)
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
        placed.append(label.get_window_extent(renderer))


def _save(figure, path) -> None:
    """PNG or SVG by the file's extension; no dates in the file, so that it only changes with the data."""
    target = Path(path)
    if target.suffix not in (".png", ".svg"):
        from ..errors import ArchcalcError

        raise ArchcalcError(f"cannot write a plot as {target.suffix or 'a file without extension'}: use .png or .svg")
    metadata = {"Date": None} if target.suffix == ".svg" else {"Software": None}
    figure.savefig(target, format=target.suffix[1:], metadata=metadata, dpi=150)
