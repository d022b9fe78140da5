"""The attendance sheet (« feuille d'émargement »): present and excused professionals with
specialty, arrival and departure times and a signature column, the quorum of the session and
of each agenda case (by number, no patient name: the sheet goes round the room); linked from
the attendance page and the session page; printable (print style sheet); reads only."""

from __future__ import annotations

from datetime import datetime

import pytest

from rcp_app.meetings.operations import local_to_utc
from tests.test_cases_completeness import count_queries

ONCO, RADIO, SURG, PATH = "G15_10/SM36", "G15_10/SM45", "G15_10/SM05", "G15_10/SM01"


@pytest.fixture
def world(app, make):
    from rcp_app.directory.models import RcpMember
    from rcp_app.extensions import db

    coordinator_doc = make.professional(last_name="Coordo", specialty_code=ONCO)
    rcp = make.rcp(required_specialties=(RADIO,), coordinator_id=coordinator_doc.id, weekday=None)
    session = make.session(rcp.id, status="in_progress")
    onco = make.professional(last_name="Martin", first_name="Claire", specialty_code=ONCO)
    radio = make.professional(last_name="Bernard", first_name="Louis", specialty_code=RADIO)
    surg = make.professional(last_name="Petit", first_name="Anne", specialty_code=SURG)
    excused = make.professional(last_name="Zéphyr", first_name="Inès", specialty_code=PATH)
    with app.app_context():
        for professional in (onco, radio, excused):
            db.session.add(RcpMember(rcp_id=rcp.id, professional_id=professional.id))
        db.session.commit()
    make.attendance(session.id, onco.id, arrived_at=local_to_utc(datetime(2026, 3, 10, 14, 5)))
    make.attendance(
        session.id,
        radio.id,
        mode="remote",
        arrived_at=local_to_utc(datetime(2026, 3, 10, 14, 10)),
        left_at=local_to_utc(datetime(2026, 3, 10, 15, 40)),
    )
    make.attendance(session.id, surg.id, arrived_at=local_to_utc(datetime(2026, 3, 10, 14, 12)))
    item = make.agenda_item(session.id)
    patient_case = item.case_id
    hidden = make.patient(birth_name="ABSENTDELAFEUILLE")
    make.case(rcp_id=rcp.id, session_id=session.id, patient_id=hidden.id)  # not on the agenda
    return {"session": session, "case_id": patient_case, "rcp": rcp}


def url(world):
    return f"/seances/{world['session'].id}/emargement"


def test_sheet_lists_present_and_excused_with_times_and_signature(client, login, world):
    login("coordinator")
    response = client.get(url(world))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Feuille d'émargement</h1>" in page
    assert world["rcp"].name in page
    # Present, with specialty and times (Paris time), departure of the one who left.
    for name in ("MARTIN Claire", "BERNARD Louis", "PETIT Anne"):
        assert name in page
    assert "Oncologie médicale" in page and "Radiothérapie" in page
    assert "14h05" in page and "14h10" in page and "15h40" in page
    assert "Présent(e) — à distance" in page
    # The RCP member who did not come: « absent(e) ou excusé(e) », after those present.
    assert "ZÉPHYR Inès" in page
    assert page.index("PETIT Anne") < page.index("ZÉPHYR Inès")
    assert page.count("Absent(e) ou excusé(e)") == 1
    # A signature column on every line (3 present + 1 excused + 4 blank lines).
    assert page.count('<td class="sheet-signature"></td>') == 8
    assert "Signature" in page


def test_sheet_shows_the_quorum_per_agenda_case_without_patient_names(client, login, world):
    login("physician")
    page = client.get(url(world)).get_data(as_text=True)
    # Radiotherapist left: the session's quorum (3 specialties incl. radiotherapy) is missed.
    assert "Quorum non atteint : il manque Radiothérapie" in page
    assert f"n° {world['case_id']}" in page
    assert "DUPONT" not in page  # the agenda case's patient is not named
    assert "ABSENTDELAFEUILLE" not in page  # nor a case that is not on the agenda


def test_sheet_is_linked_and_printable(client, login, world):
    login("coordinator")
    sid = world["session"].id
    assert f'href="/seances/{sid}/emargement"' in client.get(f"/seances/{sid}/presences").get_data(
        as_text=True
    )
    assert f'href="/seances/{sid}/emargement"' in client.get(f"/seances/{sid}").get_data(
        as_text=True
    )
    response = client.get("/static/css/app.css")
    css = response.get_data(as_text=True)
    response.close()
    assert "@media print" in css and "body:has(.attendance-sheet) .navbar" in css


@pytest.mark.parametrize("role, status", [("gp", 403), ("admin", 403)])
def test_sheet_access(client, login, world, role, status):
    login(role)
    assert client.get(url(world)).status_code == status


def test_unknown_session_is_404(client, login):
    login("coordinator")
    assert client.get("/seances/999999/emargement").status_code == 404


def test_sheet_uses_a_constant_number_of_queries(client, login, make, world):
    login("coordinator")

    def fill(count):
        for i in range(count):
            professional = make.professional(last_name=f"Médecin{i}", specialty_code=SURG)
            make.attendance(world["session"].id, professional.id)
            make.agenda_item(world["session"].id)

    fill(2)
    with count_queries() as few:
        assert client.get(url(world)).status_code == 200
    fill(15)
    with count_queries() as many:
        page = client.get(url(world)).get_data(as_text=True)
    assert page.count("MÉDECIN") >= 17
    assert len(many) == len(few), "\n".join(many)
