"""What the indicators compute, independent of how they are shown (page, CSV, XLSX, PDF, JSON).

A ``Report`` is a list of ``Section``s; a section has headline ``Figure``s and ``Table``s. Every
figure and table carries its French definition, shown next to it and written into every export.
A figure's ``population`` names the list of cases behind it (drill.py), when there is one.

Tables drawn as charts (charts.py) follow one shape: ``columns[0]`` holds the category (a month
« 01/2025 », an organ, a delay bucket), the other columns are numeric series.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from .period import Period

# How a table is drawn (charts.py): grouped bars, stacked bars, lines (rates over time).
CHART_KINDS = ("bar", "stacked", "line")
UNITS = {"": "", "%": "%", "j": "jours", "min": "minutes"}


@dataclass(frozen=True)
class Figure:
    key: str  # "activity.sessions_held": unique in a report, stable (exports, tests, JSON)
    label: str
    definition: str
    value: int | float | None  # None: nothing to compute it from (no case, no delay)
    previous: int | float | None = None  # the same figure over the previous period
    unit: str = ""  # a key of UNITS
    population: str | None = None  # drill.py: the cases behind the figure

    @property
    def change(self) -> int | float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    definition: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    chart: str | None = None  # one of CHART_KINDS, or None for a table alone
    unit: str = ""  # of the numeric columns, for the chart's axis


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Report:
    period: Period
    previous_period: Period
    filters: tuple[tuple[str, str], ...]  # (French label, French value) of each filter applied
    sections: tuple[Section, ...]
    generated_at: datetime  # naive UTC
    rcp_names: tuple[str, ...] = field(default=())  # the RCPs counted

    def figures(self) -> Iterator[Figure]:
        for section in self.sections:
            yield from section.figures

    def tables(self) -> Iterator[Table]:
        for section in self.sections:
            yield from section.tables

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures() if f.key == key)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables() if t.key == key)
