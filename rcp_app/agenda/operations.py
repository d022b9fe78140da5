"""Agenda builder: assign, unassign, reorder, edit, postpone, refuse, publish.

Every operation locks the session row first (agenda changes of one session are serialised),
checks its input, writes an audit row and flushes; it never commits.

Postponement (a choice of this issue): the case leaves the agenda, its target session becomes
the RCP's next open session and its status "postponed"; it then shows in that session's pool
(the pool holds "submitted" and "postponed" cases whose target session is this one or an
earlier one) and is scheduled again from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..access import care_team
from ..cases import completeness
from ..cases import status as case_status
from ..cases.models import Case, Tumour
from ..core import audit, signals
from ..core.conflict import check_version
from ..core.converters import parse_id, parse_int
from ..core.errors import Conflict, DomainError
from ..core.patient_data import cases_named, patient_ids
from ..core.text import clean_text
from ..core.timeutil import utcnow
from ..directory.models import Professional
from ..extensions import db
from ..meetings.models import ITEM_MODES, OPEN_STATUSES, AgendaItem, MeetingSession, Notification

MAX_REASON = 2000
MAX_GUIDELINE = 300
MAX_MINUTES = 240
STALE = (
    "L'ordre du jour a été modifié entre-temps par un autre utilisateur : rechargez la page "
    "et recommencez. Rien n'a été changé."
)


# --- loading ---------------------------------------------------------------------------------


def lock_session(session: MeetingSession) -> MeetingSession:
    """Re-read the session row FOR UPDATE (serialises the agenda changes of a session)."""
    db.session.execute(
        select(MeetingSession.id).where(MeetingSession.id == session.id).with_for_update()
    )
    db.session.refresh(session)
    return session


def case_options():
    return (
        joinedload(Case.patient),
        joinedload(Case.rcp),
        joinedload(Case.requester),
        joinedload(Case.session),
        selectinload(Case.tumours).selectinload(Tumour.biomarkers),
    )


def agenda_items(session: MeetingSession, names_only: bool = False) -> list[AgendaItem]:
    """The agenda in order, with what the page shows (a constant number of queries).

    ``names_only`` loads each case with its patient only: the meeting page lists 60 names and
    shows one case in full; loading every case's whole graph cost it a full garbage collection
    every dozen requests (bench/meeting.py).
    """
    if names_only:
        options = [joinedload(AgendaItem.case).joinedload(Case.patient)]
    else:
        options = [joinedload(AgendaItem.case).options(o) for o in case_options()]
    stmt = (
        select(AgendaItem)
        .where(AgendaItem.session_id == session.id)
        .options(*options)
        .order_by(AgendaItem.position, AgendaItem.id)
    )
    return list(db.session.scalars(stmt).unique())


def pool_cases(session: MeetingSession) -> list[Case]:
    """Cases of the session's RCP waiting for an agenda, oldest submission first."""
    earlier = select(MeetingSession.id).where(
        MeetingSession.rcp_id == session.rcp_id, MeetingSession.starts_at <= session.starts_at
    )
    stmt = (
        select(Case)
        .where(
            Case.rcp_id == session.rcp_id,
            Case.status.in_(case_status.POOL),
            (Case.session_id.is_(None)) | (Case.session_id.in_(earlier)),
        )
        .options(*case_options())
        .order_by(Case.submitted_at, Case.id)
    )
    return list(db.session.scalars(stmt).unique())


@dataclass
class VisibleAgenda:
    """The agenda lines a user may see, and how many others it holds (said, never shown)."""

    items: list[AgendaItem]
    hidden: int = 0
    hidden_objections: int = 0


def visible_agenda(items: list[AgendaItem], user) -> VisibleAgenda:
    """Lines of patients outside the user's care teams are left out: the agenda says how many,
    and how many of those patients object to sharing beyond the team treating them."""
    visible = care_team.case_ids_among(user, [i.case_id for i in items])
    hidden = [i for i in items if i.case_id not in visible]
    return VisibleAgenda(
        [i for i in items if i.case_id in visible],
        len(hidden),
        sum(1 for i in hidden if i.case.patient_sharing_objection),
    )


def shareable_agenda(items: list[AgendaItem]) -> VisibleAgenda:
    """The agenda sent to every invited participant: without the patients who object."""
    objecting = [i for i in items if i.case.patient_sharing_objection]
    return VisibleAgenda(
        [i for i in items if not i.case.patient_sharing_objection],
        len(objecting),
        len(objecting),
    )


