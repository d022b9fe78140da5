"""Follow-up operations: open one when a fiche is first signed, record what became of the
proposal, send a deviation back to the RCP, and the audit rows of the pages.

Operations lock what they change, check, write, audit and flush; the request (or the reminder
run) commits.

The outcome's state machine is ``TRANSITIONS``. Started (as proposed or otherwise) and deceased
are final: a later change of treatment is a new situation for the RCP (« représenter »), not a
new answer to this proposal. A mistaken entry is corrected by the person who recorded it,
within ``CORRECTION_WINDOW`` of recording it and before it was sent back to the RCP: they
record the right outcome (any outcome, the same one with other details too). Past that
window the entry stands as the clinical trace it is (the audit log keeps each entry's codes
and dates).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..cases import display
from ..cases.models import Case
from ..cases.operations import create_case
from ..cases.validation import LONG_TEXT
from ..core import audit
from ..core.conflict import check_version
from ..core.errors import Conflict, DomainError
from ..core.patient_data import patient_ids
from ..core.timeutil import format_date, format_datetime, to_paris, utcnow
from ..extensions import db
from ..meetings.models import MeetingSession
from ..meetings.operations import ensure_upcoming_sessions
from . import outcomes, proposal
from .models import DEVIATIONS, STATES, FollowUp
from .outcomes import OUTCOMES

TERMINAL: frozenset[str] = frozenset()
TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset(
        {"started_as_proposed", "started_other", "not_started", "lost", "deceased"}
    ),
    "not_started": frozenset({"started_as_proposed", "started_other", "lost", "deceased"}),
    "lost": frozenset({"started_as_proposed", "started_other", "not_started", "deceased"}),
    "started_as_proposed": TERMINAL,
    "started_other": TERMINAL,
    "deceased": TERMINAL,
}
CORRECTION_WINDOW = timedelta(hours=24)
STALE = (
    "Ce suivi a été renseigné par un autre utilisateur pendant que vous le complétiez : rien "
    "n'a été enregistré. Relisez ce qu'il indique maintenant avant d'enregistrer."
)


class StaleFollowUp(Conflict):
    """The form was built from an older version of the follow-up."""


def can_transition(source: str, target: str) -> bool:
    return target in TRANSITIONS.get(source, TERMINAL)


def validation_day(follow_up: FollowUp) -> date:
    """The fiche's validation day in France: the follow-up opened then."""
    return to_paris(follow_up.opened_at).date()


# --- opening ---------------------------------------------------------------------------------


def open_follow_up(version, case: Case, rcp, now: datetime) -> FollowUp | None:
    """The follow-up of a decision whose fiche version 1 was just stored (same transaction);
    an amendment (version 2, 3…) opens none: the proposal's follow-up is already open."""
    fiche = version.fiche
    if version.version != 1 or db.session.scalar(
        select(FollowUp.id).where(FollowUp.decision_id == fiche.decision_id)
    ):
        return None
    follow_up = FollowUp(
        decision_id=fiche.decision_id,
        fiche_id=fiche.id,
        case_id=case.id,
        patient_id=case.patient_id,
        rcp_id=rcp.id,
        requester_id=case.requester_id,
        opened_at=now,
        due_on=to_paris(now).date() + timedelta(days=rcp.follow_up_days),
        state="pending",
    )
    db.session.add(follow_up)
    db.session.flush()
    audit.record(
        "followup.open",
        "follow_up",
        follow_up.id,
        patient_id=case.patient_id,
        details={
            "fiche_id": fiche.id,
            "requester_id": case.requester_id,
            "due_on": follow_up.due_on.isoformat(),
        },
    )
    return follow_up


# --- recording -------------------------------------------------------------------------------


def _lock(follow_up: FollowUp, expected_version) -> None:
    db.session.refresh(follow_up, with_for_update=True)
    check_version(expected_version, follow_up.version, StaleFollowUp(STALE))


def may_correct(follow_up: FollowUp, user, now: datetime | None = None) -> bool:
    """Whether ``user`` may still correct the outcome they recorded (see the docstring)."""
    now = now or utcnow()
    return (
        follow_up.state != "pending"
        and follow_up.recorded_by_id == user.id
        and follow_up.recorded_at is not None
        and now - follow_up.recorded_at <= CORRECTION_WINDOW
        and follow_up.represented_case_id is None
    )


def allowed_outcomes(follow_up: FollowUp, user, now: datetime | None = None) -> list[str]:
    """The outcomes ``user`` may record now, in display order (empty: nothing to record)."""
    if may_correct(follow_up, user, now):
        return list(OUTCOMES)
    return [code for code in OUTCOMES if can_transition(follow_up.state, code)]


def _refusal(follow_up: FollowUp, target: str) -> str:
    if not TRANSITIONS.get(follow_up.state):
        who = follow_up.recorded_by.display_name if follow_up.recorded_by else "un utilisateur"
        return (
            f"Le suivi est clos : « {follow_up.state_label} », enregistré le "
            f"{format_datetime(follow_up.recorded_at)} par {who}. Seule la personne qui l'a "
            "saisi peut le corriger, dans les 24 heures qui suivent."
        )
    return (
        f"Le suivi indique déjà « {follow_up.state_label} » : il ne peut pas passer à "
        f"« {STATES[target]} ». Choisissez une autre issue."
    )


