"""Schemathesis against the served OpenAPI document: every operation, authenticated.

The schema is loaded from the application (/api/v1/openapi.json, as clients read it), so every
operation a resource adds is exercised without being listed here. Each operation is called,
with a token holding every scope, on a world of one establishment (tests/api/examples.py: a
patient, cases, sessions, a signed fiche), four ways:

- positive data with the path's ids drawn from the world's objects (so that the operation
  reaches its work, not only its 404), and ``If-Match: *`` (so that updates are attempted);
- positive data with free ids;
- negative data (values outside the schema), where the operation takes any input;
- twice in a row by a client allowed one call a minute (the guard's 429).

Every response must pass: no 5xx, a documented status, the documented media type, a body and
headers matching the documented schemas. Each request runs in a savepoint rolled back after
it, so a deletion or a submission does not change the world for the next one.

Hypothesis examples per way and operation are bounded (``MAX_EXAMPLES``) and not stored.
``test_the_checks_can_fail`` proves on a broken operation that the harness reports both an
undocumented status and a body outside its schema.

schemathesis 4's pytest loader (``from_fixture``) does not run under pytest 9, so the
operations are driven here with ``APIOperation.as_strategy`` and Hypothesis directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import hypothesis.errors
import pytest
import schemathesis
from flask import Response as FlaskResponse
from flask import abort
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from rcp_app.api.operations import MAX_RATE
from rcp_app.core.errors import problem
from tests.api.conftest import ALL_SCOPES
from tests.api.examples import Context, subscription, world
from tests.support.access_routes import rolled_back

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
MAX_EXAMPLES = 12
SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
# Path parameter → the world's objects it may name (several: one per state worth reaching).
WORLD_IDS = {
    "patient_id": ("patient", "registered_patient"),
    "case_id": ("case", "draft"),
    "session_id": ("session", "planned_session"),
    "decision_id": ("decision",),
    "fiche_id": ("fiche",),
    "version": (1,),
    "subscription_id": ("subscription",),
}


@dataclass
class Harness:
    app: object
    schema: object
    headers: dict
    ids: dict
    one_call_a_minute: dict  # the headers of a client allowed one call a minute

    def operations(self):
        for result in self.schema.get_all_operations():
            yield result.ok()

    def pins(self, operation) -> st.SearchStrategy[dict] | None:
        """The path parameters drawn from the world (None: the path has none)."""
        names = [parameter.name for parameter in operation.path_parameters]
        if not names:
            return None
        unknown = [name for name in names if name not in WORLD_IDS]
        if unknown:
            pytest.fail(f"{operation.label}: add the world's objects for {unknown} to WORLD_IDS")
        choices = {
            name: st.sampled_from(
                [self.ids[key] if isinstance(key, str) else key for key in WORLD_IDS[name]]
            )
            for name in names
        }
        return st.fixed_dictionaries(choices)

    def run(self, operation) -> list[str]:
        """The failures of every way of calling ``operation``."""
        ways = []
        if operation.path_parameters:
            ways.append(("world ids", lambda: self._run(operation, GenerationMode.POSITIVE, True)))
        ways += [
            ("positive", lambda: self._run(operation, GenerationMode.POSITIVE, False)),
            ("negative", lambda: self._run(operation, GenerationMode.NEGATIVE, False)),
            ("quota exceeded", lambda: self._run_over_quota(operation)),
        ]
        failures = []
        for label, run in ways:
            try:
                run()
            except hypothesis.errors.Unsatisfiable:
                continue  # nothing to negate: the operation takes no input
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 (reported below)
                notes = "\n".join(getattr(error, "__notes__", ()))
                failures.append(
                    f"{operation.label} [{label}]: {type(error).__name__}: {error}\n{notes}"
                )
        return failures

    def _run(self, operation, mode: GenerationMode, pinned: bool) -> None:
        if pinned:
            strategy = self.pins(operation).flatmap(
                lambda pins: operation.as_strategy(generation_mode=mode, path_parameters=pins)
            )
            headers = {**self.headers, "If-Match": "*"}
        else:
            strategy = operation.as_strategy(generation_mode=mode)
            headers = self.headers

        @SETTINGS
        @given(case=strategy)
        def call(case):
            with rolled_back(self.app):
                case.call_and_validate(headers=headers, checks=CHECKS)

        call()

    def _run_over_quota(self, operation) -> None:
        """The second call of a client allowed one call a minute: the guard's 429 (or, when
        the minute turned between the two calls, the operation's own answer)."""

        @settings(SETTINGS, max_examples=2)
        @given(case=operation.as_strategy())
        def call(case):
            with rolled_back(self.app):
                case.call(headers=self.one_call_a_minute)
                case.validate_response(
                    case.call(headers=self.one_call_a_minute),
                    checks=CHECKS,
                    headers=self.one_call_a_minute,
                )

        call()


@pytest.fixture
def harness(app, make, api):
    ids = world(app, make)
    caller = api(scopes=ALL_SCOPES, establishment=ids["establishment"], rate=MAX_RATE)
    ids.update(subscription(Context(app, make, ids, caller)))
    frugal = api(scopes=ALL_SCOPES, establishment=ids["establishment"], rate=1)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return Harness(
        app,
        schema,
        {"Authorization": f"Bearer {caller.token}"},
        ids,
        {"Authorization": f"Bearer {frugal.token}"},
    )


def test_every_operation_conforms_to_the_document(harness):
    operations = list(harness.operations())
    assert len(operations) >= 10, "the OpenAPI document lost its operations"
    failures = []
    for operation in operations:
        failures += harness.run(operation)
    assert failures == [], f"{len(failures)} operation(s) outside the document:\n\n" + (
        "\n\n".join(failure[:3000] for failure in failures)
    )


def test_the_checks_can_fail(harness, monkeypatch):
    """A session read that answers an undocumented 409, then one whose 404 is not a problem
    document: the harness reports each. (A 2xx body outside its schema never leaves the
    application: spectree's strict mode turns it into a 500, which the harness reports too.)"""
    from rcp_app.api.resources import sessions

    [operation] = [
        op for op in harness.operations() if op.method == "get" and op.path.endswith("}")
        and "/sessions/" in op.path
    ]  # fmt: skip

    def conflict(*_args, **_kwargs):
        abort(problem(409, "Conflit fabriqué pour le test."))

    monkeypatch.setattr(sessions, "_agenda", conflict)
    failures = harness.run(operation)
    assert failures, "an undocumented 409 went unnoticed"
    assert all("Undocumented status code" in f and "409" in f for f in failures), failures

    monkeypatch.undo()

    def bare_not_found(_detail):
        abort(FlaskResponse('{"status": 404}', 404, mimetype="application/problem+json"))

    monkeypatch.setattr(sessions, "not_found", bare_not_found)
    failures = harness.run(operation)
    assert failures, "a 404 without its problem document's fields went unnoticed"
    assert all("Response violates schema" in f and "required" in f for f in failures), failures
