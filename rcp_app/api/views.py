"""The /api/v1 blueprint: OAuth endpoints, the OpenAPI document and its page, the resources.

No view here reads the session cookie: the API is opened by a bearer token only (guard.py).
CSRF does not apply (no cookie authenticates), so the blueprint is exempt from it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from ..core.patient_data import no_patient_data
from ..extensions import csrf
from .oauth import authorization
from .spec import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


# RFC 6749 error codes keep their names (clients test them); the description is French.
OAUTH_ERRORS = {
    "invalid_client": "Client inconnu, révoqué, ou secret incorrect.",
    "invalid_request": "Requête incomplète ou mal formée (grant_type, identifiants du client).",
    "invalid_grant": "Autorisation refusée.",
    "unauthorized_client": "Ce client n'est pas autorisé à utiliser ce type d'autorisation.",
    "unsupported_grant_type": "Seul grant_type=client_credentials est accepté.",
    "invalid_scope": "Portée (scope) inconnue ou non accordée à ce client.",
    "unsupported_token_type": "Type de jeton non pris en charge.",
}


def _french(response):
    """Authlib's error response, its description in French."""
    body = response.get_json(silent=True) if response.status_code >= 400 else None
    if isinstance(body, dict) and body.get("error") in OAUTH_ERRORS:
        body["error_description"] = OAUTH_ERRORS[body["error"]]
        response.set_data(current_app.json.dumps(body))
    return response


def _malformed_credentials():
    """An Authorization header Authlib cannot read (no value, Basic that is not UTF-8)."""
    response = jsonify(error="invalid_client", error_description=OAUTH_ERRORS["invalid_client"])
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Basic realm="rcp"'
    return response


@bp.post("/oauth/token")
@no_patient_data
def token():
    """OAuth 2.0 token endpoint (client credentials; HTTP Basic or form authentication)."""
    try:
        return _french(current_app.make_response(authorization.create_token_response()))
    except (ValueError, UnicodeDecodeError):
        return _malformed_credentials()


@bp.post("/oauth/revoke")
@no_patient_data
def revoke():
    """OAuth 2.0 token revocation (RFC 7009)."""
    try:
        return _french(
            current_app.make_response(authorization.create_endpoint_response("revocation"))
        )
    except (ValueError, UnicodeDecodeError):
        return _malformed_credentials()


@bp.get("/openapi.json")
@no_patient_data
def openapi():
    return current_app.json.response(document())


@bp.get("/documentation")
@no_patient_data
def documentation():
    return render_template("api/documentation.html", document=document())


def init_api(app) -> None:
    """Before the blueprint is registered: a JSON parser that survives hostile bodies, the
    OAuth server, the resources' routes."""
    from .jsonbody import SafeJSONProvider
    from .oauth import init_oauth

    app.json = SafeJSONProvider(app)
    init_oauth(app)
    register_resources()


def register_resources() -> None:
    """Import the resource modules: their routes join ``bp`` before it is registered."""
    from . import webhooks  # noqa: F401  (signal receivers: events → outbox)
    from .resources import cases, decisions, fiches, patients, sessions  # noqa: F401
    from .resources import webhooks as webhook_resources  # noqa: F401
