"""Validation, signature and amendment of fiches.

An operation locks what it changes, checks, writes and audits, and flushes; the view commits.
Validating a decision freezes a snapshot (snapshot.py), generates the CDA and the PDF/A-3b from
it, seals the PDF and stores both documents write-once with their SHA-256, in one transaction:
a failure anywhere leaves nothing half-written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core import audit, signals
from ..core.conflict import check_version
from ..core.errors import Conflict, DomainError, PermissionDenied
from ..core.patient_data import cases_named
from ..core.text import clean_text
from ..core.timeutil import utcnow
from ..decisions import operations as decisions
from ..decisions.models import Decision
from ..directory.models import Rcp, RcpValidator
from ..extensions import db
from ..meetings.models import AgendaItem, MeetingSession
from ..terminology.builtin import QUORUM_REACHED
from . import snapshot
from .cda import build_cda
from .models import Fiche, FicheDocument, FicheVersion, document_rows
from .pdf import render_pdf
from .signature import seal

log = logging.getLogger(__name__)
# Sessions whose ready decisions may be validated (during or after the meeting).
VALIDATION_STATUSES = ("in_progress", "closed")
MAX_REASON = 2000
# Crockford's base 32 without I, L, O, U: nothing a reader can confuse when typing it.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS, CODE_GROUP_LENGTH = 3, 4
FORBIDDEN = (
    "Seul le médecin coordonnateur de cette RCP, ou un médecin à qui elle délègue la "
    "validation, peut valider ou corriger ses fiches."
)


class IncompleteFiche(DomainError):
    """Mandatory items are missing; ``missing`` lists them in French. ``refusal`` names what
    cannot be validated (a care programme says it too: pps/operations.py)."""

    refusal = "La fiche ne peut pas être validée"

    def __init__(self, missing: list[str]):
        super().__init__(f"{self.refusal} : il manque " + ", ".join(missing) + ".")
        self.missing = missing


# --- who may validate ------------------------------------------------------------------------


def validator_ids(rcp: Rcp) -> set[int]:
    """Professionals who may validate the RCP's fiches: its coordinator and its delegates."""
    ids = set(
        db.session.scalars(
            select(RcpValidator.professional_id).where(RcpValidator.rcp_id == rcp.id)
        )
    )
    if rcp.coordinator_id is not None:
        ids.add(rcp.coordinator_id)
    return ids


def can_validate(user, rcp: Rcp) -> bool:
    return (
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.has_role("physician")
        and user.professional_id is not None
        and user.professional_id in validator_ids(rcp)
    )


def check_can_validate(user, rcp: Rcp) -> None:
    if not can_validate(user, rcp):
        raise PermissionDenied(FORBIDDEN)


# --- what a fiche needs ----------------------------------------------------------------------


def fiche_missing_items(item: AgendaItem, decision: Decision | None) -> list[str]:
    """The mandatory FRCP items still missing for a fiche (French), beyond the meeting's own."""
    missing = decisions.missing_items(item, decision)
    if decision is None:
        return missing
    if decision.outcome == "postponed":
        missing.append("une issue discutée ou enregistrée (un dossier reporté n'a pas de fiche)")
    case = item.case
    if not (case.synthesis or "").strip():
        missing.append("la synthèse du dossier")
    if case.gp_id is None and not case.gp_unknown:
        missing.append("le médecin traitant (ou « inconnu »)")
    # The FRCP volet requires a cancer diagnosis entry: at least its topography (CIM-10).
    if not any(t.topography_code for t in case.tumours):
        missing.append("la localisation (CIM-10) d'au moins une tumeur")
    return missing


# --- codes and identifiers -------------------------------------------------------------------


def new_verification_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LENGTH))
    return "-".join(raw[i : i + CODE_GROUP_LENGTH] for i in range(0, len(raw), CODE_GROUP_LENGTH))


def normalise_code(raw: str | None) -> str | None:
    """What a person typed -> 'K7QF-3MZP-9TXD', or None when it cannot be a code."""
    text = "".join(ch for ch in str(raw or "").upper() if ch.isalnum())
    text = text.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    length = CODE_GROUPS * CODE_GROUP_LENGTH
    if len(text) != length or any(ch not in CODE_ALPHABET for ch in text):
        return None
    return "-".join(text[i : i + CODE_GROUP_LENGTH] for i in range(0, length, CODE_GROUP_LENGTH))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- issuing a signed version ----------------------------------------------------------------


def _lock_decision(item: AgendaItem) -> Decision | None:
    decision = db.session.scalars(
        select(Decision)
        .where(Decision.item_id == item.id)
        .options(selectinload(Decision.alternatives))
        .with_for_update()
    ).first()
    if decision is not None:
        db.session.refresh(decision)
    return decision


