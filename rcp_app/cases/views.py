"""Case pages: list, registration, detail, edit, submit, withdraw, attachments.

Physicians see the cases of their care teams' patients and coordinators those of the RCPs they
run; editing is for the case's authors and secretariat (rcp_app/access). GPs, administrators and
the dpo get 403.
"""

from __future__ import annotations

import io

from flask import (
    Blueprint,
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

from ..access.guards import allowed, require
from ..core import conflict
from ..core.audit import AuditEntry
from ..core.converters import parse_id, parse_int
from ..core.errors import DomainError, render_error
from ..core.forms import show_refusal
from ..core.pagination import COUNT_LIMIT, parse_page
from ..core.patient_data import no_patient_data, shows_patient_data
from ..core.timeutil import utcnow
from ..core.transactions import keep_despite_error, on_rollback, release
from ..core.uploads import accepts_upload
from ..directory.models import Rcp
from ..extensions import db
from ..meetings import operations as sessions_ops
from ..patients import operations as patients_ops
from ..patients.models import Patient
from ..staging import biomarkers
from ..terminology import builtin as vs
from . import attachments, completeness, queries
from . import operations as ops
from .display import (
    ADAPT,
    AUDIT_ACTIONS,
    DisplayLabels,
    audit_summary,
    field_labels,
    form_data,
    stage_notes,
)
from .forms import (
    AttachmentForm,
    AttachmentWithdrawForm,
    CaseEditForm,
    CaseFilterForm,
    CaseForm,
    PatientChoiceForm,
    RequiredItemsForm,
    WithdrawForm,
    set_choices,
)
from .models import Attachment, Case
from .validation import CaseInvalid

bp = Blueprint("cases", __name__)

ROW_ACTIONS = ("add_tumour", "add_treatment", "add_staging", "refresh")


@bp.app_template_global("case_timeline")
def case_timeline(patient: Patient) -> list[Case]:
    return queries.patient_timeline(patient.id, current_user)


@bp.app_template_global("rcp_minimal_items")
def rcp_minimal_items(rcp: Rcp) -> dict:
    """The RCP page's « Données minimales exigées » (directory/rcp_detail.html): the labels of
    the items a case must hold, and whether they are the defaults of the RCP's nature. The
    directory, below this package, shows them without importing it."""
    configured = completeness.configured_items([rcp.id])
    return {
        "labels": [
            completeness.ITEMS[code].label for code in completeness.required_items(rcp, configured)
        ],
        "uses_default": rcp.id not in configured,
    }


def _load(case_id: int, action: str = "view") -> Case:
    """The case, 404 if absent, 403 unless the user may ``action`` it (rcp_app/access)."""
    case = db.get_or_404(Case, case_id)
    require(action, case)
    return case


def _load_attachment(case: Case, attachment_id: int) -> Attachment:
    """One of ``case``'s attachments, 404 otherwise (another case's id in the URL)."""
    attachment = db.get_or_404(Attachment, attachment_id)
    if attachment.case_id != case.id:
        abort(404)
    return attachment


def _arg_id(name: str) -> int | None:
    return parse_id(request.args.get(name))


def _row_action(form) -> bool:
    """The "add a row" buttons re-render the form with one more row, saving nothing."""
    action = request.form.get("action", "")
    name, _, index = action.partition("-")
    if name not in ROW_ACTIONS:
        return False
    if name == "add_tumour":
        form.tumour_rows.append_entry()
    elif name == "add_treatment":
        form.treatment_rows.append_entry()
    elif name == "add_staging":
        row = parse_int(index, 0, len(form.tumour_rows) - 1)
        if row is not None:
            form.tumour_rows[row].form.staging_rows.append_entry()
    return True


def _render_form(form, patient, rcp, case=None, status=200, context=None):
    """The case form shows the patient (and the case): every rendering is audited, a refused
    or row-adding submission too (``context`` says which rendering)."""
    if case is not None:
        ops.record_view(case, context=context or "edit")
    else:
        patients_ops.record_view(patient, context=context or "case_new")
    now = utcnow()
    sessions = sessions_ops.upcoming_sessions(rcp.id, now)
    set_choices(form, rcp, sessions, now, case)
    labels = DisplayLabels()
    labels.add_form(form)
    return render_template(
        "cases/form.html",
        form=form,
        patient=patient,
        rcp=rcp,
        case=case,
        labels=labels.load(),
        vs=vs,
        biomarkers=biomarkers,
    ), status


# --- list ------------------------------------------------------------------------------------


@bp.route("/dossiers")
@shows_patient_data
@allowed("clinical")
def index():
    filters = CaseFilterForm(request.args)
    filters.validate()  # GET filters: a refused value gets its French message, and is ignored
    rcp_id, status, mine = filters.rcp_id(), filters.status(), bool(filters.mine.data)
    query = filters.patient_query()
    stmt = queries.list_statement(
        rcp_id,
        status,
        current_user.id if mine else None,
        current_user.professional_id,
        patient_query=query,
        user=current_user,
    )
    page = queries.list_cases(
        stmt,
        parse_page(request.args.get("page")),
        current_app.config["RCP_PAGE_SIZE"],
        # What was searched is left out of the audit (a name, an INS): only its kind.
        {
            "rcp_id": rcp_id,
            "status": status,
            "mine": mine,
            "patient_search": patients_ops.search_criteria(query, None),
        },
        count_limit=COUNT_LIMIT,
        # A physician's team condition is set up once for keys and count (cases/queries.py).
        by_key=current_user.role == "physician" and not mine,
    )
    missing = completeness.missing_by_case(page.items)
    return render_template("cases/index.html", page=page, filters=filters, missing=missing)


# --- registration ----------------------------------------------------------------------------


def _choose_patient(rcp_id: int | None):
    form = PatientChoiceForm(request.args)
    query = (form.q.data or "").strip()[:100]
    page = None
    if query:
        page = patients_ops.search_patients(
            query,
            None,
            parse_page(request.args.get("page")),
            current_app.config["RCP_PAGE_SIZE"],
            current_user,
        )
    return render_template("cases/new_patient.html", form=form, page=page, rcp_id=rcp_id)


def _choose_rcp(patient: Patient):
    rcps = db.session.scalars(select(Rcp).where(Rcp.active.is_(True)).order_by(Rcp.name)).all()
    patients_ops.record_view(patient, context="case_new")
    return render_template("cases/new_rcp.html", patient=patient, rcps=rcps)


@bp.route("/dossiers/nouveau", methods=["GET", "POST"])
@shows_patient_data
@allowed("clinical")
def new():
    patient_id, rcp_id = _arg_id("patient_id"), _arg_id("rcp_id")
    patient = db.session.get(Patient, patient_id) if patient_id else None
    if patient is None:
        return _choose_patient(rcp_id)
    rcp = db.session.get(Rcp, rcp_id) if rcp_id else None
    if rcp is None or not rcp.active:
        return _choose_rcp(patient)
    if request.method == "GET":
        # A GET writes nothing: the RCP's calendar is completed when an RCP is saved and when
        # this form is posted, not by showing it.
        default = sessions_ops.default_session(rcp.id)
        form = CaseForm(data=form_data(None, rcp=rcp, user=current_user, session=default))
        return _render_form(form, patient, rcp)
    sessions_ops.ensure_upcoming_sessions(rcp)
    form = CaseForm()
    if _row_action(form):
        return _render_form(form, patient, rcp)
    if form.validate_on_submit():
        try:
            case = ops.create_case(
                patient,
                rcp,
                current_user,
                form.data_for_operation(),
                submit=request.form.get("action") == "submit",
            )
        except DomainError as error:
            show_refusal(form, error)
            # The refusal undid the whole request: the calendar too, which the form lists.
            sessions_ops.ensure_upcoming_sessions(rcp)
        else:
            if case.status == "submitted":
                flash(_submitted_message(case), "warning" if case.is_late else "success")
            else:
                flash(f"Dossier n° {case.id} enregistré en brouillon.", "success")
            return redirect(url_for(".detail", case_id=case.id))
    return _render_form(form, patient, rcp)


def _submitted_message(case: Case) -> str:
    if case.is_late:
        return (
            f"Dossier n° {case.id} soumis après la date limite d'inscription : il est signalé "
            "« hors délai » au secrétariat de la RCP."
        )
    return f"Dossier n° {case.id} soumis à la RCP."


# --- one case --------------------------------------------------------------------------------


def _render_detail(case: Case, attachment_form=None, status=200, withdraw=None):
    """``withdraw``: (attachment id, its refused withdrawal form), shown open with its errors."""
    history = (
        select(AuditEntry)
        .where(AuditEntry.object_type == "case", AuditEntry.object_id == str(case.id))
        .order_by(AuditEntry.seq.desc())
    )
    entries = db.session.scalars(history.where(AuditEntry.action != "case.view").limit(100)).all()
    view_count = db.session.scalar(
        select(func.count()).select_from(
            history.where(AuditEntry.action == "case.view").order_by(None).subquery()
        )
    )
    attachments_frozen = attachments.agenda_published(case)
    labels = DisplayLabels()
    labels.add_case(case)
    names = field_labels()
    return (
        render_template(
            "cases/detail.html",
            case=case,
            missing=completeness.missing_items(case),
            frozen=ops.is_frozen(case),
            stage_notes={t.id: stage_notes(t) for t in case.tumours},
            labels=labels.load(),
            vs=vs,
            biomarkers_for=lambda t: biomarkers.markers_for(
                biomarkers.site_for_topography(t.topography_code)
            ),
            attachment_form=attachment_form or AttachmentForm(formdata=None),
            can_withdraw=lambda a: (
                attachments.can_withdraw(current_user, a) and not attachments_frozen
            ),
            withdraw_form=lambda a: (
                withdraw[1]
                if withdraw and withdraw[0] == a.id
                else AttachmentWithdrawForm(formdata=None, prefix=f"retrait{a.id}")
            ),
            withdrawn_attachments=(
                attachments.withdrawn_attachments(case)
                if attachments.can_see_withdrawn(current_user)
                else []
            ),
            audit_entries=entries,
            audit_actions=AUDIT_ACTIONS,
            audit_summary=lambda entry: audit_summary(entry, names),
            view_count=view_count,
        ),
        status,
    )


@bp.route("/dossiers/<int:case_id>")
@shows_patient_data
@allowed("clinical")
def detail(case_id: int):
    case = _load(case_id)
    ops.record_view(case)
    return _render_detail(case)


@bp.route("/dossiers/<int:case_id>/modifier", methods=["GET", "POST"])
@shows_patient_data
@allowed("clinical")
def edit(case_id: int):
    case = _load(case_id, "edit")
    ops.check_editable(case)  # 409 page otherwise
    if request.method == "GET":
        form = CaseEditForm(data=form_data(case))
        form.version.data = str(case.version)
        return _render_form(form, case.patient, case.rcp, case)
    form = CaseEditForm()
    if _row_action(form):
        return _render_form(form, case.patient, case.rcp, case)
    if form.validate_on_submit():
        try:
            changed = ops.update_case(
                case,
                form.data_for_operation(),
                form.version.data,
                submit=request.form.get("action") == "submit",
            )
        except ops.StaleCase:
            conflict.keep_typed_values(form, case, "Ce dossier", adapt=ADAPT)
            return _render_form(
                form, case.patient, case.rcp, case, status=conflict.STATUS, context="edit_conflict"
            )
        except DomainError as error:
            show_refusal(form, error)
        else:
            if request.form.get("action") == "submit":
                flash(_submitted_message(case), "warning" if case.is_late else "success")
            else:
                flash(
                    "Dossier enregistré." if changed else "Aucune modification à enregistrer.",
                    "success" if changed else "info",
                )
            return redirect(url_for(".detail", case_id=case.id))
    return _render_form(form, case.patient, case.rcp, case)


@bp.route("/dossiers/<int:case_id>/soumettre", methods=["POST"])
@no_patient_data
@allowed("clinical")
def submit(case_id: int):
    case = _load(case_id, "edit")
    try:
        ops.submit_case(case, request.form.get("version", ""))
    except (CaseInvalid, ops.StaleCase):
        raise
    except DomainError as error:
        if error.status_code != 400:
            raise
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for(".detail", case_id=case.id))
    flash(_submitted_message(case), "warning" if case.is_late else "success")
    return redirect(url_for(".detail", case_id=case.id))


