"""Attendance page of a session: who is present, the live quorum, per case too.

Coordinators and the RCP's coordinating physician record; other physicians may view.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import care_team
from ..access.guards import allowed, require
from ..core.errors import DomainError
from ..core.forms import show_refusal
from ..core.patient_data import no_patient_data, shows_patient_data
from ..extensions import db
from ..meetings.models import MeetingSession
from ..terminology.builtin import SPECIALTY
from ..terminology.models import concept_choices
from . import operations as ops
from .forms import AttendanceForm, CaseSpecialtyForm
from .models import Attendance

bp = Blueprint("attendance", __name__)


def _session(session_id: int) -> MeetingSession:
    session = db.get_or_404(MeetingSession, session_id)
    require("view", session)
    return session


def _attendance(session: MeetingSession, attendance_id: int) -> Attendance:
    attendance = db.get_or_404(Attendance, attendance_id)
    if attendance.session_id != session.id:
        abort(404)
    return attendance


def _case(session: MeetingSession, case_id: int):
    from ..cases.models import Case

    case = db.get_or_404(Case, case_id)
    if case.id not in {c.id for c in ops.session_cases(session)}:
        abort(404)
    require("view", case)
    return case


def _visible(cases: list) -> list:
    """The session's cases whose patients the user may see (rcp_app/access)."""
    shown = care_team.case_ids_among(current_user, [c.id for c in cases])
    return [c for c in cases if c.id in shown]


def _back(session: MeetingSession, anchor: str | None = None):
    return redirect(url_for(".page", session_id=session.id, _anchor=anchor))


def _render(session: MeetingSession, form: AttendanceForm | None = None):
    labels = ops.specialty_labels()
    attendances = ops.session_attendances(session)
    attendees = ops.attendees_of(attendances)
    cases = _visible(ops.session_cases(session))
    extras = ops.case_specialties([c.id for c in cases])
    if form is None:
        form = AttendanceForm(formdata=None)
    form.set_choices(
        ops.active_professionals(), labels, present={a.professional_id for a in attendances}
    )
    specialty_choices = concept_choices(SPECIALTY)
    case_forms = {}
    for case in cases:
        case_form = CaseSpecialtyForm(formdata=None, prefix=f"case{case.id}")
        case_form.set_choices(specialty_choices)
        case_forms[case.id] = case_form
    ops.record_page_view(session, cases)
    return render_template(
        "attendance/page.html",
        session=session,
        rcp=session.rcp,
        attendances=attendances,
        labels=labels,
        form=form,
        session_quorum=ops.quorum_of(session.rcp, attendees, (), labels),
        cases=cases,
        extras=extras,
        case_quorums={
            c.id: ops.quorum_of(session.rcp, attendees, extras[c.id], labels) for c in cases
        },
        case_forms=case_forms,
        can_manage=ops.can_manage(current_user, session.rcp),
    )


@bp.route("/seances/<int:session_id>/presences", methods=["GET"])
@shows_patient_data
@allowed("meetings.view")
def page(session_id: int):
    return _render(_session(session_id))


@bp.route("/seances/<int:session_id>/emargement")
@no_patient_data  # cases by agenda position and number only: the sheet goes round the room
@allowed("meetings.view")
def sheet(session_id: int):
    """The attendance sheet (« feuille d'émargement ») to print and sign: an HTML page with a
    print style sheet, printed (or saved as PDF) by the browser."""
    session = _session(session_id)
    labels = ops.specialty_labels()
    attendances = ops.session_attendances(session)
    attendees = ops.attendees_of(attendances)
    cases = ops.session_cases(session)
    extras = ops.case_specialties([c.id for c in cases])
    return render_template(
        "attendance/sheet.html",
        session=session,
        rcp=session.rcp,
        rows=ops.sheet_rows(session, attendances),
        labels=labels,
        session_quorum=ops.quorum_of(session.rcp, attendees, (), labels),
        cases=cases,
        extras=extras,
        case_quorums={
            c.id: ops.quorum_of(session.rcp, attendees, extras[c.id], labels) for c in cases
        },
    )


