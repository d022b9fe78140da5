"""/api/v1/cases: register, complete and submit a case with the FRCP data set; its
attachments; where its decision stands.

The body carries what the case form carries, under the form's names (rows as nested lists:
``tumours[].stagings[]``, a tumour's site-specific markers under ``tumours[].biomarkers``).
It is posted to the case form itself (its input rule for free text), then goes through the
same validation and operations (cases/validation.py, cases/operations.py): the same rules,
the same French messages, each refusal naming its field as a JSON path
(``tumours[0].topography_code``). Only the JSON types are checked before (a date is written
AAAA-MM-JJ, an id is a number).

A hospital system knows physicians by RPPS, not by our directory ids: the requester, the GP
and the correspondents may be given by id or by RPPS (``*_rpps``); both at once must agree.

The patient and the RCP named in a new case's body are checked against the client's
establishment (``access/api_clients.py``): one outside it (or unknown) is a 422 on that
field, with the same message for both, so nothing tells another establishment's patient from
no patient. A case outside the establishment in the URL is a 404, as everywhere in the API.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from flask import current_app, jsonify, url_for
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, create_model
from spectree import Response
from spectree.model_adapter.pydantic_adapter import BaseFile
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage, MultiDict
from wtforms import FieldList, FormField

from ...access import api_clients as scope
from ...cases import attachments
from ...cases import operations as ops
from ...cases.forms import CaseForm
from ...cases.models import ATTACHMENT_KINDS, Attachment, Case, Tumour
from ...cases.status import STATUS_LABELS
from ...cases.validation import LINES, TEXTS, CaseInvalid
from ...core.converters import MAX_ID
from ...core.errors import problem
from ...core.patient_data import shows_patient_data
from ...core.transactions import on_rollback, release
from ...core.uploads import accepts_upload
from ...decisions.models import Decision
from ...directory.models import Professional, Rcp
from ...extensions import db
from ...fiches.models import Fiche
from ...meetings import operations as sessions_ops
from ...meetings.models import AgendaItem
from ...patients.models import Patient
from ...staging import EDITIONS, biomarkers
from ..guard import api_call, current_client, name_patients
from ..paging import check_if_match, etag, next_link, page
from ..spec import secured, spec
from ..views import bp
from .common import Problem, not_found, stamp

UNKNOWN_CASE = "Dossier inconnu (ou hors de votre établissement)."

# --- the body and the form: one set of fields under two spellings ----------------------------

# Row lists: JSON name -> the form's FieldList name.
ROWS = {"tumours": "tumour_rows", "stagings": "staging_rows", "treatments": "treatment_rows"}
FORM_ROWS = {form: name for name, form in ROWS.items()}
# A tumour's markers: biomarkers.<name> in JSON, one form field bm_<name> in the tumour's row.
MARKER_PREFIX = "bm_"
# Top-level JSON fields that fill one form field another way.
SAME_FORM_FIELD = {
    "requester_rpps": "requester_id",
    "gp_id": "gp",
    "gp_unknown": "gp",
    "gp_rpps": "gp",
    "correspondent_rpps": "correspondent_ids",
}
# Given by the form's URL (patient, RCP) and its submit button, not by its fields.
OUTSIDE_THE_FORM = frozenset({"patient_id", "rcp_id", "submit"})
# The form's own controls: a row's « remove » box (the API sends the rows it wants).
FORM_ONLY = frozenset({"remove"})


def form_path(path: str) -> str:
    """The form field a JSON field fills: 'tumours[].biomarkers.breast_er' ->
    'tumour_rows[].bm_breast_er', 'gp_rpps' -> 'gp'."""
    if "." not in path and "[" not in path:
        return SAME_FORM_FIELD.get(path, path)
    for name, form in ROWS.items():
        path = re.sub(rf"(^|\.){name}\[", rf"\g<1>{form}[", path)
    return path.replace(".biomarkers.", "." + MARKER_PREFIX)


def json_path(form_key: str, chosen: dict[str, str] | None = None) -> str:
    """A form error key as the JSON path of the field the client sent:
    'tumour_rows-0-staging_rows-1-value' -> 'tumours[0].stagings[1].value'. ``chosen``: the
    JSON field used for a form field that has several (the RPPS rather than the id)."""
    parts = form_key.split("-")
    path, index = "", 0
    while index < len(parts):
        name = parts[index]
        if name in FORM_ROWS and index + 1 < len(parts) and parts[index + 1].isdigit():
            path += ("." if path else "") + f"{FORM_ROWS[name]}[{parts[index + 1]}]"
            index += 2
            continue
        if path and name.startswith(MARKER_PREFIX):
            name = "biomarkers." + name.removeprefix(MARKER_PREFIX)
        elif not path:
            name = (chosen or {}).get(name, name)
        path += ("." if path else "") + name
        index += 1
    return path


def _posted(value) -> str:
    """A JSON value as a browser posts it (a checked box is "y", an unchecked one absent)."""
    if value is None or value is False:
        return ""
    if value is True:
        return "y"
    return str(value)


def _formdata(values: dict, prefix: str = "") -> list[tuple[str, str]]:
    """The (name, value) pairs the case form would post for ``values``."""
    pairs = []
    for name, value in values.items():
        if name in ROWS:
            for index, row in enumerate(value):
                pairs += _formdata(row, f"{prefix}{ROWS[name]}-{index}-")
        elif name == "biomarkers":
            pairs += [(f"{prefix}{MARKER_PREFIX}{k}", _posted(v)) for k, v in value.items()]
        elif isinstance(value, list):
            pairs += [(prefix + name, _posted(item)) for item in value]
        else:
            pairs.append((prefix + name, _posted(value)))
    return pairs


def _leaf_fields(fields):
    for field in fields:
        if isinstance(field, FieldList):
            yield from _leaf_fields(field.entries)
        elif isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        else:
            yield field


# --- models ----------------------------------------------------------------------------------

IsoDate = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    Field(json_schema_extra={"format": "date"}),
]
Rpps = Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
CaseStatus = Literal[tuple(STATUS_LABELS)]  # type: ignore[valid-type]
_STRICT = ConfigDict(extra="forbid", strict=True)
_TEXT_LABELS = {name: (label, limit) for name, label, limit in (*TEXTS, *LINES)}


def _text(name: str):
    label, limit = _TEXT_LABELS[name]
    return Field(None, description=f"{label} ({limit} caractères au plus)")


class StagingIn(BaseModel):
    """Une autre classification de la tumeur (FIGO, Ann Arbor, ISS, Binet…)."""

    model_config = _STRICT

    system: str | None = Field(None, description="Classification")
    system_version: str | None = Field(None, description="Version")
    value: str | None = Field(None, description="Stade dans cette classification")


def _marker_field(marker: biomarkers.Marker):
    if marker.kind == "choice":
        allowed = ", ".join(f"« {choice} »" for choice in marker.choices)
        return Field(None, description=f"{marker.full_label} : {allowed}")
    unit = f" ({marker.unit})" if marker.unit else ""
    return Field(None, description=f"{marker.full_label}{unit}, nombre écrit en texte")


# One optional text per marker of the registry, as the form has one field per marker.
Biomarkers = create_model(
    "Biomarkers",
    __config__=_STRICT,
    __doc__="Données propres au site de la tumeur (texte, comme saisi dans le formulaire).",
    **{
        marker.field_name.removeprefix(MARKER_PREFIX): (str | None, _marker_field(marker))
        for marker in biomarkers.MARKERS
    },
)


class TumourIn(BaseModel):
    model_config = _STRICT

    diagnosis_date: IsoDate | None = Field(None, description="Date du diagnostic")
    topography_code: str | None = Field(None, description="Topographie CIM-10 (C50.4)")
    morphology_code: str | None = Field(None, description="Morphologie CIM-O-3 (8500/3)")
    laterality_code: str | None = Field(None, description="Latéralité (code SNOMED CT)")
    tnm_edition: str | None = Field(
        None, description="Édition TNM : " + ", ".join(EDITIONS) + " (obligatoire avec un TNM)"
    )
    clinical_t: str | None = Field(None, description="cT (« T2 », « cT2a »)")
    clinical_n: str | None = Field(None, description="cN")
    clinical_m: str | None = Field(None, description="cM")
    pathological_t: str | None = Field(None, description="pT (« pT2 », « ypT1 »)")
    pathological_n: str | None = Field(None, description="pN (« pN0(i+) »)")
    pathological_m: str | None = Field(None, description="pM")
    comment: str | None = Field(None, description="Commentaire (4000 caractères au plus)")
    stagings: list[StagingIn] = Field(default_factory=list)
    biomarkers: Biomarkers = Field(default_factory=Biomarkers)  # type: ignore[valid-type]


class TreatmentIn(BaseModel):
    model_config = _STRICT

    type_code: str | None = Field(None, description="Type de traitement (JDV_TypeTraitement)")
    status: str | None = Field(None, description="done, ongoing ou not_done")
    treatment_date: IsoDate | None = None
    comment: str | None = Field(None, description="Commentaire (4000 caractères au plus)")


class CaseData(BaseModel):
    """Le jeu de données FRCP du dossier, sous les noms du formulaire."""

    model_config = _STRICT

    session_id: Id | None = Field(
        None, description="Séance (obligatoire quand la RCP a des séances planifiées)"
    )
    requester_id: Id | None = Field(None, description="Médecin demandeur (id de l'annuaire)")
    requester_rpps: Rpps | None = Field(None, description="… ou son RPPS")
    motive_diagnostic: bool = Field(False, description="Motif : avis diagnostique")
    motive_treatment: bool = Field(False, description="Motif : proposition thérapeutique")
    motive_recourse: bool = Field(False, description="Motif : recours")
    motive_paediatric: bool = Field(False, description="Motif : pédiatrie")
    nature: str | None = Field(
        None, description="organ ou transversal (par défaut : celle de la RCP)"
    )
    appareil_code: str | None = Field(None, description="Appareil (discussion d'organe)")
    organ_code: str | None = Field(None, description="Organe, de cet appareil")
    theme_code: str | None = Field(None, description="Thème (discussion transversale)")
    phase_code: str | None = Field(None, description="Phase de la maladie")
    relapse_date: IsoDate | None = Field(None, description="Date de la rechute")
    progression_local: bool = False
    progression_regional: bool = False
    progression_distant: bool = False
    discovery_screening: str | None = Field(
        None, description="Découverte par dépistage : yes, no ou unknown"
    )
    performance_status: int | None = Field(None, description="Indice OMS, 0 à 4")
    g8_score: int | None = Field(None, description="Score G8, 0 à 17")
    comorbidities: str | None = _text("comorbidities")
    medical_history: str | None = _text("medical_history")
    exam_results: str | None = _text("exam_results")
    surgery_conclusion: str | None = _text("surgery_conclusion")
    surgery_author: str | None = _text("surgery_author")
    surgery_date: IsoDate | None = None
    pathology_conclusion: str | None = _text("pathology_conclusion")
    pathologist_name: str | None = _text("pathologist_name")
    pathology_date: IsoDate | None = None
    molecular_conclusion: str | None = _text("molecular_conclusion")
    molecular_author: str | None = _text("molecular_author")
    molecular_date: IsoDate | None = None
    synthesis: str | None = _text("synthesis")
    question: str | None = _text("question")
    gp_id: Id | None = Field(None, description="Médecin traitant (médecin généraliste)")
    gp_rpps: Rpps | None = Field(None, description="… ou son RPPS")
    gp_unknown: bool = Field(False, description="Pas de médecin traitant connu")
    correspondent_ids: list[Id] = Field(default_factory=list, description="Correspondants")
    correspondent_rpps: list[Rpps] = Field(default_factory=list, description="… ou leurs RPPS")
    patient_informed_on: IsoDate | None = None
    patient_informed_by: str | None = _text("patient_informed_by")
    patient_non_opposition: bool = Field(
        False, description="Le patient ne s'oppose pas à la présentation de son dossier en RCP"
    )
    patient_sharing_objection: bool = Field(
        False, description="Le patient s'oppose au partage au-delà de l'équipe qui le soigne"
    )
    tumours: list[TumourIn] = Field(default_factory=list)
    treatments: list[TreatmentIn] = Field(default_factory=list)


class CaseChange(CaseData):
    """Remplacement complet des données d'un dossier modifiable (If-Match obligatoire)."""

    submit: bool = Field(False, description="Soumettre à la RCP après l'enregistrement")


