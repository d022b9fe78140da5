"""Transactions that hold nothing while the application computes or waits.

SQLite has one writer at a time: a transaction that writes takes the database's write lock
and keeps it until it ends. So:

- a transaction begins ``IMMEDIATE`` (write lock up front, no failed upgrade later) only when it
  is meant to write — a request that is not GET/HEAD/OPTIONS, a CLI command, the worker, or a
  block under ``writing()``; GET requests read in a ``DEFERRED`` transaction and their audit
  rows are appended by a short writing transaction of their own (``core/audit.py``);
- CPU work (rendering, sealing, checking an uploaded PDF) and network work (SMTP, TSA) runs
  between transactions: ``release()`` ends the current one first, and refuses if it still has
  unwritten changes.

On PostgreSQL a transaction holds row locks and a snapshot; the same rules keep them short.

A request is one transaction: operations flush, and ``core/resilience.py::retrying`` commits once
when the view has returned a response below 500 (or raised ``abort`` below 500, to keep the audit
rows of a refused access), and rolls back otherwise. Views never call ``commit()``. The one
exception is a deliberate phase boundary: ``commit_phase()`` writes what the request has done so
far right before ``release()``, so that the CPU or network work that follows holds nothing; the
request's final commit then writes what came after.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def wants_write_lock() -> bool:
    """Whether a SQLite transaction beginning now should take the write lock up front."""
    mode = g.get("rcp_writing") if has_app_context() else None
    if mode is not None:
        return mode
    if has_request_context():
        return request.method not in READ_ONLY_METHODS
    return True


@contextmanager
def _mode(write: bool):
    if not has_app_context():
        yield
        return
    previous = g.get("rcp_writing")
    g.rcp_writing = write
    try:
        yield
    finally:
        g.rcp_writing = previous


def writing():
    """Transactions begun inside this block take SQLite's write lock up front."""
    return _mode(True)


def reading():
    """Transactions begun inside this block only read (DEFERRED on SQLite): for work outside a
    request that reads, then computes (the delivery worker building a message)."""
    return _mode(False)


def commit_phase() -> None:
    """Commit the request's work so far, before ``release()`` and CPU or network work.

    The only commit a view may make (tests/test_unit_of_work.py checks it): what follows the
    work is committed by the request as usual.
    """
    db.session.commit()


def keep_despite_error() -> None:
    """This request answers a 5xx on purpose and still commits what it wrote: the audit row
    saying that stored data was found damaged must outlive the error page."""
    g.rcp_keep_despite_error = True


def kept_despite_error() -> bool:
    return bool(g.get("rcp_keep_despite_error")) if has_app_context() else False


_ON_ROLLBACK = "rcp_on_rollback"


def on_rollback(undo: Callable[[], None]) -> None:
    """Run ``undo`` if the current transaction is rolled back instead of committed: a file
    written for a row that will then never exist (the request commits after the view)."""
    db.session().info.setdefault(_ON_ROLLBACK, []).append(undo)


@event.listens_for(Session, "after_commit")
def _forget_undo(session: Session) -> None:
    session.info.pop(_ON_ROLLBACK, None)


_KEEP_LOADED = "rcp_keep_loaded"


@event.listens_for(Session, "after_commit")
def _expire_outside_requests(session: Session) -> None:
    """Outside a request (the delivery worker, CLI commands) a commit still expires what was
    loaded, as SQLAlchemy does by default: those long sessions commit many times and re-read
    rows that other processes change meanwhile (a transmission claimed by another worker).
    A request commits once, at its end (``expire_on_commit`` is off), and ``release()`` keeps
    what was loaded everywhere."""
    if not has_request_context() and not session.info.get(_KEEP_LOADED):
        session.expire_all()


@event.listens_for(Session, "after_rollback")
def _run_undo(session: Session) -> None:
    for undo in session.info.pop(_ON_ROLLBACK, ()):
        undo()


class PendingChanges(RuntimeError):
    """``release()`` called with changes not yet committed: a programming error."""


def release() -> None:
    """End the current transaction before CPU or network work.

    Only what was read is let go: the caller must have committed its changes with
    ``commit_phase()`` (or made none).
    Loaded objects stay usable (they are expunged-safe: the session does not expire them).
    """
    from .audit import pending_entries

    session = db.session()
    if session.new or session.dirty or session.deleted or pending_entries(session):
        raise PendingChanges("release() with uncommitted changes: commit them first.")
    if session.in_transaction():
        # Nothing to write: committing a read-only transaction only ends it. Expiring would
        # make the next attribute access open a new transaction during the work.
        session.info[_KEEP_LOADED] = True
        try:
            session.commit()
        finally:
            session.info.pop(_KEEP_LOADED, None)
