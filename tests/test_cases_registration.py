"""Registering a case through the pages: happy path, defaults, submission, late flag, audit."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from rcp_app.cases.models import Case
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from rcp_app.meetings.models import MeetingSession
from tests.support.case_data import case_form, new_url, only_case_id, world


def _case(app, case_id: int) -> Case:
    with app.app_context():
        case = db.session.get(Case, case_id)
        # Touch what the tests read, then detach.
        _ = [(t.biomarkers, t.stagings) for t in case.tumours], case.treatments, case.session
        _ = case.rcp, case.correspondents
        db.session.expunge_all()
        return case


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        ).all()
        db.session.expunge_all()
        return rows


def test_register_a_breast_case_end_to_end(app, client, make, login):
    user = login("physician")
    ids = world(app, make)

    page = client.get(new_url(ids))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Inscrire un dossier en RCP" in html
    assert f'<option selected value="{ids["session"]}"' in html  # default session
    assert "Présentation" in html and "Question posée à la RCP" in html

    response = client.post(new_url(ids), data=case_form(ids))
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    case_id = only_case_id(app, ids["patient"])
    assert response.headers["Location"].endswith(f"/dossiers/{case_id}")

    case = _case(app, case_id)
    assert case.status == "draft" and case.created_by_id == user.id
    assert case.requester_id == ids["requester"] and case.gp_id == ids["gp"]
    assert case.performance_status == 1 and case.phase_code == "MED-268"
    tumour = case.tumours[0]
    assert tumour.topography_code == "C50.4" and tumour.morphology_code == "8500/3"
    assert (tumour.clinical_t, tumour.pathological_t, tumour.pathological_n) == (
        "cT2",
        "pT2",
        "pN1a",
    )
    # Pathological stage preferred (pT2 pN1a, M from cM0): IIB.
    assert (tumour.stage_group, tumour.stage_edition, tumour.stage_basis) == (
        "IIB",
        "UICC8",
        "pathological",
    )
    assert tumour.biomarker_values == {
        "breast.er": "90",
        "breast.pr": "40",
        "breast.her2": "1+",
        "breast.ki67": "25",
        "breast.sbr": "2",
    }
    assert [(t.type_code, t.status) for t in case.treatments] == [("387713003", "done")]
    created = _audit(app, "case.create")
    assert created[-1].object_id == str(case_id) and created[-1].patient_id == ids["patient"]

    detail = client.get(f"/dossiers/{case_id}")
    html = detail.get_data(as_text=True)
    assert detail.status_code == 200
    assert "IIB" in html and "Statut HER2" in html and "Dossier complet" in html
    views = _audit(app, "case.view")
    assert views[-1].patient_id == ids["patient"] and views[-1].object_id == str(case_id)

    submitted = client.post(f"/dossiers/{case_id}/soumettre", data={"version": case.version})
    assert submitted.status_code == 302
    case = _case(app, case_id)
    assert case.status == "submitted" and case.submitted_at is not None and not case.is_late
    entry = _audit(app, "case.submit")[-1]
    assert entry.details_dict()["late"] is False


def test_submit_directly_from_the_form(app, client, make, login):
    login("coordinator")
    ids = world(app, make)
    response = client.post(new_url(ids), data=case_form(ids, action="submit"))
    assert response.status_code == 302
    case = _case(app, only_case_id(app, ids["patient"]))
    assert case.status == "submitted"


def test_late_submission_is_flagged(app, client, make, login):
    login("physician")
    starts = utcnow().replace(microsecond=0) + timedelta(hours=20)
    ids = world(app, make, session_fields={"starts_at": starts})  # deadline 48 h before: passed
    page = client.get(new_url(ids)).get_data(as_text=True)
    assert (
        "date limite d&#39;inscription dépassée" in page
        or "date limite d'inscription dépassée" in page
    )
    response = client.post(
        new_url(ids), data=case_form(ids, action="submit"), follow_redirects=True
    )
    assert "hors délai" in response.get_data(as_text=True)
    case = _case(app, only_case_id(app, ids["patient"]))
    assert case.status == "submitted" and case.is_late


def test_patient_and_rcp_choice_steps(app, client, make, login):
    login("physician")
    ids = world(app, make)
    step1 = client.get("/dossiers/nouveau?q=dupont")
    html = step1.get_data(as_text=True)
    assert step1.status_code == 200 and "1. le patient" in html
    assert f"patient_id={ids['patient']}" in html
    step2 = client.get(f"/dossiers/nouveau?patient_id={ids['patient']}")
    assert "2. la RCP" in step2.get_data(as_text=True)
    # Bad ids never cause an error: they only send back to the first step.
    for query in ("patient_id=abc", "patient_id=999999", "patient_id=-1&rcp_id=x"):
        assert client.get(f"/dossiers/nouveau?{query}").status_code == 200


def test_default_session_skips_one_whose_deadline_passed(app, client, make, login):
    login("physician")
    soon = utcnow().replace(microsecond=0) + timedelta(hours=10)
    ids = world(app, make, session_fields={"starts_at": soon})
    later = make.session(ids["rcp"], starts_at=soon + timedelta(days=7))
    html = client.get(new_url(ids)).get_data(as_text=True)
    assert f'<option selected value="{later.id}"' in html


def test_sessions_are_generated_from_the_rcp_rhythm_on_post_only(app, client, make, login):
    """Showing the form writes nothing (a GET); posting it completes the RCP's calendar."""
    login("physician")
    rcp = make.rcp(weekday=3)
    patient = make.patient()

    def count() -> int:
        with app.app_context():
            return len(
                db.session.scalars(
                    select(MeetingSession).where(MeetingSession.rcp_id == rcp.id)
                ).all()
            )

    url = f"/dossiers/nouveau?patient_id={patient.id}&rcp_id={rcp.id}"
    client.get(url)
    assert count() == 0
    client.post(url, data={"action": "add_treatment"})
    assert count() == 6
    client.post(url, data={"action": "add_treatment"})
    assert count() == 6


