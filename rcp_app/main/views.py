"""Home page: what each role needs first."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..auth.models import User
from ..core.audit import AuditEntry
from ..directory.models import Establishment, Professional, Rcp
from ..extensions import db

bp = Blueprint("main", __name__)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@bp.route("/")
@login_required
def home():
    role = current_user.role
    context = {}
    if role == "admin":
        context["counts"] = {
            "Utilisateurs": _count(User),
            "Établissements": _count(Establishment),
            "Professionnels": _count(Professional),
            "RCP": _count(Rcp),
        }
        context["recent_audit"] = db.session.scalars(
            select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(10)
        ).all()
    elif role in ("coordinator", "physician"):
        stmt = select(Rcp).where(Rcp.active.is_(True)).order_by(Rcp.name)
        if role == "physician" and current_user.professional_id:
            stmt = stmt.where(Rcp.coordinator_id == current_user.professional_id)
        context["rcps"] = db.session.scalars(stmt).all()
    return render_template(f"main/home_{role}.html", **context)
