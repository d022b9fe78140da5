"""What became of one validated RCP proposal (the closed loop).

One ``FollowUp`` per validated decision, opened in the transaction that signs version 1 of its
fiche. It is due ``Rcp.follow_up_days`` after the validation (Paris day); the referring
physician then records the outcome. States (labels below, transitions in operations.py):

    pending               nothing recorded yet
    started_as_proposed   the RCP's proposal started: ``option_rank`` 0 = first proposal,
                          N = the RCP's alternative N; ``started_on`` its first day
    started_other         a treatment the RCP did not propose (``other_treatment``), with the
                          reason of the deviation
    not_started           nothing started yet, with the reason
    lost                  patient lost to follow-up
    deceased              patient deceased (``event_on``: date of death when known)

A deviation (``started_other``, ``not_started``) may be sent back to the RCP as a new case
pre-filled from this one (``represented_case_id``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

STATES = {
    "pending": "En attente de suivi",
    "started_as_proposed": "Traitement proposé commencé",
    "started_other": "Autre traitement commencé",
    "not_started": "Traitement non commencé",
    "lost": "Patient perdu de vue",
    "deceased": "Patient décédé",
}
# Why the care given differs from the proposal (started_other, not_started).
DEVIATION_REASONS = {
    "patient_choice": "Choix du patient",
    "contraindication": "Contre-indication",
    "progression": "Évolution de la maladie",
    "other": "Autre raison",
}
DEVIATIONS = ("started_other", "not_started")


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class FollowUp(db.Model):
    __tablename__ = "follow_ups"
    __table_args__ = (
        CheckConstraint(_in("state", STATES), name="state_known"),
        CheckConstraint(
            "deviation_reason IS NULL OR " + _in("deviation_reason", DEVIATION_REASONS),
            name="reason_known",
        ),
        CheckConstraint(
            "state <> 'started_as_proposed' OR (option_rank IS NOT NULL AND option_rank >= 0 "
            "AND started_on IS NOT NULL)",
            name="started_has_option_and_date",
        ),
        CheckConstraint(
            "state <> 'started_other' OR (started_on IS NOT NULL AND other_treatment <> '')",
            name="other_has_treatment_and_date",
        ),
        CheckConstraint(
            "state NOT IN ('started_other', 'not_started') OR deviation_reason IS NOT NULL",
            name="deviation_has_reason",
        ),
        CheckConstraint(
            "state = 'pending' OR (recorded_at IS NOT NULL AND recorded_by_id IS NOT NULL)",
            name="outcome_has_author",
        ),
        # The reminder run's question: which pending follow-ups are due and not yet reminded?
        Index("ix_follow_ups_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decisions.id", ondelete="RESTRICT"), unique=True
    )
    fiche_id: Mapped[int] = mapped_column(ForeignKey("fiches.id", ondelete="RESTRICT"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    rcp_id: Mapped[int] = mapped_column(ForeignKey("rcps.id", ondelete="RESTRICT"), index=True)
    # Who records the outcome: the case's referring physician (directory professional).
    requester_id: Mapped[int] = mapped_column(
        ForeignKey("professionals.id", ondelete="RESTRICT"), index=True
    )
    opened_at: Mapped[datetime] = mapped_column()  # naive UTC: the fiche's validation
    due_on: Mapped[date] = mapped_column()  # Paris day
    state: Mapped[str] = mapped_column(String(20), default="pending")
    option_rank: Mapped[int | None] = mapped_column()
    started_on: Mapped[date | None] = mapped_column()
    other_treatment: Mapped[str] = mapped_column(Text, default="")
    deviation_reason: Mapped[str | None] = mapped_column(String(20))
    details: Mapped[str] = mapped_column(Text, default="")
    event_on: Mapped[date | None] = mapped_column()  # date of death / last news when known
    recorded_at: Mapped[datetime | None] = mapped_column()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    # Set once, by the run that queues the reminder (a conditional UPDATE: two workers cannot
    # both win it).
    reminder_queued_at: Mapped[datetime | None] = mapped_column()
    represented_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="RESTRICT")
    )
    version: Mapped[int] = mapped_column(default=1)

    decision = relationship("Decision")
    fiche = relationship("Fiche")
    case = relationship("Case", foreign_keys=[case_id])
    patient = relationship("Patient")
    rcp = relationship("Rcp")
    requester = relationship("Professional")
    recorded_by = relationship("User")
    represented_case = relationship("Case", foreign_keys=[represented_case_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def state_label(self) -> str:
        return STATES.get(self.state, self.state)

    @property
    def reason_label(self) -> str:
        return DEVIATION_REASONS.get(self.deviation_reason or "", "")

    @property
    def is_deviation(self) -> bool:
        return self.state in DEVIATIONS
