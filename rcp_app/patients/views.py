"""Patient pages: search, create, view, edit (coordinators and physicians)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..access.care_team import record_ids_among
from ..access.guards import allowed, require
from ..core import conflict
from ..core.errors import Conflict, DomainError
from ..core.forms import show_refusal
from ..core.pagination import parse_page
from ..core.patient_data import shows_patient_data
from ..extensions import db
from . import operations as ops
from .forms import PatientEditForm, PatientForm, PatientSearchForm
from .models import Patient

bp = Blueprint("patients", __name__)


def _load(patient_id: int) -> Patient:
    return db.get_or_404(Patient, patient_id)


@bp.route("/patients")
@shows_patient_data
@allowed("clinical")
def index():
    form = PatientSearchForm(request.args)
    page = None
    if form.validate():
        page = ops.search_patients(
            form.q.data or "",
            form.parsed_birth_date(),
            parse_page(request.args.get("page")),
            current_app.config["RCP_PAGE_SIZE"],
            current_user,
        )
    searched = bool((form.q.data or "").strip() or (form.birth_date.data or "").strip())
    # Outside the care team a search shows the identity only: the page links to the record
    # only where the user may open it.
    openable = record_ids_among(current_user, [p.id for p in page.items]) if page else set()
    return render_template(
        "patients/index.html", form=form, page=page, searched=searched, openable=openable
    )


@bp.route("/patients/nouveau", methods=["GET", "POST"])
@shows_patient_data(methods=("POST",))  # a refusal naming the patient who has this INS
@allowed("clinical")
def new():
    form = PatientForm()
    if form.validate_on_submit():
        try:
            patient = ops.create_patient(form.identity_data())
        except DomainError as error:
            show_refusal(form, error)
            ops.record_duplicate_shown(error)
        else:
            flash(f"Patient {patient.display_name} enregistré.", "success")
            return redirect(url_for("patients.detail", patient_id=patient.id))
    return render_template("patients/form.html", form=form, patient=None)


@bp.route("/patients/<int:patient_id>")
@shows_patient_data
@allowed("clinical")
def detail(patient_id: int):
    patient = _load(patient_id)
    require("view", patient)
    ops.record_view(patient)
    return render_template("patients/detail.html", patient=patient)


@bp.route("/patients/<int:patient_id>/modifier", methods=["GET", "POST"])
@shows_patient_data
@allowed("clinical")
def edit(patient_id: int):
    patient = _load(patient_id)
    require("edit", patient)
    context = "edit"
    form = PatientEditForm(obj=patient) if request.method == "GET" else PatientEditForm()
    if form.validate_on_submit():
        try:
            changed = ops.update_patient(patient, form.identity_data(), form.expected_version())
        except Conflict:
            conflict.keep_typed_values(form, patient, "Ce dossier patient")
            context = "edit_conflict"  # the stored values are shown
        except DomainError as error:
            show_refusal(form, error)
            ops.record_duplicate_shown(error)
        else:
            flash(
                "Identité mise à jour." if changed else "Aucune modification à enregistrer.",
                "success" if changed else "info",
            )
            return redirect(url_for("patients.detail", patient_id=patient.id))
    # The form shows the patient's identity (a refused edit too): audited.
    ops.record_view(patient, context=context)
    return render_template("patients/form.html", form=form, patient=patient), conflict.status(form)
