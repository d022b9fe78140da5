"""Outbox and worker against a real SMTP server on loopback: faults that must be harmless."""

from __future__ import annotations

import email
import io
import zipfile
from datetime import timedelta
from email import policy

from sqlalchemy import select, update

from rcp_app.core.timeutil import utcnow
from rcp_app.delivery import worker
from rcp_app.delivery.models import Transmission
from rcp_app.delivery.notices import build_for
from rcp_app.delivery.smtp import SmtpConnection, SmtpSettings
from rcp_app.extensions import db
from tests.delivery.smtp_server import Step
from tests.delivery.support import DCC, by_role, signed_fiche, transmissions
from tests.meetings_support import audits

FICHE_ROLES = {"dcc", "requester", "gp", "correspondent"}


def deliver(app, now=None, limit=50, name="worker-test"):
    with app.app_context():
        return worker.deliver_batch(limit, name, now=now)


def test_signing_queues_one_transmission_per_recipient(app, make):
    world = signed_fiche(app, make)
    rows = by_role(app)
    assert set(rows) == FICHE_ROLES
    assert all(t.status == "pending" and t.kind == "fiche" for t in rows.values())
    assert rows["dcc"].recipient_address == DCC
    assert rows["gp"].professional_id == world.gp_id
    ids = [t.message_id for t in rows.values()]
    assert len(set(ids)) == 4 and all(i.startswith("<f.") and len(i) < 66 for i in ids)
    assert audits(app, "delivery.enqueue")


def test_a_recipient_without_address_is_failed_at_once_and_visible(app, make):
    signed_fiche(app, make, dcc=None, gp_address=None)
    rows = by_role(app)
    assert rows["dcc"].status == "failed" and "DCC" in rows["dcc"].last_error
    assert rows["gp"].status == "failed" and "MSSanté" in rows["gp"].last_error
    assert rows["requester"].status == "pending"


def test_each_message_arrives_once_with_its_attachments(app, make, smtp_server):
    signed_fiche(app, make)
    report = deliver(app)
    assert (report.claimed, report.sent, report.failed) == (4, 4, 0)
    assert deliver(app).claimed == 0  # nothing left, nothing sent twice
    rows = transmissions(app)
    assert {t.status for t in rows} == {"sent"}
    for row in rows:
        assert smtp_server.count(row.message_id) == 1
    received = smtp_server.messages[0]
    message = email.message_from_bytes(received.data, policy=policy.default)
    names = sorted(part.get_filename() for part in message.iter_attachments())
    assert names[0] == "IHE_XDM.ZIP" and names[1].endswith(".pdf")
    assert message["Disposition-Notification-To"]
    archive = next(p for p in message.iter_attachments() if p.get_filename() == "IHE_XDM.ZIP")
    entries = zipfile.ZipFile(io.BytesIO(archive.get_content())).namelist()
    assert "IHE_XDM/SUBSET01/METADATA.XML" in entries
    assert len(audits(app, "delivery.sent")) == 4


def test_server_down_then_back(app, make, smtp_server):
    signed_fiche(app, make)
    smtp_server.stop()
    report = deliver(app)
    assert (report.claimed, report.retried) == (4, 4)
    rows = transmissions(app)
    assert {t.status for t in rows} == {"pending"} and {t.attempts for t in rows} == {1}
    assert all(t.next_attempt_at > utcnow() for t in rows)
    assert all("refus" in t.last_error or "joindre" in t.last_error for t in rows), rows[
        0
    ].last_error
    assert deliver(app).claimed == 0  # backing off: not due yet
    smtp_server.start()
    report = deliver(app, now=utcnow() + timedelta(hours=1))
    assert report.sent == 4
    for row in transmissions(app):
        assert row.status == "sent" and smtp_server.count(row.message_id) == 1


def test_temporary_refusal_then_success(app, make, smtp_server):
    signed_fiche(app, make)
    smtp_server.script("RCPT", Step.reply(451, "4.3.0 Try again later"))
    report = deliver(app)
    assert (report.sent, report.retried) == (3, 1)
    retried = next(t for t in transmissions(app) if t.status == "pending")
    assert "451" in retried.last_error
    report = deliver(app, now=utcnow() + timedelta(hours=1))
    assert report.sent == 1 and smtp_server.count(retried.message_id) == 1


def test_permanent_refusal_fails_at_once_with_the_reason(app, make, smtp_server):
    signed_fiche(app, make)
    smtp_server.refuse_recipient(DCC, Step.reply(550, "5.1.1 User unknown"))
    report = deliver(app)
    assert (report.sent, report.failed) == (3, 1)
    failed = by_role(app)["dcc"]
    assert failed.status == "failed" and "550" in failed.last_error and failed.attempts == 1
    assert smtp_server.count(failed.message_id) == 0


def test_malformed_address_fails_without_sending(app, make, smtp_server):
    world = signed_fiche(app, make)
    with app.app_context():
        db.session.execute(
            update(Transmission)
            .where(Transmission.professional_id == world.gp_id)
            .values(recipient_address="luc bernard chez medecin")
        )
        db.session.commit()
    deliver(app)
    gp = by_role(app)["gp"]
    assert gp.status == "failed" and gp.last_error
    assert all("luc bernard" not in " ".join(m.rcpt_tos) for m in smtp_server.messages)