def _frame(follow_up: FollowUp) -> outcomes.Frame:
    return outcomes.Frame(
        ranks=proposal.ranks(follow_up.decision),
        validated_on=validation_day(follow_up),
        born_on=follow_up.patient.birth_date,
    )


def record_outcome(
    follow_up: FollowUp, user, data: Mapping, expected_version, now: datetime | None = None
) -> bool:
    """Record what became of the proposal; True when it corrected the user's own entry."""
    now = now or utcnow()
    _lock(follow_up, expected_version)
    target = str(data.get("state") or "").strip()
    if target not in OUTCOMES:
        raise outcomes.FollowUpInvalid(
            {"state": ["Choisissez ce qu'il est advenu de la proposition de la RCP."]}
        )
    correction = not can_transition(follow_up.state, target)
    if correction and not may_correct(follow_up, user, now):
        raise Conflict(_refusal(follow_up, target), field="state")
    values = outcomes.checked_values(target, data, _frame(follow_up))
    previous = follow_up.state
    follow_up.state = target
    for name, value in values.items():
        setattr(follow_up, name, value)
    follow_up.recorded_at, follow_up.recorded_by_id = now, user.id
    db.session.flush()
    # Codes and dates only: the free texts stay in the follow-up (as for the case's audit).
    details = {
        "from": previous,
        "to": target,
        **{
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in values.items()
            if name in ("option_rank", "deviation_reason", "started_on", "event_on")
            and value is not None
        },
    }
    if correction:
        details["correction"] = True
    audit.record(
        "followup.record",
        "follow_up",
        follow_up.id,
        patient_id=follow_up.patient_id,
        details=details,
    )
    return correction


# --- back to the RCP -------------------------------------------------------------------------


def _next_session(rcp_id: int, now: datetime) -> MeetingSession | None:
    """The RCP's next planned session (late registration included: the secretariat decides)."""
    return db.session.scalars(
        select(MeetingSession)
        .where(
            MeetingSession.rcp_id == rcp_id,
            MeetingSession.status == "planned",
            MeetingSession.starts_at > now,
        )
        .order_by(MeetingSession.starts_at)
        .limit(1)
    ).first()


def represented_question(follow_up: FollowUp, previous_question: str) -> str:
    """The new case's question: why it comes back, then the question asked last time."""
    what = follow_up.state_label.lower()
    if follow_up.other_treatment:
        what += f" : {follow_up.other_treatment}"
    reason = follow_up.reason_label.lower()
    if follow_up.details:
        reason += f" ({follow_up.details})"
    head = (
        "Nouvelle présentation après un écart à la proposition de la RCP du "
        f"{format_date(follow_up.fiche.session.starts_at)} — {what} ; motif : {reason}. "
        "Quelle prise en charge proposer ?"
    )
    if not previous_question.strip():
        return head
    tail = f"\n\nQuestion posée lors de la présentation précédente : {previous_question.strip()}"
    return (head + tail)[:LONG_TEXT]


def represent(follow_up: FollowUp, user, expected_version, now: datetime | None = None) -> Case:
    """A new draft case for the same patient and RCP, filled from the previous case, whose
    question says which deviation brings it back; refused for anything but a deviation, and
    a second time."""
    now = now or utcnow()
    _lock(follow_up, expected_version)
    if follow_up.represented_case_id is not None:
        raise Conflict(
            f"Ce suivi a déjà été représenté en RCP : dossier n° {follow_up.represented_case_id}."
        )
    if follow_up.state not in DEVIATIONS:
        raise Conflict(
            "Seul un écart à la proposition (autre traitement commencé, traitement non "
            "commencé) se représente en RCP depuis le suivi."
        )
    previous, rcp = follow_up.case, follow_up.rcp
    ensure_upcoming_sessions(rcp, now=now)
    data = display.form_data(previous)
    session = _next_session(rcp.id, now)
    data["session_id"] = str(session.id) if session is not None else ""
    data["question"] = represented_question(follow_up, previous.question or "")
    try:
        case = create_case(follow_up.patient, rcp, user, data)
    except DomainError as refused:
        raise DomainError(
            "Le nouveau dossier n'a pas pu être préparé à partir du précédent : "
            f"{refused.message} Inscrivez le patient depuis « Inscrire un patient en RCP »."
        ) from None
    follow_up.represented_case_id = case.id
    db.session.flush()
    audit.record(
        "followup.represent",
        "follow_up",
        follow_up.id,
        patient_id=follow_up.patient_id,
        details={"case_id": case.id, "previous_case_id": previous.id, "state": follow_up.state},
    )
    return case


# --- pages -----------------------------------------------------------------------------------


def record_view(follow_up: FollowUp) -> None:
    audit.record(
        "followup.view",
        "follow_up",
        follow_up.id,
        patient_id=follow_up.patient_id,
        details={"state": follow_up.state},
    )


def record_list_view(items: list[FollowUp], view: str, page: int, **filters) -> None:
    """A list names the patients it shows."""
    audit.record(
        "followup.list",
        "follow_up",
        None,
        details={
            "view": view,
            "page": page,
            **filters,
            "follow_ups": [f.id for f in items],
            "patients": patient_ids(f.patient_id for f in items),
        },
    )
