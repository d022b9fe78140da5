"""The section « Mise en œuvre des propositions » of the statistics page (reports/closed_loop.py)
against a small world of follow-ups counted by hand.

Every expected value below is counted from the definitions (closed_loop.SECTION) and the world,
never copied from the code's output. Times are naive UTC, as stored; Paris is UTC+1 until
30 March 2025 and UTC+2 after. The period is the first quarter of 2025, computed on
20/03/2025 (``NOW``): a pending follow-up due on 19/03 is overdue, one due on 20/03 is not.

RCP A and RCP B are in scope, RCP C is not. Follow-ups (opened = the fiche's validation):

    A1  10/01 10:00  started as proposed, first proposal, on 20/01       10 days
    A2  15/01 14:00  started as proposed, first proposal, on 19/01        4 days
    A3  03/02 09:00  started as proposed, alternative 1, on 27/02        24 days
    A4  10/02 09:00  started otherwise (patient's choice), on 17/02       7 days
    A5  12/02 09:00  not started (contraindication)
    A6  20/02 09:00  lost to follow-up
    A7  01/03 09:00  pending, due 31/03
    A8  05/01 09:00  pending, due 04/02                                   overdue
    A9  31/12/2024 23:30 = 01/01 00:30 in Paris: in the quarter; started as proposed, first
        proposal, on 01/01                                                0 days (1 in UTC)
    A10 31/12/2024 22:30 = 23:30 in Paris: the previous quarter; started otherwise
        (progression) on 02/01/2025                                       2 days
    A11 31/03 21:30 = 23:30 in Paris (summer time): in the quarter; deceased
    A12 31/03 22:30 = 01/04 00:30 in Paris: the next quarter; not started (other reason)
    B1  20/01 09:00  started as proposed, alternative 2, on 03/02        14 days
    B2  05/02 09:00  started otherwise (patient's choice), on 25/02      20 days
    B3  03/03 09:00  not started (patient's choice)
    B4  05/03 09:00  pending, due 19/03                                   overdue
    B5  10/03 09:00  pending, due 20/03 (today: not overdue)
    C1  01/02 09:00  started as proposed on 02/02 (out of scope)
    C2  02/02 09:00  not started (contraindication, out of scope)
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import uuid
from datetime import date, datetime, timedelta

import openpyxl
import pytest

from rcp_app.decisions.models import Decision
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from rcp_app.followups.models import FollowUp
from rcp_app.reports import drill
from rcp_app.reports.annual import annual_report_html
from rcp_app.reports.exports import figures_csv, workbook
from rcp_app.reports.indicators import TABLE_KEYS, compute_report
from rcp_app.reports.period import Period
from rcp_app.reports.scope import Scope
from tests.support.factories import PASSWORD

NOW = datetime(2025, 3, 20, 12, 0)
TODAY = date(2025, 3, 20)
QUARTER = Period.quarter(2025, 1)
DAY = timedelta(days=1)
QUARTER_ARGS = "periode=personnalisee&du=2025-01-01&au=2025-03-31"


class FollowUps:
    """Builds a validated decision, its fiche and its follow-up, in a chosen state."""

    def __init__(self, app, make):
        self.app = app
        self.make = make
        self.author = make.user(role="physician")
        self.requester = make.professional(last_name="Demandeur")
        self._minutes = itertools.count()

    def add(self, rcp, opened_at, state="pending", **fields) -> int:
        # The day before the validation; a session per follow-up (one start per RCP and time).
        starts = opened_at - DAY + timedelta(minutes=next(self._minutes))
        session = self.make.session(rcp.id, starts_at=starts, status="closed")
        patient = self.make.patient()
        case = self.make.submitted_case(
            rcp_id=rcp.id,
            session_id=session.id,
            patient_id=patient.id,
            requester_id=self.requester.id,
            created_by_id=self.author.id,
            status="discussed",
            submitted_at=opened_at - 10 * DAY,
        )
        item = self.make.agenda_item(session.id, case.id)
        recorded = {} if state == "pending" else {
            "recorded_at": opened_at + DAY, "recorded_by_id": self.author.id,
        }  # fmt: skip
        with self.app.app_context():
            decision = Decision(
                item_id=item.id, state="validated", outcome="discussed", updated_at=opened_at
            )
            fiche = Fiche(
                set_id=str(uuid.uuid4()),
                decision=decision,
                case_id=case.id,
                patient_id=patient.id,
                session_id=session.id,
                created_at=opened_at,
            )
            db.session.add_all([decision, fiche])
            db.session.flush()
            follow_up = FollowUp(
                decision_id=decision.id,
                fiche_id=fiche.id,
                case_id=case.id,
                patient_id=patient.id,
                rcp_id=rcp.id,
                requester_id=self.requester.id,
                opened_at=opened_at,
                due_on=fields.pop("due_on", opened_at.date() + 30 * DAY),
                state=state,
                **recorded,
                **fields,
            )
            db.session.add(follow_up)
            db.session.commit()
            return follow_up.id


def _build_world(app, make, rcp_a, rcp_b, rcp_c) -> None:
    f = FollowUps(app, make)

    def started(rcp, at, rank, on):
        f.add(rcp, at, "started_as_proposed", option_rank=rank, started_on=on)

    def other(rcp, at, reason, on):
        f.add(rcp, at, "started_other", deviation_reason=reason, started_on=on,
              other_treatment="Hormonothérapie seule")  # fmt: skip

    started(rcp_a, datetime(2025, 1, 10, 10), 0, date(2025, 1, 20))  # A1
    started(rcp_a, datetime(2025, 1, 15, 14), 0, date(2025, 1, 19))  # A2
    started(rcp_a, datetime(2025, 2, 3, 9), 1, date(2025, 2, 27))  # A3
    other(rcp_a, datetime(2025, 2, 10, 9), "patient_choice", date(2025, 2, 17))  # A4
    f.add(rcp_a, datetime(2025, 2, 12, 9), "not_started", deviation_reason="contraindication")
    f.add(rcp_a, datetime(2025, 2, 20, 9), "lost")  # A6
    f.add(rcp_a, datetime(2025, 3, 1, 9), due_on=date(2025, 3, 31))  # A7
    f.add(rcp_a, datetime(2025, 1, 5, 9), due_on=date(2025, 2, 4))  # A8
    started(rcp_a, datetime(2024, 12, 31, 23, 30), 0, date(2025, 1, 1))  # A9
    other(rcp_a, datetime(2024, 12, 31, 22, 30), "progression", date(2025, 1, 2))  # A10
    f.add(rcp_a, datetime(2025, 3, 31, 21, 30), "deceased")  # A11
    f.add(rcp_a, datetime(2025, 3, 31, 22, 30), "not_started", deviation_reason="other")
    started(rcp_b, datetime(2025, 1, 20, 9), 2, date(2025, 2, 3))  # B1
    other(rcp_b, datetime(2025, 2, 5, 9), "patient_choice", date(2025, 2, 25))  # B2
    f.add(rcp_b, datetime(2025, 3, 3, 9), "not_started", deviation_reason="patient_choice")
    f.add(rcp_b, datetime(2025, 3, 5, 9), due_on=date(2025, 3, 19))  # B4
    f.add(rcp_b, datetime(2025, 3, 10, 9), due_on=date(2025, 3, 20))  # B5
    started(rcp_c, datetime(2025, 2, 1, 9), 0, date(2025, 2, 2))  # C1
    f.add(rcp_c, datetime(2025, 2, 2, 9), "not_started", deviation_reason="contraindication")


@pytest.fixture
def world(app, make):
    physician_a = make.physician(last_name="Coordonnatrice")
    rcp_a = make.rcp(name="RCP A — sein", coordinator_id=physician_a.professional_id)
    rcp_b = make.rcp(name="RCP B — digestif")
    rcp_c = make.rcp(name="RCP C — hors périmètre")
    _build_world(app, make, rcp_a, rcp_b, rcp_c)
    coordinator_b = make.user(role="coordinator")
    make.coordinator_scope(coordinator_b.id, rcp_id=rcp_b.id)
    return {
        "scope": Scope((rcp_a.id, rcp_b.id), (rcp_a.name, rcp_b.name)),
        "physician_a": physician_a,
        "coordinator_b": coordinator_b,
    }


# (first quarter 2025, fourth quarter 2024), counted by hand.
EXPECTED_FIGURES = {
    # Q1: A1-A9 but A10 (in Q4), A11; B1-B5 = 10 + 5; Q4: A10.
    "followups.validated": (15, 1),
    "followups.recorded": (11, 1),
    # A7 A8 B4 B5.
    "followups.pending": (4, 0),
    # A8 (due 04/02), B4 (due 19/03); A7 (31/03) and B5 (today) are not.
    "followups.overdue": (2, 0),
    # Evaluable: A1 A2 A3 A9 B1 (as proposed), A4 B2 (other), A5 B3 (not started) = 9;
    # Q4: A10 alone.
    "followups.implemented": (55.6, 0.0),  # 5 / 9
    "followups.implemented_first": (33.3, 0.0),  # A1 A2 A9: 3 / 9
    "followups.implemented_alternative": (22.2, 0.0),  # A3 B1: 2 / 9
    "followups.started_other": (22.2, 100.0),  # A4 B2: 2 / 9; Q4: A10 1 / 1
    "followups.not_started": (22.2, 0.0),  # A5 B3: 2 / 9
    # Over the 11 recorded follow-ups.
    "followups.lost": (9.1, 0.0),  # A6
    "followups.deceased": (9.1, 0.0),  # A11
    # As proposed: 0 4 [10] 14 24; p90 rank 3.6 → 14 + 0.6 × 10 = 20.
    "followups.delay_proposed.median": (10.0, None),
    "followups.delay_proposed.p90": (20.0, None),
    # Otherwise: 7 20 → 13.5; p90 rank 0.9 → 7 + 0.9 × 13 = 18.7; Q4: A10 2 (Paris day).
    "followups.delay_other.median": (13.5, 2.0),
    "followups.delay_other.p90": (18.7, 2.0),
}
EXPECTED_TABLES = {
    "followups.delays": (
        ("Validation → début du traitement proposé", 5, 10.0, 20.0),
        ("Validation → début d'un autre traitement", 2, 13.5, 18.7),
    ),
    # Otherwise: A4 B2 (patient's choice); not started: A5 (contraindication), B3 (patient's
    # choice); 4 deviations in all. A10, A12 and RCP C's C2 are outside.
    "followups.deviation_reasons": (
        ("Choix du patient", 2, 1, 3, 75.0),
        ("Contre-indication", 0, 1, 1, 25.0),
    ),
    "followups.by_rcp": (
        # A: 10 validated; pending A7 A8 (A8 overdue); A1 A2 A3 A9 of A1 A2 A3 A9 A4 A5.
        ("RCP A — sein", 10, 8, 2, 1, 66.7),
        # B: 5 validated; pending B4 B5 (B4 overdue); B1 of B1 B2 B3.
        ("RCP B — digestif", 5, 3, 2, 1, 33.3),
    ),
}
# The lists behind the figures (drill.py), over Q1 judged on TODAY.
EXPECTED_POPULATIONS = {
    "followup": 15,
    "followup_recorded": 11,
    "followup_pending": 4,
    "followup_overdue": 2,
    "followup_as_proposed": 5,
    "followup_first": 3,
    "followup_alternative": 2,
    "followup_other": 2,
    "followup_not_started": 2,
    "followup_lost": 1,
    "followup_deceased": 1,
}


def _same(expected, got) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if isinstance(expected, str) or isinstance(got, str):
        return expected == got
    return abs(float(expected) - float(got)) < 1e-9


def _differences(report) -> list[str]:
    found = []
    section = next(s for s in report.sections if s.key == "followups")
    keys = [figure.key for figure in section.figures]
    found += [f"{key}: no hand count" for key in keys if key not in EXPECTED_FIGURES]
    for key, (value, previous) in EXPECTED_FIGURES.items():
        if key not in keys:
            found.append(f"{key}: not in the section")
            continue
        figure = report.figure(key)
        if not (_same(value, figure.value) and _same(previous, figure.previous)):
            found.append(f"{key}: got {(figure.value, figure.previous)!r}, expected "
                         f"{(value, previous)!r}")  # fmt: skip
    tables = {table.key: table for table in section.tables}
    found += [f"{key}: no hand count" for key in tables if key not in EXPECTED_TABLES]
    for key, rows in EXPECTED_TABLES.items():
        got = tables[key].rows if key in tables else None
        if (
            got is None
            or len(got) != len(rows)
            or not all(
                len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
                for a, b in zip(rows, got, strict=True)
            )
        ):
            found.append(f"{key}: got {got!r}, expected {rows!r}")
    return found


def test_every_figure_and_table_matches_the_hand_count(app, world):
    with app.app_context():
        report = compute_report(QUARTER, world["scope"], now=NOW)
    assert not _differences(report), "\n".join(_differences(report))
    assert set(EXPECTED_TABLES) <= set(TABLE_KEYS)


def test_the_lists_behind_the_figures_hold_as_many_cases(app, world):
    scope = world["scope"]
    with app.app_context():
        report = compute_report(QUARTER, scope, now=NOW)
        section = next(s for s in report.sections if s.key == "followups")
        found = {key: drill.count(key, QUARTER, scope, as_of=TODAY) for key in EXPECTED_POPULATIONS}
        lines = drill.lines("followup_not_started", QUARTER, scope, limit=10)
    assert found == EXPECTED_POPULATIONS
    # Every figure's list exists, and a count figure equals its list's length.
    for figure in section.figures:
        if figure.population:
            assert figure.population in drill.TITLES
            if figure.unit == "":
                assert found[figure.population] == figure.value, figure.key
    # A5 then B3, dated by the validation, with the outcome as their detail.
    assert [line.at for line in lines] == [datetime(2025, 2, 12, 9), datetime(2025, 3, 3, 9)]
    assert {line.detail for line in lines} == {"Traitement non commencé"}


def test_periods_cut_at_midnight_paris_time(app, world):
    scope = world["scope"]
    with app.app_context():
        new_year = compute_report(Period.custom(date(2025, 1, 1), date(2025, 1, 1)), scope, now=NOW)
        april = compute_report(Period.month(2025, 4), scope, now=NOW)
    # 01/01 in Paris: A9 (23:30 UTC the day before); 31/12 in Paris: A10 (22:30 UTC).
    assert new_year.figure("followups.validated").value == 1
    assert new_year.figure("followups.validated").previous == 1
    assert new_year.figure("followups.implemented").value == 100.0
    assert new_year.figure("followups.started_other").previous == 100.0
    # A9 started on its Paris day of validation: 0 days, not the 1 of UTC dates.
    assert new_year.figure("followups.delay_proposed.median").value == 0.0
    # April: A12 (00:30 on 01/04 in Paris); March before it ends with A11 (23:30 on 31/03).
    assert april.figure("followups.validated").value == 1
    assert april.figure("followups.not_started").value == 100.0
    assert april.table("followups.deviation_reasons").rows == (("Autre raison", 0, 1, 1, 100.0),)
    # March: A7 A11 B3 B4 B5; recorded A11 (deceased) and B3.
    assert april.figure("followups.validated").previous == 5
    assert april.figure("followups.deceased").previous == 50.0


def test_an_empty_period_shows_dashes(app, world):
    scope = world["scope"]
    with app.app_context():
        report = compute_report(Period.month(2023, 6), scope, now=NOW)
    section = next(s for s in report.sections if s.key == "followups")
    assert report.figure("followups.validated").value == 0
    for figure in section.figures:
        if figure.unit in ("%", "j"):
            assert figure.value is None and figure.previous is None, figure.key
    assert report.table("followups.deviation_reasons").rows == ()
    assert report.table("followups.by_rcp").rows == ()
    assert [row[1:] for row in report.table("followups.delays").rows] == [(0, None, None)] * 2
    html = (
        _client(app, world["physician_a"])
        .get("/statistiques?periode=mois&annee=2023&mois=6")
        .get_data(as_text=True)
    )
    assert "Mise en œuvre des propositions" in html
    assert _figure(html, "followups.implemented") == "—"
    assert _figure(html, "followups.validated") == "0"


def _client(app, user):
    client = app.test_client()
    response = client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _figure(html: str, key: str) -> str:
    """The figure's value as the page shows it, tags left out."""
    block = html.split(f'id="figure-{key.replace(".", "-")}"', 1)[1]
    shown = block.split('fs-4 fw-semibold">', 1)[1].split("</div>", 1)[0]
    return re.sub(r"<[^>]+>", "", shown).strip()


