"""Drafting, validating and amending care programmes (PPS).

As for fiches: an operation locks what it changes, checks, writes, audits and flushes; the view
commits. Validating freezes a snapshot, produces the CDA and the patient PDF from it and seals
the PDF — CPU work done between two short transactions (``draft_validation`` reads and writes
nothing, ``produce`` touches no database, ``store_validation`` locks the programme, checks that
it has not changed meanwhile, and stores the write-once version).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..access import rules
from ..core import audit, signals
from ..core.conflict import check_version
from ..core.errors import Conflict, DomainError, PermissionDenied
from ..core.text import clean_text
from ..core.timeutil import utcnow
from ..decisions.models import Decision
from ..extensions import db
from ..fiches import operations as fiches
from ..fiches.models import Fiche, document_rows
from ..fiches.signature import seal
from ..meetings.models import MeetingSession
from . import draft as drafts
from . import values
from .cda import build_pps_cda
from .models import CarePlan, CarePlanDocument, CarePlanVersion
from .pdf import render_pdf

MAX_REASON = 2000
FORBIDDEN_DRAFT = (
    "Seuls le médecin demandeur, les correspondants du dossier et le secrétariat (3C) de la RCP "
    "peuvent rédiger le programme personnalisé de soins de ce patient."
)
FORBIDDEN_VALIDATE = (
    "Seul un médecin qui suit ce dossier (médecin demandeur ou correspondant) peut valider et "
    "signer le programme personnalisé de soins."
)


class IncompletePlan(fiches.IncompleteFiche):
    refusal = "Le programme ne peut pas être validé"


# --- who may do what -------------------------------------------------------------------------


def can_draft(user, case) -> bool:
    return rules.edits_case(user, case)


def can_validate(user, case) -> bool:
    return getattr(user, "role", None) == "physician" and rules.edits_case(user, case)


def check_can_draft(user, case) -> None:
    if not can_draft(user, case):
        raise PermissionDenied(FORBIDDEN_DRAFT)


def check_can_validate(user, case) -> None:
    if not can_validate(user, case):
        raise PermissionDenied(FORBIDDEN_VALIDATE)


# --- the draft -------------------------------------------------------------------------------


def plan_of_fiche(fiche: Fiche) -> CarePlan | None:
    return db.session.scalar(select(CarePlan).where(CarePlan.decision_id == fiche.decision_id))


def alternative_ranks(decision: Decision) -> set[int]:
    return {alternative.rank for alternative in decision.alternatives}


def _previous_contacts(rcp_id: int) -> dict | None:
    """The draft of the last programme written after a fiche of the same RCP."""
    row = db.session.scalar(
        select(CarePlan.draft)
        .join(Fiche, Fiche.id == CarePlan.fiche_id)
        .join(MeetingSession, MeetingSession.id == Fiche.session_id)
        .where(MeetingSession.rcp_id == rcp_id)
        .order_by(CarePlan.id.desc())
        .limit(1)
    )
    return json.loads(row) if row else None


def open_plan(fiche: Fiche, user, now: datetime | None = None) -> CarePlan:
    """The programme of a signed fiche, pre-filled (one per decision)."""
    now = now or utcnow()
    case = fiche.case
    check_can_draft(user, case)
    db.session.execute(select(Fiche.id).where(Fiche.id == fiche.id).with_for_update())
    if plan_of_fiche(fiche) is not None:
        raise Conflict("Le programme personnalisé de soins de ce patient est déjà ouvert.")
    decision = fiche.decision
    plan = CarePlan(
        set_id=str(uuid.uuid4()),
        decision_id=decision.id,
        fiche_id=fiche.id,
        case_id=case.id,
        patient_id=case.patient_id,
        state="draft",
        draft=json.dumps(
            drafts.prefilled(decision, case, _previous_contacts(fiche.session.rcp_id)),
            ensure_ascii=False,
        ),
        current_version=0,
        created_at=now,
        created_by_id=user.id,
        updated_at=now,
        updated_by_id=user.id,
    )
    db.session.add(plan)
    db.session.flush()
    audit.record(
        "pps.open", "care_plan", plan.id, patient_id=plan.patient_id, details={"fiche": fiche.id}
    )
    return plan


def lock_plan(plan: CarePlan, expected_version) -> CarePlan:
    db.session.execute(select(CarePlan.id).where(CarePlan.id == plan.id).with_for_update())
    db.session.refresh(plan)
    check_version(
        expected_version,
        plan.lock_version,
        "Le programme a été modifié entre-temps (par vous dans un autre onglet, ou par un "
        "collègue) : relisez-le avant d'enregistrer.",
    )
    return plan


def save_draft(plan: CarePlan, user, data: dict, expected_version, now=None) -> list[str]:
    """Store the edited draft; returns the names of the parts that changed."""
    check_can_draft(user, plan.case)
    lock_plan(plan, expected_version)
    if plan.state == "validated":
        raise Conflict(
            "Le programme est validé : ouvrez un avenant pour le modifier (la version signée "
            "reste conservée)."
        )
    clean = drafts.clean(data, alternative_ranks(plan.decision))
    before = plan.draft_dict()
    changed = sorted(key for key in clean if clean[key] != before.get(key))
    plan.draft = json.dumps(clean, ensure_ascii=False)
    plan.updated_at, plan.updated_by_id = now or utcnow(), user.id
    db.session.flush()
    audit.record(
        "pps.save",
        "care_plan",
        plan.id,
        patient_id=plan.patient_id,
        details={"changed": changed, "state": plan.state},
    )
    return changed


def start_amendment(plan: CarePlan, user, expected_version) -> None:
    """A validated programme becomes editable again; its signed versions stay as they are."""
    check_can_draft(user, plan.case)
    lock_plan(plan, expected_version)
    if plan.state != "validated":
        raise Conflict("Le programme n'est pas validé : modifiez directement le brouillon.")
    plan.state = "amending"
    db.session.flush()
    audit.record("pps.amend_start", "care_plan", plan.id, patient_id=plan.patient_id)


def cancel_amendment(plan: CarePlan, user, expected_version) -> None:
    """Give up an amendment: the draft goes back to what the version in force says."""
    check_can_draft(user, plan.case)
    lock_plan(plan, expected_version)
    if plan.state != "amending":
        raise Conflict("Aucun avenant n'est en cours pour ce programme.")
    plan.draft = json.dumps(
        drafts.from_snapshot(current_version(plan).snapshot_dict()), ensure_ascii=False
    )
    plan.state = "validated"
    db.session.flush()
    audit.record("pps.amend_cancel", "care_plan", plan.id, patient_id=plan.patient_id)


# --- validation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    """What the next version will say, frozen before the CPU work."""

    plan_id: int
    lock_version: int
    version: int
    document_id: str
    now: datetime
    frozen: dict
    seal_reason: str
    seal_location: str
    reason: str | None


@dataclass(frozen=True)
class Documents:
    pdf: bytes  # sealed
    cda: bytes


def _amendment_terms(plan: CarePlan, reason, motive) -> tuple[str | None, str | None]:
    if plan.state != "amending":
        return None, None
    reason = clean_text(str(reason or ""), "Motif de la mise à jour", "reason").strip()
    if not reason:
        raise DomainError("Indiquez le motif de la mise à jour.", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Le motif est limité à {MAX_REASON} caractères.", field="reason")
    motive = str(motive or "").strip()
    if motive not in values.UPDATE_MOTIVES:
        raise DomainError("Choisissez la raison de la mise à jour dans la liste.", field="motive")
    return reason, motive


def _checked(plan: CarePlan, user) -> None:
    check_can_validate(user, plan.case)
    if plan.state == "validated":
        raise Conflict("Ce programme est déjà validé et signé : ouvrez un avenant pour le changer.")
    draft = drafts.clean(plan.draft_dict(), alternative_ranks(plan.decision))
    missing = drafts.missing_for_validation(draft)
    if missing:
        raise IncompletePlan(missing)


def draft_validation(plan: CarePlan, user, reason=None, motive=None, now=None) -> Draft:
    """Checks, then the snapshot of the next version; writes nothing."""
    now = now or utcnow()
    _checked(plan, user)
    reason, motive = _amendment_terms(plan, reason, motive)
    version = plan.current_version + 1
    previous = current_version(plan) if plan.current_version else None
    document_id = str(uuid.uuid4())
    fiche_version = fiches.current_version(plan.fiche)
    frozen = _snapshot(
        plan,
        user,
        fiche_version,
        now,
        document_id,
        version,
        reason,
        motive,
        previous.document_id if previous else None,
    )
    rcp = plan.fiche.session.rcp
    return Draft(
        plan_id=plan.id,
        lock_version=plan.lock_version,
        version=version,
        document_id=document_id,
        now=now,
        frozen=frozen,
        seal_reason=f"Programme personnalisé de soins (version {version}) — {rcp.name}",
        seal_location=rcp.establishment.city or rcp.establishment.name,
        reason=reason,
    )


def _snapshot(plan, user, fiche_version, now, document_id, version, reason, motive, replaces):
    from . import snapshot

    return snapshot.build(
        plan=plan,
        draft=drafts.clean(plan.draft_dict(), alternative_ranks(plan.decision)),
        fiche_version=fiche_version,
        validator=user.professional,
        validated_at=now,
        document_id=document_id,
        version=version,
        amendment_reason=reason,
        update_motive=motive,
        replaces_id=replaces,
    )


def produce(draft: Draft) -> Documents:
    """CDA, patient PDF/A-3b and seal: CPU (and the TSA when configured), no database."""
    cda = build_pps_cda(draft.frozen)
    signed = seal.sealer().sign(
        render_pdf(draft.frozen, cda), reason=draft.seal_reason, location=draft.seal_location
    )
    return Documents(pdf=signed, cda=cda)


def store_validation(plan: CarePlan, user, draft: Draft, documents: Documents) -> CarePlanVersion:
    """Lock the programme, check nothing changed since the draft, store the version."""
    db.session.execute(select(CarePlan.id).where(CarePlan.id == plan.id).with_for_update())
    db.session.refresh(plan)
    if plan.lock_version != draft.lock_version or plan.current_version + 1 != draft.version:
        raise Conflict(
            "Le programme a été modifié pendant la signature : rien n'a été enregistré. "
            "Relisez-le, puis validez-le de nouveau."
        )
    _checked(plan, user)
    row = CarePlanVersion(
        care_plan=plan,
        version=draft.version,
        document_id=draft.document_id,
        snapshot=json.dumps(draft.frozen, ensure_ascii=False, sort_keys=True),
        validated_at=draft.now,
        validated_by_id=user.id,
        amendment_reason=draft.reason,
        signer=seal.sealer().certificate_subject[:300],
    )
    db.session.add(row)
    contents = {"pdf": documents.pdf, "cda": documents.cda}
    db.session.add_all(document_rows(CarePlanDocument, contents, version=row))
    plan.state, plan.current_version = "validated", draft.version
    plan.updated_at, plan.updated_by_id = draft.now, user.id
    db.session.flush()
    signals.send(
        signals.care_plan_signed, row, case=plan.case, rcp=plan.fiche.session.rcp, now=draft.now
    )
    audit.record(
        "pps.validate" if draft.version == 1 else "pps.amend",
        "care_plan",
        plan.id,
        patient_id=plan.patient_id,
        details={
            "version": row.version,
            "document_id": row.document_id,
            "pdf_sha256": row.document("pdf").sha256,
            "cda_sha256": row.document("cda").sha256,
            **({"reason": draft.reason} if draft.reason else {}),
        },
    )
    return row


def validate(plan: CarePlan, user, reason=None, motive=None, now=None) -> CarePlanVersion:
    """In the current transaction (demo data, tests); the web page uses the two phases."""
    draft = draft_validation(plan, user, reason, motive, now)
    return store_validation(plan, user, draft, produce(draft))


# --- reading ---------------------------------------------------------------------------------


def current_version(plan: CarePlan) -> CarePlanVersion | None:
    return db.session.scalar(
        select(CarePlanVersion).where(
            CarePlanVersion.care_plan_id == plan.id,
            CarePlanVersion.version == plan.current_version,
        )
    )


def load_document(version: CarePlanVersion, kind: str) -> CarePlanDocument:
    document = version.document(kind)
    document.content  # noqa: B018  (the read checks the digest)
    return document


def record_view(plan: CarePlan, context: str | None = None) -> None:
    audit.record(
        "pps.view",
        "care_plan",
        plan.id,
        patient_id=plan.patient_id,
        details={"version": plan.current_version, **({"context": context} if context else {})},
    )


def record_download(version: CarePlanVersion, kind: str, printing: bool = False) -> None:
    audit.record(
        "pps.print" if printing else "pps.download",
        "care_plan",
        version.care_plan_id,
        patient_id=version.care_plan.patient_id,
        details={"version": version.version, "kind": kind},
    )


def transmissions_of(plan: CarePlan) -> list:
    return signals.collected(signals.care_plan_transmissions, plan)
