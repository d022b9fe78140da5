"""/api/v1/sessions: the establishment's sessions, and one session with its agenda.

The agenda names cases and patients by id only (no identity text): a hospital system already
holds the identities, and reads them through /patients when it needs them (audited there).
Dates filter on Paris days, as the pages do: « from 2026-03-02 » starts at midnight in Paris.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from flask import jsonify, url_for
from pydantic import BaseModel, ConfigDict, Field, field_validator
from spectree import Response
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ...access import api_clients as scope
from ...cases.models import Case
from ...core.converters import MAX_ID
from ...core.patient_data import no_patient_data, shows_patient_data
from ...extensions import db
from ...meetings.models import AgendaItem, MeetingSession
from ...reports.period import paris_midnight_utc
from ..guard import api_call, current_client, name_patients
from ..paging import next_link, page
from ..spec import secured, spec
from ..views import bp
from .common import Problem, not_found, plausible, stamp

SessionStatus = Literal["planned", "agenda_published", "in_progress", "closed"]
ItemMode = Literal["discussed", "registered"]


class SessionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_: date | None = Field(
        None, alias="from", description="Séances à partir de ce jour (heure de Paris)"
    )
    to: date | None = Field(None, description="Séances jusqu'à ce jour inclus (heure de Paris)")
    rcp_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: SessionStatus | None = None
    cursor: str | None = Field(None, max_length=100)
    limit: int | None = Field(None, ge=1, le=200)

    @field_validator("from_", "to")
    @classmethod
    def _plausible_day(cls, day: date | None) -> date | None:
        return plausible(day, "date_parsing")


class SessionOut(BaseModel):
    id: int
    rcp_id: int
    rcp_name: str
    starts_at: datetime = Field(description="Début (UTC)")
    deadline_at: datetime = Field(description="Date limite d'inscription (UTC)")
    place: str
    video_url: str | None
    capacity: int
    status: SessionStatus
    published_at: datetime | None = Field(description="Publication de l'ordre du jour (UTC)")
    agenda_version: int
    href: str


class AgendaLine(BaseModel):
    position: int
    case_id: int
    patient_id: int
    mode: ItemMode
    case_status: str = Field(description="État du dossier (scheduled, discussed, registered…)")
    late_addition: bool


class SessionDetail(SessionOut):
    agenda: list[AgendaLine]


class SessionList(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None
    next: str | None


def represent(session: MeetingSession) -> dict:
    return {
        "id": session.id,
        "rcp_id": session.rcp_id,
        "rcp_name": session.rcp.name,
        "starts_at": stamp(session.starts_at),
        "deadline_at": stamp(session.deadline_at),
        "place": session.place,
        "video_url": session.video_url,
        "capacity": session.capacity,
        "status": session.status,
        "published_at": stamp(session.published_at),
        "agenda_version": session.agenda_version,
        "href": url_for("api.session", session_id=session.id),
    }


def _agenda(session_id: int) -> list[dict]:
    rows = db.session.execute(
        select(
            AgendaItem.position,
            AgendaItem.case_id,
            Case.patient_id,
            AgendaItem.mode,
            Case.status,
            AgendaItem.late_addition,
        )
        .join(Case, Case.id == AgendaItem.case_id)
        .where(AgendaItem.session_id == session_id)
        .order_by(AgendaItem.position, AgendaItem.id)
    )
    return [
        {
            "position": position,
            "case_id": case_id,
            "patient_id": patient_id,
            "mode": mode,
            "case_status": status,
            "late_addition": late,
        }
        for position, case_id, patient_id, mode, status, late in rows
    ]


@bp.get("/sessions")
@no_patient_data
@api_call("sessions:read")
@spec.validate(
    query=SessionQuery,
    resp=Response(HTTP_200=SessionList, HTTP_400=Problem, HTTP_401=Problem, HTTP_403=Problem),
    tags=["Séances"],
    security=secured("sessions:read"),
)
def sessions_list(query: SessionQuery):
    """Séances des RCP de l'établissement, par pages (curseur).

    Filtres : période (jours, heure de Paris), RCP, état. Sans ordre du jour : lisez une séance
    pour le sien.
    """
    statement = (
        select(MeetingSession)
        .where(scope.session_condition(current_client()))
        .options(joinedload(MeetingSession.rcp))
    )
    if query.from_ is not None:
        statement = statement.where(MeetingSession.starts_at >= paris_midnight_utc(query.from_))
    if query.to is not None:
        end = paris_midnight_utc(query.to + timedelta(days=1))
        statement = statement.where(MeetingSession.starts_at < end)
    if query.rcp_id is not None:
        statement = statement.where(MeetingSession.rcp_id == query.rcp_id)
    if query.status is not None:
        statement = statement.where(MeetingSession.status == query.status)
    rows, cursor = page(statement, MeetingSession.id, query.cursor, query.limit)
    return jsonify(
        items=[represent(row) for row in rows],
        next_cursor=cursor,
        next=next_link("api.sessions_list", cursor),
    )


@bp.get("/sessions/<int:session_id>")
@shows_patient_data
@api_call("sessions:read")
@spec.validate(
    resp=Response(HTTP_200=SessionDetail, HTTP_401=Problem, HTTP_403=Problem, HTTP_404=Problem),
    tags=["Séances"],
    security=secured("sessions:read"),
)
def session(session_id: int):
    """Une séance et son ordre du jour (dossiers et patients désignés par leur identifiant)."""
    row = db.session.scalar(
        select(MeetingSession)
        .where(MeetingSession.id == session_id, scope.session_condition(current_client()))
        .options(joinedload(MeetingSession.rcp))
    )
    if row is None:
        not_found("Séance inconnue (ou hors de votre établissement).")
    agenda = _agenda(row.id)
    name_patients(*(line["patient_id"] for line in agenda))
    return jsonify({**represent(row), "agenda": agenda})
