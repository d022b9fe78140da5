"""A case presented to an RCP, with its tumours, treatments and attachments (FRCP data set).

Coded values are stored as codes of the value sets named in terminology/builtin.py. Rules
that tie the status to the data are CHECK constraints too (a submitted case has its question,
its synthesis and its GP or an explicit "unknown").
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..directory.models import Professional, Rcp
from ..extensions import db
from ..meetings.models import MeetingSession
from ..patients.models import Patient
from .status import STATUS_LABELS, status_check_sql

TREATMENT_STATUSES = {"done": "Réalisé", "ongoing": "En cours", "not_done": "Non réalisé"}
DISCOVERY = {"yes": "Oui", "no": "Non", "unknown": "Inconnu"}
ATTACHMENT_KINDS = {
    "pathology": "Compte rendu d'anatomopathologie",
    "imaging": "Imagerie",
    "letter": "Courrier",
    "other": "Autre",
}
STAGE_BASES = {"clinical": "clinique (cTNM)", "pathological": "pathologique (pTNM)"}
# Cases an RCP's usual members see (rcp_app/access): submitted, the patient not objecting.
SHARED_WITH_RCP = "submitted_at IS NOT NULL AND NOT patient_sharing_objection"
# Statuses before which the submission data may be incomplete.
_UNSUBMITTED = "status IN ('draft', 'withdrawn')"


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


case_correspondents = Table(
    "case_correspondents",
    db.metadata,
    Column("case_id", ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "professional_id",
        ForeignKey("professionals.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(status_check_sql(), name="status_known"),
        CheckConstraint("nature IN ('organ', 'transversal')", name="nature_known"),
        CheckConstraint(
            "created_by_id IS NOT NULL OR created_by_client_id IS NOT NULL", name="has_author"
        ),
        CheckConstraint(
            "(nature = 'organ' AND theme_code IS NULL) OR (nature = 'transversal'"
            " AND appareil_code IS NULL AND organ_code IS NULL)",
            name="nature_matches_code",
        ),
        CheckConstraint(
            "performance_status IS NULL OR (performance_status >= 0 AND performance_status <= 4)",
            name="performance_status_range",
        ),
        CheckConstraint("g8_score IS NULL OR (g8_score >= 0 AND g8_score <= 17)", name="g8_range"),
        CheckConstraint(
            "discovery_screening IS NULL OR " + _in("discovery_screening", DISCOVERY),
            name="discovery_known",
        ),
        CheckConstraint("NOT (gp_id IS NOT NULL AND gp_unknown)", name="gp_or_unknown_not_both"),
        CheckConstraint(
            f"{_UNSUBMITTED} OR gp_id IS NOT NULL OR gp_unknown", name="submitted_has_gp"
        ),
        CheckConstraint(
            f"{_UNSUBMITTED} OR (question <> '' AND synthesis <> '' AND submitted_at IS NOT NULL)",
            name="submitted_has_question",
        ),
        CheckConstraint(
            "status <> 'withdrawn' OR (withdrawal_reason IS NOT NULL AND withdrawn_at IS NOT NULL)",
            name="withdrawn_has_reason",
        ),
        # One active case per patient and session (withdrawn ones do not count).
        Index(
            "uq_cases_patient_session_active",
            "patient_id",
            "session_id",
            unique=True,
            postgresql_where=text("status <> 'withdrawn'"),
            sqlite_where=text("status <> 'withdrawn'"),
        ),
        # The case lists (queries.list_statement), newest first: an RCP's cases by status, and
        # "my cases" (created by me or requested by me). Their leading columns also serve the
        # foreign keys.
        Index("ix_cases_rcp_status_recent", "rcp_id", "status", "created_at", "id"),
        Index("ix_cases_created_by_recent", "created_by_id", "created_at", "id"),
        Index("ix_cases_requester_recent", "requester_id", "created_at", "id"),
        # The care team of a physician (rcp_app/access/care_team.py): each path read from an
        # index alone (index-only scans of (key, patient_id)).
        Index("ix_cases_created_by_patient", "created_by_id", "patient_id"),
        Index("ix_cases_requester_patient", "requester_id", "patient_id"),
        Index(
            "ix_cases_rcp_patient_shared",
            "rcp_id",
            "patient_id",
            postgresql_where=text(SHARED_WITH_RCP),
            sqlite_where=text(SHARED_WITH_RCP),
        ),
        Index(
            "ix_cases_rcp_patient_submitted",
            "rcp_id",
            "patient_id",
            postgresql_where=text("submitted_at IS NOT NULL"),
            sqlite_where=text("submitted_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    rcp_id: Mapped[int] = mapped_column(ForeignKey("rcps.id", ondelete="RESTRICT"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("meeting_sessions.id", ondelete="RESTRICT"), index=True
    )
    requester_id: Mapped[int] = mapped_column(ForeignKey("professionals.id", ondelete="RESTRICT"))
    # Who registered the case: a user, or a hospital system through the API (rcp_app/api).
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_by_client_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_clients.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    is_late: Mapped[bool] = mapped_column(default=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    # Reason for referral
    motive_diagnostic: Mapped[bool] = mapped_column(default=False)
    motive_treatment: Mapped[bool] = mapped_column(default=False)
    motive_recourse: Mapped[bool] = mapped_column(default=False)
    motive_paediatric: Mapped[bool] = mapped_column(default=False)
    nature: Mapped[str] = mapped_column(String(12))
    appareil_code: Mapped[str | None] = mapped_column(String(64))
    organ_code: Mapped[str | None] = mapped_column(String(64))
    theme_code: Mapped[str | None] = mapped_column(String(64))
    # Progress note and events
    phase_code: Mapped[str | None] = mapped_column(String(64))
    relapse_date: Mapped[date | None] = mapped_column()
    progression_local: Mapped[bool] = mapped_column(default=False)
    progression_regional: Mapped[bool] = mapped_column(default=False)
    progression_distant: Mapped[bool] = mapped_column(default=False)
    discovery_screening: Mapped[str | None] = mapped_column(String(8))
    # Functional status, history, exams
    performance_status: Mapped[int | None] = mapped_column()
    g8_score: Mapped[int | None] = mapped_column()
    comorbidities: Mapped[str] = mapped_column(Text, default="")
    medical_history: Mapped[str] = mapped_column(Text, default="")
    exam_results: Mapped[str] = mapped_column(Text, default="")
    # Report conclusions
    surgery_conclusion: Mapped[str] = mapped_column(Text, default="")
    surgery_author: Mapped[str] = mapped_column(String(200), default="")
    surgery_date: Mapped[date | None] = mapped_column()
    pathology_conclusion: Mapped[str] = mapped_column(Text, default="")
    pathologist_name: Mapped[str] = mapped_column(String(200), default="")
    pathology_date: Mapped[date | None] = mapped_column()
    molecular_conclusion: Mapped[str] = mapped_column(Text, default="")
    molecular_author: Mapped[str] = mapped_column(String(200), default="")
    molecular_date: Mapped[date | None] = mapped_column()
    # History of present illness
    synthesis: Mapped[str] = mapped_column(Text, default="")
    question: Mapped[str] = mapped_column(Text, default="")
    # People
    gp_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="RESTRICT"), index=True
    )
    gp_unknown: Mapped[bool] = mapped_column(default=False)
    patient_informed_on: Mapped[date | None] = mapped_column()
    patient_informed_by: Mapped[str] = mapped_column(String(200), default="")
    patient_non_opposition: Mapped[bool] = mapped_column(default=False)
    # The patient objects to sharing beyond the team that treats them: the RCP's usual members
    # and delegates do not see this patient through this case (rcp_app/access).
    patient_sharing_objection: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()
    rcp: Mapped[Rcp] = relationship()
    session: Mapped[MeetingSession | None] = relationship()
    requester: Mapped[Professional] = relationship(foreign_keys=[requester_id])
    created_by: Mapped[User | None] = relationship()
    created_by_client = relationship("ApiClient")  # by name: cases does not import the api
    gp: Mapped[Professional | None] = relationship(foreign_keys=[gp_id])
    correspondents: Mapped[list[Professional]] = relationship(
        secondary=case_correspondents, order_by="Professional.last_name_key"
    )
    tumours: Mapped[list[Tumour]] = relationship(
        cascade="all, delete-orphan", order_by="Tumour.rank", back_populates="case"
    )
    treatments: Mapped[list[Treatment]] = relationship(
        cascade="all, delete-orphan", order_by="Treatment.rank"
    )
    # Withdrawn attachments (a duplicate, a report filed on the wrong patient) are left out
    # here, so every reader of ``case.attachments`` (case page, meeting mode, completeness, the
    # agenda and the fiche) ignores them; ``all_attachments`` keeps them for the audit.
    attachments: Mapped[list[Attachment]] = relationship(
        primaryjoin="and_(Attachment.case_id == Case.id, Attachment.withdrawn_at.is_(None))",
        order_by="Attachment.uploaded_at",
        viewonly=True,
    )
    all_attachments: Mapped[list[Attachment]] = relationship(
        cascade="all, delete-orphan", order_by="Attachment.uploaded_at"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def motives(self) -> list[str]:
        flags = (
            (self.motive_diagnostic, "Avis diagnostique"),
            (self.motive_treatment, "Proposition thérapeutique"),
            (self.motive_recourse, "Recours"),
            (self.motive_paediatric, "Pédiatrie"),
        )
        return [label for flag, label in flags if flag]

    @property
    def progression(self) -> list[str]:
        flags = (
            (self.progression_local, "locale"),
            (self.progression_regional, "régionale"),
            (self.progression_distant, "à distance"),
        )
        return [label for flag, label in flags if flag]

    def age_on(self, day: date) -> int:
        birth = self.patient.birth_date
        return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


class Tumour(db.Model):
    __tablename__ = "case_tumours"
    __table_args__ = (
        UniqueConstraint("case_id", "rank"),
        CheckConstraint(
            "stage_group IS NULL OR (stage_edition IS NOT NULL AND stage_basis IS NOT NULL)",
            name="stage_with_edition",
        ),
        CheckConstraint(
            "stage_basis IS NULL OR " + _in("stage_basis", STAGE_BASES), name="stage_basis_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column()
    diagnosis_date: Mapped[date | None] = mapped_column()
    topography_code: Mapped[str | None] = mapped_column(String(64))
    morphology_code: Mapped[str | None] = mapped_column(String(64))
    laterality_code: Mapped[str | None] = mapped_column(String(64))
    tnm_edition: Mapped[str | None] = mapped_column(String(16))
    clinical_t: Mapped[str | None] = mapped_column(String(16))
    clinical_n: Mapped[str | None] = mapped_column(String(16))
    clinical_m: Mapped[str | None] = mapped_column(String(16))
    pathological_t: Mapped[str | None] = mapped_column(String(16))
    pathological_n: Mapped[str | None] = mapped_column(String(16))
    pathological_m: Mapped[str | None] = mapped_column(String(16))
    stage_group: Mapped[str | None] = mapped_column(String(16))
    stage_edition: Mapped[str | None] = mapped_column(String(16))
    stage_basis: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")

    case: Mapped[Case] = relationship(back_populates="tumours")
    stagings: Mapped[list[OtherStaging]] = relationship(
        cascade="all, delete-orphan", order_by="OtherStaging.rank"
    )
    biomarkers: Mapped[list[Biomarker]] = relationship(
        cascade="all, delete-orphan", order_by="Biomarker.code"
    )

    @property
    def biomarker_values(self) -> dict[str, str]:
        return {b.code: b.value for b in self.biomarkers}

    @property
    def clinical_tnm(self) -> str:
        """'cT2 cN1 cM0' (values are stored with their prefix)."""
        return " ".join(v for v in (self.clinical_t, self.clinical_n, self.clinical_m) if v)

    @property
    def pathological_tnm(self) -> str:
        return " ".join(
            v for v in (self.pathological_t, self.pathological_n, self.pathological_m) if v
        )


class OtherStaging(db.Model):
    """Another staging system of a tumour (FIGO, Ann Arbor, ISS, Binet…)."""

    __tablename__ = "tumour_stagings"
    __table_args__ = (UniqueConstraint("tumour_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tumour_id: Mapped[int] = mapped_column(
        ForeignKey("case_tumours.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column()
    system: Mapped[str] = mapped_column(String(100))
    system_version: Mapped[str] = mapped_column(String(50), default="")
    value: Mapped[str] = mapped_column(String(50))


class Biomarker(db.Model):
    """One site-specific value of a tumour; codes and checks in staging/biomarkers.py."""

    __tablename__ = "tumour_biomarkers"
    __table_args__ = (UniqueConstraint("tumour_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tumour_id: Mapped[int] = mapped_column(
        ForeignKey("case_tumours.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(40))


class Treatment(db.Model):
    """A past or current treatment (procedures section)."""

    __tablename__ = "case_treatments"
    __table_args__ = (
        UniqueConstraint("case_id", "rank"),
        CheckConstraint(_in("status", TREATMENT_STATUSES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column()
    type_code: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    treatment_date: Mapped[date | None] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="")

    @property
    def status_label(self) -> str:
        return TREATMENT_STATUSES.get(self.status, self.status)


class Attachment(db.Model):
    """A PDF stored outside the web root (cases/attachments.py); the row keeps its digest."""

    __tablename__ = "case_attachments"
    __table_args__ = (
        CheckConstraint(_in("kind", ATTACHMENT_KINDS), name="kind_known"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint(
            "uploaded_by_id IS NOT NULL OR uploaded_by_client_id IS NOT NULL", name="has_uploader"
        ),
        # A withdrawal says who, when and why, all three or none.
        CheckConstraint(
            "(withdrawn_at IS NULL AND withdrawn_by_id IS NULL AND withdrawal_reason IS NULL)"
            " OR (withdrawn_at IS NOT NULL AND withdrawn_by_id IS NOT NULL"
            " AND withdrawal_reason IS NOT NULL AND withdrawal_reason <> '')",
            name="withdrawal_complete",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    original_name: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column()
    # A user, or a hospital system through the API (rcp_app/api).
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    uploaded_by_client_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_clients.id", ondelete="RESTRICT")
    )
    uploaded_at: Mapped[datetime] = mapped_column()
    # Withdrawn (cases/attachments.py ``withdraw_attachment``): the file and the row are kept
    # for the audit, hidden from the case, its completeness, the agenda and the fiche.
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)

    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])
    uploaded_by_client = relationship("ApiClient", foreign_keys=[uploaded_by_client_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def kind_label(self) -> str:
        return ATTACHMENT_KINDS.get(self.kind, self.kind)


class RcpRequiredItem(db.Model):
    """An item of an RCP's minimum data set (codes in cases/completeness.py).

    An RCP without rows uses the defaults of its appareil or theme.
    """

    __tablename__ = "rcp_required_items"

    rcp_id: Mapped[int] = mapped_column(ForeignKey("rcps.id", ondelete="CASCADE"), primary_key=True)
    item_code: Mapped[str] = mapped_column(String(40), primary_key=True)
