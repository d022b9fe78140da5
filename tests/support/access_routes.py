"""The routes that can show patient data, read from the route table, and how to visit them.

``patient_data_routes`` lists every (endpoint, method) whose view is marked
``shows_patient_data`` (rcp_app/core/patient_data.py): a new route is in the list the day it
exists. ``build_url`` fills its URL from a world's objects and fails on a placeholder it cannot
fill, so a route with a new kind of id cannot be skipped silently.

``visit`` runs one request inside a savepoint rolled back afterwards: a POST that succeeds (an
agenda line taken off, a case withdrawn) changes nothing for the next visit, and the order of
the visits does not matter.

The /api/v1 routes are read from the same table: ``api_operations`` lists those guarded by
``guard.api_call`` (a bearer token with a scope opens them, never a session cookie), the other
API routes (``public_api_routes``: OAuth endpoints, the OpenAPI document and its page) need no
token.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from html import unescape
from io import BytesIO

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from rcp_app.api.guard import SCOPE_ATTRIBUTE
from rcp_app.core.patient_data import patient_data_methods
from rcp_app.extensions import db
from tests.support.factories import PASSWORD

# URL placeholder → key of the world's ids (or a fixed value).
ARGUMENTS: dict[str, str | int] = {
    "patient_id": "patient",
    "case_id": "case",
    "session_id": "session",
    "item_id": "item",
    "attachment_id": "attachment",
    "fiche_id": "fiche",
    "follow_up_id": "follow_up",
    "plan_id": "care_plan",
    "decision_id": "decision",  # the API's decisions
    "access_id": "access",
    "name": "message",  # the development mailbox: a stored message's file name
    "version": 1,
    "index": 1,
}


@dataclass(frozen=True)
class Route:
    endpoint: str
    method: str
    rule: str
    arguments: frozenset[str]

    @property
    def session_page(self) -> bool:
        """A page of a whole session (its agenda): it lists several patients, and leaves out
        those outside the reader's care teams rather than refusing the page."""
        return self.arguments == {"session_id"}

    def __str__(self) -> str:
        return f"{self.method} {self.rule} ({self.endpoint})"


def patient_data_routes(app) -> list[Route]:
    routes = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted(patient_data_methods(view, rule.methods - {"HEAD", "OPTIONS"})):
            routes.append(Route(rule.endpoint, method, rule.rule, frozenset(rule.arguments)))
    return sorted(routes, key=lambda r: (r.rule, r.method))


def web_patient_data_routes(app) -> list[Route]:
    """The patient-data routes a session cookie opens (the API's answer 401 to it)."""
    return [route for route in patient_data_routes(app) if not is_api_rule(route.rule)]


# --- the JSON API ----------------------------------------------------------------------------

API_PREFIX = "/api/v1/"


def is_api_rule(rule: str) -> bool:
    return rule.startswith(API_PREFIX)


def api_scope(view) -> str | None:
    """The scope ``guard.api_call`` set on a view, through the decorators above it."""
    while view is not None:
        scope = getattr(view, SCOPE_ATTRIBUTE, None)
        if scope is not None:
            return scope
        view = getattr(view, "__wrapped__", None)
    return None


@dataclass(frozen=True)
class ApiOperation:
    endpoint: str
    method: str
    rule: str
    scope: str | None  # None: a public route (no token)
    arguments: frozenset[str]

    @property
    def key(self) -> tuple[str, str]:
        return self.endpoint, self.method

    def __str__(self) -> str:
        return f"{self.method} {self.rule} ({self.endpoint})"


def _api_routes(app) -> list[ApiOperation]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not is_api_rule(rule.rule):
            continue
        scope = api_scope(app.view_functions[rule.endpoint])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append(
                ApiOperation(rule.endpoint, method, rule.rule, scope, frozenset(rule.arguments))
            )
    return sorted(routes, key=lambda r: (r.rule, r.method))


def api_operations(app) -> list[ApiOperation]:
    """Every (endpoint, method) under /api/v1 whose view needs a bearer token with a scope."""
    return [route for route in _api_routes(app) if route.scope is not None]


def public_api_routes(app) -> list[ApiOperation]:
    """The API routes open without a token: OAuth endpoints, the OpenAPI document, its page."""
    return [route for route in _api_routes(app) if route.scope is None]


