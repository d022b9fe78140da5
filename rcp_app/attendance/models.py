"""Who attended a session (on site or remote, quorum member or not) and the specialties a
case adds to its RCP's quorum rule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..directory.models import Professional
from ..extensions import db

MODES = {"on_site": "Sur place", "remote": "À distance"}


class Attendance(db.Model):
    __tablename__ = "attendances"
    __table_args__ = (
        CheckConstraint("mode IN ('on_site', 'remote')", name="mode_known"),
        CheckConstraint("left_at IS NULL OR left_at >= arrived_at", name="left_after_arrival"),
        UniqueConstraint("session_id", "professional_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_sessions.id", ondelete="CASCADE"), index=True
    )
    professional_id: Mapped[int] = mapped_column(
        ForeignKey("professionals.id", ondelete="RESTRICT"), index=True
    )
    mode: Mapped[str] = mapped_column(String(10), default="on_site")
    quorum_member: Mapped[bool] = mapped_column(default=True)
    arrived_at: Mapped[datetime] = mapped_column()  # naive UTC
    left_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    professional: Mapped[Professional] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def mode_label(self) -> str:
        return MODES.get(self.mode, self.mode)

    @property
    def present(self) -> bool:
        return self.left_at is None


class CaseRequiredSpecialty(db.Model):
    """A specialty a case needs on top of its RCP's rule (e.g. a pathologist)."""

    __tablename__ = "case_required_specialties"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    specialty_code: Mapped[str] = mapped_column(String(32), primary_key=True)
