"""The delivery package's answers to what lower packages publish (core/signals.py).

Fiches and agenda events are queued in the outbox by these receivers, inside the transaction
of the event: the sender never imports delivery, which sits above it. Imported once by
``create_app``; connecting at import time is what makes the receivers live.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core import signals
from ..extensions import db
from ..fiches.models import FicheVersion
from .models import Transmission
from .outbox import enqueue_fiche, enqueue_notification


@signals.fiche_signed.connect
def _queue_fiche(version, *, case, rcp, now) -> None:
    enqueue_fiche(version, case, rcp, now)


@signals.notification_recorded.connect
def _queue_notification(notification, *, recipient, patient_id) -> None:
    enqueue_notification(notification, recipient, patient_id=patient_id)


@signals.fiche_transmissions.connect
def _transmissions_of(fiche) -> list[Transmission]:
    """Where each version of the fiche was sent, newest version first (one query)."""
    return list(
        db.session.scalars(
            select(Transmission)
            .join(FicheVersion, FicheVersion.id == Transmission.fiche_version_id)
            .where(FicheVersion.fiche_id == fiche.id)
            .options(
                selectinload(Transmission.professional),
                selectinload(Transmission.fiche_version),
            )
            .order_by(FicheVersion.version.desc(), Transmission.id)
        )
    )
