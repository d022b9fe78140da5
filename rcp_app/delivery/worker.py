"""The delivery worker: claim due transmissions, send them, record the outcome.

E-mails go over SMTP; webhook transmissions are POSTed over HTTP (``webhook.py``), with the
same claims, leases, backoff and outcomes.

Claiming is one short transaction: on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` lets
several workers (on several machines) share the outbox without ever taking the same row; on
SQLite one worker runs. A claimed row is « sending » with a lease: a worker killed in the
middle of a send leaves it so, and once the lease has expired any worker takes it again — with
the same Message-ID. The guarantee is at-least-once delivery with a stable deduplication key.
Sending happens outside any transaction, so a slow SMTP server never holds a database lock.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from ..core import audit
from ..core.timeutil import utcnow
from ..core.transactions import reading
from ..extensions import db
from .models import Transmission
from .notices import build_for
from .smtp import SmtpConnection, SmtpSettings
from .webhook import WebhookSender
from .webhook import load as load_webhook
from .webhook import revoked as webhook_revoked

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(hours=6)


@dataclass
class BatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    details: list[str] = field(default_factory=list)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(limit: int, worker: str, now: datetime | None = None) -> list[int]:
    """Mark up to ``limit`` due transmissions « sending » for this worker; returns their ids."""
    now = now or utcnow()
    lease = timedelta(seconds=current_app.config["RCP_DELIVERY_LEASE_SECONDS"])
    due = or_(
        and_(Transmission.status == "pending", Transmission.next_attempt_at <= now),
        and_(Transmission.status == "sending", Transmission.claimed_at < now - lease),
    )
    stmt = (
        select(Transmission.id).where(due).order_by(Transmission.next_attempt_at, Transmission.id)
    )
    stmt = stmt.limit(limit)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(stmt))
    if ids:
        db.session.execute(
            update(Transmission)
            .where(Transmission.id.in_(ids))
            .values(
                status="sending",
                claimed_at=now,
                claimed_by=worker,
                attempts=Transmission.attempts + 1,
                version=Transmission.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


def _backoff(attempts: int) -> timedelta:
    base = timedelta(seconds=current_app.config["RCP_DELIVERY_BACKOFF_SECONDS"])
    return min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def record_outcome(transmission: Transmission, outcome: str, detail: str, now: datetime) -> str:
    """sent / temporary / permanent -> the row's new status (and its audit row)."""
    maximum = current_app.config["RCP_DELIVERY_MAX_ATTEMPTS"]
    if outcome == "sent":
        transmission.status, transmission.sent_at, transmission.last_error = "sent", now, None
    elif outcome == "temporary" and transmission.attempts < maximum:
        transmission.status = "pending"
        transmission.next_attempt_at = now + _backoff(transmission.attempts)
        transmission.last_error = detail
    else:
        transmission.status, transmission.failed_at = "failed", now
        transmission.last_error = (
            detail
            if outcome == "permanent"
            else f"Abandon après {transmission.attempts} tentatives. Dernière erreur : {detail}"
        )
    transmission.claimed_at = transmission.claimed_by = None
    # The notification's state is its e-mail's: a webhook about the same event has its own row.
    if transmission.notification is not None and transmission.channel != "webhook":
        transmission.notification.status = {"sent": "sent", "failed": "failed"}.get(
            transmission.status, "pending"
        )
    audit.record(
        f"delivery.{transmission.status}",
        "transmission",
        transmission.id,
        patient_id=transmission.patient_id,
        details={
            "kind": transmission.kind,
            "role": transmission.recipient_role,
            "to": transmission.recipient_address,
            "attempt": transmission.attempts,
            "message_id": transmission.message_id,
            "error": transmission.last_error,
            # The receiver's answer (SMTP reply, HTTP status): the receipt of what was sent.
            **({"answer": detail} if outcome == "sent" else {}),
        },
    )
    return transmission.status


def deliver_batch(limit: int = 50, worker: str | None = None, now=None) -> BatchReport:
    """Claim, send and record one batch (one SMTP connection and one HTTP session for the
    batch, each opened on its first use)."""
    worker = worker or worker_name()
    report = BatchReport()
    ids = claim(limit, worker, now)
    report.claimed = len(ids)
    if not ids:
        return report
    config = current_app.config
    settings = SmtpSettings.from_config(config)
    # Renewed once a quarter of the lease has gone by, not after every message (an UPDATE).
    renew_every = config["RCP_DELIVERY_LEASE_SECONDS"] / 4
    renewed = time.monotonic()
    with SmtpConnection(settings) as connection, WebhookSender() as sender:
        for transmission_id in ids:
            outcome, detail = _send_one(connection, sender, transmission_id, worker, config)
            if outcome is None:
                continue  # taken over by another worker after our lease expired
            transmission = db.session.get(Transmission, transmission_id)
            if transmission.claimed_by != worker:
                db.session.rollback()
                continue
            status = record_outcome(transmission, outcome, detail, now or utcnow())
            if time.monotonic() - renewed > renew_every:
                renew_lease(worker, now)
                renewed = time.monotonic()
            db.session.commit()
            report.sent += status == "sent"
            report.retried += status == "pending"
            report.failed += status == "failed"
            if status != "sent":
                report.details.append(f"{transmission.recipient_address or '—'} : {detail}")
    return report