def test_add_row_buttons_work_without_javascript(app, client, make, login):
    login("physician")
    ids = world(app, make)
    data = case_form(ids, action="add_tumour")
    response = client.post(new_url(ids), data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="tumour_rows-1-topography_code"' in html
    assert 'value="C50.4"' in html  # what was typed is kept
    data = case_form(ids, action="add_staging-0")
    html = client.post(new_url(ids), data=data).get_data(as_text=True)
    assert 'name="tumour_rows-0-staging_rows-1-system"' in html
    html = client.post(new_url(ids), data=case_form(ids, action="add_treatment")).get_data(
        as_text=True
    )
    assert 'name="treatment_rows-1-type_code"' in html
    with app.app_context():
        assert db.session.scalars(select(Case)).all() == []


def test_several_tumours_and_other_staging(app, client, make, login):
    login("physician")
    ids = world(app, make)
    data = case_form(
        ids,
        **{
            "tumour_rows-0-staging_rows-0-system": "Nottingham",
            "tumour_rows-0-staging_rows-0-system_version": "2018",
            "tumour_rows-0-staging_rows-0-value": "NPI 4,2",
            "tumour_rows-1-diagnosis_date": "01/02/2020",
            "tumour_rows-1-topography_code": "c504",
            "tumour_rows-1-morphology_code": "85203",
            "tumour_rows-1-tnm_edition": "UICC8",
            "tumour_rows-1-clinical_t": "1c",
            "tumour_rows-1-clinical_n": "0",
            "tumour_rows-1-clinical_m": "0",
        },
    )
    assert client.post(new_url(ids), data=data).status_code == 302
    case = _case(app, only_case_id(app, ids["patient"]))
    assert [t.rank for t in case.tumours] == [1, 2]
    second = case.tumours[1]
    assert (second.topography_code, second.morphology_code) == ("C50.4", "8520/3")
    assert second.clinical_tnm == "cT1c cN0 cM0"
    assert (second.stage_group, second.stage_basis) == ("IA", "clinical")
    stagings = case.tumours[0].stagings
    assert [(s.system, s.system_version, s.value) for s in stagings] == [
        ("Nottingham", "2018", "NPI 4,2")
    ]


def test_prostate_stage_uses_psa_and_isup(app, client, make, login):
    login("physician")
    ids = world(app, make, rcp_fields={"appareil_code": "90264002"})
    data = case_form(
        ids,
        appareil_code="90264002",
        organ_code="41216001",
        **{
            "tumour_rows-0-topography_code": "C61",
            "tumour_rows-0-morphology_code": "8140/3",
            "tumour_rows-0-laterality_code": "",
            "tumour_rows-0-clinical_t": "T2a",
            "tumour_rows-0-clinical_n": "N0",
            "tumour_rows-0-clinical_m": "M0",
            "tumour_rows-0-pathological_t": "",
            "tumour_rows-0-pathological_n": "",
            "tumour_rows-0-bm_prostate_psa": "8,5",
            "tumour_rows-0-bm_prostate_gleason_primary": "3",
            "tumour_rows-0-bm_prostate_gleason_secondary": "4",
            "tumour_rows-0-bm_prostate_isup": "2",
        },
    )
    response = client.post(new_url(ids), data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    tumour = _case(app, only_case_id(app, ids["patient"])).tumours[0]
    # The breast markers typed in the (hidden) breast block are not kept for a prostate.
    assert set(tumour.biomarker_values) == {
        "prostate.psa",
        "prostate.gleason_primary",
        "prostate.gleason_secondary",
        "prostate.isup",
    }
    assert tumour.biomarker_values["prostate.psa"] == "8.5"
    assert tumour.stage_group == "IIB" and tumour.stage_basis == "clinical"  # GG 2, PSA < 20


def _prostate_form(ids, pathological_t: str) -> dict:
    return case_form(
        ids,
        appareil_code="90264002",
        organ_code="41216001",
        **{
            "tumour_rows-0-topography_code": "C61",
            "tumour_rows-0-morphology_code": "8140/3",
            "tumour_rows-0-laterality_code": "",
            "tumour_rows-0-clinical_t": "T2b",
            "tumour_rows-0-clinical_n": "N0",
            "tumour_rows-0-clinical_m": "M0",
            "tumour_rows-0-pathological_t": pathological_t,
            "tumour_rows-0-pathological_n": "0",
            "tumour_rows-0-bm_prostate_psa": "6",
            "tumour_rows-0-bm_prostate_gleason_primary": "3",
            "tumour_rows-0-bm_prostate_gleason_secondary": "3",
            "tumour_rows-0-bm_prostate_isup": "1",
        },
    )


def test_prostate_pathological_t2_is_staged(app, client, make, login):
    """After prostatectomy pT2 is not subdivided: pT2 pN0, PSA < 10, ISUP 1 is stage I
    (the clinical cT2b would be IIA)."""
    login("physician")
    ids = world(app, make, rcp_fields={"appareil_code": "90264002"})
    response = client.post(new_url(ids), data=_prostate_form(ids, "2"))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    tumour = _case(app, only_case_id(app, ids["patient"])).tumours[0]
    assert tumour.pathological_tnm == "pT2 pN0"
    assert (tumour.stage_group, tumour.stage_basis) == ("I", "pathological")


def test_prostate_pathological_t2_subdivision_is_refused(app, client, make, login):
    login("physician")
    ids = world(app, make, rcp_fields={"appareil_code": "90264002"})
    page = client.post(new_url(ids), data=_prostate_form(ids, "pT2c")).get_data(as_text=True)
    assert "le T2 pathologique n&#39;est pas subdivisé (écrire pT2)" in page
    assert "pT2c" in page  # what was typed is kept
    with app.app_context():
        assert db.session.scalar(select(Case.id).where(Case.patient_id == ids["patient"])) is None


def test_patient_page_shows_the_timeline(app, client, make, login):
    login("physician")
    ids = world(app, make)
    client.post(new_url(ids), data=case_form(ids))
    case_id = only_case_id(app, ids["patient"])
    html = client.get(f"/patients/{ids['patient']}").get_data(as_text=True)
    assert "Parcours en RCP" in html and f"Dossier n° {case_id}" in html
    assert "Indication d&#39;une chimiothérapie adjuvante ?" in html
    assert "Brouillon" in html


def test_edit_is_audited_with_the_changed_fields(app, client, make, login):
    login("physician")
    ids = world(app, make)
    client.post(new_url(ids), data=case_form(ids))
    case_id = only_case_id(app, ids["patient"])
    case = _case(app, case_id)
    page = client.get(f"/dossiers/{case_id}/modifier")
    assert page.status_code == 200
    assert 'value="C50.4"' in page.get_data(as_text=True)
    data = case_form(
        ids,
        version=str(case.version),
        performance_status="2",
        **{"tumour_rows-0-bm_breast_her2": "3+"},
    )
    response = client.post(f"/dossiers/{case_id}/modifier", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    updated = _case(app, case_id)
    assert updated.performance_status == 2
    assert updated.tumours[0].biomarker_values["breast.her2"] == "3+"
    assert updated.version > case.version
    details = _audit(app, "case.update")[-1].details_dict()
    assert details["fields"] == ["performance_status", "tumours"]
    assert details["changes"]["performance_status"] == {"old": 1, "new": 2}
    # Saving the same values again changes nothing and writes no audit row.
    again = case_form(
        ids,
        version=str(updated.version),
        performance_status="2",
        **{"tumour_rows-0-bm_breast_her2": "3+"},
    )
    client.post(f"/dossiers/{case_id}/modifier", data=again)
    assert len(_audit(app, "case.update")) == 1


def test_stale_edit_is_a_conflict_and_keeps_what_was_typed(app, client, make, login):
    login("physician")
    ids = world(app, make)
    client.post(new_url(ids), data=case_form(ids))
    case_id = only_case_id(app, ids["patient"])
    case = _case(app, case_id)
    first = case_form(ids, version=str(case.version), question="Autre question ?")
    assert client.post(f"/dossiers/{case_id}/modifier", data=first).status_code == 302
    stale = case_form(ids, version=str(case.version), question="Ma question à moi ?")
    response = client.post(f"/dossiers/{case_id}/modifier", data=stale)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Ma question à moi ?" in html and "Valeur enregistrée entre-temps" in html
    assert _case(app, case_id).question == "Autre question ?"


def test_edit_blocked_once_the_agenda_is_published(app, client, make, login):
    login("physician")
    ids = world(app, make)
    client.post(new_url(ids), data=case_form(ids, action="submit"))
    case_id = only_case_id(app, ids["patient"])
    with app.app_context():
        session = db.session.get(MeetingSession, ids["session"])
        session.status = "agenda_published"
        db.session.commit()
    case = _case(app, case_id)
    assert client.get(f"/dossiers/{case_id}/modifier").status_code == 409
    response = client.post(
        f"/dossiers/{case_id}/modifier", data=case_form(ids, version=str(case.version))
    )
    assert response.status_code == 409
    assert "ordre du jour" in response.get_data(as_text=True)
    detail = client.get(f"/dossiers/{case_id}").get_data(as_text=True)
    assert "n&#39;est plus modifiable" in detail or "n'est plus modifiable" in detail


def test_withdraw_requires_a_reason(app, client, make, login):
    login("physician")
    ids = world(app, make)
    client.post(new_url(ids), data=case_form(ids, action="submit"))
    case_id = only_case_id(app, ids["patient"])
    case = _case(app, case_id)
    assert client.get(f"/dossiers/{case_id}/retirer").status_code == 200
    empty = client.post(
        f"/dossiers/{case_id}/retirer", data={"version": case.version, "reason": "  "}
    )
    assert empty.status_code == 200
    assert "Indiquez le motif du retrait." in empty.get_data(as_text=True)
    assert _case(app, case_id).status == "submitted"
    done = client.post(
        f"/dossiers/{case_id}/retirer",
        data={"version": case.version, "reason": "Prise en charge dans un autre centre."},
    )
    assert done.status_code == 302
    case = _case(app, case_id)
    assert case.status == "withdrawn" and case.withdrawn_at is not None
    assert case.withdrawal_reason == "Prise en charge dans un autre centre."
    details = _audit(app, "case.withdraw")[-1].details_dict()
    assert details == {"previous_status": "submitted", "reason": case.withdrawal_reason}
    # Withdrawn: no more edits, no second withdrawal.
    assert client.get(f"/dossiers/{case_id}/modifier").status_code == 409
    assert client.get(f"/dossiers/{case_id}/retirer").status_code == 409
    # The place in the session is free again.
    response = client.post(new_url(ids), data=case_form(ids))
    assert response.status_code == 302


def test_duplicate_patient_in_session_is_refused_naming_the_existing_case(app, client, make, login):
    login("physician")
    ids = world(app, make)
    client.post(new_url(ids), data=case_form(ids, action="submit"))
    existing = only_case_id(app, ids["patient"])
    response = client.post(new_url(ids), data=case_form(ids))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    with app.app_context():
        starts = db.session.get(MeetingSession, ids["session"]).starts_at
    assert (
        f"Ce patient est déjà inscrit à la séance du {starts:%d/%m/%Y} "
        f"(dossier n° {existing}, soumis par Dr MARTIN Claire)"
    ) in html
    assert only_case_id(app, ids["patient"]) == existing


def test_audit_details_are_json(app, client, make, login):
    login("physician")
    ids = world(app, make)
    client.post(new_url(ids), data=case_form(ids))
    entry = _audit(app, "case.create")[-1]
    details = json.loads(entry.details)
    assert details["rcp_id"] == ids["rcp"] and details["session_id"] == ids["session"]


def test_g8_needed_at_submission_only_when_70_or_older(app, client, make, login):
    login("physician")
    ids = world(app, make, birth_date=date.today().replace(year=date.today().year - 75))
    response = client.post(new_url(ids), data=case_form(ids, action="submit"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "le score G8 est obligatoire pour soumettre" in html
    with app.app_context():
        assert db.session.scalars(select(Case)).all() == []
    response = client.post(new_url(ids), data=case_form(ids, action="submit", g8_score="13"))
    assert response.status_code == 302
    assert _case(app, only_case_id(app, ids["patient"])).g8_score == 13


def test_concurrent_duplicate_gets_the_same_message(app, client, make, login, monkeypatch):
    """Two registrations racing past the pre-check: the unique index decides, same message."""
    from rcp_app.cases import operations as ops

    login("physician")
    ids = world(app, make)
    client.post(new_url(ids), data=case_form(ids))
    existing = only_case_id(app, ids["patient"])
    original = ops.duplicate_of
    calls = []

    def blind_first_check(*args, **kwargs):
        calls.append(args)
        return None if len(calls) == 1 else original(*args, **kwargs)

    monkeypatch.setattr(ops, "duplicate_of", blind_first_check)
    response = client.post(new_url(ids), data=case_form(ids))
    assert response.status_code == 200
    assert f"dossier n° {existing}" in response.get_data(as_text=True)
    assert only_case_id(app, ids["patient"]) == existing


def test_moving_a_submitted_case_recomputes_the_late_flag(app, client, make, login):
    login("physician")
    soon = utcnow().replace(microsecond=0) + timedelta(hours=20)
    ids = world(app, make, session_fields={"starts_at": soon})
    later = make.session(ids["rcp"], starts_at=soon + timedelta(days=7))
    client.post(new_url(ids), data=case_form(ids, action="submit"))
    case = _case(app, only_case_id(app, ids["patient"]))
    assert case.is_late
    data = case_form(ids, version=str(case.version), session_id=str(later.id))
    assert client.post(f"/dossiers/{case.id}/modifier", data=data).status_code == 302
    moved = _case(app, case.id)
    assert moved.session_id == later.id and not moved.is_late


def test_a_saved_rcp_offers_its_sessions_on_the_form(app, client, make, login):
    """The calendar is completed when the RCP is saved, so the form's GET can offer it."""
    from tests.test_directory import rcp_data

    establishment = make.establishment()
    patient = make.patient()
    login("coordinator")
    response = client.post("/annuaire/rcp/nouvelle", data=rcp_data(establishment.id))
    assert response.status_code == 302
    with app.app_context():
        rcp_id = db.session.scalar(select(Rcp.id).where(Rcp.national_id == "RCP-34-SEIN-01"))
        sessions = db.session.scalars(
            select(MeetingSession.id).where(MeetingSession.rcp_id == rcp_id)
        ).all()
    assert len(sessions) == 6
    page = client.get(f"/dossiers/nouveau?patient_id={patient.id}&rcp_id={rcp_id}")
    html = page.get_data(as_text=True)
    assert all(f'value="{session_id}"' in html for session_id in sessions)
