"""Pro Santé Connect: the national OpenID Connect provider of health professionals.

Authlib does the protocol: discovery (``<issuer>/.well-known/openid-configuration``), the
authorisation code flow with PKCE (S256), the state kept in the session, the code exchange, the
JWKS and the id_token checks (signature, issuer, audience, expiry, nonce). This module only
configures it and turns every way it can fail into one French message.

PSC identifies the professional by ``SubjectNameID``, the national identifier: « 8 » followed by
the 11-digit RPPS for RPPS holders. It is read from the signed id_token when present there,
otherwise from the userinfo endpoint (where PSC documents it), whose ``sub`` must then be the
id_token's (OpenID Connect Core 5.3.2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, abort, current_app
from joserfc.errors import JoseError

from ..core.transactions import release

# National identifier of an RPPS holder: type « 8 » then the RPPS (11 digits).
_RPPS_NATIONAL_ID = re.compile(r"^8(\d{11})$")
_EXTENSION = "rcp_psc"
# Seconds allowed between the provider's clock and ours (expiry, issue time).
CLOCK_LEEWAY = 60


@dataclass(frozen=True)
class PscIdentity:
    national_id: str  # SubjectNameID as sent (shown on the refusal page)
    rpps: str | None  # the RPPS when the identifier is an RPPS one


class PscFailure(Exception):
    """The sign-in did not complete; ``message`` is for the user, ``reason`` for the audit."""

    def __init__(self, reason: str, message: str):
        super().__init__(reason)
        self.reason = reason
        self.message = message


RETRY = "Recommencez la connexion avec Pro Santé Connect."
UNREACHABLE = PscFailure(
    "unreachable",
    "Pro Santé Connect ne répond pas pour le moment. Réessayez dans quelques minutes.",
)


def is_configured(app: Flask | None = None) -> bool:
    return bool((app or current_app).config.get("RCP_PSC_ISSUER"))


def client():
    """The Authlib client for the current settings; 404 when PSC is not configured.

    Built on first use and kept per app (a settings change, as tests make, builds another).
    """
    config = current_app.config
    if not is_configured():
        abort(404)
    key = (
        config["RCP_PSC_ISSUER"],
        config["RCP_PSC_CLIENT_ID"],
        config["RCP_PSC_CLIENT_SECRET"],
        config["RCP_PSC_SCOPES"],
    )
    cached = current_app.extensions.get(_EXTENSION)
    if cached is None or cached[0] != key:
        issuer, client_id, secret, scopes = key
        registry = OAuth()
        registry.init_app(current_app)
        registry.register(
            "psc",
            client_id=client_id,
            client_secret=secret,
            server_metadata_url=f"{issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": scopes, "code_challenge_method": "S256", "default_timeout": 10},
        )
        cached = current_app.extensions[_EXTENSION] = (key, registry.psc)
    return cached[1]


def _metadata(psc) -> dict:
    """The provider's discovery document, whose issuer must be the configured one (OpenID
    Connect Discovery 4.3: otherwise another provider could answer for it)."""
    try:
        metadata = psc.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        current_app.logger.warning("Pro Santé Connect discovery failed: %s", error)
        raise UNREACHABLE from error
    if metadata.get("issuer") != current_app.config["RCP_PSC_ISSUER"]:
        psc.server_metadata.clear()  # fetched again next time
        raise PscFailure("issuer_mismatch", "Pro Santé Connect est mal configuré. " + RETRY)
    return metadata


def start(redirect_uri: str):
    """The redirection to the provider's authorisation page (state, nonce and PKCE verifier
    kept in the session by Authlib)."""
    psc = client()
    release()  # no database transaction held while the provider is asked
    _metadata(psc)
    try:
        return psc.authorize_redirect(
            redirect_uri, acr_values=current_app.config["RCP_PSC_ACR_VALUES"]
        )
    except requests.RequestException as error:
        raise UNREACHABLE from error


def finish() -> PscIdentity:
    """Completes the flow on the callback: the code exchanged, the id_token checked by Authlib.

    Raises ``PscFailure`` for every refusal (provider error, state mismatch, invalid token…).
    """
    psc = client()
    release()  # no database transaction held during the exchanges with the provider
    metadata = _metadata(psc)
    # Authlib checks the issuer by default; the audience must be this client exactly (by
    # default Authlib only requires an ``azp`` when the audience differs).
    claims_options = {
        "iss": {"essential": True, "values": [metadata["issuer"]]},
        "aud": {"essential": True, "value": psc.client_id},
    }
    try:
        token = psc.authorize_access_token(claims_options=claims_options, leeway=CLOCK_LEEWAY)
    except requests.RequestException as error:
        current_app.logger.warning("Pro Santé Connect token request failed: %s", error)
        raise UNREACHABLE from error
    except AuthlibBaseError as error:
        raise _refusal(error) from error
    except (JoseError, ValueError) as error:  # signature, claims, keys that do not import
        current_app.logger.warning("Pro Santé Connect id_token refused: %r", error)
        raise PscFailure(
            "invalid_id_token",
            "La réponse de Pro Santé Connect n'a pas pu être vérifiée. " + RETRY,
        ) from error
    claims = token.get("userinfo")
    if not claims:
        raise PscFailure("no_id_token", "Pro Santé Connect n'a pas transmis d'identité. " + RETRY)
    national_id = claims.get("SubjectNameID") or _from_userinfo(psc, token, claims["sub"])
    if not isinstance(national_id, str) or not national_id.strip():
        raise PscFailure(
            "no_national_id", "Pro Santé Connect n'a pas transmis votre identifiant. " + RETRY
        )
    national_id = national_id.strip()[:40]
    match = _RPPS_NATIONAL_ID.match(national_id)
    return PscIdentity(national_id, match.group(1) if match else None)


def _from_userinfo(psc, token: dict, sub: str) -> str | None:
    try:
        info = psc.userinfo(token=token)
    except (requests.RequestException, ValueError) as error:
        current_app.logger.warning("Pro Santé Connect userinfo failed: %s", error)
        raise UNREACHABLE from error
    if info.get("sub") != sub:
        raise PscFailure(
            "userinfo_sub_mismatch",
            "La réponse de Pro Santé Connect n'a pas pu être vérifiée. " + RETRY,
        )
    return info.get("SubjectNameID")


def _refusal(error: AuthlibBaseError) -> PscFailure:
    """Authlib's protocol errors: the provider's own error, the state, the token endpoint."""
    name = getattr(error, "error", None) or type(error).__name__
    current_app.logger.warning("Pro Santé Connect refused: %s %s", name, error.description)
    if name == "mismatching_state":
        return PscFailure(
            "state_mismatch",
            "La connexion avec Pro Santé Connect a expiré ou ne vient pas de cette page. " + RETRY,
        )
    if name == "access_denied":
        return PscFailure("access_denied", "La connexion avec Pro Santé Connect a été annulée.")
    return PscFailure(
        f"provider_error:{str(name)[:40]}",
        "Pro Santé Connect a refusé la connexion. " + RETRY,
    )
