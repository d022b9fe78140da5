"""A report table drawn as an SVG chart (pygal), for the page and the annual report PDF.

The page's CSP forbids inline ``<svg>`` styles and any script, so a chart travels as an
``<img src="data:image/svg+xml;base64,…">`` (``data_uri``): the SVG must then stand alone, with
no script (pygal always writes one: it is removed) and nothing fetched from the network.
Colours differ in lightness and lines in dash pattern, so a chart printed in grey stays
readable.
"""

from __future__ import annotations

import base64
import math
import sys

import pygal
from pygal.style import Style

from ..core.templating import number_fr
from .model import Table

# pygal appends to sys.meta_path a finder for its map plugins (unused here) that lacks
# find_spec(): every later import that misses, such as an optional dependency probed in a
# try block, then raises an ImportWarning, an error under the test suite's warning filter.
sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, pygal.PluginImportFixer)]

WIDTH, HEIGHT = 800, 360
FONT = '"DejaVu Sans", Verdana, Arial, sans-serif'
# Alternating dark and light tones: neighbouring series stay apart in grey print too.
PALETTE = (
    "#1f4e79",  # dark blue
    "#f0a830",  # amber
    "#6b6b6b",  # grey
    "#9cc3e5",  # light blue
    "#8c3b12",  # brown
    "#d9d9d9",  # light grey
    "#2e6b30",  # dark green
    "#f5d76e",  # pale yellow
    "#5b2a6e",  # plum
    "#b6d7a8",  # pale green
)
# Lines of a « line » chart, series after series: plain, dashed, dotted, dash-dot.
DASHES = (None, "9, 5", "2, 4", "10, 4, 2, 4")
# At most this many x labels are written; beyond, one in two or three is shown.
MAX_X_LABELS = 24
# An x label wider than this (characters) is cut with « … »: organ names can be long.
MAX_LABEL_CHARACTERS = 22
LEGEND_COLUMNS = 4
# What one character of a 13 px legend takes; an entry is cut with « … » to fit its column.
LEGEND_CHARACTER_PX = 8
LEGEND_ROW_PX = 20
MARGIN = 12
# Roughly what one character of a 12 px label takes, and the width the plot gets.
CHARACTER_PX = 7.2
PLOT_PX = 680
# What pygal writes for its own script (the script, and the tooltip data of every point).
UNUSED = {"script", "desc"}

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#222222",
    foreground_strong="#000000",
    foreground_subtle="#8a8a8a",
    guide_stroke_color="#b0b0b0",
    major_guide_stroke_color="#8a8a8a",
    font_family=FONT,
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    value_font_size=11,
    title_font_size=14,
    no_data_font_size=20,
    opacity="1",
    opacity_hover="1",
    stroke_opacity="1",
    stroke_opacity_hover="1",
    stroke_width="2.5",
    stroke_width_hover="2.5",
    transition="0ms",
    colors=PALETTE,
)


def svg(table: Table) -> str | None:
    """The table as a standalone SVG document, or None when it is not drawn (no chart kind,
    no row, or no series: no organ had a case)."""
    if table.chart is None or not table.rows or len(table.columns) < 2:
        return None
    chart = _chart(table)
    chart.x_labels = [_label(row[0]) for row in table.rows]
    for index, name in enumerate(table.columns[1:], start=1):
        chart.add(name, [_number(row[index]) for row in table.rows], **_series_style(table, index))
    chart.add_xml_filter(_standalone(table))
    return chart.render(is_unicode=True)


