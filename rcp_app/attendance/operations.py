"""Attendance operations (record, change mode, quorum membership, departure, removal), a
case's extra required specialties, and the live quorum of a session and of its cases.

Every operation checks who acts (``check_can_manage``), locks the row it changes, mutates,
writes an audit row and flushes; the request commits once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..access import rules
from ..core import audit
from ..core.converters import parse_id
from ..core.errors import Conflict, DomainError, PermissionDenied
from ..core.patient_data import cases_named
from ..core.text import clean_text
from ..core.timeutil import utcnow
from ..directory.models import Professional, Rcp
from ..extensions import db
from ..meetings.models import MeetingSession
from ..terminology.builtin import SPECIALTY
from ..terminology.models import Concept, find_concept
from .models import MODES, Attendance, CaseRequiredSpecialty
from .quorum import Attendee, QuorumResult, compute_quorum

# Hand-parsed (the code is posted by a per-case form): the input rule names the field.
SPECIALTY_LABEL = "Spécialité exigée en plus"
FORBIDDEN = (
    "Seuls le secrétariat (coordination) et le médecin coordonnateur de la RCP peuvent "
    "enregistrer les présences et les spécialités exigées."
)


# --- who may act -----------------------------------------------------------------------------


def can_manage(user, rcp: Rcp) -> bool:
    """The coordinator role, or the RCP's coordinating physician (user.professional_id)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role == "coordinator":
        return rules.runs_rcp(user, rcp.id)  # a secretariat runs its own RCPs only
    return (
        user.role == "physician"
        and user.professional_id is not None
        and user.professional_id == rcp.coordinator_id
    )


def check_can_manage(user, rcp: Rcp) -> None:
    if not can_manage(user, rcp):
        raise PermissionDenied(FORBIDDEN)


# --- attendance ------------------------------------------------------------------------------


def _lock_session(session: MeetingSession) -> None:
    """Serialise the attendance changes of one session (SELECT … FOR UPDATE on PostgreSQL)."""
    db.session.execute(
        select(MeetingSession.id).where(MeetingSession.id == session.id).with_for_update()
    )


def _lock(attendance: Attendance) -> None:
    db.session.refresh(attendance, with_for_update=True)


def _check_mode(mode) -> str:
    if mode not in MODES:
        raise DomainError("Choisissez le mode de présence : sur place ou à distance.", field="mode")
    return mode


def _details(attendance: Attendance, **more) -> dict:
    return {
        "attendance_id": attendance.id,
        "professional_id": attendance.professional_id,
        "mode": attendance.mode,
        "quorum_member": attendance.quorum_member,
        **more,
    }


def record_attendance(
    session: MeetingSession,
    user,
    professional_id,
    mode="on_site",
    quorum_member: bool = True,
    now: datetime | None = None,
) -> Attendance:
    """Record that a professional of the directory attends the session."""
    check_can_manage(user, session.rcp)
    pid = parse_id(professional_id)
    professional = db.session.get(Professional, pid) if pid is not None else None
    if professional is None:
        raise DomainError(
            "Ce professionnel est inconnu de l'annuaire : choisissez-le dans la liste.",
            field="professional_id",
        )
    if not professional.active:
        raise DomainError(
            f"{professional.display_name} est inactif dans l'annuaire : sa présence ne peut "
            "pas être enregistrée.",
            field="professional_id",
        )
    mode = _check_mode(mode)
    _lock_session(session)
    exists = db.session.scalar(
        select(Attendance.id).where(
            Attendance.session_id == session.id, Attendance.professional_id == professional.id
        )
    )
    if exists is not None:
        raise DomainError(
            f"{professional.display_name} est déjà enregistré(e) parmi les présents.",
            field="professional_id",
        )
    attendance = Attendance(
        session_id=session.id,
        professional_id=professional.id,
        mode=mode,
        quorum_member=bool(quorum_member),
        arrived_at=now or utcnow(),
    )
    try:
        with db.session.begin_nested():  # a concurrent duplicate: the unique constraint says no
            db.session.add(attendance)
    except IntegrityError:
        raise DomainError(
            f"{professional.display_name} est déjà enregistré(e) parmi les présents.",
            field="professional_id",
        ) from None
    audit.record(
        "attendance.add",
        "session",
        session.id,
        details=_details(attendance, specialty_code=professional.specialty_code),
    )
    return attendance


