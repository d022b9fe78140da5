"""A small OpenID Connect provider on 127.0.0.1, standing in for Pro Santé Connect in tests.

It speaks the protocol for real, over HTTP: discovery, JWKS (an RS256 key generated at start),
an authorisation endpoint (authorisation code; PKCE with S256 is required), a token endpoint
(client_secret_basic or client_secret_post; the PKCE verifier is checked against the challenge)
and userinfo. There is no login page: the test says who signs in next (``provider.national_id``,
PSC's ``SubjectNameID``) and the authorisation endpoint answers at once, as a professional who
presents their card would.

The id_tokens are built here and signed with joserfc (Authlib's JOSE library) rather than by
Authlib's authorisation server classes, so that a test can make one misbehave plainly through
``provider.behaviour``: another audience, an expired token, another nonce, a signature by a key
the JWKS does not publish (same ``kid``).

    with OidcProvider() as provider:
        provider.national_id = "810001234567"
        app = make_test_app(ENV_VARS={..., **provider.settings()})
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

CLIENT_ID = "rcp-oncologie-test"
CLIENT_SECRET = "secret-du-client-de-test"  # noqa: S105 (test material)
KEY_ID = "psc-test-1"


@dataclass
class Behaviour:
    """How the next id_token goes wrong (the defaults: a correct one)."""

    audience: str | None = None  # None: the client id
    authorized_party: str | None = None  # ``azp``; None: absent
    expired: bool = False
    nonce: str | None = None  # None: the nonce of the authorisation request
    foreign_key: bool = False  # signed by a key absent from the JWKS, under the same kid
    subject_in_id_token: bool = False  # PSC sends SubjectNameID in userinfo; also here if True
    deny: bool = False  # the professional cancels at the provider: error=access_denied


@dataclass
class OidcProvider:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    national_id: str | None = None
    behaviour: Behaviour = field(default_factory=Behaviour)
    # What the endpoints saw, for the tests' assertions.
    authorize_requests: list[dict] = field(default_factory=list)
    token_requests: list[dict] = field(default_factory=list)
    token_refusals: list[str] = field(default_factory=list)

    def __post_init__(self):
        parameters = {"kid": KEY_ID, "use": "sig", "alg": "RS256"}
        self.key = RSAKey.generate_key(2048, parameters=parameters)
        self.foreign_key = RSAKey.generate_key(2048, parameters=parameters)
        self._codes: dict[str, dict] = {}
        self._tokens: dict[str, dict] = {}
        self._server = None
        self._thread = None

    # --- running ---------------------------------------------------------------------------

    def start(self) -> OidcProvider:
        self._server = make_server("127.0.0.1", 0, self._wsgi_app(), threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="oidc-provider", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> OidcProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def settings(self, **extra: str) -> dict[str, str]:
        """The application's RCP_PSC_* settings for this provider."""
        return {
            "RCP_PSC_ISSUER": self.issuer,
            "RCP_PSC_CLIENT_ID": self.client_id,
            "RCP_PSC_CLIENT_SECRET": self.client_secret,
            **extra,
        }

    # --- the endpoints ---------------------------------------------------------------------

    def _wsgi_app(self) -> Flask:
        app = Flask("oidc_provider")
        app.add_url_rule("/.well-known/openid-configuration", view_func=self._discovery)
        app.add_url_rule("/jwks", view_func=self._jwks)
        app.add_url_rule("/authorize", view_func=self._authorize)
        app.add_url_rule("/token", view_func=self._token, methods=["POST"])
        app.add_url_rule("/userinfo", view_func=self._userinfo)
        return app

    def _discovery(self):
        return jsonify(
            issuer=self.issuer,
            authorization_endpoint=f"{self.issuer}/authorize",
            token_endpoint=f"{self.issuer}/token",
            userinfo_endpoint=f"{self.issuer}/userinfo",
            jwks_uri=f"{self.issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
            code_challenge_methods_supported=["S256"],
            scopes_supported=["openid", "scope_all"],
            claims_supported=["sub", "SubjectNameID", "given_name", "family_name"],
        )

    def _jwks(self):
        return jsonify(KeySet([self.key]).as_dict(private=False))

    def _authorize(self):
        args = request.args.to_dict()
        self.authorize_requests.append(args)
        redirect_uri = args.get("redirect_uri")
        if args.get("client_id") != self.client_id or not redirect_uri:
            return "client_id ou redirect_uri invalide", 400
        back = {"state": args.get("state", "")}
        if args.get("response_type") != "code" or "openid" not in args.get("scope", "").split():
            return redirect(_with(redirect_uri, error="invalid_request", **back))
        if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
            return redirect(
                _with(redirect_uri, error="invalid_request", error_description="PKCE S256", **back)
            )
        if self.behaviour.deny or self.national_id is None:
            return redirect(_with(redirect_uri, error="access_denied", **back))
        code = secrets.token_urlsafe(24)
        self._codes[code] = {
            "redirect_uri": redirect_uri,
            "code_challenge": args["code_challenge"],
            "nonce": args.get("nonce"),
            "national_id": self.national_id,
        }
        return redirect(_with(redirect_uri, code=code, **back))

    def _token(self):
        form = request.form.to_dict()
        self.token_requests.append(form)
        client_id, secret = _client_credentials(form)
        if client_id != self.client_id or secret != self.client_secret:
            return self._refuse("invalid_client", 401)
        if form.get("grant_type") != "authorization_code":
            return self._refuse("unsupported_grant_type")
        grant = self._codes.pop(form.get("code", ""), None)  # a code serves once
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"]:
            return self._refuse("invalid_grant")
        verifier = form.get("code_verifier") or ""
        if create_s256_code_challenge(verifier) != grant["code_challenge"]:
            return self._refuse("invalid_grant")  # PKCE: not the verifier of this challenge
        access_token = secrets.token_urlsafe(24)
        self._tokens[access_token] = grant
        return jsonify(
            access_token=access_token,
            token_type="Bearer",
            expires_in=120,
            id_token=self._id_token(grant),
        )

    def _refuse(self, error: str, status: int = 400):
        self.token_refusals.append(error)
        return jsonify(error=error), status

    def _id_token(self, grant: dict) -> str:
        b = self.behaviour
        now = int(time.time())
        # Expired well beyond any clock leeway the client allows.
        issued = now - 3600 if b.expired else now
        claims = {
            "iss": self.issuer,
            "sub": _subject(grant["national_id"]),
            "aud": b.audience or self.client_id,
            "iat": issued,
            "exp": issued + 300,
            "auth_time": issued,
            "acr": "eidas1",
            "nonce": b.nonce or grant["nonce"],
        }
        if b.authorized_party:
            claims["azp"] = b.authorized_party
        if b.subject_in_id_token:
            claims["SubjectNameID"] = grant["national_id"]
        key = self.foreign_key if b.foreign_key else self.key
        return jwt.encode({"alg": "RS256", "kid": KEY_ID}, claims, key)

    def _userinfo(self):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        grant = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if grant is None:
            return jsonify(error="invalid_token"), 401
        return jsonify(
            sub=_subject(grant["national_id"]),
            SubjectNameID=grant["national_id"],
            given_name="Professionnel",
            family_name="De Test",
        )


def _subject(national_id: str) -> str:
    """PSC's ``sub`` is a technical identifier, not the RPPS."""
    return "psc-" + base64.urlsafe_b64encode(national_id.encode()).decode().rstrip("=")


def _with(uri: str, **params: str) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _client_credentials(form: dict) -> tuple[str | None, str | None]:
    """client_secret_basic (Authorization header) or client_secret_post (form fields)."""
    if request.authorization and request.authorization.type == "basic":
        return request.authorization.username, request.authorization.password
    return form.get("client_id"), form.get("client_secret")
