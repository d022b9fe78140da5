"""Session calendar: the next sessions of an RCP, generated from its weekday and start time.

Sessions are planned in Europe/Paris local time (an RCP meets "every Tuesday at 14h00" in
summer and in winter) and stored as naive UTC; the submission deadline is ``deadline_hours``
before the start.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..core import audit, signals
from ..core.conflict import check_version
from ..core.converters import parse_int
from ..core.errors import Conflict, DomainError
from ..core.links import clean_link, safe_link
from ..core.timeutil import PARIS, utcnow
from ..directory.models import Rcp
from ..extensions import db
from .models import SESSION_STATUSES, AgendaItem, MeetingSession, can_transition

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
            video_url=safe_link(rcp.video_url),
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


@signals.rcp_saved.connect
def _plan_sessions(rcp: Rcp) -> None:
    """The directory saved an RCP (core/signals.py): plan its next sessions."""
    ensure_upcoming_sessions(rcp)


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


# --- coordinator actions on sessions ---------------------------------------------------------

MAX_GENERATE = 26


def generate(rcp: Rcp, raw_count, now: datetime | None = None) -> list:
    """The coordinator's "generate the next N sessions" (from the RCP's weekday and time)."""
    count = parse_int(raw_count, 1, MAX_GENERATE)
    if count is None:
        raise DomainError(
            f"Nombre de séances : un entier entre 1 et {MAX_GENERATE}.", field="count"
        )
    if not rcp.active:
        raise DomainError("Cette RCP est inactive.", field="count")
    if rcp.weekday is None or rcp.start_time is None:
        raise DomainError(
            "Cette RCP n'a pas de jour et d'heure fixes : créez ses séances une à une.",
            field="count",
        )
    return ensure_upcoming_sessions(rcp, count, now)


def _check_times(starts_at: datetime, deadline_at: datetime) -> None:
    if deadline_at > starts_at:
        raise DomainError(
            "La date limite d'inscription doit précéder le début de la séance.",
            field="deadline_date",
        )


def _check_unique(rcp_id: int, starts_at: datetime, session_id: int | None = None) -> None:
    other = db.session.scalar(
        select(MeetingSession.id).where(
            MeetingSession.rcp_id == rcp_id, MeetingSession.starts_at == starts_at
        )
    )
    if other is not None and other != session_id:
        raise DomainError("Une séance de cette RCP existe déjà à cette date et heure.", "date")


def create_session(rcp: Rcp, values: dict, now: datetime | None = None) -> MeetingSession:
    """An ad hoc session; ``values``: starts_at, deadline_at (naive UTC), place, video_url,
    capacity."""
    now = now or utcnow()
    values = {**values, "video_url": clean_link(values.get("video_url"))}
    _check_times(values["starts_at"], values["deadline_at"])
    _check_unique(rcp.id, values["starts_at"])
    session = MeetingSession(rcp_id=rcp.id, status="planned", created_at=now, **values)
    db.session.add(session)
    db.session.flush()
    audit.record("session.create", "session", session.id, details={"rcp_id": rcp.id, **values})
    return session


STALE_SESSION = "La séance a été modifiée entre-temps par un autre utilisateur : rechargez la page."


def update_session(session: MeetingSession, values: dict, expected_version) -> None:
    check_version(expected_version, session.version, STALE_SESSION)
    if session.status != "planned":
        raise Conflict("Seule une séance planifiée peut être modifiée.")
    values = {**values, "video_url": clean_link(values.get("video_url"))}
    _check_times(values["starts_at"], values["deadline_at"])
    _check_unique(session.rcp_id, values["starts_at"], session.id)
    count = db.session.scalar(
        select(func.count(AgendaItem.id)).where(AgendaItem.session_id == session.id)
    )
    if values["capacity"] < count:
        raise DomainError(
            f"L'ordre du jour compte déjà {count} dossiers : la capacité ne peut pas être "
            "inférieure.",
            field="capacity",
        )
    before = {k: getattr(session, k) for k in values}
    for key, value in values.items():
        setattr(session, key, value)
    db.session.flush()
    audit.record("session.update", "session", session.id, details={"before": before, **values})


def change_status(session: MeetingSession, target: str, expected_version) -> None:
    """in_progress / closed (publishing is agenda.operations.publish)."""
    if target not in SESSION_STATUSES:
        raise DomainError("Statut de séance inconnu.")
    check_version(expected_version, session.version, STALE_SESSION)
    if target == "agenda_published" or not can_transition(session.status, target):
        raise Conflict(
            f"La séance est « {session.status_label.lower()} » : elle ne peut pas passer à "
            f"« {SESSION_STATUSES[target].lower()} »."
        )
    if target == "closed":
        # The decisions package refuses while an item has no ready decision (core/signals.py).
        signals.send(signals.session_closing, session)
    previous = session.status
    session.status = target
    db.session.flush()
    audit.record("session.status", "session", session.id, details={"from": previous, "to": target})
