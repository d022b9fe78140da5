"""The care programme (PPS) pages: open it from a signed fiche, edit the draft, validate and
sign, amend; download the CDA, download or print the patient's PDF."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..access.guards import allowed, require
from ..core.errors import DomainError
from ..core.forms import show_refusal
from ..core.patient_data import no_patient_data, shows_patient_data
from ..core.transactions import commit_phase
from ..decisions.forms import CsrfForm
from ..extensions import db
from ..fiches import operations as fiches
from ..fiches.models import Fiche
from . import operations as ops
from . import signing_flow
from .forms import ROW_ACTIONS, AmendForm, PlanForm, form_data, set_choices
from .models import CarePlan, CarePlanVersion

bp = Blueprint("pps", __name__)
FILE_NAMES = {"pdf": "pps-{set_id}-v{version}.pdf", "cda": "pps-{set_id}-v{version}.xml"}


# The fiche page (fiches/detail.html) shows the programme: fiches sit below this package.
@bp.app_template_global("care_plan_of")
def care_plan_of(fiche: Fiche) -> CarePlan | None:
    return ops.plan_of_fiche(fiche)


@bp.app_template_global("may_draft_care_plan")
def may_draft_care_plan(case) -> bool:
    return ops.can_draft(current_user, case)


def _fiche(fiche_id: int) -> Fiche:
    fiche = db.get_or_404(Fiche, fiche_id)
    require("view", fiche)
    return fiche


def _plan(plan_id: int) -> CarePlan:
    plan = db.get_or_404(
        CarePlan,
        plan_id,
        options=[selectinload(CarePlan.versions).selectinload(CarePlanVersion.validated_by)],
    )
    require("view", plan)
    return plan


# The POST opens the programme and redirects: its page is the edit form's (audited there).
@bp.route("/fiches/<int:fiche_id>/pps", methods=["GET", "POST"])
@shows_patient_data(methods=("GET",))
@allowed("clinical")
def for_fiche(fiche_id: int):
    """The fiche's programme, or the page that opens it (pre-filled from the decision)."""
    fiche = _fiche(fiche_id)
    plan = ops.plan_of_fiche(fiche)
    if plan is not None:
        return redirect(url_for(".detail", plan_id=plan.id))
    form = CsrfForm()
    if request.method == "POST" and form.validate_on_submit():
        plan = ops.open_plan(fiche, current_user)
        flash("Programme personnalisé de soins ouvert, pré-rempli depuis la décision.", "success")
        return redirect(url_for(".edit", plan_id=plan.id))
    fiches.record_view(fiche, context="pps")
    return render_template(
        "pps/open.html",
        fiche=fiche,
        current=fiches.current_version(fiche).snapshot_dict(),
        can_draft=ops.can_draft(current_user, fiche.case),
        form=form,
    )


def _row_action(form: PlanForm) -> bool:
    """The « add a line » buttons re-render the form with one more row, saving nothing."""
    key = ROW_ACTIONS.get(request.form.get("action", ""))
    if key is None:
        return False
    from .draft import ROW_LISTS

    form[ROW_LISTS[key]].append_entry()
    return True


def _render_edit(plan: CarePlan, form: PlanForm, amend_form: AmendForm | None = None, status=200):
    set_choices(form, plan.decision, plan.case)
    ops.record_view(plan, context="edit")
    return render_template(
        "pps/edit.html",
        plan=plan,
        form=form,
        amend_form=amend_form or AmendForm(formdata=None),
        fiche_snapshot=fiches.current_version(plan.fiche).snapshot_dict(),
        can_validate=ops.can_validate(current_user, plan.case),
    ), status


@bp.route("/pps/<int:plan_id>/modifier", methods=["GET", "POST"])
@shows_patient_data
@allowed("clinical")
def edit(plan_id: int):
    plan = _plan(plan_id)
    ops.check_can_draft(current_user, plan.case)
    if plan.state == "validated":
        flash("Le programme est validé : ouvrez une mise à jour pour le modifier.", "info")
        return redirect(url_for(".detail", plan_id=plan.id))
    if request.method == "GET":
        form = PlanForm(
            formdata=None, data={**form_data(plan.draft_dict()), "version": plan.lock_version}
        )
        return _render_edit(plan, form)
    form = PlanForm()
    set_choices(form, plan.decision, plan.case)
    if _row_action(form):
        return _render_edit(plan, form)
    if form.validate_on_submit():
        try:
            ops.save_draft(plan, current_user, form.data_for_operation(), form.version.data)
        except DomainError as refused:
            if refused.status_code == 403:
                raise
            show_refusal(form, refused)
            return _render_edit(_plan(plan_id), form, status=refused.status_code)
        flash("Brouillon du programme enregistré.", "success")
        return redirect(url_for(".edit", plan_id=plan.id))
    return _render_edit(plan, form, status=400)


