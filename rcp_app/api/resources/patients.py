"""/api/v1/patients: find by INS or IPP, read, create, update (If-Match).

The same identity rules as the form (patients/operations.py): the same French messages, per
field. An INS is given only for a qualified identity, as the INS rules require. A client
creating a patient whose INS or IPP is already known gets that patient back, linked to its
establishment, only when the strict traits agree; otherwise a 409 that names no one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from flask import jsonify, url_for
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response
from sqlalchemy import select

from ...access import api_clients as scope
from ...core.errors import DomainError, problem
from ...core.patient_data import shows_patient_data
from ...core.timeutil import utcnow
from ...extensions import db
from ...patients import operations as patients
from ...patients.models import Patient
from ..guard import api_call, current_client, name_patients
from ..models import EstablishmentPatient
from ..paging import check_if_match, etag, next_link, page
from ..spec import require_json, secured, spec
from ..views import bp
from .common import WRITE_ERRORS, Problem, not_found

Status = Literal["PROV", "RECUP", "VALI", "QUAL"]
Sex = Literal["M", "F", "I"]


class PatientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    birth_name: str = Field(max_length=100, description="Nom de naissance")
    birth_first_names: str = Field(max_length=200, description="Prénoms de naissance")
    first_birth_first_name: str = Field(max_length=100, description="Premier prénom")
    used_name: str | None = Field(None, max_length=100, description="Nom utilisé")
    used_first_name: str | None = Field(None, max_length=100, description="Prénom utilisé")
    sex: Sex
    birth_date: date
    birthplace_code: str | None = Field(None, max_length=5, description="Code INSEE")
    identity_status: Status
    ins_matricule: str | None = Field(None, max_length=40, description="Matricule INS")
    ins_oid: str | None = Field(None, max_length=40, description="OID de l'INS (NIR/NIA)")
    ipp: str | None = Field(None, max_length=40, description="IPP de l'établissement")


class PatientOut(BaseModel):
    id: int
    version: int
    identity_status: Status
    ins_matricule: str | None = Field(description="Seulement pour une identité qualifiée")
    ins_oid: str | None
    ipp: str | None
    birth_name: str
    birth_first_names: str
    first_birth_first_name: str
    used_name: str | None
    used_first_name: str | None
    sex: Sex
    birth_date: date
    birthplace_code: str | None
    updated_at: datetime


class PatientList(BaseModel):
    items: list[PatientOut]
    next_cursor: str | None
    next: str | None


class PatientQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ins: str | None = Field(None, max_length=40, description="Matricule INS (15 caractères)")
    ipp: str | None = Field(None, max_length=40)
    cursor: str | None = Field(None, max_length=100)
    limit: int | None = Field(None, ge=1, le=200)


def represent(patient: Patient) -> dict:
    qualified = patient.shown_ins is not None
    return {
        "id": patient.id,
        "version": patient.version,
        "identity_status": patient.identity_status,
        "ins_matricule": patient.shown_ins,
        "ins_oid": patient.ins_oid if qualified else None,
        "ipp": patient.ipp,
        "birth_name": patient.birth_name,
        "birth_first_names": patient.birth_first_names,
        "first_birth_first_name": patient.first_birth_first_name,
        "used_name": patient.used_name,
        "used_first_name": patient.used_first_name,
        "sex": patient.sex,
        "birth_date": patient.birth_date.isoformat(),
        "birthplace_code": patient.birthplace_code,
        "updated_at": patient.updated_at.isoformat(timespec="seconds") + "Z",
    }


def _respond(patient: Patient, status: int = 200):
    name_patients(patient.id)
    response = jsonify(represent(patient))
    response.status_code = status
    response.headers["ETag"] = etag("patient", patient.id, patient.version)
    if status == 201:
        response.headers["Location"] = url_for("api.patient", patient_id=patient.id)
    return response


def visible(patient_id: int) -> Patient:
    client = current_client()
    patient = db.session.scalar(
        select(Patient).where(Patient.id == patient_id, scope.patient_condition(client, Patient.id))
    )
    if patient is None:
        not_found("Patient inconnu (ou hors de votre établissement).")
    return patient


def _link(patient: Patient) -> None:
    client = current_client()
    exists = db.session.get(EstablishmentPatient, (client.establishment_id, patient.id))
    if exists is None:
        db.session.add(
            EstablishmentPatient(
                establishment_id=client.establishment_id,
                patient_id=patient.id,
                registered_at=utcnow(),
            )
        )


@bp.get("/patients")
@shows_patient_data
@api_call("patients:read")
@spec.validate(
    query=PatientQuery,
    resp=Response(HTTP_200=PatientList, HTTP_400=Problem, HTTP_401=Problem, HTTP_403=Problem),
    tags=["Patients"],
    security=secured("patients:read"),
)
def patients_list(query: PatientQuery):
    """Patients de l'établissement, par INS ou par IPP.

    Sans critère : tous les patients de l'établissement, par pages (curseur).
    """
    statement = select(Patient).where(scope.patient_condition(current_client(), Patient.id))
    if query.ins:
        statement = statement.where(
            Patient.ins_matricule == patients.ins.normalise(query.ins),
            Patient.identity_status == "QUAL",
        )
    if query.ipp:
        statement = statement.where(Patient.ipp == query.ipp.strip())
    rows, cursor = page(statement, Patient.id, query.cursor, query.limit)
    name_patients(*(row.id for row in rows))
    return jsonify(
        items=[represent(row) for row in rows],
        next_cursor=cursor,
        next=next_link("api.patients_list", cursor),
    )


@bp.get("/patients/<int:patient_id>")
@shows_patient_data
@api_call("patients:read")
@spec.validate(
    resp=Response(HTTP_200=PatientOut, HTTP_401=Problem, HTTP_403=Problem, HTTP_404=Problem),
    tags=["Patients"],
    security=secured("patients:read"),
)
def patient(patient_id: int):
    """Un patient (l'ETag porte sa version, à renvoyer dans If-Match pour le modifier)."""
    return _respond(visible(patient_id))


def _same_traits(patient: Patient, values: dict) -> bool:
    return (
        patient.birth_name == values["birth_name"]
        and patient.first_birth_first_name.casefold() == values["first_birth_first_name"].casefold()
        and patient.birth_date == values["birth_date"]
        and patient.sex == values["sex"]
    )


@bp.post("/patients")
@shows_patient_data
@api_call("patients:write")
@spec.validate(
    json=PatientIn,
    resp=Response(HTTP_200=PatientOut, HTTP_201=PatientOut, HTTP_400=Problem, **WRITE_ERRORS),
    tags=["Patients"],
    security=secured("patients:write"),
)
def patient_create(json: PatientIn):
    """Créer un patient, ou retrouver celui qui porte déjà cet INS ou cet IPP.

    201 : créé. 200 : l'INS ou l'IPP est déjà connu et les traits stricts (nom et premier
    prénom de naissance, date de naissance, sexe) concordent : ce patient est rattaché à
    l'établissement et renvoyé. 409 : connu avec d'autres traits (doublon à vérifier).
    """
    require_json(json)
    data = json.model_dump()
    try:
        created = patients.create_patient(data)
    except patients.DuplicatePatient as duplicate:
        db.session.rollback()
        existing = db.session.get(Patient, duplicate.patient_id)
        values = patients.normalise(data)
        if existing is None or not _same_traits(existing, values):
            return problem(
                409,
                "Cet INS ou cet IPP est déjà attribué à un patient dont les traits d'identité "
                "diffèrent : vérifiez l'identité (doublon possible).",
                [{"field": duplicate.field, "message": "Déjà attribué à un autre patient."}],
            )
        _link(existing)
        patients.record_view(existing, context="api_identified")
        return _respond(existing)
    _link(created)
    return _respond(created, 201)


@bp.put("/patients/<int:patient_id>")
@shows_patient_data
@api_call("patients:write")
@spec.validate(
    json=PatientIn,
    resp=Response(
        HTTP_200=PatientOut, HTTP_404=Problem, HTTP_412=Problem, HTTP_428=Problem, **WRITE_ERRORS
    ),
    tags=["Patients"],
    security=secured("patients:write"),
)
def patient_update(patient_id: int, json: PatientIn):
    """Mettre à jour l'identité (remplacement complet ; If-Match obligatoire)."""
    require_json(json)
    patient = visible(patient_id)
    check_if_match(etag("patient", patient.id, patient.version))
    try:
        patients.update_patient(patient, json.model_dump(), patient.version)
    except patients.DuplicatePatient as duplicate:
        raise DomainError(
            "Cet INS ou cet IPP est déjà attribué à un autre patient : vérifiez l'identité.",
            field=duplicate.field,
        ) from None
    return _respond(patient)
