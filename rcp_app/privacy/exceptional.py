"""Exceptional access (« bris de glace »): open a record outside the care team, and review.

A physician refused a patient's record (``access.guards.require``) is offered this page by the
403 page. The access is audited when opened, lasts RCP_EXCEPTIONAL_ACCESS_HOURS, and waits on
the review page of the patient's RCP coordinating physicians and of the dpo.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.exc import DBAPIError

from ..access import operations as ops
from ..access import rules
from ..access.forms import ExceptionalAccessForm, ReviewForm
from ..access.guards import allowed, exceptional_access_offer, may
from ..access.models import ExceptionalAccess
from ..core import audit
from ..core.errors import DomainError
from ..core.forms import show_refusal
from ..core.pagination import paginate, parse_page
from ..core.patient_data import no_patient_data, patient_ids, shows_patient_data
from ..core.redirects import safe_local_path
from ..extensions import db
from ..patients import operations as patient_ops
from ..patients.models import Patient
from . import queries

bp = Blueprint("access", __name__)


@bp.record_once
def _template_helpers(state) -> None:
    # The navigation (base.html) and the 403 page (errors/403.html) ask these.
    env = state.app.jinja_env.globals
    env.setdefault("may", may)
    env["exceptional_access_offer"] = exceptional_access_offer
    env["review_menu"] = _review_menu


def _review_menu(user) -> bool:
    """Whether the navigation shows « Accès exceptionnels » (``any_exceptional_access_to_review``).

    The 503 page (database away) is rendered with the navigation too: it must not fail there.
    """
    try:
        return rules.any_exceptional_access_to_review(user)
    except DBAPIError:
        return False


@bp.route("/patients/<int:patient_id>/acces-exceptionnel", methods=["GET", "POST"])
@shows_patient_data
@allowed("exceptional_access.open")
def exceptional_access(patient_id: int):
    patient = db.get_or_404(Patient, patient_id)
    target = safe_local_path(request.values.get("next"))
    record = url_for("patients.detail", patient_id=patient.id)
    current = ops.current_access(current_user, patient.id)
    if current is None and rules.sees_patient_record(current_user, patient.id):
        return redirect(target or record)  # already in the care team: nothing to open
    form = ExceptionalAccessForm()
    if request.method == "GET":
        form.next.data = target or ""
    if current is None and form.validate_on_submit():
        try:
            ops.open_exceptional_access(current_user, patient, form.reason.data, form.text.data)
        except DomainError as error:
            show_refusal(form, error)
        else:
            flash(
                "Accès exceptionnel ouvert : il est enregistré et sera revu.",
                "warning",
            )
            return redirect(target or record)
    # The page shows the patient's identity (names, birth date, sex): audited.
    patient_ops.record_view(patient, context="exceptional_access")
    return render_template(
        "access/open.html",
        patient=patient,
        form=form,
        current=current,
        hours=current_app.config["RCP_EXCEPTIONAL_ACCESS_HOURS"],
        target=target or record,
    )


@bp.route("/acces-exceptionnels")
@shows_patient_data
@allowed("exceptional_access.review")
def exceptional_review_list():
    state = request.args.get("etat", queries.DEFAULT_REVIEW_STATE)
    if state not in queries.REVIEW_STATES:
        state = queries.DEFAULT_REVIEW_STATE
    page = paginate(
        queries.review_statement(current_user, state),
        parse_page(request.args.get("page")),
        current_app.config["RCP_PAGE_SIZE"],
    )
    shown = patient_ids(access.patient_id for access in page.items)
    patients = queries.patients_by_id(shown)
    users = queries.users_by_id(
        [a.user_id for a in page.items] + [a.reviewed_by_id for a in page.items]
    )
    audit.record(
        "access.exceptional_list",
        "exceptional_access",
        None,
        details={"state": state, "page": page.page, "patients": shown},
    )
    return render_template(
        "access/review.html",
        page=page,
        state=state,
        states=queries.REVIEW_STATES,
        patients=patients,
        users=users,
    )


@bp.route("/acces-exceptionnels/<int:access_id>/revue", methods=["POST"])
@no_patient_data
@allowed("exceptional_access.review")
def exceptional_review(access_id: int):
    access = db.get_or_404(ExceptionalAccess, access_id, with_for_update=True)
    if not rules.can(current_user, "review", access):
        # Not ``guards.require``: that would offer this physician an exceptional access.
        audit.record("access.denied", "exceptional_access", access.id, details={"action": "review"})
        abort(403)
    back = url_for(
        ".exceptional_review_list",
        etat=request.args.get("etat")
        if request.args.get("etat") in queries.REVIEW_STATES
        else None,
        page=parse_page(request.args.get("page")),
    )
    form = ReviewForm()
    if not form.validate_on_submit():
        db.session.rollback()
        for message in form.comment.errors or ["Le formulaire n'est pas valide."]:
            flash(message, "danger")
        return redirect(back)
    # A second review raises Conflict: the error page says so (409), nothing is written.
    ops.review_exceptional_access(current_user, access, form.comment.data)
    flash("Accès exceptionnel marqué comme revu.", "success")
    return redirect(back)
