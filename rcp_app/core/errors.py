"""Domain errors raised by operations and the French error pages."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..extensions import db

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A business rule refused an operation; the message is French and shown to the user."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(DomainError):
    """The object changed under the user's feet, or the action clashes with its state."""

    status_code = 409


class PermissionDenied(DomainError):
    status_code = 403


ERROR_TITLES = {
    400: (
        "Requête invalide",
        "La demande n'a pas pu être comprise. Vérifiez les informations saisies.",
    ),
    401: (
        "Authentification requise",
        "Un jeton d'accès valide est nécessaire (OAuth 2.0, identifiants client).",
    ),
    403: ("Accès refusé", "Vous n'avez pas les droits nécessaires pour accéder à cette page."),
    404: ("Page introuvable", "La page ou l'élément demandé n'existe pas ou n'existe plus."),
    405: ("Méthode non autorisée", "Cette action n'est pas possible sur cette page."),
    406: ("Format non disponible", "Le format demandé n'est pas disponible pour cette ressource."),
    409: ("Conflit", "L'élément a été modifié entre-temps ou son état ne permet pas cette action."),
    412: (
        "Version périmée",
        "L'élément a été modifié depuis votre lecture (If-Match) : relisez-le puis recommencez.",
    ),
    413: ("Fichier trop volumineux", "Le fichier envoyé dépasse la taille autorisée."),
    415: (
        "Format non pris en charge",
        "Le corps de la requête doit être du JSON (application/json).",
    ),
    422: ("Données refusées", "Certaines valeurs envoyées ne sont pas acceptées."),
    428: (
        "Version requise",
        "Une modification doit porter l'en-tête If-Match avec l'ETag de la version lue.",
    ),
    429: (
        "Trop de tentatives",
        "Trop de demandes en peu de temps. Réessayez dans quelques minutes.",
    ),
    503: (
        "Service momentanément indisponible",
        "La base de données ne répond pas pour le moment. Votre dernière action n'a pas été "
        "enregistrée : réessayez dans quelques secondes.",
    ),
    500: (
        "Erreur interne",
        "Une erreur inattendue s'est produite. Elle a été enregistrée ; réessayez plus tard.",
    ),
}


API_PREFIX = "/api/"


def is_api_request() -> bool:
    """The JSON API answers its errors in JSON, never with an HTML page."""
    return request.path.startswith(API_PREFIX)


def problem(status: int, detail: str | None = None, errors: list[dict] | None = None, **extra):
    """An RFC 9457 problem document (application/problem+json), titles and details in French;
    ``errors`` lists ``{"field", "message"}`` pairs, one per refused field."""
    title, default_text = ERROR_TITLES.get(status, ERROR_TITLES[500])
    body = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail or default_text
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    return response


def render_error(status: int, detail: str | None = None):
    if is_api_request():
        return problem(status, detail), status
    title, default_text = ERROR_TITLES.get(status, ERROR_TITLES[500])
    return (
        render_template(
            # errors/403.html offers the exceptional access to a physician refused a record.
            [f"errors/{status}.html", "errors/error.html"],
            status=status,
            title=title,
            text=detail or default_text,
        ),
        status,
    )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        db.session.rollback()
        return render_error(error.status_code, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(_error):
        return render_error(
            400, "Le formulaire a expiré ou n'est pas valide. Rechargez la page et recommencez."
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        if status in ERROR_TITLES:
            detail = error.description if getattr(error, "rcp_detail", False) else None
            return render_error(status, detail)
        return error

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        return unexpected_error(app, error)


def unexpected_error(app: Flask, error: Exception):
    """A bug: logged with its traceback, answered with the generic 500 page."""
    try:
        db.session.rollback()
    except Exception:  # the connection itself may be gone
        db.session.remove()
    log.exception("Unhandled error on %s %s", request.method, request.path)
    if app.testing and app.config.get("RCP_PROPAGATE_ERRORS_IN_TESTS", True):
        raise error
    return render_error(500)
