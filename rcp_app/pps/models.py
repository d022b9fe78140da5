"""Personalised care programmes (PPS, programme personnalisé de soins).

A ``CarePlan`` belongs to one validated decision (one per decision). While it is drafted, its
content lives in ``draft`` (JSON checked by pps/forms.py, shape in pps/snapshot.py); each
validation freezes a ``CarePlanVersion``: the snapshot of everything the documents show and its
two documents (the sealed PDF written for the patient, the CDA R2 CANCER-PPS it embeds), with
their SHA-256. Versions and documents are write-once, as for fiches: the ORM refuses updates and
deletes, and so does the database (triggers, migration 0018). A validated programme is changed
by an amendment: the draft is edited again and validated as the next version.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..fiches.models import DigestCheckedBytes, write_once

PLAN_STATES = {
    "draft": "Brouillon",
    "validated": "Validé et signé",
    "amending": "Avenant en cours",
}


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class CarePlan(db.Model):
    __tablename__ = "care_plans"
    __table_args__ = (
        CheckConstraint(_in("state", PLAN_STATES), name="state_known"),
        CheckConstraint("current_version >= 0", name="current_version_positive"),
        CheckConstraint("state = 'draft' OR current_version >= 1", name="validated_has_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[str] = mapped_column(String(36), unique=True)  # UUID, the CDA setId
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="RESTRICT"), unique=True
    )
    fiche_id: Mapped[int] = mapped_column(ForeignKey("fiches.id", ondelete="RESTRICT"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    state: Mapped[str] = mapped_column(String(12), default="draft")
    draft: Mapped[str] = mapped_column(Text)  # JSON, the programme being edited
    current_version: Mapped[int] = mapped_column(default=0)  # 0: never validated
    created_at: Mapped[datetime] = mapped_column()
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    updated_at: Mapped[datetime] = mapped_column()
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # Optimistic lock: two tabs editing the same draft cannot both land.
    lock_version: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list[CarePlanVersion]] = relationship(
        order_by="CarePlanVersion.version", back_populates="care_plan"
    )
    decision = relationship("Decision")
    fiche = relationship("Fiche")
    case = relationship("Case")
    patient = relationship("Patient")
    created_by = relationship("User", foreign_keys=[created_by_id])
    updated_by = relationship("User", foreign_keys=[updated_by_id])

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def state_label(self) -> str:
        return PLAN_STATES.get(self.state, self.state)

    def draft_dict(self) -> dict:
        return json.loads(self.draft)


class CarePlanVersion(db.Model):
    __tablename__ = "care_plan_versions"
    __table_args__ = (
        UniqueConstraint("care_plan_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(
            "version = 1 OR (amendment_reason IS NOT NULL AND amendment_reason <> '')",
            name="amendment_has_reason",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    care_plan_id: Mapped[int] = mapped_column(
        ForeignKey("care_plans.id", ondelete="RESTRICT"), index=True
    )
    version: Mapped[int] = mapped_column()
    document_id: Mapped[str] = mapped_column(String(36), unique=True)  # UUID, the CDA id
    snapshot: Mapped[str] = mapped_column(Text)  # JSON (pps/snapshot.py)
    validated_at: Mapped[datetime] = mapped_column()  # naive UTC
    validated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    amendment_reason: Mapped[str | None] = mapped_column(Text)
    signer: Mapped[str] = mapped_column(String(300))  # the seal certificate's subject

    care_plan: Mapped[CarePlan] = relationship(back_populates="versions")
    validated_by = relationship("User")
    documents: Mapped[list[CarePlanDocument]] = relationship(
        order_by="CarePlanDocument.kind", back_populates="version"
    )

    def snapshot_dict(self) -> dict:
        return json.loads(self.snapshot)

    def document(self, kind: str) -> CarePlanDocument:
        return next(d for d in self.documents if d.kind == kind)


class CarePlanDocument(DigestCheckedBytes, db.Model):
    """The bytes of one document of a version: the sealed patient PDF, or the CDA it embeds."""

    __tablename__ = "care_plan_documents"
    __table_args__ = (
        UniqueConstraint("version_id", "kind"),
        CheckConstraint("kind IN ('pdf', 'cda')", name="kind_known"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("care_plan_versions.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(String(3))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column()
    _content: Mapped[bytes] = mapped_column("content", LargeBinary)

    version: Mapped[CarePlanVersion] = relationship(back_populates="documents")


write_once(CarePlanVersion, CarePlanDocument, what="Un PPS signé")
