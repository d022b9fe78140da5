"""Withdrawing a case attachment (a duplicate, a report filed on the wrong patient): the
uploader or the coordination, with a reason, until the agenda is published; audited; the row
and the file are kept, hidden from the case, the meeting, the agenda and ordinary downloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rcp_app.cases.models import Attachment, Case
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.meetings.models import MeetingSession
from tests.support.factories import pdf_bytes

NAME = "CR-anapath-en-double.pdf"


@pytest.fixture
def world(make):
    uploader = make.user(role="physician")
    case = make.case(rcp_id=make.rcp(weekday=None).id, created_by_id=uploader.id)
    attachment = make.attachment(
        case.id, uploader.id, data=pdf_bytes(2), original_name=NAME, kind="pathology"
    )
    return {"uploader": uploader, "case": case, "attachment": attachment}


def _url(world, tail="/retirer"):
    return f"/dossiers/{world['case'].id}/pieces-jointes/{world['attachment'].id}{tail}"


def _withdraw(client, world, reason="Doublon du compte rendu déposé le 02/12."):
    prefix = f"retrait{world['attachment'].id}"
    return client.post(_url(world), data={f"{prefix}-reason": reason})


def _row(app, world) -> Attachment:
    with app.app_context():
        row = db.session.get(Attachment, world["attachment"].id)
        db.session.expunge(row)
        return row


def _audit(app, action="attachment.withdraw"):
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        ).all()


def _login_as(client, user):
    from tests.support.factories import PASSWORD

    response = client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


# --- who may withdraw --------------------------------------------------------------------------


def test_uploader_withdraws_with_a_reason_audited(app, client, world):
    _login_as(client, world["uploader"])
    page = client.get(f"/dossiers/{world['case'].id}").get_data(as_text=True)
    assert _url(world) in page  # the form is offered to the uploader
    response = _withdraw(client, world)
    assert response.status_code == 302
    row = _row(app, world)
    assert row.withdrawn_at is not None and row.withdrawn_by_id == world["uploader"].id
    assert row.withdrawal_reason == "Doublon du compte rendu déposé le 02/12."
    # The file is kept for the audit.
    path = Path(app.config["RCP_ATTACHMENTS_DIR"]) / row.storage_key
    assert path.is_file()
    [entry] = _audit(app)
    assert entry.object_type == "case" and entry.object_id == str(world["case"].id)
    assert entry.patient_id == world["case"].patient_id
    details = entry.details_dict()
    assert details["attachment_id"] == row.id and details["sha256"] == row.sha256
    assert details["reason"] == row.withdrawal_reason
    assert NAME not in entry.details  # the file name often carries the patient's name
    # The case history names the action and its reason.
    page = client.get(f"/dossiers/{world['case'].id}").get_data(as_text=True)
    assert "Retrait d&#39;une pièce jointe" in page


def test_coordinator_withdraws(app, client, login, world):
    login("coordinator")
    assert _withdraw(client, world).status_code == 302
    assert _row(app, world).withdrawn_at is not None


@pytest.mark.parametrize("role", ["physician", "gp", "admin"])
def test_others_are_refused(app, client, login, make, world, role):
    if role == "physician":
        # Another physician of the care team (a correspondent on the case): sees the file,
        # may not withdraw it.
        professional = make.professional()
        make.correspondent(world["case"].id, professional.id)
        login(role, professional_id=professional.id)
    else:
        login(role)
    if role == "physician":
        page = client.get(f"/dossiers/{world['case'].id}").get_data(as_text=True)
        assert NAME in page and _url(world) not in page  # no form for another physician
    response = _withdraw(client, world)
    assert response.status_code == 403
    assert _row(app, world).withdrawn_at is None
    assert _audit(app) == []


@pytest.mark.parametrize(
    "reason, message",
    [
        ("", "Indiquez le motif du retrait"),
        ("   \n ", "Indiquez le motif du retrait"),
        ("x" * 501, "500 caractères au maximum"),
        ("motif\x07", "contient un caractère invisible non autorisé"),
    ],
)
def test_reason_is_required_and_bounded(app, client, world, reason, message):
    _login_as(client, world["uploader"])
    response = _withdraw(client, world, reason=reason)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert '<details class="attachment-withdraw" open>' in page  # the form stays open
    assert _row(app, world).withdrawn_at is None
    assert _audit(app) == []


def test_already_withdrawn_is_a_conflict(app, client, world):
    _login_as(client, world["uploader"])
    assert _withdraw(client, world).status_code == 302
    response = _withdraw(client, world)
    assert response.status_code == 409
    assert "déjà retirée" in response.get_data(as_text=True)
    assert len(_audit(app)) == 1


def test_attachment_of_another_case_is_404(client, make, world):
    _login_as(client, world["uploader"])
    # A case the uploader may open too: only the attachment's case differs.
    other = make.case(rcp_id=make.rcp(weekday=None).id, created_by_id=world["uploader"].id)
    response = client.post(
        f"/dossiers/{other.id}/pieces-jointes/{world['attachment'].id}/retirer",
        data={f"retrait{world['attachment'].id}-reason": "Doublon"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize("status", ["agenda_published", "in_progress", "closed"])
def test_refused_once_the_agenda_is_published(app, client, login, make, status):
    coordinator = login("coordinator")
    rcp = make.rcp(weekday=None)
    session = make.session(rcp.id)
    item = make.agenda_item(session.id)
    attachment = make.attachment(item.case_id, coordinator.id, original_name=NAME)
    with app.app_context():
        db.session.get(MeetingSession, session.id).status = status
        db.session.commit()
    world = {"case": _case(app, item.case_id), "attachment": attachment}
    page = client.get(f"/dossiers/{item.case_id}").get_data(as_text=True)
    assert NAME in page and _url(world) not in page  # no form offered
    response = _withdraw(client, world)
    assert response.status_code == 409
    assert "est publié" in response.get_data(as_text=True)
    assert _row(app, world).withdrawn_at is None
    assert _audit(app) == []


def _case(app, case_id):
    with app.app_context():
        case = db.session.get(Case, case_id)
        db.session.expunge(case)
        return case


def test_allowed_while_on_a_planned_agenda(app, client, login, make):
    coordinator = login("coordinator")
    session = make.session(make.rcp(weekday=None).id)
    item = make.agenda_item(session.id)
    world = {
        "case": _case(app, item.case_id),
        "attachment": make.attachment(item.case_id, coordinator.id),
    }
    assert _withdraw(client, world).status_code == 302
    assert _row(app, world).withdrawn_at is not None


# --- hidden everywhere ---------------------------------------------------------------------------


def test_withdrawn_attachment_is_hidden_everywhere(app, client, login, make, world):
    kept = make.attachment(
        world["case"].id, world["uploader"].id, original_name="CR-operatoire.pdf", kind="other"
    )
    _login_as(client, world["uploader"])
    assert _withdraw(client, world).status_code == 302

    with app.app_context():
        case = db.session.get(Case, world["case"].id)
        # Every reader of ``case.attachments`` (case page, meeting mode, completeness, agenda,
        # fiche) gets the active ones only.
        assert [a.id for a in case.attachments] == [kept.id]
        assert {a.id for a in case.all_attachments} == {kept.id, world["attachment"].id}
        db.session.expunge_all()

    # The case page (ordinary user): the kept attachment only (the first view shows the
    # confirmation message, which names the file).
    assert "retirée du dossier" in client.get(f"/dossiers/{world['case'].id}").get_data(
        as_text=True
    )
    page = client.get(f"/dossiers/{world['case'].id}").get_data(as_text=True)
    assert "CR-operatoire.pdf" in page and NAME not in page
    assert "Pièces jointes retirées" not in page
    # Download refused to ordinary users, with a French message; nothing audited as read.
    response = client.get(_url(world, tail=""))
    assert response.status_code == 404
    assert "a été retirée du dossier" in response.get_data(as_text=True)
    assert _audit(app, "attachment.download") == []

    # The meeting page and the agenda, once the case is on a published agenda.
    with app.app_context():
        session_id = db.session.get(Case, world["case"].id).session_id
    item = make.agenda_item(session_id, world["case"].id)
    with app.app_context():
        scheduled = db.session.get(Case, world["case"].id)
        scheduled.status, scheduled.gp_unknown, scheduled.submitted_at = "scheduled", True, utcnow()
        db.session.get(MeetingSession, session_id).status = "agenda_published"
        db.session.commit()
    coordinator = app.test_client()
    coordinator_user = make.user(role="coordinator")
    make.coordinator_scope(coordinator_user.id, rcp_id=world["case"].rcp_id)  # runs this RCP
    _login_as(coordinator, coordinator_user)
    client = coordinator
    meeting = client.get(f"/seances/{session_id}/reunion?dossier={item.id}")
    assert meeting.status_code == 200
    meeting_page = meeting.get_data(as_text=True)
    assert "CR-operatoire.pdf" in meeting_page and NAME not in meeting_page
    agenda = client.get(f"/seances/{session_id}").get_data(as_text=True)
    assert NAME not in agenda


def test_coordination_still_sees_and_downloads_a_withdrawn_attachment(app, client, login, world):
    login("coordinator")
    assert _withdraw(client, world, reason="Compte rendu d'un autre patient").status_code == 302
    page = client.get(f"/dossiers/{world['case'].id}").get_data(as_text=True)
    assert "Pièces jointes retirées (1)" in page
    assert "Compte rendu d&#39;un autre patient" in page
    response = client.get(_url(world, tail=""))
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")
    response.close()
    [entry] = _audit(app, "attachment.download")
    assert entry.details_dict()["attachment_id"] == world["attachment"].id


def test_database_refuses_a_withdrawal_without_reason(app, world):
    with app.app_context():
        row = db.session.get(Attachment, world["attachment"].id)
        row.withdrawn_at = utcnow()
        row.withdrawn_by_id = world["uploader"].id
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