def set_mode(attendance: Attendance, session: MeetingSession, user, mode) -> bool:
    """On site / remote. Returns False when nothing changed."""
    check_can_manage(user, session.rcp)
    mode = _check_mode(mode)
    _lock(attendance)
    if attendance.mode == mode:
        return False
    before = attendance.mode
    attendance.mode = mode
    db.session.flush()
    audit.record(
        "attendance.mode", "session", session.id, details=_details(attendance, before=before)
    )
    return True


def set_quorum_member(attendance: Attendance, session: MeetingSession, user, member) -> bool:
    """Quorum member (counts for the quorum) or non-quorum attendee. False when unchanged."""
    check_can_manage(user, session.rcp)
    if member not in (True, False):
        raise DomainError("Indiquez si le participant est membre du quorum.", field="quorum_member")
    _lock(attendance)
    if attendance.quorum_member == member:
        return False
    attendance.quorum_member = member
    db.session.flush()
    audit.record("attendance.quorum_member", "session", session.id, details=_details(attendance))
    return True


def mark_departure(
    attendance: Attendance, session: MeetingSession, user, now: datetime | None = None
) -> None:
    """The professional left: kept in the list, no longer counted in the live quorum."""
    check_can_manage(user, session.rcp)
    _lock(attendance)
    if attendance.left_at is not None:
        raise Conflict(f"Le départ de {attendance.professional.display_name} est déjà enregistré.")
    attendance.left_at = max(now or utcnow(), attendance.arrived_at)
    db.session.flush()
    audit.record(
        "attendance.depart",
        "session",
        session.id,
        details=_details(attendance, left_at=attendance.left_at),
    )


def remove_attendance(attendance: Attendance, session: MeetingSession, user) -> None:
    """Remove a presence recorded by mistake."""
    check_can_manage(user, session.rcp)
    _lock(attendance)
    details = _details(attendance)
    db.session.delete(attendance)
    db.session.flush()
    audit.record("attendance.remove", "session", session.id, details=details)


# --- a case's extra required specialties -----------------------------------------------------


def _lock_case(case) -> None:
    from ..cases.models import Case

    db.session.execute(select(Case.id).where(Case.id == case.id).with_for_update())


def add_case_specialty(case, user, specialty_code) -> CaseRequiredSpecialty:
    """The case needs this specialty on top of its RCP's rule (e.g. a pathologist)."""
    check_can_manage(user, case.rcp)
    code = clean_text(str(specialty_code or ""), SPECIALTY_LABEL, "specialty_code").strip()
    concept = find_concept(SPECIALTY, code) if code else None
    if concept is None:
        raise DomainError("Choisissez une spécialité de la liste.", field="specialty_code")
    _lock_case(case)
    if db.session.get(CaseRequiredSpecialty, (case.id, code)) is not None:
        raise DomainError(
            f"La spécialité « {concept.label} » est déjà exigée pour ce dossier.",
            field="specialty_code",
        )
    row = CaseRequiredSpecialty(case_id=case.id, specialty_code=code)
    db.session.add(row)
    db.session.flush()
    audit.record(
        "case.required_specialty_add",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={"specialty_code": code},
    )
    return row


def remove_case_specialty(case, user, specialty_code) -> None:
    check_can_manage(user, case.rcp)
    code = clean_text(str(specialty_code or ""), SPECIALTY_LABEL, "specialty_code").strip()
    _lock_case(case)
    row = db.session.get(CaseRequiredSpecialty, (case.id, code)) if code else None
    if row is None:
        raise DomainError(
            "Cette spécialité n'est pas exigée pour ce dossier.", field="specialty_code"
        )
    db.session.delete(row)
    db.session.flush()
    audit.record(
        "case.required_specialty_remove",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={"specialty_code": code},
    )


# --- reading: attendance lists and quorum ----------------------------------------------------


def specialty_labels() -> dict[str, str]:
    """Code -> French label of the specialties (retired ones included)."""
    rows = db.session.execute(
        select(Concept.code, Concept.label).where(Concept.value_set == SPECIALTY)
    )
    return dict(rows.all())


def session_attendances(session: MeetingSession) -> list[Attendance]:
    """The session's attendances with their professionals (one query), by name."""
    return list(
        db.session.scalars(
            select(Attendance)
            .join(Attendance.professional)
            .where(Attendance.session_id == session.id)
            .options(selectinload(Attendance.professional).selectinload(Professional.establishment))
            .order_by(Professional.last_name_key, Professional.first_name, Attendance.id)
        )
    )


def attendees_of(attendances: Iterable[Attendance]) -> list[Attendee]:
    """Those present now (departed ones excluded), as quorum inputs."""
    return [
        Attendee(a.professional_id, a.professional.specialty_code, a.quorum_member)
        for a in attendances
        if a.left_at is None
    ]


