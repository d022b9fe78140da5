"""Session pages: list, generate, ad hoc creation, edit, status; the agenda builder; documents.

Coordinators and administrators manage; physicians see the sessions, the agendas and download
the PDF and iCalendar files; GPs get 403.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import joinedload

from ..core.converters import parse_id
from ..core.errors import DomainError
from ..core.patient_data import no_patient_data, shows_patient_data
from ..core.permissions import roles_required
from ..core.timeutil import format_time, utcnow
from ..directory.models import Rcp
from ..extensions import db
from . import agenda, documents
from . import operations as ops
from .forms import SessionForm
from .models import ITEM_MODES, MeetingSession

bp = Blueprint("meetings", __name__)

# Agendas name patients: like the patient pages, they are closed to the admin role, whose job is
# accounts and the directory, not clinical data.
MANAGERS = ("coordinator",)
VIEWERS = ("coordinator", "physician")


def _load(session_id: int) -> MeetingSession:
    session = db.session.get(MeetingSession, session_id, options=[joinedload(MeetingSession.rcp)])
    if session is None:
        abort(404)
    return session


def _load_rcp(raw) -> Rcp | None:
    rcp_id = parse_id(raw)
    return db.session.get(Rcp, rcp_id) if rcp_id is not None else None


# --- session list ----------------------------------------------------------------------------


@bp.route("/seances")
@no_patient_data
@roles_required(*VIEWERS)
def index():
    rcps = db.session.scalars(select(Rcp).where(Rcp.active.is_(True)).order_by(Rcp.name)).all()
    rcp = _load_rcp(request.args.get("rcp"))
    stmt = select(MeetingSession).options(joinedload(MeetingSession.rcp))
    if rcp is not None:
        stmt = stmt.where(MeetingSession.rcp_id == rcp.id)
    now = utcnow()
    # « À venir »: not closed, and ahead or under way. A session closed early (its date still
    # ahead) is done: it goes with the past ones, whatever its date.
    ahead = and_(
        MeetingSession.status != "closed",
        or_(MeetingSession.starts_at >= now, MeetingSession.status == "in_progress"),
    )
    upcoming = db.session.scalars(
        stmt.where(ahead).order_by(MeetingSession.starts_at).limit(100)
    ).all()
    past = db.session.scalars(
        stmt.where(not_(ahead)).order_by(MeetingSession.starts_at.desc()).limit(50)
    ).all()
    return render_template("meetings/index.html", rcps=rcps, rcp=rcp, upcoming=upcoming, past=past)


@bp.route("/seances/generer", methods=["POST"])
@no_patient_data
@roles_required(*MANAGERS)
def generate():
    rcp = _load_rcp(request.form.get("rcp_id"))
    if rcp is None:
        flash("Choisissez une RCP.", "danger")
        return redirect(url_for(".index"))
    try:
        created = ops.generate(rcp, request.form.get("count"))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for(".index", rcp=rcp.id))
    db.session.commit()
    flash(f"{len(created)} séance(s) créée(s).", "success")
    return redirect(url_for(".index", rcp=rcp.id))


def _render_form(form, rcp, session=None, status=200):
    return render_template("meetings/form.html", form=form, rcp=rcp, session=session), status


def _form_error(form, error: DomainError) -> None:
    db.session.rollback()
    field = getattr(form, error.field or "", None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/seances/nouvelle", methods=["GET", "POST"])
@no_patient_data
@roles_required(*MANAGERS)
def new():
    rcp = _load_rcp(request.args.get("rcp"))
    if rcp is None:
        abort(404)
    form = SessionForm()
    if request.method == "GET":
        form.place.data, form.video_url.data = rcp.place, rcp.video_url
        form.capacity.data = rcp.capacity
    if form.validate_on_submit():
        try:
            session = ops.create_session(rcp, form.values())
        except DomainError as error:
            _form_error(form, error)
            return _render_form(form, rcp, status=error.status_code)
        db.session.commit()
        flash("Séance créée.", "success")
        return redirect(url_for(".detail", session_id=session.id))
    return _render_form(form, rcp)


@bp.route("/seances/<int:session_id>/modifier", methods=["GET", "POST"])
@no_patient_data
@roles_required(*MANAGERS)
def edit(session_id: int):
    session = _load(session_id)
    form = SessionForm()
    if request.method == "GET":
        form.fill_from(session)
    if form.validate_on_submit():
        try:
            ops.update_session(session, form.values(), form.version.data)
        except DomainError as error:
            _form_error(form, error)
            return _render_form(form, session.rcp, session, status=error.status_code)
        db.session.commit()
        flash("Séance enregistrée.", "success")
        return redirect(url_for(".detail", session_id=session.id))
    return _render_form(form, session.rcp, session)


@bp.route("/seances/<int:session_id>/statut", methods=["POST"])
@no_patient_data
@roles_required(*MANAGERS)
def change_status(session_id: int):
    session = _load(session_id)
    ops.change_status(session, request.form.get("status", ""), request.form.get("version"))
    db.session.commit()
    flash(f"Séance « {session.status_label.lower()} ».", "success")
    return redirect(url_for(".detail", session_id=session.id))


# --- agenda ----------------------------------------------------------------------------------


def _agenda_page(session: MeetingSession, error: str | None = None, status: int = 200):
    items = agenda.agenda_items(session)
    manager = _is_manager()
    pool = agenda.pool_cases(session) if manager else []
    missing = agenda.missing_for([i.case for i in items] + pool)
    agenda.record_view(session, items, pool)
    # Rendered before the commit, which would expire the loaded rows.
    html = render_template(
        "meetings/agenda.html",
        session=session,
        items=items,
        discussed=[i for i in items if i.mode == "discussed"],
        registered=[i for i in items if i.mode == "registered"],
        pool=pool,
        missing=missing,
        manager=manager,
        modes=ITEM_MODES,
        minutes=agenda.planned_minutes(items),
        error=error,
        saved_at=request.args.get("enregistre", "")[:5],
    )
    db.session.commit()
    return html, status


def _is_manager() -> bool:
    from flask_login import current_user

    return current_user.has_role(*MANAGERS)


@bp.route("/seances/<int:session_id>")
@shows_patient_data
@roles_required(*VIEWERS)
def detail(session_id: int):
    return _agenda_page(_load(session_id))


def _agenda_action(session_id: int, operation, success: str, **redirect_args):
    """Run one agenda operation; on refusal show the agenda again with the message."""
    session = _load(session_id)
    try:
        operation(session)
    except DomainError as error:
        db.session.rollback()
        return _agenda_page(_load(session_id), error.message, error.status_code)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for(".detail", session_id=session_id, **redirect_args))


@bp.route("/seances/<int:session_id>/ordre-du-jour/ajouter", methods=["POST"])
@shows_patient_data
@roles_required(*MANAGERS)
def assign(session_id: int):
    form = request.form
    return _agenda_action(
        session_id,
        lambda s: agenda.assign(s, form.get("case_id"), form.get("override_reason")),
        "Dossier inscrit à l'ordre du jour.",
    )


@bp.route("/seances/<int:session_id>/ordre-du-jour/<int:item_id>/retirer", methods=["POST"])
@shows_patient_data
@roles_required(*MANAGERS)
def unassign(session_id: int, item_id: int):
    return _agenda_action(
        session_id, lambda s: agenda.unassign(s, item_id), "Dossier retiré de l'ordre du jour."
    )


@bp.route("/seances/<int:session_id>/ordre-du-jour/<int:item_id>/modifier", methods=["POST"])
@shows_patient_data
@roles_required(*MANAGERS)
def update_item(session_id: int, item_id: int):
    form = request.form
    return _agenda_action(
        session_id,
        lambda s: agenda.update_item(
            s, item_id, form.get("mode"), form.get("guideline"), form.get("estimated_minutes")
        ),
        "Dossier mis à jour.",
    )


@bp.route("/seances/<int:session_id>/ordre-du-jour/<int:item_id>/deplacer", methods=["POST"])
@shows_patient_data
@roles_required(*MANAGERS)
def move(session_id: int, item_id: int):
    form = request.form
    return _agenda_action(
        session_id,
        lambda s: agenda.move(s, item_id, form.get("direction"), form.get("version")),
        "Ordre enregistré.",
        enregistre=format_time(utcnow()),
    )


@bp.route("/seances/<int:session_id>/ordre-du-jour/ordre", methods=["POST"])
@no_patient_data
@roles_required(*MANAGERS)
def reorder(session_id: int):
    """Drag and drop (static/js/agenda.js): JSON answer with the new version and the time."""
    session = _load(session_id)
    try:
        agenda.reorder(session, request.form.getlist("item_ids"), request.form.get("version"))
    except DomainError as error:
        db.session.rollback()
        return jsonify({"error": error.message}), error.status_code
    db.session.commit()
    saved = format_time(utcnow())
    return jsonify({"version": session.agenda_version, "saved_at": saved})


@bp.route("/seances/<int:session_id>/dossiers/<int:case_id>/reporter", methods=["POST"])
@shows_patient_data
@roles_required(*MANAGERS)
def postpone(session_id: int, case_id: int):
    return _agenda_action(
        session_id,
        lambda s: agenda.postpone(s, case_id, request.form.get("reason")),
        "Dossier reporté à la séance suivante.",
    )


@bp.route("/seances/<int:session_id>/dossiers/<int:case_id>/refuser", methods=["POST"])
@shows_patient_data
@roles_required(*MANAGERS)
def refuse(session_id: int, case_id: int):
    return _agenda_action(
        session_id,
        lambda s: agenda.refuse(s, case_id, request.form.get("reason")),
        "Dossier refusé ; le médecin demandeur sera prévenu.",
    )


@bp.route("/seances/<int:session_id>/publier", methods=["POST"])
@shows_patient_data
@roles_required(*MANAGERS)
def publish(session_id: int):
    return _agenda_action(
        session_id,
        lambda s: agenda.publish(s, request.form.get("version")),
        "Ordre du jour publié.",
    )


# --- documents -------------------------------------------------------------------------------


@bp.route("/seances/<int:session_id>/ordre-du-jour.pdf")
@shows_patient_data
@roles_required(*VIEWERS)
def agenda_pdf(session_id: int):
    session = _load(session_id)
    response = documents.agenda_pdf_response(session)
    db.session.commit()
    return response


@bp.route("/seances/<int:session_id>/seance.ics")
@no_patient_data
@roles_required(*VIEWERS)
def ics(session_id: int):
    session = _load(session_id)
    response = documents.ics_response(session)
    db.session.commit()
    return response