def renew_lease(worker: str, now: datetime | None = None) -> None:
    """The rows this worker still holds stay its own while it works through the batch: a batch
    of slow messages never outlasts the lease (which would send them twice)."""
    db.session.execute(
        update(Transmission)
        .where(Transmission.claimed_by == worker, Transmission.status == "sending")
        .values(claimed_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )


def reclaim_orphans(now: datetime | None = None, own: str | None = None) -> int:
    """Rows left « sending » by a worker of this machine that no longer runs (killed,
    restarted), and those of ``own`` (this worker, back from a database outage), go back to the
    queue at once instead of waiting for their lease."""
    host = socket.gethostname()
    rows = db.session.execute(
        select(Transmission.id, Transmission.claimed_by).where(
            Transmission.status == "sending", Transmission.claimed_by.like(f"{host}:%")
        )
    ).all()
    orphans = [
        row.id
        for row in rows
        if row.claimed_by == own or not _alive(row.claimed_by.rpartition(":")[2])
    ]
    if orphans:
        db.session.execute(
            update(Transmission)
            .where(Transmission.id.in_(orphans), Transmission.status == "sending")
            .values(
                status="pending", next_attempt_at=now or utcnow(), claimed_at=None, claimed_by=None
            )
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return len(orphans)


def _alive(pid: str) -> bool:
    if not pid.isascii() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def current_address(transmission: Transmission) -> str:
    """The recipient's address as the directory gives it today (it may have been corrected)."""
    if transmission.professional is not None:
        return (transmission.professional.mssante_address or "").strip()
    if transmission.recipient_role == "dcc":
        rcp = _document_rcp(transmission)
        if rcp is not None:
            return (rcp.dcc_address or rcp.establishment.dcc_address or "").strip()
    if transmission.recipient_role == "patient_record":
        return (current_app.config["RCP_DMP_ADDRESS"] or "").strip()
    return transmission.recipient_address


def _document_rcp(transmission: Transmission):
    """The RCP whose fiche the transmission carries, or whose fiche the care programme
    (PPS) it carries implements; None for a notification."""
    if transmission.fiche_version is not None:
        return transmission.fiche_version.fiche.session.rcp
    if transmission.care_plan_version is not None:
        return transmission.care_plan_version.care_plan.fiche.session.rcp
    return None


def _send_one(
    connection: SmtpConnection, sender: WebhookSender, transmission_id: int, worker: str, config
):
    """Build the message in a reading transaction (no SQLite write lock while the PDF and the
    XDM are assembled), end it, then talk SMTP or HTTP with no transaction open."""
    with reading():
        transmission = db.session.get(Transmission, transmission_id)
        if transmission is None or transmission.claimed_by != worker:
            db.session.rollback()
            return None, None
        webhook = transmission.channel == "webhook"
        address = transmission.recipient_address
        try:
            message = load_webhook(transmission) if webhook else build_for(transmission)
        except Exception as error:  # a message we cannot build will never be sent
            log.exception("transmission %s: message not built", transmission_id)
            db.session.rollback()
            return "permanent", f"Message impossible à construire : {error}"
        db.session.rollback()
    if webhook:
        result = sender.send(message)
    else:
        result = connection.send(
            message, envelope_from=config["RCP_MSSANTE_SENDER"], recipients=[address]
        )
    return result.outcome, result.detail


def resend(transmission: Transmission, now: datetime | None = None) -> None:
    """Put a transmission back in the queue (coordinator's button); 409 while it is in flight."""
    from ..core.errors import Conflict

    if transmission.status == "sending":
        raise Conflict(
            "Ce message est en cours d'envoi : attendez la fin de la tentative avant de le "
            "renvoyer."
        )
    if transmission.channel == "webhook" and webhook_revoked(transmission.subscription_id):
        raise Conflict(
            "Le système de l'établissement a révoqué cet abonnement : la notification ne peut "
            "plus lui être envoyée."
        )
    transmission.recipient_address = current_address(transmission)
    if not transmission.recipient_address:
        raise Conflict(
            "Aucune adresse n'est connue pour ce destinataire : complétez l'annuaire, puis "
            "renvoyez."
        )
    previous = transmission.status
    transmission.status = "pending"
    transmission.next_attempt_at = now or utcnow()
    transmission.attempts = 0
    transmission.failed_at = None
    db.session.flush()
    audit.record(
        "delivery.resend",
        "transmission",
        transmission.id,
        patient_id=transmission.patient_id,
        details={"previous_status": previous, "message_id": transmission.message_id},
    )
