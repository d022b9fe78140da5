"""Publishing: frozen agenda, late additions, notifications outbox; the agenda PDF and .ics;
the agenda and pool pages issue a constant number of SQL queries."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import icalendar
import pytest
from pypdf import PdfReader

from rcp_app.core.timeutil import PARIS, to_paris
from tests.meetings_support import (
    audits,
    item_ids,
    notifications,
    pool_case,
    session_row,
    simple_rcp,
)
from tests.test_cases_completeness import count_queries


@pytest.fixture
def agenda(app, client, make, login):
    """A coordinated RCP, a session with two scheduled cases (one registered)."""
    login("coordinator")
    coordinator = make.professional(last_name="Coordo", first_name="Anne")
    rcp = simple_rcp(app, make, coordinator_id=coordinator.id, name="RCP Sénologie Nord")
    session = make.session(rcp.id, video_url="https://visio.example.org/senologie")
    requester = make.professional(last_name="Martin", first_name="Claire")
    patients = [
        make.patient(
            birth_name="Durand", first_birth_first_name="Léa", birth_date=date(1960, 5, 4)
        ),
        make.patient(birth_name="Petit", first_birth_first_name="Jeanne"),
    ]
    cases = [
        pool_case(make, rcp.id, session.id, patient_id=p.id, requester_id=requester.id)
        for p in patients
    ]
    for case in cases:
        assert (
            client.post(
                f"/seances/{session.id}/ordre-du-jour/ajouter", data={"case_id": case.id}
            ).status_code
            == 302
        )
    second = item_ids(app, session.id)[1]
    client.post(
        f"/seances/{session.id}/ordre-du-jour/{second}/modifier",
        data={"mode": "registered", "guideline": "Référentiel INCa 2024", "estimated_minutes": "3"},
    )
    return {"rcp": rcp, "session": session, "cases": cases, "coordinator": coordinator,
            "requester": requester}  # fmt: skip


def _publish(client, app, session_id, version=None):
    if version is None:
        version = session_row(app, session_id).agenda_version
    return client.post(f"/seances/{session_id}/publier", data={"version": version})


def test_publish_freezes_and_notifies(app, client, make, agenda):
    session = agenda["session"]
    before = notifications(app)
    assert _publish(client, app, session.id, version=1).status_code == 409  # stale page
    assert session_row(app, session.id).status == "planned"
    assert _publish(client, app, session.id).status_code == 302
    row = session_row(app, session.id)
    assert row.status == "agenda_published" and row.published_at is not None
    published = [n for n in notifications(app) if n[0] == "agenda_published"]
    assert sorted(n[1] for n in published) == sorted(
        [agenda["coordinator"].id, agenda["requester"].id]
    )
    assert all(n[2] == session.id and n[4] == "pending" for n in published)
    assert len(notifications(app)) == len(before) + 2
    assert len(audits(app, "session.publish")) == 1
    # Publishing twice is refused; a later addition is allowed and flagged.
    assert _publish(client, app, session.id).status_code == 409
    late = pool_case(make, agenda["rcp"].id, session.id)
    response = client.post(
        f"/seances/{session.id}/ordre-du-jour/ajouter", data={"case_id": late.id}
    )
    assert response.status_code == 302
    page = client.get(f"/seances/{session.id}").get_data(as_text=True)
    assert "Ajout tardif" in page
    assert json.loads(audits(app, "agenda.assign")[-1].details)["late_addition"] is True


def test_empty_agenda_cannot_be_published(app, client, make, login):
    login("coordinator")
    session = make.session(make.rcp().id)
    response = _publish(client, app, session.id)
    assert response.status_code == 400 and "L&#39;ordre du jour est vide" in response.get_data(
        as_text=True
    )
    assert session_row(app, session.id).status == "planned"


def test_agenda_pdf(app, client, make, agenda, login):
    _publish(client, app, agenda["session"].id)
    client.post("/deconnexion")
    login("physician")
    response = client.get(f"/seances/{agenda['session'].id}/ordre-du-jour.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert "attachment" in response.headers["Content-Disposition"]
    pages = PdfReader(io.BytesIO(response.data)).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())
    assert "DURAND Léa" in text and "PETIT Jeanne" in text
    assert "04/05/1960" in text
    assert "RCP Sénologie Nord" in text
    assert "Dr COORDO Anne" in text and "Dr MARTIN Claire" in text
    assert "Quel traitement adjuvant ?" in text
    assert "Référentiel INCa 2024" in text
    assert text.index("DURAND Léa") < text.index("Dossiers enregistrés") < text.index("PETIT")
    [entry] = audits(app, "session.agenda_pdf")
    assert sorted(json.loads(entry.details)["cases"]) == sorted(c.id for c in agenda["cases"])


def test_ics(app, client, agenda):
    session = agenda["session"]
    response = client.get(f"/seances/{session.id}/seance.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    [event] = list(calendar.walk("VEVENT"))
    start = event.decoded("dtstart")
    assert start == to_paris(session_row(app, session.id).starts_at)
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert str(event["location"]) == "Salle Curie"
    assert str(event["url"]) == "https://visio.example.org/senologie"
    assert "RCP Sénologie Nord" in str(event["description"])
    assert list(calendar.walk("VTIMEZONE"))
    again = icalendar.Calendar.from_ical(client.get(f"/seances/{session.id}/seance.ics").data)
    assert str(list(again.walk("VEVENT"))[0]["uid"]) == str(event["uid"])
    assert isinstance(start, datetime) and start.tzinfo is not None


def test_ics_dtstart_is_paris_wall_clock_time(app, client, make, login):
    login("physician")
    # 12h00 UTC on 6 July 2027 is 14h00 in Paris (summer time).
    session = make.session(make.rcp().id, starts_at=datetime(2027, 7, 6, 12, 0))
    data = client.get(f"/seances/{session.id}/seance.ics").data.decode()
    assert "DTSTART;TZID=Europe/Paris:20270706T140000" in data
    assert f"UID:rcp-session-{session.id}@rcp-app" in data
    event = list(icalendar.Calendar.from_ical(data).walk("VEVENT"))[0]
    assert event.decoded("dtstart") == datetime(2027, 7, 6, 14, 0, tzinfo=PARIS)


def _fill(app, client, make, count: int):
    rcp = simple_rcp(app, make)
    session = make.session(rcp.id, capacity=200)
    requester = make.professional()
    creator = make.user(role="physician")
    common = {"requester_id": requester.id, "created_by_id": creator.id}
    for _ in range(count):
        make.agenda_item(
            session.id,
            pool_case(make, rcp.id, session.id, status="scheduled", **common).id,
        )
        pool_case(make, rcp.id, session.id, **common)
    return session


def test_agenda_and_pool_pages_use_a_constant_number_of_queries(app, client, make, login):
    login("coordinator")
    counts = []
    for count in (5, 60):
        session = _fill(app, client, make, count)
        with count_queries() as statements:
            page = client.get(f"/seances/{session.id}").get_data(as_text=True)
        assert f"Dossiers en attente ({count})" in page
        assert page.count('class="agenda-row"') == count
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_usual_participants_are_invited(app, client, make, agenda, login):
    from rcp_app.directory.models import Rcp, RcpMember
    from rcp_app.extensions import db

    member = make.professional(last_name="Radiologue", first_name="Paul")
    with app.app_context():
        rcp = db.session.get(Rcp, agenda["rcp"].id)
        rcp.members = [RcpMember(professional_id=member.id)]
        db.session.commit()
    assert _publish(client, app, agenda["session"].id).status_code == 302
    published = [n for n in notifications(app) if n[0] == "agenda_published"]
    assert sorted(n[1] for n in published) == sorted(
        [agenda["coordinator"].id, member.id, agenda["requester"].id]
    )
    pdf = client.get(f"/seances/{agenda['session'].id}/ordre-du-jour.pdf").data
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Dr COORDO Anne (coordonnateur)" in text and "Dr RADIOLOGUE Paul" in text
