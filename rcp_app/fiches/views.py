"""Fiche pages: a session's fiches and their validation, one fiche's versions and documents,
amendments, and the public verification page (no login)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..access.guards import allowed, require
from ..agenda import operations as agenda
from ..auth.session import client_ip
from ..core.errors import DomainError
from ..core.patient_data import no_patient_data, shows_patient_data
from ..core.transactions import commit_phase, release
from ..core.uploads import accepts_upload
from ..decisions import operations as decisions
from ..decisions.forms import CsrfForm, choices
from ..extensions import db
from ..meetings.models import AgendaItem, MeetingSession
from . import operations as ops
from . import signing_flow, verification
from .models import Fiche, FicheVersion
from .pdf import render_pdf
from .signature.bounded import check_signature

bp = Blueprint("fiches", __name__)
FILE_NAMES = {
    "pdf": "fiche-rcp-{set_id}-v{version}.pdf",
    "cda": "fiche-rcp-{set_id}-v{version}.xml",
}


# The case page (cases/detail.html) and the meeting page (decisions/meeting.html) link to the
# signed fiche: cases and decisions sit below this package and call these without importing it.
@bp.app_template_global("signed_fiche")
def signed_fiche(case_id: int) -> Fiche | None:
    """The case's signed fiche (one per decision, one decision per case), or None."""
    return db.session.scalar(select(Fiche).where(Fiche.case_id == case_id))


@bp.app_template_global("may_amend_fiche")
def may_amend_fiche(rcp) -> bool:
    """Whether the current user may amend the RCP's fiches (its coordinator or a delegate)."""
    return ops.can_validate(current_user, rcp)


def _session(session_id: int) -> MeetingSession:
    session = db.get_or_404(MeetingSession, session_id, options=[joinedload(MeetingSession.rcp)])
    require("view", session)
    return session


def _fiche(fiche_id: int) -> Fiche:
    fiche = db.get_or_404(
        Fiche,
        fiche_id,
        options=[selectinload(Fiche.versions).selectinload(FicheVersion.validated_by)],
    )
    require("view", fiche)
    return fiche


def _item(session: MeetingSession, item_id: int) -> AgendaItem:
    item = db.get_or_404(AgendaItem, item_id)
    if item.session_id != session.id:
        abort(404)
    require("view", item)
    return item


@bp.route("/seances/<int:session_id>/fiches")
@shows_patient_data
@allowed("clinical")
def session_fiches(session_id: int):
    session = _session(session_id)
    shown = agenda.visible_agenda(agenda.agenda_items(session), current_user)
    items = shown.items
    page = render_template(
        "fiches/session.html",
        session=session,
        items=items,
        hidden=shown.hidden,
        hidden_objections=shown.hidden_objections,
        decisions=decisions.decisions_for(items),
        fiches=ops.fiches_of_session(session),
        can_validate=ops.can_validate(current_user, session.rcp),
        form=CsrfForm(),
    )
    ops.record_session_view(session, items)
    return page


@bp.route("/seances/<int:session_id>/fiches/<int:item_id>/valider", methods=["POST"])
@no_patient_data
@allowed("fiches.validate")
def validate(session_id: int, item_id: int):
    """One fiche. Answers JSON to the batch page's script (it signs the ready fiches one by one
    and shows the progress), a redirect otherwise."""
    session = _session(session_id)
    item = _item(session, item_id)
    wants_json = request.accept_mimetypes.best == "application/json"
    try:
        version = signing_flow.validate(item.id, current_user)
    except DomainError as refused:
        db.session.rollback()
        if wants_json:
            return jsonify(ok=False, message=refused.message), refused.status_code
        if not isinstance(refused, ops.IncompleteFiche):
            raise
        flash(refused.message, "danger")
        return redirect(url_for(".session_fiches", session_id=session_id))
    if wants_json:
        return jsonify(ok=True, code=version.verification_code)
    flash(f"Fiche validée et signée (version 1, code {version.verification_code}).", "success")
    return redirect(url_for(".detail", fiche_id=version.fiche_id))


@bp.route("/seances/<int:session_id>/fiches/valider", methods=["POST"])
@no_patient_data
@allowed("fiches.validate")
def validate_all(session_id: int):
    session = _session(session_id)
    result = signing_flow.validate_ready(session.id, current_user)
    if result.signed:
        flash(f"{len(result.signed)} fiche(s) validée(s) et signée(s).", "success")
    elif not (result.skipped or result.conflicts):
        flash("Aucune décision prête n'attend de validation.", "info")
    for position, patient, missing in result.skipped:
        flash(
            f"Dossier n° {position} ({patient}) non validé : il manque {', '.join(missing)}.",
            "danger",
        )
    for position, patient, why in result.conflicts:
        flash(f"Dossier n° {position} ({patient}) non validé : {why}", "warning")
    return redirect(url_for(".session_fiches", session_id=session_id))


@bp.route("/seances/<int:session_id>/fiches/<int:item_id>/apercu.pdf")
@shows_patient_data
@allowed("clinical")
def preview(session_id: int, item_id: int):
    session = _session(session_id)
    item = _item(session, item_id)
    frozen = ops.preview_snapshot(item, current_user)
    case_id = item.case_id
    commit_phase()  # the audit row of this view; nothing is held while rendering
    release()
    return Response(
        render_pdf(frozen, None),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="apercu-fiche-{case_id}.pdf"'},
    )


