"""Attendance at a session: operations, page, permissions, audit, query counts."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rcp_app.attendance import operations as ops
from rcp_app.attendance.models import Attendance, CaseRequiredSpecialty
from rcp_app.core.audit import AuditEntry
from rcp_app.core.errors import DomainError, PermissionDenied
from rcp_app.extensions import db
from rcp_app.meetings.models import MeetingSession
from rcp_app.terminology.builtin import QUORUM_NOT_REACHED, QUORUM_REACHED
from tests.test_cases_completeness import count_queries

ONCO, RADIO, SURG, PATH = "G15_10/SM36", "G15_10/SM45", "G15_10/SM05", "G15_10/SM01"


@pytest.fixture
def world(make):
    coordinator_doc = make.professional(last_name="Coordo", specialty_code=ONCO)
    rcp = make.rcp(required_specialties=(RADIO,), coordinator_id=coordinator_doc.id, weekday=None)
    session = make.session(rcp.id)
    return {
        "rcp": rcp,
        "session": session,
        "coordinator_doc": coordinator_doc,
        "onco": make.professional(last_name="Martin", specialty_code=ONCO),
        "radio": make.professional(last_name="Bernard", specialty_code=RADIO),
        "surg": make.professional(last_name="Petit", specialty_code=SURG),
        "path": make.professional(last_name="Durand", specialty_code=PATH),
    }


def on_agenda(make, world):
    """A scheduled case on the world session's agenda."""
    item = make.agenda_item(world["session"].id)
    with make.app.app_context():
        from rcp_app.cases.models import Case

        case = db.session.get(Case, item.case_id)
        db.session.expunge(case)
    return case


def url(session_id, tail=""):
    return f"/seances/{session_id}/presences{tail}"


def attendances(app, session_id):
    with app.app_context():
        return db.session.scalars(
            select(Attendance).where(Attendance.session_id == session_id).order_by(Attendance.id)
        ).all()


def audit_actions(app, action_prefix):
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.like(f"{action_prefix}%"))
            .order_by(AuditEntry.seq)
        ).all()


def add(client, session_id, professional_id, mode="on_site", member=True):
    data = {"professional_id": str(professional_id), "mode": mode}
    if member:
        data["quorum_member"] = "y"
    return client.post(url(session_id), data=data)


# --- recording -------------------------------------------------------------------------------


def test_coordinator_records_attendance_with_audit(app, client, login, world):
    login("coordinator")
    session = world["session"]
    response = add(client, session.id, world["onco"].id, mode="remote")
    assert response.status_code == 302
    rows = attendances(app, session.id)
    assert [(r.professional_id, r.mode, r.quorum_member) for r in rows] == [
        (world["onco"].id, "remote", True)
    ]
    entries = audit_actions(app, "attendance.add")
    assert len(entries) == 1
    assert entries[0].object_type == "session" and entries[0].object_id == str(session.id)
    assert entries[0].details_dict()["professional_id"] == world["onco"].id
    page = client.get(url(session.id)).get_data(as_text=True)
    assert "Présence de Dr MARTIN Élise enregistrée." in page
    assert "À distance" in page and "Membre du quorum" in page
    # Already present: no longer offered in the add form.
    assert f'<option value="{world["onco"].id}">' not in page
    assert f'<option value="{world["radio"].id}">' in page


def test_non_quorum_attendee(app, client, login, world):
    login("coordinator")
    assert add(client, world["session"].id, world["onco"].id, member=False).status_code == 302
    assert attendances(app, world["session"].id)[0].quorum_member is False


