"""The « Statistiques » page in a browser, as its users work with it.

The coordinator of the demo (« coordination », the 3C secretariat running every demo RCP) opens
the page from the navigation bar, reads the headline figures and a chart with its data table,
narrows the period to a quarter and to the breast RCP, opens the cases behind « Dossiers
présentés » and downloads every export (cases CSV and XLSX, indicators CSV, one table's CSV, the
workbook, the annual PDF). The coordinating physician of the breast RCP sees that RCP only; the
GP is refused. The demo database is shared and grows a history: the checks bear on structure,
non-emptiness and figures agreeing with each other, never on exact counts.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from datetime import date
from urllib.parse import parse_qs, urlsplit

import openpyxl
import pytest
from sqlalchemy import func, select

from rcp_app.core.dates import today
from rcp_app.core.timeutil import to_paris, utcnow
from rcp_app.decisions.models import Decision
from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from rcp_app.meetings.models import AgendaItem, MeetingSession

from .conftest import login_on
from .helpers import expect

BREAST_RCP = "RCP Sénologie"  # coordinated by dr.martin, run by « coordination »
SECTIONS = (
    "Activité",
    "Qualité de la réunion",
    "Délais",
    "Indicateur HAS de traçabilité de la première RCP",
    "Suivi DCC : fiches produites et transmises",
)
CASE_COLUMNS = ["Date", "RCP", "Patient", "Dossier", "Statut du dossier", "Détail"]
BOM = b"\xef\xbb\xbf"
NARROW_NBSP = "\u202f"  # the thousands separator of the French numbers (nombre_fr)

# True once at least one chart image of the page has been decoded by the browser.
_CHART_DRAWN = """
() => [...document.querySelectorAll("img.report-chart")]
  .some((image) => image.complete && image.naturalWidth > 0)
"""


def _last_presented_breast_session(app) -> date:
    """Paris day of the latest past session of the breast RCP where a case was presented (the
    demo's « last week » session, or a later one another test held): its quarter has cases."""
    with app.app_context():
        starts = db.session.scalar(
            select(func.max(MeetingSession.starts_at))
            .join(AgendaItem, AgendaItem.session_id == MeetingSession.id)
            .join(Decision, Decision.item_id == AgendaItem.id)
            .join(Rcp, Rcp.id == MeetingSession.rcp_id)
            .where(
                Rcp.name == BREAST_RCP,
                MeetingSession.starts_at < utcnow(),
                Decision.outcome.in_(("discussed", "registered")),
            )
        )
    assert starts is not None, "the demo holds a past session of the breast RCP"
    return to_paris(starts).date()


def _french_int(text: str) -> int:
    return int(text.strip().replace(NARROW_NBSP, "").replace("\u00a0", "").replace(" ", ""))


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def _download(page, link, folder):
    """Click ``link``, wait for the file the browser saves, return its path."""
    with page.expect_download() as waiting:
        link.click()
    download = waiting.value
    assert download.failure() is None, download.failure()
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def _semicolon_csv(path) -> list[list[str]]:
    """The rows of an export CSV, after checking it is what French spreadsheets open as is."""
    body = path.read_bytes()
    assert body.startswith(BOM), f"{path.name}: no UTF-8 BOM"
    text = body.decode("utf-8-sig")
    assert ";" in text.splitlines()[0], f"{path.name}: the separator is not « ; »"
    return list(csv.reader(io.StringIO(text), delimiter=";"))


def _pdf_text(path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
        ).stdout
    pypdf = pytest.importorskip(
        "pypdf", reason="ni pdftotext (poppler-utils) ni pypdf : texte du rapport non vérifié"
    )
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)


def _render_first_page(path, screenshot_dir) -> None:
    """The annual report's first page as a PNG next to the screenshots (poppler if present)."""
    if not shutil.which("pdftoppm"):
        return
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile", str(path),
         str(screenshot_dir / "statistiques-rapport-annuel-page1")],
        check=True,
    )  # fmt: skip


def _open_statistics(page) -> None:
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "link", name="Statistiques"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Statistiques d'activité et de qualité"
    )


