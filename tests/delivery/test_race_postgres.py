"""Two workers racing on PostgreSQL (FOR UPDATE SKIP LOCKED): every message sent once.

Real concurrency needs committed rows and separate connections, so this module uses its own
throw-away database (not the per-test rolled-back transaction of the other tests). SQLite runs
one worker (README), so the test runs in the PostgreSQL pass of ``make test`` only.
"""

from __future__ import annotations

import os
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from rcp_app.delivery import worker
from rcp_app.delivery.models import Transmission
from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin
from tests.conftest import make_app
from tests.delivery.smtp_server import Step, running_server
from tests.delivery.support import signed_fiche
from tests.support import factories
from tests.support.databases import temporary_database

SERVER = os.environ.get("RCP_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(
    not SERVER.startswith("postgresql"), reason="PostgreSQL only (SKIP LOCKED); SQLite: one worker"
)
EXTRA = 36  # more transmissions of the same fiche, so that the batches interleave


@pytest.fixture(scope="module")
def race_app(tmp_path_factory):
    with temporary_database(SERVER, tmp_path_factory) as url:
        app = make_app(url)
        with app.app_context():
            upgrade()
            load_builtin()
            db.session.commit()
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _more_transmissions(app) -> None:
    with app.app_context():
        template = db.session.scalar(
            select(Transmission).where(Transmission.recipient_role == "gp")
        )
        for n in range(EXTRA):
            db.session.add(
                Transmission(
                    message_id=f"<race.{n}@rcp-demo.mssante.fr>",
                    kind="fiche",
                    recipient_role="correspondent",
                    recipient_address=f"correspondant{n}@medecin.mssante.fr",
                    fiche_version_id=template.fiche_version_id,
                    patient_id=template.patient_id,
                    status="pending",
                    next_attempt_at=template.next_attempt_at,
                    created_at=template.created_at,
                )
            )
        db.session.commit()


def test_two_workers_send_each_message_once(race_app):
    signed_fiche(race_app, factories.Factories(race_app))
    _more_transmissions(race_app)
    with running_server() as server:
        race_app.config.update(RCP_SMTP_HOST=server.host, RCP_SMTP_PORT=server.port)
        # Slow DATA replies keep both workers inside their batches at the same time.
        server.script("DATA", *[Step.accept(delay=0.02)] * (EXTRA + 4))
        sent: dict[str, int] = {}
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def run(name: str) -> None:
            try:
                with race_app.app_context():
                    start.wait()
                    total = 0
                    while (report := worker.deliver_batch(5, name)).claimed:
                        total += report.sent
                    sent[name] = total
                    db.session.remove()
            except BaseException as error:  # reported below, in the main thread
                errors.append(error)

        threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        with race_app.app_context():
            rows = list(db.session.scalars(select(Transmission)))
            statuses = db.session.scalars(select(func.count()).select_from(Transmission)).one()
        assert statuses == EXTRA + 4
        assert {t.status for t in rows} == {"sent"}
        for row in rows:
            assert server.count(row.message_id) == 1, row.message_id
        assert sum(sent.values()) == EXTRA + 4
        assert all(count > 0 for count in sent.values()), sent  # both workers took a share
        assert {t.claimed_by for t in rows} == {None}
