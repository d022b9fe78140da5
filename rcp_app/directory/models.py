from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.text import search_key
from ..extensions import db

WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


class Establishment(db.Model):
    __tablename__ = "establishments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    finess: Mapped[str] = mapped_column(String(9), unique=True)
    city: Mapped[str] = mapped_column(String(120), default="")
    # MSSanté address of the regional cancer record (DCC) the establishment's fiches go to.
    dcc_address: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class Professional(db.Model):
    __tablename__ = "professionals"

    id: Mapped[int] = mapped_column(primary_key=True)
    rpps: Mapped[str] = mapped_column(String(11), unique=True)
    title: Mapped[str] = mapped_column(String(10), default="Dr")
    last_name: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120))
    last_name_key: Mapped[str] = mapped_column(String(120), index=True)
    specialty_code: Mapped[str] = mapped_column(String(32))
    mssante_address: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("establishments.id", ondelete="RESTRICT"), index=True
    )
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    establishment: Mapped[Establishment | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def display_name(self) -> str:
        """'Dr MARTIN Claire' — French medical convention, family name first in capitals."""
        return f"{self.title} {self.last_name.upper()} {self.first_name}".strip()


class Rcp(db.Model):
    """A standing RCP of the directory (the meeting series, not one session)."""

    __tablename__ = "rcps"
    __table_args__ = (
        CheckConstraint("nature IN ('organ', 'transversal')", name="nature_known"),
        CheckConstraint(
            "(nature = 'organ' AND appareil_code IS NOT NULL AND theme_code IS NULL)"
            " OR (nature = 'transversal' AND theme_code IS NOT NULL AND appareil_code IS NULL)",
            name="nature_matches_code",
        ),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("deadline_hours >= 0", name="deadline_non_negative"),
        CheckConstraint("min_specialties >= 1", name="min_specialties_positive"),
        CheckConstraint("weekday IS NULL OR (weekday >= 0 AND weekday <= 6)", name="weekday_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    national_id: Mapped[str] = mapped_column(String(64), unique=True)
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="RESTRICT"), index=True
    )
    nature: Mapped[str] = mapped_column(String(12))
    appareil_code: Mapped[str | None] = mapped_column(String(32))
    theme_code: Mapped[str | None] = mapped_column(String(32))
    is_recourse: Mapped[bool] = mapped_column(default=False)
    is_paediatric: Mapped[bool] = mapped_column(default=False)
    coordinator_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="RESTRICT"), index=True
    )
    weekday: Mapped[int | None] = mapped_column()
    start_time: Mapped[time | None] = mapped_column()
    place: Mapped[str] = mapped_column(String(200), default="")
    video_url: Mapped[str | None] = mapped_column(String(500))
    capacity: Mapped[int] = mapped_column(default=20)
    deadline_hours: Mapped[int] = mapped_column(default=48)
    min_specialties: Mapped[int] = mapped_column(default=3)
    notes: Mapped[str] = mapped_column(Text, default="")
    # DCC address for this RCP's fiches, when it differs from its establishment's.
    dcc_address: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    establishment: Mapped[Establishment] = relationship()
    coordinator: Mapped[Professional | None] = relationship()
    required_specialties: Mapped[list[RcpRequiredSpecialty]] = relationship(
        cascade="all, delete-orphan", order_by="RcpRequiredSpecialty.specialty_code"
    )
    # Physicians the RCP delegates fiche validation to, besides its coordinator (fiches).
    validators = relationship(
        "RcpValidator", cascade="all, delete-orphan", order_by="RcpValidator.professional_id"
    )
    # Usual participants: invited to every session (published agenda, .ics).
    members: Mapped[list[RcpMember]] = relationship(
        cascade="all, delete-orphan", order_by="RcpMember.professional_id"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def member_ids(self) -> list[int]:
        return [m.professional_id for m in self.members]

    @property
    def validator_ids(self) -> list[int]:
        return [v.professional_id for v in self.validators]

    @property
    def required_specialty_codes(self) -> list[str]:
        return [r.specialty_code for r in self.required_specialties]

    @property
    def rhythm_label(self) -> str:
        if self.weekday is None:
            return "Sans jour fixe"
        when = f"le {WEEKDAYS[self.weekday]}"
        if self.start_time:
            when += f" à {self.start_time:%H}h{self.start_time:%M}"
        return when


class RcpMember(db.Model):
    """A usual participant of an RCP, invited to each of its sessions."""

    __tablename__ = "rcp_members"

    rcp_id: Mapped[int] = mapped_column(ForeignKey("rcps.id", ondelete="CASCADE"), primary_key=True)
    professional_id: Mapped[int] = mapped_column(
        ForeignKey("professionals.id", ondelete="RESTRICT"), primary_key=True, index=True
    )

    professional: Mapped[Professional] = relationship()


class RcpRequiredSpecialty(db.Model):
    __tablename__ = "rcp_required_specialties"

    rcp_id: Mapped[int] = mapped_column(ForeignKey("rcps.id", ondelete="CASCADE"), primary_key=True)
    specialty_code: Mapped[str] = mapped_column(String(32), primary_key=True)


def quorum_rule_label(rcp: Rcp, specialty_labels: dict[str, str]) -> str:
    """« Quorum : au moins 3 spécialités distinctes, dont Oncologie médicale, Radiothérapie ».

    Required specialties are distinct by definition, so the effective minimum is the larger of
    the configured minimum and the number of required specialties.
    """
    required = sorted(
        (specialty_labels.get(code, code) for code in rcp.required_specialty_codes),
        key=search_key,
    )
    minimum = max(rcp.min_specialties, len(required))
    plural = "s" if minimum > 1 else ""
    rule = f"Quorum : au moins {minimum} spécialité{plural} distincte{plural}"
    if required:
        rule += ", dont " + ", ".join(required)
    return rule
