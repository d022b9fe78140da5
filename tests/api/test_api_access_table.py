"""Client × scope × establishment, for every API operation of the route table.

Each operation (a rule under /api/v1 whose view carries the scope ``guard.api_call`` set) is
called with its example request (tests/api/examples.py) four times:

1. without a token → 401;
2. by a client of the right establishment holding every scope but the operation's → 403;
3. by a client of another establishment holding every scope → what ``foreign`` says (404 on an
   object, word for word the 404 of an id that exists nowhere; an empty list; a refused
   creation; or the client's own data);
4. by a client of the right establishment holding only the operation's scope → the example's
   2xx (so that scope alone suffices).

Each request runs in a savepoint rolled back afterwards: a deletion or a creation changes
nothing for the next one. ``pytest -s`` prints the table.
"""

from __future__ import annotations

from dataclasses import dataclass

from rcp_app.api.models import SCOPES
from rcp_app.api.operations import MAX_RATE
from rcp_app.core.converters import MAX_ID
from tests.api.examples import EMPTY, EXAMPLES, HIDDEN, OWN, REFUSED, Context, Example, world
from tests.support.access_routes import api_operations, public_api_routes, rolled_back

GUARD_STATUSES = {"401", "403", "429"}
RATE = MAX_RATE  # the table must never meet a quota


def test_every_operation_has_an_example(app):
    operations = {operation.key for operation in api_operations(app)}
    assert operations, "no API operation found in the route table: the guard's mark changed?"
    missing = sorted(f"{method} {endpoint}" for endpoint, method in operations - set(EXAMPLES))
    assert missing == [], "API operations without an example in tests/api/examples.py"
    stale = sorted(f"{method} {endpoint}" for endpoint, method in set(EXAMPLES) - operations)
    assert stale == [], "examples for operations that no longer exist"


# The only API routes a request without a token may open. A new route missing its
# ``guard.api_call`` would otherwise count as public (and its 200 pass the access matrix).
PUBLIC = {
    ("api.token", "POST"),
    ("api.revoke", "POST"),
    ("api.openapi", "GET"),
    ("api.documentation", "GET"),
}


def test_only_the_known_routes_are_open_without_a_token(app):
    assert {route.key for route in public_api_routes(app)} == PUBLIC


def test_every_operation_is_documented_with_its_scope(app, client):
    """The OpenAPI document names each guarded operation with the scope its guard checks, and
    the refusals the guard itself answers (401, 403, 429)."""
    document = client.get("/api/v1/openapi.json").get_json()
    problems = []
    for operation in api_operations(app):
        path = operation.rule.removeprefix("/api/v1").replace("<int:", "{").replace("<", "{")
        path = "/api/v1" + path.replace(">", "}")
        documented = document["paths"].get(path, {}).get(operation.method.lower())
        if documented is None:
            problems.append(f"{operation}: not in the OpenAPI document")
            continue
        if documented.get("security") != [{"oauth2": [operation.scope]}]:
            problems.append(f"{operation}: security {documented.get('security')}")
        # The guard's own answers: no token, no scope, quota exceeded.
        undocumented = GUARD_STATUSES - set(documented.get("responses", {}))
        if undocumented:
            problems.append(f"{operation}: the guard's {sorted(undocumented)} not documented")
    assert problems == [], "\n".join(problems)


@dataclass
class Row:
    label: str
    scope: str
    expected: list[str]
    seen: list[str]
    passed: list[bool]
    failures: list[str]


def _outcome(response) -> str:
    body = response.get_json(silent=True)
    if response.status_code < 300 and isinstance(body, dict) and "items" in body:
        return f"{response.status_code} ({len(body['items'])} él.)"
    return str(response.status_code)


def _status_failure(response, expected) -> str | None:
    if response.status_code in expected:
        return None
    return f"{response.status_code}, expected {'/'.join(map(str, sorted(expected)))}"


