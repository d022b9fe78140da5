from flask import Blueprint

bp = Blueprint("admin", __name__)


@bp.route("/admin/utilisateurs")
def users():
    return "", 501


@bp.route("/admin/audit")
def audit_log():
    return "", 501