def test_giving_up_after_the_maximum_alerts_the_coordinators(app, make, smtp_server, login, client):
    signed_fiche(app, make)
    app.config["RCP_DELIVERY_MAX_ATTEMPTS"] = 2
    try:
        smtp_server.stop()
        deliver(app)
        deliver(app, now=utcnow() + timedelta(days=1))
    finally:
        app.config["RCP_DELIVERY_MAX_ATTEMPTS"] = 8
    rows = transmissions(app)
    assert {t.status for t in rows} == {"failed"}
    assert all(t.last_error.startswith("Abandon après 2 tentatives") for t in rows)
    login("coordinator")
    assert "4 message(s) de diffusion en échec" in client.get("/").get_data(as_text=True)
    page = client.get("/diffusion?etat=failed").get_data(as_text=True)
    assert "Abandon après 2 tentatives" in page


def test_a_worker_killed_mid_batch_loses_nothing(app, make, smtp_server):
    """The dead worker claimed the batch and sent the first message, then died before
    recording anything. After its lease, another worker sends everything: the one duplicate
    carries the same Message-ID."""
    signed_fiche(app, make)
    with app.app_context():
        claimed = worker.claim(50, "dead-worker")
        first = db.session.get(Transmission, claimed[0])
        settings = SmtpSettings.from_config(app.config)
        with SmtpConnection(settings) as connection:
            assert connection.send(
                build_for(first),
                envelope_from="rcp@rcp-demo.mssante.fr",
                recipients=[first.recipient_address],
            ).sent
        first_id = first.message_id
    assert deliver(app).claimed == 0  # still leased by the dead worker
    lease = app.config["RCP_DELIVERY_LEASE_SECONDS"]
    report = deliver(app, now=utcnow() + timedelta(seconds=lease + 1))
    assert report.sent == 4
    rows = transmissions(app)
    assert {t.status for t in rows} == {"sent"} and {t.attempts for t in rows} == {2}
    assert smtp_server.count(first_id) == 2  # at-least-once: the same Message-ID twice
    assert all(smtp_server.count(t.message_id) == 1 for t in rows if t.message_id != first_id)


def test_dashboard_resend_and_conflict_while_sending(app, make, smtp_server, login, client):
    signed_fiche(app, make, dcc=None)
    login("coordinator")
    dcc = by_role(app)["dcc"]
    # No address yet: a resend is refused with the reason.
    assert client.post(f"/diffusion/{dcc.id}/renvoyer").status_code == 409
    with app.app_context():
        db.session.execute(
            update(Transmission).where(Transmission.id == dcc.id).values(status="sending")
        )
        db.session.commit()
    response = client.post(f"/diffusion/{dcc.id}/renvoyer")
    assert response.status_code == 409
    assert "en cours d&#39;envoi" in response.get_data(as_text=True)
    # Once the RCP has its DCC address, the failed message can be resent.
    with app.app_context():
        db.session.execute(
            update(Transmission).where(Transmission.id == dcc.id).values(status="failed")
        )
        db.session.get(Transmission, dcc.id).fiche_version.fiche.session.rcp.dcc_address = DCC
        db.session.commit()
    assert client.post(f"/diffusion/{dcc.id}/renvoyer").status_code == 302
    assert by_role(app)["dcc"].recipient_address == DCC
    requester = by_role(app)["requester"]
    deliver(app)
    assert smtp_server.count(by_role(app)["dcc"].message_id) == 1
    assert client.post(f"/diffusion/{requester.id}/renvoyer").status_code == 302
    again = by_role(app)["requester"]
    assert again.status == "pending" and again.message_id == requester.message_id
    deliver(app)
    assert smtp_server.count(requester.message_id) == 2
    assert audits(app, "delivery.resend")


def test_notifications_use_the_same_outbox(app, make, smtp_server):
    requester = make.professional(mssante_address="julie.durand@ch.mssante.fr")
    rcp = make.rcp()
    session = make.session(rcp.id)
    case = make.submitted_case(rcp_id=rcp.id, session_id=session.id, requester_id=requester.id)
    from rcp_app.agenda import operations as agenda
    from rcp_app.meetings.models import MeetingSession

    with app.app_context():
        agenda.assign(db.session.get(MeetingSession, session.id), case.id, "test")
        db.session.commit()
        row = db.session.scalar(select(Transmission))
        assert (row.kind, row.recipient_address) == ("case_scheduled", "julie.durand@ch.mssante.fr")
    deliver(app)
    (received,) = smtp_server.messages
    message = email.message_from_bytes(received.data, policy=policy.default)
    assert message["Subject"].startswith("Dossier RCP inscrit à la séance du")
    assert "DUPONT" not in received.data.decode("utf-8", "replace")  # initials only
    with app.app_context():
        assert db.session.scalar(select(Transmission.status)) == "sent"


def test_published_agenda_reaches_the_participant_with_pdf_and_ics(app, make, smtp_server):
    coordinator = make.professional(mssante_address="claire.martin@ch.mssante.fr")
    rcp = make.rcp(coordinator_id=coordinator.id)
    session = make.session(rcp.id)
    make.agenda_item(session.id)
    from rcp_app.agenda import operations as agenda
    from rcp_app.meetings.models import MeetingSession

    with app.app_context():
        row = db.session.get(MeetingSession, session.id)
        agenda.publish(row, row.agenda_version)
        db.session.commit()
    report = deliver(app)  # no request context here, as in the worker process
    assert report.failed == 0, report.details
    published = [
        email.message_from_bytes(m.data, policy=policy.default)
        for m in smtp_server.messages
        if "claire.martin@ch.mssante.fr" in m.rcpt_tos
    ]
    (message,) = [m for m in published if m["Subject"].startswith("Ordre du jour")]
    parts = {p.get_filename(): p.get_content_type() for p in message.iter_attachments()}
    assert parts == {"ordre-du-jour.pdf": "application/pdf", "seance.ics": "text/calendar"}
