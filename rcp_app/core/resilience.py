"""One transaction per request, retried on a lost race, or answered with a French 503.

Every view runs inside ``retrying`` (``register_resilience`` wraps them all), which is the
request's unit of work: operations only flush, and the request commits once, here, after the
view has returned:

- the view's return value is turned into a response; a status below 500 commits (a page that
  re-renders a refused form still writes its audit rows), a 5xx rolls back — unless the view
  called ``transactions.keep_despite_error()`` (a damaged stored file: its audit row stays);
- an ``HTTPException`` below 500 (``abort(403)``, ``abort(404)``) commits what is pending (the
  audit rows of a refused access) and is raised again for its error page;
- any other exception rolls back everything the view did, then goes to the error handlers.

The session does not expire loaded rows on commit (``extensions.py``): what a view loaded stays
usable after ``transactions.commit_phase()`` — the only other commit a request makes, right
before ``release()`` and CPU work outside any transaction — without one query per row. The
commit happens inside the retry loop: a deadlock at commit time is retried like one in the view.

Transient failures:

- A deadlock or a serialization failure (PostgreSQL 40P01 / 40001), or SQLite's « database is
  locked » after its busy timeout, means that another transaction won a race: the request's
  transaction was rolled back whole, so the view is simply run again (a few times, with a short
  random pause), as if the user had clicked a second time. Uploaded files are rewound and the
  messages the failed attempt flashed are dropped.
- A lost or refused connection (database restarting, failover) is not retried here: the user
  gets « service momentanément indisponible » (HTTP 503 with ``Retry-After``) instead of a 500;
  the pool's pre-ping reconnects on the next request.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import time
from collections.abc import Callable

from flask import Flask, current_app, request, session
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from ..extensions import db
from .transactions import kept_despite_error

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
RETRY_AFTER_SECONDS = 5
_RETRYABLE_SQLSTATES = {"40001", "40P01"}
# Class 08 (connection exception), 57P01-57P03 (server shutting down / starting up).
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03"}


def _sqlstate(error: DBAPIError) -> str | None:
    original = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)


def is_transient_conflict(error: BaseException) -> bool:
    """A race lost to another transaction: running the same work again will do."""
    if not isinstance(error, DBAPIError):
        return False
    if _sqlstate(error) in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(getattr(error, "orig", "")).lower()


def is_unavailable(error: BaseException) -> bool:
    """The database cannot be reached (restart, failover, network)."""
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    state = _sqlstate(error) or ""
    if state.startswith("08") or state in _UNAVAILABLE_SQLSTATES:
        return True
    text = str(getattr(error, "orig", "")).lower()
    return any(
        sign in text
        for sign in (
            "connection refused",
            "server closed the connection",
            "terminating connection",
            "connection is closed",
            "could not connect",
            "consuming input failed",
            "not currently accepting connections",
            "the database system is",  # starting up / shutting down / in recovery mode
        )
    )


def retrying(view: Callable, sleep: Callable[[float], None] = time.sleep) -> Callable:
    @functools.wraps(view)
    def run(*args, **kwargs):
        flashes = list(session.get("_flashes", []))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return _one_transaction(view, args, kwargs)
            except DBAPIError as error:
                if attempt == MAX_ATTEMPTS or not is_transient_conflict(error):
                    raise
                log.warning(
                    "%s %s: %s, attempt %s of %s",
                    request.method,
                    request.path,
                    type(error.orig).__name__,
                    attempt,
                    MAX_ATTEMPTS,
                )
                db.session.rollback()
                _rewind_uploads()
                session["_flashes"] = list(flashes)
                sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311 (jitter)
        raise AssertionError("unreachable")

    return run


def _one_transaction(view: Callable, args, kwargs):
    """Run the view and end its transaction: commit below 500, roll back otherwise."""
    try:
        result = view(*args, **kwargs)
    except HTTPException as error:
        # A refused access (403, 404…) keeps its audit rows; a 5xx keeps nothing.
        _end(http_status(error) < 500)
        raise
    except BaseException:
        # The original error is what matters (a deadlock to retry, a bug to log): a rollback
        # on a dead connection must not hide it.
        with contextlib.suppress(DBAPIError):
            db.session.rollback()
        raise
    response = current_app.make_response(result)
    _end(response.status_code < 500 or kept_despite_error())
    return response


def http_status(error: HTTPException) -> int:
    """The status an HTTPException answers: its code, or that of the response it carries
    (``abort(response)``: the API's problem documents), 500 when it has neither."""
    if error.code is not None:
        return error.code
    response = getattr(error, "response", None)
    return response.status_code if response is not None else 500


def _end(success: bool) -> None:
    if success:
        db.session.commit()
    else:
        db.session.rollback()


def _rewind_uploads() -> None:
    for upload in request.files.values():
        with contextlib.suppress(OSError, ValueError):
            upload.stream.seek(0)


def register_resilience(app: Flask) -> None:
    """Wrap every view (call after the blueprints are registered) and answer outages."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint != "static":
            app.view_functions[endpoint] = retrying(view)

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError):
        from .errors import render_error, unexpected_error

        if not is_unavailable(error):
            return unexpected_error(app, error)  # a genuine bug: logged, 500
        try:
            db.session.rollback()
        except DBAPIError:
            db.session.remove()
        log.error("database unavailable on %s %s: %s", request.method, request.path, error)
        body, status = render_error(503)
        return body, status, {"Retry-After": str(RETRY_AFTER_SECONDS)}