class CaseIn(CaseChange):
    """Un nouveau dossier : en brouillon, ou soumis d'emblée (``submit``)."""

    patient_id: Id = Field(description="Patient de l'établissement (POST /api/v1/patients)")
    rcp_id: Id = Field(description="RCP de l'établissement")


class TumourOut(TumourIn):
    stage_group: str | None = Field(description="Stade calculé (lecture seule)")
    stage_edition: str | None
    stage_basis: Literal["clinical", "pathological"] | None


class CaseSession(BaseModel):
    id: int
    starts_at: datetime = Field(description="Début (UTC)")
    deadline_at: datetime = Field(description="Date limite d'inscription (UTC)")
    status: str


class AttachmentOut(BaseModel):
    id: int
    case_id: int
    kind: Literal[tuple(ATTACHMENT_KINDS)]  # type: ignore[valid-type]
    original_name: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


class CaseOut(CaseData):
    id: int
    patient_id: int
    # As the directory stores them (an older entry need not follow today's RPPS format).
    requester_rpps: str
    gp_rpps: str | None
    correspondent_rpps: list[str]
    rcp_id: int
    status: CaseStatus
    status_label: str
    version: int = Field(description="Version (l'ETag la porte ; If-Match pour modifier)")
    session: CaseSession | None
    tumours: list[TumourOut]
    attachments: list[AttachmentOut]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    is_late: bool = Field(description="Soumis après la date limite d'inscription")
    withdrawn_at: datetime | None
    href: str