@bp.route("/pps/<int:plan_id>/valider", methods=["POST"])
@shows_patient_data
@allowed("fiches.validate")
def validate(plan_id: int):
    """Save the form as it stands, then validate and sign (the next version)."""
    plan = _plan(plan_id)
    ops.check_can_validate(current_user, plan.case)
    form, amend_form = PlanForm(), AmendForm()
    set_choices(form, plan.decision, plan.case)
    if not (form.validate_on_submit() and amend_form.validate()):
        return _render_edit(plan, form, amend_form, status=400)
    try:
        ops.save_draft(plan, current_user, form.data_for_operation(), form.version.data)
    except DomainError as refused:
        if refused.status_code == 403:
            raise
        show_refusal(form, refused)
        return _render_edit(_plan(plan_id), form, amend_form, status=refused.status_code)
    commit_phase()  # what was typed is kept, whatever the signature's outcome
    try:
        version = signing_flow.validate(
            plan.id, current_user, amend_form.reason.data, amend_form.motive.data
        )
    except DomainError as refused:
        if refused.status_code == 403:
            raise
        target = amend_form if refused.field in ("reason", "motive") else form
        show_refusal(target, refused)
        plan = _plan(plan_id)
        form.version.data = plan.lock_version  # the saved draft is the one shown again
        return _render_edit(plan, form, amend_form, status=refused.status_code)
    flash(
        f"Programme validé et signé (version {version.version}). Il part vers le médecin "
        "traitant et le DCC ; imprimez-le pour le remettre au patient.",
        "success",
    )
    return redirect(url_for(".detail", plan_id=plan_id))


@bp.route("/pps/<int:plan_id>/mise-a-jour", methods=["POST"])
@no_patient_data  # redirects; the edit page it leads to is audited
@allowed("clinical")
def amend(plan_id: int):
    plan = _plan(plan_id)
    form = CsrfForm()
    if form.validate_on_submit():
        ops.start_amendment(plan, current_user, request.form.get("version"))
        flash(
            "Mise à jour ouverte : la version signée reste en vigueur jusqu'à la "
            "validation de la nouvelle.",
            "info",
        )
    return redirect(url_for(".edit", plan_id=plan.id))


@bp.route("/pps/<int:plan_id>/mise-a-jour/abandon", methods=["POST"])
@no_patient_data  # redirects to the programme's page
@allowed("clinical")
def cancel_amendment(plan_id: int):
    plan = _plan(plan_id)
    form = CsrfForm()
    if form.validate_on_submit():
        ops.cancel_amendment(plan, current_user, request.form.get("version"))
        flash("Mise à jour abandonnée : la version signée reste en vigueur.", "info")
    return redirect(url_for(".detail", plan_id=plan.id))


@bp.route("/pps/<int:plan_id>")
@shows_patient_data
@allowed("clinical")
def detail(plan_id: int):
    plan = _plan(plan_id)
    page = render_template(
        "pps/detail.html",
        plan=plan,
        current=ops.current_version(plan),
        transmissions=ops.transmissions_of(plan),
        can_draft=ops.can_draft(current_user, plan.case),
        form=CsrfForm(),
    )
    ops.record_view(plan)
    return page


def document_response(plan: CarePlan, row: CarePlanVersion, kind: str, printing=False):
    """A stored document, its digest checked and the download (or printing) audited: the
    clinical pages and the GP's inbox both serve programmes this way."""
    document = ops.load_document(row, kind)
    ops.record_download(row, kind, printing=printing)
    name = FILE_NAMES[kind].format(set_id=plan.set_id, version=row.version)
    disposition = "inline" if printing else "attachment"
    return Response(
        document.content,
        mimetype=document.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


def _document(plan_id: int, version: int, kind: str, printing: bool = False) -> Response:
    plan = _plan(plan_id)
    row = db.session.scalar(
        select(CarePlanVersion).where(
            CarePlanVersion.care_plan_id == plan.id, CarePlanVersion.version == version
        )
    )
    if row is None:
        abort(404)
    return document_response(plan, row, kind, printing)


@bp.route("/pps/<int:plan_id>/v<int:version>.pdf")
@shows_patient_data
@allowed("clinical")
def download_pdf(plan_id: int, version: int):
    return _document(plan_id, version, "pdf")


@bp.route("/pps/<int:plan_id>/v<int:version>.xml")
@shows_patient_data
@allowed("clinical")
def download_cda(plan_id: int, version: int):
    return _document(plan_id, version, "cda")


@bp.route("/pps/<int:plan_id>/v<int:version>/imprimer")
@shows_patient_data
@allowed("clinical")
def print_pdf(plan_id: int, version: int):
    """The signed PDF shown in the browser, to print it for the consultation."""
    return _document(plan_id, version, "pdf", printing=True)
