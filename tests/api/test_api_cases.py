"""/api/v1/cases: the form's data set and messages as JSON, the establishment's boundary,
If-Match, cursor pages, attachments, the decision's status, the audit."""

from __future__ import annotations

import copy
import html as html_lib
import io
import re
import typing
from datetime import datetime

import pikepdf
import pytest
from pydantic import BaseModel
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from rcp_app.api.models import EstablishmentPatient
from rcp_app.api.resources import case_form as form_mapping
from rcp_app.api.resources import case_schemas
from rcp_app.cases import attachments
from rcp_app.cases.forms import CaseForm
from rcp_app.cases.models import Attachment, Case
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.decisions.models import Decision, DecisionAlternative
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from rcp_app.meetings.models import AgendaItem
from tests.support.case_data import case_form, new_url, world
from tests.support.factories import pdf_bytes, stored_fiche_version

WRITE = ("cases:read", "cases:write")


# --- a case of the client's establishment, as the form posts it and as JSON -------------------


def api_world(app, make, establishment_id: int) -> dict:
    """case_data.world in the client's establishment, the patient registered by its systems."""
    ids = world(app, make, rcp_fields={"establishment_id": establishment_id})
    with app.app_context():
        db.session.add(
            EstablishmentPatient(
                establishment_id=establishment_id, patient_id=ids["patient"], registered_at=utcnow()
            )
        )
        db.session.commit()
    return ids


def _iso(text: str) -> str:
    return datetime.strptime(text, "%d/%m/%Y").date().isoformat()


def _value(name: str, raw: str):
    if raw == "":
        return None
    if name.endswith("_date") or name.endswith("_on"):
        return _iso(raw)
    return raw


_FLAGS = {"y": True}
_INTEGERS = ("session_id", "requester_id", "performance_status", "g8_score")


def body_from_form(form: dict, ids: dict) -> dict:
    """The JSON body of what ``case_form`` posts (French dates become ISO, ids numbers, the
    tumour's bm_* fields its ``biomarkers``, empty staging rows dropped)."""
    body: dict = {"patient_id": ids["patient"], "rcp_id": ids["rcp"]}
    tumours: dict = {}
    treatments: dict = {}
    for key, raw in form.items():
        if key == "action":
            continue
        row = re.fullmatch(r"(tumour_rows|treatment_rows)-(\d+)-(.+)", key)
        if row is None:
            if key == "gp":
                body["gp_id"] = int(raw) if raw else None
            elif key in _INTEGERS:
                body[key] = int(raw) if raw else None
            else:
                body[key] = _FLAGS.get(raw, _value(key, raw))
            continue
        kind, index, name = row.group(1), int(row.group(2)), row.group(3)
        target = (tumours if kind == "tumour_rows" else treatments).setdefault(index, {})
        staging = re.fullmatch(r"staging_rows-(\d+)-(.+)", name)
        if staging:
            stagings = target.setdefault("stagings", {})
            stagings.setdefault(int(staging.group(1)), {})[staging.group(2)] = raw or None
        elif name.startswith("bm_"):
            target.setdefault("biomarkers", {})[name[3:]] = raw
        else:
            target[name] = _value(name, raw)
    for tumour in tumours.values():
        rows = tumour.pop("stagings", {}).values()
        tumour["stagings"] = [s for s in rows if any(s.values())]
    body["tumours"] = [tumours[i] for i in sorted(tumours)]
    body["treatments"] = [treatments[i] for i in sorted(treatments)]
    return body


def full_body(ids: dict, **overrides) -> dict:
    return body_from_form(case_form(ids, **overrides), ids)


def _create(caller, body: dict):
    response = caller.post("/api/v1/cases", json=body)
    assert response.status_code == 201, response.get_json()
    return response


def _errors(response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in response.get_json().get("errors") or []:
        found.setdefault(error["field"], []).append(error["message"])
    return found


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        ).all()


# --- registering, reading back, replacing -----------------------------------------------------


