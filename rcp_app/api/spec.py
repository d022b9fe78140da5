"""The OpenAPI 3.1 document, generated from the code by spectree.

Why spectree: it decorates plain Flask views (our blueprints, our error handlers, our unit of
work stay as they are), validates requests and responses against pydantic v2 models, and
writes OpenAPI 3.1 (JSON Schema 2020-12, what pydantic emits). flask-openapi3 would replace
the Flask application class; flask-smorest writes 3.0-style schemas from marshmallow. The
document is built from the same models that validate the requests, so it cannot drift.

Request validation errors become French problem documents (``errors.problem``), one entry
per refused field; the page at /api/v1/documentation is rendered on the server from the same
document (no script, under the CSP).
"""

from __future__ import annotations

import copy

from flask import abort
from pydantic import BaseModel, Field
from spectree import SecurityScheme, SecuritySchemeData, SpecTree

from ..core.errors import problem
from .models import SCOPES

TOKEN_URL = "/api/v1/oauth/token"  # noqa: S105 (an address, not a secret)

_TYPE_MESSAGES = {
    "missing": "Champ obligatoire.",
    "string_type": "Texte attendu.",
    "string_too_long": "Texte trop long ({max_length} caractères au maximum).",
    "string_too_short": "Texte trop court ({min_length} caractère(s) au minimum).",
    "string_pattern_mismatch": "Format invalide.",
    "int_type": "Nombre entier attendu.",
    "int_parsing": "Nombre entier attendu.",
    "int_from_float": "Nombre entier attendu.",
    "float_type": "Nombre attendu.",
    "float_parsing": "Nombre attendu.",
    "bool_type": "Booléen attendu (true ou false).",
    "bool_parsing": "Booléen attendu (true ou false).",
    "date_type": "Date attendue (AAAA-MM-JJ).",
    "date_parsing": "Date invalide (format AAAA-MM-JJ).",
    "date_from_datetime_parsing": "Date invalide (format AAAA-MM-JJ).",
    "date_from_datetime_inexact": "Date attendue sans heure (AAAA-MM-JJ).",
    "datetime_type": "Date et heure attendues (ISO 8601).",
    "datetime_parsing": "Date et heure invalides (ISO 8601).",
    "datetime_from_date_parsing": "Date et heure invalides (ISO 8601).",
    "literal_error": "Valeur inconnue : valeurs permises {expected}.",
    "enum": "Valeur inconnue : valeurs permises {expected}.",
    "extra_forbidden": "Champ inconnu.",
    "list_type": "Liste attendue.",
    "dict_type": "Objet JSON attendu.",
    "model_type": "Objet JSON attendu.",
    "model_attributes_type": "Objet JSON attendu.",
    "greater_than_equal": "Valeur trop petite (minimum {ge}).",
    "less_than_equal": "Valeur trop grande (maximum {le}).",
    "greater_than": "Valeur trop petite (doit dépasser {gt}).",
    "less_than": "Valeur trop grande (doit rester sous {lt}).",
    "too_long": "Trop d'éléments ({max_length} au maximum).",
    "too_short": "Pas assez d'éléments ({min_length} au minimum).",
    "json_invalid": "Le corps n'est pas un JSON valide.",
    "url_parsing": "Adresse invalide.",
    "url_scheme": "Adresse invalide : https:// attendu.",
}


def french_message(error: dict) -> str:
    template = _TYPE_MESSAGES.get(error.get("type", ""), "Valeur invalide.")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return template.split(":")[0].split("(")[0].strip() + "."


def field_path(location) -> str:
    """pydantic's location ('body', 'tumours', 0, 'topography') as 'tumours[0].topography'."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path


def _french_validation_error(request, response, error, _instance, adapter) -> None:
    """spectree's ``before`` hook: a refused request gets our French problem document."""
    if error is None:
        return
    # pydantic's own list keeps each error's context (the limits the messages quote);
    # spectree's adapter drops it.
    items = (
        error.errors(include_url=False, include_context=True, include_input=False)
        if hasattr(error, "errors")
        else adapter.validation_errors(error)
    )
    errors = [
        {"field": field_path(item.get("loc", ())), "message": french_message(item)}
        for item in items
    ]
    abort(problem(422, "Certaines valeurs envoyées ne sont pas acceptées.", errors))


class FieldError(BaseModel):
    field: str | None = Field(description="Champ refusé (chemin : tumours[0].topography_code)")
    message: str = Field(description="Motif, en français")


class Problem(BaseModel):
    """RFC 9457 problem document (application/problem+json), en français."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    current_etag: str | None = None


spec = SpecTree(
    "flask",
    title="API RCP — connexion des systèmes hospitaliers",
    version="1.0.0",
    description=(
        "API JSON des réunions de concertation pluridisciplinaire (RCP) : patients, dossiers, "
        "séances, décisions et fiches RCP signées (PDF, CDA R2 « CR-RCP », FHIR R4). "
        "Authentification OAuth 2.0 « client credentials » ; chaque appel est journalisé."
    ),
    # Only spectree's own document routes live under this prefix; we do not register them.
    path="api/v1/spectree",
    filename="openapi.json",
    page_templates={},  # our own page, under the CSP (views.documentation)
    mode="strict",
    annotations=True,
    before=_french_validation_error,
    validation_error_model=Problem,
    # Readable schema names (PatientOut, not PatientOut.8159b5d): our model names are unique.
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
    security_schemes=[
        SecurityScheme(
            name="oauth2",
            data=SecuritySchemeData(
                type="oauth2",
                flows={"clientCredentials": {"tokenUrl": TOKEN_URL, "scopes": SCOPES}},
            ),
        )
    ],
)


def require_json(body) -> None:
    """spectree hands the view ``json=None`` when the body is not JSON (a form, a file):
    answer 415 instead of failing on it."""
    if body is None:
        abort(problem(415))


def secured(scope: str) -> dict:
    """The ``security`` of an operation needing ``scope``."""
    return {"oauth2": [scope]}


_DOOR_ANSWERS = {
    "401": "Jeton absent, inconnu, expiré ou révoqué",
    "403": "Portée (scope) manquante",
    "429": "Quota d'appels dépassé (en-tête Retry-After)",
}


def _problem_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def document() -> dict:
    """The OpenAPI document as served: error responses are problem documents, so their media
    type is application/problem+json (what the responses carry), not application/json."""
    served = copy.deepcopy(spec.spec)
    for operations in served.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if operation.get("security"):
                # What the door (guard.py) may answer to any secured operation.
                for status, label in _DOOR_ANSWERS.items():
                    responses.setdefault(status, _problem_response(label))
            for status, response in responses.items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    content["application/problem+json"] = content.pop("application/json")
    return served
