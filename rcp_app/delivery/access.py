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


def message_transmission(raw: bytes) -> Transmission | None:
    """The transmission a stored message of the local mailbox was sent for (its Message-ID)."""
    headers = BytesParser(policy=default_policy).parsebytes(raw, headersonly=True)
    message_id = str(headers.get("Message-ID", "")).strip()
    if not message_id:
        return None
    return db.session.scalar(
        select(Transmission).where(
            Transmission.message_id.in_({message_id, f"<{message_id.strip('<>')}>"})
        )
    )


def record_mailbox_index(names: list[str], patients: list[int | None]) -> None:
    """The local mailbox's list: its subjects name the patients of the fiches sent."""
    audit.record(
        "delivery.mailbox_index",
        details={"messages": len(names), "patients": patient_ids(patients)},
    )


def record_mailbox_read(name: str, transmission: Transmission | None) -> None:
    """A stored message of the local mailbox carries a fiche or a notice: the patient is the
    one of the transmission the message was sent for."""
    audit.record(
        "delivery.mailbox_read",
        "transmission" if transmission is not None else None,
        transmission.id if transmission is not None else None,
        patient_id=transmission.patient_id if transmission is not None else None,
        details={"message": name},
    )