@dataclass(frozen=True)
class Draft:
    """What a new version will say, frozen before any CPU work: the snapshot and the
    identifiers it carries. The documents are produced from it outside any transaction
    (``produce``), then stored only if the database still says the same (``_check_unchanged``).
    """

    set_id: str
    version: int
    document_id: str
    code: str
    now: datetime
    frozen: dict
    seal_reason: str
    seal_location: str
    reason: str | None = None
    replaces_id: str | None = None


@dataclass(frozen=True)
class Documents:
    pdf: bytes  # sealed
    cda: bytes


def _draft(
    set_id: str,
    version: int,
    decision: Decision,
    item: AgendaItem,
    user,
    now: datetime,
    reason: str | None = None,
    replaces_id: str | None = None,
    same_as: Draft | None = None,
) -> Draft:
    """The snapshot of a new version (DB reads only). ``same_as`` reuses a draft's identifiers,
    to rebuild it at storing time and compare."""
    document_id = same_as.document_id if same_as else str(uuid.uuid4())
    code = same_as.code if same_as else new_verification_code()
    frozen = snapshot.build(
        decision=decision,
        item=item,
        validator=user.professional,
        validated_at=now,
        document_id=document_id,
        set_id=set_id,
        version=version,
        verification_code=code,
        amendment_reason=reason,
        replaces_id=replaces_id,
    )
    rcp = item.session.rcp
    return Draft(
        set_id=set_id,
        version=version,
        document_id=document_id,
        code=code,
        now=now,
        frozen=frozen,
        seal_reason=f"Fiche RCP validée (version {version}) — {rcp.name}",
        seal_location=rcp.establishment.city or rcp.establishment.name,
        reason=reason,
        replaces_id=replaces_id,
    )


def produce(draft: Draft) -> Documents:
    """CDA, PDF/A-3b and seal: pure CPU (and the TSA when configured), no database."""
    cda = build_cda(draft.frozen)
    signed = seal.sealer().sign(
        render_pdf(draft.frozen, cda), reason=draft.seal_reason, location=draft.seal_location
    )
    return Documents(pdf=signed, cda=cda)


CHANGED_WHILE_SIGNING = (
    "La décision ou le dossier a été modifié pendant la signature : rien n'a été enregistré. "
    "Relisez la fiche, puis validez-la de nouveau."
)


def _check_unchanged(draft: Draft, again: Draft) -> None:
    if again.frozen != draft.frozen:
        raise Conflict(CHANGED_WHILE_SIGNING)


def _store(fiche: Fiche, draft: Draft, documents: Documents, user, item) -> FicheVersion:
    """One new write-once version of the fiche, with its documents and its deliveries."""
    row = FicheVersion(
        fiche=fiche,
        version=draft.version,
        document_id=draft.document_id,
        verification_code=draft.code,
        snapshot=json.dumps(draft.frozen, ensure_ascii=False, sort_keys=True),
        validated_at=draft.now,
        validated_by_id=user.id,
        amendment_reason=draft.reason,
        signer=seal.sealer().certificate_subject[:300],
    )
    db.session.add(row)
    contents = {"pdf": documents.pdf, "cda": documents.cda}
    db.session.add_all(document_rows(FicheDocument, contents, version=row))
    db.session.flush()
    # The delivery outbox queues the transmissions, in this transaction (core/signals.py).
    signals.send(signals.fiche_signed, row, case=item.case, rcp=item.session.rcp, now=draft.now)
    return row


def _checked_for_validation(item: AgendaItem, user, *, lock: bool) -> Decision:
    session: MeetingSession = item.session
    check_can_validate(user, session.rcp)
    if session.status not in VALIDATION_STATUSES:
        raise Conflict(
            f"La séance est « {session.status_label.lower()} » : les fiches se valident pendant "
            "ou après la réunion."
        )
    decision = (
        _lock_decision(item)
        if lock
        else db.session.scalar(select(Decision).where(Decision.item_id == item.id))
    )
    if decision is not None and decision.state == "validated":
        raise Conflict("Cette fiche est déjà validée et signée.")
    missing = fiche_missing_items(item, decision)
    if missing:
        raise IncompleteFiche(missing)
    if decision.state != "ready_for_validation":
        raise Conflict(
            "La décision n'est pas marquée « prête pour validation » : marquez-la d'abord en "
            "réunion."
        )
    return decision


def draft_validation(item: AgendaItem, user, now: datetime | None = None) -> Draft:
    """Checks, then the snapshot of version 1; writes nothing."""
    decision = _checked_for_validation(item, user, lock=False)
    return _draft(str(uuid.uuid4()), 1, decision, item, user, now or utcnow())


