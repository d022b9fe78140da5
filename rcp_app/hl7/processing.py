"""One frame in, one acknowledgement out: each message is its own transaction.

Inside an app context, with the audit actor « flux HL7 <address> »: decode and check the
message, apply it (``operations``), commit, answer AA. A refusal of the message's content rolls
back and answers AE with the French reason of the patient operations; a message that cannot be
taken (unreadable, unsupported type, event, processing id or version) answers AR. A lost race
(deadlock, serialization failure, SQLite busy, an identity changed between read and lock) is
run again, as a web request would be (``core/resilience.py``); an unexpected error or an
unreachable database rolls back, is logged, and answers AR so that the sender keeps the
message and sends it again later. Nothing here lets an exception reach the listener.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from flask import Flask
from sqlalchemy.exc import DBAPIError

from ..core import audit
from ..core.errors import Conflict, DomainError
from ..core.resilience import MAX_ATTEMPTS, is_transient_conflict, is_unavailable
from ..core.transactions import writing
from ..extensions import db
from ..patients.operations import DuplicatePatient, record_duplicate_shown
from . import ack, messages, operations
from .errors import Refusal
from .mapping import FIELD_LOCATIONS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    ack: bytes
    code: str  # AA, AE or AR


def actor_for(peer: str) -> audit.Actor:
    return audit.Actor(user_id=None, username=f"flux HL7 {peer}", ip=peer)


def handle(app: Flask, frame: bytes, peer: str, settings: operations.FeedSettings) -> Answer:
    """Process one MLLP frame's content; never raises."""
    with app.app_context():
        audit.set_actor(actor_for(peer))
        try:
            parsed, codec = messages.decode(frame)
        except Refusal as refusal:
            log.warning("HL7 from %s: unreadable message (%s)", peer, refusal.error_code)
            return _answer(None, "latin-1", refusal.ack_code, refusal)
        try:
            with writing():
                code, refusal = _apply(parsed, settings, peer)
        except Exception:
            log.exception("HL7 from %s: unexpected error", peer)
            db.session.rollback()
            code, refusal = "AR", _internal_error()
        return _answer(parsed, codec, code, refusal)


def _answer(parsed, codec: str, code: str, refusal: Refusal | None) -> Answer:
    try:
        text = ack.build(parsed, code, refusal)
    except Exception:
        # A header odd enough to break the answer: answer without echoing it.
        log.exception("HL7: acknowledgement built without the message's header")
        text = ack.build(None, code, refusal)
    return Answer(text.encode(codec, errors="replace"), code)


def _internal_error() -> Refusal:
    return Refusal(
        "Erreur interne du récepteur RCP : message non appliqué, renvoyez-le plus tard.",
        ack_code="AR",
        error_code="207",
    )


def _domain_refusal(error: DomainError) -> Refusal:
    if isinstance(error, DuplicatePatient):
        error_code = "205"
    elif isinstance(error, Conflict):
        error_code = "206"
    else:
        error_code = "102"
    return Refusal(error.message, error_code=error_code, location=FIELD_LOCATIONS.get(error.field))


def _apply(parsed, settings: operations.FeedSettings, peer: str) -> tuple[str, Refusal | None]:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            message = messages.adt(parsed)
            outcome = operations.apply(message, settings)
            db.session.commit()
        except Refusal as refusal:
            db.session.rollback()
            _log_refusal(peer, parsed, refusal)
            return refusal.ack_code, refusal
        except Conflict as error:
            db.session.rollback()
            if attempt == MAX_ATTEMPTS:
                return "AE", _domain_refusal(error)
        except DomainError as error:
            db.session.rollback()
            if isinstance(error, DuplicatePatient):
                # The refusal names another record (its IPP): that is an access to it.
                record_duplicate_shown(error)
                db.session.commit()
            refusal = _domain_refusal(error)
            _log_refusal(peer, parsed, refusal)
            return "AE", refusal
        except DBAPIError as error:
            db.session.rollback()
            if is_unavailable(error):
                log.error("HL7 from %s: database unavailable: %s", peer, error)
                return "AR", _internal_error()
            if attempt == MAX_ATTEMPTS or not is_transient_conflict(error):
                raise
        else:
            log.info(
                "HL7 from %s: %s applied to patient %s: %s",
                peer,
                _name(parsed),
                outcome.patient_id,
                outcome.summary,
            )
            return "AA", None
        time.sleep(random.uniform(0.01, 0.05) * 2**attempt)  # noqa: S311 (jitter)
    raise AssertionError("unreachable")


def _name(parsed) -> str:
    header = messages.header(parsed)
    return f"{header.message_code}^{header.trigger_event} {header.control_id}"


def _log_refusal(peer: str, parsed, refusal: Refusal) -> None:
    # The reason may quote identity values: only its code goes to the log.
    log.warning(
        "HL7 from %s: %s refused %s (%s)",
        peer,
        _name(parsed),
        refusal.ack_code,
        refusal.error_code,
    )
