"""Every GET route, as every role, on seeded data (the access matrix's URLs and objects, then
the same-site links their pages offer):

- writes nothing but audit rows (a GET must not create sessions, drafts, anything);
- answers ``Cache-Control: no-store`` unless it serves a static file (patient documents,
  agendas, .ics, attachments, mailbox messages and pages must not be cached anywhere).

The routes come from the access matrix, which ``test_every_route_is_in_the_matrix`` keeps
equal to the route table; the tables come from the models' metadata.

The JSON API's GET operations are walked twice: by the web roles above (a session cookie gets
401), and with a bearer token on the establishment's world (tests/api/examples.py), where a
GET may add audit rows and count the client's call (its quota), nothing else.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from rcp_app.extensions import db
from tests.api.conftest import api  # noqa: F401 (a fixture)
from tests.api.examples import EXAMPLES, Context
from tests.api.examples import world as api_world
from tests.support.access_routes import api_operations, rolled_back
from tests.support.crawler import parse_page
from tests.support.factories import PASSWORD
from tests.test_access_matrix import ROLES, matrix, world  # noqa: F401 (world: a fixture)

# The only table a GET may add rows to: reading patient data is audited.
AUDIT_TABLES = {"audit_log"}
# With a bearer token, the client's calls are counted too (its quota).
API_TABLES = AUDIT_TABLES | {"api_rate_windows"}
# Links followed beyond the matrix's URLs, per role: one per link shape.
MAX_LINKS = 150


def get_rows(app) -> list[tuple]:
    return [row for row in matrix(app) if row[1] == "GET"]


def test_every_get_route_is_walked(app):
    """The walk covers the route table's GET routes (through the matrix)."""
    routes = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    assert routes == {endpoint for endpoint, *_ in get_rows(app)}


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        counts = {
            name: db.session.scalar(select(func.count()).select_from(table))
            for name, table in db.metadata.tables.items()
        }
        db.session.rollback()
        return counts


def _log_in(client, make, world_objects, role: str) -> None:
    """The world's physician and coordinator are in its care team / run its RCP."""
    if role == "anonymous":
        return
    user = world_objects["users"].get(role) or make.user(role=role)
    response = client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def _shape(url: str) -> tuple:
    """A link's kind: its path with the ids blanked, and its query's parameter names."""
    parts = urlsplit(url)
    names = tuple(sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)}))
    return re.sub(r"/\d+", "/#", parts.path), names


def _links_and_get_forms(html: str, url: str) -> list[str]:
    """The page's same-site links, and its GET forms submitted with their default values and
    the first real option of each list (the case registration chooses its RCP through one)."""
    forms, links = parse_page(html, url)
    for form in forms:
        if form.method == "GET":
            chosen = {
                f.name: f.value or next((o for o in f.options if o), "")
                for f in form.fields
                if f.kind == "select"
            }
            values = [(name, chosen.get(name, value)) for name, value in form.default_values()]
            links.append(f"{urlsplit(form.action).path}?{urlencode(values)}")
    return links


@pytest.mark.parametrize("role", ROLES)
def test_get_routes_write_nothing_but_audit_rows(app, client, make, world, role):  # noqa: F811
    _log_in(client, make, world, role)
    assert len(db.metadata.tables) > 20  # the models are loaded: the walk counts every table
    queue = [template.format(**world) for _endpoint, _method, template, _ in get_rows(app)]
    seen = {_shape(url) for url in queue}
    writes, followed = [], 0
    while queue:
        url = queue.pop(0)
        before = _row_counts(app)
        response = client.get(url)
        after = _row_counts(app)
        changed = {
            name: after[name] - before[name]
            for name in before
            if name not in AUDIT_TABLES and after[name] != before[name]
        }
        if changed:
            writes.append(f"GET {url}: {changed}")
        if response.mimetype == "text/html" and response.status_code == 200:
            for link in _links_and_get_forms(response.get_data(as_text=True), url):
                if _shape(link) not in seen and followed < MAX_LINKS:
                    seen.add(_shape(link))
                    followed += 1
                    queue.append(link)
        response.close()
    assert writes == [], "\n".join(writes)


@pytest.mark.parametrize("role", ROLES)
def test_every_non_static_response_is_no_store(app, client, make, world, role):  # noqa: F811
    _log_in(client, make, world, role)
    cached = []
    mimetypes = set()
    for endpoint, _method, template, _expected in get_rows(app):
        url = template.format(**world)
        response = client.get(url)
        response.close()
        mimetypes.add(response.mimetype)
        if endpoint == "static":
            assert response.headers.get("Cache-Control") != "no-store", url
        elif response.headers.get("Cache-Control") != "no-store":
            cached.append(
                f"GET {url} ({endpoint}) → {response.status_code} {response.mimetype}: "
                f"Cache-Control={response.headers.get('Cache-Control')!r}"
            )
    assert cached == [], "\n".join(cached)
    if role == "coordinator":  # the walk reaches the patient documents, not only pages
        assert {"application/pdf", "text/calendar"} <= mimetypes, mimetypes


def test_api_get_operations_write_nothing_and_are_no_store(app, make, api):  # noqa: F811
    """Every GET operation of the API, with a token holding its scope, on the world's objects:
    it answers its example's 2xx, writes nothing but audit rows and its quota count, and
    answers ``Cache-Control: no-store`` (patient data, documents)."""
    objects = api_world(app, make)
    caller = api(establishment=objects["establishment"])
    problems = []
    operations = [op for op in api_operations(app) if op.method == "GET"]
    assert operations, "no API GET operation found"
    for operation in operations:
        example = EXAMPLES[operation.key]
        with rolled_back(app):
            request = example.request(
                example.prepared(Context(app, make, objects, caller), objects)
            )
            before = _row_counts(app)
            response = request.send(caller.http, caller.headers())
            response.close()
            after = _row_counts(app)
        label = f"GET {request.url} ({operation.endpoint}) → {response.status_code}"
        if response.status_code not in example.ok:
            problems.append(f"{label}: expected {sorted(example.ok)}")
        changed = {
            name: after[name] - before[name]
            for name in before
            if name not in API_TABLES and after[name] != before[name]
        }
        if changed:
            problems.append(f"{label}: wrote {changed}")
        if response.headers.get("Cache-Control") != "no-store":
            problems.append(f"{label}: Cache-Control={response.headers.get('Cache-Control')!r}")
    assert problems == [], "\n".join(problems)
