"""One dated session of an RCP (the directory's Rcp is the standing series)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
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
