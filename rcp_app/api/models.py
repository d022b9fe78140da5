"""Hospital systems connected through the API, their tokens, quotas and webhook subscriptions.

A client belongs to one establishment and reads only that establishment's data
(``access/api_clients.py``).
Its secret and its access tokens are stored hashed: a copy of the database gives no way in.
"""

from __future__ import annotations

from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.timeutil import utcnow
from ..extensions import db

SCOPES = {
    "patients:read": "Lire les identités des patients de l'établissement",
    "patients:write": "Créer et mettre à jour des patients",
    "cases:read": "Lire les dossiers et leurs décisions",
    "cases:write": "Créer, compléter et soumettre des dossiers, y joindre des documents",
    "sessions:read": "Lire les séances et leurs ordres du jour",
    "fiches:read": "Lire les fiches RCP signées (PDF, CDA, FHIR)",
    "webhooks": "S'abonner aux événements (notifications signées)",
}
EVENTS = {
    "case.scheduled": "Dossier inscrit à une séance",
    "case.postponed": "Dossier reporté",
    "case.refused": "Dossier refusé",
    "fiche.signed": "Fiche RCP signée",
    "fiche.amended": "Fiche RCP rectifiée",
}


class ApiClient(db.Model, ClientMixin):
    __tablename__ = "api_clients"
    __table_args__ = (CheckConstraint("rate_limit_per_minute > 0", name="rate_limit_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The OAuth client_id: public, random, never reused.
    client_id: Mapped[str] = mapped_column(String(48), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(200))
    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="RESTRICT"), index=True
    )
    scopes: Mapped[str] = mapped_column(Text)  # space-separated, as OAuth writes them
    contact: Mapped[str] = mapped_column(String(254), default="")
    rate_limit_per_minute: Mapped[int] = mapped_column(default=600)
    created_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    version: Mapped[int] = mapped_column(default=1)

    establishment = relationship("Establishment")

    __mapper_args__ = {"version_id_col": version}

    @property
    def scope_list(self) -> list[str]:
        return [scope for scope in self.scopes.split() if scope in SCOPES]

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @property
    def actor_name(self) -> str:
        """How the audit log names the client: « api:<name> (<client_id>) »."""
        return f"api:{self.name} ({self.client_id})"[:120]

    # --- what Authlib asks of a client (client credentials grant only) ---

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """The scopes asked for that the client holds; all of them when none is asked."""
        held = self.scope_list
        if not scope:
            return " ".join(held)
        return " ".join(s for s in scope.split() if s in held)

    def check_redirect_uri(self, redirect_uri) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        from ..auth.passwords import verify_password
        from ..core.transactions import release

        if not self.active:
            return False
        # Argon2 is deliberately slow CPU work: nothing is written yet, so the transaction
        # that read the client ends first (no SQLite write lock held while it runs); the
        # token is then saved in a transaction of its own.
        release()
        return verify_password(self.secret_hash, client_secret or "")

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


class ApiToken(db.Model, TokenMixin):
    """An access token (bearer), known only by its SHA-256."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("api_clients.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column()

    client = relationship("ApiClient")

    def check_client(self, client) -> bool:
        return client is not None and client.id == self.client_id

    def get_scope(self) -> str:
        return self.scopes

    def get_expires_in(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or not self.client.active

    def get_user(self) -> None:
        return None

    def get_client(self) -> ApiClient:
        return self.client


class ApiRateWindow(db.Model):
    """Calls of a client in one minute: one row per (client, minute), counted by an upsert,
    so the limit holds whatever the number of web processes."""

    __tablename__ = "api_rate_windows"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("api_clients.id", ondelete="CASCADE"), primary_key=True
    )
    window_start: Mapped[datetime] = mapped_column(primary_key=True)
    calls: Mapped[int] = mapped_column(default=0)


class EstablishmentPatient(db.Model):
    """A patient an establishment's systems registered or looked up with full traits: the
    establishment's clients may read that identity even before a case links it to an RCP."""

    __tablename__ = "establishment_patients"

    establishment_id: Mapped[int] = mapped_column(
        ForeignKey("establishments.id", ondelete="CASCADE"), primary_key=True
    )
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    registered_at: Mapped[datetime] = mapped_column()


class WebhookSubscription(db.Model):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_client", "client_id", "revoked_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[str] = mapped_column(Text)  # space-separated EVENTS keys
    # The HMAC key must be readable to sign each notification: it is shown once to the client
    # and kept here as the outbox keeps addresses (the database is the application's secret).
    secret: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()

    client = relationship("ApiClient")

    @property
    def event_list(self) -> list[str]:
        return [event for event in self.events.split() if event in EVENTS]
