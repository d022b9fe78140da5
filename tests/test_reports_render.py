"""How a statistics report leaves the page: SVG charts, CSV and XLSX exports, the annual PDF.

The report is built by hand (no database): two sections, missing values, a percentage, a table
of each chart kind, a text cell shaped like a spreadsheet formula, accents, sixty months.
"""

from __future__ import annotations

import base64
import csv
import io
import re
import shutil
import subprocess
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from lxml import etree

from rcp_app.reports import charts, exports
from rcp_app.reports.annual import annual_report_html, annual_report_pdf
from rcp_app.reports.model import Figure, Report, Section, Table
from rcp_app.reports.period import Period

BOM = "\ufeff".encode()
SVG = "{http://www.w3.org/2000/svg}"
# The only addresses a chart may hold: XML namespace names, never fetched.
NAMESPACES = {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
FORMULA = '=HYPERLINK("http://exemple.invalid","clic")'
SIXTY_MONTHS = tuple(f"{month:02d}/{year}" for year in range(2021, 2026) for month in range(1, 13))

SESSIONS = Table(
    "activity.sessions_by_month",
    "Séances par mois",
    "Séances tenues et séances passées jamais tenues, par mois.",
    ("Mois", "Tenues", "Non tenues"),
    tuple((f"{m:02d}/2025", m % 4 + 1, m % 2) for m in range(1, 13)),
    chart="bar",
)
ORGANS = Table(
    "activity.monthly_by_organ",
    "Dossiers présentés par mois et par organe",
    "Dossiers présentés par mois de séance, par organe.",
    ("Mois", "Sein", "Digestif", "Hématologie", "Autres"),
    tuple((label, i % 5, i % 3, 2, i % 7) for i, label in enumerate(SIXTY_MONTHS)),
    chart="stacked",
)
RATES = Table(
    "quality.rates_by_month",
    "Quorum et complétude des dossiers par mois",
    "Part des dossiers présentés discutés avec le quorum atteint, par mois.",
    ("Mois", "Quorum atteint (%)", "Dossier complet (%)"),
    tuple((f"{m:02d}/2025", 80.5 + m, None if m == 3 else 62.5) for m in range(1, 13)),
    chart="line",
    unit="%",
)
REASONS = Table(
    "quality.postponement_reasons",
    "Motifs de report",
    "Motifs saisis, tels qu'écrits.",
    ("Motif", "Nombre"),
    ((FORMULA, 2), ("Imagerie à compléter", 5), ("-5 jours de retard", 1)),
)
REPORT = Report(
    period=Period.year(2025),
    previous_period=Period.year(2024),
    filters=(("Appareil", "Sein et gynécologie"),),
    sections=(
        Section(
            "activity",
            "Activité",
            (
                Figure("activity.sessions_held", "Séances tenues", "Séances ouvertes.", 42, 40),
                Figure(
                    "activity.cases_presented",
                    "Dossiers présentés",
                    "Dossiers discutés ou enregistrés.",
                    1234,
                    None,
                ),
                Figure(
                    "activity.capacity_use", "Remplissage des séances", "Moyenne.", 87.5, 80.0, "%"
                ),
            ),
            (SESSIONS, ORGANS),
        ),
        Section(
            "quality",
            "Qualité de la réunion",
            (
                Figure(
                    "quality.quorum_cases",
                    "Dossiers discutés avec quorum",
                    "Quorum.",
                    None,
                    91.2,
                    "%",
                ),
                Figure(
                    "quality.time_per_case", "Temps médian par dossier", "Médiane.", 6.5, 7.0, "min"
                ),
            ),
            (RATES, REASONS),
        ),
    ),
    generated_at=datetime(2026, 1, 15, 13, 5),  # 14h05 in Paris
    rcp_names=("RCP Sénologie — Hôpital Nord", "RCP Gynécologie"),
)


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM)
    text = body.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def _texts(svg_text: str) -> list[str]:
    root = etree.fromstring(svg_text.encode())
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


