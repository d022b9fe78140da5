"""Registering, revoking and re-keying API clients (the administrator's actions).

A secret is generated here, shown once to the administrator, and stored as an Argon2 hash
(auth/passwords.py, the users' password hasher): neither a database copy nor the audit log
holds it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import update

from ..auth.passwords import hash_password
from ..core import audit
from ..core.conflict import check_version
from ..core.errors import DomainError
from ..core.timeutil import utcnow
from ..extensions import db
from .models import SCOPES, ApiClient, ApiToken

MAX_RATE = 100_000


@dataclass(frozen=True)
class Credentials:
    client: ApiClient
    secret: str  # shown once


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


def _check(name: str, scopes: list[str], rate: int, contact: str) -> tuple[str, str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Donnez un nom au client (le logiciel et son éditeur).", field="name")
    if len(name) > 200:
        raise DomainError("Le nom dépasse 200 caractères.", field="name")
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise DomainError(f"Portée inconnue : {', '.join(unknown)}.", field="scopes")
    if not scopes:
        raise DomainError("Choisissez au moins une portée.", field="scopes")
    if not 1 <= rate <= MAX_RATE:
        raise DomainError(
            f"Le quota doit être compris entre 1 et {MAX_RATE} appels par minute.",
            field="rate_limit_per_minute",
        )
    contact = (contact or "").strip()
    if len(contact) > 254:
        raise DomainError("Le contact dépasse 254 caractères.", field="contact")
    return name, " ".join(sorted(set(scopes))), contact


def register_client(
    name: str, establishment, scopes: list[str], *, contact: str = "", rate: int = 600
) -> Credentials:
    name, scope_text, contact = _check(name, scopes, rate, contact)
    if establishment is None or not establishment.active:
        raise DomainError("Choisissez un établissement actif.", field="establishment_id")
    secret = _new_secret()
    client = ApiClient(
        client_id="rcp-" + secrets.token_hex(12),
        secret_hash=hash_password(secret),
        name=name,
        establishment_id=establishment.id,
        scopes=scope_text,
        contact=contact,
        rate_limit_per_minute=rate,
        created_at=utcnow(),
    )
    db.session.add(client)
    db.session.flush()
    audit.record(
        "api.client_registered",
        "api_client",
        client.id,
        details={"name": name, "establishment_id": establishment.id, "scopes": scope_text},
    )
    return Credentials(client, secret)


def update_client(
    client: ApiClient, expected_version, *, scopes: list[str], rate: int, contact: str
) -> None:
    check_version(
        expected_version,
        client.version,
        "Ce client a été modifié entre-temps : rouvrez sa page et recommencez.",
    )
    if not client.active:
        raise DomainError("Ce client est révoqué : il ne peut plus être modifié.")
    _name, scope_text, contact = _check(client.name, scopes, rate, contact)
    client.scopes, client.rate_limit_per_minute, client.contact = scope_text, rate, contact
    db.session.flush()
    audit.record(
        "api.client_updated",
        "api_client",
        client.id,
        details={"scopes": scope_text, "rate_limit_per_minute": rate},
    )


def _revoke_tokens(client: ApiClient) -> None:
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.client_id == client.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def rotate_secret(client: ApiClient, expected_version) -> str:
    """A new secret (the old one stops at once, and so do the tokens it obtained)."""
    check_version(
        expected_version,
        client.version,
        "Ce client a été modifié entre-temps : rouvrez sa page et recommencez.",
    )
    if not client.active:
        raise DomainError("Ce client est révoqué : il ne peut plus recevoir de secret.")
    secret = _new_secret()
    client.secret_hash = hash_password(secret)
    _revoke_tokens(client)
    db.session.flush()
    audit.record("api.client_secret_rotated", "api_client", client.id)
    return secret


def revoke_client(client: ApiClient, expected_version) -> None:
    check_version(
        expected_version,
        client.version,
        "Ce client a été modifié entre-temps : rouvrez sa page et recommencez.",
    )
    if not client.active:
        return
    client.revoked_at = utcnow()
    _revoke_tokens(client)
    db.session.flush()
    audit.record("api.client_revoked", "api_client", client.id)