def test_create_a_draft_with_the_full_data_set_and_read_it_back(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    sent = full_body(ids)
    created = _create(caller, sent)
    body = created.get_json()
    case_id = body["id"]
    assert created.headers["Location"].endswith(f"/api/v1/cases/{case_id}")
    assert created.headers["ETag"] == f'"case-{case_id}-v1"'
    assert body["status"] == "draft" and body["version"] == 1

    read = caller.get(f"/api/v1/cases/{case_id}")
    assert read.status_code == 200
    assert read.get_json() == body
    assert read.headers["ETag"] == created.headers["ETag"]

    # What was sent comes back, as the form stores it: TNM with its prefix, "40 %" as "40".
    expected = copy.deepcopy(sent)
    tumour = expected["tumours"][0]
    tumour.update(clinical_t="cT2", clinical_n="cN0", clinical_m="cM0", comment="")
    tumour["biomarkers"]["breast_pr"] = "40"
    for name, value in expected.items():
        if name in ("tumours", "treatments"):
            continue
        assert body[name] == value, name
    got = body["tumours"][0]
    assert {k: got[k] for k in tumour if k != "biomarkers"} == {
        k: v for k, v in tumour.items() if k != "biomarkers"
    }
    assert got["biomarkers"] == tumour["biomarkers"]
    assert (got["stage_group"], got["stage_edition"], got["stage_basis"]) == (
        "IIB",
        "UICC8",
        "pathological",
    )
    assert body["treatments"] == expected["treatments"]
    assert body["session"]["id"] == ids["session"]
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert (case.created_by_id, case.created_by_client_id) == (None, caller.client_pk)
        assert case.requester_id == ids["requester"] and case.gp_id == ids["gp"]
        assert body["requester_rpps"] == case.requester.rpps

    # The representation fed back (without its read-only fields) changes nothing.
    readonly = set(case_schemas.CaseOut.model_fields) - set(case_schemas.CaseChange.model_fields)
    again = copy.deepcopy({k: v for k, v in body.items() if k not in readonly})
    for row in again["tumours"]:
        for name in ("stage_group", "stage_edition", "stage_basis"):
            del row[name]
    replaced = caller.put(
        f"/api/v1/cases/{case_id}", json=again, headers={"If-Match": created.headers["ETag"]}
    )
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json() == body
    assert [e.object_id for e in _audit(app, "case.update")] == []


def test_a_replacement_empties_what_it_leaves_out(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    created = _create(caller, full_body(ids))
    case_id = created.get_json()["id"]
    smaller = full_body(ids)
    for name in ("patient_id", "rcp_id", "comorbidities"):
        del smaller[name]
    smaller["treatments"] = []
    replaced = caller.put(
        f"/api/v1/cases/{case_id}", json=smaller, headers={"If-Match": created.headers["ETag"]}
    )
    assert replaced.status_code == 200, replaced.get_json()
    body = replaced.get_json()
    assert body["comorbidities"] == "" and body["treatments"] == []
    assert replaced.headers["ETag"] == f'"case-{case_id}-v2"'
    update = _audit(app, "case.update")[-1]
    assert set(update.details_dict()["fields"]) == {"comorbidities", "treatments"}


def test_submit_at_once_or_later(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    at_once = _create(caller, {**full_body(ids), "submit": True}).get_json()
    assert at_once["status"] == "submitted" and at_once["submitted_at"] is not None

    other = api_world(app, make, caller.establishment_id)
    draft = _create(caller, full_body(other))
    case_id = draft.get_json()["id"]
    submitted = caller.post(
        f"/api/v1/cases/{case_id}/submit", headers={"If-Match": draft.headers["ETag"]}
    )
    assert submitted.status_code == 200, submitted.get_json()
    assert submitted.get_json()["status"] == "submitted"
    assert submitted.headers["ETag"] != draft.headers["ETag"]
    assert _audit(app, "case.submit")[-1].object_id == str(case_id)


def test_submission_refused_names_what_is_missing(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    draft = _create(caller, full_body(ids, question="", gp=""))
    case_id = draft.get_json()["id"]
    refused = caller.post(
        f"/api/v1/cases/{case_id}/submit", headers={"If-Match": draft.headers["ETag"]}
    )
    assert refused.status_code == 422
    errors = _errors(refused)
    assert errors["question"] == ["La question posée est obligatoire pour soumettre le dossier."]
    assert errors["gp_id"] == [
        "Indiquez le médecin traitant, ou « inconnu », avant de soumettre le dossier."
    ]
    assert caller.get(f"/api/v1/cases/{case_id}").get_json()["status"] == "draft"


def test_if_match_is_required_and_checked(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    created = _create(caller, full_body(ids))
    case_id, tag = created.get_json()["id"], created.headers["ETag"]
    change = {**full_body(ids), "comorbidities": "Diabète."}
    del change["patient_id"], change["rcp_id"]

    missing = caller.put(f"/api/v1/cases/{case_id}", json=change)
    assert missing.status_code == 428
    assert caller.post(f"/api/v1/cases/{case_id}/submit").status_code == 428

    first = caller.put(f"/api/v1/cases/{case_id}", json=change, headers={"If-Match": tag})
    assert first.status_code == 200
    stale = caller.put(
        f"/api/v1/cases/{case_id}",
        json={**change, "comorbidities": "Autre."},
        headers={"If-Match": tag},
    )
    assert stale.status_code == 412
    assert stale.get_json()["current_etag"] == first.headers["ETag"] == f'"case-{case_id}-v2"'
    stale_submit = caller.post(f"/api/v1/cases/{case_id}/submit", headers={"If-Match": tag})
    assert stale_submit.status_code == 412
    assert caller.get(f"/api/v1/cases/{case_id}").get_json()["comorbidities"] == "Diabète."


def test_a_case_no_longer_editable_is_a_409_with_the_reason(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    created = _create(caller, {**full_body(ids), "submit": True})
    case_id = created.get_json()["id"]
    with app.app_context():
        db.session.get(Case, case_id).status = "refused"
        db.session.commit()
    tag = caller.get(f"/api/v1/cases/{case_id}").headers["ETag"]
    change = full_body(ids)
    del change["patient_id"], change["rcp_id"]
    refused = caller.put(f"/api/v1/cases/{case_id}", json=change, headers={"If-Match": tag})
    assert refused.status_code == 409
    assert refused.get_json()["detail"] == (
        "Ce dossier est « refusé » : il ne peut plus être modifié."
    )


# --- the form's messages, per field -----------------------------------------------------------


def _form_message(page: str, name: str) -> str:
    """The message the case form shows right after the field ``name``."""
    text = html_lib.unescape(page)
    match = re.search(r'name="' + re.escape(name) + r'"', text)
    assert match, f"no field {name} in page"
    after = text[match.start() : match.start() + 6000]
    return re.findall(r'<div class="invalid-feedback d-block">([^<]*)</div>', after)[0]


@pytest.mark.parametrize(
    ("form_field", "value", "json_field"),
    [
        ("tumour_rows-0-clinical_t", "T5", "tumours[0].clinical_t"),
        ("tumour_rows-0-topography_code", "C99.9", "tumours[0].topography_code"),
        ("tumour_rows-0-bm_breast_her2", "4+", "tumours[0].biomarkers.breast_her2"),
        ("treatment_rows-0-type_code", "ZZZ", "treatments[0].type_code"),
        ("g8_score", "18", "g8_score"),
        ("appareil_code", "000", "appareil_code"),
        # The form's input rule for free text (core/text.py), with the field's label.
        ("synthesis", "Patiente\u202e suivie", "synthesis"),
        ("tumour_rows-0-comment", "Lésion \u2066droite", "tumours[0].comment"),
    ],
)
def test_a_refusal_is_the_forms_message_on_the_json_field(
    api, app, client, make, login, form_field, value, json_field
):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    login("physician")
    page = client.post(new_url(ids), data=case_form(ids, **{form_field: value}))
    assert page.status_code == 200
    shown = _form_message(page.get_data(as_text=True), form_field)

    refused = caller.post("/api/v1/cases", json=full_body(ids, **{form_field: value}))
    assert refused.status_code == 422, refused.get_json()
    assert refused.mimetype == "application/problem+json"
    assert _errors(refused)[json_field] == [shown]
    with app.app_context():
        assert db.session.scalar(select(Case.id).where(Case.patient_id == ids["patient"])) is None


def test_staging_rows_and_json_types_are_refused_per_field(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    body = full_body(ids)
    body["tumours"][0]["stagings"] = [{"system": "FIGO", "value": "IIA"}, {"value": "III"}]
    refused = caller.post("/api/v1/cases", json=body)
    assert refused.status_code == 422
    assert _errors(refused) == {
        "tumours[0].stagings[1].system": ["Nommez la classification (par exemple FIGO, Ann Arbor)."]
    }
    body = full_body(ids, performance_status="2")
    body["performance_status"] = "2"
    body["tumours"][0]["diagnosis_date"] = "01/02/2024"
    typed = caller.post("/api/v1/cases", json=body)
    assert typed.status_code == 422
    assert _errors(typed) == {
        "performance_status": ["Nombre entier attendu."],
        "tumours[0].diagnosis_date": ["Format invalide."],
    }


def test_people_by_rpps(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    with app.app_context():
        from rcp_app.directory.models import Professional

        requester = db.session.get(Professional, ids["requester"]).rpps
        gp = db.session.get(Professional, ids["gp"]).rpps
    body = full_body(ids)
    del body["requester_id"], body["gp_id"]
    body.update(requester_rpps=requester, gp_rpps=gp, correspondent_rpps=[requester])
    created = _create(caller, body).get_json()
    assert (created["requester_id"], created["gp_id"]) == (ids["requester"], ids["gp"])
    assert created["correspondent_ids"] == [ids["requester"]]

    other = api_world(app, make, caller.establishment_id)
    unknown = full_body(other)
    del unknown["requester_id"]
    unknown.update(requester_rpps="10000000000", gp_rpps=requester)
    refused = caller.post("/api/v1/cases", json=unknown)
    assert refused.status_code == 422
    assert _errors(refused) == {
        "requester_rpps": ["Aucun professionnel de l'annuaire ne porte le RPPS 10000000000."],
        "gp_rpps": [
            "gp_id et gp_rpps désignent deux professionnels différents : n'en donnez qu'un."
        ],
    }


# --- the establishment's boundary, lists --------------------------------------------------------


def test_another_establishments_case_is_404_and_absent_from_lists(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    mine = _create(caller, full_body(ids)).get_json()["id"]
    elsewhere = make.establishment()
    foreign = make.case(rcp_id=make.rcp(establishment_id=elsewhere.id).id)
    path = f"/api/v1/cases/{foreign.id}"
    assert caller.get(path).status_code == 404
    assert caller.get(path + "/decision").status_code == 404
    change = full_body(ids)
    del change["patient_id"], change["rcp_id"]
    assert caller.put(path, json=change, headers={"If-Match": "*"}).status_code == 404
    assert caller.post(path + "/submit", headers={"If-Match": "*"}).status_code == 404
    upload = {"kind": "pathology", "file": (io.BytesIO(pdf_bytes()), "cr.pdf")}
    assert caller.post(path + "/attachments", data=upload).status_code == 404
    listed = caller.get("/api/v1/cases").get_json()["items"]
    assert [item["id"] for item in listed] == [mine]
    assert (
        caller.get("/api/v1/cases", query_string={"patient_id": foreign.patient_id}).get_json()[
            "items"
        ]
        == []
    )


def test_a_patient_or_rcp_outside_the_establishment_is_refused_on_its_field(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    elsewhere = make.case(rcp_id=make.rcp(establishment_id=make.establishment().id).id)
    outside = {**full_body(ids), "patient_id": elsewhere.patient_id, "rcp_id": elsewhere.rcp_id}
    refused = caller.post("/api/v1/cases", json=outside)
    assert refused.status_code == 422
    unknown = caller.post("/api/v1/cases", json={**outside, "patient_id": 987654321})
    # An unknown patient and another establishment's get the same answer.
    assert _errors(unknown) == _errors(refused)
    assert set(_errors(refused)) == {"patient_id", "rcp_id"}
    assert _errors(refused)["rcp_id"] == ["RCP inconnue (ou hors de votre établissement)."]


def test_list_in_pages_with_a_cursor_and_filters(api, app, make):
    caller = api(scopes=("cases:read",))
    rcp = make.rcp(establishment_id=caller.establishment_id)
    made = [make.case(rcp_id=rcp.id).id for _ in range(4)]
    made.append(make.submitted_case(rcp_id=rcp.id).id)
    audited = len(_audit(app, "api.call"))
    pages, path = [], "/api/v1/cases?limit=2"
    while path:
        response = caller.get(path)
        assert response.status_code == 200
        body = response.get_json()
        pages.append([item["id"] for item in body["items"]])
        assert (body["next"] is None) == (body["next_cursor"] is None)
        path = body["next"]
    assert pages == [made[0:2], made[2:4], made[4:5]]
    submitted = caller.get("/api/v1/cases", query_string={"status": "submitted"}).get_json()
    assert [item["id"] for item in submitted["items"]] == [made[4]]
    bad = caller.get("/api/v1/cases", query_string={"status": "nope"})
    assert bad.status_code == 422 and "status" in _errors(bad)
    with app.app_context():
        patients = dict(db.session.execute(select(Case.id, Case.patient_id)).all())
    # Each page's audit row names the patients it showed.
    first, _second, last = _audit(app, "api.call")[audited : audited + 3]
    assert first.details_dict()["patients"] == [patients[i] for i in made[0:2]]
    assert last.patient_id == patients[made[4]]


def test_a_form_body_is_refused_as_not_json(api, app, make):
    caller = api(scopes=WRITE)
    refused = caller.post("/api/v1/cases", data={"patient_id": "1"})
    assert refused.status_code == 415


# --- attachments --------------------------------------------------------------------------------


def _with_javascript() -> bytes:
    pdf = pikepdf.open(io.BytesIO(pdf_bytes()))
    pdf.Root.OpenAction = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))
    )
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _upload(caller, case_id: int, data: bytes, kind: str = "pathology"):
    return caller.post(
        f"/api/v1/cases/{case_id}/attachments",
        data={"kind": kind, "file": (io.BytesIO(data), "compte-rendu.pdf")},
        content_type="multipart/form-data",
    )


def _attachment_count(app, case_id: int) -> int:
    with app.app_context():
        return len(
            db.session.scalars(select(Attachment).where(Attachment.case_id == case_id)).all()
        )


def test_an_attachment_with_javascript_or_not_a_pdf_is_refused_in_french(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    case_id = _create(caller, full_body(ids)).get_json()["id"]
    hostile = _with_javascript()
    refused = _upload(caller, case_id, hostile)
    assert refused.status_code == 422
    expected = attachments.pdf_refusal(hostile, app.config["RCP_MAX_ATTACHMENT_BYTES"]).message
    assert "JavaScript" in expected
    assert _errors(refused) == {"file": [expected]}
    not_pdf = _upload(caller, case_id, b"<html>bonjour</html>")
    assert not_pdf.status_code == 422
    assert _errors(not_pdf)["file"][0].startswith("Ce fichier n'est pas un PDF")
    unknown_kind = _upload(caller, case_id, pdf_bytes(), kind="selfie")
    assert _errors(unknown_kind) == {"kind": ["Choisissez le type de document."]}
    assert _attachment_count(app, case_id) == 0


def test_an_attachment_is_stored_and_listed(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    case_id = _create(caller, full_body(ids)).get_json()["id"]
    data = pdf_bytes()
    stored = _upload(caller, case_id, data)
    assert stored.status_code == 201, stored.get_json()
    body = stored.get_json()
    assert (body["kind"], body["size_bytes"], body["case_id"]) == ("pathology", len(data), case_id)
    listed = caller.get(f"/api/v1/cases/{case_id}").get_json()["attachments"]
    assert [a["id"] for a in listed] == [body["id"]]
    upload = _audit(app, "attachment.upload")[-1]
    assert upload.username.startswith("api:") and upload.patient_id == ids["patient"]


# --- the decision -------------------------------------------------------------------------------


def test_decision_status_before_and_after_validation(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    case_id = _create(caller, {**full_body(ids), "submit": True}).get_json()["id"]
    path = f"/api/v1/cases/{case_id}/decision"
    none = caller.get(path).get_json()
    assert (none["status"], none["outcome"], none["proposals"], none["fiche"]) == (
        "none",
        None,
        [],
        None,
    )

    item = make.agenda_item(ids["session"], case_id)
    with app.app_context():
        db.session.get(Case, case_id).status = "scheduled"
        decision = Decision(item_id=item.id, state="draft", updated_at=utcnow())
        decision.proposal_code = "387713003"
        db.session.add(decision)
        db.session.commit()
        decision_id = decision.id
    draft = caller.get(path).get_json()
    assert (draft["status"], draft["case_status"], draft["fiche"]) == ("draft", "scheduled", None)
    assert draft["proposals"] == [{"rank": 1, "code": "387713003"}]
    assert draft["decision_href"].endswith(f"/api/v1/decisions/{decision_id}")

    validator = make.user(role="physician")
    with app.app_context():
        decision = db.session.get(Decision, decision_id)
        decision.state, decision.outcome = "validated", "discussed"
        decision.alternatives.append(DecisionAlternative(rank=1, treatment_code="367336001"))
        row = db.session.get(AgendaItem, item.id)
        fiche = Fiche(
            set_id="7c2f9a10-4b3d-4e5f-8a9b-0c1d2e3f4a5b",
            decision=decision,
            case_id=case_id,
            patient_id=row.case.patient_id,
            session_id=ids["session"],
            created_at=utcnow(),
        )
        version = stored_fiche_version(
            fiche,
            validator.id,
            code="CASE-API-TEST1",
            document_id="3e1b7c52-9d4a-4f60-b2c8-5a6d7e8f9012",
            pdf=b"%PDF-1.7 case api",
        )
        db.session.add_all([fiche, version])
        db.session.commit()
        fiche_id = fiche.id
    validated = caller.get(path).get_json()
    assert (validated["status"], validated["outcome"]) == ("validated", "discussed")
    assert validated["proposals"] == [
        {"rank": 1, "code": "387713003"},
        {"rank": 2, "code": "367336001"},
    ]
    assert validated["fiche"]["id"] == fiche_id and validated["fiche"]["version"] == 1
    assert validated["fiche"]["href"].endswith(f"/api/v1/fiches/{fiche_id}")


# --- audit, the case page -----------------------------------------------------------------------


def test_audit_names_the_patient_and_the_client(api, app, make):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    case_id = _create(caller, full_body(ids)).get_json()["id"]
    call = _audit(app, "api.call")[-1]
    assert call.patient_id == ids["patient"]
    assert call.details_dict()["scope"] == "cases:write"
    assert call.details_dict()["status"] == 201
    created = _audit(app, "case.create")[-1]
    assert created.object_id == str(case_id) and created.patient_id == ids["patient"]
    assert created.user_id is None
    assert created.username == f"api:DPI de test ({caller.client_id})"
    caller.get(f"/api/v1/cases/{case_id}/decision")
    read = _audit(app, "api.call")[-1]
    assert read.patient_id == ids["patient"] and read.details_dict()["scope"] == "cases:read"


def test_the_case_page_names_the_client_that_registered_it(api, app, client, make, login):
    caller = api(scopes=WRITE)
    ids = api_world(app, make, caller.establishment_id)
    case_id = _create(caller, full_body(ids)).get_json()["id"]
    login("coordinator")
    page = client.get(f"/dossiers/{case_id}")
    assert page.status_code == 200
    assert "DPI de test (API), le " in html_lib.unescape(page.get_data(as_text=True))


# --- the body and the form cannot drift apart ---------------------------------------------------


def _form_keys(app, form_class=CaseForm) -> set[str]:
    """The keys the web form passes to validation (``data_for_operation``), rows as 'x[].y'."""
    with app.test_request_context():
        data = form_class(formdata=MultiDict()).data_for_operation()

    def flatten(values: dict, prefix: str = ""):
        for name, value in values.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                yield from flatten(value[0], f"{prefix}{name}[].")
            else:
                yield prefix + name

    return {key for key in flatten(data) if key.rpartition(".")[2] not in form_mapping.FORM_ONLY}


def _model_in(annotation):
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _json_paths(model, prefix: str = ""):
    for name, field in model.model_fields.items():
        inner = _model_in(field.annotation)
        if inner is None:
            yield prefix + name
        else:
            rows = "[]" if typing.get_origin(field.annotation) is list else ""
            yield from _json_paths(inner, f"{prefix}{name}{rows}.")


def _mapped() -> set[str]:
    return {
        form_mapping.form_path(path)
        for path in _json_paths(case_schemas.CaseIn)
        if path not in form_mapping.OUTSIDE_THE_FORM
    }


def test_every_form_field_is_in_the_json_body_and_back(app):
    form_keys, mapped = _form_keys(app), _mapped()
    assert "tumour_rows[].bm_breast_her2" in form_keys  # the walk reaches rows and markers
    assert form_keys - mapped == set(), "form fields the API does not carry"
    assert mapped - form_keys == set(), "JSON fields that fill no form field"


def test_a_field_added_to_the_form_fails_the_drift_check(app):
    from wtforms import StringField

    class Grown(CaseForm):
        tumour_grade = StringField("Grade")

    assert _form_keys(app, Grown) - _mapped() == {"tumour_grade"}


def test_refusals_name_the_json_field_of_each_form_field():
    for path in _json_paths(case_schemas.CaseIn):
        if path in form_mapping.OUTSIDE_THE_FORM or path in form_mapping.SAME_FORM_FIELD:
            continue
        form_key = form_mapping.form_path(path).replace("[].", "-0-")
        assert form_mapping.json_path(form_key) == path.replace("[]", "[0]"), path
