"""OAuth 2.0 client credentials (RFC 6749 §4.4), bearer tokens (RFC 6750), revocation (RFC 7009).

Authlib does the protocol: client authentication (HTTP Basic or form), grant and scope checks,
the token response and its errors. We keep the data: a client's secret is an Argon2 hash, an
access token is stored as its SHA-256 (the token itself is shown once, in the response), and a
token lives ``RCP_API_TOKEN_SECONDS`` (15 minutes by default): a leaked token is short-lived,
a revoked client's tokens stop at once.
"""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta

from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Flask
from flask import request as flask_request
from sqlalchemy import select

from ..core import audit
from ..core.timeutil import utcnow
from ..extensions import db
from .models import ApiClient, ApiToken


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _plausible_client_id(client_id) -> bool:
    """What an issued client_id can look like; anything else is unknown without a query (a
    NUL byte would even be refused by PostgreSQL as text)."""
    return (
        isinstance(client_id, str)
        and 0 < len(client_id) <= 48
        and client_id.isascii()
        and client_id.isprintable()
    )


def _query_client(client_id: str) -> ApiClient | None:
    if not _plausible_client_id(client_id):
        return None
    client = db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    return client if client is not None and client.active else None


def _save_token(token: dict, request) -> None:
    client: ApiClient = request.client
    now = utcnow()
    db.session.add(
        ApiToken(
            client_id=client.id,
            token_hash=token_hash(token["access_token"]),
            scopes=token.get("scope", ""),
            issued_at=now,
            expires_at=now + timedelta(seconds=int(token["expires_in"])),
        )
    )
    audit.record(
        "api.token_issued",
        "api_client",
        client.id,
        details={"scopes": token.get("scope", "")},
        actor=audit.Actor(None, client.actor_name, flask_request.remote_addr),
    )


class _ClientCredentials(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class _Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string, token_type_hint):
        return db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_hash(token_string or ""))
        )

    def revoke_token(self, token, request):
        if token.revoked_at is None:
            token.revoked_at = utcnow()
            audit.record(
                "api.token_revoked",
                "api_client",
                token.client_id,
                actor=audit.Actor(None, token.client.actor_name, None),
            )


class _Bearer(BearerTokenValidator):
    def authenticate_token(self, token_string):
        if not token_string or len(token_string) > 200:
            return None
        return db.session.scalar(
            select(ApiToken).where(ApiToken.token_hash == token_hash(token_string))
        )


authorization = AuthorizationServer()
require_oauth = ResourceProtector()
require_oauth.register_token_validator(_Bearer())


def init_oauth(app: Flask) -> None:
    if app.config["RCP_ENV"] != "production":
        # Authlib refuses OAuth over plain HTTP; the demo and the tests serve http://127.0.0.1.
        # In production the TLS proxy (ProxyFix) makes every request https, as OAuth requires.
        os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    seconds = int(app.config.get("RCP_API_TOKEN_SECONDS", 900))
    app.config["OAUTH2_TOKEN_EXPIRES_IN"] = {"client_credentials": seconds}
    authorization.init_app(app, query_client=_query_client, save_token=_save_token)
    authorization.register_grant(_ClientCredentials)
    authorization.register_endpoint(_Revocation)
