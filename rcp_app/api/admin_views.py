"""The administrator's pages for API clients (being written)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api_admin", __name__, url_prefix="/admin/clients-api")
