"""Decision capture: save with optimistic locking, quorum rule, mark ready, not on the agenda."""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import select

from rcp_app.decisions import operations as ops
from rcp_app.decisions.models import Decision
from rcp_app.extensions import db
from rcp_app.meetings.models import AgendaItem, MeetingSession
from tests.meetings_support import audits, case_row

SURGERY = "387713003"
SPECIALTIES = ("G15_10/SM36", "G15_10/SM37", "G15_10/SM01")


@pytest.fixture
def world(make):
    rcp = make.rcp()
    session = make.session(rcp.id, status="in_progress")
    item = make.agenda_item(session.id)
    return {"rcp": rcp, "session": session, "item": item}


def url(world, suffix="decision", item=None):
    item_id = item if item is not None else world["item"].id
    return f"/seances/{world['session'].id}/reunion/{item_id}/{suffix}"


def decision(app, item_id):
    with app.app_context():
        row = db.session.scalars(select(Decision).where(Decision.item_id == item_id)).first()
        if row is not None:
            _ = row.alternatives
            db.session.expunge(row)
        return row


FULL = {
    "proposal_code": SURGERY,
    "proposal_details": "Tumorectomie et ganglion sentinelle",
    "alt_code_1": "C15313",
    "alt_details_1": "Radiothérapie exclusive",
    "file_complete": "yes",
    "quorum_status": "ORG-133",
    "outcome": "discussed",
    "seconds_spent": "95",
}


def test_save_by_json_creates_then_updates_with_versions(app, client, login, world):
    login("physician")
    response = client.post(url(world), json={**FULL, "version": 0})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["version"] == 1 and body["state"] == "draft" and "h" in body["saved_at"]
    saved = decision(app, world["item"].id)
    assert saved.proposal_code == SURGERY and saved.seconds_spent == 95
    assert [(a.rank, a.treatment_code) for a in saved.alternatives] == [(1, "C15313")]
    response = client.post(url(world), json={**FULL, "comments": "Revoir", "version": 1})
    assert response.status_code == 200 and response.get_json()["version"] == 2
    assert len(audits(app, "decision.create")) == 1
    assert (
        audits(app, "decision.update")[0].patient_id
        == case_row(app, world["item"].case_id).patient_id
    )


def test_stale_json_save_returns_both_versions(app, client, login, world):
    user = login("physician", display_name="Dr Claire Martin")
    client.post(url(world), json={**FULL, "comments": "Première", "version": 0})
    response = client.post(url(world), json={**FULL, "comments": "Seconde", "version": 0})
    assert response.status_code == 409
    body = response.get_json()
    assert body["stored"]["comments"] == "Première" and body["stored"]["version"] == 1
    assert body["stored"]["updated_by"] == user.display_name
    assert body["mine"]["comments"] == "Seconde"
    assert "modifiée entre-temps" in body["message"]
    assert decision(app, world["item"].id).comments == "Première"


