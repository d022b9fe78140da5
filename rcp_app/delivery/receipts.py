"""Read receipts (MDN, RFC 8098): a receipt for one of our messages acknowledges it.

Receipts arrive as files dropped in ``RCP_MDN_DIR`` (by the mail gateway) or posted to
``flask rcp receipts import``. Each file is moved to ``traites/`` once used, or to
``rejetes/`` when it is not a receipt for a known message, so nothing is read twice or lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from ..core import audit
from ..core.timeutil import utcnow
from ..extensions import db
from .mdn import parse_mdn
from .models import Transmission

DONE, REJECTED = "traites", "rejetes"
# Dispositions that mean the recipient's client has the message.
ACKNOWLEDGING = {"displayed", "processed", "dispatched"}


@dataclass
class ReceiptOutcome:
    acknowledged: bool
    detail: str


def apply_receipt(raw: bytes, now: datetime | None = None) -> ReceiptOutcome:
    """Mark the transmission a receipt refers to as acknowledged (audited)."""
    mdn = parse_mdn(raw)
    if mdn is None:
        return ReceiptOutcome(False, "Ce fichier n'est pas un accusé de lecture (MDN).")
    if not mdn.original_message_id:
        return ReceiptOutcome(False, "Accusé de lecture sans référence au message d'origine.")
    transmission = db.session.scalar(
        select(Transmission)
        .where(Transmission.message_id == mdn.original_message_id)
        .with_for_update()
    )
    if transmission is None:
        return ReceiptOutcome(False, f"Message inconnu : {mdn.original_message_id}.")
    if mdn.disposition not in ACKNOWLEDGING:
        return ReceiptOutcome(
            False, f"Accusé « {mdn.disposition} » : le message n'est pas marqué comme lu."
        )
    if transmission.status != "acknowledged":
        transmission.status = "acknowledged"
        transmission.acknowledged_at = now or utcnow()
        transmission.last_error = None
        audit.record(
            "delivery.acknowledged",
            "transmission",
            transmission.id,
            patient_id=transmission.patient_id,
            details={
                "message_id": transmission.message_id,
                "disposition": mdn.disposition,
                "final_recipient": mdn.final_recipient,
            },
        )
    db.session.flush()
    return ReceiptOutcome(True, f"Accusé de lecture enregistré pour {transmission.message_id}.")


def import_folder(folder: Path, now: datetime | None = None) -> list[tuple[str, ReceiptOutcome]]:
    """Apply every receipt file of ``folder`` (committing each) and move it aside."""
    results = []
    if not folder.is_dir():
        return results
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        outcome = apply_receipt(path.read_bytes(), now)
        db.session.commit()
        target = folder / (DONE if outcome.acknowledged else REJECTED)
        target.mkdir(exist_ok=True)
        path.replace(target / path.name)
        results.append((path.name, outcome))
    return results
