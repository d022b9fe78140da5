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
"""

from __future__ import annotations

from contextlib import contextmanager

from flask import g, has_app_context, has_request_context, request

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


class PendingChanges(RuntimeError):
    """``release()`` called with changes not yet committed: a programming error."""


def release() -> None:
    """End the current transaction before CPU or network work.

    Only what was read is let go: the caller must have committed its changes (or made none).
    Loaded objects stay usable (they are expunged-safe: the session does not expire them).
    """
    from .audit import pending_entries

    session = db.session()
    if session.new or session.dirty or session.deleted or pending_entries(session):
        raise PendingChanges("release() with uncommitted changes: commit them first.")
    if session.in_transaction():
        # Nothing to write: committing a read-only transaction only ends it. Expiring would
        # make the next attribute access open a new transaction during the work.
        previous = session.expire_on_commit
        session.expire_on_commit = False
        try:
            session.commit()
        finally:
            session.expire_on_commit = previous