@bp.errorhandler(CaseInvalid)
def _case_invalid(error: CaseInvalid):
    """A refused submission from the case page: every reason, then back to the case."""
    db.session.rollback()
    for messages in error.errors.values():
        for message in messages:
            flash(message, "danger")
    case_id = request.view_args.get("case_id") if request.view_args else None
    if case_id is None:
        return redirect(url_for(".index"))
    return redirect(url_for(".detail", case_id=case_id))


@bp.route("/dossiers/<int:case_id>/retirer", methods=["GET", "POST"])
@shows_patient_data
@allowed("clinical")
def withdraw(case_id: int):
    case = _load(case_id, "edit")
    if request.method == "GET":
        ops.check_transition(case, "withdrawn")
        form = WithdrawForm(formdata=None)
        form.version.data = str(case.version)
        return _render_withdraw(case, form)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            ops.withdraw_case(case, form.reason.data, form.version.data)
        except DomainError as error:
            if error.field is None:
                raise
            show_refusal(form, error)
        else:
            flash(f"Dossier n° {case.id} retiré.", "success")
            return redirect(url_for(".detail", case_id=case.id))
    return _render_withdraw(case, form)


def _render_withdraw(case: Case, form):
    """The withdrawal form names the patient (a refused one too): audited."""
    ops.record_view(case, context="withdraw")
    return render_template("cases/withdraw.html", case=case, form=form)