def _foreign_failure(example: Example, response) -> str | None:
    status = response.status_code
    if example.foreign == HIDDEN and status != 404:
        return f"{status}, expected 404"
    if example.foreign == EMPTY:
        body = response.get_json(silent=True) or {}
        if status != 200 or body.get("items") != []:
            return f"{status} {str(body)[:200]}, expected an empty list"
    if example.foreign == REFUSED and status not in (404, 422):
        return f"{status}, expected 404 or 422"
    if example.foreign == OWN and not 200 <= status < 300:
        return f"{status}, expected 2xx"
    return None


def _nowhere(values: dict) -> dict:
    """The world's values with every id replaced by one no row has."""
    return {
        key: MAX_ID if isinstance(value, int) and not isinstance(value, bool) else value
        for key, value in values.items()
    }


def _call(app, http, example: Example, values: dict, context: Context, token: str | None):
    with rolled_back(app):
        request = example.request(example.prepared(context, values))
        response = request.send(http, {"Authorization": f"Bearer {token}"} if token else None)
        response.get_data()
        response.close()
    return request, response


def test_access_table(app, make, api):
    objects = world(app, make)
    own, other = objects["establishment"], objects["other_establishment"]
    everything = api(establishment=other, rate=RATE)
    scoped = {scope: api(scopes=(scope,), establishment=own, rate=RATE) for scope in SCOPES}
    without = {
        scope: api(scopes=tuple(s for s in SCOPES if s != scope), establishment=own, rate=RATE)
        for scope in SCOPES
    }
    http = app.test_client()
    rows = []
    for operation in api_operations(app):
        example = EXAMPLES.get(operation.key)
        if example is None:
            rows.append(Row(str(operation), operation.scope, [], [], [], ["no example"]))
            continue
        assert example.method == operation.method, operation
        context = Context(app, make, objects, scoped[operation.scope])
        columns = (
            ("401", None, lambda r: _status_failure(r, {401})),
            ("403", without[operation.scope].token, lambda r: _status_failure(r, {403})),
            (example.foreign, everything.token, lambda r, e=example: _foreign_failure(e, r)),
            (
                "/".join(map(str, sorted(example.ok))),
                scoped[operation.scope].token,
                lambda r, e=example: _status_failure(r, e.ok),
            ),
        )  # fmt: skip
        row = Row(str(operation), operation.scope, [], [], [], [])
        for number, (expected, token, failure_of) in enumerate(columns, start=1):
            request, response = _call(app, http, example, objects, context, token)
            row.expected.append(expected)
            row.seen.append(_outcome(response))
            failure = failure_of(response)
            if failure is None and number == 3 and example.foreign == HIDDEN:
                _, absent = _call(app, http, example, _nowhere(objects), context, token)
                if absent.get_json(silent=True) != response.get_json(silent=True):
                    failure = (
                        f"its 404 differs from that of an id that exists nowhere "
                        f"({absent.status_code} {absent.get_data(as_text=True)[:200]})"
                    )
            row.passed.append(failure is None)
            if failure:
                body = response.get_data(as_text=True)[:300]
                row.failures.append(
                    f"{operation} column {number} ({request.method} {request.url}): {failure} "
                    f"— {body}"
                )
        rows.append(row)
    _print(rows)
    failures = [failure for row in rows for failure in row.failures]
    assert failures == [], "\n".join(failures)


def _print(rows: list[Row]) -> None:
    headers = ("opération", "portée", "sans jeton", "sans la portée", "autre établ.", "établ.")
    table = [headers] + [
        (
            row.label,
            row.scope,
            *(f"{s} {'✓' if ok else '✗'}" for s, ok in zip(row.seen, row.passed, strict=True)),
            *["—"] * (4 - len(row.seen)),
        )
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in table) for i in range(len(headers))]
    print()
    for line in table:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths, strict=True)))
    print("\nAutre établissement :")
    for row in rows:
        print(f"  {row.label}: {row.expected[2] if row.expected else '—'}")