def store_validation(item: AgendaItem, user, draft: Draft, documents: Documents) -> FicheVersion:
    """Lock the decision, check it still says what was signed, store version 1."""
    decision = _checked_for_validation(item, user, lock=True)
    _check_unchanged(draft, _draft(draft.set_id, 1, decision, item, user, draft.now, same_as=draft))
    case = item.case
    fiche = Fiche(
        set_id=draft.set_id,
        decision_id=decision.id,
        case_id=case.id,
        patient_id=case.patient_id,
        session_id=item.session_id,
        created_at=draft.now,
        current_version=1,
    )
    db.session.add(fiche)
    version = _store(fiche, draft, documents, user, item)
    decision.state = "validated"
    db.session.flush()
    audit.record(
        "fiche.validate",
        "fiche",
        fiche.id,
        patient_id=case.patient_id,
        details=_audit_details(version),
    )
    return version


def validate(item: AgendaItem, user, now: datetime | None = None) -> FicheVersion:
    """Validate the item's ready decision in the current transaction (demo data, tests, CLI).

    The web pages use ``signing_flow``, which renders and seals between two transactions.
    """
    draft = draft_validation(item, user, now)
    return store_validation(item, user, draft, produce(draft))


def _audit_details(version: FicheVersion) -> dict:
    return {
        "version": version.version,
        "document_id": version.document_id,
        "pdf_sha256": version.document("pdf").sha256,
        "cda_sha256": version.document("cda").sha256,
    }


def validate_ready(session: MeetingSession, user, now: datetime | None = None):
    """Validate every complete ready decision of the session (end-of-meeting batch, one
    transaction). Returns the new versions and, for the ready ones left aside, what they lack.
    """
    now = now or utcnow()
    check_can_validate(user, session.rcp)
    versions, skipped = [], []
    for item in ready_items(session):
        try:
            versions.append(validate(item, user, now))
        except IncompleteFiche as incomplete:  # refused before writing anything
            skipped.append((item, incomplete.missing))
    return versions, skipped


def ready_items(session: MeetingSession) -> list[AgendaItem]:
    items = decisions.agenda.agenda_items(session)
    states = decisions.decisions_for(items)
    return [i for i in items if i.id in states and states[i.id].state == "ready_for_validation"]


# --- amendments ------------------------------------------------------------------------------


def lock_fiche(fiche: Fiche, expected_version) -> Fiche:
    db.session.execute(select(Fiche.id).where(Fiche.id == fiche.id).with_for_update())
    db.session.refresh(fiche)
    check_version(
        expected_version,
        fiche.current_version,
        f"La fiche a été corrigée entre-temps (version {fiche.current_version} en vigueur) : "
        "relisez-la avant de proposer un nouvel avenant.",
    )
    return fiche