def build_url(app, route: Route, ids: dict) -> str:
    values = {}
    for argument in sorted(route.arguments):
        if argument not in ARGUMENTS:
            pytest.fail(
                f"{route}: no world object for <{argument}>; add it to ARGUMENTS "
                "(tests/support/access_routes.py) so the route is tested"
            )
        key = ARGUMENTS[argument]
        if isinstance(key, str) and key not in ids:
            pytest.fail(f"{route}: the world has no {key!r} for <{argument}>")
        values[argument] = ids[key] if isinstance(key, str) else key
    adapter = app.url_map.bind("rcp.test")
    return adapter.build(route.endpoint, values, method=route.method)


def login(app, user):
    client = app.test_client()
    response = client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, f"{user.username} could not log in"
    location = response.headers["Location"]
    assert "/connexion" not in location, f"{user.username} ({user.role}) was sent to {location}"
    # The welcome message is shown once, on the next page: read it now (on the account page,
    # every role has one), so that every page visited afterwards renders the same way.
    with rolled_back(app):
        client.get("/compte").close()
    return client


@contextmanager
def rolled_back(app):
    with app.app_context():
        connection = db._app_engines[app][None]  # the test's connection (tests/conftest.py)
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()


@dataclass(frozen=True)
class Seen:
    status: int
    location: str
    text: str
    target: str | None  # the endpoint a redirect leads to

    @property
    def refused(self) -> bool:
        """403, or a redirect to the exceptional-access page (which is a refusal too)."""
        return self.status == 403 or (
            self.location != "" and "acces-exceptionnel" in self.location.split("?")[0]
        )

    @property
    def through(self) -> bool:
        """The page (2xx), a redirect elsewhere than the login or exceptional-access page, or
        a refused form (400, 409, 422: the user got past the door)."""
        if self.refused or self.status in (401, 404) or self.status >= 500:
            return False
        return not (300 <= self.status < 400 and self.target == "auth.login")

    def describe(self) -> str:
        return f"HTTP {self.status}" + (f" → {self.location}" if self.location else "")


def visit(app, client, method: str, url: str, data: dict | None = None) -> Seen:
    if method == "POST" and not data:
        # A dummy field: Flask-WTF treats an empty body as no form data at all.
        data = {"_": "1"}
    with rolled_back(app):
        response = client.open(url, method=method, data=data)
        text = response_text(response)
        response.close()
    location = response.headers.get("Location", "")
    return Seen(response.status_code, location, text, _endpoint_of(app, location))


def _endpoint_of(app, location: str) -> str | None:
    if not location:
        return None
    path, _, query = location.partition("?")
    path = re.sub(r"^https?://[^/]+", "", path)
    try:
        endpoint, _ = app.url_map.bind("rcp.test").match(path, "GET", query_args=query)
    except RequestRedirect:
        return None
    except HTTPException:
        return None
    return endpoint


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_text(data: bytes) -> str:
    """The cells of a workbook, sheet by sheet, one line per row (its zip bytes carry dates)."""
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    lines = []
    for sheet in book.worksheets:
        lines.append(f"[{sheet.title}]")
        for row in sheet.iter_rows(values_only=True):
            lines.append("\t".join("" if cell is None else str(cell) for cell in row))
    book.close()
    return "\n".join(lines)


def response_text(response) -> str:
    data = response.get_data()
    if response.mimetype == "application/pdf":
        return pdf_text(data)
    if response.mimetype == XLSX:
        return xlsx_text(data)
    return data.decode("utf-8", "replace")


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(BytesIO(data))
        return "\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError):
        # A placeholder document (the test fiches are not real PDFs): its raw bytes.
        return data.decode("latin-1")


_TAGS = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
# What legitimately differs from one rendering to the next: dates and clock times.
_MOMENTS = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{1,2}[h:]\d{2}(:\d{2})?\b")


def visible_text(html: str) -> str:
    """The text a reader sees (tags, scripts, attributes dropped), dates and times masked."""
    text = unescape(_TAGS.sub(" ", html))
    return " ".join(_MOMENTS.sub("<moment>", text).split())