def case_specialties(case_ids: list[int]) -> dict[int, list[str]]:
    """case id -> extra required specialty codes (one query)."""
    result: dict[int, list[str]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        rows = db.session.execute(
            select(CaseRequiredSpecialty.case_id, CaseRequiredSpecialty.specialty_code)
            .where(CaseRequiredSpecialty.case_id.in_(case_ids))
            .order_by(CaseRequiredSpecialty.specialty_code)
        )
        for case_id, code in rows:
            result[case_id].append(code)
    return result


def quorum_of(
    rcp: Rcp, attendees: list[Attendee], extra: Iterable[str] = (), labels=None
) -> QuorumResult:
    return compute_quorum(
        attendees,
        min_specialties=rcp.min_specialties,
        required=rcp.required_specialty_codes,
        extra_required=extra,
        labels=labels,
    )


def quorum_for_session(session: MeetingSession, labels=None) -> QuorumResult:
    """The live quorum of the session under its RCP's rule (no case-specific specialty)."""
    labels = specialty_labels() if labels is None else labels
    return quorum_of(session.rcp, attendees_of(session_attendances(session)), (), labels)


def quorum_for_case(session: MeetingSession, case) -> QuorumResult:
    """The live quorum for one case discussed in the session.

    For the decision capture: a decision may record « quorum atteint » (``result.status_code``
    == QUORUM_REACHED, ORG-126) only when ``result.reached``; otherwise the case is postponed
    or its fiche records ``result.status_code`` (ORG-133 « Quorum non atteint », or GEN-010
    « Ne sait pas » when no attendance was recorded), as the RCP's rule says. Counts the
    quorum members present now (departures excluded) against the RCP's minimum and required
    specialties plus the case's own required specialties. Read-only; no audit row.
    """
    labels = specialty_labels()
    extra = case_specialties([case.id])[case.id]
    return quorum_of(session.rcp, attendees_of(session_attendances(session)), extra, labels)


def active_professionals() -> list[Professional]:
    """Active professionals of the directory, for the add form (one query)."""
    return list(
        db.session.scalars(
            select(Professional)
            .where(Professional.active.is_(True))
            .order_by(
                Professional.specialty_code, Professional.last_name_key, Professional.first_name
            )
        )
    )


# Cases that leave the session's discussion.
_NOT_DISCUSSED = ("withdrawn", "refused")


def session_cases(session: MeetingSession) -> list:
    """The cases on the session's agenda, in agenda order; withdrawn or refused ones excluded.

    Only agenda items: a case merely targeted at the session (a draft, a case not yet
    scheduled) is not discussed there, so it has no quorum and its patient must not be named
    on the attendance page or the attendance sheet. One query, whatever the number of cases."""
    from ..cases.models import Case
    from ..meetings.models import AgendaItem

    return list(
        db.session.scalars(
            select(Case)
            .join(AgendaItem, AgendaItem.case_id == Case.id)
            .where(AgendaItem.session_id == session.id, Case.status.not_in(_NOT_DISCUSSED))
            .options(selectinload(Case.patient))
            .order_by(AgendaItem.position, Case.id)
        )
    )


@dataclass(frozen=True)
class SheetRow:
    """A line of the attendance sheet: a professional present, or a member of the RCP who
    was not (« absent(e) ou excusé(e) »)."""

    professional: Professional
    attendance: Attendance | None

    @property
    def present(self) -> bool:
        return self.attendance is not None


def sheet_rows(session: MeetingSession, attendances: list[Attendance]) -> list[SheetRow]:
    """Those present (by name), then the RCP's usual members who were not (by name).
    Two queries at most."""
    from ..directory.models import RcpMember

    present_ids = {a.professional_id for a in attendances}
    members = db.session.scalars(
        select(Professional)
        .join(RcpMember, RcpMember.professional_id == Professional.id)
        .where(RcpMember.rcp_id == session.rcp_id, Professional.id.not_in(present_ids or {0}))
        .options(selectinload(Professional.establishment))
        .order_by(Professional.last_name_key, Professional.first_name, Professional.id)
    )
    return [SheetRow(a.professional, a) for a in attendances] + [SheetRow(p, None) for p in members]


def record_page_view(session: MeetingSession, cases) -> None:
    """The attendance page names the patients of the session's cases (none: no row)."""
    if not cases:
        return
    audit.record(
        "session.attendance_view",
        "session",
        session.id,
        details=cases_named(cases),
    )
