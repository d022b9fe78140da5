"""/api/v1/fiches: the signed fiches of the establishment's cases, and their documents.

A fiche is the set of versions of one decision's fiche (the CDA setId); each version is
write-once, with its signed PDF and its CDA stored beside their SHA-256. The API serves those
stored bytes as they are (ETag = their SHA-256, checked again at every read, as the pages do);
the FHIR R4 Bundle is built from the version's frozen snapshot and its signed PDF, so the same
version always gives the same Bundle.

Listing for synchronisation: ``since`` keeps the fiches with a version signed at or after that
instant (an amendment brings its fiche back), ``patient_id`` one patient's fiches; pages in
fiche id order, by cursor.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import UTC, datetime

from flask import Response as FlaskResponse
from flask import current_app, jsonify, request, url_for
from pydantic import BaseModel, ConfigDict, Field, field_validator
from spectree import Response
from spectree.utils import get_model_key
from sqlalchemy import select
from sqlalchemy.orm import defer

from ...access import api_clients as scope
from ...cases.models import Case
from ...core.converters import MAX_ID
from ...core.patient_data import shows_patient_data
from ...core.timeutil import PARIS
from ...core.transactions import release
from ...extensions import db
from ...fhir.bundle import bundle_json
from ...fiches.models import DOCUMENT_KINDS, Fiche, FicheDocument, FicheVersion
from ...fiches.views import FILE_NAMES
from ..guard import api_call, current_client, name_patients
from ..paging import decode_cursor, encode_cursor, next_link, page, page_size
from ..spec import secured, spec
from ..views import bp
from .common import Problem, not_found, plausible, stamp

FHIR_MEDIA_TYPE = "application/fhir+json"
FHIR_FILE_NAME = "fiche-rcp-{set_id}-v{version}.fhir.json"
STORED_KINDS = tuple(DOCUMENT_KINDS)  # pdf, cda


class BinaryResponse(Response):
    """A 200 whose body is not JSON (PDF, XML, FHIR JSON), with its ETag and a 304.

    spectree writes only ``application/json`` bodies, and validates only those: the 200 is
    declared without a model (nothing to validate), then given its own media type here.
    """

    def __init__(self, media_type: str, description: str, **code_models):
        super().__init__(
            HTTP_200=(None, description),
            HTTP_304=(None, "Inchangé : l'ETag envoyé dans If-None-Match est celui du document"),
            **code_models,
        )
        self.media_type = media_type

    def generate_spec(self, naming_strategy=get_model_key) -> dict:
        responses = super().generate_spec(naming_strategy)
        if self.media_type == FHIR_MEDIA_TYPE:
            schema = {"type": "object", "description": "Bundle FHIR R4 de type « document »"}
        else:
            schema = {"type": "string", "contentMediaType": self.media_type}
        responses["200"]["content"] = {self.media_type: {"schema": schema}}
        responses["200"]["headers"] = {
            "ETag": {
                "description": "Empreinte SHA-256 (hexadécimal) du document servi",
                "schema": {"type": "string"},
            },
            "Content-Disposition": {
                "description": "attachment ; nom du fichier",
                "schema": {"type": "string"},
            },
        }
        return responses


class FicheQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: int | None = Field(None, ge=1, le=MAX_ID, description="Fiches de ce patient")
    since: datetime | None = Field(
        None,
        description=(
            "Fiches dont une version a été signée à cet instant ou après : date (AAAA-MM-JJ, "
            "minuit à Paris) ou date et heure ISO 8601 (sans décalage : heure de Paris)"
        ),
    )
    cursor: str | None = Field(None, max_length=100)
    limit: int | None = Field(None, ge=1, le=200)

    @field_validator("since")
    @classmethod
    def _plausible_instant(cls, moment: datetime | None) -> datetime | None:
        return plausible(moment, "datetime_parsing")


class DocumentLink(BaseModel):
    media_type: str
    href: str
    sha256: str | None = Field(description="Empreinte des octets stockés (PDF et CDA)")
    size_bytes: int | None


class FicheVersionOut(BaseModel):
    version: int
    current: bool = Field(description="Version en vigueur (les autres sont remplacées)")
    signed_at: datetime = Field(description="Validation et signature (UTC)")
    document_id: str = Field(description="Identifiant du document CDA (UUID)")
    amendment_reason: str | None = Field(description="Motif de l'avenant (versions 2 et +)")
    pdf: DocumentLink
    cda: DocumentLink
    fhir: DocumentLink


class FicheOut(BaseModel):
    id: int
    set_id: str = Field(description="Identifiant de l'ensemble des versions (setId CDA, UUID)")
    case_id: int
    patient_id: int
    session_id: int
    decision_id: int
    current_version: int
    versions: list[FicheVersionOut]
    href: str


class FicheList(BaseModel):
    items: list[FicheOut]
    next_cursor: str | None
    next: str | None


def as_utc(moment: datetime) -> datetime:
    """A sent instant as the database stores it (naive UTC); without an offset, Paris time."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)
    return aware.astimezone(UTC).replace(tzinfo=None)