def test_stale_form_save_rerenders_with_both_versions(app, client, login, world):
    login("physician")
    client.post(url(world), data={**FULL, "comments": "Première", "version": "0"})
    response = client.post(url(world), data={**FULL, "comments": "Ma seconde", "version": "0"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Votre version" in page and "Version enregistrée par" in page
    assert "Première" in page and "Ma seconde" in page
    assert "[&#39;" not in page  # the typed values, not their lists
    assert 'name="version" id="f-version" value="1"' in page  # resubmitting keeps mine
    assert decision(app, world["item"].id).comments == "Première"


def test_form_save_without_js_redirects(app, client, login, world):
    login("coordinator")
    response = client.post(url(world), data={**FULL, "version": "0"})
    assert response.status_code == 302
    assert decision(app, world["item"].id).outcome == "discussed"


def test_quorum_reached_is_refused_when_not_reached(app, client, login, make, world):
    login("physician")
    response = client.post(url(world), json={**FULL, "quorum_status": "ORG-126", "version": 0})
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == "quorum_status" and "quorum n'est pas atteint" in body["message"]
    assert decision(app, world["item"].id) is None
    for code in SPECIALTIES:
        make.attendance(world["session"].id, make.professional(specialty_code=code).id)
    response = client.post(url(world), json={**FULL, "quorum_status": "ORG-126", "version": 0})
    assert response.status_code == 200
    assert decision(app, world["item"].id).quorum_status == "ORG-126"


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"trial_proposed": "1", "trial_name": "", "trial_identifier": "X"}, "trial_name"),
        (
            {"trial_proposed": "1", "trial_name": "ESSAI", "trial_identifier": ""},
            "trial_identifier",
        ),
        ({"outcome": "postponed", "postpone_reason": ""}, "postpone_reason"),
        ({"proposal_code": "nimporte"}, "proposal_code"),
        ({"quorum_status": "XX"}, "quorum_status"),
        ({"outcome": "autre"}, "outcome"),
        ({"guideline_date": "31/02/2024"}, "guideline_date"),
        ({"seconds_spent": "-3"}, "seconds_spent"),
        ({"recourse_referral": "on", "recourse_rcp": ""}, "recourse_rcp"),
        ({"alt_code_2": "", "alt_details_2": "sans type"}, "alt_code_2"),
    ],
)
def test_bad_input_is_refused_in_french(app, client, login, world, changes, field):
    login("physician")
    response = client.post(url(world), json={**FULL, **changes, "version": 0})
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    assert decision(app, world["item"].id) is None
    form = client.post(url(world), data={**FULL, **changes, "version": "0"})
    page = form.get_data(as_text=True)
    # Without JavaScript: the message in the error summary, linked to its field, and next to
    # the field (as GOV.UK does); no third copy.
    message = str(escape(response.get_json()["message"]))
    assert form.status_code == 200 and "data-error-summary" in page
    assert message in page.split("data-error-summary", 1)[1].split("</div>", 1)[0]
    if field == "seconds_spent":  # the meeting timer's hidden input: no message beside it
        assert page.count(message) == 1
    else:
        assert f'href="#f-{field}" data-error-link>{message}</a>' in page
        assert f'id="f-{field}-error">{message}</div>' in page
        assert page.count(message) == 2


def test_trial_with_name_and_identifier_is_saved(app, client, login, world):
    login("physician")
    data = {**FULL, "trial_proposed": "1", "trial_name": "PENELOPE", "trial_identifier": "NCT01"}
    assert client.post(url(world), json={**data, "version": 0}).status_code == 200
    saved = decision(app, world["item"].id)
    assert saved.trial_proposed and saved.trial_identifier == "NCT01"


def test_saving_for_a_case_not_on_the_agenda_changes_nothing(app, client, login, make, world):
    login("physician")
    other_session = make.session(world["rcp"].id, status="in_progress")
    other_item = make.agenda_item(other_session.id)
    response = client.post(url(world, item=other_item.id), json={**FULL, "version": 0})
    assert response.status_code == 400
    assert "pas à l'ordre du jour de cette séance" in response.get_json()["message"]
    response = client.post(url(world, item=other_item.id), data={**FULL, "version": "0"})
    assert response.status_code == 400
    assert "ordre du jour de cette séance" in response.get_data(as_text=True)
    assert decision(app, other_item.id) is None
    assert client.post(url(world, item=99999), json={**FULL, "version": 0}).status_code == 400


def test_no_capture_before_publication_or_after_closing(app, client, login, make, world):
    login("physician")
    for status in ("planned", "closed"):
        session = make.session(world["rcp"].id, status=status)
        item = make.agenda_item(session.id)
        response = client.post(
            f"/seances/{session.id}/reunion/{item.id}/decision", json={**FULL, "version": 0}
        )
        assert response.status_code == 409


