"""Two delivery workers (two application instances, their own connections) run the reminders
at the same moment: each due follow-up gets exactly one reminder.

Real concurrency needs committed rows and separate connections: this module has its own
throw-away database (SQLite file, or PostgreSQL with RCP_TEST_DATABASE_URL), not the
per-test rolled-back transaction of the other tests.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.delivery.models import Transmission
from rcp_app.extensions import db
from rcp_app.followups import reminders
from rcp_app.followups.models import FollowUp
from rcp_app.terminology.builtin import load_builtin
from tests.conftest import make_app
from tests.followups.support import follow_up_world
from tests.support import factories
from tests.support.databases import temporary_database

DUE = 8


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    with temporary_database(os.environ.get("RCP_TEST_DATABASE_URL"), tmp_path_factory) as url:
        first, second = make_app(url), make_app(url)
        with first.app_context():
            upgrade()
            load_builtin()
            db.session.commit()
        yield first, second
        for app in (first, second):
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def test_two_workers_queue_each_reminder_once(apps, monkeypatch):
    first, second = apps
    make = factories.Factories(first)
    worlds = [follow_up_world(first, make, due_in=-1) for _ in range(DUE)]
    follow_up_world(first, make, due_in=2)  # not due: no reminder
    # Each reminder takes a moment to write: the two runs overlap.
    queue = reminders._queue
    monkeypatch.setattr(reminders, "_queue", lambda *a: (time.sleep(0.02), queue(*a)))
    start = threading.Barrier(2)
    queued: dict[str, int] = {}
    errors: list[BaseException] = []

    def run(app, name: str) -> None:
        try:
            with app.app_context():
                start.wait()
                queued[name] = reminders.run(utcnow())
        except BaseException as error:  # reported below, in the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(app, f"w{i}")) for i, app in enumerate(apps, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sum(queued.values()) == DUE, queued
    with first.app_context():
        sent = Counter(
            db.session.scalars(
                select(Transmission.message_id).where(Transmission.kind == "followup_reminder")
            )
        )
        audited = Counter(
            db.session.scalars(
                select(AuditEntry.object_id).where(AuditEntry.action == "followup.reminder")
            )
        )
        reminded = set(
            db.session.scalars(select(FollowUp.id).where(FollowUp.reminder_queued_at.is_not(None)))
        )
    expected = {w.follow_up_id for w in worlds}
    assert reminded == expected
    assert len(sent) == DUE and set(sent.values()) == {1}
    assert {m.split("@")[0] for m in sent} == {f"<r.followup-{i}" for i in expected}
    assert audited == Counter({str(i): 1 for i in expected})
