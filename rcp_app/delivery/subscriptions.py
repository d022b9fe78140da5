"""The delivery package's answers to what lower packages publish (core/signals.py).

Fiches, care programmes (PPS) and agenda events are queued in the outbox by these receivers,
inside the transaction of the event: the sender never imports delivery, which sits above it.
Imported once by ``create_app``; connecting at import time is what makes the receivers live.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core import signals
from ..extensions import db
from ..fiches.models import FicheVersion
from ..pps.models import CarePlanVersion
from .models import Transmission
from .outbox import enqueue_fiche, enqueue_notification, enqueue_pps


@signals.fiche_signed.connect
def _queue_fiche(version, *, case, rcp, now) -> None:
    enqueue_fiche(version, case, rcp, now)


@signals.notification_recorded.connect
def _queue_notification(notification, *, recipient, patient_id) -> None:
    enqueue_notification(notification, recipient, patient_id=patient_id)


@signals.fiche_transmissions.connect
def _transmissions_of(fiche) -> list[Transmission]:
    """Where each version of the fiche was sent, newest version first (one query)."""
    return _by_version(Transmission.fiche_version, FicheVersion.fiche_id, fiche.id)


def _by_version(link, owner_column, owner_id: int) -> list[Transmission]:
    """The transmissions of every version of one document (``link``: the Transmission
    relationship to the version; ``owner_column``: the version's column naming the document),
    newest version first, in one query."""
    versions = owner_column.class_
    return list(
        db.session.scalars(
            select(Transmission)
            .join(link)
            .where(owner_column == owner_id)
            .options(selectinload(Transmission.professional), selectinload(link))
            .order_by(versions.version.desc(), Transmission.id)
        )
    )


@signals.care_plan_signed.connect
def _queue_care_plan(version, *, case, rcp, now) -> None:
    enqueue_pps(version, case, rcp, now)


@signals.care_plan_transmissions.connect
def _care_plan_transmissions_of(plan) -> list[Transmission]:
    """Where each version of the care programme was sent, newest version first (one query)."""
    return _by_version(Transmission.care_plan_version, CarePlanVersion.care_plan_id, plan.id)
