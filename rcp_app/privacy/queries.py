"""Read-only queries of the privacy pages: SQL filters, one query per kind of row shown."""

from __future__ import annotations

from sqlalchemy import Select, false, select

from ..access import rules
from ..access.models import ExceptionalAccess
from ..admin.audit_query import names_patient, patient_refs
from ..auth.models import User
from ..core.audit import AuditEntry
from ..extensions import db
from ..patients.models import Patient

# The review list's filter: query-string value → (label, condition on reviewed_at).
REVIEW_STATES = {
    "a-revoir": "À revoir",
    "revus": "Revus",
    "tous": "Tous",
}
DEFAULT_REVIEW_STATE = "a-revoir"


def review_statement(user, state: str) -> Select:
    """The exceptional accesses ``user`` reviews: all for the dpo; for a physician, those to
    the patients of the RCPs they coordinate (``rules.coordinates_rcp_of_patient`` as SQL)."""
    stmt = select(ExceptionalAccess).order_by(
        ExceptionalAccess.opened_at.desc(), ExceptionalAccess.id.desc()
    )
    if getattr(user, "role", None) != "dpo":
        patients = rules.coordinated_patient_ids(user)
        stmt = stmt.where(
            false() if patients is None else ExceptionalAccess.patient_id.in_(patients)
        )
    if state == "a-revoir":
        stmt = stmt.where(ExceptionalAccess.reviewed_at.is_(None))
    elif state == "revus":
        stmt = stmt.where(ExceptionalAccess.reviewed_at.is_not(None))
    return stmt


def patients_by_id(ids) -> dict[int, Patient]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(select(Patient).where(Patient.id.in_(ids)))}


def users_by_id(ids) -> dict[int, User]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def patient_accesses_statement(patient_id: int) -> Select:
    """Every audit row naming the patient (its ``patient_id``, or a list page's
    ``details["patients"]``), newest first: who opened this patient's record, and when."""
    return select(AuditEntry).where(names_patient(patient_id)).order_by(AuditEntry.seq.desc())


def entries_patients(entries) -> list[int]:
    """The distinct patients the rows name, in order."""
    return list(dict.fromkeys(i for entry in entries for i in patient_refs(entry)))
