"""One example request per API operation, on a world of one establishment.

``EXAMPLES`` maps each (endpoint, method) of the route table's /api/v1 operations to the
request that the establishment's own client makes with success, and to what a client of another
establishment gets for the same request (``foreign``): the access table
(tests/api/test_api_access_table.py), the audit coverage (tests/test_audit_coverage.py) and the
GET hygiene walk (tests/test_get_routes_hygiene.py) all read it, and each fails on an operation
without an entry, so a new operation cannot be left out.

``world(app, make)`` builds the establishment's objects (a signed fiche and everything behind
it, a planned session, a draft case, a patient registered by the establishment's systems) and
returns their ids under the names the examples' templates use (``{patient}``, ``{case}``…).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace

from sqlalchemy import select

from rcp_app.api.models import EstablishmentPatient, WebhookSubscription
from rcp_app.cases.models import Case
from rcp_app.core.timeutil import utcnow
from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from rcp_app.patients.models import Patient
from tests.fiches.support import signed_world
from tests.support.factories import pdf_bytes

# What a client of another establishment gets for the example's request.
HIDDEN = "404: l'objet d'un autre établissement n'existe pas pour lui"
EMPTY = "2xx, liste vide"
REFUSED = "création refusée (404/422) : elle nomme un objet d'un autre établissement"
OWN = "2xx : l'opération ne porte que sur ses propres données"
CREATED = "created"


@dataclass(frozen=True)
class Context:
    """What ``prepare`` may use: the app, the factories, the world's ids, and the caller
    (ApiCaller of tests/api/conftest.py) of the establishment that holds the operation's
    scope, which owns what belongs to a client (webhook subscriptions)."""

    app: object
    make: object
    world: dict
    owner: object


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    json: object = None
    headers: dict = field(default_factory=dict)
    form: dict | None = None

    def send(self, http, headers: dict | None = None):
        """The request through a Flask test client, with ``headers`` added."""
        extra = {**self.headers, **(headers or {})}
        if self.form is not None:
            return http.open(
                self.url,
                method=self.method,
                data=self.form,
                headers=extra,
                content_type="multipart/form-data",
            )
        return http.open(self.url, method=self.method, json=self.json, headers=extra)


@dataclass(frozen=True)
class Example:
    method: str
    path: str  # formatted with the world's ids and what ``prepare`` returns
    json: Callable[[dict], object] | None = None
    form: Callable[[dict], dict] | None = None  # multipart/form-data
    headers: Callable[[dict], dict] | None = None
    # Run before each request (inside the savepoint the request is rolled back with):
    # creates what the request needs, returns more values for the templates.
    prepare: Callable[[Context], dict] | None = None
    ok: frozenset[int] = frozenset({200})
    foreign: str = HIDDEN
    # World keys of the patients the response shows (its audit row must name them);
    # CREATED: the patient the response creates (its body's ``id``).
    patients: tuple[str, ...] = ()

    def patient_ids(self, values: dict, body) -> set[int]:
        return {(body or {}).get("id") if key == CREATED else values[key] for key in self.patients}

    def prepared(self, context: Context, values: dict) -> dict:
        """The values with what ``prepare`` adds (run it inside the caller's savepoint)."""
        return {**values, **self.prepare(context)} if self.prepare else dict(values)

    def request(self, values: dict) -> Request:
        return Request(
            self.method,
            self.path.format(**values),
            self.json(values) if self.json else None,
            self.headers(values) if self.headers else {},
            self.form(values) if self.form else None,
        )


def world(app, make) -> dict:
    """One establishment's objects (see the module's docstring), and an empty establishment
    (``other_establishment``) for the clients of another establishment."""
    signed = signed_world(app, make)
    with app.app_context():
        establishment_id = db.session.get(Rcp, signed.rcp_id).establishment_id
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == signed.case_id))
        fiche_id, decision_id = fiche.id, fiche.decision_id
    registered = make.patient(
        birth_name="ENREGISTRÉ",
        birth_first_names="Lucie",
        first_birth_first_name="Lucie",
        birth_date=date(1980, 5, 6),  # under 70: no G8 score to give before submitting
    )
    with app.app_context():
        db.session.add(
            EstablishmentPatient(
                establishment_id=establishment_id, patient_id=registered.id, registered_at=utcnow()
            )
        )
        db.session.commit()
    planned = make.session(signed.rcp_id)
    draft = make.case(
        rcp_id=signed.rcp_id, session_id=planned.id, patient_id=registered.id, gp_unknown=True
    )
    with app.app_context():
        patient = db.session.get(Patient, signed.patient_id)
        identity = _identity(patient)
        patient_version = patient.version
        draft_version = db.session.get(Case, draft.id).version
    return {
        "establishment": SimpleNamespace(id=establishment_id),
        "other_establishment": make.establishment(),
        "rcp": signed.rcp_id,
        "patient": signed.patient_id,
        "patient_identity": identity,
        "patient_etag": f'"patient-{signed.patient_id}-v{patient_version}"',
        "registered_patient": registered.id,
        "session": signed.session_id,
        "planned_session": planned.id,
        "case": signed.case_id,
        "draft": draft.id,
        "requester": draft.requester_id,
        "draft_etag": f'"case-{draft.id}-v{draft_version}"',
        "item": signed.item_id,
        "decision": decision_id,
        "fiche": fiche_id,
    }


