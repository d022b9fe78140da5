"""Validating and amending from the web: render and seal between two short transactions.

Producing a signed fiche costs CPU (CDA, PDF/A, seal) and, with a TSA, a network round trip.
No database transaction is held meanwhile: the draft (checks and snapshot) is read in one
transaction, which is then ended; the documents are produced; a second short transaction locks
the decision, checks that it still gives the same snapshot, and stores the version. So a batch
of 40 fiches signs fiche by fiche, each committed on its own: other users are never kept
waiting, and an interrupted batch is resumed by running it again (validated decisions are no
longer ready). These functions own their transactions, as the delivery worker does; the
operations they call only flush.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..access import rules
from ..core.errors import Conflict
from ..core.transactions import commit_phase, release
from ..extensions import db
from ..meetings.models import AgendaItem, MeetingSession
from . import operations as ops
from .models import Fiche, FicheVersion


def validate(item_id: int, user) -> FicheVersion:
    """Version 1 of one item's fiche, committed."""
    item = db.session.get(AgendaItem, item_id)
    draft = ops.draft_validation(item, user)
    release()
    documents = ops.produce(draft)
    item = db.session.get(AgendaItem, item_id)
    version = ops.store_validation(item, user, draft, documents)
    commit_phase()
    return version


@dataclass
class BatchResult:
    signed: list[str]  # verification codes of the versions signed
    skipped: list[tuple[int, str, list[str]]]  # position, patient, what is missing
    conflicts: list[tuple[int, str, str]]  # position, patient, why


def validate_ready(session_id: int, user) -> BatchResult:
    """Every complete ready decision of the session, fiche by fiche."""
    session = db.session.get(MeetingSession, session_id)
    ops.check_can_validate(user, session.rcp)
    # Only the fiches of patients the signer may see (rcp_app/access): a delegate who is not
    # in the care team of a patient objecting to sharing does not sign that patient's fiche.
    items = [
        (i.id, i.position, i.case.patient.display_name)
        for i in ops.ready_items(session)
        if rules.sees_case(user, i.case)
    ]
    release()
    result = BatchResult([], [], [])
    for item_id, position, patient in items:
        try:
            version = validate(item_id, user)
        except ops.IncompleteFiche as incomplete:
            db.session.rollback()
            result.skipped.append((position, patient, incomplete.missing))
        except Conflict as conflict:  # validated meanwhile (another tab), or changed
            db.session.rollback()
            result.conflicts.append((position, patient, conflict.message))
        else:
            result.signed.append(version.verification_code)
    return result


def amend(fiche_id: int, user, data: Mapping, reason, expected_version) -> FicheVersion:
    """A new signed version of the fiche, committed."""
    fiche = db.session.get(Fiche, fiche_id)
    draft = ops.draft_amendment(fiche, user, data, reason, expected_version)
    release()
    documents = ops.produce(draft)
    fiche = db.session.get(Fiche, fiche_id)
    version = ops.store_amendment(fiche, user, data, reason, expected_version, draft, documents)
    commit_phase()
    return version