def _visible(client):
    return select(Fiche).join(Case, Case.id == Fiche.case_id).where(scope.case_condition(client))


def _versions(fiche_ids: list[int]) -> dict[int, list[dict]]:
    """fiche id -> its versions with their documents' digests (never the bytes): one query."""
    if not fiche_ids:
        return {}
    rows = db.session.execute(
        select(
            FicheVersion.fiche_id,
            FicheVersion.version,
            FicheVersion.validated_at,
            FicheVersion.document_id,
            FicheVersion.amendment_reason,
            FicheDocument.kind,
            FicheDocument.sha256,
            FicheDocument.size_bytes,
        )
        .join(FicheDocument, FicheDocument.version_id == FicheVersion.id)
        .where(FicheVersion.fiche_id.in_(fiche_ids))
        .order_by(FicheVersion.fiche_id, FicheVersion.version)
    )
    versions: dict[int, dict[int, dict]] = defaultdict(dict)
    for fiche_id, number, signed_at, document_id, reason, kind, digest, size in rows:
        version = versions[fiche_id].setdefault(
            number,
            {
                "version": number,
                "signed_at": signed_at,
                "document_id": document_id,
                "amendment_reason": reason,
                "documents": {},
            },
        )
        version["documents"][kind] = (digest, size)
    return {fiche_id: list(by_number.values()) for fiche_id, by_number in versions.items()}


def _link(href: str, kind: str, stored: tuple | None) -> dict:
    digest, size = stored or (None, None)
    return {
        "media_type": DOCUMENT_KINDS.get(kind, FHIR_MEDIA_TYPE),
        "href": href,
        "sha256": digest,
        "size_bytes": size,
    }


def represent(fiche: Fiche, versions: list[dict], base: str | None = None) -> dict:
    """``base``: /api/v1/fiches, asked once per page; the links are written from it (a page of
    50 fiches has some 350 links: one ``url_for`` each cost 9 ms of CPU, bench/api.py)."""
    href = f"{base or url_for('api.fiches_list')}/{fiche.id}"
    return {
        "id": fiche.id,
        "set_id": fiche.set_id,
        "case_id": fiche.case_id,
        "patient_id": fiche.patient_id,
        "session_id": fiche.session_id,
        "decision_id": fiche.decision_id,
        "current_version": fiche.current_version,
        "versions": [
            {
                "version": v["version"],
                "current": v["version"] == fiche.current_version,
                "signed_at": stamp(v["signed_at"]),
                "document_id": v["document_id"],
                "amendment_reason": v["amendment_reason"],
                **{
                    kind: _link(
                        f"{href}/versions/{v['version']}/{kind}", kind, v["documents"].get(kind)
                    )
                    for kind in (*STORED_KINDS, "fhir")
                },
            }
            for v in versions
        ],
        "href": href,
    }


def _signed_ids(moment: datetime, after: int = 0):
    """Ids of the fiches with a version signed at or after ``moment`` (and above ``after``)."""
    return (
        select(FicheVersion.fiche_id)
        .where(FicheVersion.validated_at >= moment, FicheVersion.fiche_id > after)
        .distinct()
    )


