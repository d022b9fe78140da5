"""Sessions: status transitions (table and CHECK constraint), generation from the RCP's rhythm,
ad hoc creation, edit, the list; access by role."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.meetings.models import SESSION_STATUSES, MeetingSession, can_transition
from rcp_app.meetings.operations import local_to_utc
from tests.meetings_support import audits, session_row

ALLOWED = {
    ("planned", "agenda_published"),
    ("agenda_published", "in_progress"),
    ("in_progress", "closed"),
}


@pytest.mark.parametrize("current, target", list(itertools.product(SESSION_STATUSES, repeat=2)))
def test_transition_table(current, target):
    assert can_transition(current, target) is ((current, target) in ALLOWED)


def test_unknown_status_is_refused_by_the_database(app, make):
    session = make.session(make.rcp().id)
    with app.app_context():
        with pytest.raises(IntegrityError):
            db.session.execute(
                update(MeetingSession)
                .where(MeetingSession.id == session.id)
                .values(status="cancelled")
            )
        db.session.rollback()


def _count(app, rcp_id):
    with app.app_context():
        return db.session.scalar(
            select(func.count(MeetingSession.id)).where(MeetingSession.rcp_id == rcp_id)
        )


def test_status_changes_through_the_page(app, client, make, login):
    login("coordinator")
    session = make.session(make.rcp().id)
    response = client.post(
        f"/seances/{session.id}/statut", data={"status": "in_progress", "version": 1}
    )
    assert response.status_code == 409 and "ne peut pas passer" in response.get_data(as_text=True)
    with app.app_context():
        db.session.execute(
            update(MeetingSession)
            .where(MeetingSession.id == session.id)
            .values(status="agenda_published")
        )
        db.session.commit()
    version = session_row(app, session.id).version
    for target in ("in_progress", "closed"):
        response = client.post(
            f"/seances/{session.id}/statut", data={"status": target, "version": version}
        )
        assert response.status_code == 302
        version += 1
        assert session_row(app, session.id).status == target
    assert len(audits(app, "session.status")) == 2
    response = client.post(f"/seances/{session.id}/statut", data={"status": "x", "version": 9})
    assert response.status_code == 400


def test_generate_the_next_sessions(app, client, make, login):
    login("coordinator")
    rcp = make.rcp()
    response = client.post("/seances/generer", data={"rcp_id": rcp.id, "count": "4"})
    assert response.status_code == 302
    assert _count(app, rcp.id) == 4
    page = client.get(f"/seances?rcp={rcp.id}").get_data(as_text=True)
    assert "4 séance(s) créée(s)." in page and "Planifiée" in page
    # Idempotent, and bad counts are refused with a French message.
    client.post("/seances/generer", data={"rcp_id": rcp.id, "count": "4"})
    assert _count(app, rcp.id) == 4
    for bad in ("0", "-1", "abc", "999"):
        response = client.post("/seances/generer", data={"rcp_id": rcp.id, "count": bad})
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "Nombre de séances : un entier entre 1 et 26." in page
    assert _count(app, rcp.id) == 4
    no_rhythm = make.rcp(weekday=None)
    response = client.post("/seances/generer", data={"rcp_id": no_rhythm.id, "count": "2"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "pas de jour et d&#39;heure fixes" in page
    assert _count(app, no_rhythm.id) == 0


def _form(day: date, **fields):
    data = {
        "date": day.isoformat(),
        "time": "17:30",
        "place": "Salle Pasteur",
        "video_url": "https://visio.example.org/rcp",
        "capacity": "12",
        "deadline_date": (day - timedelta(days=2)).isoformat(),
        "deadline_time": "12:00",
    }
    data.update(fields)
    return data


def test_create_an_ad_hoc_session(app, client, make, login):
    login("coordinator")
    rcp = make.rcp(weekday=None)
    day = date.today() + timedelta(days=30)
    response = client.post(f"/seances/nouvelle?rcp={rcp.id}", data=_form(day))
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalars(
            select(MeetingSession).where(MeetingSession.rcp_id == rcp.id)
        ).one()
        # 17h30 Paris time, stored in UTC (16h30 in winter, 15h30 in summer).
        assert session.starts_at == local_to_utc(datetime.combine(day, time(17, 30)))
        assert session.starts_at.hour in (15, 16)
        assert (session.place, session.capacity, session.status) == ("Salle Pasteur", 12, "planned")
    assert len(audits(app, "session.create")) == 1


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"deadline_date": "2099-01-01"}, "La date limite d&#39;inscription doit précéder"),
        ({"capacity": "0"}, "Entre 1 et 200 dossiers."),
        ({"date": "31/02/2026"}, "date"),
        ({"video_url": "pas une adresse"}, "commençant par https://"),
        ({"video_url": "http://visio.example.org/rcp"}, "commençant par https://"),
    ],
)
def test_bad_session_forms_save_nothing(app, client, make, login, fields, message):
    login("coordinator")
    rcp = make.rcp(weekday=None)
    day = date.today() + timedelta(days=30)
    response = client.post(f"/seances/nouvelle?rcp={rcp.id}", data=_form(day, **fields))
    assert response.status_code in (200, 400)
    assert message in response.get_data(as_text=True)
    assert _count(app, rcp.id) == 0


def test_edit_a_planned_session_and_stale_version(app, client, make, login):
    login("coordinator")
    session = make.session(make.rcp().id)
    day = date.today() + timedelta(days=20)
    page = client.get(f"/seances/{session.id}/modifier").get_data(as_text=True)
    assert 'value="Salle Curie"' in page
    response = client.post(
        f"/seances/{session.id}/modifier", data=_form(day, capacity="8", version="1")
    )
    assert response.status_code == 302
    assert session_row(app, session.id).capacity == 8
    [entry] = audits(app, "session.update")
    assert entry.object_id == str(session.id)
    response = client.post(
        f"/seances/{session.id}/modifier", data=_form(day, capacity="9", version="1")
    )
    assert response.status_code == 409
    assert "modifiée entre-temps" in response.get_data(as_text=True)
    assert session_row(app, session.id).capacity == 8


def test_list_shows_upcoming_and_past(app, client, make, login):
    login("physician")
    rcp = make.rcp()
    soon = make.session(rcp.id)
    past = make.session(rcp.id, starts_at=utcnow() - timedelta(days=10), status="closed")
    page = client.get("/seances").get_data(as_text=True)
    upcoming_part, past_part = page.split('id="past-title"')
    assert f"/seances/{soon.id}" in upcoming_part and f"/seances/{past.id}" in past_part
    assert "Générer" not in page  # physicians do not manage
    assert 'href="/seances"' in page  # navigation entry "Séances"
    for bad in ("abc", "-1", "99999999999"):
        assert client.get(f"/seances?rcp={bad}").status_code == 200


def test_a_closed_session_is_never_listed_as_upcoming(app, client, make, login):
    """Closed ahead of its date (or a date typed wrong): done, so under « Passées ou closes »;
    a session under way stays with the upcoming ones even once its start time has passed."""
    login("coordinator")
    rcp = make.rcp()
    closed_ahead = make.session(rcp.id, status="closed")  # two weeks ahead, already closed
    running = make.session(rcp.id, starts_at=utcnow() - timedelta(hours=1), status="in_progress")
    planned = make.session(rcp.id)
    page = client.get(f"/seances?rcp={rcp.id}").get_data(as_text=True)
    upcoming_part, past_part = page.split('id="past-title"')
    assert "Passées ou closes" in past_part
    assert f'/seances/{closed_ahead.id}"' not in upcoming_part
    assert f'/seances/{closed_ahead.id}"' in past_part
    assert f'/seances/{running.id}"' in upcoming_part
    assert f'/seances/{planned.id}"' in upcoming_part and f'/seances/{planned.id}"' not in past_part


def test_gp_and_physician_access(app, client, make, login):
    session = make.session(make.rcp().id)
    login("physician")
    assert client.get(f"/seances/{session.id}").status_code == 200
    assert client.post(f"/seances/{session.id}/publier").status_code == 403
    client.post("/deconnexion")
    login("gp")
    for url in ("/seances", f"/seances/{session.id}", f"/seances/{session.id}/seance.ics"):
        assert client.get(url).status_code == 403