# --- attachments -----------------------------------------------------------------------------


def _attachments_root() -> str:
    return current_app.config["RCP_ATTACHMENTS_DIR"]


@bp.route("/dossiers/<int:case_id>/pieces-jointes", methods=["POST"])
@shows_patient_data
@accepts_upload("RCP_MAX_ATTACHMENT_BYTES")
@allowed("clinical")
def attachment_upload(case_id: int):
    max_bytes = current_app.config["RCP_MAX_ATTACHMENT_BYTES"]
    upload = request.files.get("file")
    data = upload.stream.read(max_bytes + 1) if upload else b""
    # The PDF check is CPU work: done first, with no transaction (no SQLite write lock) open.
    release()
    refusal = attachments.pdf_refusal(data, max_bytes)
    case = _load(case_id, "edit")
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            attachment = attachments.add_attachment(
                case,
                data,
                upload.filename if upload else None,
                form.kind.data or "",
                current_user,
                _attachments_root(),
                max_bytes,
                refusal=refusal,
            )
        except DomainError as error:
            if error.field is None:
                raise
            show_refusal(form, error)
        else:
            # The file is on disk already: if the request's transaction does not commit, no
            # row will ever point at it.
            root = _attachments_root()
            on_rollback(lambda: attachments.discard(root, attachment))
            flash(f"Pièce jointe « {attachment.original_name} » ajoutée.", "success")
            return redirect(url_for(".detail", case_id=case.id, _anchor="pieces-jointes"))
    ops.record_view(case, context="attachment_refused")
    return _render_detail(case, attachment_form=form)