def _identity(patient: Patient) -> dict:
    return {
        "birth_name": patient.birth_name,
        "birth_first_names": patient.birth_first_names,
        "first_birth_first_name": patient.first_birth_first_name,
        "used_name": patient.used_name,
        "used_first_name": patient.used_first_name,
        "sex": patient.sex,
        "birth_date": patient.birth_date.isoformat(),
        "birthplace_code": patient.birthplace_code,
        "identity_status": patient.identity_status,
        "ins_matricule": patient.ins_matricule,
        "ins_oid": patient.ins_oid,
        "ipp": patient.ipp,
    }


def _new_identity(_values: dict) -> dict:
    return {
        "birth_name": "NOUVEAU",
        "birth_first_names": "Paul",
        "first_birth_first_name": "Paul",
        "sex": "M",
        "birth_date": "1950-01-02",
        "identity_status": "PROV",
        "ipp": "DPI-EXEMPLE-1",
    }


def _case_data(values: dict) -> dict:
    return {
        "session_id": values["planned_session"],
        "requester_id": values["requester"],
        "appareil_code": "76752008",  # the RCP's (breast)
        "question": "Quelle chirurgie ?",
        "synthesis": "Patiente de 45 ans, carcinome canalaire du sein droit.",
        "gp_unknown": True,
    }


def subscription(context: Context) -> dict:
    """A webhook subscription of the establishment's client (created as a row: its own
    operations are tested in tests/api/test_api_webhooks.py)."""
    with context.app.app_context():
        row = WebhookSubscription(
            client_id=context.owner.client_pk,
            url="https://dpi.hopital.test/rcp/evenements",
            events="fiche.signed",
            secret="exemple-de-cle-de-signature",
            created_at=utcnow(),
        )
        db.session.add(row)
        db.session.commit()
        return {"subscription": row.id}


