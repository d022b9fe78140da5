"""/api/v1/decisions: where a case's decision stands (draft, ready, validated), its outcome and
its proposals as codes, and the signed fiche once there is one.

Free texts (details of the proposal, comments) stay in the signed fiche: a system that needs
them reads the fiche (PDF, CDA or FHIR), the document that binds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import jsonify, url_for
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from ...access import api_clients as scope
from ...cases.models import Case
from ...core.converters import MAX_ID
from ...core.patient_data import shows_patient_data
from ...decisions.models import Decision
from ...extensions import db
from ...fiches.models import Fiche, FicheVersion
from ...meetings.models import AgendaItem
from ..guard import api_call, current_client, name_patients
from ..paging import next_link, page
from ..spec import secured, spec
from ..views import bp
from .common import Problem, not_found, stamp

DecisionStatus = Literal["draft", "ready_for_validation", "validated"]
Outcome = Literal["discussed", "registered", "postponed"]


class DecisionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: int | None = Field(None, ge=1, le=MAX_ID, description="Décisions de ce dossier")
    cursor: str | None = Field(None, max_length=100)
    limit: int | None = Field(None, ge=1, le=200)


class Proposal(BaseModel):
    rank: int = Field(description="1 : proposition de première ligne ; 2, 3… : alternatives")
    code: str = Field(description="Type de traitement (JDV_TypeTraitement_FRCP)")


class SignedFiche(BaseModel):
    id: int
    version: int = Field(description="Version en vigueur")
    href: str


class DecisionOut(BaseModel):
    id: int
    case_id: int
    patient_id: int
    session_id: int
    status: DecisionStatus
    outcome: Outcome | None
    proposals: list[Proposal]
    active_surveillance: bool
    trial_proposed: bool
    validated_at: datetime | None = Field(
        description="Signature de la version en vigueur de la fiche (UTC)"
    )
    fiche: SignedFiche | None
    updated_at: datetime
    href: str


class DecisionList(BaseModel):
    items: list[DecisionOut]
    next_cursor: str | None
    next: str | None


def _visible(client):
    """Decisions of the client's cases (the item's case carries the establishment's RCP)."""
    return (
        select(Decision)
        .join(AgendaItem, AgendaItem.id == Decision.item_id)
        .join(Case, Case.id == AgendaItem.case_id)
        .where(scope.case_condition(client))
        .options(selectinload(Decision.alternatives))
    )


def _context(decision_ids: list[int]) -> dict[int, tuple]:
    """decision id -> (case, patient, session, fiche id, current version, its signing time)."""
    if not decision_ids:
        return {}
    current = and_(FicheVersion.fiche_id == Fiche.id, FicheVersion.version == Fiche.current_version)
    rows = db.session.execute(
        select(
            Decision.id,
            AgendaItem.case_id,
            Case.patient_id,
            AgendaItem.session_id,
            Fiche.id,
            Fiche.current_version,
            FicheVersion.validated_at,
        )
        .join(AgendaItem, AgendaItem.id == Decision.item_id)
        .join(Case, Case.id == AgendaItem.case_id)
        .outerjoin(Fiche, Fiche.decision_id == Decision.id)
        .outerjoin(FicheVersion, current)
        .where(Decision.id.in_(decision_ids))
    )
    return {row[0]: tuple(row[1:]) for row in rows}


def represent(decision: Decision, context: tuple) -> dict:
    case_id, patient_id, session_id, fiche_id, fiche_version, validated_at = context
    proposals = [{"rank": 1, "code": decision.proposal_code}] if decision.proposal_code else []
    proposals += [
        {"rank": 1 + alternative.rank, "code": alternative.treatment_code}
        for alternative in decision.alternatives
    ]
    fiche = None
    if fiche_id is not None:
        fiche = {
            "id": fiche_id,
            "version": fiche_version,
            "href": url_for("api.fiche", fiche_id=fiche_id),
        }
    return {
        "id": decision.id,
        "case_id": case_id,
        "patient_id": patient_id,
        "session_id": session_id,
        "status": decision.state,
        "outcome": decision.outcome,
        "proposals": proposals,
        "active_surveillance": decision.active_surveillance,
        "trial_proposed": decision.trial_proposed,
        "validated_at": stamp(validated_at),
        "fiche": fiche,
        "updated_at": stamp(decision.updated_at),
        "href": url_for("api.decision", decision_id=decision.id),
    }


@bp.get("/decisions")
@shows_patient_data
@api_call("cases:read")
@spec.validate(
    query=DecisionQuery,
    resp=Response(HTTP_200=DecisionList, HTTP_400=Problem, HTTP_401=Problem, HTTP_403=Problem),
    tags=["Décisions"],
    security=secured("cases:read"),
)
def decisions_list(query: DecisionQuery):
    """Décisions des dossiers de l'établissement (d'un dossier avec case_id), par pages."""
    statement = _visible(current_client())
    if query.case_id is not None:
        statement = statement.where(AgendaItem.case_id == query.case_id)
    rows, cursor = page(statement, Decision.id, query.cursor, query.limit)
    context = _context([row.id for row in rows])
    items = [represent(row, context[row.id]) for row in rows]
    name_patients(*(item["patient_id"] for item in items))
    return jsonify(items=items, next_cursor=cursor, next=next_link("api.decisions_list", cursor))


@bp.get("/decisions/<int:decision_id>")
@shows_patient_data
@api_call("cases:read")
@spec.validate(
    resp=Response(HTTP_200=DecisionOut, HTTP_401=Problem, HTTP_403=Problem, HTTP_404=Problem),
    tags=["Décisions"],
    security=secured("cases:read"),
)
def decision(decision_id: int):
    """Une décision : état, issue, propositions (codes), fiche signée le cas échéant."""
    row = db.session.scalar(_visible(current_client()).where(Decision.id == decision_id))
    if row is None:
        not_found("Décision inconnue (ou hors de votre établissement).")
    body = represent(row, _context([row.id])[row.id])
    name_patients(body["patient_id"])
    return jsonify(body)