@bp.route("/dossiers/<int:case_id>/pieces-jointes/<int:attachment_id>")
@shows_patient_data
@allowed("clinical")
def attachment_download(case_id: int, attachment_id: int):
    case = _load(case_id)
    attachment = _load_attachment(case, attachment_id)
    if attachment.withdrawn_at is not None and not attachments.can_see_withdrawn(current_user):
        return render_error(
            404,
            "Cette pièce jointe a été retirée du dossier : elle n'est plus transmise. "
            "Adressez-vous au secrétariat de la RCP si vous en avez besoin.",
        )
    try:
        data = attachments.read_for_download(case, attachment, _attachments_root())
    except attachments.AttachmentDamaged as damaged:
        keep_despite_error()  # the integrity_failed audit row
        return render_error(damaged.status_code, damaged.message)
    response = send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=attachment.original_name,
        max_age=0,
        etag=False,
        conditional=False,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/dossiers/<int:case_id>/pieces-jointes/<int:attachment_id>/retirer", methods=["POST"])
@shows_patient_data
@allowed("clinical")
def attachment_withdraw(case_id: int, attachment_id: int):
    case = _load(case_id, "edit")
    attachment = _load_attachment(case, attachment_id)
    form = AttachmentWithdrawForm(prefix=f"retrait{attachment.id}")
    if form.validate_on_submit():
        try:
            attachments.withdraw_attachment(case, attachment, current_user, form.reason.data)
        except DomainError as error:
            if error.field is None:
                raise  # 403 (not the uploader) or 409 (already withdrawn, agenda published)
            show_refusal(form, error)
        else:
            flash(f"Pièce jointe « {attachment.original_name} » retirée du dossier.", "success")
            return redirect(url_for(".detail", case_id=case.id, _anchor="pieces-jointes"))
    db.session.rollback()
    ops.record_view(case, context="attachment_withdraw_refused")
    return _render_detail(case, withdraw=(attachment.id, form))


# --- an RCP's minimum data set ---------------------------------------------------------------


@bp.route("/annuaire/rcp/<int:rcp_id>/donnees-minimales", methods=["GET", "POST"])
@no_patient_data
@allowed("directory.edit")
def rcp_required_items(rcp_id: int):
    rcp = db.get_or_404(Rcp, rcp_id)
    require("configure", rcp)
    form = RequiredItemsForm()
    if form.validate_on_submit():
        try:
            ops.set_required_items(rcp, form.items.data or [], bool(form.use_defaults.data))
        except DomainError as error:
            show_refusal(form, error)
        else:
            flash("Données minimales de la RCP enregistrées.", "success")
            return redirect(url_for(".rcp_required_items", rcp_id=rcp.id))
    configured = completeness.configured_items([rcp.id]).get(rcp.id)
    return render_template(
        "cases/required_items.html",
        rcp=rcp,
        form=form,
        items=completeness.ITEMS,
        selected=set(completeness.required_items(rcp)),
        uses_defaults=not configured,
    )