def data_uri(svg_text: str) -> str:
    """What an ``<img src>`` accepts under ``img-src 'self' data:``."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode()).decode("ascii")


def _chart(table: Table):
    kind = {"bar": pygal.Bar, "stacked": pygal.StackedBar, "line": pygal.Line}[table.chart]
    percent = table.unit == "%"
    chart = kind(
        style=STYLE,
        width=WIDTH,
        height=HEIGHT,
        explicit_size=True,
        js=[],
        legend_at_bottom=True,
        truncate_label=MAX_LABEL_CHARACTERS,
        value_formatter=_value_formatter(table.unit),
        no_data_text="Aucune donnée",
        print_values=False,
        show_x_guides=False,
        margin=MARGIN,
        spacing=8,
        dots_size=3,
        allow_interruptions=True,
        **_legend(len(table.columns) - 1),
        **_x_axis(len(table.rows), max(len(_label(row[0])) for row in table.rows)),
    )
    if percent:
        chart.range = (0, 100)
        chart.y_labels = list(range(0, 101, 20))
    else:
        chart.y_labels = _integer_ticks(_highest(table)) if _whole_numbers(table) else None
    return chart


def _x_axis(count: int, longest: int) -> dict:
    """Every label when they fit; otherwise rotated, and one in two or three shown when many
    (a five-year monthly table keeps twenty labels)."""
    every = max(1, math.ceil(count / MAX_X_LABELS))
    shown = math.ceil(count / every)
    fits = shown * min(longest, MAX_LABEL_CHARACTERS) * CHARACTER_PX <= PLOT_PX
    options = {"x_label_rotation": 0 if fits else 40}
    if every > 1:
        options |= {"x_labels_major_every": every, "show_minor_x_labels": False}
    return options


def _legend(series: int) -> dict:
    """Up to four legend entries a row under the plot, each cut to fit its column.

    pygal reserves ``series // columns`` rows, one too few when the last row is partial (nine
    organs in rows of four): the margin gets that row back."""
    columns = min(series, LEGEND_COLUMNS)
    missing_rows = math.ceil(series / columns) - series // columns
    column_px = (WIDTH - 2 * MARGIN) / columns
    return {
        "legend_at_bottom_columns": columns,
        "truncate_legend": int(column_px / LEGEND_CHARACTER_PX) - 3,  # less the colour box
        "margin_bottom": MARGIN + missing_rows * LEGEND_ROW_PX,
    }


def _series_style(table: Table, index: int) -> dict:
    if table.chart != "line":
        return {}
    dash = DASHES[(index - 1) % len(DASHES)]
    return {"stroke_style": {"width": 2.5, "dasharray": dash}} if dash else {}


def _label(value) -> str:
    return "" if value is None else str(value)


def _number(value) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


def _value_formatter(unit: str):
    suffix = {"%": " %", "j": " j", "min": " min"}.get(unit, "")

    def formatted(value) -> str:
        return "" if value is None else number_fr(value) + suffix

    return formatted


def _whole_numbers(table: Table) -> bool:
    return (
        all(isinstance(cell, int) or cell is None for row in table.rows for cell in row[1:])
        and not table.unit
    )


def _highest(table: Table) -> float:
    """The top of the y axis: the largest value, or the largest stack."""
    numbers = [[_number(cell) or 0 for cell in row[1:]] for row in table.rows]
    if table.chart == "stacked":
        return max((sum(row) for row in numbers), default=0)
    return max((max(row, default=0) for row in numbers), default=0)


def _integer_ticks(highest: float) -> list[int]:
    """0 to at least ``highest`` in at most eight steps of 1, 2 or 5 times a power of ten:
    counts never get a « 0,5 » tick."""
    top = max(1, math.ceil(highest))
    step = next(
        unit * power
        for power in (10**exponent for exponent in range(12))
        for unit in (1, 2, 5)
        if math.ceil(top / (unit * power)) <= 8
    )
    return list(range(0, step * math.ceil(top / step) + 1, step))


def _standalone(table: Table):
    """Drops pygal's script, its comments (one names its web site) and the data its script
    read for tooltips; names and describes the document."""

    def clean(root):
        for node in list(root.iter()):
            if not isinstance(node.tag, str) or _local_name(node.tag) in UNUSED:
                node.getparent().remove(node)
        title = next(node for node in root if _local_name(node.tag) == "title")
        title.text = table.title
        description = title.makeelement(title.tag.replace("title", "desc"), {})
        description.text = table.definition
        title.addnext(description)
        return root

    return clean


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