def _signed_since(client, moment: datetime, cursor: str | None, limit: int | None):
    """One page of the fiches signed since ``moment``, in id order, and the next cursor.

    Read from the versions' signing-time index: the ids signed since then, sorted, each
    checked against the establishment until the page is full. Left to itself, PostgreSQL
    walked every fiche from the first in id order (it cannot know that the recent ones have
    the highest ids): 250 ms at 186,000 fiches for a day eight months back, 3 to 30 ms this
    way (bench/api.py). ``OFFSET 0`` keeps the check a subquery run row by row, which the
    planner would otherwise turn into that walk.
    """
    size = page_size(limit)
    recent = _signed_ids(moment, decode_cursor(cursor)).subquery()
    in_scope = (
        select(Fiche.id)
        .join(Case, Case.id == Fiche.case_id)
        .where(Fiche.id == recent.c.fiche_id, scope.case_condition(client))
        .offset(0)
    )
    ids = list(
        db.session.scalars(
            select(recent.c.fiche_id)
            .where(in_scope.exists())
            .order_by(recent.c.fiche_id)
            .limit(size + 1)
        )
    )
    more, ids = len(ids) > size, ids[:size]
    rows = db.session.scalars(select(Fiche).where(Fiche.id.in_(ids)).order_by(Fiche.id)).all()
    return list(rows), (encode_cursor(ids[-1]) if more else None)


@bp.get("/fiches")
@shows_patient_data
@api_call("fiches:read")
@spec.validate(
    query=FicheQuery,
    resp=Response(HTTP_200=FicheList, HTTP_400=Problem, HTTP_401=Problem, HTTP_403=Problem),
    tags=["Fiches RCP"],
    security=secured("fiches:read"),
)
def fiches_list(query: FicheQuery):
    """Fiches RCP signées de l'établissement, par patient ou depuis un instant, par pages.

    Chaque fiche donne ses versions (la dernière est en vigueur), avec l'empreinte SHA-256 et
    l'adresse de leurs documents : PDF signé, CDA R2, Bundle FHIR R4.
    """
    client = current_client()
    if query.since is not None and query.patient_id is None:
        rows, cursor = _signed_since(client, as_utc(query.since), query.cursor, query.limit)
    else:
        statement = _visible(client)
        if query.patient_id is not None:
            statement = statement.where(Fiche.patient_id == query.patient_id)
        if query.since is not None:  # a patient's few fiches: checked one by one
            statement = statement.where(Fiche.id.in_(_signed_ids(as_utc(query.since))))
        rows, cursor = page(statement, Fiche.id, query.cursor, query.limit)
    versions = _versions([row.id for row in rows])
    base = url_for("api.fiches_list")
    name_patients(*(row.patient_id for row in rows))
    return jsonify(
        items=[represent(row, versions.get(row.id, []), base) for row in rows],
        next_cursor=cursor,
        next=next_link("api.fiches_list", cursor),
    )


def _fiche(fiche_id: int) -> Fiche:
    fiche = db.session.scalar(_visible(current_client()).where(Fiche.id == fiche_id))
    if fiche is None:
        not_found("Fiche inconnue (ou hors de votre établissement).")
    return fiche


@bp.get("/fiches/<int:fiche_id>")
@shows_patient_data
@api_call("fiches:read")
@spec.validate(
    resp=Response(HTTP_200=FicheOut, HTTP_401=Problem, HTTP_403=Problem, HTTP_404=Problem),
    tags=["Fiches RCP"],
    security=secured("fiches:read"),
)
def fiche(fiche_id: int):
    """Une fiche RCP signée : ses versions et l'adresse de leurs documents."""
    row = _fiche(fiche_id)
    name_patients(row.patient_id)
    return jsonify(represent(row, _versions([row.id]).get(row.id, [])))


# --- documents ----------------------------------------------------------------------------------


def _version(fiche_id: int, number: int) -> tuple[Fiche, FicheVersion]:
    fiche = _fiche(fiche_id)
    name_patients(fiche.patient_id)
    version = db.session.scalar(
        select(FicheVersion).where(
            FicheVersion.fiche_id == fiche.id, FicheVersion.version == number
        )
    )
    if version is None:
        not_found(f"Cette fiche n'a pas de version {number}.")
    return fiche, version


