"""A real worker process killed (SIGKILL) in the middle of a send: no transmission is lost,
and the only possible duplicate carries the same Message-ID.

The worker runs as ``flask rcp deliver`` in a subprocess against a committed SQLite file of its
own (the other tests' rolled-back transaction is invisible to another process). The SMTP
server holds its reply to the second message's DATA: the message has fully arrived, the worker
is waiting for the « 250 » — and is killed there.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from rcp_app.core.timeutil import utcnow
from rcp_app.delivery import worker
from rcp_app.delivery.models import Transmission
from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin
from tests.conftest import make_app
from tests.delivery.smtp_server import Step, running_server
from tests.delivery.support import signed_fiche, worker_env
from tests.support import factories

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'killed.sqlite3'}"
    app = make_app(url)
    with app.app_context():
        upgrade()
        load_builtin()
        db.session.commit()
    yield app, url
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _statuses(app) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(select(Transmission).order_by(Transmission.id))
        result = {t.message_id: t.status for t in rows}
        db.session.remove()
        return result


def test_killed_worker_loses_nothing(own_database, tmp_path):
    app, url = own_database
    signed_fiche(app, factories.Factories(app))
    assert set(_statuses(app).values()) == {"pending"}
    with running_server() as server:
        server.script("DATA", Step.accept(), Step.accept(delay=4))
        env = worker_env(url, server, tmp_path)
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "rcp", "deliver", "--once"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        # The server stores a message before its delayed « 250 »: two stored messages mean the
        # first was acknowledged and the worker now waits for the second one's reply.
        while time.monotonic() < deadline and len(server.messages) < 2:
            time.sleep(0.02)
        assert len(server.messages) == 2, "the worker did not reach its second message"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        before = _statuses(app)
        assert sorted(before.values()) == ["sending", "sending", "sending", "sent"], before
        # Until the lease expires nobody touches the dead worker's messages.
        app.config.update(RCP_SMTP_HOST=server.host, RCP_SMTP_PORT=server.port)
        with app.app_context():
            assert worker.deliver_batch(50, "survivor").claimed == 0
            lease = app.config["RCP_DELIVERY_LEASE_SECONDS"]
            later = utcnow() + timedelta(seconds=lease + 1)
            report = worker.deliver_batch(50, "survivor", now=later)
            db.session.remove()
        assert report.sent == 3
        after = _statuses(app)
        assert set(after.values()) == {"sent"}  # nothing lost
        counts = {mid: server.count(mid) for mid in after}
        assert all(count >= 1 for count in counts.values()), counts
        # At least once: the message in flight when the worker died arrived twice, with the
        # same Message-ID; every other one exactly once.
        assert sorted(counts.values()) == [1, 1, 1, 2], counts