@pytest.mark.parametrize("bad_id", ["999999", "abc", "-1", "12345678901234", ""])
def test_unknown_professional_changes_nothing(app, client, login, world, bad_id):
    login("coordinator")
    response = client.post(
        url(world["session"].id), data={"professional_id": bad_id, "mode": "on_site"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    if bad_id:
        assert "Ce professionnel est inconnu de l&#39;annuaire" in page
    else:
        assert "Le formulaire contient des erreurs" in page
    assert attendances(app, world["session"].id) == []
    assert audit_actions(app, "attendance.") == []


def test_duplicate_attendance_refused(app, client, login, world):
    login("coordinator")
    add(client, world["session"].id, world["onco"].id)
    response = add(client, world["session"].id, world["onco"].id, mode="remote")
    assert response.status_code == 200
    assert "est déjà enregistré(e) parmi les présents" in response.get_data(as_text=True)
    rows = attendances(app, world["session"].id)
    assert len(rows) == 1 and rows[0].mode == "on_site"
    assert len(audit_actions(app, "attendance.add")) == 1


def test_inactive_professional_refused(app, client, login, make, world):
    login("coordinator")
    retired = make.professional(last_name="Ancien", active=False)
    response = add(client, world["session"].id, retired.id)
    assert response.status_code == 200
    assert "Dr ANCIEN Élise est inactif dans l&#39;annuaire" in response.get_data(as_text=True)
    assert attendances(app, world["session"].id) == []


def test_bad_mode_refused(app, client, login, world):
    login("coordinator")
    response = add(client, world["session"].id, world["onco"].id, mode="teleport")
    assert response.status_code == 200
    assert "sur place ou à distance" in response.get_data(as_text=True)
    assert attendances(app, world["session"].id) == []


def test_database_refuses_bad_mode_and_duplicates(app, make, world):
    make.attendance(world["session"].id, world["onco"].id)
    with app.app_context():
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(
                Attendance(
                    session_id=world["session"].id,
                    professional_id=world["onco"].id,
                    mode="on_site",
                    arrived_at=world["session"].starts_at,
                )
            )
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(
                Attendance(
                    session_id=world["session"].id,
                    professional_id=world["radio"].id,
                    mode="elsewhere",
                    arrived_at=world["session"].starts_at,
                )
            )
        db.session.rollback()


# --- who may record --------------------------------------------------------------------------


def test_other_physician_views_but_cannot_record(app, client, login, world):
    login("physician")
    page = client.get(url(world["session"].id))
    assert page.status_code == 200
    assert "Enregistrer la présence" not in page.get_data(as_text=True)
    assert add(client, world["session"].id, world["onco"].id).status_code == 403
    assert attendances(app, world["session"].id) == []


def test_coordinating_physician_records(app, client, login, world):
    login("physician", professional_id=world["coordinator_doc"].id)
    assert "Enregistrer la présence" in client.get(url(world["session"].id)).get_data(as_text=True)
    assert add(client, world["session"].id, world["onco"].id).status_code == 302
    assert len(attendances(app, world["session"].id)) == 1


@pytest.mark.parametrize("role", ["admin", "gp"])
def test_other_roles_get_403(client, login, world, role):
    login(role)
    assert client.get(url(world["session"].id)).status_code == 403
    assert add(client, world["session"].id, world["onco"].id).status_code == 403


def test_operations_refuse_wrong_role(app, make, world):
    physician = make.user(role="physician")
    gp = make.user(role="gp", professional_id=world["coordinator_doc"].id)
    with app.app_context():
        session = db.session.get(MeetingSession, world["session"].id)
        for user in (physician, gp, make.user(role="admin")):
            user = db.session.merge(user)
            with pytest.raises(PermissionDenied):
                ops.record_attendance(session, user, world["onco"].id)
        db.session.rollback()


def test_unknown_session_is_404(client, login):
    login("coordinator")
    assert client.get(url(987654)).status_code == 404


# --- changes ---------------------------------------------------------------------------------


def test_mode_quorum_departure_and_removal(app, client, login, make, world):
    login("coordinator")
    sid = world["session"].id
    att = make.attendance(sid, world["onco"].id)
    assert client.post(url(sid, f"/{att.id}/mode"), data={"mode": "remote"}).status_code == 302
    assert client.post(url(sid, f"/{att.id}/quorum"), data={"member": "0"}).status_code == 302
    [row] = attendances(app, sid)
    assert row.mode == "remote" and row.quorum_member is False and row.left_at is None
    assert client.post(url(sid, f"/{att.id}/depart"), data={"_": "1"}).status_code == 302
    [row] = attendances(app, sid)
    assert row.left_at is not None and row.left_at >= row.arrived_at
    # A second departure: a message, nothing changed.
    client.post(url(sid, f"/{att.id}/depart"), data={"_": "1"})
    assert "déjà enregistré" in client.get(url(sid)).get_data(as_text=True)
    assert client.post(url(sid, f"/{att.id}/supprimer"), data={"_": "1"}).status_code == 302
    assert attendances(app, sid) == []
    actions = [e.action for e in audit_actions(app, "attendance.")]
    assert actions == [
        "attendance.mode",
        "attendance.quorum_member",
        "attendance.depart",
        "attendance.remove",
    ]


def test_bad_values_change_nothing(app, client, login, make, world):
    login("coordinator")
    sid = world["session"].id
    att = make.attendance(sid, world["onco"].id)
    client.post(url(sid, f"/{att.id}/mode"), data={"mode": "teleport"})
    client.post(url(sid, f"/{att.id}/quorum"), data={"member": "peut-être"})
    [row] = attendances(app, sid)
    assert row.mode == "on_site" and row.quorum_member is True
    assert audit_actions(app, "attendance.") == []
    page = client.get(url(sid)).get_data(as_text=True)
    assert "sur place ou à distance" in page


def test_attendance_of_another_session_is_404(client, login, make, world):
    login("coordinator")
    other = make.session(world["rcp"].id)
    att = make.attendance(other.id, world["onco"].id)
    sid = world["session"].id
    for tail in ("mode", "quorum", "depart", "supprimer"):
        assert client.post(url(sid, f"/{att.id}/{tail}"), data={"_": "1"}).status_code == 404


def test_physician_cannot_change(app, client, login, make, world):
    login("physician")
    sid = world["session"].id
    att = make.attendance(sid, world["onco"].id)
    assert client.post(url(sid, f"/{att.id}/mode"), data={"mode": "remote"}).status_code == 403
    assert client.post(url(sid, f"/{att.id}/supprimer"), data={"_": "1"}).status_code == 403
    assert attendances(app, sid)[0].mode == "on_site"


# --- quorum on the page and per case ---------------------------------------------------------


def present(make, world, *keys, member=True):
    for key in keys:
        make.attendance(world["session"].id, world[key].id, quorum_member=member)


def test_session_quorum_box(client, login, make, world):
    login("physician")
    sid = world["session"].id
    assert "Quorum inconnu (aucune présence enregistrée)" in client.get(url(sid)).get_data(
        as_text=True
    )
    present(make, world, "onco", "surg")
    page = client.get(url(sid)).get_data(as_text=True)
    assert "Quorum non atteint : il manque Radiothérapie" in page
    present(make, world, "radio")
    page = client.get(url(sid)).get_data(as_text=True)
    assert (
        "Quorum atteint : 3 spécialités distinctes (Chirurgie générale, Oncologie médicale, "
        "Radiothérapie)" in page
    )


def test_departed_and_non_members_do_not_count(app, make, world):
    present(make, world, "onco", "surg")
    present(make, world, "path", member=False)
    late = make.attendance(world["session"].id, world["radio"].id)
    with app.app_context():
        session = db.session.get(MeetingSession, world["session"].id)
        assert ops.quorum_for_session(session).reached is True  # the pathologist is not counted
        att = db.session.get(Attendance, late.id)
        att.left_at = att.arrived_at
        db.session.flush()
        result = ops.quorum_for_session(session)
        assert not result.reached and result.missing_required == (RADIO,)
        assert result.message == "Quorum non atteint : il manque Radiothérapie"
        db.session.rollback()


def test_case_required_specialty_and_quorum_for_case(app, client, login, make, world):
    login("coordinator")
    sid = world["session"].id
    case = on_agenda(make, world)
    present(make, world, "onco", "surg", "radio")
    page = client.get(url(sid)).get_data(as_text=True)
    assert f"Dossier n° {case.id}" in page and "DUPONT" in page
    response = client.post(
        f"/seances/{sid}/dossiers/{case.id}/specialites",
        data={f"case{case.id}-specialty_code": PATH},
    )
    assert response.status_code == 302
    page = client.get(url(sid)).get_data(as_text=True)
    assert "Quorum non atteint : il manque Anatomie et cytologie pathologiques" in page
    with app.app_context():
        session = db.session.get(MeetingSession, sid)
        from rcp_app.cases.models import Case

        result = ops.quorum_for_case(session, db.session.get(Case, case.id))
        assert result.status_code == QUORUM_NOT_REACHED and result.missing_required == (PATH,)
        # The session itself (no case specialty) is reached.
        assert ops.quorum_for_session(session).status_code == QUORUM_REACHED
    present(make, world, "path")
    with app.app_context():
        session = db.session.get(MeetingSession, sid)
        result = ops.quorum_for_case(session, db.session.get(Case, case.id))
        assert result.reached and result.status_code == QUORUM_REACHED
    entries = audit_actions(app, "case.required_specialty")
    assert [e.action for e in entries] == ["case.required_specialty_add"]
    assert entries[0].patient_id == case.patient_id
    # Duplicate, unknown code: a message, nothing changed.
    client.post(
        f"/seances/{sid}/dossiers/{case.id}/specialites",
        data={f"case{case.id}-specialty_code": PATH},
    )
    client.post(
        f"/seances/{sid}/dossiers/{case.id}/specialites",
        data={f"case{case.id}-specialty_code": "XX"},
    )
    page = client.get(url(sid)).get_data(as_text=True)
    assert "est déjà exigée pour ce dossier" in page
    assert len(audit_actions(app, "case.required_specialty")) == 1
    # Removal.
    response = client.post(
        f"/seances/{sid}/dossiers/{case.id}/specialites/retirer", data={"specialty_code": PATH}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CaseRequiredSpecialty)) == 0
    client.post(
        f"/seances/{sid}/dossiers/{case.id}/specialites/retirer", data={"specialty_code": PATH}
    )
    assert "n&#39;est pas exigée pour ce dossier" in client.get(url(sid)).get_data(as_text=True)


def test_case_of_another_session_is_404(client, login, make, world):
    login("coordinator")
    case = make.case(rcp_id=world["rcp"].id)  # its own session
    response = client.post(
        f"/seances/{world['session'].id}/dossiers/{case.id}/specialites",
        data={"specialty_code": PATH},
    )
    assert response.status_code == 404


def test_physician_cannot_add_case_specialty(app, client, login, make, world):
    login("physician")
    case = on_agenda(make, world)
    response = client.post(
        f"/seances/{world['session'].id}/dossiers/{case.id}/specialites",
        data={"specialty_code": PATH},
    )
    assert response.status_code == 403


def test_operations_unknown_specialty(app, make, world):
    case = make.case(rcp_id=world["rcp"].id, session_id=world["session"].id)
    user = make.user(role="coordinator")
    make.coordinator_scope(user.id, rcp_id=world["rcp"].id)  # the secretariat of this RCP
    with app.app_context():
        from rcp_app.cases.models import Case

        with pytest.raises(DomainError) as refused:
            ops.add_case_specialty(db.session.get(Case, case.id), db.session.merge(user), "nope")
        assert refused.value.field == "specialty_code"
        db.session.rollback()


# --- constant number of queries --------------------------------------------------------------


def _fill(make, world, start: int, count: int):
    specialties = [ONCO, RADIO, SURG, PATH]
    for i in range(start, start + count):
        professional = make.professional(last_name=f"Médecin{i}", specialty_code=specialties[i % 4])
        make.attendance(world["session"].id, professional.id, quorum_member=i % 5 != 0)
        make.agenda_item(world["session"].id)


def test_page_uses_a_constant_number_of_queries(client, login, make, world):
    login("coordinator")
    _fill(make, world, 0, 5)
    with count_queries() as few:
        assert client.get(url(world["session"].id)).status_code == 200
    _fill(make, world, 5, 55)
    with count_queries() as many:
        response = client.get(url(world["session"].id))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count('class="card card-body mb-2" id="dossier-') == 60
    assert "Présents (60)" in page
    assert len(many) == len(few), "\n".join(many)


def test_cases_follow_the_agenda_order(app, client, login, make, world):
    login("coordinator")
    sid = world["session"].id
    first = make.agenda_item(sid)
    second = make.agenda_item(sid)
    with app.app_context():
        session = db.session.get(MeetingSession, sid)
        ids = [case.id for case in ops.session_cases(session)]
    assert ids == [first.case_id, second.case_id]
    page = client.get(url(sid)).get_data(as_text=True)
    assert page.index(f'id="dossier-{first.case_id}"') < page.index(
        f'id="dossier-{second.case_id}"'
    )


@pytest.mark.parametrize("status", ["draft", "submitted"])
def test_case_targeted_at_the_session_but_not_on_the_agenda_is_absent(
    app, client, login, make, world, status
):
    """Only agenda items have a quorum: a case merely aimed at the session (a draft, a
    submitted case not yet scheduled) is not named on the attendance page."""
    login("coordinator")
    sid = world["session"].id
    listed = make.agenda_item(sid)
    hidden_patient = make.patient(
        birth_name="ZÉPHYRIN", first_birth_first_name="Ondine", birth_date=date(1961, 3, 7)
    )
    factory = make.submitted_case if status == "submitted" else make.case
    hidden = factory(rcp_id=world["rcp"].id, session_id=sid, patient_id=hidden_patient.id)
    with app.app_context():
        session = db.session.get(MeetingSession, sid)
        assert [case.id for case in ops.session_cases(session)] == [listed.case_id]
    page = client.get(url(sid)).get_data(as_text=True)
    assert f'id="dossier-{listed.case_id}"' in page
    assert "Quorum par dossier (1)" in page
    assert f'id="dossier-{hidden.id}"' not in page
    assert "ZÉPHYRIN" not in page and "ZEPHYRIN" not in page
    assert "07/03/1961" not in page
    assert hidden_patient.ins_matricule not in page
    # Nor can a case specialty be set on it through this session.
    response = client.post(
        f"/seances/{sid}/dossiers/{hidden.id}/specialites", data={"specialty_code": PATH}
    )
    assert response.status_code == 404
