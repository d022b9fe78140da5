"""Read-only queries on the audit log for the admin pages (the log itself is append-only)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Select, func, select

from ..core.audit import AuditEntry
from ..core.timeutil import PARIS
from ..extensions import db
from .forms import AuditFilterForm


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
        stmt = stmt.where(AuditEntry.patient_id == int(form.patient_id.data.strip()))
    if form.date_from_value:
        stmt = stmt.where(AuditEntry.at >= _paris_midnight_utc(form.date_from_value))
    if form.date_to_value:
        next_day = form.date_to_value + timedelta(days=1)
        stmt = stmt.where(AuditEntry.at < _paris_midnight_utc(next_day))
    return stmt


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


def details_text(entry: AuditEntry) -> str:
    """'role : ["coordinator", "admin"] · username : dupont' — readable, accents kept."""
    try:
        details = entry.details_dict()
    except ValueError:
        return entry.details or ""
    if not isinstance(details, dict):
        return str(details)
    return " · ".join(
        f"{key} : {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for key, value in details.items()
    )
