"""What the access rules store: the coordinators' scopes and the exceptional accesses.

Foreign keys name their tables, not the feature models: ``access`` sits below every feature
package (tests/test_architecture.py), which all ask it who may see what.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

# Reasons a physician outside the care team gives to open a record (« bris de glace »).
EXCEPTIONAL_REASONS = {
    "emergency": "Urgence",
    "opinion": "Avis demandé",
    "rcp_preparation": "Préparation d'une RCP",
    "other": "Autre",
}


class CoordinatorScope(db.Model):
    """An RCP, or every RCP of an establishment, that a coordinator (secretariat, 3C) runs."""

    __tablename__ = "coordinator_scopes"
    __table_args__ = (
        CheckConstraint(
            "(rcp_id IS NULL) <> (establishment_id IS NULL)", name="rcp_or_establishment"
        ),
        UniqueConstraint("user_id", "rcp_id", "establishment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rcp_id: Mapped[int | None] = mapped_column(ForeignKey("rcps.id", ondelete="CASCADE"))
    establishment_id: Mapped[int | None] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE")
    )


class ExceptionalAccess(db.Model):
    """A physician outside the care team opened a patient's record, for a stated reason.

    Written once; only the review columns are set later, together (CHECK constraints)."""

    __tablename__ = "exceptional_accesses"
    __table_args__ = (
        CheckConstraint(
            "reason IN (" + ", ".join(f"'{r}'" for r in EXCEPTIONAL_REASONS) + ")",
            name="reason_known",
        ),
        CheckConstraint("reason <> 'other' OR reason_text <> ''", name="other_has_text"),
        CheckConstraint("expires_at > opened_at", name="expires_after_opening"),
        CheckConstraint("(reviewed_at IS NULL) = (reviewed_by_id IS NULL)", name="review_complete"),
        # The rule asks « does this user hold an open access to this patient now? ».
        Index("ix_exceptional_accesses_user_patient", "user_id", "patient_id", "expires_at"),
        Index("ix_exceptional_accesses_review", "reviewed_at", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[str] = mapped_column(String(20))
    reason_text: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column()  # naive UTC
    expires_at: Mapped[datetime] = mapped_column()
    reviewed_at: Mapped[datetime | None] = mapped_column()
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    review_comment: Mapped[str] = mapped_column(Text, default="")

    @property
    def reason_label(self) -> str:
        label = EXCEPTIONAL_REASONS.get(self.reason, self.reason)
        return f"{label} : {self.reason_text}" if self.reason_text else label
