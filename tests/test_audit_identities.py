"""Audit rows name patients by id, never by identity: no name, INS, birth date or search text
in their details, and the admin role's audit pages show ids only."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from rcp_app.admin import audit_query
from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from rcp_app.patients import ins
from rcp_app.patients.models import Patient
from tests.support.factories import PASSWORD

OLD = {
    "birth_name": "QUINTANILHA",
    "birth_first_names": "Apolline Bérénice",
    "first_birth_first_name": "Apolline",
    "used_name": "VERTEFEUILLE",
    "used_first_name": "Ysaline",
    "birth_date": date(1961, 7, 23),
    "ins_matricule": ins.make_matricule("2", 1961, 7, "2A", "004", 321),
    "ipp": "IPPQX7788",
}
NEW = {
    "birth_name": "ZABALETA",
    "birth_first_names": "Apolline Bérénice Oriane",
    "used_name": "MORVILLIERS",
    "used_first_name": "Orlane",
    "birth_date": date(1961, 7, 29),  # same month: the INS stays coherent
    "ins_matricule": ins.make_matricule("2", 1961, 7, "2A", "004", 654),
    "ipp": "IPPZB4455",
}


def _identity_strings(values: dict) -> set[str]:
    """Every way an identity value could be written into the log."""
    strings = set()
    for field, value in values.items():
        if isinstance(value, date):
            strings |= {value.isoformat(), value.strftime("%d/%m/%Y"), value.strftime("%Y%m%d")}
        elif field == "ins_matricule":
            strings |= {value, value[:13], " ".join((value[0], value[1:3], value[3:5]))}
        else:
            strings |= {value, *value.split(" ")}
    return {s.casefold() for s in strings if len(s) >= 4}


def _edit_data(patient: Patient, **overrides) -> dict:
    data = {
        field: getattr(patient, field) or ""
        for field in (
            "birth_name",
            "birth_first_names",
            "first_birth_first_name",
            "used_name",
            "used_first_name",
            "sex",
            "birthplace_code",
            "identity_status",
            "ins_matricule",
            "ins_oid",
            "ipp",
        )
    }
    data["birth_date"] = patient.birth_date.strftime("%d/%m/%Y")
    data["version"] = str(patient.version)
    data.update(overrides)
    return data


def _rows_after(app, seq: int) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.seq > seq).order_by(AuditEntry.seq)
        ).all()
        db.session.expunge_all()
        return rows


def _searches_and_identity_change(app, client, make):
    """A coordinator searches the patient every way, opens the case form's search, and
    changes every identity field; returns (patient id, the audit rows written)."""
    patient = make.patient(**OLD)
    with app.app_context():
        before = db.session.scalar(select(func.max(AuditEntry.seq))) or 0
    coordinator = make.user(role="coordinator")
    make.enrol(coordinator)  # registered the patient: may correct its identity
    client.post("/connexion", data={"username": coordinator.username, "password": PASSWORD})
    searches = [
        {"q": OLD["birth_name"]},
        {"q": f"{OLD['used_name']} {OLD['first_birth_first_name']}"},
        {"q": OLD["ins_matricule"]},
        {"q": " ".join(OLD["ins_matricule"][i : i + 3] for i in range(0, 15, 3))},
        {"birth_date": OLD["birth_date"].strftime("%d/%m/%Y")},
        {"q": OLD["birth_name"], "birth_date": OLD["birth_date"].strftime("%d/%m/%Y")},
    ]
    for params in searches:
        html = client.get("/patients", query_string=params).get_data(as_text=True)
        assert OLD["birth_name"] in html, params  # the search found the patient
    client.get("/dossiers/nouveau", query_string={"q": OLD["birth_name"]})
    response = client.post(
        f"/patients/{patient.id}/modifier",
        data=_edit_data(
            patient,
            **{k: (v.strftime("%d/%m/%Y") if k == "birth_date" else v) for k, v in NEW.items()},
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    client.post("/deconnexion")
    return patient.id, _rows_after(app, before)


def test_audit_details_carry_no_identity(app, client, make):
    patient_id, rows = _searches_and_identity_change(app, client, make)
    identity = _identity_strings(OLD) | _identity_strings(NEW)
    leaks = [
        (row.action, text)
        for row in rows
        for text in identity
        if text in (row.details or "").casefold()
    ]
    assert leaks == []
    # What the rows keep instead: the patient as a reference, which criteria, which fields.
    searches = [row.details_dict() for row in rows if row.action == "patient.search"]
    assert len(searches) == 7
    assert all(patient_id in details["patients"] for details in searches)
    assert [details["criteria"] for details in searches[:6]] == [
        ["name"],
        ["name"],
        ["ins"],
        ["ins"],
        ["birth_date"],
        ["name", "birth_date"],
    ]
    [update] = [row for row in rows if row.action == "patient.update"]
    assert update.patient_id == patient_id
    assert update.details_dict() == {
        "fields": [
            "birth_name",
            "birth_first_names",
            "used_name",
            "used_first_name",
            "birth_date",
            "ins_matricule",
            "ipp",
        ]
    }


def test_admin_audit_pages_show_patient_ids_only(app, client, make, login):
    patient_id, rows = _searches_and_identity_change(app, client, make)
    identity = _identity_strings(OLD) | _identity_strings(NEW)
    login("admin")
    pages = {
        query: client.get(f"/admin/audit?{query}").get_data(as_text=True).casefold()
        for query in ("", "action=patient.", f"patient_id={patient_id}")
    }
    pages["home"] = client.get("/").get_data(as_text=True).casefold()
    for name, html in pages.items():
        assert [text for text in identity if text in html] == [], name
    # The rows are there, naming the patient by its id.
    assert f"patients : [{patient_id}]" in pages["action=patient."]
    assert "patient.update" in pages[f"patient_id={patient_id}"]
    assert "patient.search" in pages[f"patient_id={patient_id}"]  # list rows naming it


def test_identities_behind_ids_only_for_entitled_roles(app, make):
    patient = make.patient(**OLD)
    viewers = {role: make.user(role=role) for role in ("admin", "coordinator", "physician", "gp")}
    with app.app_context():
        entry = AuditEntry(patient_id=None, details=f'{{"patients": [{patient.id}]}}')
        shown = {
            role: audit_query.patient_identities([entry], user) for role, user in viewers.items()
        }
    name = f"{OLD['birth_name']} {OLD['first_birth_first_name']}"
    assert shown == {
        "admin": {},
        "coordinator": {patient.id: name},
        "physician": {patient.id: name},
        "gp": {},
    }


def test_admin_audit_page_masks_clinical_text_of_patient_rows(app, client, make, login):
    """Free text (a withdrawal reason) and a case's changed values are clinical content: the
    admin role sees the row, the field names and the ids, not the text."""
    draft = make.case()
    coordinator = make.user(role="coordinator")
    make.enrol(coordinator)  # runs the case's RCP
    client.post("/connexion", data={"username": coordinator.username, "password": PASSWORD})
    reason = "Patiente transférée au centre de Brest"
    response = client.post(f"/dossiers/{draft.id}/retirer", data={"reason": reason, "version": "1"})
    assert response.status_code == 302
    client.post("/deconnexion")
    with app.app_context():
        from rcp_app.core import audit

        audit.record(
            "case.update",
            "case",
            draft.id,
            patient_id=draft.patient_id,
            details={
                "fields": ["synthesis"],
                "changes": {"synthesis": {"old": "Ancienne synthèse", "new": "Nouvelle"}},
            },
        )
        db.session.commit()
    login("admin")
    html = client.get(f"/admin/audit?patient_id={draft.patient_id}").get_data(as_text=True)
    assert "case.withdraw" in html and "case.update" in html
    for text in (reason, "Ancienne synthèse", "Nouvelle"):
        assert text not in html
    assert "synthesis" in html and "(masqué)" in html


def test_patient_filter_finds_list_rows_naming_the_patient(app, client, login):
    """« N° de patient » finds the rows naming the patient in ``patient_id`` and the list pages
    naming them among others; an id elsewhere in the details (a case id) does not count."""
    with app.app_context():
        from rcp_app.core import audit

        audit.record("test.single", "patient", 7001, patient_id=7001)
        audit.record("test.listed", details={"patients": [7002, 7001, 7003]})
        audit.record("test.other_patients", details={"patients": [70011, 17001]})
        audit.record("test.case_ids", details={"cases": [7001], "patients": [7004]})
        db.session.commit()
        form_rows = db.session.scalars(
            select(AuditEntry.action)
            .where(audit_query.names_patient(7001))
            .order_by(AuditEntry.seq)
        ).all()
    assert form_rows == ["test.single", "test.listed"]
    login("admin")
    html = client.get("/admin/audit?patient_id=7001").get_data(as_text=True)
    assert "test.single" in html and "test.listed" in html
    assert "test.other_patients" not in html and "test.case_ids" not in html


def test_admin_audit_page_masks_identities_of_rows_written_before(app, client, login):
    """Rows written before identities left the log (append-only: never rewritten) keep their
    search text, birth date, file name and old/new identity values: masked for the admin."""
    with app.app_context():
        from rcp_app.core import audit

        audit.record(
            "patient.search",
            "patient",
            None,
            details={"query": "QUINTANILHA", "birth_date": "1961-07-23", "result_ids": [8001]},
        )
        audit.record(
            "patient.update",
            "patient",
            8001,
            patient_id=8001,
            details={
                "fields": ["birth_name"],
                "changes": {"birth_name": {"old": "QUINTANILHA", "new": "ZABALETA"}},
            },
        )
        audit.record(
            "attachment.download",
            "case",
            8002,
            patient_id=8001,
            details={"attachment_id": 3, "name": "CR_QUINTANILHA_Apolline.pdf"},
        )
        db.session.commit()
    login("admin")
    html = client.get("/admin/audit?action=").get_data(as_text=True)
    assert "patient.search" in html and "attachment.download" in html
    for text in ("QUINTANILHA", "ZABALETA", "1961-07-23", "Apolline"):
        assert text not in html
    assert "birth_name" in html and "attachment_id : 3" in html


def test_a_count_named_patients_in_the_details_names_no_patient():
    """The demo load records {"patients": <count>}: the audit page must not take it for a list
    of patient ids (it answered 500 on a fresh demo database)."""
    import json

    from rcp_app.admin.audit_query import patient_refs
    from rcp_app.core.audit import AuditEntry

    assert patient_refs(AuditEntry(patient_id=None, details=json.dumps({"patients": 150}))) == []
    assert patient_refs(AuditEntry(patient_id=7, details=json.dumps({"patients": [3, "x"]}))) == [
        7,
        3,
    ]
