"""Read-only queries on the audit log for the admin pages (the log itself is append-only)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Integer, Select, bindparam, func, or_, select, text

from ..core.audit import AuditEntry
from ..core.pagination import paginate
from ..core.patient_data import may_see_identities
from ..core.timeutil import PARIS
from ..extensions import db
from .forms import AuditFilterForm, choices


def _paris_midnight_utc(day) -> datetime:
    """Start of a Paris calendar day as naive UTC (the audit log stores naive UTC)."""
    local = datetime.combine(day, time.min, tzinfo=PARIS)
    return local.astimezone(UTC).replace(tzinfo=None)


def filtered_entries(form: AuditFilterForm) -> Select:
    """Newest first; each filter without a validation error narrows the list."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc())

    def usable(field) -> bool:
        return bool(field.data and str(field.data).strip()) and not field.errors

    if usable(form.user):
        stmt = stmt.where(func.lower(AuditEntry.username) == form.user.data.strip().lower())
    if usable(form.action):
        stmt = stmt.where(AuditEntry.action.startswith(form.action.data.strip(), autoescape=True))
    if usable(form.object_type):
        stmt = stmt.where(AuditEntry.object_type == form.object_type.data.strip())
    if usable(form.patient_id):
        stmt = stmt.where(names_patient(int(form.patient_id.data.strip())))
    if form.date_from_value:
        stmt = stmt.where(AuditEntry.at >= _paris_midnight_utc(form.date_from_value))
    if form.date_to_value:
        next_day = form.date_to_value + timedelta(days=1)
        stmt = stmt.where(AuditEntry.at < _paris_midnight_utc(next_day))
    return stmt


def names_patient(patient_id: int):
    """Rows naming the patient: in the ``patient_id`` column, or among the ids a page listing
    several patients stores in ``details["patients"]`` (who saw this patient, lists included).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        listed = text("(audit_log.details::jsonb -> 'patients') @> to_jsonb(:listed_patient)")
    else:
        listed = text(
            "EXISTS (SELECT 1 FROM json_each(audit_log.details, '$.patients') "
            "WHERE json_each.value = :listed_patient)"
        )
    return or_(
        AuditEntry.patient_id == patient_id,
        listed.bindparams(bindparam("listed_patient", patient_id, type_=Integer)),
    )


def filtered_page(args, page: int, per_page: int):
    """The filter form read from ``args`` (its choices set, checked) and one page of entries:
    what the admin's and the dpo's audit pages share."""
    form = AuditFilterForm(formdata=args)
    form.object_type.choices = choices([("", "Tous")] + [(t, t) for t in object_types()])
    form.validate()
    return form, paginate(filtered_entries(form), page, per_page)


def object_types() -> list[str]:
    return [
        value
        for value in db.session.scalars(
            select(AuditEntry.object_type)
            .where(AuditEntry.object_type.is_not(None))
            .distinct()
            .order_by(AuditEntry.object_type)
        )
    ]


def patient_refs(entry: AuditEntry) -> list[int]:
    """The patients a row names: its ``patient_id``, and the ids a list page stores."""
    try:
        listed = entry.details_dict().get("patients")
    except (ValueError, AttributeError):
        listed = None
    if not isinstance(listed, list):  # e.g. a count of patients (the demo load's row)
        listed = []
    ids = [entry.patient_id] if entry.patient_id is not None else []
    return list(dict.fromkeys(ids + [i for i in listed if isinstance(i, int)]))


def patient_identities(entries, viewer) -> dict[int, str]:
    """Patient id -> « NOM Prénom » for the rows shown, only for a viewer entitled to see
    patient data (core.patient_data); anyone else (the admin role) gets ids only."""
    if not may_see_identities(viewer):
        return {}
    from ..patients.models import Patient

    ids = {i for entry in entries for i in patient_refs(entry)}
    if not ids:
        return {}
    patients = db.session.scalars(select(Patient).where(Patient.id.in_(ids)))
    return {patient.id: patient.display_name for patient in patients}


# A value shown as is on a patient's row to a viewer not entitled to patient data: a code, a
# status, a date or an id (no spaces). Free text (a withdrawal or amendment reason) and the
# old/new values of a case's changes are clinical content: masked.
_CODE_LIKE = re.compile(r"[\w.:/@+-]{1,40}")
# Keys whose values identify a patient in rows written before identities left the log (a
# search's text and birth date, an attachment's file name, an identity's old/new values):
# masked whatever they hold. The log is append-only: those rows stay as they were written.
_IDENTITY_KEYS = {"query", "birth_date", "name", "changes"}
MASKED = "(masqué)"


def _concerns_patient(entry: AuditEntry) -> bool:
    return bool(patient_refs(entry)) or (entry.action or "").startswith("patient.")


def _masked(value, clinical: bool = False):
    if isinstance(value, dict):
        return {k: _masked(v, clinical or k in _IDENTITY_KEYS) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, clinical) for v in value]
    if clinical and value is not None:
        return MASKED
    if isinstance(value, str) and not _CODE_LIKE.fullmatch(value):
        return MASKED
    return value


def details_text(entry: AuditEntry, clinical_content: bool = False) -> str:
    """'role : ["coordinator", "admin"] · username : dupont' — readable, accents kept.

    On a row naming patients, free text and changed clinical values are masked unless
    ``clinical_content`` (a viewer entitled to patient data)."""
    try:
        details = entry.details_dict()
    except ValueError:
        return entry.details or ""
    if not isinstance(details, dict):
        return str(details)
    if not clinical_content and _concerns_patient(entry):
        details = _masked(details)
    return " · ".join(
        f"{key} : {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in details.items()
    )
