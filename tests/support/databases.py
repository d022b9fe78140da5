"""Throw-away databases for the test run."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url


def _admin_dsn(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def temporary_database(server_url: str | None, tmp_path_factory):
    """Yield the URL of an empty database: SQLite file, or a new PostgreSQL database."""
    if not server_url:
        path = tmp_path_factory.mktemp("db") / "rcp-test.sqlite3"
        yield f"sqlite:///{path}"
        return
    url = make_url(server_url)
    name = f"rcp_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_admin_dsn(url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
