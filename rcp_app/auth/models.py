from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..config import ROLES
from ..extensions import db

if TYPE_CHECKING:
    from ..directory.models import Professional

ROLE_LABELS = {
    "admin": "Administrateur",
    "coordinator": "Coordination (3C / secrétariat RCP)",
    "physician": "Médecin spécialiste",
    "gp": "Médecin traitant / correspondant",
    "dpo": "Délégué à la protection des données",
}


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(160))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    professional_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="SET NULL"), unique=True
    )
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column()
    # Last accepted TOTP time-step: a code is refused if replayed within its window.
    totp_last_step: Mapped[int | None] = mapped_column()
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    # Bumped on password change or deactivation so that other sessions are logged out.
    session_token: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(default=1)

    professional: Mapped[Professional | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: invalidated when session_token changes
        return f"{self.id}:{self.session_token}"

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


class LoginAttempt(db.Model):
    """Failed and successful logins, used to throttle by address and for the security log."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    username: Mapped[str] = mapped_column(String(120))
    ip: Mapped[str | None] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column()