# --- charts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", [SESSIONS, ORGANS, RATES], ids=lambda t: t.chart)
def test_each_chart_kind_is_a_standalone_svg(table):
    drawn = charts.svg(table)
    root = etree.fromstring(drawn.encode())  # well-formed XML
    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height")) == (str(charts.WIDTH), str(charts.HEIGHT))
    assert "<script" not in drawn.lower() and "javascript" not in drawn.lower()
    assert set(re.findall(r"https?://[^\s\"'<>)]+", drawn)) <= NAMESPACES
    assert not [
        name
        for node in root.iter()
        for name in node.attrib
        if name.endswith("href") or name == "src"
    ]
    assert "url(" not in drawn and "@import" not in drawn
    assert root.find(f"{SVG}title").text == table.title
    assert root.find(f"{SVG}desc").text == table.definition
    texts = _texts(drawn)
    for series in table.columns[1:]:
        assert series in texts
    assert table.rows[0][0] in texts


def test_sixty_months_keep_one_label_in_three():
    texts = _texts(charts.svg(ORGANS))
    months = [text for text in texts if re.fullmatch(r"\d\d/\d{4}", text)]
    assert months == list(SIXTY_MONTHS[::3])


def test_twelve_months_keep_every_label():
    texts = _texts(charts.svg(SESSIONS))
    assert [row[0] for row in SESSIONS.rows] == [t for t in texts if re.fullmatch(r"\d\d/2025", t)]


def test_axis_labels_carry_the_unit_a_decimal_comma_and_rates_stop_at_100():
    texts = _texts(charts.svg(RATES))
    assert "0 %" in texts and "100 %" in texts and "120 %" not in texts
    decimals = charts.svg(
        Table(
            "d",
            "Délais",
            "Médianes.",
            ("Délai", "Médiane (j)"),
            (("A", 1.5), ("B", 0.5)),
            "bar",
            "j",
        )
    )
    assert any(re.fullmatch(r"\d+,\d+ j", text) for text in _texts(decimals))
    assert not any(re.fullmatch(r"\d+\.\d+.*", text) for text in _texts(decimals))


def test_count_axis_has_whole_ticks_only():
    ticks = [t for t in _texts(charts.svg(SESSIONS)) if re.fullmatch(r"[\d,]+", t)]
    assert ticks and all("," not in t for t in ticks)


def test_no_chart_without_kind_or_rows():
    assert charts.svg(REASONS) is None
    empty = Table("e", "Vide", "Rien.", ("Mois", "Tenues"), (), chart="bar")
    assert charts.svg(empty) is None
    no_series = Table("o", "Par organe", "Aucun organe.", ("Mois",), (("01/2025",),), "stacked")
    assert charts.svg(no_series) is None


def test_data_uri_carries_the_svg():
    drawn = charts.svg(SESSIONS)
    uri = charts.data_uri(drawn)
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    assert base64.b64decode(uri[len(prefix) :]).decode() == drawn


# --- CSV ------------------------------------------------------------------------------------------


def test_figures_csv():
    rows = _rows(exports.figures_csv(REPORT))
    assert rows[0] == list(exports.FIGURE_COLUMNS)
    by_label = {row[1]: row for row in rows[1:] if len(row) > 1}
    assert by_label["Séances tenues"][:6] == ["Activité", "Séances tenues", "42", "", "40", "2"]
    assert by_label["Dossiers présentés"][2:6] == ["1234", "", "", ""]  # no previous value
    assert by_label["Remplissage des séances"][2:6] == ["87,5", "%", "80", "7,5"]
    assert by_label["Dossiers discutés avec quorum"][2:6] == ["", "%", "91,2", ""]
    assert by_label["Temps médian par dossier"][2:6] == ["6,5", "minutes", "7", "-0,5"]
    assert ["Période", "année 2025 (du 01/01/2025 au 31/12/2025)"] in rows
    assert ["Appareil", "Sein et gynécologie"] in rows


