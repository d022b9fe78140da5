"""A deviation goes back to the RCP: a new draft case, filled from the previous one, whose
question says why; refused twice, and refused for anything but a deviation."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from rcp_app.cases.models import Case
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import format_date, utcnow
from rcp_app.extensions import db
from rcp_app.meetings.models import MeetingSession
from tests.followups.support import follow_up_world, load, today
from tests.support.access_routes import login

DEVIATION = {
    "state": "started_other",
    "other_treatment": "Hormonothérapie",
    "started_on": (today() - timedelta(days=2)).strftime("%d/%m/%Y"),
    "deviation_reason": "contraindication",
    "details": "Insuffisance rénale",
}


@pytest.fixture
def world(app, make):
    return follow_up_world(app, make)


def _record(client, world, data):
    version = str(load(client.application, world.follow_up_id).version)
    response = client.post(f"/suivis/{world.follow_up_id}", data={**data, "version": version})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def _represent(client, world):
    version = str(load(client.application, world.follow_up_id).version)
    return client.post(f"/suivis/{world.follow_up_id}/representer", data={"version": version})


def _cases_of(app, patient_id: int) -> list[Case]:
    with app.app_context():
        rows = db.session.scalars(
            select(Case).where(Case.patient_id == patient_id).order_by(Case.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_a_deviation_becomes_a_new_draft_case(app, world):
    client = login(app, world.requester)
    _record(client, world, DEVIATION)
    page = unescape(client.get(f"/suivis/{world.follow_up_id}").get_data(as_text=True))
    assert "Représenter le dossier en RCP" in page
    response = _represent(client, world)
    assert response.status_code == 302
    previous, new = _cases_of(app, world.patient_id)
    assert response.headers["Location"].endswith(f"/dossiers/{new.id}/modifier")
    assert (new.status, new.rcp_id, new.patient_id) == ("draft", world.rcp_id, world.patient_id)
    assert new.created_by_id == world.requester.id
    assert (new.requester_id, new.synthesis) == (previous.requester_id, previous.synthesis)
    with app.app_context():
        session = db.session.get(MeetingSession, new.session_id)
        old_session = db.session.get(MeetingSession, previous.session_id)
        assert session.status == "planned" and session.starts_at > utcnow()
        meeting_day = format_date(old_session.starts_at)
    assert new.question.startswith(
        f"Nouvelle présentation après un écart à la proposition de la RCP du {meeting_day}"
    )
    assert "autre traitement commencé : Hormonothérapie" in new.question
    assert "motif : contre-indication (Insuffisance rénale)" in new.question
    assert f"présentation précédente : {previous.question}" in new.question
    assert load(app, world.follow_up_id).represented_case_id == new.id
    with app.app_context():
        audit = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "followup.represent")
        )
    assert audit.patient_id == world.patient_id
    assert audit.details_dict()["case_id"] == new.id
    # The edit page opens on the new case, its values there.
    edit = client.get(f"/dossiers/{new.id}/modifier")
    assert edit.status_code == 200
    assert "Hormonothérapie" in unescape(edit.get_data(as_text=True))


def test_refused_a_second_time(app, world):
    client = login(app, world.requester)
    _record(client, world, {"state": "not_started", "deviation_reason": "patient_choice"})
    assert _represent(client, world).status_code == 302
    again = _represent(client, world)
    assert again.status_code == 302
    assert again.headers["Location"].endswith(f"/suivis/{world.follow_up_id}")
    page = unescape(client.get(again.headers["Location"]).get_data(as_text=True))
    assert "Ce suivi a déjà été représenté en RCP : dossier n°" in page
    assert len(_cases_of(app, world.patient_id)) == 2
    assert "Représenter le dossier en RCP" not in page


@pytest.mark.parametrize(
    "data",
    [
        None,  # pending
        {"state": "started_as_proposed", "option_rank": "0", "started_on": DEVIATION["started_on"]},
        {"state": "lost"},
    ],
)
def test_refused_for_anything_but_a_deviation(app, world, data):
    client = login(app, world.requester)
    if data:
        _record(client, world, data)
    response = _represent(client, world)
    assert response.status_code == 302
    page = unescape(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "Seul un écart à la proposition" in page
    assert len(_cases_of(app, world.patient_id)) == 1
    assert load(app, world.follow_up_id).represented_case_id is None


def test_refused_to_who_does_not_edit_the_case_and_on_a_stale_page(app, world):
    client = login(app, world.requester)
    _record(client, world, DEVIATION)
    assert _represent(login(app, world.member), world).status_code == 403
    stale = client.post(f"/suivis/{world.follow_up_id}/representer", data={"version": "1"})
    assert stale.status_code == 302
    page = unescape(client.get(stale.headers["Location"]).get_data(as_text=True))
    assert "renseigné par un autre utilisateur" in page
    with app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Case).where(Case.patient_id == world.patient_id)
        )
    assert count == 1