EXAMPLES: dict[tuple[str, str], Example] = {
    # Patients
    ("api.patients_list", "GET"): Example(
        "GET", "/api/v1/patients", foreign=EMPTY, patients=("patient", "registered_patient")
    ),
    ("api.patient", "GET"): Example("GET", "/api/v1/patients/{patient}", patients=("patient",)),
    ("api.patient_create", "POST"): Example(
        "POST",
        "/api/v1/patients",
        json=_new_identity,
        ok=frozenset({201}),
        foreign=OWN,
        patients=(CREATED,),
    ),
    ("api.patient_update", "PUT"): Example(
        "PUT",
        "/api/v1/patients/{patient}",
        json=lambda values: values["patient_identity"],
        headers=lambda values: {"If-Match": values["patient_etag"]},
        patients=("patient",),
    ),
    # Cases: the world's draft is the registered patient's, in the RCP's planned session.
    ("api.cases_list", "GET"): Example(
        "GET", "/api/v1/cases", foreign=EMPTY, patients=("patient", "registered_patient")
    ),
    ("api.case", "GET"): Example("GET", "/api/v1/cases/{case}", patients=("patient",)),
    ("api.case_create", "POST"): Example(
        "POST",
        "/api/v1/cases",
        json=lambda values: {
            "patient_id": values["patient"],  # their next case, in the planned session
            "rcp_id": values["rcp"],
            **_case_data(values),
        },
        ok=frozenset({201}),
        foreign=REFUSED,
        patients=("patient",),
    ),
    ("api.case_update", "PUT"): Example(
        "PUT",
        "/api/v1/cases/{draft}",
        json=_case_data,
        headers=lambda values: {"If-Match": values["draft_etag"]},
        patients=("registered_patient",),
    ),
    ("api.case_submit", "POST"): Example(
        "POST",
        "/api/v1/cases/{draft}/submit",
        headers=lambda values: {"If-Match": values["draft_etag"]},
        patients=("registered_patient",),
    ),
    ("api.case_attachment_upload", "POST"): Example(
        "POST",
        "/api/v1/cases/{draft}/attachments",
        form=lambda _values: {"kind": "pathology", "file": (io.BytesIO(pdf_bytes()), "cr.pdf")},
        ok=frozenset({201}),
        patients=("registered_patient",),
    ),
    ("api.case_decision", "GET"): Example(
        "GET", "/api/v1/cases/{case}/decision", patients=("patient",)
    ),
    # Sessions
    ("api.sessions_list", "GET"): Example("GET", "/api/v1/sessions", foreign=EMPTY),
    ("api.session", "GET"): Example("GET", "/api/v1/sessions/{session}", patients=("patient",)),
    # Decisions
    ("api.decisions_list", "GET"): Example(
        "GET", "/api/v1/decisions", foreign=EMPTY, patients=("patient",)
    ),
    ("api.decision", "GET"): Example("GET", "/api/v1/decisions/{decision}", patients=("patient",)),
    # Signed fiches and their documents (version 1: the world's fiche is signed once).
    ("api.fiches_list", "GET"): Example(
        "GET", "/api/v1/fiches", foreign=EMPTY, patients=("patient",)
    ),
    ("api.fiche", "GET"): Example("GET", "/api/v1/fiches/{fiche}", patients=("patient",)),
    ("api.fiche_pdf", "GET"): Example(
        "GET", "/api/v1/fiches/{fiche}/versions/1/pdf", patients=("patient",)
    ),
    ("api.fiche_cda", "GET"): Example(
        "GET", "/api/v1/fiches/{fiche}/versions/1/cda", patients=("patient",)
    ),
    ("api.fiche_fhir", "GET"): Example(
        "GET", "/api/v1/fiches/{fiche}/versions/1/fhir", patients=("patient",)
    ),
    # Webhooks: a client's own subscriptions.
    ("api.webhook_list", "GET"): Example("GET", "/api/v1/webhooks", foreign=EMPTY),
    ("api.webhook_create", "POST"): Example(
        "POST",
        "/api/v1/webhooks",
        json=lambda _values: {
            "url": "https://dpi.hopital.test/rcp/evenements",
            "events": ["fiche.signed", "case.scheduled"],
        },
        ok=frozenset({201}),
        foreign=OWN,
    ),
    ("api.webhook_delete", "DELETE"): Example(
        "DELETE",
        "/api/v1/webhooks/{subscription}",
        prepare=subscription,
        ok=frozenset({204}),
    ),
}