def test_table_csv_neutralises_formulas_and_says_what_it_counts():
    rows = _rows(exports.table_csv(REASONS, REPORT))
    assert rows[:4] == [
        ["Motif", "Nombre"],
        ["'" + FORMULA, "2"],
        ["Imagerie à compléter", "5"],
        ["'-5 jours de retard", "1"],
    ]
    assert rows[4:] == [
        [],
        ["Définition", REASONS.definition],
        ["Période", "année 2025 (du 01/01/2025 au 31/12/2025)"],
        ["Appareil", "Sein et gynécologie"],
    ]


def test_table_csv_of_sixty_months_with_missing_values():
    rows = _rows(exports.table_csv(ORGANS, REPORT))
    assert len([row for row in rows[1:] if row and re.fullmatch(r"\d\d/\d{4}", row[0])]) == 60
    rates = _rows(exports.table_csv(RATES, REPORT))
    assert rates[3] == ["03/2025", "83,5", ""]


def test_cases_csv():
    rows = _rows(
        exports.cases_csv(
            ["Date", "Patient", "Dossier", "Détail"],
            [("12/03/2025", "DUPONT Zoé", 17, "@SUM(A1)"), (date(2025, 4, 1), "+33 6", 18, None)],
        )
    )
    assert rows == [
        ["Date", "Patient", "Dossier", "Détail"],
        ["12/03/2025", "DUPONT Zoé", "17", "'@SUM(A1)"],
        ["01/04/2025", "'+33 6", "18", ""],
    ]


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (0, "0"),
        (1234, "1234"),
        (3.5, "3,5"),
        (-0.25, "-0,25"),
        (2.0, "2"),
        (True, "Oui"),
    ],
)
def test_csv_numbers_are_french_without_thousands_separator(value, cell):
    assert exports.csv_cell(value) == cell


# --- XLSX -----------------------------------------------------------------------------------------


def _book(body: bytes):
    return openpyxl.load_workbook(io.BytesIO(body))


def test_workbook_sheets_and_cells():
    book = _book(exports.workbook(REPORT))
    assert book.sheetnames == [
        "Indicateurs",
        "Séances par mois",
        "Dossiers présentés par mois et",
        "Quorum et complétude des dossie",
        "Motifs de report",
        "Filtres",
    ]
    figures = book["Indicateurs"]
    assert [c.value for c in figures[1]] == list(exports.FIGURE_COLUMNS)
    assert figures["A1"].font.b
    assert figures.column_dimensions["G"].width > figures.column_dimensions["C"].width
    assert figures["C2"].value == 42 and figures["C2"].data_type == "n"
    capacity = next(row for row in figures.iter_rows() if row[1].value == "Remplissage des séances")
    assert capacity[2].value == 87.5 and capacity[2].data_type == "n" and capacity[3].value == "%"
    quorum = next(
        row for row in figures.iter_rows() if row[1].value == "Dossiers discutés avec quorum"
    )
    assert quorum[2].value is None and quorum[4].value == 91.2

    reasons = book["Motifs de report"]
    assert [c.value for c in reasons[1]] == ["Motif", "Nombre"]
    assert reasons["A2"].value == FORMULA and reasons["A2"].data_type == "s"
    assert reasons["B2"].value == 2 and reasons["B2"].data_type == "n"
    notes = {row[0]: row[1] for row in reasons.iter_rows(values_only=True) if row[0]}
    assert notes["Définition"] == REASONS.definition
    assert notes["Tableau"] == REASONS.title
    assert notes["Période"] == "année 2025 (du 01/01/2025 au 31/12/2025)"

    organs = book["Dossiers présentés par mois et"]
    assert sum(1 for row in organs.iter_rows(values_only=True) if row[0] in SIXTY_MONTHS) == 60

    context = {row[0]: row[1] for row in book["Filtres"].iter_rows(values_only=True)}
    assert context["Période précédente"] == "année 2024 (du 01/01/2024 au 31/12/2024)"
    assert context["Appareil"] == "Sein et gynécologie"
    assert context["RCP comptées"] == "RCP Sénologie — Hôpital Nord, RCP Gynécologie"
    assert context["Généré le"] == "15/01/2026 14:05 (heure de Paris)"