@bp.route("/seances/<int:session_id>/presences", methods=["POST"])
@shows_patient_data
@allowed("meetings.view")
def add(session_id: int):
    session = _session(session_id)
    ops.check_can_manage(current_user, session.rcp)  # 403 before reading the form
    form = AttendanceForm()
    if form.validate_on_submit():
        try:
            attendance = ops.record_attendance(
                session,
                current_user,
                form.professional_id.data,
                form.mode.data,
                bool(form.quorum_member.data),
            )
        except DomainError as error:
            if error.status_code != 400:
                raise
            show_refusal(form, error)
        else:
            name = attendance.professional.display_name
            flash(f"Présence de {name} enregistrée.", "success")
            return _back(session, "presents")
    return _render(session, form)


def _small_action(session: MeetingSession, action, success: str, anchor: str = "presents"):
    """Run one small operation from a button; refused → French message, nothing changed."""
    ops.check_can_manage(current_user, session.rcp)
    try:
        changed = action()
    except DomainError as error:
        if error.status_code not in (400, 409):
            raise
        db.session.rollback()
        flash(error.message, "danger")
        return _back(session, anchor)
    flash(
        success if changed is not False else "Aucune modification.",
        "success" if changed is not False else "info",
    )
    return _back(session, anchor)


@bp.route("/seances/<int:session_id>/presences/<int:attendance_id>/mode", methods=["POST"])
@no_patient_data
@allowed("meetings.view")
def set_mode(session_id: int, attendance_id: int):
    session = _session(session_id)
    attendance = _attendance(session, attendance_id)
    return _small_action(
        session,
        lambda: ops.set_mode(attendance, session, current_user, request.form.get("mode")),
        "Mode de présence modifié.",
    )


@bp.route("/seances/<int:session_id>/presences/<int:attendance_id>/quorum", methods=["POST"])
@no_patient_data
@allowed("meetings.view")
def set_quorum_member(session_id: int, attendance_id: int):
    session = _session(session_id)
    attendance = _attendance(session, attendance_id)
    member = {"1": True, "0": False}.get(request.form.get("member", ""))
    return _small_action(
        session,
        lambda: ops.set_quorum_member(attendance, session, current_user, member),
        "Participation au quorum modifiée.",
    )


@bp.route("/seances/<int:session_id>/presences/<int:attendance_id>/depart", methods=["POST"])
@no_patient_data
@allowed("meetings.view")
def depart(session_id: int, attendance_id: int):
    session = _session(session_id)
    attendance = _attendance(session, attendance_id)
    return _small_action(
        session,
        lambda: ops.mark_departure(attendance, session, current_user),
        "Départ enregistré : ce participant ne compte plus dans le quorum.",
    )


@bp.route("/seances/<int:session_id>/presences/<int:attendance_id>/supprimer", methods=["POST"])
@no_patient_data
@allowed("meetings.view")
def remove(session_id: int, attendance_id: int):
    session = _session(session_id)
    attendance = _attendance(session, attendance_id)
    return _small_action(
        session,
        lambda: ops.remove_attendance(attendance, session, current_user),
        "Présence supprimée.",
    )


@bp.route("/seances/<int:session_id>/dossiers/<int:case_id>/specialites", methods=["POST"])
@no_patient_data
@allowed("meetings.view")
def case_specialty_add(session_id: int, case_id: int):
    session = _session(session_id)
    case = _case(session, case_id)
    code = request.form.get(f"case{case.id}-specialty_code") or request.form.get("specialty_code")
    return _small_action(
        session,
        lambda: ops.add_case_specialty(case, current_user, code),
        f"Spécialité exigée ajoutée au dossier n° {case.id}.",
        anchor=f"dossier-{case.id}",
    )


@bp.route("/seances/<int:session_id>/dossiers/<int:case_id>/specialites/retirer", methods=["POST"])
@no_patient_data
@allowed("meetings.view")
def case_specialty_remove(session_id: int, case_id: int):
    session = _session(session_id)
    case = _case(session, case_id)
    return _small_action(
        session,
        lambda: ops.remove_case_specialty(case, current_user, request.form.get("specialty_code")),
        f"Spécialité exigée retirée du dossier n° {case.id}.",
        anchor=f"dossier-{case.id}",
    )
