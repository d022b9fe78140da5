"""A report, a table of it, or the cases behind a figure, as CSV or XLSX files.

CSV as a French spreadsheet opens it: `;` separated, UTF-8 with a byte-order mark, CRLF, decimal
comma, dates dd/mm/yyyy. Every export carries the definitions, the period and the filters, so a
file read months later still says what it counts.

Text comes from people (RCP names, postponement reasons, organ labels): a cell starting like a
formula is made inert, an apostrophe in front in CSV, a cell typed as text in XLSX.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..core.timeutil import format_date, to_paris
from .model import UNITS, Report, Table
from .period import Period

FIGURE_COLUMNS = (
    "Rubrique",
    "Indicateur",
    "Valeur",
    "Unité",
    "Période précédente",
    "Évolution",
    "Définition",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection). The same
# rule as the DPO's access export (privacy/export.py), which lives in a feature package.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What Excel refuses in a sheet's name (which is at most 31 characters, unique whatever the case).
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_TITLE_LENGTH = 31
# Column widths (characters): a longer text wraps within the widest column.
WIDEST_COLUMN = 70
NARROWEST_COLUMN = 8
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0##"
DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
BOLD = Font(bold=True)
WRAPPED = Alignment(wrap_text=True, vertical="top")


# --- what the files say -------------------------------------------------------------------------


def period_text(period: Period) -> str:
    """« année 2025 (du 01/01/2025 au 31/12/2025) »: the name and the days it covers."""
    if period.kind == "personnalisee":
        return period.label
    return f"{period.label} (du {format_date(period.start)} au {format_date(period.end)})"


def figure_rows(report: Report) -> list[tuple]:
    return [
        (
            section.title,
            figure.label,
            figure.value,
            UNITS.get(figure.unit, figure.unit),
            figure.previous,
            _without_float_noise(figure.change),
            figure.definition,
        )
        for section in report.sections
        for figure in section.figures
    ]


def _without_float_noise(value):
    """12.3 - 12.0 is 0.3000000000000007 in binary floating point."""
    return round(value, 6) if isinstance(value, float) else value


def _figures_notes(report: Report) -> list[tuple]:
    return [
        ("Période", period_text(report.period)),
        ("Période précédente", period_text(report.previous_period)),
        *report.filters,
    ]


def _table_notes(table: Table, report: Report) -> list[tuple]:
    return [
        ("Définition", table.definition),
        ("Période", period_text(report.period)),
        *report.filters,
    ]


def _context(report: Report) -> list[tuple]:
    generated = to_paris(report.generated_at)
    return [
        ("Période", period_text(report.period)),
        ("Période précédente", period_text(report.previous_period)),
        ("RCP comptées", ", ".join(report.rcp_names) or "Aucune"),
        *report.filters,
        ("Généré le", f"{generated:%d/%m/%Y %H:%M} (heure de Paris)"),
    ]


# --- CSV ----------------------------------------------------------------------------------------


def figures_csv(report: Report) -> bytes:
    """Every figure, one a line, then the period and the filters."""
    return _csv([FIGURE_COLUMNS, *figure_rows(report), (), *_figures_notes(report)])


def table_csv(table: Table, report: Report) -> bytes:
    """The table, then what it counts, over which period, with which filters."""
    return _csv([table.columns, *table.rows, (), *_table_notes(table, report)])


def cases_csv(columns: Sequence[str], rows: Iterable[tuple]) -> bytes:
    return _csv([tuple(columns), *rows])


def _csv(rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def csv_cell(value) -> str:
    """A value as a French spreadsheet reads it: 3,5 ; 12/03/2025 ; an empty cell for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _decimal(value)
    if isinstance(value, datetime):
        return f"{to_paris(value):%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return format_date(value)
    return inert(str(value))


def _decimal(value: float) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text.replace(".", ",")


def inert(text: str) -> str:
    """The text, read by a spreadsheet as text and never as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


# --- XLSX ---------------------------------------------------------------------------------------


def workbook(report: Report) -> bytes:
    """« Indicateurs », one sheet a table, and « Filtres » (period, RCPs, filters, date)."""
    book = Workbook(write_only=True)
    used: set[str] = {"filtres"}
    _add_sheet(
        book,
        _sheet_title("Indicateurs", used),
        FIGURE_COLUMNS,
        figure_rows(report),
        _figures_notes(report),
    )
    for table in report.tables():
        _add_sheet(
            book,
            _sheet_title(table.title, used),
            table.columns,
            table.rows,
            # The sheet's name may be cut to 31 characters: the full title is written too.
            [("Tableau", table.title), *_table_notes(table, report)],
        )
    _add_sheet(book, "Filtres", notes=_context(report))
    return _saved(book)


def cases_workbook(columns: Sequence[str], rows: Iterable[tuple], title: str) -> bytes:
    book = Workbook(write_only=True)
    _add_sheet(book, _sheet_title(title, set()), tuple(columns), list(rows))
    return _saved(book)


def _saved(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _add_sheet(book, title: str, header: Sequence = (), body: Sequence = (), notes=()) -> None:
    """The header (bold, frozen), the rows, then a blank line and the notes (label, value).

    The columns fit the table; a note's text, unwrapped, runs on over the empty cells to its
    right instead of widening the column it starts in."""
    sheet = book.create_sheet(title)
    measured = [header, *body, *((label,) for label, *_ in notes)] if header else list(notes)
    for column, width in enumerate(_widths(measured), start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    if header:
        sheet.freeze_panes = "A2"
        sheet.append([_cell(sheet, value, bold=True) for value in header])
    for row in body:
        sheet.append([_cell(sheet, value) for value in row])
    if header and notes:
        sheet.append([])
    for label, *values in notes:
        sheet.append(
            [_cell(sheet, label, bold=True), *(_cell(sheet, v, wrap=False) for v in values)]
        )


def _cell(sheet, value, *, bold: bool = False, wrap: bool = True) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet)
    if value is None:
        return cell
    if isinstance(value, bool):
        value = "Oui" if value else "Non"
    if isinstance(value, int | float):
        cell.value = value
        cell.number_format = INTEGER_FORMAT if isinstance(value, int) else DECIMAL_FORMAT
    elif isinstance(value, datetime):
        cell.value = to_paris(value).replace(tzinfo=None)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    else:
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell.value = text
        # openpyxl would store « =… » as a formula: typed as a string, it stays text.
        cell.data_type = "s"
        if wrap and len(text) > WIDEST_COLUMN:
            cell.alignment = WRAPPED
    if bold:
        cell.font = BOLD
    return cell


def _widths(lines: Sequence[Sequence]) -> list[float]:
    count = max((len(line) for line in lines), default=0)
    widest = [NARROWEST_COLUMN] * count
    for line in lines:
        for column, value in enumerate(line):
            widest[column] = max(widest[column], min(len(csv_cell(value)) + 2, WIDEST_COLUMN))
    return widest


def _sheet_title(title: str, used: set[str]) -> str:
    """A sheet name Excel accepts, not yet in ``used`` (compared without case; added to it)."""
    base = " ".join(SHEET_FORBIDDEN.sub(" ", title).split()).strip("'") or "Tableau"
    candidate = base[:SHEET_TITLE_LENGTH].rstrip(" '")
    number = 1
    while candidate.casefold() in used:
        number += 1
        suffix = f" ({number})"
        candidate = base[: SHEET_TITLE_LENGTH - len(suffix)].rstrip(" '") + suffix
    used.add(candidate.casefold())
    return candidate
