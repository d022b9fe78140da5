"""Session calendar: the next sessions of an RCP, generated from its weekday and start time.

Sessions are planned in Europe/Paris local time (an RCP meets "every Tuesday at 14h00" in
summer and in winter) and stored as naive UTC; the submission deadline is ``deadline_hours``
before the start.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..core import audit
from ..core.timeutil import PARIS, utcnow
from ..directory.models import Rcp
from ..extensions import db
from .models import MeetingSession

# How far ahead a calendar is generated at most (a weekly RCP needs 6 weeks for 6 sessions).
HORIZON_DAYS = 7 * 26


def local_to_utc(local: datetime) -> datetime:
    """A naive Europe/Paris wall-clock time -> naive UTC."""
    return local.replace(tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)


def next_start_times(rcp: Rcp, count: int, now: datetime) -> list[datetime]:
    """The next ``count`` start times (naive UTC, after ``now``) of a weekly RCP."""
    if rcp.weekday is None or rcp.start_time is None:
        return []
    today = now.replace(tzinfo=UTC).astimezone(PARIS).date()
    starts = []
    day = today + timedelta(days=(rcp.weekday - today.weekday()) % 7)
    while len(starts) < count and (day - today).days <= HORIZON_DAYS:
        start = local_to_utc(datetime.combine(day, rcp.start_time))
        if start > now:
            starts.append(start)
        day += timedelta(days=7)
    return starts


def ensure_upcoming_sessions(rcp: Rcp, count: int = 6, now: datetime | None = None) -> list:
    """Create the missing sessions among the next ``count`` ones; idempotent.

    Returns the sessions created (usually none). An inactive RCP or one without a fixed
    weekday and start time gets none. A session created at the same moment by another request
    is not an error: the unique (rcp, start) constraint keeps one.
    """
    if not rcp.active:
        return []
    now = now or utcnow()
    wanted = next_start_times(rcp, count, now)
    if not wanted:
        return []
    existing = set(
        db.session.scalars(
            select(MeetingSession.starts_at).where(
                MeetingSession.rcp_id == rcp.id, MeetingSession.starts_at.in_(wanted)
            )
        )
    )
    created = []
    for starts_at in wanted:
        if starts_at in existing:
            continue
        session = MeetingSession(
            rcp_id=rcp.id,
            starts_at=starts_at,
            deadline_at=starts_at - timedelta(hours=rcp.deadline_hours),
            place=rcp.place or "",
            video_url=rcp.video_url,
            capacity=rcp.capacity,
            status="planned",
            created_at=now,
        )
        try:
            with db.session.begin_nested():
                db.session.add(session)
        except IntegrityError:
            continue  # created meanwhile by a concurrent request
        created.append(session)
    if created:
        audit.record(
            "session.generate",
            "rcp",
            rcp.id,
            details={"starts_at": [s.starts_at.isoformat() for s in created]},
        )
    db.session.flush()
    return created


def upcoming_sessions(
    rcp_id: int, now: datetime | None = None, statuses: tuple[str, ...] = ("planned",)
) -> list[MeetingSession]:
    """Sessions of the RCP that have not started (planned ones by default), soonest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(MeetingSession)
            .where(
                MeetingSession.rcp_id == rcp_id,
                MeetingSession.status.in_(statuses),
                MeetingSession.starts_at > now,
            )
            .order_by(MeetingSession.starts_at)
        )
    )


def default_session(rcp_id: int, now: datetime | None = None) -> MeetingSession | None:
    """The next planned session whose submission deadline has not passed."""
    now = now or utcnow()
    return db.session.scalars(
        select(MeetingSession)
        .where(
            MeetingSession.rcp_id == rcp_id,
            MeetingSession.status == "planned",
            MeetingSession.deadline_at >= now,
        )
        .order_by(MeetingSession.starts_at)
        .limit(1)
    ).first()
