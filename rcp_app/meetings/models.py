"""One dated session of an RCP (the directory's Rcp is the standing series), its agenda lines
and its notifications. The agenda's operations, which move cases, are in ``rcp_app/agenda``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..directory.models import Rcp
from ..extensions import db

SESSION_STATUSES = {
    "planned": "Planifiée",
    "agenda_published": "Ordre du jour publié",
    "in_progress": "En cours",
    "closed": "Close",
}
# Sessions still to come whose cases are being prepared.
OPEN_STATUSES = ("planned", "agenda_published")
# From this status on, the agenda is frozen: registered cases can no longer be edited.
FROZEN_STATUSES = frozenset({"agenda_published", "in_progress", "closed"})
# status -> statuses a session may move to (publishing is agenda.operations.publish).
SESSION_TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"agenda_published"}),
    "agenda_published": frozenset({"in_progress"}),
    "in_progress": frozenset({"closed"}),
    "closed": frozenset(),
}
ITEM_MODES = {"discussed": "Discuté", "registered": "Enregistré"}
NOTIFICATION_KINDS = ("agenda_published", "case_scheduled", "case_postponed", "case_refused")


def can_transition(current: str, target: str) -> bool:
    return target in SESSION_TRANSITIONS.get(current, frozenset())


class MeetingSession(db.Model):
    __tablename__ = "meeting_sessions"
    __table_args__ = (
        CheckConstraint(
            "status IN ('planned', 'agenda_published', 'in_progress', 'closed')",
            name="status_known",
        ),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("deadline_at <= starts_at", name="deadline_before_start"),
        UniqueConstraint("rcp_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rcp_id: Mapped[int] = mapped_column(ForeignKey("rcps.id", ondelete="RESTRICT"), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)  # naive UTC
    deadline_at: Mapped[datetime] = mapped_column()  # naive UTC
    place: Mapped[str] = mapped_column(String(200), default="")
    video_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(default=20)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    created_at: Mapped[datetime] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()
    # Bumped by every agenda change: a reorder sent with an older number is refused.
    agenda_version: Mapped[int] = mapped_column(default=1, server_default="1")
    version: Mapped[int] = mapped_column(default=1)

    rcp: Mapped[Rcp] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return SESSION_STATUSES.get(self.status, self.status)

    @property
    def agenda_frozen(self) -> bool:
        return self.status in FROZEN_STATUSES

    def deadline_passed(self, now: datetime) -> bool:
        return now > self.deadline_at


class AgendaItem(db.Model):
    """A case on a session's agenda, at a position (1, 2, …)."""

    __tablename__ = "agenda_items"
    __table_args__ = (
        UniqueConstraint("case_id"),
        CheckConstraint("mode IN ('discussed', 'registered')", name="mode_known"),
        CheckConstraint(
            "mode <> 'registered' OR (guideline IS NOT NULL AND guideline <> '')",
            name="registered_has_guideline",
        ),
        CheckConstraint(
            "estimated_minutes >= 1 AND estimated_minutes <= 240", name="estimate_range"
        ),
        CheckConstraint("position >= 1", name="position_positive"),
        CheckConstraint(
            "NOT override_incomplete OR (override_reason IS NOT NULL AND override_reason <> '')",
            name="override_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_sessions.id", ondelete="RESTRICT"), index=True
    )
    # Indexed: the care team's « present at a session that discussed the case » path
    # (rcp_app/access) goes from a patient's cases to their agenda lines.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column()
    mode: Mapped[str] = mapped_column(String(12), default="discussed")
    guideline: Mapped[str | None] = mapped_column(String(300))
    estimated_minutes: Mapped[int] = mapped_column(default=5)
    late_addition: Mapped[bool] = mapped_column(default=False)
    override_incomplete: Mapped[bool] = mapped_column(default=False)
    override_reason: Mapped[str | None] = mapped_column(Text)
    added_at: Mapped[datetime] = mapped_column()

    session: Mapped[MeetingSession] = relationship()
    case = relationship("Case")

    @property
    def mode_label(self) -> str:
        return ITEM_MODES.get(self.mode, self.mode)


def planned_minutes(items: list[AgendaItem]) -> int:
    """The agenda's estimated length (page and PDF)."""
    return sum(item.estimated_minutes for item in items)


class Notification(db.Model):
    """Outbox: an event to tell a professional about; the delivery issue sends them."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in NOTIFICATION_KINDS) + ")",
            name="kind_known",
        ),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("professionals.id", ondelete="RESTRICT"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_sessions.id", ondelete="RESTRICT"), index=True
    )
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