def _apply_amendment(
    fiche: Fiche, user, data: Mapping, reason, expected_version, now: datetime
) -> tuple[AgendaItem, Decision, FicheVersion, str]:
    """Lock, check and apply the corrected decision (flushed, not committed)."""
    item = item_of(fiche)
    check_can_validate(user, item.session.rcp)
    lock_fiche(fiche, expected_version)
    reason = clean_text(str(reason or ""), "Motif de l'avenant", "reason").strip()
    data = decisions.checked_input(data)
    if not reason:
        raise DomainError("Indiquez le motif de l'avenant.", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Le motif est limité à {MAX_REASON} caractères.", field="reason")
    decision = _lock_decision(item)
    previous_quorum = decision.quorum_status
    values, alternatives = decisions.parse(data, decision.seconds_spent)
    if values["outcome"] == "postponed":
        raise DomainError(
            "Un avenant ne peut pas reporter un dossier déjà décidé.", field="outcome"
        )
    if values["quorum_status"] == QUORUM_REACHED and previous_quorum != QUORUM_REACHED:
        decisions.check_quorum_reached(item.session, item.case)
    decisions.apply_values(decision, values, alternatives)
    decision.updated_by_id = user.id
    decision.updated_at = now
    missing = fiche_missing_items(item, decision)
    if missing:
        raise IncompleteFiche(missing)
    return item, decision, current_version(fiche), reason


def _amendment_draft(fiche, user, data, reason, expected_version, now, same_as=None) -> Draft:
    item, decision, previous, reason = _apply_amendment(
        fiche, user, data, reason, expected_version, now
    )
    return _draft(
        fiche.set_id,
        previous.version + 1,
        decision,
        item,
        user,
        now,
        reason,
        previous.document_id,
        same_as=same_as,
    )


def draft_amendment(
    fiche: Fiche, user, data: Mapping, reason, expected_version, now: datetime | None = None
) -> Draft:
    """The next version's snapshot, computed on the corrected decision inside a savepoint
    that is then rolled back: nothing is written."""
    savepoint = db.session.begin_nested()
    try:
        return _amendment_draft(fiche, user, data, reason, expected_version, now or utcnow())
    finally:
        savepoint.rollback()


def store_amendment(
    fiche: Fiche, user, data: Mapping, reason, expected_version, draft: Draft, documents
) -> FicheVersion:
    """Apply the correction again, check it still gives what was signed, store the version."""
    again = _amendment_draft(fiche, user, data, reason, expected_version, draft.now, same_as=draft)
    _check_unchanged(draft, again)
    item = item_of(fiche)
    previous_version = fiche.current_version
    fiche.current_version = draft.version
    version = _store(fiche, draft, documents, user, item)
    audit.record(
        "fiche.amend",
        "fiche",
        fiche.id,
        patient_id=fiche.patient_id,
        details={
            **_audit_details(version),
            "reason": draft.reason,
            "replaces": previous_version,
        },
    )
    return version


def amend(
    fiche: Fiche, user, data: Mapping, reason, expected_version, now: datetime | None = None
) -> FicheVersion:
    """A new signed version with the corrected decision, in the current transaction (demo,
    tests); the web page uses ``signing_flow``."""
    draft = draft_amendment(fiche, user, data, reason, expected_version, now)
    return store_amendment(fiche, user, data, reason, expected_version, draft, produce(draft))


# --- reading ---------------------------------------------------------------------------------


def current_version(fiche: Fiche) -> FicheVersion:
    return db.session.scalar(
        select(FicheVersion).where(
            FicheVersion.fiche_id == fiche.id, FicheVersion.version == fiche.current_version
        )
    )


def fiches_of_session(session: MeetingSession) -> dict[int, Fiche]:
    """case id -> fiche, for a session's agenda (one query)."""
    rows = db.session.scalars(select(Fiche).where(Fiche.session_id == session.id))
    return {f.case_id: f for f in rows}


def load_document(version: FicheVersion, kind: str) -> FicheDocument:
    """A stored document, its bytes checked against their digest (``DocumentAltered``)."""
    document = version.document(kind)
    document.content  # noqa: B018  (the read checks the digest)
    return document


def record_download(version: FicheVersion, kind: str) -> None:
    audit.record(
        "fiche.download",
        "fiche",
        version.fiche_id,
        patient_id=version.fiche.patient_id,
        details={"version": version.version, "kind": kind},
    )


def item_of(fiche: Fiche) -> AgendaItem:
    return db.session.scalar(select(AgendaItem).where(AgendaItem.case_id == fiche.case_id))


def record_view(fiche: Fiche, context: str | None = None) -> None:
    audit.record(
        "fiche.view",
        "fiche",
        fiche.id,
        patient_id=fiche.patient_id,
        details={
            "current_version": fiche.current_version,
            **({"context": context} if context else {}),
        },
    )


def record_session_view(session: MeetingSession, items: list[AgendaItem]) -> None:
    """The session's fiche list names every patient of its agenda."""
    audit.record(
        "session.fiches_view",
        "session",
        session.id,
        details=cases_named(items),
    )


PREVIEW_CODE = "APER-CU00-0000"


def preview_snapshot(item: AgendaItem, user, now: datetime | None = None) -> dict:
    """What the validating physician is about to sign: today's data, frozen as for a fiche
    (the view renders it, unsigned, once the transaction with the audit row has ended).

    No identifiers are reserved and nothing is stored; the page carries « aperçu » marks.
    """
    now = now or utcnow()
    decision = decisions.decision_of(item)
    if decision is None:
        raise DomainError("Aucune décision n'est encore saisie pour ce dossier.")
    professional = user.professional
    frozen = snapshot.build(
        decision=decision,
        item=item,
        validator=professional if professional is not None else item.session.rcp.coordinator,
        validated_at=now,
        document_id=str(uuid.uuid4()),
        set_id=str(uuid.uuid4()),
        version=1,
        verification_code=PREVIEW_CODE,
    )
    frozen["document"]["preview"] = True
    audit.record(
        "fiche.preview",
        "case",
        item.case_id,
        patient_id=item.case.patient_id,
        details={"session_id": item.session_id},
    )
    return frozen


def transmissions_of(fiche: Fiche) -> list:
    """Where each version of the fiche was sent, newest version first (the delivery package
    answers: it sits above fiches, core/signals.py)."""
    return signals.collected(signals.fiche_transmissions, fiche)
