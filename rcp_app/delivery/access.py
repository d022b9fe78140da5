"""Audit rows of the delivery pages that show patient data, each naming the patients by id."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import default as default_policy

from sqlalchemy import select

from ..core import audit
from ..core.patient_data import patient_ids
from ..extensions import db
from .models import Transmission


def record_dashboard_view(
    filter_name: str, transmissions: list[Transmission], criteria: dict | None = None
) -> None:
    """The coordinators' dashboard names the patient of each fiche sent; ``criteria``: what
    the list was filtered on, without what was typed (delivery/filters.py)."""
    audit.record(
        "delivery.dashboard_view",
        details={
            "filter": filter_name,
            **({"criteria": criteria} if criteria else {}),
            "transmissions": [t.id for t in transmissions],
            "patients": patient_ids(t.patient_id for t in transmissions),
        },
    )


def record_inbox_view(fiches: list) -> None:
    """A GP's inbox (the page, or its head on the home page) names each fiche's patient;
    ``fiches`` holds (fiche, version) pairs."""
    audit.record(
        "delivery.inbox_view",
        details={
            "fiches": [fiche.id for fiche, _ in fiches],
            "patients": patient_ids(fiche.patient_id for fiche, _ in fiches),
        },
    )


def record_mailbox_read(name: str, raw: bytes) -> None:
    """A stored message of the local mailbox carries a fiche or a notice: the patient is the
    one of the transmission the message was sent for (found by its Message-ID)."""
    headers = BytesParser(policy=default_policy).parsebytes(raw, headersonly=True)
    message_id = str(headers.get("Message-ID", "")).strip()
    transmission = None
    if message_id:
        transmission = db.session.scalar(
            select(Transmission).where(
                Transmission.message_id.in_({message_id, f"<{message_id.strip('<>')}>"})
            )
        )
    audit.record(
        "delivery.mailbox_read",
        "transmission" if transmission is not None else None,
        transmission.id if transmission is not None else None,
        patient_id=transmission.patient_id if transmission is not None else None,
        details={"message": name},
    )