def record_view(session: MeetingSession, items: list[AgendaItem], pool: list[Case]) -> None:
    """The agenda page names patients: an access to patient data."""
    audit.record(
        "session.agenda_view",
        "session",
        session.id,
        details={
            "cases": [i.case_id for i in items],
            "pool": [c.id for c in pool],
            "patients": patient_ids(
                [i.case.patient_id for i in items] + [c.patient_id for c in pool]
            ),
        },
    )


def missing_for(cases: list[Case]) -> dict[int, list[str]]:
    return completeness.missing_by_case(cases) if cases else {}


# --- helpers ---------------------------------------------------------------------------------


def _reason(raw: str | None, label: str) -> str:
    reason = clean_text(raw or "", f"Motif {label}", "reason").strip()
    if not reason:
        raise DomainError(f"Indiquez le motif {label}.", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Le motif : {MAX_REASON} caractères au maximum.", field="reason")
    return reason


def _open(session: MeetingSession) -> None:
    if session.status not in OPEN_STATUSES:
        raise Conflict(
            f"La séance est « {session.status_label.lower()} » : son ordre du jour ne peut plus "
            "être modifié."
        )


def _bump(session: MeetingSession) -> None:
    session.agenda_version = (session.agenda_version or 0) + 1


def _parse_id(raw, what: str = "dossier") -> int:
    number = parse_id(raw)
    if number is None:
        raise DomainError(f"Identifiant de {what} invalide.", field="case_id")
    return number


def _session_case(session: MeetingSession, raw_case_id) -> Case:
    case = db.session.get(Case, _parse_id(raw_case_id))
    if case is None:
        raise DomainError("Dossier inconnu.", field="case_id")
    if case.rcp_id != session.rcp_id:
        raise DomainError("Ce dossier est inscrit dans une autre RCP.", field="case_id")
    return case


def _item_of(session: MeetingSession, raw_item_id) -> AgendaItem:
    item = db.session.get(AgendaItem, _parse_id(raw_item_id, "ligne"))
    if item is None or item.session_id != session.id:
        raise DomainError("Ce dossier n'est pas à l'ordre du jour de cette séance.")
    return item


def _items(session: MeetingSession) -> list[AgendaItem]:
    return list(
        db.session.scalars(
            select(AgendaItem)
            .where(AgendaItem.session_id == session.id)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    )


def _renumber(items: list[AgendaItem]) -> None:
    for position, item in enumerate(items, start=1):
        if item.position != position:
            item.position = position


def _notify(kind: str, recipient_id: int | None, session_id, case_id=None, reason=None, now=None):
    """Record the event and have its e-mail queued (the delivery outbox receives
    ``notification_recorded``), in the current transaction."""
    if recipient_id is None:
        return
    notification = Notification(
        kind=kind,
        recipient_id=recipient_id,
        session_id=session_id,
        case_id=case_id,
        reason=reason,
        created_at=now or utcnow(),
        status="pending",
    )
    db.session.add(notification)
    db.session.flush()
    case = db.session.get(Case, case_id) if case_id else None
    signals.send(
        signals.notification_recorded,
        notification,
        recipient=db.session.get(Professional, recipient_id),
        patient_id=case.patient_id if case else None,
    )


def _check_patient_free(case: Case, target: MeetingSession) -> None:
    if case.session_id == target.id:
        return
    other = db.session.scalar(
        select(Case.id).where(
            Case.patient_id == case.patient_id,
            Case.session_id == target.id,
            Case.status.in_(case_status.ACTIVE),
            Case.id != case.id,
        )
    )
    if other is not None:
        raise DomainError(
            f"Le patient a déjà un dossier (n° {other}) dans cette séance.", field="case_id"
        )


def _set_status(case: Case, target: str, now: datetime) -> str:
    if not case_status.can_transition(case.status, target):
        raise Conflict(
            f"Le dossier est « {case.status_label.lower()} » et ne peut pas passer à "
            f"« {case_status.STATUS_LABELS[target].lower()} »."
        )
    previous = case.status
    case.status = target
    case.updated_at = now
    return previous


# --- operations ------------------------------------------------------------------------------


def assign(
    session: MeetingSession, raw_case_id, override_reason: str | None = None, now=None
) -> AgendaItem:
    """Put a pool case at the end of the agenda."""
    now = now or utcnow()
    lock_session(session)
    _open(session)
    case = _session_case(session, raw_case_id)
    if db.session.scalar(select(AgendaItem.id).where(AgendaItem.case_id == case.id)):
        raise DomainError("Ce dossier est déjà à l'ordre du jour.", field="case_id")
    if case.status not in case_status.POOL:
        raise DomainError(
            f"Ce dossier est « {case.status_label.lower()} » : seul un dossier soumis peut être "
            "inscrit à l'ordre du jour.",
            field="case_id",
        )
    count = db.session.scalar(
        select(func.count(AgendaItem.id)).where(AgendaItem.session_id == session.id)
    )
    if count >= session.capacity:
        raise DomainError(
            f"La séance est complète ({session.capacity} dossiers au maximum) : reportez un "
            "dossier ou augmentez la capacité de la séance.",
            field="case_id",
        )
    missing = completeness.missing_items(case)
    override = clean_text(
        override_reason or "", "Motif de la dérogation", "override_reason"
    ).strip()
    if missing and not override:
        raise DomainError(
            "Dossier incomplet (" + ", ".join(missing) + ") : refusez-le, ou inscrivez-le "
            "quand même en indiquant le motif de la dérogation.",
            field="override_reason",
        )
    if len(override) > MAX_REASON:
        raise DomainError(f"Le motif : {MAX_REASON} caractères au maximum.", "override_reason")
    _check_patient_free(case, session)
    previous = _set_status(case, "scheduled", now)
    case.session_id = session.id
    item = AgendaItem(
        session_id=session.id,
        case_id=case.id,
        position=count + 1,
        mode="discussed",
        estimated_minutes=5,
        late_addition=session.status != "planned",
        override_incomplete=bool(missing),
        override_reason=override if missing else None,
        added_at=now,
    )
    db.session.add(item)
    _bump(session)
    _notify("case_scheduled", case.requester_id, session.id, case.id, now=now)
    db.session.flush()
    audit.record(
        "agenda.assign",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={
            "session_id": session.id,
            "previous_status": previous,
            "late_addition": item.late_addition,
            "override_incomplete": item.override_incomplete,
            "override_reason": item.override_reason,
            "missing": missing,
        },
    )
    return item


def unassign(session: MeetingSession, raw_item_id, now=None) -> None:
    """Take a case off the agenda: back to the pool as "submitted"."""
    now = now or utcnow()
    lock_session(session)
    _open(session)
    item = _item_of(session, raw_item_id)
    case = item.case
    previous = _set_status(case, "submitted", now)
    db.session.delete(item)
    db.session.flush()
    _renumber(_items(session))
    _bump(session)
    db.session.flush()
    audit.record(
        "agenda.unassign",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={"session_id": session.id, "previous_status": previous},
    )


def reorder(session: MeetingSession, raw_ids, expected_version) -> list[int]:
    """Set the order from the full list of item ids sent by the page and its agenda version."""
    lock_session(session)
    _open(session)
    check_version(expected_version, session.agenda_version, STALE)
    ids = [parse_id(raw) for raw in raw_ids]
    if None in ids:
        raise DomainError("Liste de dossiers invalide.")
    items = _items(session)
    by_id = {item.id: item for item in items}
    if len(ids) != len(set(ids)) or set(ids) != set(by_id):
        raise Conflict(STALE)
    _renumber([by_id[i] for i in ids])
    _bump(session)
    db.session.flush()
    audit.record("agenda.reorder", "session", session.id, details={"order": ids})
    return ids


def move(session: MeetingSession, raw_item_id, direction: str, expected_version) -> None:
    """One step up or down (the keyboard alternative to drag and drop)."""
    if direction not in ("up", "down"):
        raise DomainError("Déplacement inconnu.")
    lock_session(session)
    item = _item_of(session, raw_item_id)
    ids = [i.id for i in _items(session)]
    index = ids.index(item.id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ids):
        ids[index], ids[other] = ids[other], ids[index]
    reorder(session, ids, expected_version)


def update_item(session: MeetingSession, raw_item_id, mode, guideline, raw_minutes) -> None:
    """Mode (discussed / registered with the guideline cited) and estimated minutes."""
    lock_session(session)
    _open(session)
    item = _item_of(session, raw_item_id)
    if mode not in ITEM_MODES:
        raise DomainError("Mode inconnu : « discuté » ou « enregistré ».", field="mode")
    guideline = clean_text(guideline or "", "Référentiel cité", "guideline").strip()
    if len(guideline) > MAX_GUIDELINE:
        raise DomainError(
            f"Le référentiel : {MAX_GUIDELINE} caractères au maximum.", field="guideline"
        )
    if mode == "registered" and not guideline:
        raise DomainError(
            "Un dossier enregistré (situation standard) doit citer le référentiel suivi.",
            field="guideline",
        )
    minutes = parse_int(raw_minutes, 1, MAX_MINUTES)
    if minutes is None:
        raise DomainError(
            f"Durée estimée : un nombre entier de minutes entre 1 et {MAX_MINUTES}.",
            field="estimated_minutes",
        )
    before = {"mode": item.mode, "guideline": item.guideline, "minutes": item.estimated_minutes}
    item.mode = mode
    item.guideline = guideline or None
    item.estimated_minutes = minutes
    _bump(session)
    db.session.flush()
    audit.record(
        "agenda.update",
        "case",
        item.case_id,
        patient_id=item.case.patient_id,
        details={
            "session_id": session.id,
            "before": before,
            "after": {"mode": mode, "guideline": item.guideline, "minutes": minutes},
        },
    )


def next_session(session: MeetingSession) -> MeetingSession | None:
    return db.session.scalars(
        select(MeetingSession)
        .where(
            MeetingSession.rcp_id == session.rcp_id,
            MeetingSession.starts_at > session.starts_at,
            MeetingSession.status.in_(OPEN_STATUSES),
        )
        .order_by(MeetingSession.starts_at)
        .limit(1)
    ).first()


def _take_off(session: MeetingSession, case: Case) -> None:
    item = db.session.scalars(select(AgendaItem).where(AgendaItem.case_id == case.id)).first()
    if item is not None:
        if item.session_id != session.id:
            raise DomainError("Ce dossier est à l'ordre du jour d'une autre séance.", "case_id")
        db.session.delete(item)
        db.session.flush()
        _renumber(_items(session))
    elif case.status not in case_status.POOL:
        raise DomainError(
            f"Ce dossier est « {case.status_label.lower()} » : il n'attend pas d'ordre du jour.",
            field="case_id",
        )


def postpone(session: MeetingSession, raw_case_id, reason: str, now=None) -> MeetingSession:
    """Move a case (on the agenda or in the pool) to the pool of the RCP's next session."""
    now = now or utcnow()
    lock_session(session)
    _open(session)
    case = _session_case(session, raw_case_id)
    reason = _reason(reason, "du report")
    target = next_session(session)
    if target is None:
        raise DomainError(
            "Aucune séance suivante n'est planifiée pour cette RCP : générez ou créez-la d'abord.",
            field="reason",
        )
    move_to_session(session, case, target, reason, now)
    return target


def move_to_session(
    session: MeetingSession, case: Case, target: MeetingSession, reason: str, now, **details
) -> None:
    """Take the case off this session (agenda or pool) into the target session's pool.

    Shared by a postponement while building the agenda and one decided when closing the session
    (which passes ``at_close=True`` into the audit details).
    """
    _take_off(session, case)
    _check_patient_free(case, target)
    previous = _set_status(case, "postponed", now)
    case.session_id = target.id
    _bump(session)
    _notify("case_postponed", case.requester_id, target.id, case.id, reason, now)
    db.session.flush()
    audit.record(
        "agenda.postpone",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={
            "from_session_id": session.id,
            "to_session_id": target.id,
            "previous_status": previous,
            "reason": reason,
            **details,
        },
    )


def refuse(session: MeetingSession, raw_case_id, reason: str, now=None) -> None:
    """Refuse a case (usually incomplete) with a reason; the referring physician is told."""
    now = now or utcnow()
    lock_session(session)
    _open(session)
    case = _session_case(session, raw_case_id)
    reason = _reason(reason, "du refus")
    _take_off(session, case)
    previous = _set_status(case, "refused", now)
    _bump(session)
    _notify("case_refused", case.requester_id, session.id, case.id, reason, now)
    db.session.flush()
    audit.record(
        "agenda.refuse",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={"session_id": session.id, "previous_status": previous, "reason": reason},
    )


def publish(session: MeetingSession, expected_version, now=None) -> None:
    """Freeze the agenda and record the notifications (coordinator and referring physicians)."""
    now = now or utcnow()
    lock_session(session)
    check_version(expected_version, session.agenda_version, STALE)
    if session.status != "planned":
        raise Conflict(f"La séance est « {session.status_label.lower()} » : déjà publiée.")
    items = _items(session)
    if not items:
        raise DomainError("L'ordre du jour est vide : inscrivez au moins un dossier.")
    session.status = "agenda_published"
    session.published_at = now
    _bump(session)
    # The coordinator, the RCP's usual participants, then the referring physicians.
    recipients = []
    if session.rcp.coordinator_id is not None:
        recipients.append(session.rcp.coordinator_id)
    for professional_id in session.rcp.member_ids:
        if professional_id not in recipients:
            recipients.append(professional_id)
    requesters = db.session.scalars(
        select(Case.requester_id).where(Case.id.in_([i.case_id for i in items]))
    )
    for professional_id in requesters:
        if professional_id not in recipients:
            recipients.append(professional_id)
    for professional_id in recipients:
        _notify("agenda_published", professional_id, session.id, now=now)
    db.session.flush()
    audit.record(
        "session.publish",
        "session",
        session.id,
        details={
            **cases_named(items),
            "notified": recipients,
        },
    )
