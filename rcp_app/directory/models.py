from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.text import search_key
from ..extensions import db

WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]

# Category of a health establishment (XDS healthcareFacilityTypeCode, CDA healthCareFacility
# code): value set JDV_J02_XdsHealthcareFacilityTypeCode_CISIS, code system TRE_R66 (FINESS
# categories, 1.2.250.1.71.4.2.4). Once the official file is imported its concepts are offered;
# until then, the categories of establishments that hold RCPs, labels copied exactly.
FACILITY_TYPE_VALUE_SET = "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS"
FACILITY_TYPE_SYSTEM = "1.2.250.1.71.4.2.4"
FACILITY_TYPES = {
    "SA01": "Etablissement public de santé",
    "SA02": "Hôpital militaire du Service de santé des armées",
    "SA03": "Etablissement privé PSPH",
    "SA04": "Etablissement privé non PSPH",
    "SA05": "Centre de santé",
    "SA30": "Autre établissement sanitaire",
    "SA36": "Centre anti-cancer",
    "SA51": "Structure de coopération avec autorisation de soins",
}
# Rows that existed before the category was recorded (migration 0014) got this one: most
# establishments holding RCPs are public hospitals; the others are corrected in the form.
DEFAULT_FACILITY_TYPE = "SA01"


class Establishment(db.Model):
    __tablename__ = "establishments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    finess: Mapped[str] = mapped_column(String(9), unique=True)
    city: Mapped[str] = mapped_column(String(120), default="")
    # MSSanté address of the regional cancer record (DCC) the establishment's fiches go to.
    dcc_address: Mapped[str | None] = mapped_column(String(254))
    facility_type_code: Mapped[str] = mapped_column(
        String(16), default=DEFAULT_FACILITY_TYPE, server_default=DEFAULT_FACILITY_TYPE
    )
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
        CheckConstraint(
            "follow_up_days >= 1 AND follow_up_days <= 365", name="follow_up_days_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The application's own identifier of the RCP (CDA: local identifier of the RCP).
    national_id: Mapped[str] = mapped_column(String(64), unique=True)
    # National identifiers the FRCP encounter carries (CI-SIS FRCP, componentOf): the regional
    # cancer network (DSRC, formerly RRC), the RCP manager it registered, and the RCP itself.
    # Empty until the network has assigned them (the CDA then says "unknown").
    network_id: Mapped[str | None] = mapped_column(String(16))
    manager_id: Mapped[str | None] = mapped_column(String(16))
    registry_id: Mapped[str | None] = mapped_column(String(16), unique=True)
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
    # Days after a fiche's validation within which the referring physician records what became
    # of the proposal (followups/); a reminder is sent once they have passed.
    follow_up_days: Mapped[int] = mapped_column(default=30, server_default="30")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    establishment: Mapped[Establishment] = relationship()
    coordinator: Mapped[Professional | None] = relationship()
    required_specialties: Mapped[list[RcpRequiredSpecialty]] = relationship(
        cascade="all, delete-orphan", order_by="RcpRequiredSpecialty.specialty_code"
    )
    # Physicians the RCP delegates fiche validation to, besides its coordinator (fiches).
    validators: Mapped[list[RcpValidator]] = relationship(
        cascade="all, delete-orphan", order_by="RcpValidator.professional_id"
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


class RcpValidator(db.Model):
    """A physician an RCP delegates fiche validation to, besides its coordinator (RCP
    membership: the fiches package reads it, the directory's RCP form sets it)."""

    __tablename__ = "rcp_validators"

    rcp_id: Mapped[int] = mapped_column(ForeignKey("rcps.id", ondelete="CASCADE"), primary_key=True)
    professional_id: Mapped[int] = mapped_column(
        ForeignKey("professionals.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


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


def _imported_facility_types() -> list:
    from ..terminology.models import active_concepts

    return [
        c for c in active_concepts(FACILITY_TYPE_VALUE_SET) if c.code_system == FACILITY_TYPE_SYSTEM
    ]


def facility_type_choices() -> list[tuple[str, str]]:
    """The establishment categories offered: the imported value set, else the built-in subset."""
    imported = _imported_facility_types()
    if imported:
        return [(c.code, c.label) for c in imported]
    return list(FACILITY_TYPES.items())


def facility_type_coded(code: str | None) -> dict:
    """{code, system, label, display} of a category, named as the value set (imported or built
    in)."""
    from ..terminology.models import find_concept

    code = code or DEFAULT_FACILITY_TYPE
    concept = find_concept(FACILITY_TYPE_VALUE_SET, code, active_only=False)
    if concept is not None:
        label = concept.label
        return {
            "code": concept.code,
            "system": concept.code_system,
            "label": label,
            "display": label,
        }
    label = FACILITY_TYPES.get(code, code)  # the built-in labels are the official ones
    return {"code": code, "system": FACILITY_TYPE_SYSTEM, "label": label, "display": label}