@pytest.mark.parametrize(
    ("who", "validated", "implemented", "shown", "hidden"),
    [
        # The physician coordinates RCP A: A's 10 follow-ups, 4 of 6 as proposed.
        ("physician_a", "10", "66,7", "RCP A — sein", "RCP B — digestif"),
        # The coordinator runs RCP B: B's 5 follow-ups, 1 of 3 as proposed.
        ("coordinator_b", "5", "33,3", "RCP B — digestif", "RCP A — sein"),
    ],
)
def test_each_user_counts_only_their_rcps(app, world, who, validated, implemented, shown, hidden):
    client = _client(app, world[who])
    html = client.get(f"/statistiques?{QUARTER_ARGS}").get_data(as_text=True)
    assert _figure(html, "followups.validated") == validated
    assert _figure(html, "followups.implemented") == f"{implemented} %"
    table = html.split('id="table-followups-by_rcp"', 1)[1].split("</figure>", 1)[0]
    assert shown in table and hidden not in table
    assert "RCP C" not in html
    listed = client.get(f"/statistiques/dossiers?population=followup&{QUARTER_ARGS}")
    lines = listed.get_data(as_text=True)
    assert listed.status_code == 200
    assert f"{validated} lignes." in lines
    assert shown in lines and hidden not in lines and "RCP C" not in lines


