"""Fiche pages: a session's fiches and their validation, one fiche's versions and documents,
amendments, and the public verification page (no login)."""

from __future__ import annotations

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
from sqlalchemy.orm import joinedload, selectinload

from ..auth.session import client_ip
from ..core.errors import DomainError
from ..core.permissions import roles_required
from ..decisions import operations as decisions
from ..decisions.forms import CsrfForm, choices
from ..extensions import db
from ..meetings import agenda
from ..meetings.models import AgendaItem, MeetingSession
from . import operations as ops
from . import verification
from .models import Fiche, FicheVersion

bp = Blueprint("fiches", __name__)
ROLES = ("coordinator", "physician")
FILE_NAMES = {
    "pdf": "fiche-rcp-{set_id}-v{version}.pdf",
    "cda": "fiche-rcp-{set_id}-v{version}.xml",
}


def _session(session_id: int) -> MeetingSession:
    session = db.session.get(MeetingSession, session_id, options=[joinedload(MeetingSession.rcp)])
    if session is None:
        abort(404)
    return session


def _fiche(fiche_id: int) -> Fiche:
    fiche = db.session.get(
        Fiche,
        fiche_id,
        options=[selectinload(Fiche.versions).selectinload(FicheVersion.validated_by)],
    )
    if fiche is None:
        abort(404)
    return fiche


def _item(session: MeetingSession, item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None or item.session_id != session.id:
        abort(404)
    return item


@bp.route("/seances/<int:session_id>/fiches")
@roles_required(*ROLES)
def session_fiches(session_id: int):
    session = _session(session_id)
    items = agenda.agenda_items(session)
    page = render_template(
        "fiches/session.html",
        session=session,
        items=items,
        decisions=decisions.decisions_for(items),
        fiches=ops.fiches_of_session(session),
        can_validate=ops.can_validate(current_user, session.rcp),
        form=CsrfForm(),
    )
    ops.record_session_view(session, items)
    db.session.commit()
    return page


@bp.route("/seances/<int:session_id>/fiches/<int:item_id>/valider", methods=["POST"])
@roles_required("physician")
def validate(session_id: int, item_id: int):
    session = _session(session_id)
    item = _item(session, item_id)
    try:
        version = ops.validate(item, current_user)
    except ops.IncompleteFiche as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for(".session_fiches", session_id=session_id))
    db.session.commit()
    flash(f"Fiche validée et signée (version 1, code {version.verification_code}).", "success")
    return redirect(url_for(".detail", fiche_id=version.fiche_id))


@bp.route("/seances/<int:session_id>/fiches/valider", methods=["POST"])
@roles_required("physician")
def validate_all(session_id: int):
    session = _session(session_id)
    versions, skipped = ops.validate_ready(session, current_user)
    db.session.commit()
    if versions:
        flash(f"{len(versions)} fiche(s) validée(s) et signée(s).", "success")
    elif not skipped:
        flash("Aucune décision prête n'attend de validation.", "info")
    for item, missing in skipped:
        flash(
            f"Dossier n° {item.position} ({item.case.patient.display_name}) non validé : il "
            f"manque {', '.join(missing)}.",
            "danger",
        )
    return redirect(url_for(".session_fiches", session_id=session_id))


@bp.route("/seances/<int:session_id>/fiches/<int:item_id>/apercu.pdf")
@roles_required(*ROLES)
def preview(session_id: int, item_id: int):
    session = _session(session_id)
    item = _item(session, item_id)
    data = ops.preview_pdf(item, current_user)
    db.session.commit()  # the audit row of this view
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="apercu-fiche-{item.case_id}.pdf"'},
    )


@bp.route("/fiches/<int:fiche_id>")
@roles_required(*ROLES)
def detail(fiche_id: int):
    fiche = _fiche(fiche_id)
    item = ops.item_of(fiche)
    page = render_template(
        "fiches/detail.html",
        fiche=fiche,
        item=item,
        current=next(v for v in fiche.versions if v.version == fiche.current_version),
        can_amend=ops.can_validate(current_user, item.session.rcp),
        transmissions=ops.transmissions_of(fiche),
    )
    ops.record_view(fiche)
    db.session.commit()
    return page


def document_response(fiche: Fiche, row: FicheVersion, kind: str) -> Response:
    """A stored document as an attachment, its digest checked and the download audited (the
    clinical pages and the GP's inbox both serve fiches this way)."""
    document = ops.load_document(row, kind)
    ops.record_download(row, kind)
    db.session.commit()
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
@roles_required(*ROLES)
def download_pdf(fiche_id: int, version: int):
    return _download(fiche_id, version, "pdf")


@bp.route("/fiches/<int:fiche_id>/v<int:version>.xml")
@roles_required(*ROLES)
def download_cda(fiche_id: int, version: int):
    return _download(fiche_id, version, "cda")


@bp.route("/fiches/<int:fiche_id>/avenant", methods=["GET", "POST"])
@roles_required("physician")
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
            version = ops.amend(
                fiche, current_user, values, values.get("reason"), values.get("expected_version")
            )
        except DomainError as refused:
            db.session.rollback()
            if refused.status_code != 400:  # 403, 409: the error page
                raise
            error = refused
            fiche = _fiche(fiche_id)
        else:
            db.session.commit()
            flash(
                f"Avenant signé : version {version.version} (code {version.verification_code}). "
                "La version précédente est conservée et marquée remplacée.",
                "success",
            )
            return redirect(url_for(".detail", fiche_id=fiche.id))
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
def verify():
    form = CsrfForm()
    verdict = None
    code = request.values.get("code", "")
    wants_check = request.method == "POST" or bool(code)
    if wants_check:
        if verification.attempts_in_last_hour(client_ip()) >= _limit():
            return render_template("fiches/verify.html", form=form, limited=True), 429
        upload = request.files.get("document") if request.method == "POST" else None
        if upload is not None and upload.filename:
            verdict = verification.verify_document(upload.read())
        else:
            verdict = verification.verify_code(code)
        verification.record_attempt(verdict)
        db.session.commit()
    return render_template("fiches/verify.html", form=form, verdict=verdict, code=code)


def _limit() -> int:
    return current_app.config["RCP_VERIFY_MAX_PER_HOUR"]
