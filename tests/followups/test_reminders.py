"""Reminders: one per follow-up past its due day with nothing recorded, queued in the outbox
with its words fixed, sent by the delivery worker; none for what is not due or recorded."""

from __future__ import annotations

import email
import logging
from datetime import timedelta
from email import policy
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from rcp_app.core import signals
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.delivery import cli as delivery_cli
from rcp_app.delivery import worker
from rcp_app.delivery.models import Transmission
from rcp_app.extensions import db
from rcp_app.followups import reminders
from rcp_app.followups.models import FollowUp
from tests.delivery.smtp_server import running_server
from tests.followups.support import follow_up_world, load

PATIENT = {
    "birth_name": "RAPPELIN",
    "first_birth_first_name": "Colette",
    "birth_first_names": "Colette",
}


def _reminders(app) -> list[Transmission]:
    with app.app_context():
        rows = db.session.scalars(
            select(Transmission)
            .where(Transmission.kind == "followup_reminder")
            .order_by(Transmission.id)
        ).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _queue(app) -> int:
    with app.app_context():
        queued = reminders.queue_due_reminders(utcnow())
        db.session.commit()
        return queued


@pytest.fixture
def world(app, make):
    return follow_up_world(app, make, due_in=-1, patient_fields=PATIENT)


def test_one_reminder_per_due_follow_up(app, world):
    assert _queue(app) == 1
    assert _queue(app) == 0  # already reminded: never twice
    [row] = _reminders(app)
    assert (row.recipient_role, row.status, row.patient_id) == (
        "requester",
        "pending",
        world.patient_id,
    )
    assert row.professional_id == world.requester.professional_id
    assert row.message_id.startswith(f"<r.followup-{world.follow_up_id}@")
    assert load(app, world.follow_up_id).reminder_queued_at is not None
    with app.app_context():
        audit = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "followup.reminder")
        )
    assert audit.patient_id == world.patient_id
    assert audit.details_dict()["transmission_id"] == row.id


@pytest.mark.parametrize("due_in", [0, 3])
def test_none_before_the_due_day_has_passed(app, make, due_in):
    follow_up_world(app, make, due_in=due_in)
    assert _queue(app) == 0
    assert _reminders(app) == []


def test_none_once_something_was_recorded(app, world):
    with app.app_context():
        follow_up = db.session.get(FollowUp, world.follow_up_id)
        follow_up.state, follow_up.recorded_at = "lost", utcnow()
        follow_up.recorded_by_id = world.requester.id
        db.session.commit()
    assert _queue(app) == 0
    assert _reminders(app) == []


def test_a_requester_without_address_is_failed_at_once(app, world):
    from rcp_app.directory.models import Professional

    with app.app_context():
        db.session.get(Professional, world.requester.professional_id).mssante_address = None
        db.session.commit()
    assert _queue(app) == 1
    [row] = _reminders(app)
    assert row.status == "failed" and "MSSanté" in row.last_error


def test_the_email_sent_its_words_and_its_link(app, world):
    app.config["RCP_PUBLIC_URL"], public = "https://rcp.chu-test.fr/", app.config["RCP_PUBLIC_URL"]
    try:
        assert _queue(app) == 1
    finally:
        app.config["RCP_PUBLIC_URL"] = public
    with running_server() as server:
        saved = {key: app.config[key] for key in ("RCP_SMTP_HOST", "RCP_SMTP_PORT")}
        app.config.update(RCP_SMTP_HOST=server.host, RCP_SMTP_PORT=server.port)
        try:
            with app.app_context():
                report = worker.deliver_batch(10, "worker-test")
        finally:
            app.config.update(saved)
        [received] = server.messages
    assert (report.claimed, report.sent) == (1, 1)
    message = email.message_from_bytes(received.data, policy=policy.default)
    subject = str(message["Subject"])
    assert subject.startswith("Suivi de la proposition — RCP sein n°")
    assert "RAPPELIN" not in subject and "Colette" not in subject and "R. C." not in subject
    body = message.get_content()
    assert "R. C. (né(e) en 1956)" in body and "RAPPELIN" not in body
    assert "Proposition de la RCP : Intervention chirurgicale — Tumorectomie" in body
    assert "Alternative 1 : Chimiothérapie — Néoadjuvante" in body
    link = f"https://rcp.chu-test.fr/suivis/fiche/{world.fiche_id}"
    assert (
        "Indiquez ce qui a été fait pour ce patient (traitement commencé, modifié ou non "
        f"commencé) : {link}"
    ) in body
    endpoint, arguments = app.url_map.bind("rcp.test").match(urlsplit(link).path)
    assert (endpoint, arguments) == ("followups.of_fiche", {"fiche_id": world.fiche_id})


def test_the_cli_command(app, world):
    result = app.test_cli_runner().invoke(args=["rcp", "followups", "remind"])
    assert result.exit_code == 0, result.output
    assert "Rappels de suivi mis en file d'envoi : 1." in result.output
    assert len(_reminders(app)) == 1


def test_each_pass_of_the_delivery_worker_queues_them(app, world, monkeypatch):
    monkeypatch.setattr(delivery_cli.worker, "deliver_batch", lambda *a, **k: worker.BatchReport())
    monkeypatch.setattr(delivery_cli.receipts, "import_folder", lambda path: [])
    monkeypatch.setattr(delivery_cli, "_checkpoint_if_due", lambda: None)
    result = app.test_cli_runner().invoke(args=["rcp", "deliver", "--once"])
    assert result.exit_code == 0, result.output
    assert len(_reminders(app)) == 1


def test_a_failing_run_is_logged_and_the_cycle_goes_on(app, world, monkeypatch, caplog):
    def broken(now=None):
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(reminders, "queue_due_reminders", broken)
    with app.app_context(), caplog.at_level(logging.ERROR, logger=reminders.__name__):
        signals.send(signals.delivery_cycle, "worker-test", now=utcnow())
    assert "Rappels de suivi" in caplog.text and "panne simulée" in caplog.text
    assert _reminders(app) == []
    assert load(app, world.follow_up_id).reminder_queued_at is None


def test_the_claim_is_conditional(app, world):
    """The UPDATE two runs race on changes the row once: the loser queues nothing."""
    now = utcnow()
    with app.app_context():
        assert reminders._claim(world.follow_up_id, now) is True
        assert reminders._claim(world.follow_up_id, now + timedelta(seconds=1)) is False
        db.session.rollback()
