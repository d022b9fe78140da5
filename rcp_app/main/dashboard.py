"""What the home pages show: a physician's own cases, and each RCP's next session.

Read side only, with a constant number of SQL queries whatever the number of cases and RCPs.
Listing patients' cases is audited ("case.list", like the case list); the session summaries
show counts only.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..access import care_team
from ..cases import completeness, queries
from ..core.pagination import Page
from ..core.timeutil import utcnow
from ..directory.models import Rcp
from ..extensions import db
from ..meetings.models import OPEN_STATUSES, MeetingSession

# How many of their cases a physician sees on the home page (the case list has them all).
RECENT_CASES = 20


@dataclass
class RcpSummary:
    rcp: Rcp
    session: MeetingSession | None
    submitted: int = 0
    incomplete: int = 0
    late: int = 0

    @property
    def over_capacity(self) -> bool:
        return self.session is not None and self.submitted > self.session.capacity


def my_cases(user) -> tuple[Page, dict[int, list[str]]]:
    """The most recent cases the user created or requested, and what each one lacks."""
    stmt = queries.list_statement(None, None, user.id, user.professional_id, user=user)
    page = queries.list_cases(
        stmt, 1, RECENT_CASES, {"mine": True, "view": "home"}, audit_empty=False
    )
    return page, completeness.missing_by_case(page.items)


def active_rcps(
    coordinator_id: int | None = None, *, only_coordinated: bool = False, run_by=None
) -> list:
    """Active RCPs by name; with ``only_coordinated``, those the professional coordinates;
    with ``run_by``, those that coordinator (secretariat) runs (rcp_app/access)."""
    if only_coordinated and coordinator_id is None:
        return []
    stmt = (
        select(Rcp)
        .where(Rcp.active.is_(True))
        .options(joinedload(Rcp.establishment))
        .order_by(Rcp.name, Rcp.id)
    )
    if only_coordinated:
        stmt = stmt.where(Rcp.coordinator_id == coordinator_id)
    if run_by is not None:
        stmt = stmt.where(Rcp.id.in_(care_team.scoped_rcp_ids(run_by)))
    return list(db.session.scalars(stmt))


def next_sessions(rcp_ids: list[int], now: datetime) -> dict[int, MeetingSession]:
    """The next open session of each RCP (one query)."""
    if not rcp_ids:
        return {}
    upcoming = (
        MeetingSession.rcp_id.in_(rcp_ids),
        MeetingSession.status.in_(OPEN_STATUSES),
        MeetingSession.starts_at > now,
    )
    first = (
        select(MeetingSession.rcp_id, func.min(MeetingSession.starts_at).label("starts_at"))
        .where(*upcoming)
        .group_by(MeetingSession.rcp_id)
        .subquery()
    )
    stmt = select(MeetingSession).join(
        first,
        (MeetingSession.rcp_id == first.c.rcp_id) & (MeetingSession.starts_at == first.c.starts_at),
    )
    return {session.rcp_id: session for session in db.session.scalars(stmt)}


def rcp_summaries(rcps: list[Rcp], now: datetime | None = None) -> list[RcpSummary]:
    """Per RCP: its next session, the cases submitted to it, how many are incomplete or late."""
    sessions = next_sessions([rcp.id for rcp in rcps], now or utcnow())
    # Submitted cases waiting for the agenda, those on it, those postponed to this session.
    cases = queries.cases_in_sessions(
        [s.id for s in sessions.values()], ("submitted", "scheduled", "postponed")
    )
    missing = completeness.missing_by_case(cases)
    submitted, incomplete, late = Counter(), Counter(), Counter()
    for case in cases:
        submitted[case.session_id] += 1
        incomplete[case.session_id] += bool(missing[case.id])
        late[case.session_id] += case.is_late
    summaries = []
    for rcp in rcps:
        session = sessions.get(rcp.id)
        summary = RcpSummary(rcp, session)
        if session is not None:
            summary.submitted = submitted[session.id]
            summary.incomplete = incomplete[session.id]
            summary.late = late[session.id]
        summaries.append(summary)
    return summaries


def fiches_to_validate(professional_id: int | None) -> list[tuple]:
    """(session, number of decisions ready for validation) in the RCPs this physician
    validates (as coordinator or delegate), oldest session first; one query."""
    from ..decisions.models import Decision
    from ..directory.models import RcpValidator
    from ..meetings.models import AgendaItem

    if professional_id is None:
        return []
    delegated = select(RcpValidator.rcp_id).where(RcpValidator.professional_id == professional_id)
    rows = db.session.execute(
        select(MeetingSession, func.count(Decision.id))
        .join(AgendaItem, AgendaItem.session_id == MeetingSession.id)
        .join(Decision, Decision.item_id == AgendaItem.id)
        .join(Rcp, Rcp.id == MeetingSession.rcp_id)
        .where(
            Decision.state == "ready_for_validation",
            MeetingSession.status.in_(("in_progress", "closed")),
            or_(Rcp.coordinator_id == professional_id, Rcp.id.in_(delegated)),
        )
        .group_by(MeetingSession.id)
        .order_by(MeetingSession.starts_at)
    )
    return [(session, count) for session, count in rows]
