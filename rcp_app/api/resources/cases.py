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

from flask import current_app, jsonify, url_for
from spectree import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import FileStorage

from ...access import api_clients as scope
from ...cases import attachments
from ...cases import operations as ops
from ...cases.models import Attachment, Case, Tumour
from ...cases.validation import CaseInvalid
from ...core.errors import problem
from ...core.patient_data import shows_patient_data
from ...core.transactions import on_rollback, release
from ...core.uploads import accepts_upload
from ...decisions.models import Decision
from ...directory.models import Rcp
from ...extensions import db
from ...fiches.models import Fiche
from ...meetings import operations as sessions_ops
from ...meetings.models import AgendaItem
from ...patients.models import Patient
from ...staging import biomarkers
from ..guard import api_call, current_client, name_patients
from ..paging import check_if_match, etag, next_link, page
from ..spec import secured, spec
from ..views import bp
from .case_form import MARKER_PREFIX, form_data, in_json_terms, refuse
from .case_schemas import (
    AttachmentOut,
    AttachmentUpload,
    CaseChange,
    CaseDecision,
    CaseIn,
    CaseList,
    CaseOut,
    CaseQuery,
)
from .common import WRITE_ERRORS, Problem, not_found, stamp

UNKNOWN_CASE = "Dossier inconnu (ou hors de votre établissement)."


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


def _stale(case: Case):
    db.session.rollback()
    db.session.refresh(case)
    return problem(
        412,
        "Ce dossier a été modifié entre-temps : relisez-le (GET) puis recommencez avec son "
        "nouvel ETag.",
        current_etag=_etag(case),
    )


_JSON_ONLY = "Le corps de la requête doit être du JSON (application/json)."


@bp.post("/cases")
@shows_patient_data
@api_call("cases:write")
@spec.validate(
    json=CaseIn,
    resp=Response(HTTP_201=CaseOut, **WRITE_ERRORS),
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
    refuse(errors)
    data, chosen = form_data(json)
    sessions_ops.ensure_upcoming_sessions(rcp)  # as the form does before registering
    try:
        case = ops.create_case(patient, rcp, client, data, submit=json.submit)
    except CaseInvalid as invalid:
        raise in_json_terms(invalid, chosen) from None
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
        HTTP_200=CaseOut, HTTP_404=Problem, HTTP_412=Problem, HTTP_428=Problem, **WRITE_ERRORS
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
        raise in_json_terms(invalid, chosen) from None
    return _respond(case)


@bp.post("/cases/<int:case_id>/submit")
@shows_patient_data
@api_call("cases:write")
@spec.validate(
    resp=Response(
        HTTP_200=CaseOut, HTTP_404=Problem, HTTP_412=Problem, HTTP_428=Problem, **WRITE_ERRORS
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
        raise in_json_terms(invalid, {"gp": "gp_id"}) from None
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
        **WRITE_ERRORS,
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