def _stored(version: FicheVersion, kind: str) -> FicheDocument:
    """The document row, its bytes left unread until ``content`` is asked for (a 304 needs
    only the digest)."""
    return db.session.scalar(
        select(FicheDocument)
        .where(FicheDocument.version_id == version.id, FicheDocument.kind == kind)
        .options(defer(FicheDocument._content))
    )


def _not_modified(tag: str) -> bool:
    sent = request.headers.get("If-None-Match", "")
    return any(part.strip().removeprefix("W/") in (tag, "*") for part in sent.split(","))


def _send(data_or_none, tag: str, media_type: str, file_name: str) -> FlaskResponse:
    """The body (or a 304 when the client holds this ETag), named for saving."""
    if data_or_none is None:
        response = FlaskResponse(status=304)
    else:
        response = FlaskResponse(data_or_none, mimetype=media_type)
        response.headers["Content-Disposition"] = f'attachment; filename="{file_name}"'
    response.headers["ETag"] = tag
    return response


def _download(fiche_id: int, number: int, kind: str) -> FlaskResponse:
    fiche, version = _version(fiche_id, number)
    document = _stored(version, kind)
    tag = f'"{document.sha256}"'
    name = FILE_NAMES[kind].format(set_id=fiche.set_id, version=number)
    if _not_modified(tag):
        return _send(None, tag, document.media_type, name)
    # ``content`` checks the bytes against their SHA-256 (DocumentAltered: a 409, not served).
    return _send(document.content, tag, document.media_type, name)


_DOCUMENT_ERRORS = {
    "HTTP_401": Problem,
    "HTTP_403": Problem,
    "HTTP_404": Problem,
    "HTTP_409": Problem,
}


@bp.get("/fiches/<int:fiche_id>/versions/<int:version>/pdf")
@shows_patient_data
@api_call("fiches:read")
@spec.validate(
    resp=BinaryResponse("application/pdf", "PDF/A-3b signé (cachet PAdES)", **_DOCUMENT_ERRORS),
    tags=["Fiches RCP"],
    security=secured("fiches:read"),
)
def fiche_pdf(fiche_id: int, version: int):
    """Le PDF signé d'une version, octet pour octet (ETag : son SHA-256).

    409 si les octets stockés ne correspondent plus à leur empreinte : le document n'est pas
    servi et l'incident est signalé.
    """
    return _download(fiche_id, version, "pdf")


@bp.get("/fiches/<int:fiche_id>/versions/<int:version>/cda")
@shows_patient_data
@api_call("fiches:read")
@spec.validate(
    resp=BinaryResponse("text/xml", "CDA R2 « CR-RCP » (volet FRCP)", **_DOCUMENT_ERRORS),
    tags=["Fiches RCP"],
    security=secured("fiches:read"),
)
def fiche_cda(fiche_id: int, version: int):
    """Le CDA R2 d'une version, octet pour octet (ETag : son SHA-256)."""
    return _download(fiche_id, version, "cda")


@bp.get("/fiches/<int:fiche_id>/versions/<int:version>/fhir")
@shows_patient_data
@api_call("fiches:read")
@spec.validate(
    resp=BinaryResponse(FHIR_MEDIA_TYPE, "Bundle FHIR R4 « document »", **_DOCUMENT_ERRORS),
    tags=["Fiches RCP"],
    security=secured("fiches:read"),
)
def fiche_fhir(fiche_id: int, version: int):
    """Le Bundle FHIR R4 « document » d'une version, PDF signé inclus (ETag : son SHA-256).

    Construit à partir de l'instantané figé à la signature : la même version donne toujours
    le même Bundle.
    """
    fiche, row = _version(fiche_id, version)
    pdf, frozen = _stored(row, "pdf").content, row.snapshot_dict()
    release()  # building and validating the Bundle is CPU work: no transaction held meanwhile
    data = bundle_json(frozen, pdf, base_url=current_app.config["RCP_PUBLIC_URL"])
    tag = f'"{hashlib.sha256(data).hexdigest()}"'
    name = FHIR_FILE_NAME.format(set_id=fiche.set_id, version=version)
    return _send(None if _not_modified(tag) else data, tag, FHIR_MEDIA_TYPE, name)
