"""The follow-up pages: record what became of a proposal, the lists of follow-ups due.

Who sees a follow-up sees its case; recording it and sending it back to the RCP are for who
edits the case (the referring physician, the author, correspondents, the RCP's secretariat):
rcp_app/access/rules.py.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..access.guards import allowed, require
from ..access.rules import can
from ..core import conflict
from ..core.converters import parse_id
from ..core.errors import DomainError
from ..core.forms import show_refusal
from ..core.pagination import paginate, parse_page
from ..core.patient_data import no_patient_data, shows_patient_data
from ..extensions import db
from ..fiches.models import Fiche
from . import operations as ops
from . import proposal, queries
from .forms import ADAPT, FollowUpForm, stored_values
from .models import FollowUp

bp = Blueprint("followups", __name__)


# The home pages (templates/main/) show the counts; main sits above this package, the
# templates ask these globals.
@bp.app_template_global("follow_up_counts")
def follow_up_counts() -> queries.DueCounts:
    return queries.due_counts(current_user)


# The fiche and case pages (lower packages) show where the proposal stands.
@bp.app_template_global("follow_up_of_fiche")
def follow_up_of_fiche(fiche_id: int) -> FollowUp | None:
    return db.session.scalar(select(FollowUp).where(FollowUp.fiche_id == fiche_id))


@bp.app_template_global("unrecorded_follow_ups")
def unrecorded_follow_ups() -> int:
    return queries.unrecorded_count(current_user)


def _load(follow_up_id: int, action: str = "view") -> FollowUp:
    follow_up = db.get_or_404(FollowUp, follow_up_id)
    require(action, follow_up)
    return follow_up


def _page_number() -> int:
    return parse_page(request.args.get("page"))


@bp.route("/suivis")
@shows_patient_data
@allowed("clinical")
def index():
    page = paginate(
        queries.mine_statement(current_user), _page_number(), current_app.config["RCP_PAGE_SIZE"]
    )
    ops.record_list_view(page.items, "mine", page.page)
    return render_template(
        "followups/index.html",
        page=page,
        today=queries.today(),
        care_plans=queries.care_plans_of(page.items),
    )


@bp.route("/suivis/sans-suivi")
@shows_patient_data
@allowed("clinical")
def unrecorded():
    rcps = queries.followed_rcps(current_user)
    rcp_id = parse_id(request.args.get("rcp"))
    if rcp_id not in {rcp.id for rcp in rcps}:
        rcp_id = None
    page = paginate(
        queries.unrecorded_statement(current_user, rcp_id),
        _page_number(),
        current_app.config["RCP_PAGE_SIZE"],
    )
    ops.record_list_view(page.items, "unrecorded", page.page, rcp_id=rcp_id)
    return render_template(
        "followups/unrecorded.html", page=page, rcps=rcps, rcp_id=rcp_id, today=queries.today()
    )


@bp.route("/suivis/fiche/<int:fiche_id>")
@no_patient_data
@allowed("clinical")
def of_fiche(fiche_id: int):
    """The link of the e-mails (the fiche to the requester, the reminder)."""
    fiche = db.get_or_404(Fiche, fiche_id)
    require("view", fiche)
    follow_up_id = db.session.scalar(select(FollowUp.id).where(FollowUp.fiche_id == fiche.id))
    if follow_up_id is None:
        abort(404)
    return redirect(url_for(".record", follow_up_id=follow_up_id))


def _render(follow_up: FollowUp, form: FollowUpForm, status: int = 200):
    options = proposal.options(follow_up.decision)
    form.set_options(options)
    editable = can(current_user, "edit", follow_up)
    page = render_template(
        "followups/record.html",
        follow_up=follow_up,
        form=form,
        options=options,
        editable=editable,
        allowed=ops.allowed_outcomes(follow_up, current_user) if editable else [],
        correcting=editable and ops.may_correct(follow_up, current_user),
        today=queries.today(),
        validated_on=ops.validation_day(follow_up),
        window_hours=int(ops.CORRECTION_WINDOW.total_seconds() // 3600),
    )
    ops.record_view(follow_up)
    return page, status


@bp.route("/suivis/<int:follow_up_id>", methods=["GET", "POST"])
@shows_patient_data
@allowed("clinical")
def record(follow_up_id: int):
    follow_up = _load(follow_up_id)
    if request.method == "GET":
        form = FollowUpForm(data=stored_values(follow_up))
        form.version.data = str(follow_up.version)
        return _render(follow_up, form)
    require("edit", follow_up)
    form = FollowUpForm()
    if not form.validate_on_submit():
        return _render(follow_up, form, 400)
    try:
        correction = ops.record_outcome(
            follow_up, current_user, form.outcome_data(), form.version.data
        )
    except ops.StaleFollowUp:
        conflict.keep_typed_values(form, follow_up, "Ce suivi", adapt=ADAPT)
        return _render(follow_up, form, conflict.STATUS)
    except DomainError as refused:
        show_refusal(form, refused)
        return _render(follow_up, form, refused.status_code)
    verb = "corrigé" if correction else "enregistré"
    flash(f"Suivi {verb} : « {follow_up.state_label} ».", "success")
    return redirect(url_for(".record", follow_up_id=follow_up.id))


@bp.route("/suivis/<int:follow_up_id>/representer", methods=["POST"])
@no_patient_data
@allowed("clinical")
def represent(follow_up_id: int):
    """A deviation goes back to the RCP: a new draft case, opened for editing."""
    follow_up = _load(follow_up_id, "edit")
    try:
        case = ops.represent(follow_up, current_user, request.form.get("version"))
    except DomainError as refused:
        db.session.rollback()
        flash(refused.message, "danger")
        return redirect(url_for(".record", follow_up_id=follow_up_id))
    flash(
        f"Dossier n° {case.id} préparé en brouillon à partir du précédent : vérifiez-le, "
        "complétez-le puis soumettez-le à la RCP.",
        "success",
    )
    return redirect(url_for("cases.edit", case_id=case.id))
