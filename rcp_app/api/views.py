"""The /api/v1 blueprint: OAuth endpoints, the OpenAPI document and its page, the resources.

No view here reads the session cookie: the API is opened by a bearer token only (guard.py).
CSRF does not apply (no cookie authenticates), so the blueprint is exempt from it.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from ..core.patient_data import no_patient_data
from ..extensions import csrf
from .oauth import authorization
from .spec import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.post("/oauth/token")
@no_patient_data
def token():
    """OAuth 2.0 token endpoint (client credentials; HTTP Basic or form authentication)."""
    return authorization.create_token_response()


@bp.post("/oauth/revoke")
@no_patient_data
def revoke():
    """OAuth 2.0 token revocation (RFC 7009)."""
    return authorization.create_endpoint_response("revocation")


@bp.get("/openapi.json")
@no_patient_data
def openapi():
    return current_app.json.response(document())


@bp.get("/documentation")
@no_patient_data
def documentation():
    return render_template("api/documentation.html", document=document())


def register_resources() -> None:
    """Import the resource modules: their routes join ``bp`` before it is registered."""
    from . import webhooks  # noqa: F401  (signal receivers: events → outbox)
    from .resources import cases, decisions, fiches, patients, sessions  # noqa: F401
    from .resources import webhooks as webhook_resources  # noqa: F401
