"""Delivery pages: the coordinators' dashboard (status, resend), the GPs' inbox of signed
fiches, and, outside production, the local mailbox of ``make run``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..core.pagination import paginate, parse_page
from ..core.patient_data import no_patient_data, shows_patient_data
from ..core.permissions import roles_required
from ..core.timeutil import utcnow
from ..decisions.forms import CsrfForm
from ..extensions import db
from ..fiches import operations as fiche_ops
from ..fiches.models import Fiche, FicheVersion
from ..fiches.views import document_response
from . import access, inbox, mailbox_files, worker
from .models import Transmission

bp = Blueprint("delivery", __name__)
FILTERS = {
    "failed": "En échec",
    "late": "En retard",
    "pending": "En attente",
    "sent": "Envoyés, sans accusé",
    "acknowledged": "Accusés de lecture",
    "all": "Tous",
}
# A message not sent within this delay after its creation is late.
LATE_AFTER = timedelta(hours=1)


def failed_count() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Transmission).where(Transmission.status == "failed")
    )


def _filtered(name: str, now):
    stmt = select(Transmission).options(
        joinedload(Transmission.fiche_version)
        .joinedload(FicheVersion.fiche)
        .joinedload(Fiche.patient),
        joinedload(Transmission.professional),
    )
    if name == "late":
        stmt = stmt.where(
            Transmission.status.in_(("pending", "sending")),
            or_(Transmission.attempts > 0, Transmission.created_at < now - LATE_AFTER),
        )
    elif name in ("failed", "pending", "sent", "acknowledged"):
        stmt = stmt.where(Transmission.status == name)
    return stmt.order_by(Transmission.created_at.desc(), Transmission.id.desc())


@bp.route("/diffusion")
@shows_patient_data
@roles_required("coordinator")
def dashboard():
    name = request.args.get("etat", "failed" if failed_count() else "all")
    if name not in FILTERS:
        name = "all"
    page = paginate(
        _filtered(name, utcnow()),
        parse_page(request.args.get("page")),
        current_app.config["RCP_PAGE_SIZE"],
        count_limit=1000,
    )
    html = render_template(
        "delivery/dashboard.html",
        page=page,
        filter_name=name,
        filters=FILTERS,
        failed=failed_count(),
        form=CsrfForm(),
    )
    access.record_dashboard_view(name, page.items)
    db.session.commit()
    return html


@bp.route("/diffusion/<int:transmission_id>/renvoyer", methods=["POST"])
@no_patient_data
@roles_required("coordinator")
def resend(transmission_id: int):
    transmission = db.session.get(Transmission, transmission_id, with_for_update=True)
    if transmission is None:
        abort(404)
    worker.resend(transmission)
    db.session.commit()
    flash(f"Message remis dans la file d'envoi ({transmission.recipient_address}).", "success")
    return redirect(request.referrer or url_for(".dashboard"))


# --- the GP's inbox ---------------------------------------------------------------------------


@bp.route("/boite")
@shows_patient_data
@roles_required("gp")
def gp_inbox():
    fiches = inbox.fiches_for(current_user)
    html = render_template("delivery/inbox.html", fiches=fiches)
    access.record_inbox_view(fiches)
    db.session.commit()
    return html


@bp.route("/boite/fiches/<int:fiche_id>.pdf")
@shows_patient_data
@roles_required("gp")
def gp_download(fiche_id: int):
    fiche = inbox.fiche_for(current_user, fiche_id)
    return document_response(fiche, fiche_ops.current_version(fiche), "pdf")


# --- the local mailbox of `make run` (development only) ---------------------------------------


def _development_only() -> None:
    if current_app.config["RCP_ENV"] == "production":
        abort(404)


@bp.route("/dev/courriels")
@no_patient_data
@roles_required("coordinator")
def mailbox_index():
    _development_only()
    messages = mailbox_files.list_messages(Path(current_app.config["RCP_MAILBOX_DIR"]))
    return render_template("delivery/mailbox.html", messages=messages)


@bp.route("/dev/courriels/<name>")
@shows_patient_data
@roles_required("coordinator")
def mailbox_message(name: str):
    """A stored message, raw (its attachments carry patient data: the reading is audited)."""
    _development_only()
    try:
        raw = mailbox_files.read_message(Path(current_app.config["RCP_MAILBOX_DIR"]), name)
    except (ValueError, FileNotFoundError):
        abort(404)
    access.record_mailbox_read(name, raw)
    db.session.commit()
    return Response(raw, mimetype="text/plain; charset=utf-8")
