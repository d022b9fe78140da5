"""Session pages: list, generate, ad hoc creation, edit, status; the agenda builder; documents.

Coordinators and administrators manage; physicians see the sessions, the agendas and download
the PDF and iCalendar files; GPs get 403. The blueprint keeps the name ``meetings`` (endpoints
``meetings.index``, ``meetings.detail``…: templates and tests use them); it lives here because
its pages show the agenda, which sits above ``cases`` (rcp_app/agenda/__init__.py).
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
from flask_login import current_user
from sqlalchemy import and_, not_, or_, select
from sqlalchemy.orm import joinedload

from ..access import can, care_team
from ..access.guards import allowed, require
from ..core.converters import parse_id
from ..core.errors import DomainError
from ..core.forms import show_refusal
from ..core.patient_data import no_patient_data, shows_patient_data
from ..core.timeutil import format_time, utcnow
from ..directory.models import Rcp
from ..extensions import db
from ..meetings import documents
from ..meetings import operations as ops
from ..meetings.forms import SessionForm
from ..meetings.models import ITEM_MODES, OPEN_STATUSES, MeetingSession, planned_minutes
from . import operations as agenda

bp = Blueprint("meetings", __name__)

# Agendas name patients: like the patient pages, they are closed to the admin role, whose job is
# accounts and the directory, not clinical data.


def _load(session_id: int) -> MeetingSession:
    """The session, 404 if absent, 403 unless the user may open it (a coordinator: one of the
    RCPs they run) or, on the managers' routes, manage it (rcp_app/access)."""
    session = db.get_or_404(MeetingSession, session_id, options=[joinedload(MeetingSession.rcp)])
    require("manage" if request.method == "POST" else "view", session)
    return session


def _load_rcp(raw) -> Rcp | None:
    """An RCP chosen in a form or a filter; a coordinator only reaches the RCPs they run."""
    rcp_id = parse_id(raw)
    rcp = db.session.get(Rcp, rcp_id) if rcp_id is not None else None
    if rcp is not None and current_user.role == "coordinator":
        require("manage", rcp)
    return rcp


def _rcps_listed():
    """The RCPs a user picks sessions from: a coordinator's own, everything for physicians."""
    stmt = select(Rcp).where(Rcp.active.is_(True)).order_by(Rcp.name)
    if current_user.role == "coordinator":
        stmt = stmt.where(Rcp.id.in_(care_team.scoped_rcp_ids(current_user)))
    return db.session.scalars(stmt).all()


@bp.app_template_global("rcp_open_sessions")
def rcp_open_sessions(rcp: Rcp) -> list[MeetingSession]:
    """The RCP page's « Prochaines séances » (directory/rcp_detail.html): the directory, below
    this package, shows them without importing it."""
    return ops.upcoming_sessions(rcp.id, statuses=OPEN_STATUSES)


# --- session list ----------------------------------------------------------------------------


@bp.route("/seances")
@no_patient_data
@allowed("meetings.view")
def index():
    rcps = _rcps_listed()
    rcp = _load_rcp(request.args.get("rcp"))
    stmt = select(MeetingSession).options(joinedload(MeetingSession.rcp))
    if rcp is not None:
        stmt = stmt.where(MeetingSession.rcp_id == rcp.id)
    if current_user.role == "coordinator":
        stmt = stmt.where(MeetingSession.rcp_id.in_(care_team.scoped_rcp_ids(current_user)))
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
@allowed("meetings.manage")
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
    flash(f"{len(created)} séance(s) créée(s).", "success")
    return redirect(url_for(".index", rcp=rcp.id))


def _render_form(form, rcp, session=None, status=200):
    return render_template("meetings/form.html", form=form, rcp=rcp, session=session), status


@bp.route("/seances/nouvelle", methods=["GET", "POST"])
@no_patient_data
@allowed("meetings.manage")
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
            show_refusal(form, error)
            return _render_form(form, rcp, status=error.status_code)
        flash("Séance créée.", "success")
        return redirect(url_for(".detail", session_id=session.id))
    return _render_form(form, rcp)


@bp.route("/seances/<int:session_id>/modifier", methods=["GET", "POST"])
@no_patient_data
@allowed("meetings.manage")
def edit(session_id: int):
    session = _load(session_id)
    form = SessionForm()
    if request.method == "GET":
        form.fill_from(session)
    if form.validate_on_submit():
        try:
            ops.update_session(session, form.values(), form.version.data)
        except DomainError as error:
            show_refusal(form, error)
            return _render_form(form, session.rcp, session, status=error.status_code)
        flash("Séance enregistrée.", "success")
        return redirect(url_for(".detail", session_id=session.id))
    return _render_form(form, session.rcp, session)