def test_mark_ready_lists_missing_items_then_succeeds(app, client, login, world):
    login("physician")
    response = client.post(url(world, "prete"), follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "il manque" in page and "statut du quorum" in page and "complétude" in page
    client.post(url(world), json={**FULL, "version": 0, "outcome": "registered"})
    page = client.post(url(world, "prete"), follow_redirects=True).get_data(as_text=True)
    assert "référentiel suivi" in page
    client.post(
        url(world),
        json={
            **FULL,
            "version": 1,
            "outcome": "registered",
            "guideline_name": "INCa sein",
            "guideline_version": "2024",
        },
    )
    page = client.post(url(world, "prete"), follow_redirects=True).get_data(as_text=True)
    assert "prête pour validation" in page
    assert decision(app, world["item"].id).state == "ready_for_validation"
    assert case_row(app, world["item"].case_id).status == "registered"
    assert len(audits(app, "decision.ready")) == 1


def test_missing_items_covers_question_and_proposal(app, make, world):
    with app.app_context():
        item = db.session.get(AgendaItem, world["item"].id)
        item.case.question = ""
        found = ops.missing_items(
            item, Decision(outcome="discussed", file_complete=True, quorum_status="ORG-133")
        )
        assert found == [
            "la question posée",
            "la proposition thérapeutique (ou la surveillance active)",
        ]
        db.session.rollback()


def test_meeting_page_shows_the_case_and_the_form(app, client, login, world):
    login("physician")
    response = client.get(f"/seances/{world['session'].id}/reunion")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="decision-form"' in page and "Question posée" in page and "js/meeting.js" in page
    assert client.get(f"/seances/{world['session'].id}/reunion?dossier=abc").status_code == 200
    assert client.get("/seances/99999/reunion").status_code == 404


def test_meeting_page_view_is_audited_with_the_current_patient(app, client, login, world):
    login("physician")
    client.get(f"/seances/{world['session'].id}/reunion?dossier={world['item'].id}")
    rows = audits(app, "session.meeting_view")
    with app.app_context():
        item = db.session.get(AgendaItem, world["item"].id)
        patient_id, case_id = item.case.patient_id, item.case_id
    assert len(rows) == 1
    assert rows[0].patient_id == patient_id
    assert rows[0].details_dict()["case_id"] == case_id


def test_a_session_is_in_the_database(app, world):
    with app.app_context():
        assert db.session.get(MeetingSession, world["session"].id).status == "in_progress"


def test_meeting_page_summarises_tumour_staging_biomarkers_treatments(app, client, login, make):
    from datetime import date

    from rcp_app.cases.models import Treatment
    from tests.test_cases_completeness import _with_tumour

    login("physician")
    rcp = make.rcp()
    session = make.session(rcp.id, status="agenda_published")
    item = make.agenda_item(session.id)
    _with_tumour(
        app,
        item.case_id,
        "C50.4",
        {"breast.er": "80", "breast.her2": "3+"},
        morphology_code="8500/3",
        clinical_t="T2",
        clinical_n="N1",
        clinical_m="M0",
        stage_group="IIB",
        stage_edition="UICC8",
        stage_basis="clinical",
        tnm_edition="UICC8",
    )
    with app.app_context():
        db.session.add(
            Treatment(
                case_id=item.case_id,
                rank=1,
                type_code=SURGERY,
                status="done",
                treatment_date=date(2025, 3, 1),
            )
        )
        db.session.commit()
    make.attachment(item.case_id, make.user(role="physician").id)
    page = client.get(f"/seances/{session.id}/reunion?dossier={item.id}").get_data(as_text=True)
    assert "cT2 cN1 cM0" in page and "stade IIB" in page
    assert "Récepteurs aux œstrogènes (RE) : <strong" in page and ">80 %</strong>" in page
    assert "intervention chirurgicale (réalisé, 01/03/2025)" in page
    assert "/pieces-jointes/" in page
