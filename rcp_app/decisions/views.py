"""The meeting page (shared screen + decision form), decision saves, closing the session.

Coordinators and physicians; the decision save answers JSON to the page's script
(static/js/meeting.js) and works as a plain form without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..access.guards import allowed, require
from ..agenda import operations as agenda
from ..attendance.operations import check_can_manage, quorum_for_case
from ..cases.models import Case
from ..core.converters import parse_id
from ..core.errors import Conflict, DomainError
from ..core.patient_data import no_patient_data, shows_patient_data
from ..core.timeutil import format_time
from ..extensions import db
from ..meetings.models import MeetingSession
from ..terminology.builtin import MORPHOLOGY, TOPOGRAPHY, TREATMENT_TYPE
from ..terminology.models import Concept
from . import operations as ops
from .forms import CsrfForm, choices

bp = Blueprint("decisions", __name__)


def _load(session_id: int) -> MeetingSession:
    session = db.get_or_404(MeetingSession, session_id, options=[joinedload(MeetingSession.rcp)])
    require("view", session)
    return session


def _find_item(session, item_id: int):
    """An agenda line of the session whose case the user may see (rcp_app/access)."""
    item = ops.find_item(session, item_id)
    require("view", item)
    return item


def _wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _labels(items, current) -> dict[tuple[str, str], str]:
    """(value set, code) -> label for what the page shows (one query)."""
    wanted: set[tuple[str, str]] = set()
    if current is not None:
        for tumour in current.case.tumours:
            wanted |= {(TOPOGRAPHY, tumour.topography_code), (MORPHOLOGY, tumour.morphology_code)}
        wanted |= {(TREATMENT_TYPE, t.type_code) for t in current.case.treatments}
    wanted = {(vs, code) for vs, code in wanted if code}
    if not wanted:
        return {}
    codes = {code for _, code in wanted}
    rows = db.session.execute(
        select(Concept.value_set, Concept.code, Concept.label).where(
            Concept.value_set.in_({vs for vs, _ in wanted}), Concept.code.in_(codes)
        )
    )
    return {(vs, code): label for vs, code, label in rows}


def _page(session, item_raw, values=None, conflict=None, error=None, status=200):
    """The meeting page; it shows a case in full and names the agenda's patients: audited
    (the request commits), on a refused save too."""
    shown = agenda.visible_agenda(agenda.agenda_items(session, names_only=True), current_user)
    items = shown.items
    current = None
    item_id = parse_id(item_raw)
    if item_id is not None:
        current = next((i for i in items if i.id == item_id), None)
    if current is None and items:
        current = items[0]
    if current is not None:
        # The one case shown in full, with everything the summary needs.
        db.session.scalars(
            select(Case)
            .where(Case.id == current.case_id)
            .options(
                *agenda.case_options(),
                selectinload(Case.treatments),
                selectinload(Case.attachments),
            )
            .execution_options(populate_existing=True)
        ).unique().all()
    decisions = ops.decisions_for(items)
    quorum = quorum_for_case(session, current.case) if current is not None else None
    index = items.index(current) if current is not None else 0
    stored = ops.as_dict(decisions.get(current.id)) if current is not None else {}
    # A validated decision is signed: the template links its fiche (``signed_fiche`` and
    # ``may_amend_fiche``, registered by fiches/views.py, the package above this one).
    signed = stored.get("state") == "validated"
    ops.record_meeting_view(session, items, current)
    return (
        render_template(
            "decisions/meeting.html",
            session=session,
            items=items,
            current=current,
            previous=items[index - 1] if current is not None and index > 0 else None,
            following=items[index + 1] if current is not None and index + 1 < len(items) else None,
            decisions=decisions,
            values=values if values is not None else stored,
            stored=stored,
            conflict=conflict,
            error=error,
            quorum=quorum,
            labels=_labels(items, current),
            choices=choices(),
            form=CsrfForm(),
            capture=session.status in ops.CAPTURE_STATUSES,
            # A validated decision changes only by an amendment of its fiche: never editable.
            editable=session.status in ops.CAPTURE_STATUSES and not signed,
            signed=signed,
            hidden=shown.hidden,
            hidden_objections=shown.hidden_objections,
        ),
        status,
    )


@bp.route("/seances/<int:session_id>/reunion")
@shows_patient_data
@allowed("clinical")
def meeting(session_id: int):
    session = _load(session_id)
    return _page(session, request.args.get("dossier"))


@bp.route("/seances/<int:session_id>/reunion/<int:item_id>/decision", methods=["POST"])
@shows_patient_data
@allowed("clinical")
def save(session_id: int, item_id: int):
    session = _load(session_id)
    if request.is_json:
        body = request.get_json(silent=True)
        data = body if isinstance(body, dict) else {}
    else:
        data = request.form.to_dict()
    data.pop("csrf_token", None)
    try:
        item = _find_item(session, item_id)
        decision = ops.save_decision(item, data, data.get("version"), current_user.id)
    except ops.DecisionConflict as conflict:
        db.session.rollback()
        if _wants_json():
            return jsonify(
                message=conflict.message, stored=conflict.stored, mine=conflict.mine
            ), 409
        # Without JavaScript: the meeting page again; the refused save was rolled back.
        return _page(session, item_id, values=data, conflict=conflict, status=409)
    except DomainError as error:
        db.session.rollback()
        status = error.status_code
        if _wants_json():
            if isinstance(error, ops.DecisionValidated):  # the page drops its local drafts
                return jsonify(message=error.message, state="validated"), status
            return jsonify(message=error.message, field=error.field), status
        if isinstance(error, Conflict) or error.field == "item_id":
            raise
        return _page(session, item_id, values=data, error=error, status=200)
    if _wants_json():
        return jsonify(
            version=decision.version,
            state=decision.state,
            saved_at=format_time(decision.updated_at),
        )
    flash(f"Décision enregistrée à {format_time(decision.updated_at)}.", "success")
    return redirect(url_for(".meeting", session_id=session.id, dossier=item_id))


@bp.route("/seances/<int:session_id>/reunion/<int:item_id>/prete", methods=["POST"])
@no_patient_data
@allowed("clinical")
def ready(session_id: int, item_id: int):
    session = _load(session_id)
    item = _find_item(session, item_id)
    missing = ops.mark_ready(item)
    if missing:
        db.session.rollback()
        flash("Décision incomplète : il manque " + ", ".join(missing) + ".", "danger")
    else:
        flash("Décision prête pour validation.", "success")
    return redirect(url_for(".meeting", session_id=session.id, dossier=item_id))


@bp.route("/seances/<int:session_id>/cloture", methods=["GET", "POST"])
@shows_patient_data
@allowed("clinical")
def close(session_id: int):
    session = _load(session_id)
    check_can_manage(current_user, session.rcp)
    problems: list[str] = []
    if request.method == "POST":
        choices_by_item = {}
        for item in agenda.agenda_items(session):
            choice = request.form.get(f"choice_{item.id}", "")
            choices_by_item[item.id] = (choice, request.form.get(f"reason_{item.id}", ""))
        problems = ops.close_session(session, choices_by_item, request.form.get("version"))
        if not problems:
            flash("Séance close.", "success")
            return redirect(url_for("meetings.detail", session_id=session.id))
        db.session.rollback()
        session = _load(session_id)
    undecided = ops.undecided_items(session)
    ops.record_close_view(session, undecided)
    return render_template(
        "decisions/close.html",
        session=session,
        undecided=undecided,
        error=problems,  # listed by the error summary at the top of the page
        form=CsrfForm(),
    )
