"""Delivery pages: the coordinators' dashboard (status, resend), the GPs' inbox of signed
fiches, and, outside production, the local mailbox of ``make run``."""

from __future__ import annotations

import io
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
    send_file,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..access import care_team
from ..access.guards import allowed
from ..core.pagination import COUNT_LIMIT, paginate, parse_page
from ..core.patient_data import no_patient_data, shows_patient_data
from ..core.timeutil import utcnow
from ..decisions.forms import CsrfForm
from ..extensions import db
from ..fiches import operations as fiche_ops
from ..fiches.models import Fiche, FicheVersion
from ..fiches.views import document_response
from ..pps import operations as pps_ops
from ..pps.models import CarePlan, CarePlanVersion
from ..pps.views import document_response as care_plan_response
from . import access, filters, inbox, mailbox_files, worker
from .models import Transmission

bp = Blueprint("delivery", __name__)
FILTERS = filters.STATES


def failed_count(user) -> int:
    """Failed deliveries of the RCPs ``user`` runs."""
    return db.session.scalar(
        select(func.count())
        .select_from(Transmission)
        .where(Transmission.status == "failed", care_team.transmission_condition(user))
    )


@bp.route("/diffusion")
@shows_patient_data
@allowed("deliveries")
def dashboard():
    failed = failed_count(current_user)
    form = filters.DeliveryFilterForm(request.args, default_state="failed" if failed else "all")
    values = form.check()
    stmt = (
        filters.statement(values, utcnow())
        .where(care_team.transmission_condition(current_user))
        .options(
            joinedload(Transmission.fiche_version)
            .joinedload(FicheVersion.fiche)
            .joinedload(Fiche.patient),
            joinedload(Transmission.care_plan_version)
            .joinedload(CarePlanVersion.care_plan)
            .joinedload(CarePlan.patient),
            joinedload(Transmission.professional),
        )
    )
    page = paginate(
        stmt,
        parse_page(request.args.get("page")),
        current_app.config["RCP_PAGE_SIZE"],
        count_limit=COUNT_LIMIT,
    )
    html = render_template(
        "delivery/dashboard.html",
        page=page,
        filter_name=values["state"],
        filters=FILTERS,
        filter_form=form,
        failed=failed,
        form=CsrfForm(),
    )
    access.record_dashboard_view(values["state"], page.items, form.audit_details)
    return html


@bp.route("/diffusion/<int:transmission_id>/renvoyer", methods=["POST"])
@no_patient_data
@allowed("deliveries")
def resend(transmission_id: int):
    transmission = db.get_or_404(Transmission, transmission_id, with_for_update=True)
    if not _runs_delivery(transmission):
        abort(403)  # a delivery of an RCP another secretariat runs
    worker.resend(transmission)
    flash(f"Message remis dans la file d'envoi ({transmission.recipient_address}).", "success")
    return redirect(request.referrer or url_for(".dashboard"))


# --- the GP's inbox ---------------------------------------------------------------------------


@bp.route("/boite")
@shows_patient_data
@allowed("inbox")
def gp_inbox():
    fiches = inbox.fiches_for(current_user)
    # Rendered first: the unread marks shown are those from before this visit.
    html = render_template(
        "delivery/inbox.html",
        fiches=fiches,
        unread=inbox.unread_ids(current_user, fiches),
        care_plans=inbox.care_plans_of(fiches),
    )
    access.record_inbox_view(fiches)
    return html


@bp.route("/boite/fiches/<int:fiche_id>.pdf")
@shows_patient_data
@allowed("inbox")
def gp_download(fiche_id: int):
    fiche = inbox.fiche_for(current_user, fiche_id)
    return document_response(fiche, fiche_ops.current_version(fiche), "pdf")


@bp.route("/boite/pps/<int:plan_id>.pdf")
@shows_patient_data
@allowed("inbox")
def gp_care_plan(plan_id: int):
    """The care programme in force, as handed to the patient (its signed PDF)."""
    plan = inbox.care_plan_for(current_user, plan_id)
    return care_plan_response(plan, pps_ops.current_version(plan), "pdf")


# --- the local mailbox of `make run` (development only) ---------------------------------------


def _development_only() -> None:
    if current_app.config["RCP_ENV"] == "production":
        abort(404)


@bp.route("/dev/courriels")
@shows_patient_data
@allowed("deliveries")
def mailbox_index():
    _development_only()
    messages = mailbox_files.list_messages(Path(current_app.config["RCP_MAILBOX_DIR"]))
    # Only the messages of deliveries of the RCPs the coordinator runs (one query).
    ids = {m.message_id.strip() for m in messages if m.message_id.strip()}
    ids |= {f"<{i.strip('<>')}>" for i in ids}
    own = dict(
        db.session.execute(
            select(Transmission.message_id, Transmission.patient_id).where(
                Transmission.message_id.in_(ids), care_team.transmission_condition(current_user)
            )
        ).all()
    )
    shown = [
        m for m in messages if {m.message_id.strip(), f"<{m.message_id.strip('<>')}>"} & own.keys()
    ]
    # The subjects name the patients of the fiches: the list is audited like a dashboard.
    access.record_mailbox_index([m.name for m in shown], list(own.values()))
    return render_template("delivery/mailbox.html", messages=shown)


def _stored_message(name: str) -> bytes:
    """The bytes of a stored message; 404 for a name that is not one (no path traversal:
    mailbox_files.read_message accepts only the names it writes); 403 unless it was sent for a
    delivery of an RCP the coordinator runs (a message of no known delivery: 403 too). The
    reading is audited."""
    try:
        raw = mailbox_files.read_message(Path(current_app.config["RCP_MAILBOX_DIR"]), name)
    except (ValueError, OSError):
        abort(404)
    transmission = access.message_transmission(raw)
    if transmission is None or not _runs_delivery(transmission):
        abort(403)
    access.record_mailbox_read(name, transmission)
    return raw


def _runs_delivery(transmission: Transmission) -> bool:
    """A delivery of an RCP the coordinator runs (rcp_app/access)."""
    return bool(
        db.session.scalar(
            select(func.count())
            .select_from(Transmission)
            .where(
                Transmission.id == transmission.id,
                care_team.transmission_condition(current_user),
            )
        )
    )


@bp.route("/dev/courriels/<name>")
@shows_patient_data
@allowed("deliveries")
def mailbox_message(name: str):
    """A stored message as a mail client shows it: decoded headers, the text, the
    attachments (its attachments carry patient data: the reading is audited)."""
    _development_only()
    raw = _stored_message(name)
    message = mailbox_files.decode_message(name, raw)
    return render_template("delivery/mailbox_message.html", message=message)


@bp.route("/dev/courriels/<name>/source")
@shows_patient_data
@allowed("deliveries")
def mailbox_source(name: str):
    """The raw source of a stored message (MIME, as received)."""
    _development_only()
    raw = _stored_message(name)
    return Response(raw, mimetype="text/plain; charset=utf-8")


@bp.route("/dev/courriels/<name>/pieces/<int:index>")
@shows_patient_data
@allowed("deliveries")
def mailbox_attachment(name: str, index: int):
    """One attachment of a stored message, always as a download (never shown inline: an
    INDEX.HTM of an XDM archive is not run in the application's origin)."""
    _development_only()
    raw = _stored_message(name)
    try:
        filename, data = mailbox_files.read_attachment(raw, index)
    except ValueError:
        abort(404)
    response = send_file(
        io.BytesIO(data),
        mimetype="application/octet-stream",
        as_attachment=True,
        download_name=filename,
        max_age=0,
        etag=False,
        conditional=False,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