def test_exports_and_annual_report_carry_the_section(app, world):
    scope = world["scope"]
    with app.test_request_context():
        report = compute_report(QUARTER, scope, now=NOW)
        html = annual_report_html(report, "Rapport annuel")
    rows = list(csv.reader(io.StringIO(figures_csv(report).decode("utf-8-sig")), delimiter=";"))
    implemented = next(row for row in rows if row[1] == "Propositions mises en œuvre comme proposé")
    assert implemented[0] == "Mise en œuvre des propositions"
    assert implemented[2:6] == ["55,6", "%", "0", "55,6"]
    assert "hors patients perdus de vue ou décédés" in implemented[6]
    book = openpyxl.load_workbook(io.BytesIO(workbook(report)), read_only=True)
    sheet = book[next(name for name in book.sheetnames if name.startswith("Motifs des écarts"))]
    values = [row for row in sheet.iter_rows(values_only=True)]
    book.close()
    assert values[1] == ("Choix du patient", 2, 1, 3, 75)
    assert "Mise en œuvre des propositions" in html
    assert "Mise en œuvre des propositions par RCP" in html
    assert "55,6 %" in html


def test_a_table_of_the_section_downloads_as_csv(app, world):
    client = _client(app, world["physician_a"])
    response = client.get(f"/statistiques/tableau.csv?tableau=followups.by_rcp&{QUARTER_ARGS}")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "RCP" and rows[1][:2] == ["RCP A — sein", "10"]
    assert rows[1][5] == "66,7"
    assert not any("RCP B" in cell for row in rows for cell in row)
