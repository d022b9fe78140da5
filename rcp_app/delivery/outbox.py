"""Creating transmissions, in the transaction of the event they report.

A signed fiche version goes to: the regional DCC (address of the RCP, else of its
establishment), the referring physician, the GP, each correspondent in copy, and — when
``RCP_DELIVER_TO_DMP`` is on — the patient's shared record (its own channel). A recipient
without a usable address still gets a row, failed at once with the reason, so that the
coordinators see it on the delivery dashboard instead of a silent gap. A signed care programme
(PPS) version goes the same way to the DCC, the GP and the shared record (``enqueue_pps``).
"""

from __future__ import annotations

import json
from datetime import datetime

from flask import current_app

from ..core import audit
from ..core.timeutil import utcnow
from ..directory.models import Professional
from ..extensions import db
from .models import Transmission

NO_ADDRESS = "Aucune adresse de messagerie sécurisée (MSSanté) n'est connue pour ce destinataire."
NO_DCC = (
    "Aucune adresse du DCC n'est configurée pour cette RCP ni pour son établissement "
    "(annuaire, fiche de la RCP ou de l'établissement)."
)


def sender_domain() -> str:
    return current_app.config["RCP_MSSANTE_SENDER"].rsplit("@", 1)[-1]


def message_id(*parts) -> str:
    """A stable RFC 5322 Message-ID: the same transmission always carries the same one.

    Kept short enough that the header is never folded (a folded Message-ID is valid but
    some gateways compare it with its folding whitespace)."""
    local = ".".join(str(p) for p in parts)
    return f"<{local}@{sender_domain()}>"


def _short(document_id: str) -> str:
    """80 bits of the document's random UUID: unique enough, and short."""
    return document_id.replace("-", "")[:20]


def _row(kind: str, role: str, address: str | None, now: datetime, mid: str, **fields):
    row = Transmission(
        kind=kind,
        recipient_role=role,
        recipient_address=(address or "").strip(),
        message_id=mid,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        **fields,
    )
    if not row.recipient_address:
        row.status, row.failed_at = "failed", now
        row.last_error = NO_DCC if role == "dcc" else NO_ADDRESS
    db.session.add(row)
    return row


def fiche_recipients(case, rcp) -> list[tuple[str, str | None, Professional | None]]:
    """(role, address, professional) for every recipient of a fiche of ``case``."""
    recipients: list[tuple[str, str | None, Professional | None]] = [
        ("dcc", rcp.dcc_address or rcp.establishment.dcc_address, None),
        ("requester", case.requester.mssante_address, case.requester),
    ]
    if case.gp is not None:
        recipients.append(("gp", case.gp.mssante_address, case.gp))
    seen = {case.requester_id, case.gp_id}
    for correspondent in case.correspondents:
        if correspondent.id not in seen:
            recipients.append(("correspondent", correspondent.mssante_address, correspondent))
            seen.add(correspondent.id)
    return recipients


def enqueue_fiche(version, case, rcp, now: datetime | None = None) -> list[Transmission]:
    """One transmission per recipient of a newly signed fiche version."""
    return _enqueue_document(
        "fiche",
        "f",
        version,
        fiche_recipients(case, rcp),
        case,
        now or utcnow(),
        ("fiche", version.fiche_id),
        fiche_version=version,
    )


def _enqueue_document(
    kind: str, prefix: str, version, recipients, case, now: datetime, audited: tuple, **link
) -> list[Transmission]:
    """The rows of a signed document version (``link`` names it: fiche_version=,
    care_plan_version=): one per recipient, plus the shared-record channel when it is on; the
    Message-IDs derive from the version's document UUID, so they are stable and unique."""
    short = _short(version.document_id)
    rows = [
        _row(
            kind,
            role,
            address,
            now,
            message_id(prefix, short, role, professional.id if professional else 0),
            professional=professional,
            patient_id=case.patient_id,
            **link,
        )
        for role, address, professional in recipients
    ]
    if current_app.config["RCP_DELIVER_TO_DMP"]:
        rows.append(
            _row(
                kind,
                "patient_record",
                current_app.config["RCP_DMP_ADDRESS"],
                now,
                message_id(prefix, short, "dmp"),
                channel="dmp",
                patient_id=case.patient_id,
                **link,
            )
        )
    db.session.flush()
    object_type, object_id = audited
    audit.record(
        "delivery.enqueue",
        object_type,
        object_id,
        patient_id=case.patient_id,
        details={
            "version": version.version,
            "transmissions": [[r.id, r.recipient_role, r.status] for r in rows],
        },
    )
    return rows


def enqueue_notification(notification, professional: Professional, patient_id=None):
    """The e-mail of a meeting notification (case scheduled, postponed, refused; agenda)."""
    role = "participant" if notification.kind == "agenda_published" else "requester"
    return _row(
        notification.kind,
        role,
        professional.mssante_address,
        notification.created_at,
        message_id("n", notification.id, notification.kind),
        notification=notification,
        professional=professional,
        patient_id=patient_id,
    )


def enqueue_webhook(
    kind: str,
    subscription_id: int,
    url: str,
    payload: str,
    event_id: str,
    now: datetime,
    **fields,
) -> Transmission:
    """The POST of one event to one subscription (channel « webhook »): its JSON body is
    fixed here, so that every retry sends the same bytes under the same delivery id."""
    return _row(
        kind,
        "api_client",
        url,
        now,
        message_id("w", _short(event_id), subscription_id),
        channel="webhook",
        subscription_id=subscription_id,
        payload=payload,
        **fields,
    )


def enqueue_reminder(
    key: str, professional: Professional, patient_id: int, subject: str, body: str, now: datetime
) -> Transmission:
    """A plain-text reminder to a professional (a follow-up falls due, followups/): its
    subject and body are fixed here (``payload``), so that every retry sends the same words.
    ``key`` makes its Message-ID (unique: the same reminder can never be queued twice)."""
    return _row(
        "followup_reminder",
        "requester",
        professional.mssante_address,
        now,
        message_id("r", key),
        professional=professional,
        patient_id=patient_id,
        payload=json.dumps({"subject": subject, "body": body}, ensure_ascii=False),
    )


PPS_ROLES = ("dcc", "gp")


def enqueue_pps(version, case, rcp, now: datetime | None = None) -> list[Transmission]:
    """A newly signed care programme (PPS) version goes to the regional DCC and the GP, as
    their fiche did (same addresses, same failed rows when one is missing; no GP row when the
    case has none), and to the patient's shared record when that channel is on. The patient
    receives it from the physician; the requester and the correspondents wrote it."""
    return _enqueue_document(
        "pps",
        "p",
        version,
        [r for r in fiche_recipients(case, rcp) if r[0] in PPS_ROLES],
        case,
        now or utcnow(),
        ("care_plan", version.care_plan_id),
        care_plan_version=version,
    )
