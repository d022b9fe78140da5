"""Home page: what each role needs first."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..auth.models import User
from ..core.audit import AuditEntry
from ..core.patient_data import shows_patient_data
from ..core.timeutil import utcnow
from ..directory.models import Establishment, Professional, Rcp
from ..extensions import db
from . import dashboard

bp = Blueprint("main", __name__)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _admin_context() -> dict:
    return {
        "counts": {
            "Utilisateurs": _count(User),
            "Établissements": _count(Establishment),
            "Professionnels": _count(Professional),
            "RCP": _count(Rcp),
        },
        "recent_audit": db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(10)
        ).all(),
    }


def _coordinator_context() -> dict:
    from ..delivery.views import failed_count

    now = utcnow()
    return {
        "now": now,
        "summaries": dashboard.rcp_summaries(dashboard.active_rcps(run_by=current_user), now),
        "failed_deliveries": failed_count(current_user),
    }


def _gp_context() -> dict:
    from ..delivery.access import record_inbox_view
    from ..delivery.inbox import fiches_for, unread_ids

    fiches = fiches_for(current_user, limit=5)
    if fiches:  # the list names patients
        record_inbox_view(fiches)
    return {"fiches": fiches, "unread": unread_ids(current_user, fiches)}


def _physician_context() -> dict:
    now = utcnow()
    cases, missing = dashboard.my_cases(current_user)
    rcps = dashboard.active_rcps(current_user.professional_id, only_coordinated=True)
    return {
        "now": now,
        "cases": cases,
        "missing": missing,
        "summaries": dashboard.rcp_summaries(rcps, now),
        "to_validate": dashboard.fiches_to_validate(current_user.professional_id),
    }


CONTEXTS = {
    "admin": _admin_context,
    "coordinator": _coordinator_context,
    "physician": _physician_context,
    "gp": _gp_context,
}


@bp.route("/")
@shows_patient_data
@login_required
def home():
    role = current_user.role
    context = CONTEXTS[role]() if role in CONTEXTS else {}
    return render_template(f"main/home_{role}.html", **context)
