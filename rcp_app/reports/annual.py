"""The annual activity report a 3C sends to its ARS: the report of a year as a printable PDF.

Built from the same ``Report`` as the page and the exports, so the figures agree everywhere;
the charts are the page's SVGs, embedded as data: URIs (the only resource the PDF renderer may
read, core/pdfrender.py).
"""

from __future__ import annotations

from flask import render_template

from ..core.pdfrender import write_pdf
from ..core.templating import number_fr
from . import charts
from .exports import period_text
from .model import Figure, Report

# The figures put first, when the report has them: what an ARS reads before anything else.
SUMMARY_KEYS = (
    "activity.sessions_held",
    "activity.cases_presented",
    "activity.patients",
    "quality.quorum_cases",
    "quality.complete_file",
    "quality.guideline",
    "has.level1",
    "dcc.fiches",
    "followups.implemented",
)
UNIT_SUFFIXES = {"%": " %", "j": " j", "min": " min"}
MISSING = "—"
# A table this short is kept on one page with its title and chart (a year of months fits).
KEEP_ROWS = 20


def annual_report_pdf(report: Report, title: str) -> bytes:
    """A4, French, page « X / Y » and the period in every footer. Needs an application context;
    WeasyPrint's work is CPU only: keep no transaction open around it."""
    return write_pdf(annual_report_html(report, title))


def annual_report_html(report: Report, title: str) -> str:
    """Needs an application context (the template, its filters)."""
    return render_template(
        "reports/annual_report.html",
        report=report,
        title=title,
        period=period_text(report.period),
        previous_period=period_text(report.previous_period),
        summary=summary(report),
        charts=_charts(report),
        shown=shown,
        evolution=evolution,
        keep_rows=KEEP_ROWS,
    )


def summary(report: Report) -> list:
    """The headline figures, in SUMMARY_KEYS order; the first figure of each section when the
    report has none of them."""
    known = {figure.key: figure for figure in report.figures()}
    chosen = [known[key] for key in SUMMARY_KEYS if key in known]
    return chosen or [section.figures[0] for section in report.sections if section.figures]


def shown(value, unit: str = "") -> str:
    """A figure or a cell as printed: « 12 345 », « 45,2 % », « — » when there is nothing."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return number_fr(value) + UNIT_SUFFIXES.get(unit, "")


def evolution(figure: Figure) -> str:
    """« +3 », « -2,5 pt » (a rate moves by points), « +1 j », « — »."""
    change = figure.change
    if change is None:
        return MISSING
    unit = " pt" if figure.unit == "%" else UNIT_SUFFIXES.get(figure.unit, "")
    return ("+" if change > 0 else "") + number_fr(change) + unit


def _charts(report: Report) -> dict[str, str]:
    return {
        table.key: charts.data_uri(drawn)
        for table in report.tables()
        if (drawn := charts.svg(table)) is not None
    }
