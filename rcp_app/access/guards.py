"""What views and templates call: which roles reach a page, and the check on one object.

Roles open pages (``allowed("capability")``); the care team opens the patients on them
(``require``). The capability table is the only place that names roles for pages: templates ask
``may("meetings.manage")``, never a role.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, g
from flask_login import current_user, login_required

from ..core import audit
from .rules import can

CAPABILITIES: dict[str, frozenset[str]] = {
    # Patients, cases, decisions, fiches, the staging preview: the rows shown are then
    # narrowed to the user's care teams (physicians) or RCPs (coordinators).
    "clinical": frozenset({"physician", "coordinator"}),
    "meetings.view": frozenset({"physician", "coordinator"}),
    "meetings.manage": frozenset({"coordinator"}),
    "fiches.validate": frozenset({"physician"}),
    "directory.view": frozenset({"admin", "coordinator", "physician"}),
    "directory.edit": frozenset({"admin", "coordinator"}),
    "directory.admin": frozenset({"admin"}),
    "terminology.view": frozenset({"admin", "coordinator", "physician"}),
    "terminology.admin": frozenset({"admin"}),
    "deliveries": frozenset({"coordinator"}),
    "inbox": frozenset({"gp"}),
    "accounts": frozenset({"admin"}),
    # Hospital systems connected through /api/v1 (their secrets, scopes, quotas).
    "api_clients": frozenset({"admin"}),
    # The audit log with identities and the list of who opened a patient's record: the
    # data-protection officer, who sees no clinical content.
    "privacy": frozenset({"dpo"}),
    # The review of exceptional accesses: the dpo, and the coordinating physicians (each sees
    # the accesses to the patients of their RCPs).
    "exceptional_access.review": frozenset({"dpo", "physician"}),
    "exceptional_access.open": frozenset({"physician"}),
    # Activity and quality indicators: coordinators (their RCPs) and the coordinating
    # physicians (the RCPs they coordinate; access/care_team.statistics_rcp_ids).
    "statistics": frozenset({"coordinator", "physician"}),
}


def may(capability: str, user=None) -> bool:
    user = user if user is not None else current_user
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role in CAPABILITIES[capability]


def allowed(capability: str):
    """Login required, then 403 unless the user's role has ``capability``."""
    if capability not in CAPABILITIES:
        raise KeyError(f"unknown capability {capability!r}")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not may(capability):
                abort(403)
            return view(*args, **kwargs)

        wrapped.rcp_capability = capability
        return wrapped

    return decorator


def _patient_id_of(thing) -> int | None:
    if getattr(thing, "__tablename__", "") == "patients":
        return thing.id
    for path in ("patient_id", "case.patient_id", "item.case.patient_id"):
        value = thing
        for name in path.split("."):
            value = getattr(value, name, None)
            if value is None:
                break
        if value is not None:
            return value
    return None


def require(action: str, thing) -> None:
    """403 unless ``current_user`` may do ``action`` on ``thing``; the refusal is audited, and
    a physician refused a patient's record is offered the exceptional access (errors/403)."""
    if can(current_user, action, thing):
        return
    patient_id = _patient_id_of(thing)
    audit.record(
        "access.denied",
        getattr(thing, "__tablename__", None),
        getattr(thing, "id", None),
        patient_id=patient_id,
        details={"action": action},
    )
    if patient_id is not None and may("exceptional_access.open"):
        g.rcp_exceptional_access_patient_id = patient_id
    abort(403)


def exceptional_access_offer() -> int | None:
    """The patient whose record the 403 page offers to open (template global)."""
    return g.get("rcp_exceptional_access_patient_id")


def register_template_helpers(app) -> None:
    """``can(action, thing)``, ``may(capability)`` in templates: the same rules as the views."""

    @app.context_processor
    def _access_helpers():
        return {
            "can": lambda action, thing: can(current_user, action, thing),
            "may": may,
            "exceptional_access_offer": exceptional_access_offer,
        }