def test_formula_text_is_stored_as_a_string_not_a_formula():
    with zipfile.ZipFile(io.BytesIO(exports.workbook(REPORT))) as archive:
        sheets = [
            archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        ]
    assert not any("<f>" in sheet or "<f " in sheet for sheet in sheets)
    assert any('t="inlineStr"><is><t>=HYPERLINK(' in sheet for sheet in sheets)


def test_sheet_titles_are_valid_and_unique():
    used = {"indicateurs"}
    titles = [
        exports._sheet_title(title, used)
        for title in (
            "Délais [j] : médiane / 90e ?",
            "Délais [j] : médiane / 90e ?",
            "INDICATEURS",
            "'",
        )
    ]
    assert titles == [
        "Délais j médiane 90e",
        "Délais j médiane 90e (2)",
        "INDICATEURS (2)",
        "Tableau",
    ]
    assert all(len(t) <= 31 and not re.search(r"[\[\]:*?/\\]", t) for t in titles)


def test_cases_workbook():
    book = _book(
        exports.cases_workbook(
            ["Date", "Patient", "Dossier"],
            [("12/03/2025", "=1+1", 17)],
            "Dossiers présentés : tous",
        )
    )
    assert book.sheetnames == ["Dossiers présentés tous"]
    sheet = book.active
    assert [c.value for c in sheet[1]] == ["Date", "Patient", "Dossier"]
    assert sheet["B2"].value == "=1+1" and sheet["B2"].data_type == "s"
    assert sheet["C2"].value == 17 and sheet["C2"].data_type == "n"


# --- annual report PDF ----------------------------------------------------------------------------


def _pdf_text(body: bytes, tmp_path) -> str:
    path = tmp_path / "rapport.pdf"
    path.write_bytes(body)
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    from pypdf import PdfReader

    return "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)


TITLE = "Rapport annuel d'activité des RCP — 2025"


@pytest.fixture(scope="module")
def annual_pdf(app) -> bytes:
    with app.app_context():
        return annual_report_pdf(REPORT, TITLE)


def test_annual_report_pdf(app, annual_pdf, tmp_path):
    body = annual_pdf
    with app.app_context():
        html = annual_report_html(REPORT, TITLE)
    assert html.count('src="data:image/svg+xml;base64,') == 3  # one a drawn table
    assert body.startswith(b"%PDF")
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(body)).pages)
    assert 3 <= pages <= 12, pages
    text = " ".join(_pdf_text(body, tmp_path).split())
    assert TITLE in text
    assert "RCP Sénologie — Hôpital Nord" in text
    assert "Qualité de la réunion" in text
    assert "Dossiers présentés par mois et par organe" in text
    assert "Remplissage des séances" in text and "87,5 %" in text
    assert "1 234" in text  # French thousands (narrow no-break space, read as a space)
    assert "15/01/2026 à 14h05" in text
    assert "page 1 / " in text and f"page {pages} / {pages}" in text
    assert "Appareil : Sein et gynécologie" in text
    assert FORMULA in text  # text, drawn as it was typed


def _page_pixels(body: bytes, page: int, tmp_path) -> set[tuple[int, int, int]]:
    """The colours of a page rendered at 30 dpi (pdftoppm's binary PPM)."""
    path = tmp_path / "page.pdf"
    path.write_bytes(body)
    ppm = subprocess.run(
        ["pdftoppm", "-r", "30", "-f", str(page), "-l", str(page), "-singlefile", str(path)],
        capture_output=True,
        check=True,
    ).stdout
    magic, width, height, _depth, pixels = ppm.split(maxsplit=4)
    assert magic == b"P6"
    size = int(width) * int(height) * 3
    return {tuple(pixels[i : i + 3]) for i in range(0, size, 3)}


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) absent")
def test_annual_report_draws_the_charts(annual_pdf, tmp_path):
    """The second series' colour appears only in charts: WeasyPrint drew the SVG image of
    « Séances par mois » (page 2), it did not leave an empty box."""
    amber = tuple(int(charts.PALETTE[1][i : i + 2], 16) for i in (1, 3, 5))
    assert amber in _page_pixels(annual_pdf, 2, tmp_path)
    assert amber not in _page_pixels(annual_pdf, 1, tmp_path)  # the cover has no chart
