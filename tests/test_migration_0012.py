"""Migration 0012 repairs text stored before the input rule: vertical tab and form feed become
line breaks, other invisible characters go; write-once tables (audit log, signed fiches) stay
as they were."""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from rcp_app.extensions import db
from tests.conftest import make_app
from tests.support.databases import temporary_database

# PostgreSQL cannot store a NUL: it is only inserted (and repaired) on SQLite.
NUL = "" if os.environ.get("RCP_TEST_DATABASE_URL") else "\x00"


@pytest.fixture
def app_at_0011(tmp_path_factory):
    with temporary_database(os.environ.get("RCP_TEST_DATABASE_URL"), tmp_path_factory) as url:
        app = make_app(url)
        with app.app_context():
            upgrade(revision="0011")
            yield app
            db.session.remove()
            db.engine.dispose()


def _insert(statement: str, rows) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(statement), rows)


def test_stored_control_characters_are_repaired_in_batches(app_at_0011):
    _insert(
        "INSERT INTO establishments (id, name, finess, city, active, version) "
        "VALUES (:id, :name, :finess, :city, true, 1)",
        [
            {
                "id": 1,
                "name": "Centre\x0bhospitalier\x0cde Valmont",
                "finess": "750000001",
                "city": f"Val\x07mont{NUL}\x7f\x85\ufffe",
            },
            {"id": 2, "name": "Clinique\r\ndu Parc\tNord", "finess": "750000002", "city": "Metz"},
        ],
    )
    # More rows than one batch (500), each with a character to remove.
    _insert(
        "INSERT INTO login_attempts (id, at, username, ip, success) "
        "VALUES (:id, '2026-12-01 10:00:00', :username, NULL, false)",
        [{"id": i, "username": f"user\x1b{i}"} for i in range(1, 1203)],
    )
    _insert(
        "INSERT INTO audit_log (id, seq, at, username, action, details, prev_hash, hash) "
        "VALUES (1, 1, '2026-12-01 10:00:00', 'a\x07b', 'test', '{}', :zero, :zero)",
        [{"zero": "0" * 64}],
    )

    upgrade(revision="0012")

    with db.engine.connect() as connection:
        establishments = connection.execute(
            text("SELECT name, city FROM establishments ORDER BY id")
        ).all()
        usernames = (
            connection.execute(text("SELECT username FROM login_attempts ORDER BY id"))
            .scalars()
            .all()
        )
        audited = connection.execute(text("SELECT username FROM audit_log")).scalar_one()
    assert establishments == [
        ("Centre\nhospitalier\nde Valmont", "Valmont"),
        ("Clinique\ndu Parc\tNord", "Metz"),
    ]
    assert usernames == [f"user{i}" for i in range(1, 1203)]
    assert audited == "a\x07b"  # append-only: left as it was signed and chained
