"""/api/v1 sessions, decisions and fiches: filters, cursor pages, the establishment's boundary
(another establishment's rows are absent from lists and answer 404), scopes, the stored bytes
served as they are, the FHIR Bundle, and the audit row naming the patients of each response."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from rcp_app.auth.models import User
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.decisions.models import Decision
from rcp_app.directory.models import Establishment, Rcp
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.fiches.models import Fiche, FicheDocument
from rcp_app.meetings.models import AgendaItem
from tests.fiches.support import CHEMOTHERAPY, READY, SURGERY, fiche_of, signed_world
from tests.support.factories import stored_fiche_version

PLACEHOLDER_PDF = b"%PDF-1.7\n% fiche de test\n%%EOF\n"


# --- helpers ------------------------------------------------------------------------------------


def establishment_of(app, rcp_id: int) -> Establishment:
    with app.app_context():
        establishment = db.session.get(Rcp, rcp_id).establishment
        db.session.expunge(establishment)
        return establishment


def last_call(app, path: str) -> AuditEntry:
    with app.app_context():
        row = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "api.call")
            .order_by(AuditEntry.id.desc())
            .limit(1)
        ).one()
        db.session.expunge(row)
    assert row.details_dict()["path"] == path
    return row


def named_patients(row: AuditEntry) -> set[int]:
    if row.patient_id is not None:
        return {row.patient_id}
    return set(row.details_dict().get("patients", []))


def follow_pages(caller, url: str, most: int = 10) -> list[list[int]]:
    """The ids of each page, following ``next`` (at most ``most`` pages: a cursor that does
    not move fails the test instead of looping)."""
    pages = []
    while url and len(pages) < most:
        response = caller.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        pages.append([item["id"] for item in body["items"]])
        url = body["next"]
    return pages


def placeholder_fiche(app, make, session_id: int, signed_at: datetime, case_id=None) -> dict:
    """A validated decision and its fiche version 1 with placeholder documents (no signing):
    cheap rows to list and page through."""
    item = make.agenda_item(session_id, case_id)
    validator = make.user(role="physician")
    with app.app_context():
        item_row = db.session.get(AgendaItem, item.id)
        decision = Decision(
            item_id=item.id, state="validated", outcome="discussed", updated_at=signed_at
        )
        fiche = Fiche(
            set_id=str(uuid.uuid4()),
            decision=decision,
            case_id=item.case_id,
            patient_id=item_row.case.patient_id,
            session_id=session_id,
            created_at=signed_at,
        )
        version = stored_fiche_version(
            fiche,
            validator.id,
            code=fiche_ops.new_verification_code(),
            document_id=str(uuid.uuid4()),
            pdf=PLACEHOLDER_PDF,
        )
        version.validated_at = signed_at
        db.session.add_all([decision, fiche, version])
        db.session.commit()
        return {"fiche": fiche.id, "patient": fiche.patient_id, "case": fiche.case_id}


@pytest.fixture
def site(make):
    """An establishment with two RCPs, and another establishment with one."""
    establishment = make.establishment()
    rcp = make.rcp(establishment_id=establishment.id)
    second = make.rcp(establishment_id=establishment.id)
    other_rcp = make.rcp(establishment_id=make.establishment().id)
    return establishment, rcp, second, other_rcp


# --- sessions -----------------------------------------------------------------------------------


def test_sessions_list_filters_by_paris_day_rcp_and_status(api, app, make, site):
    establishment, rcp, second, other_rcp = site
    # 22:30 UTC on 1 March is 23:30 in Paris (still 1 March); 23:30 UTC is 2 March in Paris.
    late_first = make.session(rcp.id, starts_at=datetime(2027, 3, 1, 22, 30))
    early_second = make.session(rcp.id, starts_at=datetime(2027, 3, 1, 23, 30), status="closed")
    later = make.session(second.id, starts_at=datetime(2027, 3, 9, 13, 0))
    make.session(other_rcp.id, starts_at=datetime(2027, 3, 2, 13, 0))
    caller = api(scopes=("sessions:read",), establishment=establishment)

    def ids(**query):
        response = caller.get("/api/v1/sessions", query_string=query)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids() == [late_first.id, early_second.id, later.id]
    assert ids(to="2027-03-01") == [late_first.id]
    assert ids(**{"from": "2027-03-02"}) == [early_second.id, later.id]
    assert ids(**{"from": "2027-03-02", "to": "2027-03-08"}) == [early_second.id]
    assert ids(rcp_id=second.id) == [later.id]
    assert ids(rcp_id=other_rcp.id) == []
    assert ids(status="closed") == [early_second.id]
    first = caller.get("/api/v1/sessions").get_json()["items"][0]
    assert first["starts_at"] == "2027-03-01T22:30:00Z"
    assert first["rcp_name"] == rcp.name
    assert first["href"] == f"/api/v1/sessions/{late_first.id}"
    refused = caller.get("/api/v1/sessions", query_string={"status": "done", "from": "2027-13-01"})
    assert refused.status_code == 422
    assert {e["field"] for e in refused.get_json()["errors"]} == {"status", "from"}
    # Days whose conversion to UTC would overflow are refused, not a server error.
    for far in ({"from": "0001-01-01"}, {"to": "9999-12-31"}):
        assert caller.get("/api/v1/sessions", query_string=far).status_code == 422


def test_sessions_cursor_pages_neither_skip_nor_repeat(api, make, site):
    establishment, rcp, _second, _other = site
    made = [make.session(rcp.id).id for _ in range(5)]
    caller = api(scopes=("sessions:read",), establishment=establishment)
    assert follow_pages(caller, "/api/v1/sessions?limit=2") == [made[:2], made[2:4], made[4:]]
    bad = caller.get("/api/v1/sessions", query_string={"cursor": "pas-un-curseur"})
    assert bad.status_code == 400
    assert bad.mimetype == "application/problem+json"


def test_session_agenda_names_its_patients_by_id_only(api, app, make, site):
    establishment, rcp, _second, other_rcp = site
    session = make.session(rcp.id, status="agenda_published")
    first = make.agenda_item(session.id)
    second = make.agenda_item(session.id, mode="registered", guideline="Référentiel sein 2025")
    other_session = make.session(other_rcp.id)
    caller = api(scopes=("sessions:read",), establishment=establishment)
    response = caller.get(f"/api/v1/sessions/{session.id}")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    with app.app_context():
        items = {i.id: i for i in db.session.scalars(select(AgendaItem))}
        patients = [items[first.id].case.patient_id, items[second.id].case.patient_id]
        birth_name = items[first.id].case.patient.birth_name
    assert [(line["position"], line["case_id"], line["patient_id"]) for line in body["agenda"]] == [
        (1, first.case_id, patients[0]),
        (2, second.case_id, patients[1]),
    ]
    assert [line["mode"] for line in body["agenda"]] == ["discussed", "registered"]
    assert body["agenda"][0]["case_status"] == "scheduled"
    assert birth_name not in response.get_data(as_text=True)
    assert named_patients(last_call(app, f"/api/v1/sessions/{session.id}")) == set(patients)
    # Another establishment's session does not exist for this client; a missing scope is a 403.
    assert caller.get(f"/api/v1/sessions/{other_session.id}").status_code == 404
    assert caller.get("/api/v1/sessions/999999").status_code == 404
    no_scope = api(scopes=("cases:read",), establishment=establishment)
    assert no_scope.get("/api/v1/sessions").status_code == 403
    assert no_scope.get(f"/api/v1/sessions/{session.id}").status_code == 403


# --- decisions ----------------------------------------------------------------------------------


def test_decision_ready_then_signed(api, app, make):
    world = signed_world(app, make)
    caller = api(
        scopes=("cases:read", "fiches:read"), establishment=establishment_of(app, world.rcp_id)
    )
    listed = caller.get("/api/v1/decisions", query_string={"case_id": world.case_id})
    assert listed.status_code == 200, listed.get_json()
    [decision] = listed.get_json()["items"]
    fiche = fiche_of(app, world.case_id)
    with app.app_context():
        signed_at = fiche_ops.current_version(db.session.get(Fiche, fiche.id)).validated_at
    assert decision["case_id"] == world.case_id
    assert decision["patient_id"] == world.patient_id
    assert decision["session_id"] == world.session_id
    assert decision["status"] == "validated"
    assert decision["outcome"] == READY["outcome"]
    assert decision["proposals"] == [
        {"rank": 1, "code": SURGERY},
        {"rank": 2, "code": CHEMOTHERAPY},
    ]
    assert decision["validated_at"] == signed_at.replace(microsecond=0).isoformat() + "Z"
    assert decision["fiche"] == {
        "id": fiche.id,
        "version": 1,
        "href": f"/api/v1/fiches/{fiche.id}",
    }
    assert last_call(app, "/api/v1/decisions").patient_id == world.patient_id
    one = caller.get(decision["href"])
    assert one.status_code == 200
    assert one.get_json() == decision
    assert last_call(app, decision["href"]).patient_id == world.patient_id
    # The fiche link leads to the fiche.
    assert caller.get(decision["fiche"]["href"]).get_json()["decision_id"] == decision["id"]


def test_decisions_of_another_establishment_are_absent(api, app, make, site):
    establishment, rcp, _second, other_rcp = site
    mine = make.agenda_item(make.session(rcp.id, status="in_progress").id)
    theirs = make.agenda_item(make.session(other_rcp.id, status="in_progress").id)
    with app.app_context():
        for item in (mine, theirs):
            db.session.add(Decision(item_id=item.id, proposal_code=SURGERY, updated_at=utcnow()))
        db.session.commit()
        ids = {d.item_id: d.id for d in db.session.scalars(select(Decision))}
    caller = api(scopes=("cases:read",), establishment=establishment)
    body = caller.get("/api/v1/decisions").get_json()
    assert [d["id"] for d in body["items"]] == [ids[mine.id]]
    assert body["items"][0]["status"] == "draft"
    assert body["items"][0]["fiche"] is None
    assert body["items"][0]["validated_at"] is None
    assert caller.get(f"/api/v1/decisions/{ids[theirs.id]}").status_code == 404
    other_case = caller.get("/api/v1/decisions", query_string={"case_id": theirs.case_id})
    assert other_case.get_json()["items"] == []
    assert api(scopes=("fiches:read",)).get("/api/v1/decisions").status_code == 403


# --- fiches: documents --------------------------------------------------------------------------


def test_signed_fiche_documents_are_the_stored_bytes(api, app, make):
    world = signed_world(app, make)
    caller = api(scopes=("fiches:read",), establishment=establishment_of(app, world.rcp_id))
    fiche = fiche_of(app, world.case_id)
    with app.app_context():
        stored = {
            d.kind: d.content
            for d in db.session.scalars(
                select(FicheDocument)
                .join(FicheDocument.version)
                .where(FicheDocument.version.has(fiche_id=fiche.id))
            )
        }
    listed = caller.get("/api/v1/fiches", query_string={"patient_id": world.patient_id})
    assert listed.status_code == 200, listed.get_json()
    [item] = listed.get_json()["items"]
    assert (item["id"], item["set_id"], item["current_version"]) == (fiche.id, fiche.set_id, 1)
    [version] = item["versions"]
    assert version["current"] is True
    assert version["pdf"]["sha256"] == hashlib.sha256(stored["pdf"]).hexdigest()
    assert version["cda"]["size_bytes"] == len(stored["cda"])
    assert named_patients(last_call(app, "/api/v1/fiches")) == {world.patient_id}

    pdf = caller.get(version["pdf"]["href"])
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data == stored["pdf"]
    assert pdf.headers["ETag"] == f'"{hashlib.sha256(pdf.data).hexdigest()}"'
    assert f"fiche-rcp-{fiche.set_id}-v1.pdf" in pdf.headers["Content-Disposition"]
    assert last_call(app, version["pdf"]["href"]).patient_id == world.patient_id
    unchanged = caller.get(version["pdf"]["href"], headers={"If-None-Match": pdf.headers["ETag"]})
    assert unchanged.status_code == 304
    assert unchanged.data == b""

    cda = caller.get(version["cda"]["href"])
    assert (cda.status_code, cda.mimetype) == (200, "text/xml")
    assert cda.data == stored["cda"]
    assert cda.headers["ETag"] == f'"{hashlib.sha256(stored["cda"]).hexdigest()}"'

    fhir = caller.get(version["fhir"]["href"])
    assert fhir.status_code == 200, fhir.get_data(as_text=True)[:500]
    assert fhir.mimetype == "application/fhir+json"
    bundle = json.loads(fhir.data)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "document")
    assert bundle["entry"][0]["resource"]["resourceType"] == "Composition"
    assert fhir.headers["ETag"] == f'"{hashlib.sha256(fhir.data).hexdigest()}"'
    assert caller.get(version["fhir"]["href"]).data == fhir.data  # the same version, same bytes
    assert last_call(app, version["fhir"]["href"]).patient_id == world.patient_id

    assert caller.get(f"/api/v1/fiches/{fiche.id}/versions/2/pdf").status_code == 404
    no_scope = api(scopes=("cases:read",), establishment=establishment_of(app, world.rcp_id))
    for path in ("/api/v1/fiches", item["href"], version["pdf"]["href"], version["fhir"]["href"]):
        assert no_scope.get(path).status_code == 403


def test_amended_fiche_lists_both_versions(api, app, make):
    world = signed_world(app, make)
    fiche = fiche_of(app, world.case_id)
    with app.app_context():
        row = db.session.get(Fiche, fiche.id)
        data = {**READY, "proposal_details": "Tumorectomie, puis radiothérapie"}
        fiche_ops.amend(
            row, db.session.get(User, world.validator_user_id), data, "Précision du geste", 1
        )
        db.session.commit()
    caller = api(scopes=("fiches:read",), establishment=establishment_of(app, world.rcp_id))
    body = caller.get(f"/api/v1/fiches/{fiche.id}").get_json()
    assert body["current_version"] == 2
    assert [(v["version"], v["current"]) for v in body["versions"]] == [(1, False), (2, True)]
    assert body["versions"][1]["amendment_reason"] == "Précision du geste"
    first, second = (caller.get(v["pdf"]["href"]) for v in body["versions"])
    assert first.data != second.data
    assert second.headers["ETag"] == f'"{body["versions"][1]["pdf"]["sha256"]}"'


def test_altered_document_is_not_served(api, app, make, site):
    establishment, rcp, _second, _other = site
    session = make.session(rcp.id, status="closed")
    made = placeholder_fiche(app, make, session.id, utcnow())
    with app.app_context():
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(
                text("ALTER TABLE fiche_documents DISABLE TRIGGER fiche_documents_write_once")
            )
        else:
            db.session.execute(text("DROP TRIGGER fiche_documents_no_update"))
        db.session.execute(
            text(
                "UPDATE fiche_documents SET content = :c WHERE kind = 'pdf' AND version_id IN "
                "(SELECT id FROM fiche_versions WHERE fiche_id = :f)"
            ),
            {"c": PLACEHOLDER_PDF.replace(b"EOF", b"EOG"), "f": made["fiche"]},
        )
        db.session.commit()
    caller = api(scopes=("fiches:read",), establishment=establishment)
    refused = caller.get(f"/api/v1/fiches/{made['fiche']}/versions/1/pdf")
    assert refused.status_code == 409
    assert "empreinte" in refused.get_json()["detail"]
    assert caller.get(f"/api/v1/fiches/{made['fiche']}/versions/1/cda").status_code == 200


# --- fiches: lists ------------------------------------------------------------------------------


def test_fiche_list_by_patient_since_and_pages(api, app, make, site):
    establishment, rcp, _second, other_rcp = site
    sessions = [make.session(rcp.id, status="closed") for _ in range(2)]
    # Signed 10 and 3 days ago, and 30 minutes before midnight (Paris) starting yesterday.
    now = utcnow().replace(microsecond=0)
    old = placeholder_fiche(app, make, sessions[0].id, now - timedelta(days=10))
    recent = placeholder_fiche(app, make, sessions[0].id, now - timedelta(days=3))
    patient = make.patient()
    twice = [
        placeholder_fiche(
            app,
            make,
            session.id,
            now - timedelta(hours=1),
            case_id=make.submitted_case(
                rcp_id=rcp.id, session_id=session.id, patient_id=patient.id, status="scheduled"
            ).id,
        )
        for session in sessions
    ]
    theirs = placeholder_fiche(
        app, make, make.session(other_rcp.id, status="closed").id, now - timedelta(hours=1)
    )
    caller = api(scopes=("fiches:read",), establishment=establishment)

    def ids(**query):
        response = caller.get("/api/v1/fiches", query_string=query)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    mine = [old["fiche"], recent["fiche"], *(made["fiche"] for made in twice)]
    assert ids() == mine
    assert ids(patient_id=patient.id) == [made["fiche"] for made in twice]
    assert ids(patient_id=theirs["patient"]) == []
    four_days_ago = (now - timedelta(days=4)).isoformat() + "+00:00"
    assert ids(since=four_days_ago) == mine[1:]
    two_hours_ago = (now - timedelta(hours=2)).isoformat() + "Z"
    assert ids(since=two_hours_ago) == mine[2:]
    assert ids(since=two_hours_ago, patient_id=patient.id) == mine[2:]
    assert ids(since=four_days_ago, patient_id=recent["patient"]) == [recent["fiche"]]
    # Pages of the « since » list (read from the signing times) neither skip nor repeat.
    since_url = f"/api/v1/fiches?since={four_days_ago.replace('+', '%2B')}&limit=1"
    assert follow_pages(caller, since_url) == [[fiche] for fiche in mine[1:]]
    assert ids(since=(now + timedelta(days=2)).date().isoformat()) == []
    refused = caller.get("/api/v1/fiches", query_string={"since": "hier"})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "since"
    far = caller.get("/api/v1/fiches", query_string={"since": "0001-01-01T00:00:00"})
    assert far.status_code == 422

    assert follow_pages(caller, "/api/v1/fiches?limit=3") == [mine[:3], mine[3:]]
    patients = {old["patient"], recent["patient"], patient.id}
    assert named_patients(last_call(app, "/api/v1/fiches")) == {twice[1]["patient"]}
    caller.get("/api/v1/fiches")
    assert named_patients(last_call(app, "/api/v1/fiches")) == patients

    # Another establishment's fiche: absent from the lists, 404 everywhere.
    for path in (
        f"/api/v1/fiches/{theirs['fiche']}",
        f"/api/v1/fiches/{theirs['fiche']}/versions/1/pdf",
        f"/api/v1/fiches/{theirs['fiche']}/versions/1/cda",
        f"/api/v1/fiches/{theirs['fiche']}/versions/1/fhir",
    ):
        assert caller.get(path).status_code == 404, path
    # The same establishment's placeholder PDF is served as stored.
    assert caller.get(f"/api/v1/fiches/{old['fiche']}/versions/1/pdf").data == PLACEHOLDER_PDF
