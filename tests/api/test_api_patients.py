"""/api/v1/patients: the identity rules of the form, the establishment's boundary, If-Match."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from rcp_app.api.models import EstablishmentPatient
from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from rcp_app.patients import ins
from rcp_app.patients.models import Patient

BIRTH = date(1961, 3, 14)


def identity(**changes) -> dict:
    body = {
        "birth_name": "Lefèvre",
        "birth_first_names": "Anne Claire",
        "first_birth_first_name": "Anne",
        "sex": "F",
        "birth_date": BIRTH.isoformat(),
        "birthplace_code": "69123",
        "identity_status": "QUAL",
        "ins_matricule": ins.make_matricule("2", BIRTH.year, BIRTH.month, "69", "123", 41),
        "ins_oid": ins.OID_TEST_NIR,
        "ipp": "DPI-000041",
    }
    body.update(changes)
    return body


def test_create_read_find(api, app):
    caller = api(scopes=("patients:read", "patients:write"))
    created = caller.post("/api/v1/patients", json=identity())
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["birth_name"] == "LEFÈVRE"
    assert created.headers["Location"].endswith(f"/api/v1/patients/{body['id']}")
    assert created.headers["ETag"] == f'"patient-{body["id"]}-v1"'
    read = caller.get(f"/api/v1/patients/{body['id']}")
    assert read.status_code == 200
    assert read.get_json() == body
    by_ins = caller.get("/api/v1/patients", query_string={"ins": identity()["ins_matricule"]})
    assert [p["id"] for p in by_ins.get_json()["items"]] == [body["id"]]
    by_ipp = caller.get("/api/v1/patients", query_string={"ipp": "DPI-000041"})
    assert [p["id"] for p in by_ipp.get_json()["items"]] == [body["id"]]
    with app.app_context():
        link = db.session.get(EstablishmentPatient, (caller.establishment_id, body["id"]))
        assert link is not None
        created_row = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "patient.create", AuditEntry.patient_id == body["id"]
            )
        )
        assert created_row.username.startswith("api:")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"birth_name": "Lef3vre"}, "birth_name", "ne peut contenir que des lettres"),
        ({"first_birth_first_name": "Claire"}, "first_birth_first_name", "premier prénom"),
        ({"birthplace_code": "7A123"}, "birthplace_code", "code INSEE"),
        ({"ins_matricule": "123"}, "ins_matricule", ""),
        ({"ins_matricule": None}, "ins_matricule", "matricule INS"),
    ],
)
def test_identity_rules_are_the_forms(api, changes, field, message):
    caller = api(scopes=("patients:write",))
    refused = caller.post("/api/v1/patients", json=identity(**changes))
    assert refused.status_code == 422, refused.get_json()
    errors = refused.get_json()["errors"]
    assert errors[0]["field"] == field
    assert message in errors[0]["message"]


def test_type_errors_are_french_per_field(api):
    caller = api(scopes=("patients:write",))
    refused = caller.post(
        "/api/v1/patients", json=identity(birth_date="14/03/1961", sex="X", extra="?")
    )
    assert refused.status_code == 422
    by_field = {e["field"]: e["message"] for e in refused.get_json()["errors"]}
    assert by_field["birth_date"].startswith("Date invalide")
    assert by_field["sex"].startswith("Valeur inconnue")
    assert by_field["extra"] == "Champ inconnu."
    not_json = caller.post("/api/v1/patients", data="{", content_type="application/json")
    assert not_json.status_code == 422


def test_known_ins_with_same_traits_is_returned_and_linked(api, make):
    establishment = make.establishment()
    other_establishment = make.establishment()
    first = api(scopes=("patients:write", "patients:read"), establishment=other_establishment)
    assert first.post("/api/v1/patients", json=identity()).status_code == 201
    caller = api(scopes=("patients:write", "patients:read"), establishment=establishment)
    # Not visible before the establishment identifies the patient…
    found = caller.get("/api/v1/patients", query_string={"ins": identity()["ins_matricule"]})
    assert found.get_json()["items"] == []
    again = caller.post("/api/v1/patients", json=identity(ipp=None))
    assert again.status_code == 200, again.get_json()
    found = caller.get("/api/v1/patients", query_string={"ins": identity()["ins_matricule"]})
    assert len(found.get_json()["items"]) == 1


def test_known_ins_with_other_traits_is_a_409_naming_no_one(api, make):
    api(scopes=("patients:write",)).post("/api/v1/patients", json=identity())
    caller = api(scopes=("patients:write",))
    refused = caller.post("/api/v1/patients", json=identity(birth_date="1961-03-15", ipp="OTHER-1"))
    # Same INS (its key checks the year and month only), another day of birth: not the same
    # person as far as the traits go.
    assert refused.status_code == 409
    refused = caller.post(
        "/api/v1/patients",
        json=identity(birth_name="Martin", ipp="OTHER-2"),
    )
    assert refused.status_code == 409
    body = refused.get_json()
    assert "DPI-000041" not in str(body) and "LEFÈVRE" not in str(body)


def test_other_establishment_patient_is_404(api, make):
    patient = make.patient()
    caller = api(scopes=("patients:read", "patients:write"))
    assert caller.get(f"/api/v1/patients/{patient.id}").status_code == 404
    assert (
        caller.get("/api/v1/patients", query_string={"ipp": patient.ipp}).get_json()["items"] == []
    )
    put = caller.put(f"/api/v1/patients/{patient.id}", json=identity(), headers={"If-Match": "*"})
    assert put.status_code == 404


def test_update_needs_if_match(api, app):
    caller = api(scopes=("patients:read", "patients:write"))
    created = caller.post("/api/v1/patients", json=identity()).get_json()
    url = f"/api/v1/patients/{created['id']}"
    changed = identity(used_name="Durand")
    assert caller.put(url, json=changed).status_code == 428
    stale = caller.put(url, json=changed, headers={"If-Match": '"patient-1-v99"'})
    assert stale.status_code == 412
    ok = caller.put(url, json=changed, headers={"If-Match": f'"patient-{created["id"]}-v1"'})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["used_name"] == "DURAND"
    assert ok.headers["ETag"] == f'"patient-{created["id"]}-v2"'
    # The ETag read before the update is now stale.
    again = caller.put(url, json=changed, headers={"If-Match": f'"patient-{created["id"]}-v1"'})
    assert again.status_code == 412


def test_ins_only_for_a_qualified_identity(api, app):
    caller = api(scopes=("patients:read", "patients:write"))
    created = caller.post(
        "/api/v1/patients", json=identity(identity_status="VALI", ipp="DPI-2")
    ).get_json()
    assert created["ins_matricule"] is None and created["ins_oid"] is None
    with app.app_context():
        assert db.session.get(Patient, created["id"]).ins_matricule is not None


def test_list_pages_with_a_cursor(api, app):
    caller = api(scopes=("patients:read", "patients:write"))
    for n in range(5):
        birth = date(1950 + n, 1, 1)
        body = identity(
            ipp=f"P{n}",
            birth_date=birth.isoformat(),
            ins_matricule=ins.make_matricule("2", birth.year, 1, "69", "123", n + 1),
        )
        assert caller.post("/api/v1/patients", json=body).status_code == 201
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = caller.get("/api/v1/patients", query_string=query).get_json()
        seen += [p["ipp"] for p in response["items"]]
        pages += 1
        cursor = response["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"P{n}" for n in range(5)] and pages == 3
    bad = caller.get("/api/v1/patients", query_string={"cursor": "garbage!"})
    assert bad.status_code == 400
    assert bad.get_json()["errors"][0]["field"] == "cursor"


def test_list_call_audit_names_the_patients(api, app):
    caller = api(scopes=("patients:read", "patients:write"))
    ids = [
        caller.post(
            "/api/v1/patients",
            json=identity(
                ipp=f"A{n}",
                **(
                    {}
                    if n == 0
                    else {
                        "identity_status": "PROV",
                        "ins_matricule": None,
                        "ins_oid": None,
                        "birth_name": f"Nom{'a' * n}",
                    }
                ),
            ),
        ).get_json()["id"]
        for n in range(2)
    ]
    caller.get("/api/v1/patients")
    with app.app_context():
        row = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "api.call").order_by(AuditEntry.id.desc())
        ).first()
        assert row.details_dict()["patients"] == ids
