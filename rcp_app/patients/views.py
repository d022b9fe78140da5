from flask import Blueprint

bp = Blueprint("patients", __name__)


@bp.route("/patients")
def index():
    return "", 501
