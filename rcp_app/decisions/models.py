"""The decision captured for one agenda item during the meeting (one-to-one with the item).

State: "draft" while it is filled in, "ready_for_validation" once the mandatory items are there
and "validated" once its fiche is signed (fiches/operations.py), after which it changes only
through an amendment. Outcome: discussed, registered, or
postponed (with a reason; the postponement is applied when the session closes).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

DECISION_STATES = {
    "draft": "Brouillon",
    "ready_for_validation": "Prête pour validation",
    "validated": "Validée et signée",
}
OUTCOMES = {"discussed": "Discuté", "registered": "Enregistré", "postponed": "Reporté"}


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Decision(db.Model):
    __tablename__ = "decisions"
    __table_args__ = (
        UniqueConstraint("item_id"),
        CheckConstraint(_in("state", DECISION_STATES), name="state_known"),
        CheckConstraint("outcome IS NULL OR " + _in("outcome", OUTCOMES), name="outcome_known"),
        CheckConstraint(
            "outcome IS NULL OR outcome <> 'postponed' OR "
            "(postpone_reason IS NOT NULL AND postpone_reason <> '')",
            name="postponed_has_reason",
        ),
        CheckConstraint(
            "NOT trial_proposed OR (trial_name <> '' AND trial_identifier <> '')",
            name="trial_identified",
        ),
        CheckConstraint("seconds_spent >= 0", name="seconds_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    proposal_code: Mapped[str | None] = mapped_column(String(40))
    proposal_details: Mapped[str] = mapped_column(Text, default="")
    active_surveillance: Mapped[bool] = mapped_column(Boolean, default=False)
    exams_requested: Mapped[str] = mapped_column(Text, default="")
    recourse_referral: Mapped[bool] = mapped_column(Boolean, default=False)
    recourse_rcp: Mapped[str] = mapped_column(String(200), default="")
    guideline_name: Mapped[str] = mapped_column(String(300), default="")
    guideline_version: Mapped[str] = mapped_column(String(50), default="")
    guideline_date: Mapped[date | None] = mapped_column()
    deviation_reason: Mapped[str] = mapped_column(Text, default="")
    trial_proposed: Mapped[bool] = mapped_column(Boolean, default=False)
    trial_name: Mapped[str] = mapped_column(String(300), default="")
    trial_identifier: Mapped[str] = mapped_column(String(100), default="")
    file_complete: Mapped[bool | None] = mapped_column(Boolean)
    quorum_status: Mapped[str | None] = mapped_column(String(20))
    comments: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str | None] = mapped_column(String(12))
    postpone_reason: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(24), default="draft")
    seconds_spent: Mapped[int] = mapped_column(default=0)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    updated_at: Mapped[datetime] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    item = relationship("AgendaItem")
    updated_by = relationship("User")
    alternatives: Mapped[list[DecisionAlternative]] = relationship(
        order_by="DecisionAlternative.rank",
        cascade="all, delete-orphan",
        back_populates="decision",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def state_label(self) -> str:
        return DECISION_STATES.get(self.state, self.state)

    @property
    def outcome_label(self) -> str:
        return OUTCOMES.get(self.outcome or "", "")


class DecisionAlternative(db.Model):
    """An alternative to the first-line proposal, ranked 1, 2, …"""

    __tablename__ = "decision_alternatives"
    __table_args__ = (
        UniqueConstraint("decision_id", "rank"),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column()
    treatment_code: Mapped[str] = mapped_column(String(40))
    details: Mapped[str] = mapped_column(Text, default="")

    decision: Mapped[Decision] = relationship(back_populates="alternatives")