@bp.route("/seances/<int:session_id>/statut", methods=["POST"])
@no_patient_data
@allowed("meetings.manage")
def change_status(session_id: int):
    session = _load(session_id)
    ops.change_status(session, request.form.get("status", ""), request.form.get("version"))
    flash(f"Séance « {session.status_label.lower()} ».", "success")
    return redirect(url_for(".detail", session_id=session.id))


# --- agenda ----------------------------------------------------------------------------------


def _agenda_page(session: MeetingSession, error: str | None = None, status: int = 200):
    shown = agenda.visible_agenda(agenda.agenda_items(session), current_user)
    items = shown.items
    manager = can(current_user, "manage", session)
    pool = agenda.pool_cases(session) if manager else []
    missing = agenda.missing_for([i.case for i in items] + pool)
    agenda.record_view(session, items, pool)
    return render_template(
        "meetings/agenda.html",
        session=session,
        items=items,
        discussed=[i for i in items if i.mode == "discussed"],
        registered=[i for i in items if i.mode == "registered"],
        pool=pool,
        missing=missing,
        manager=manager,
        modes=ITEM_MODES,
        minutes=planned_minutes(items),
        error=error,
        saved_at=request.args.get("enregistre", "")[:5],
        hidden=shown.hidden,
        hidden_objections=shown.hidden_objections,
    ), status


@bp.route("/seances/<int:session_id>")
@shows_patient_data
@allowed("meetings.view")
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
    flash(success, "success")
    return redirect(url_for(".detail", session_id=session_id, **redirect_args))


@bp.route("/seances/<int:session_id>/ordre-du-jour/ajouter", methods=["POST"])
@shows_patient_data
@allowed("meetings.manage")
def assign(session_id: int):
    form = request.form
    return _agenda_action(
        session_id,
        lambda s: agenda.assign(s, form.get("case_id"), form.get("override_reason")),
        "Dossier inscrit à l'ordre du jour.",
    )


@bp.route("/seances/<int:session_id>/ordre-du-jour/<int:item_id>/retirer", methods=["POST"])
@shows_patient_data
@allowed("meetings.manage")
def unassign(session_id: int, item_id: int):
    return _agenda_action(
        session_id, lambda s: agenda.unassign(s, item_id), "Dossier retiré de l'ordre du jour."
    )


@bp.route("/seances/<int:session_id>/ordre-du-jour/<int:item_id>/modifier", methods=["POST"])
@shows_patient_data
@allowed("meetings.manage")
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
@allowed("meetings.manage")
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
@allowed("meetings.manage")
def reorder(session_id: int):
    """Drag and drop (static/js/agenda.js): JSON answer with the new version and the time."""
    session = _load(session_id)
    try:
        agenda.reorder(session, request.form.getlist("item_ids"), request.form.get("version"))
    except DomainError as error:
        db.session.rollback()
        return jsonify({"error": error.message}), error.status_code
    saved = format_time(utcnow())
    return jsonify({"version": session.agenda_version, "saved_at": saved})


@bp.route("/seances/<int:session_id>/dossiers/<int:case_id>/reporter", methods=["POST"])
@shows_patient_data
@allowed("meetings.manage")
def postpone(session_id: int, case_id: int):
    return _agenda_action(
        session_id,
        lambda s: agenda.postpone(s, case_id, request.form.get("reason")),
        "Dossier reporté à la séance suivante.",
    )


@bp.route("/seances/<int:session_id>/dossiers/<int:case_id>/refuser", methods=["POST"])
@shows_patient_data
@allowed("meetings.manage")
def refuse(session_id: int, case_id: int):
    return _agenda_action(
        session_id,
        lambda s: agenda.refuse(s, case_id, request.form.get("reason")),
        "Dossier refusé ; le médecin demandeur sera prévenu.",
    )


@bp.route("/seances/<int:session_id>/publier", methods=["POST"])
@shows_patient_data
@allowed("meetings.manage")
def publish(session_id: int):
    return _agenda_action(
        session_id,
        lambda s: agenda.publish(s, request.form.get("version")),
        "Ordre du jour publié.",
    )


# --- documents -------------------------------------------------------------------------------


@bp.route("/seances/<int:session_id>/ordre-du-jour.pdf")
@shows_patient_data
@allowed("meetings.view")
def agenda_pdf(session_id: int):
    session = _load(session_id)
    shown = agenda.visible_agenda(agenda.agenda_items(session), current_user)
    return documents.agenda_pdf_response(session, shown)


@bp.route("/seances/<int:session_id>/seance.ics")
@no_patient_data
@allowed("meetings.view")
def ics(session_id: int):
    session = _load(session_id)
    return documents.ics_response(session)
