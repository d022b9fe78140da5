"""After last week's breast RCP session (past_session.py): the care programmes (PPS) written by
the referring physician and what became of each proposal, through the operations the pages
use — pps.operations (open, save, validate and sign, amend) and followups.operations
(record_outcome, represent). aftercare_data.py says what happens.

The follow-ups opened themselves when the fiches were signed (followups/subscriptions.py).
One is left pending past its due day, which a fiche signed last week cannot be: its opening and
its due day are moved back together, by the RCP's follow-up delay and a week, so that the due
day stays that delay after the opening (the year of history, when loaded, has naturally overdue
follow-ups too).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..auth.models import User
from ..core.dates import today
from ..core.timeutil import to_paris
from ..directory.models import Rcp
from ..extensions import db
from ..fiches.models import Fiche
from ..followups import operations as followups
from ..followups.models import FollowUp
from ..followups.outcomes import STARTED
from ..meetings.models import AgendaItem, MeetingSession
from ..pps import operations as pps
from ..pps.models import CarePlan
from .aftercare_data import AMENDMENT, CASES, DRAFT_PLAN, NURSE, VALIDATED_PLAN, Aftercare

OVERDUE_BY = timedelta(days=7)
EVENTS = ("lost", "deceased")


def add_aftercare(rcp: Rcp, now: datetime) -> dict:
    """The programmes and follow-ups of the RCP's last past session; returns the counts."""
    rows = _signed_in_agenda_order(_last_session(rcp, now))
    (first, _), (second, _) = rows[:2]
    _validated_plan(first, now)
    _draft_plan(second, now)
    recorded = represented = 0
    for (_, follow_up), plan in zip(rows[2:], CASES, strict=True):
        recorded += _follow(follow_up, plan, now)
        represented += plan.represent
    return {
        "PPS validé et signé": 1,
        "PPS en brouillon": 1,
        "suivis renseignés": recorded,
        "dossier représenté": represented,
    }


def _last_session(rcp: Rcp, now: datetime) -> MeetingSession:
    return db.session.scalars(
        select(MeetingSession)
        .where(
            MeetingSession.rcp_id == rcp.id,
            MeetingSession.status == "closed",
            MeetingSession.starts_at < now,
        )
        .order_by(MeetingSession.starts_at.desc())
        .limit(1)
    ).one()


def _signed_in_agenda_order(session: MeetingSession) -> list[tuple[Fiche, FollowUp]]:
    rows = db.session.execute(
        select(Fiche, FollowUp)
        .join(FollowUp, FollowUp.fiche_id == Fiche.id)
        .join(AgendaItem, AgendaItem.case_id == Fiche.case_id)
        .where(Fiche.session_id == session.id)
        .order_by(AgendaItem.position)
    ).all()
    return [tuple(row) for row in rows]


def referring_physician(case) -> User:
    """The account of the case's referring physician (who writes the PPS, records the
    follow-up)."""
    return db.session.scalars(
        select(User).where(User.professional_id == case.requester_id, User.role == "physician")
    ).one()


def _day(days: int) -> str:
    return (today() + timedelta(days=days)).strftime("%d/%m/%Y")


def _plan_data(plan: CarePlan, spec: dict, keep_treatments: bool = False) -> dict:
    """The draft's operation input: the pre-filled draft, ``spec``'s sections over it (its
    dates given in days from today)."""
    data = {**plan.draft_dict(), **{k: v for k, v in spec.items() if k != "treatments"}}
    treatments = [
        {**row, "planned_start": _day(row["planned_start"])} for row in spec["treatments"]
    ]
    data["treatments"] = (data["treatments"] if keep_treatments else []) + treatments
    appointments = spec.get("appointments", [])
    data["appointments"] = [{**row, "date": _day(row["date"])} for row in appointments]
    data["referent_id"] = str(data["referent_id"])
    return data


def _validated_plan(fiche: Fiche, now: datetime) -> None:
    """Written and signed at the announcement consultation, then updated: the surgery moved."""
    user = referring_physician(fiche.case)
    plan = pps.open_plan(fiche, user, now - timedelta(hours=4))
    data = _plan_data(plan, {**VALIDATED_PLAN, **NURSE})
    pps.save_draft(plan, user, data, plan.lock_version, now - timedelta(hours=4))
    pps.validate(plan, user, now=now - timedelta(hours=3))
    pps.start_amendment(plan, user, plan.lock_version)
    later = {
        **VALIDATED_PLAN,
        "treatments": [
            {**row, "planned_start": row["planned_start"] + AMENDMENT["postpone_days"]}
            for row in VALIDATED_PLAN["treatments"]
        ],
    }
    pps.save_draft(plan, user, _plan_data(plan, later), plan.lock_version, now - timedelta(hours=1))
    pps.validate(plan, user, AMENDMENT["reason"], AMENDMENT["motive"], now - timedelta(hours=1))


def _draft_plan(fiche: Fiche, now: datetime) -> None:
    """Opened after the first (its contacts carried over), not finished yet."""
    user = referring_physician(fiche.case)
    plan = pps.open_plan(fiche, user, now)
    data = _plan_data(plan, DRAFT_PLAN, keep_treatments=True)
    pps.save_draft(plan, user, data, plan.lock_version, now)


def _move_back(follow_up: FollowUp) -> None:
    delay = timedelta(days=follow_up.rcp.follow_up_days)
    follow_up.opened_at -= delay + OVERDUE_BY
    follow_up.due_on = to_paris(follow_up.opened_at).date() + delay
    db.session.flush()


def outcome_day(follow_up: FollowUp, days: int, recorded_on: date) -> str:
    """``days`` after the validation day, never after the day the outcome is recorded."""
    day = followups.validation_day(follow_up) + timedelta(days=days)
    return min(day, recorded_on).strftime("%d/%m/%Y")


def _follow(follow_up: FollowUp, plan: Aftercare, now: datetime) -> int:
    """Record what the referring physician says (1), or leave it pending (0)."""
    if plan.overdue:
        _move_back(follow_up)
    if plan.outcome is None:
        return 0
    user = referring_physician(follow_up.case)
    data = dict(plan.outcome)
    day = outcome_day(follow_up, plan.days, to_paris(now).date())
    if data["state"] in STARTED:
        data["started_on"] = day
    elif data["state"] in EVENTS:
        data["event_on"] = day
    followups.record_outcome(follow_up, user, data, follow_up.version, now)
    if plan.represent:
        followups.represent(follow_up, user, follow_up.version, now)
    return 1