class CaseList(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None
    next: str | None


class CaseQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: int | None = Field(None, ge=1, le=MAX_ID)
    rcp_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: CaseStatus | None = None
    cursor: str | None = Field(None, max_length=100)
    limit: int | None = Field(None, ge=1, le=200)


# Whatever a multipart part holds, the view checks it (with the form's messages): a refusal
# by the model would echo an uploaded file into spectree's error list, which is not JSON.
AnyPart = Annotated[object, WithJsonSchema({"type": "string"})]


class AttachmentUpload(BaseModel):
    """multipart/form-data : le document et son type."""

    model_config = ConfigDict(json_schema_extra={"required": ["kind", "file"]})

    kind: AnyPart = Field(None, description="pathology, imaging, letter ou other")
    file: BaseFile = Field(None, description="Le document, un PDF (20 Mo au plus par défaut)")


class CaseProposal(BaseModel):
    rank: int = Field(description="1 : proposition de première ligne ; 2, 3… : alternatives")
    code: str = Field(description="Type de traitement (JDV_TypeTraitement_FRCP)")


class CaseFiche(BaseModel):
    id: int
    version: int = Field(description="Version en vigueur de la fiche signée")
    href: str


class CaseDecision(BaseModel):
    case_id: int
    case_status: CaseStatus
    status: Literal["none", "draft", "ready_for_validation", "validated"] = Field(
        description="none : le dossier n'a pas (encore) été discuté"
    )
    outcome: Literal["discussed", "registered", "postponed"] | None
    proposals: list[CaseProposal]
    fiche: CaseFiche | None = Field(description="La fiche RCP signée, une fois validée")
    decision_href: str | None


# --- reading ---------------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def _tumour(tumour: Tumour) -> dict:
    body = {name: _iso(getattr(tumour, name)) for name in ops.TUMOUR_COLUMNS}
    body["stagings"] = [
        {"system": s.system, "system_version": s.system_version, "value": s.value}
        for s in tumour.stagings
    ]
    stored = tumour.biomarker_values
    body["biomarkers"] = {
        marker.field_name.removeprefix(MARKER_PREFIX): stored[marker.code]
        for marker in biomarkers.MARKERS
        if marker.code in stored
    }
    return body


def _attachment(attachment: Attachment) -> dict:
    return {
        "id": attachment.id,
        "case_id": attachment.case_id,
        "kind": attachment.kind,
        "original_name": attachment.original_name,
        "size_bytes": attachment.size_bytes,
        "sha256": attachment.sha256,
        "uploaded_at": stamp(attachment.uploaded_at),
    }


def represent(case: Case) -> dict:
    """The case under the body's names, with its state; fed back (without the read-only
    fields), it changes nothing."""
    body = {name: _iso(getattr(case, name)) for name in ops.SCALARS}
    session = case.session
    body.update(
        {
            "id": case.id,
            "patient_id": case.patient_id,
            "rcp_id": case.rcp_id,
            "status": case.status,
            "status_label": case.status_label,
            "version": case.version,
            "session_id": case.session_id,
            "session": None
            if session is None
            else {
                "id": session.id,
                "starts_at": stamp(session.starts_at),
                "deadline_at": stamp(session.deadline_at),
                "status": session.status,
            },
            "requester_id": case.requester_id,
            "requester_rpps": case.requester.rpps,
            "gp_rpps": case.gp.rpps if case.gp is not None else None,
            "correspondent_ids": [p.id for p in case.correspondents],
            "correspondent_rpps": [p.rpps for p in case.correspondents],
            "tumours": [_tumour(t) for t in case.tumours],
            "treatments": [
                {name: _iso(getattr(t, name)) for name in ops.TREATMENT_COLUMNS}
                for t in case.treatments
            ],
            "attachments": [_attachment(a) for a in case.attachments],
            "created_at": stamp(case.created_at),
            "updated_at": stamp(case.updated_at),
            "submitted_at": stamp(case.submitted_at),
            "is_late": case.is_late,
            "withdrawn_at": stamp(case.withdrawn_at),
            "href": url_for("api.case", case_id=case.id),
        }
    )
    return body


def _loaded():
    return select(Case).options(
        selectinload(Case.tumours).selectinload(Tumour.stagings),
        selectinload(Case.tumours).selectinload(Tumour.biomarkers),
        selectinload(Case.treatments),
        selectinload(Case.correspondents),
        selectinload(Case.attachments),
        selectinload(Case.requester),
        selectinload(Case.gp),
        selectinload(Case.session),
    )


def visible(case_id: int) -> Case:
    case = db.session.scalar(
        _loaded().where(Case.id == case_id, scope.case_condition(current_client()))
    )
    if case is None:
        not_found(UNKNOWN_CASE)
    return case


def _etag(case: Case) -> str:
    return etag("case", case.id, case.version)


def _respond(case: Case, status: int = 200):
    name_patients(case.patient_id)
    response = jsonify(represent(case))
    response.status_code = status
    response.headers["ETag"] = _etag(case)
    if status == 201:
        response.headers["Location"] = url_for("api.case", case_id=case.id)
    return response


# --- writing ---------------------------------------------------------------------------------


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise CaseInvalid(errors)


def _by_rpps(rpps: str, field: str, errors: dict) -> int | None:
    found = db.session.scalar(select(Professional.id).where(Professional.rpps == rpps))
    if found is None:
        errors.setdefault(field, []).append(
            f"Aucun professionnel de l'annuaire ne porte le RPPS {rpps}."
        )
    return found


def _one_professional(given_id, rpps, id_field: str, rpps_field: str, errors: dict):
    """The id given, or the one of the RPPS given; both must then name the same person."""
    if rpps is None:
        return given_id
    found = _by_rpps(rpps, rpps_field, errors)
    if found is not None and given_id is not None and given_id != found:
        errors.setdefault(rpps_field, []).append(
            f"{id_field} et {rpps_field} désignent deux professionnels différents : "
            "n'en donnez qu'un."
        )
    return found if found is not None else given_id


def form_data(body: CaseData) -> tuple[dict, dict[str, str]]:
    """What the case form passes to the operation for ``body``, and for each form field
    filled through another JSON field, the one the client used.

    The body is posted to the form itself (cases/forms.py): its input rule for free text
    (normalisation, invisible and unprintable characters refused with the field's label)
    and its ``data_for_operation`` are the web's, not a copy of them.
    """
    errors: dict[str, list[str]] = {}
    requester = _one_professional(
        body.requester_id, body.requester_rpps, "requester_id", "requester_rpps", errors
    )
    gp = _one_professional(body.gp_id, body.gp_rpps, "gp_id", "gp_rpps", errors)
    if body.gp_unknown and gp is not None:
        errors.setdefault("gp_unknown", []).append(
            "Médecin traitant à la fois désigné et « inconnu » : choisissez l'un ou l'autre."
        )
    correspondents = list(body.correspondent_ids)
    if body.correspondent_rpps:
        by_rpps = [_by_rpps(r, "correspondent_rpps", errors) for r in body.correspondent_rpps]
        if correspondents and set(correspondents) != set(by_rpps):
            errors.setdefault("correspondent_rpps", []).append(
                "correspondent_ids et correspondent_rpps désignent des professionnels "
                "différents : n'en donnez qu'un."
            )
        correspondents = [pro for pro in by_rpps if pro is not None]
    _refuse(errors)
    chosen = {
        "requester_id": "requester_rpps"
        if body.requester_id is None and body.requester_rpps
        else "requester_id",
        "gp": "gp_rpps" if body.gp_id is None and body.gp_rpps else "gp_id",
        "correspondent_ids": "correspondent_rpps"
        if not body.correspondent_ids and body.correspondent_rpps
        else "correspondent_ids",
    }
    people = set(SAME_FORM_FIELD) | {"requester_id", "correspondent_ids"}
    pairs = _formdata(body.model_dump(exclude=people | OUTSIDE_THE_FORM))
    pairs += [
        ("requester_id", _posted(requester)),
        ("gp", "unknown" if body.gp_unknown else _posted(gp)),
        *(("correspondent_ids", _posted(pro)) for pro in correspondents),
    ]
    form = CaseForm(formdata=MultiDict(pairs), meta={"csrf": False})
    if not form.validate():
        _refuse(
            {
                json_path(field.name, chosen): list(field.errors)
                for field in _leaf_fields(form)
                if field.errors
            }
        )
    return form.data_for_operation(), chosen


def _in_json_terms(invalid: CaseInvalid, chosen: dict[str, str]) -> CaseInvalid:
    errors: dict[str, list[str]] = {}
    for key, messages in invalid.errors.items():
        errors.setdefault(json_path(key, chosen), []).extend(messages)
    return CaseInvalid(errors)


def _stale(case: Case):
    db.session.rollback()
    db.session.refresh(case)
    return problem(
        412,
        "Ce dossier a été modifié entre-temps : relisez-le (GET) puis recommencez avec son "
        "nouvel ETag.",
        current_etag=_etag(case),
    )


_WRITE_ERRORS = {
    "HTTP_401": Problem,
    "HTTP_403": Problem,
    "HTTP_409": Problem,
    "HTTP_415": Problem,
    "HTTP_422": Problem,
}
_JSON_ONLY = "Le corps de la requête doit être du JSON (application/json)."


@bp.post("/cases")
@shows_patient_data
@api_call("cases:write")
@spec.validate(
    json=CaseIn,
    resp=Response(HTTP_201=CaseOut, **_WRITE_ERRORS),
    tags=["Dossiers"],
    security=secured("cases:write"),
)
def case_create(json: CaseIn):
    """Créer un dossier (brouillon, ou soumis d'emblée avec « submit »).

    Mêmes règles et mêmes messages que le formulaire ; chaque refus nomme son champ
    (tumours[0].clinical_t). Le patient et la RCP doivent être de votre établissement :
    sinon 422 sur patient_id ou rcp_id, comme s'ils n'existaient pas.
    """
    if json is None:
        return problem(415, _JSON_ONLY)
    client = current_client()
    patient = db.session.scalar(
        select(Patient).where(
            Patient.id == json.patient_id, scope.patient_condition(client, Patient.id)
        )
    )
    rcp = db.session.scalar(
        select(Rcp).where(Rcp.id == json.rcp_id, Rcp.id.in_(scope.rcp_ids(client)))
    )
    errors = {}
    if patient is None:
        errors["patient_id"] = [
            "Patient inconnu (ou hors de votre établissement) : enregistrez-le d'abord "
            "(POST /api/v1/patients)."
        ]
    if rcp is None:
        errors["rcp_id"] = ["RCP inconnue (ou hors de votre établissement)."]
    _refuse(errors)
    data, chosen = form_data(json)
    sessions_ops.ensure_upcoming_sessions(rcp)  # as the form does before registering
    try:
        case = ops.create_case(patient, rcp, client, data, submit=json.submit)
    except CaseInvalid as invalid:
        raise _in_json_terms(invalid, chosen) from None
    return _respond(case, 201)


@bp.get("/cases")
@shows_patient_data
@api_call("cases:read")
@spec.validate(
    query=CaseQuery,
    resp=Response(HTTP_200=CaseList, HTTP_400=Problem, HTTP_401=Problem, HTTP_403=Problem),
    tags=["Dossiers"],
    security=secured("cases:read"),
)
def cases_list(query: CaseQuery):
    """Dossiers des RCP de l'établissement, par pages (curseur), filtrés au besoin."""
    statement = _loaded().where(scope.case_condition(current_client()))
    if query.patient_id is not None:
        statement = statement.where(Case.patient_id == query.patient_id)
    if query.rcp_id is not None:
        statement = statement.where(Case.rcp_id == query.rcp_id)
    if query.status is not None:
        statement = statement.where(Case.status == query.status)
    rows, cursor = page(statement, Case.id, query.cursor, query.limit)
    name_patients(*(row.patient_id for row in rows))
    return jsonify(
        items=[represent(row) for row in rows],
        next_cursor=cursor,
        next=next_link("api.cases_list", cursor),
    )


@bp.get("/cases/<int:case_id>")
@shows_patient_data
@api_call("cases:read")
@spec.validate(
    resp=Response(HTTP_200=CaseOut, HTTP_401=Problem, HTTP_403=Problem, HTTP_404=Problem),
    tags=["Dossiers"],
    security=secured("cases:read"),
)
def case(case_id: int):
    """Un dossier : ses données sous les noms du corps de création, son état, sa version."""
    return _respond(visible(case_id))


@bp.put("/cases/<int:case_id>")
@shows_patient_data
@api_call("cases:write")
@spec.validate(
    json=CaseChange,
    resp=Response(
        HTTP_200=CaseOut, HTTP_404=Problem, HTTP_412=Problem, HTTP_428=Problem, **_WRITE_ERRORS
    ),
    tags=["Dossiers"],
    security=secured("cases:write"),
)
def case_update(case_id: int, json: CaseChange):
    """Remplacer les données d'un dossier modifiable (If-Match obligatoire).

    Un champ absent est vidé, comme dans le formulaire. 409 : dossier plus modifiable
    (retiré, inscrit à l'ordre du jour publié…), avec le motif.
    """
    if json is None:
        return problem(415, _JSON_ONLY)
    case = visible(case_id)
    check_if_match(_etag(case))
    data, chosen = form_data(json)
    try:
        ops.update_case(case, data, case.version, submit=json.submit)
    except ops.StaleCase:
        return _stale(case)
    except CaseInvalid as invalid:
        raise _in_json_terms(invalid, chosen) from None
    return _respond(case)


@bp.post("/cases/<int:case_id>/submit")
@shows_patient_data
@api_call("cases:write")
@spec.validate(
    resp=Response(
        HTTP_200=CaseOut, HTTP_404=Problem, HTTP_412=Problem, HTTP_428=Problem, **_WRITE_ERRORS
    ),
    tags=["Dossiers"],
    security=secured("cases:write"),
)
def case_submit(case_id: int):
    """Soumettre un brouillon à la RCP (If-Match obligatoire).

    422 : ce qui manque pour soumettre (question, synthèse, médecin traitant, score G8).
    """
    case = visible(case_id)
    check_if_match(_etag(case))
    try:
        ops.submit_case(case, case.version)
    except ops.StaleCase:
        return _stale(case)
    except CaseInvalid as invalid:
        raise _in_json_terms(invalid, {"gp": "gp_id"}) from None
    return _respond(case)


@bp.post("/cases/<int:case_id>/attachments")
@shows_patient_data
@accepts_upload("RCP_MAX_ATTACHMENT_BYTES")
@api_call("cases:write")
@spec.validate(
    form=AttachmentUpload,
    resp=Response(
        HTTP_201=AttachmentOut,
        HTTP_404=Problem,
        HTTP_413=Problem,
        **_WRITE_ERRORS,
    ),
    tags=["Dossiers"],
    security=secured("cases:write"),
)
def case_attachment_upload(case_id: int, form: AttachmentUpload):
    """Joindre un document PDF au dossier (multipart/form-data : file, kind).

    Les contrôles du formulaire : un vrai PDF (le contenu, pas l'extension), lisible, non
    protégé, sans contenu actif (JavaScript, actions automatiques…), 20 Mo au plus.
    """
    if form is None:
        return problem(415, "Le document s'envoie en multipart/form-data (champs file et kind).")
    max_bytes = current_app.config["RCP_MAX_ATTACHMENT_BYTES"]
    upload = form.file if isinstance(form.file, FileStorage) else None
    kind = form.kind if isinstance(form.kind, str) else ""
    data = upload.stream.read(max_bytes + 1) if upload is not None else b""
    # The PDF check is CPU work: no transaction (no SQLite write lock) is held meanwhile.
    release()
    refusal = attachments.pdf_refusal(data, max_bytes)
    case = visible(case_id)
    root = current_app.config["RCP_ATTACHMENTS_DIR"]
    attachment = attachments.add_attachment(
        case,
        data,
        upload.filename if upload is not None else None,
        kind,
        current_client(),
        root,
        max_bytes,
        refusal=refusal,
    )
    # The file is on disk already: if the request does not commit, no row points at it.
    on_rollback(lambda: attachments.discard(root, attachment))
    name_patients(case.patient_id)
    response = jsonify(_attachment(attachment))
    response.status_code = 201
    return response


@bp.get("/cases/<int:case_id>/decision")
@shows_patient_data
@api_call("cases:read")
@spec.validate(
    resp=Response(HTTP_200=CaseDecision, HTTP_401=Problem, HTTP_403=Problem, HTTP_404=Problem),
    tags=["Dossiers"],
    security=secured("cases:read"),
)
def case_decision(case_id: int):
    """Où en est la décision du dossier : état, issue, propositions (codes), fiche signée.

    Les mêmes champs que /api/v1/decisions ; « none » tant que le dossier n'a pas de
    décision (pas encore discuté en séance).
    """
    case = visible(case_id)
    decision = db.session.scalar(
        select(Decision)
        .join(AgendaItem, AgendaItem.id == Decision.item_id)
        .where(AgendaItem.case_id == case.id)
        .options(selectinload(Decision.alternatives))
    )
    fiche = None
    if decision is not None:
        fiche = db.session.scalar(select(Fiche).where(Fiche.decision_id == decision.id))
    proposals = []
    if decision is not None and decision.proposal_code:
        proposals.append({"rank": 1, "code": decision.proposal_code})
    for alternative in decision.alternatives if decision is not None else ():
        proposals.append({"rank": 1 + alternative.rank, "code": alternative.treatment_code})
    name_patients(case.patient_id)
    return jsonify(
        case_id=case.id,
        case_status=case.status,
        status=decision.state if decision is not None else "none",
        outcome=decision.outcome if decision is not None else None,
        proposals=proposals,
        fiche=None
        if fiche is None
        else {
            "id": fiche.id,
            "version": fiche.current_version,
            "href": url_for("api.fiche", fiche_id=fiche.id),
        },
        decision_href=None
        if decision is None
        else url_for("api.decision", decision_id=decision.id),
    )
