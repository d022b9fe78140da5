"""The data-protection officer's pages: the audit log with identities, and for one patient the
list of who opened their record (with its CSV export, for the patient who asks).

The dpo sees identities and who did what, never clinical content: no link leads to a case, a
decision or a fiche, and the rows' free texts stay masked (admin/audit_query.details_text).
Each page is audited, naming the patients it shows.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request

from ..access.guards import allowed
from ..admin import audit_query
from ..auth.models import ROLE_LABELS
from ..core import audit
from ..core.pagination import paginate, parse_page
from ..core.patient_data import shows_patient_data
from ..extensions import db
from ..patients import operations as patient_ops
from ..patients.forms import PatientSearchForm
from ..patients.models import Patient
from . import export, queries
from .labels import action_label

bp = Blueprint("privacy", __name__, url_prefix="/protection-des-donnees")


def _page_size() -> int:
    return current_app.config["RCP_PAGE_SIZE"]


@bp.route("/journal")
@shows_patient_data
@allowed("privacy")
def audit_log():
    form, page = audit_query.filtered_page(
        request.args, parse_page(request.args.get("page")), _page_size()
    )
    shown = queries.entries_patients(page.items)
    audit.record("privacy.audit_log", details={"page": page.page, "patients": shown})
    return render_template(
        "privacy/audit_log.html",
        form=form,
        page=page,
        patients=queries.patients_by_id(shown),
        users=queries.users_by_id(entry.user_id for entry in page.items),
        role_labels=ROLE_LABELS,
        action_label=action_label,
        patient_refs=audit_query.patient_refs,
        # Free texts and clinical values of a patient's rows stay masked for the dpo.
        details_text=lambda entry: audit_query.details_text(entry, clinical_content=False),
    )


@bp.route("/patients")
@shows_patient_data
@allowed("privacy")
def patients():
    form = PatientSearchForm(request.args)
    searched = bool((form.q.data or "").strip() or (form.birth_date.data or "").strip())
    page = None
    # Only a search lists patients (the dpo has no « recent patients »): it is audited.
    if searched and form.validate():
        page = patient_ops.search_patients(
            form.q.data or "",
            form.parsed_birth_date(),
            parse_page(request.args.get("page")),
            _page_size(),
        )
    return render_template("privacy/patients.html", form=form, page=page, searched=searched)


def _accesses_context(patient: Patient) -> dict:
    page = paginate(
        queries.patient_accesses_statement(patient.id),
        parse_page(request.args.get("page")),
        _page_size(),
    )
    return {
        "patient": patient,
        "page": page,
        "users": queries.users_by_id(entry.user_id for entry in page.items),
        "role_labels": ROLE_LABELS,
        "action_label": action_label,
    }


@bp.route("/patients/<int:patient_id>/acces")
@shows_patient_data
@allowed("privacy")
def patient_accesses(patient_id: int):
    patient = db.get_or_404(Patient, patient_id)
    context = _accesses_context(patient)
    audit.record(
        "privacy.patient_accesses",
        "patient",
        patient.id,
        patient_id=patient.id,
        details={"page": context["page"].page},
    )
    return render_template("privacy/patient_accesses.html", **context)


@bp.route("/patients/<int:patient_id>/acces.csv")
@shows_patient_data
@allowed("privacy")
def patient_accesses_csv(patient_id: int):
    patient = db.get_or_404(Patient, patient_id)
    entries = db.session.scalars(queries.patient_accesses_statement(patient.id)).all()
    users = queries.users_by_id(entry.user_id for entry in entries)
    body = export.accesses_csv(
        [export.row_values(e, users.get(e.user_id), ROLE_LABELS) for e in entries]
    )
    audit.record(
        "privacy.patient_accesses_export",
        "patient",
        patient.id,
        patient_id=patient.id,
        details={"rows": len(entries)},
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="acces-dossier-patient-{patient.id}.csv"'
        },
    )
