"""Transient database failures: a lost race is retried, an outage is a French 503."""

from __future__ import annotations

import io

import pytest
from flask import flash, get_flashed_messages, request
from sqlalchemy.exc import OperationalError

from rcp_app.core import resilience


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate


def _db_error(message: str, sqlstate: str | None = None) -> OperationalError:
    return OperationalError("SELECT 1", {}, _DriverError(message, sqlstate))


@pytest.mark.parametrize(
    ("error", "transient", "unavailable"),
    [
        (_db_error("deadlock detected", "40P01"), True, False),
        (_db_error("could not serialize access", "40001"), True, False),
        (_db_error("database is locked"), True, False),
        (_db_error("terminating connection due to administrator command", "57P01"), False, True),
        (_db_error("connection refused", "08001"), False, True),
        (_db_error("server closed the connection unexpectedly"), False, True),
        (_db_error("syntax error", "42601"), False, False),
    ],
)
def test_classification(error, transient, unavailable):
    assert resilience.is_transient_conflict(error) is transient
    assert resilience.is_unavailable(error) is unavailable


def test_a_lost_race_is_run_again_with_uploads_rewound_and_flashes_reset(app):
    calls = []

    def view():
        calls.append(request.files["f"].read())
        flash(f"tentative {len(calls)}")
        if len(calls) < 3:
            raise _db_error("deadlock detected", "40P01")
        return "ok"

    wrapped = resilience.retrying(view, sleep=lambda _s: None)
    with app.test_request_context(
        "/x", method="POST", data={"f": (io.BytesIO(b"contenu"), "a.pdf")}
    ):
        assert wrapped().get_data(as_text=True) == "ok"  # a response: committed
        assert calls == [b"contenu"] * 3
        assert get_flashed_messages() == ["tentative 3"]


def test_retries_are_bounded_and_other_errors_are_not_retried(app):
    calls = []

    def deadlocked():
        calls.append(1)
        raise _db_error("deadlock detected", "40P01")

    with app.test_request_context("/x"):
        with pytest.raises(OperationalError):
            resilience.retrying(deadlocked, sleep=lambda _s: None)()
        assert len(calls) == resilience.MAX_ATTEMPTS
        calls.clear()

        def broken():
            calls.append(1)
            raise _db_error("syntax error", "42601")

        with pytest.raises(OperationalError):
            resilience.retrying(broken, sleep=lambda _s: None)()
        assert len(calls) == 1


def test_every_view_is_wrapped(app):
    for endpoint, view in app.view_functions.items():
        if endpoint != "static":
            assert hasattr(view, "__wrapped__"), endpoint


def test_an_outage_is_a_french_503_with_retry_after(make_test_app):
    other = make_test_app(RCP_PROPAGATE_ERRORS_IN_TESTS=False)

    @other.route("/panne")
    def outage():
        raise _db_error("terminating connection due to administrator command", "57P01")

    @other.route("/bogue")
    def bug():
        raise _db_error("syntax error", "42601")

    client = other.test_client()
    response = client.get("/panne")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(resilience.RETRY_AFTER_SECONDS)
    assert "Service momentanément indisponible" in response.get_data(as_text=True)
    assert client.get("/bogue").status_code == 500


def test_setup_on_a_missing_database_says_so_in_one_line(tmp_path):
    from tests.conftest import make_app

    url = "postgresql+psycopg://postgres@127.0.0.1:1/base_absente"
    other = make_app(url)
    result = other.test_cli_runner().invoke(args=["rcp", "setup", "--no-demo"])
    assert result.exit_code == 1
    assert "Base de données injoignable" in result.output
    assert "Traceback" not in result.output
    assert "RCP_DATABASE_URL" in result.output
