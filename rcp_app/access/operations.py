"""Exceptional accesses (« bris de glace »): opened by a physician outside the care team, then
reviewed once by the coordinating physician of the patient's RCP or the data-protection officer.

Operations check, change, audit and flush; the request commits.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..core import audit
from ..core.errors import Conflict, DomainError, PermissionDenied
from ..core.text import clean_text
from ..core.timeutil import format_datetime, utcnow
from ..extensions import db
from . import rules
from .forms import REASON_TEXT_MAX, REVIEW_COMMENT_MAX
from .models import EXCEPTIONAL_REASONS, ExceptionalAccess


def current_access(user, patient_id: int) -> ExceptionalAccess | None:
    """The user's unexpired exceptional access to this patient (the latest), if any."""
    return db.session.scalar(
        select(ExceptionalAccess)
        .where(
            ExceptionalAccess.user_id == user.id,
            ExceptionalAccess.patient_id == patient_id,
            ExceptionalAccess.expires_at > utcnow(),
        )
        .order_by(ExceptionalAccess.expires_at.desc())
        .limit(1)
    )


def _bounded_text(raw: str | None, label: str, field: str, limit: int) -> str:
    text = clean_text(raw or "", label, field=field).strip()
    if len(text) > limit:
        raise DomainError(f"« {label} » : {limit} caractères au maximum.", field=field)
    return text


def open_exceptional_access(user, patient, reason: str, text: str | None) -> ExceptionalAccess:
    """Open the patient's record to ``user`` for RCP_EXCEPTIONAL_ACCESS_HOURS hours."""
    if getattr(user, "role", None) != "physician":
        raise PermissionDenied("Seul un médecin peut ouvrir un accès exceptionnel.")
    if reason not in EXCEPTIONAL_REASONS:
        raise DomainError("Choisissez un des motifs proposés.", field="reason")
    text = _bounded_text(text, "Précisions", "text", REASON_TEXT_MAX)
    if reason == "other" and not text:
        raise DomainError("Précisez le motif : « Autre » demande une explication.", field="text")
    now = utcnow()
    hours = current_app.config["RCP_EXCEPTIONAL_ACCESS_HOURS"]
    access = ExceptionalAccess(
        user_id=user.id,
        patient_id=patient.id,
        reason=reason,
        reason_text=text,
        opened_at=now,
        expires_at=now + timedelta(hours=hours),
        review_comment="",
    )
    db.session.add(access)
    db.session.flush()
    # The reason's code, not its text: free text may hold clinical details (the row has it).
    audit.record(
        "access.exceptional_open",
        "exceptional_access",
        access.id,
        patient_id=patient.id,
        details={"reason": reason, "hours": hours, "expires_at": access.expires_at},
    )
    rules.forget()  # the same request may now open the record
    return access


def review_exceptional_access(user, access: ExceptionalAccess, comment: str | None) -> None:
    """Mark ``access`` reviewed (once); ``access`` was loaded with a row lock."""
    if not rules.reviews_exceptional_access(user, access):
        raise PermissionDenied("Vous ne revoyez pas les accès à ce patient.")
    if access.reviewed_at is not None:
        raise Conflict(
            "Cet accès exceptionnel a déjà été revu le "
            f"{format_datetime(access.reviewed_at)} : il ne peut l'être qu'une fois."
        )
    comment = _bounded_text(comment, "Commentaire", "comment", REVIEW_COMMENT_MAX)
    access.reviewed_at = utcnow()
    access.reviewed_by_id = user.id
    access.review_comment = comment
    db.session.flush()
    audit.record(
        "access.exceptional_review",
        "exceptional_access",
        access.id,
        patient_id=access.patient_id,
        details={"commented": bool(comment)},
    )
