"""The delivery worker outlives a database outage and takes back what dead workers left.

PostgreSQL: a real ``flask rcp deliver`` process works through a slow batch; in the middle, its
database stops accepting connections and every connection to it is terminated
(``pg_terminate_backend``), then comes back two seconds later. With no manual action, every
message is delivered and the worker is still running.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from flask_migrate import upgrade
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from rcp_app.core.timeutil import utcnow
from rcp_app.delivery import worker
from rcp_app.delivery.models import Transmission
from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin
from tests.conftest import make_app
from tests.delivery.smtp_server import Step, running_server
from tests.delivery.support import signed_fiche, worker_env
from tests.support import factories
from tests.support.databases import temporary_database

ROOT = Path(__file__).resolve().parents[2]


def test_rows_of_dead_workers_and_own_rows_are_taken_back(app, make):
    signed_fiche(app, make)
    with app.app_context():
        ids = worker.claim(50, "ailleurs:1")
        rows = db.session.scalars(select(Transmission).where(Transmission.id.in_(ids))).all()
        host = __import__("socket").gethostname()
        dead, alive, own, remote = rows[0], rows[1], rows[2], rows[3]
        for row, name in (
            (dead, f"{host}:999999999"),
            (alive, f"{host}:{os.getppid()}"),
            (own, f"{host}:{os.getpid()}"),
            (remote, "autre-machine:1"),
        ):
            db.session.execute(
                update(Transmission).where(Transmission.id == row.id).values(claimed_by=name)
            )
        db.session.commit()
        assert worker.reclaim_orphans(own=f"{host}:{os.getpid()}") == 2
        statuses = {
            t.id: t.status
            for t in db.session.scalars(select(Transmission).where(Transmission.id.in_(ids)))
        }
        assert statuses[dead.id] == statuses[own.id] == "pending"
        assert statuses[alive.id] == statuses[remote.id] == "sending"


def test_the_lease_of_the_rest_of_the_batch_is_renewed(app, make):
    signed_fiche(app, make)
    with app.app_context():
        ids = worker.claim(50, "moi:1")
        later = utcnow() + timedelta(seconds=200)
        worker.renew_lease("moi:1", later)
        db.session.commit()
        claimed = db.session.scalars(
            select(Transmission.claimed_at).where(Transmission.id.in_(ids))
        ).all()
        assert claimed and all(at == later for at in claimed)


@pytest.fixture
def postgres_app(tmp_path_factory):
    server_url = os.environ.get("RCP_TEST_DATABASE_URL")
    if not server_url:
        pytest.skip("PostgreSQL only (pg_terminate_backend)")
    with temporary_database(server_url, tmp_path_factory) as url:
        app = make_app(url)
        with app.app_context():
            upgrade()
            load_builtin()
            db.session.commit()
            db.session.remove()
        yield app, url
        with app.app_context():
            db.engine.dispose()


def _statuses(app) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(select(Transmission))
        result = {t.message_id: t.status for t in rows}
        db.session.remove()
        return result


def _admin(url: str):
    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql", database="postgres")
    return psycopg.connect(dsn.render_as_string(hide_password=False), autocommit=True), (
        parsed.database
    )


def test_worker_survives_a_database_outage(postgres_app, tmp_path):
    app, url = postgres_app
    signed_fiche(app, factories.Factories(app))
    expected = set(_statuses(app))
    assert len(expected) == 4
    with running_server() as server:
        server.script("DATA", *[Step.accept(delay=1.0) for _ in range(8)])
        env = worker_env(url, server, tmp_path)
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "rcp", "deliver", "--interval", "0.2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        admin, name = _admin(url)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and len(server.messages) < 1:
                time.sleep(0.02)
            assert server.messages, "the worker sent nothing"
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            time.sleep(2.5)
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                statuses = _statuses(app)
                if set(statuses.values()) == {"sent"}:
                    break
                time.sleep(0.2)
            assert process.poll() is None, "the worker died"
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            admin.close()
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=20)
        assert set(statuses) == expected
        assert set(statuses.values()) == {"sent"}, (statuses, output[-2000:])
        assert "Base de données injoignable" in output, output[-2000:]
        assert all(server.count(mid) >= 1 for mid in expected)


def test_what_every_recipient_gets_alike_is_read_once(app, make, monkeypatch):
    """The snapshot and the checked PDF and CDA of one fiche version are read once per worker
    process, not once per message; each message's XDM archive is its own (its submission set
    names its recipient)."""
    from rcp_app.delivery import notices
    from rcp_app.fiches.models import FicheVersion

    signed_fiche(app, make)
    built = []
    original = FicheVersion.snapshot_dict

    def counting(self):
        built.append(1)
        return original(self)

    monkeypatch.setattr(FicheVersion, "snapshot_dict", counting)
    with app.app_context():
        rows = db.session.scalars(
            select(Transmission).where(Transmission.kind == "fiche").order_by(Transmission.id)
        ).all()
        assert len({r.recipient_address for r in rows}) >= 3
        messages = [notices.build_for(row) for row in rows]
    assert len(built) == 1
    archives = [
        part.get_content()
        for message in messages
        for part in message.iter_attachments()
        if part.get_filename() == "IHE_XDM.ZIP"
    ]
    assert len(set(archives)) == len(messages)
    assert [m["To"] for m in messages] == [r.recipient_address for r in rows]
    for message, archive in zip(messages, archives, strict=True):
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            metadata = opened.read("IHE_XDM/SUBSET01/METADATA.XML").decode()
        assert f"^^Internet^{message['To']}<" in metadata


def test_a_slow_batch_renews_its_lease_as_it_goes(app, make, monkeypatch):
    """With SMTP answers slower than a quarter of the lease, the rows still waiting in the
    batch get a fresh lease: another worker never takes them while this one is alive."""
    from rcp_app.delivery import worker as worker_module

    signed_fiche(app, make)
    renewals = []
    original = worker_module.renew_lease
    monkeypatch.setattr(
        worker_module, "renew_lease", lambda *a, **k: (renewals.append(a), original(*a, **k))
    )
    monkeypatch.setitem(app.config, "RCP_DELIVERY_LEASE_SECONDS", 0)  # every message is "slow"
    with running_server() as server:
        app.config.update(RCP_SMTP_HOST=server.host, RCP_SMTP_PORT=server.port)
        with app.app_context():
            report = worker.deliver_batch(50, "lent:1")
    assert report.sent == 4 and len(renewals) == 4


def test_messages_are_assembled_with_no_transaction_open(app, client, login, make, monkeypatch):
    """The worker reads what a message needs, then ends its transaction: the XDM archive, the
    agenda PDF and the MIME assembly are CPU work done with nothing held."""
    from rcp_app.delivery import notices
    from rcp_app.meetings import documents

    seen: dict[str, list[bool]] = {}

    def spy(module, name):
        original = getattr(module, name)

        def wrapped(*args, **kwargs):
            seen.setdefault(name, []).append(db.session().in_transaction())
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapped)

    spy(notices, "build_xdm_zip")
    spy(notices, "build_message")
    spy(documents, "html_to_pdf")
    signed_fiche(app, make)
    login("coordinator")
    rcp = make.rcp(coordinator_id=make.professional().id)
    session = make.session(rcp.id)
    make.agenda_item(session.id)
    assert client.post(f"/seances/{session.id}/publier", data={"version": "1"}).status_code == 302
    with app.app_context():
        ids = db.session.scalars(select(Transmission.id).order_by(Transmission.id)).all()
        kinds = set()
        for transmission_id in ids:
            transmission = db.session.get(Transmission, transmission_id)
            kinds.add(transmission.kind)
            notices.build_for(transmission)
    assert {"fiche", "agenda_published"} <= kinds
    assert seen["build_xdm_zip"] and not any(seen["build_xdm_zip"])
    assert seen["build_message"] and not any(seen["build_message"])
    assert seen["html_to_pdf"] and not any(seen["html_to_pdf"])
