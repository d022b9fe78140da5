"""Reminders: once a follow-up's due day has passed with nothing recorded, its referring
physician gets one e-mail (queued in the delivery outbox, sent by the delivery worker).

Each due follow-up is claimed by a conditional UPDATE (``reminder_queued_at`` still NULL): of
two runs at the same moment — two workers, the worker and the CLI — only the one whose UPDATE
changed the row queues the e-mail, so a reminder is queued once. The run is one short
transaction of its own (``run``), after which the worker sends as usual.
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..core import audit
from ..core.timeutil import format_date, utcnow
from ..core.transactions import writing
from ..delivery import outbox
from ..delivery.notices import patient_initials
from ..extensions import db
from ..fiches.models import Fiche
from . import proposal
from .models import FollowUp
from .queries import today

log = logging.getLogger(__name__)
# Follow-ups reminded per run: the transaction stays short; the next run takes the rest.
BATCH = 200


def due_ids(now: datetime, limit: int = BATCH) -> list[int]:
    return list(
        db.session.scalars(
            select(FollowUp.id)
            .where(
                FollowUp.state == "pending",
                FollowUp.due_on < today(now),
                FollowUp.reminder_queued_at.is_(None),
            )
            .order_by(FollowUp.due_on, FollowUp.id)
            .limit(limit)
        )
    )


def _claim(follow_up_id: int, now: datetime) -> bool:
    """The one UPDATE two runs race on: True for the run that changed the row."""
    result = db.session.execute(
        update(FollowUp)
        .where(
            FollowUp.id == follow_up_id,
            FollowUp.reminder_queued_at.is_(None),
            FollowUp.state == "pending",
        )
        .values(reminder_queued_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def follow_up_link(fiche_id: int) -> str:
    """The link the e-mails carry: it opens the follow-up of that fiche, after the login."""
    return f"{current_app.config['RCP_PUBLIC_URL'].rstrip('/')}/suivis/fiche/{fiche_id}"


def subject(follow_up: FollowUp) -> str:
    """No patient identity: subjects show in notifications, lists and server logs."""
    session_day = format_date(follow_up.fiche.session.starts_at)
    return f"Suivi de la proposition — {follow_up.rcp.name} — séance du {session_day}"


def body(follow_up: FollowUp) -> str:
    session_day = format_date(follow_up.fiche.session.starts_at)
    lines = [
        "Bonjour,",
        "",
        f"La {follow_up.rcp.name} a formulé, lors de sa séance du {session_day}, une "
        f"proposition pour votre patient(e) {patient_initials(follow_up.patient)} :",
        *(f"- {text}" for _, text in proposal.options(follow_up.decision)),
        "",
        f"Son suivi était attendu pour le {format_date(follow_up.due_on)} ; rien n'a encore "
        "été indiqué.",
        "Indiquez ce qui a été fait pour ce patient (traitement commencé, modifié ou non "
        f"commencé) : {follow_up_link(follow_up.fiche_id)}",
        "",
        "Message automatique, merci de ne pas y répondre.",
    ]
    return "\n".join(lines) + "\n"


def _queue(follow_up_id: int, now: datetime) -> None:
    follow_up = db.session.scalars(
        select(FollowUp)
        .where(FollowUp.id == follow_up_id)
        .options(
            joinedload(FollowUp.patient),
            joinedload(FollowUp.rcp),
            joinedload(FollowUp.requester),
            joinedload(FollowUp.fiche).joinedload(Fiche.session),
        )
    ).one()
    transmission = outbox.enqueue_reminder(
        f"followup-{follow_up.id}",
        follow_up.requester,
        follow_up.patient_id,
        subject(follow_up),
        body(follow_up),
        now,
    )
    db.session.flush()
    audit.record(
        "followup.reminder",
        "follow_up",
        follow_up.id,
        patient_id=follow_up.patient_id,
        details={"transmission_id": transmission.id, "due_on": follow_up.due_on.isoformat()},
    )


def queue_due_reminders(now: datetime | None = None) -> int:
    """Queue the reminder of every pending follow-up past its due day and not yet reminded;
    returns how many this run queued. Flushes, never commits."""
    now = now or utcnow()
    queued = 0
    for follow_up_id in due_ids(now):
        if _claim(follow_up_id, now):
            _queue(follow_up_id, now)
            queued += 1
    return queued


def run(now: datetime | None = None) -> int:
    """``queue_due_reminders`` in its own transaction: committed, or rolled back and raised."""
    try:
        with writing():
            queued = queue_due_reminders(now)
            db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    finally:
        db.session.remove()
    return queued


def run_logged(worker: str, now: datetime | None = None) -> None:
    """The delivery worker's cycle: a failure is logged, the deliveries go on."""
    try:
        queued = run(now)
    except Exception:
        log.exception("Rappels de suivi : le passage du travailleur %s a échoué.", worker)
        return
    if queued:
        log.info("Rappels de suivi : %d rappel(s) mis en file d'envoi.", queued)
