"""The followups package's answers to what lower packages publish (core/signals.py)."""

from __future__ import annotations

from ..core import signals
from . import reminders
from .operations import open_follow_up


@signals.fiche_signed.connect
def _open(version, *, case, rcp, now) -> None:
    """In the signature's transaction: the follow-up exists as soon as the fiche does."""
    open_follow_up(version, case, rcp, now)


@signals.delivery_cycle.connect
def _remind(worker, *, now) -> None:
    """Before each pass of the delivery worker, so that the pass sends what it queued."""
    reminders.run_logged(worker, now)
