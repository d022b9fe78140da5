"""The outbox: one transmission per message to send, with its delivery state.

A transmission is created in the transaction of the event it reports (a signed fiche, a case
scheduled, an agenda published), so that nothing is announced that did not happen and nothing
that happened goes unannounced. Its Message-ID is fixed at creation: every retry, and a resend
after a worker died mid-send, carries the same one (at-least-once delivery, deduplicable).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

STATUSES = {
    "pending": "En attente",
    "sending": "En cours d'envoi",
    "sent": "Envoyé",
    "acknowledged": "Accusé de lecture reçu",
    "failed": "Échec",
}
KINDS = {
    "fiche": "Fiche RCP signée",
    "case_scheduled": "Dossier inscrit à une séance",
    "case_postponed": "Dossier reporté",
    "case_refused": "Dossier refusé",
    "agenda_published": "Ordre du jour publié",
    "pps": "Programme personnalisé de soins signé",
    # The referring physician's reminder that a proposal's follow-up is due (followups/):
    # its text is fixed when it is queued (``payload``), like a webhook's body.
    "followup_reminder": "Rappel : suivi d'une proposition de RCP",
}
ROLES = {
    "dcc": "DCC régional",
    "requester": "Médecin demandeur",
    "gp": "Médecin traitant",
    "correspondent": "Correspondant (copie)",
    "patient_record": "Dossier médical partagé",
    "participant": "Participant",
    "api_client": "Système de l'établissement (webhook)",
}
CHANNELS = {
    "mssante": "Messagerie sécurisée de santé",
    "dmp": "Dossier médical partagé",
    # An HTTPS POST to a hospital system's subscription (rcp_app/api/webhooks.py), signed
    # with HMAC-SHA256; same retries, backoff and states as the e-mails.
    "webhook": "Notification webhook",
}


def _in(column: str, values) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class Transmission(db.Model):
    __tablename__ = "transmissions"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status_known"),
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        CheckConstraint(_in("recipient_role", ROLES), name="role_known"),
        CheckConstraint(_in("channel", CHANNELS), name="channel_known"),
        CheckConstraint("attempts >= 0", name="attempts_positive"),
        CheckConstraint(
            "kind <> 'fiche' OR fiche_version_id IS NOT NULL", name="fiche_has_version"
        ),
        CheckConstraint(
            "channel <> 'webhook' OR (subscription_id IS NOT NULL AND payload IS NOT NULL)",
            name="webhook_has_subscription",
        ),
        CheckConstraint(
            "kind <> 'pps' OR care_plan_version_id IS NOT NULL", name="pps_has_version"
        ),
        CheckConstraint(
            "kind <> 'followup_reminder' OR payload IS NOT NULL", name="reminder_has_payload"
        ),
        # The worker's question: which pending transmissions are due?
        Index("ix_transmissions_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10), default="mssante")
    recipient_role: Mapped[str] = mapped_column(String(20))
    recipient_address: Mapped[str] = mapped_column(String(254), default="")
    professional_id: Mapped[int | None] = mapped_column(
        ForeignKey("professionals.id", ondelete="RESTRICT"), index=True
    )
    fiche_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("fiche_versions.id", ondelete="RESTRICT"), index=True
    )
    notification_id: Mapped[int | None] = mapped_column(
        ForeignKey("notifications.id", ondelete="RESTRICT"), index=True
    )
    care_plan_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("care_plan_versions.id", ondelete="RESTRICT"), index=True
    )
    # A foreign key so that merging two patients (patients/merge.py) moves it with the rest.
    patient_id: Mapped[int | None] = mapped_column(
        ForeignKey("patients.id", ondelete="RESTRICT"), index=True
    )
    # Webhooks: the subscription (its URL is the recipient address, its secret signs) and the
    # JSON body, fixed at creation so that every retry sends the same event.
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="RESTRICT"), index=True
    )
    payload: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()  # naive UTC
    claimed_at: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None] = mapped_column()
    acknowledged_at: Mapped[datetime | None] = mapped_column()
    failed_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    professional = relationship("Professional")
    fiche_version = relationship("FicheVersion")
    notification = relationship("Notification")
    care_plan_version = relationship("CarePlanVersion")

    __mapper_args__ = {"version_id_col": version}

    @property
    def status_label(self) -> str:
        return STATUSES.get(self.status, self.status)

    @property
    def kind_label(self) -> str:
        return KINDS.get(self.kind, self.kind)

    @property
    def role_label(self) -> str:
        return ROLES.get(self.recipient_role, self.recipient_role)
