from flask import Blueprint

bp = Blueprint("directory", __name__)


# Placeholders until the directory pages land (being written now).
@bp.route("/annuaire/rcp")
def rcps():
    return "", 501


@bp.route("/annuaire/rcp/<int:rcp_id>")
def rcp_detail(rcp_id):
    return "", 501


@bp.route("/annuaire/professionnels")
def professionals():
    return "", 501


@bp.route("/annuaire/etablissements")
def establishments():
    return "", 501
