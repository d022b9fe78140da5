"""The door of every API operation: a valid token with the scope, the client's quota, the
audit actor, and one audit row per call naming the client, the scope and the patients.

Order matters: the quota is counted first, in a transaction of its own (``ratelimit.py``);
then Authlib checks the token (unknown, expired, revoked, client revoked → 401; scope missing
→ 403); only then does the operation run. A session cookie never opens the API: only the
``Authorization: Bearer`` header does, so a logged-in browser cannot be made to call it
(no CSRF through the API).
"""

from __future__ import annotations

from functools import wraps

from authlib.oauth2 import OAuth2Error
from flask import g, request
from werkzeug.exceptions import HTTPException

from ..core import audit
from ..core.errors import DomainError, problem
from ..core.resilience import http_status
from ..extensions import db
from .models import ApiClient
from .oauth import require_oauth, token_hash
from .ratelimit import count_call

SCOPE_ATTRIBUTE = "rcp_api_scope"


def current_client() -> ApiClient:
    return g.rcp_api_client


def name_patients(*patient_ids: int | None) -> None:
    """The patients this call's response shows (the call's audit row names them)."""
    named = g.setdefault("rcp_api_patients", [])
    for patient_id in patient_ids:
        if patient_id is not None and patient_id not in named:
            named.append(patient_id)


def _bearer() -> str | None:
    kind, _, value = request.headers.get("Authorization", "").partition(" ")
    return value.strip() if kind.lower() == "bearer" and value.strip() else None


def _unauthorised(error: OAuth2Error):
    status = error.status_code or 401
    if status == 403:
        detail = "Ce client n'a pas la portée (scope) nécessaire à cette opération."
    else:
        detail = "Jeton d'accès absent, inconnu, expiré ou révoqué : demandez-en un nouveau."
    response = problem(status, detail)
    response.headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
    return response


def domain_problem(error: DomainError):
    """A refusal of an operation: 422 for invalid values (400 on the forms), its own status
    otherwise (409 conflict, 403); the field named when there is one."""
    per_field = getattr(error, "errors", None)
    if isinstance(per_field, dict):
        errors = [
            {"field": field, "message": message}
            for field, messages in per_field.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
    else:
        errors = [{"field": error.field, "message": error.message}] if error.field else None
    status = 422 if error.status_code == 400 else error.status_code
    return problem(status, error.message, errors)


def _audit_call(client: ApiClient, scope: str, status: int, refusal: str | None = None) -> None:
    patients = g.get("rcp_api_patients", [])
    details = {"scope": scope, "method": request.method, "path": request.path, "status": status}
    if len(patients) > 1:
        details["patients"] = patients
    if refusal:
        details["refusal"] = refusal
    audit.record(
        "api.call",
        "api_client",
        client.id,
        patient_id=patients[0] if len(patients) == 1 else None,
        details=details,
    )


def api_call(scope: str):
    """Bearer token with ``scope``, quota, audit. Put it right under the route's markers."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            token = _bearer()
            quota = count_call(token_hash(token)) if token and len(token) <= 200 else None
            try:
                access = require_oauth.acquire_token([scope])
            except OAuth2Error as error:
                return _unauthorised(error)
            client = access.client
            g.rcp_api_client = client
            audit.set_actor(audit.Actor(None, client.actor_name, request.remote_addr))
            if quota is not None and quota.exceeded:
                _audit_call(client, scope, 429, "quota")
                response = problem(
                    429,
                    f"Quota dépassé : {quota.limit} appels par minute pour ce client. "
                    f"Réessayez dans {quota.retry_after} s.",
                )
                response.headers["Retry-After"] = str(quota.retry_after)
                return response
            try:
                response = view(*args, **kwargs)
            except DomainError as error:
                db.session.rollback()
                g.pop("rcp_api_patients", None)
                response = domain_problem(error)
            except HTTPException as error:
                _audit_call(client, scope, http_status(error))
                raise
            status = getattr(response, "status_code", 200)
            _audit_call(client, scope, status)
            if quota is not None:
                response.headers["X-RateLimit-Limit"] = str(quota.limit)
                response.headers["X-RateLimit-Remaining"] = str(max(0, quota.limit - quota.used))
            return response

        setattr(wrapped, SCOPE_ATTRIBUTE, scope)
        return wrapped

    return decorator