def _check_headline_and_chart(page) -> None:
    """Every section with its figures; a chart the browser decoded, its table below it."""
    for title in SECTIONS:
        section = page.locator("section").filter(
            has=page.get_by_role("heading", level=2, name=title, exact=True)
        )
        expect(section).to_have_count(1)
        expect(section.locator(".report-figure").first).to_be_visible()
    page.wait_for_function(_CHART_DRAWN)
    figure = page.locator("figure").filter(has=page.locator("img.report-chart")).first
    expect(figure.locator("img.report-chart")).to_have_attribute(
        "src", re.compile(r"^data:image/svg\+xml;base64,")
    )
    expect(figure.locator("img.report-chart")).to_have_attribute("alt", re.compile("Graphique"))
    expect(figure.locator("table.report-table tbody tr").first).to_be_visible()
    # The table comes after its chart, in the same figure: the chart's data as text.
    assert figure.evaluate(
        "f => !!(f.querySelector('img.report-chart').compareDocumentPosition("
        "f.querySelector('table.report-table')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    expect(figure.get_by_role("link", name="Télécharger ce tableau (CSV)")).to_be_visible()


def _choose_quarter(page, day: date) -> None:
    """The period fields follow the kind chosen (reports.js); then the quarter of ``day``."""
    kind, month = page.get_by_label("Période", exact=True), page.get_by_label("Mois", exact=True)
    kind.select_option(label="Année")
    expect(month).to_be_hidden()
    expect(page.get_by_label("Trimestre", exact=True)).to_be_hidden()
    expect(page.get_by_label("Année", exact=True)).to_be_visible()
    kind.select_option(label="Mois")
    expect(month).to_be_visible()
    expect(page.get_by_label("Du", exact=True)).to_be_hidden()
    kind.select_option(label="Trimestre")
    expect(month).to_be_hidden()
    quarter = (day.month - 1) // 3 + 1
    page.get_by_label("Année", exact=True).select_option(str(day.year))
    page.get_by_label("Trimestre", exact=True).select_option(str(quarter))
    page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(re.compile(r"periode=trimestre"))
    query = _query(page.url)
    assert query["annee"] == [str(day.year)] and query["trimestre"] == [str(quarter)], query
    # Only the chosen kind's fields travel (the others are disabled).
    assert "mois" not in query and "du" not in query, query
    expect(page.locator("p.lead")).to_contain_text(
        f"{quarter}e trimestre {day.year}, comparée à la période précédente"
    )


def _choose_breast_rcp(page) -> None:
    page.get_by_label("RCP", exact=True).select_option(label=BREAST_RCP)
    page.get_by_role("button", name="Afficher").click()
    expect(page).to_have_url(re.compile(r"[?&]rcp=\d+"))
    expect(page.get_by_text(f"1 RCP retenue : {BREAST_RCP}.")).to_be_visible()
    expect(page.get_by_label("RCP", exact=True)).to_have_value(_query(page.url)["rcp"][0])


def _open_presented_cases(page, screenshot_dir) -> int:
    """Click the « Dossiers présentés » figure; the list announces as many lines; returns it."""
    link = page.locator("#figure-activity-cases_presented").get_by_role("link")
    expect(link).to_be_visible()
    presented = _french_int(link.inner_text())
    assert presented > 0
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dossiers présentés")
    expect(page).to_have_url(re.compile(r"/statistiques/dossiers\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["population"] == ["presented"] and query["rcp"][0].isdigit()
    lead = page.locator("p.lead").inner_text()
    announced = re.search(r"— ([\d\s\u202f]+) lignes?\.", lead)
    assert announced and _french_int(announced.group(1)) == presented, (lead, presented)
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(min(presented, 50))  # drill.PER_PAGE lines a page
    expect(rows.first).to_contain_text(BREAST_RCP)
    page.screenshot(path=str(screenshot_dir / "statistiques-dossiers.png"), full_page=True)
    return presented


def _check_case_exports(page, folder, presented: int) -> None:
    rows = _semicolon_csv(_download(page, page.get_by_role("link", name="Exporter (CSV)"), folder))
    header = rows.index(CASE_COLUMNS)  # any lines above it describe the list
    cases = [row for row in rows[header + 1 :] if any(row)]
    assert len(cases) == presented, (len(cases), presented)
    assert all(row[1] == BREAST_RCP for row in cases), cases

    path = _download(page, page.get_by_role("link", name="Exporter (XLSX)"), folder)
    workbook = openpyxl.load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["Dossiers présentés"], workbook.sheetnames
    sheet_rows = [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    workbook.close()
    assert sheet_rows[0] == CASE_COLUMNS, sheet_rows[:2]
    assert [row[1] for row in sheet_rows[1:]] == [BREAST_RCP] * presented, sheet_rows


def _check_page_exports(page, folder, screenshot_dir) -> None:
    rows = _semicolon_csv(
        _download(page, page.get_by_role("link", name="Indicateurs (CSV)"), folder)
    )
    assert rows[0][:2] == ["Rubrique", "Indicateur"], rows[0]
    indicators = {row[1] for row in rows[1:] if len(row) > 1}
    assert {"Dossiers présentés", "Séances tenues", "Niveau 1"} <= indicators, rows[:5]

    table = page.locator("figure").filter(has=page.locator("img.report-chart")).first
    title = table.locator("h3").inner_text()
    rows = _semicolon_csv(
        _download(page, table.get_by_role("link", name="Télécharger ce tableau (CSV)"), folder)
    )
    header = table.locator("thead th").all_inner_texts()
    assert rows[0] == header, (header, rows[:3])
    # The table's lines, then a blank line and what the table counts (definition, period…).
    body = rows[1 : rows.index([])]
    assert len(body) == table.locator("tbody tr").count() >= 1, (title, body)
    definition = table.locator("h3 + p").inner_text()
    assert ["Définition", definition] in rows, rows[len(body) :]

    path = _download(page, page.get_by_role("link", name="Tous les tableaux (XLSX)"), folder)
    workbook = openpyxl.load_workbook(path, read_only=True)
    names = workbook.sheetnames
    texts = {
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    }
    workbook.close()
    # « Indicateurs », one sheet a table of the page, « Filtres ».
    tables = page.locator("table.report-table").count()
    assert names[0] == "Indicateurs" and names[-1] == "Filtres", names
    assert len(names) == tables + 2, (names, tables)
    assert {"Dossiers présentés", title, BREAST_RCP} <= texts, names

    year = _query(page.url)["annee"][0]
    pdf = _download(page, page.get_by_role("link", name=f"Rapport annuel {year} (PDF)"), folder)
    assert pdf.read_bytes().startswith(b"%PDF")
    text = " ".join(_pdf_text(pdf).split())
    assert "Rapport annuel" in text and year in text and BREAST_RCP in text, text[:500]
    _render_first_page(pdf, screenshot_dir)


def test_coordinator_reads_narrows_drills_and_exports(
    page, live_server, login_as, screenshot_dir, tmp_path
):
    recent = _last_presented_breast_session(live_server.app)

    login_as("coordination")
    _open_statistics(page)
    expect(page.locator("p.lead")).to_contain_text(f"Année {today().year}, comparée")
    _check_headline_and_chart(page)
    page.screenshot(path=str(screenshot_dir / "statistiques.png"), full_page=True)

    _choose_quarter(page, recent)
    _choose_breast_rcp(page)
    # Still the quarter: the filters keep the period.
    expect(page.get_by_label("Période", exact=True)).to_have_value("trimestre")
    page.screenshot(
        path=str(screenshot_dir / "statistiques-trimestre-senologie.png"), full_page=True
    )

    presented = _open_presented_cases(page, screenshot_dir)
    _check_case_exports(page, tmp_path, presented)

    page.get_by_role("link", name="← Statistiques").click()
    expect(page.get_by_text(f"1 RCP retenue : {BREAST_RCP}.")).to_be_visible()
    _check_page_exports(page, tmp_path, screenshot_dir)


def test_coordinating_physician_sees_only_their_rcp(page, live_server, login_as, screenshot_dir):
    login_as("dr.martin")
    _open_statistics(page)
    expect(page.get_by_text(f"1 RCP retenue : {BREAST_RCP}.")).to_be_visible()
    options = page.get_by_label("RCP", exact=True).locator("option")
    expect(options).to_have_text(["Toutes mes RCP (1)", BREAST_RCP])

    # Another RCP named in the address is not theirs: unknown, and the page keeps theirs.
    with live_server.app.app_context():
        other = db.session.scalar(select(Rcp.id).where(Rcp.name == "RCP Oncologie digestive"))
    page.goto(f"/statistiques?rcp={other}")
    refusal = page.get_by_role("alert").filter(
        has_text="RCP inconnue parmi celles que vous suivez."
    )
    expect(refusal).to_be_visible()
    expect(page.get_by_text(f"1 RCP retenue : {BREAST_RCP}.")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "statistiques-medecin.png"), full_page=True)


def test_gp_is_refused(page, login_as):
    login_as("dr.bernard")
    navigation = page.get_by_role("navigation", name="Navigation principale")
    expect(navigation.get_by_role("link", name="Statistiques")).to_have_count(0)
    page.problems.allow(r"status of 403 .*/statistiques\)$")  # the refusal page's own status
    response = page.goto("/statistiques")
    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")


@pytest.mark.parametrize("width,height", [(1280, 800)])
def test_statistics_page_fits_a_laptop(sized_page, screenshot_dir, width, height):
    page = sized_page(width, height)
    login_on(page, "coordination")
    _open_statistics(page)
    page.wait_for_function(_CHART_DRAWN)
    page.screenshot(path=str(screenshot_dir / f"statistiques-{width}x{height}.png"), full_page=True)
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"défilement horizontal de {overflow} px à {width} px"
    # A chart never spills out of its column.
    spilled = page.evaluate(
        """() => [...document.querySelectorAll("img.report-chart")]
          .filter((image) => image.getBoundingClientRect().width
                             > image.parentElement.getBoundingClientRect().width + 1)
          .map((image) => image.alt)"""
    )
    assert spilled == [], spilled