def _next_to_sign(item: AgendaItem) -> AgendaItem | None:
    """The session's next decision ready for validation after this one in agenda order (else
    the first before it), for a user who may sign the session's fiches."""
    if item.session.status not in ops.VALIDATION_STATUSES:
        return None
    ready = ops.ready_items(item.session)
    later = [i for i in ready if i.position > item.position]
    return (later or ready or [None])[0]


@bp.route("/fiches/<int:fiche_id>")
@shows_patient_data
@allowed("clinical")
def detail(fiche_id: int):
    fiche = _fiche(fiche_id)
    item = ops.item_of(fiche)
    can_validate = ops.can_validate(current_user, item.session.rcp)
    page = render_template(
        "fiches/detail.html",
        fiche=fiche,
        item=item,
        current=next(v for v in fiche.versions if v.version == fiche.current_version),
        can_amend=can_validate,
        next_to_sign=_next_to_sign(item) if can_validate else None,
        transmissions=ops.transmissions_of(fiche),
    )
    ops.record_view(fiche)
    return page


def document_response(fiche: Fiche, row: FicheVersion, kind: str) -> Response:
    """A stored document as an attachment, its digest checked and the download audited (the
    clinical pages and the GP's inbox both serve fiches this way)."""
    document = ops.load_document(row, kind)
    ops.record_download(row, kind)
    name = FILE_NAMES[kind].format(set_id=fiche.set_id, version=row.version)
    return Response(
        document.content,
        mimetype=document.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _download(fiche_id: int, version: int, kind: str) -> Response:
    fiche = _fiche(fiche_id)
    row = next((v for v in fiche.versions if v.version == version), None)
    if row is None:
        abort(404)
    return document_response(fiche, row, kind)


@bp.route("/fiches/<int:fiche_id>/v<int:version>.pdf")
@shows_patient_data
@allowed("clinical")
def download_pdf(fiche_id: int, version: int):
    return _download(fiche_id, version, "pdf")


@bp.route("/fiches/<int:fiche_id>/v<int:version>.xml")
@shows_patient_data
@allowed("clinical")
def download_cda(fiche_id: int, version: int):
    return _download(fiche_id, version, "cda")


@bp.route("/fiches/<int:fiche_id>/avenant", methods=["GET", "POST"])
@shows_patient_data
@allowed("fiches.validate")
def amend(fiche_id: int):
    fiche = _fiche(fiche_id)
    item = ops.item_of(fiche)
    ops.check_can_validate(current_user, item.session.rcp)
    form = CsrfForm()
    values = decisions.as_dict(fiche.decision)
    error = None
    if request.method == "POST":
        values = request.form.to_dict()
        try:
            version = signing_flow.amend(
                fiche.id,
                current_user,
                values,
                values.get("reason"),
                values.get("expected_version"),
            )
        except DomainError as refused:
            db.session.rollback()
            if refused.status_code != 400:  # 403, 409: the error page
                raise
            error = refused
            fiche = _fiche(fiche_id)
        else:
            flash(
                f"Avenant signé : version {version.version} (code {version.verification_code}). "
                "La version précédente est conservée et marquée remplacée.",
                "success",
            )
            return redirect(url_for(".detail", fiche_id=fiche.id))
    # The form shows the fiche and its patient (a refused amendment too): audited.
    ops.record_view(fiche, context="amend")
    return render_template(
        "fiches/amend.html",
        fiche=fiche,
        item=item,
        values=values,
        error=error,
        choices=choices(),
        form=form,
    ), (200 if error is None else 400)


# --- public verification ---------------------------------------------------------------------


@bp.route("/verifier", methods=["GET", "POST"])
@no_patient_data
@accepts_upload("RCP_VERIFY_MAX_BYTES")
def verify():
    """Public. Each step holds the database only for a few queries: the attempt is counted (and,
    before a file is checked, committed), the file is checked in a bounded child process with no
    transaction open, then the verdict is looked up and recorded."""
    form = CsrfForm()
    code = request.values.get("code", "")
    if request.method != "POST" and not code:
        return render_template("fiches/verify.html", form=form, verdict=None, code=code)
    upload = request.files.get("document") if request.method == "POST" else None
    checked = "pdf" if upload is not None and upload.filename else "code"
    if verification.attempts_in_last_hour(client_ip()) >= _limit():
        db.session.rollback()
        return render_template("fiches/verify.html", form=form, limited=True), 429
    verification.record_attempt(checked)
    if checked == "pdf":
        data = upload.read()
        commit_phase()
        release()
        report = check_signature(data)  # CPU, in a child process, no transaction held
        verdict = verification.describe_document(data, report)
    else:
        verdict = verification.verify_code(code)
    verification.record_result(verdict)
    return render_template("fiches/verify.html", form=form, verdict=verdict, code=code)


def _limit() -> int:
    return current_app.config["RCP_VERIFY_MAX_PER_HOUR"]
