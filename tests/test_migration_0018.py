"""Migration 0018 gives every fiche signed before it a follow-up: due 30 days after its
validation, and already marked as reminded when that day has passed (upgrading must not send
one e-mail per fiche ever signed)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from rcp_app.core.dates import today
from rcp_app.core.timeutil import to_paris, utcnow
from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin
from tests.conftest import make_app
from tests.fiches.support import signed_world
from tests.support.databases import temporary_database
from tests.support.factories import Factories


@pytest.fixture
def fresh_app(tmp_path_factory):
    with temporary_database(os.environ.get("RCP_TEST_DATABASE_URL"), tmp_path_factory) as url:
        app = make_app(url)
        with app.app_context():
            upgrade()
            load_builtin()
            db.session.commit()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_fiches_signed_before_get_a_follow_up(fresh_app):
    make = Factories(fresh_app)
    recent = signed_world(fresh_app, make)
    old = signed_world(fresh_app, make)
    long_ago = utcnow() - timedelta(days=45)
    with fresh_app.app_context():
        db.session.execute(
            text("UPDATE fiches SET created_at = :at WHERE case_id = :case"),
            {"at": long_ago, "case": old.case_id},
        )
        db.session.commit()
        downgrade(revision="0017")
        upgrade(revision="0018")
        rows = {
            row.case_id: row
            for row in db.session.execute(
                text(
                    "SELECT case_id, rcp_id, requester_id, state, due_on, reminder_queued_at "
                    "FROM follow_ups"
                )
            )
        }
        requesters = dict(db.session.execute(text("SELECT id, requester_id FROM cases")).all())
    assert set(rows) == {recent.case_id, old.case_id}
    fresh, stale = rows[recent.case_id], rows[old.case_id]
    assert (fresh.state, fresh.rcp_id) == ("pending", recent.rcp_id)
    assert fresh.requester_id == requesters[recent.case_id]
    assert str(fresh.due_on)[:10] == (today() + timedelta(days=30)).isoformat()
    assert fresh.reminder_queued_at is None
    assert str(stale.due_on)[:10] == (to_paris(long_ago).date() + timedelta(days=30)).isoformat()
    assert stale.reminder_queued_at is not None
