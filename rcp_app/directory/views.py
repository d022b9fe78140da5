"""Directory pages: establishments (admin), professionals and RCPs (admin, coordinator)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from ..access.guards import allowed, require
from ..core import conflict
from ..core.errors import Conflict, DomainError
from ..core.forms import show_refusal
from ..core.pagination import paginate, parse_page
from ..core.patient_data import no_patient_data
from ..core.text import search_key
from ..extensions import db
from ..terminology.builtin import APPAREIL, SPECIALTY, TRANSVERSAL_THEME
from ..terminology.models import Concept
from . import operations as ops
from .forms import (
    EstablishmentForm,
    ProfessionalFilterForm,
    ProfessionalForm,
    RcpFilterForm,
    RcpForm,
)
from .models import (
    FACILITY_TYPES,
    Establishment,
    Professional,
    Rcp,
    facility_type_choices,
    quorum_rule_label,
)

bp = Blueprint("directory", __name__)

PER_PAGE = 25


def _labels(value_set: str) -> dict[str, str]:
    """Code -> label for a value set, retired concepts included (old rows still show)."""
    rows = db.session.execute(
        select(Concept.code, Concept.label).where(Concept.value_set == value_set)
    )
    return dict(rows.all())


def _load_establishment(establishment_id: int) -> Establishment:
    return db.get_or_404(Establishment, establishment_id)


def _load_professional(professional_id: int) -> Professional:
    return db.get_or_404(Professional, professional_id)


def _load_rcp(rcp_id: int) -> Rcp:
    return db.get_or_404(Rcp, rcp_id)


# How the conflict banner names each edited object: (subject, feminine).
_SUBJECTS = {
    Establishment: ("Cet établissement", False),
    Professional: ("La fiche de ce professionnel", True),
    Rcp: ("Cette RCP", True),
}


def _submit(form, operation, *args, **kwargs):
    """Run one operation with the form's values; None when it was refused.

    A refusal is attached to its form field and nothing is saved. A version conflict on an
    update (``args[0]`` is the edited object) keeps the typed values and notes the stored ones:
    render the form with ``conflict.status(form)``.
    """
    values = {
        name: field.data
        for name, field in form._fields.items()
        if name not in ("csrf_token", "version")
    }
    try:
        result = operation(*args, **values, **kwargs)
    except Conflict:
        if not args or type(args[0]) not in _SUBJECTS:
            raise
        subject, feminine = _SUBJECTS[type(args[0])]
        conflict.keep_typed_values(form, args[0], subject, feminine=feminine)
        return None
    except DomainError as error:
        show_refusal(form, error)
        return None
    return result


# --- establishments ------------------------------------------------------------------------


@bp.route("/annuaire/etablissements")
@no_patient_data
@allowed("directory.admin")
def establishments():
    stmt = select(Establishment).order_by(Establishment.name)
    page = paginate(stmt, parse_page(request.args.get("page")), PER_PAGE)
    return render_template(
        "directory/establishments.html",
        page=page,
        facility_types={**FACILITY_TYPES, **dict(facility_type_choices())},
    )


@bp.route("/annuaire/etablissements/nouveau", methods=["GET", "POST"])
@no_patient_data
@allowed("directory.admin")
def establishment_new():
    form = EstablishmentForm()
    if form.validate_on_submit():
        establishment = _submit(form, ops.create_establishment)
        if establishment is not None:
            flash(f"Établissement « {establishment.name} » créé.", "success")
            return redirect(url_for(".establishments"))
    return render_template("directory/establishment_form.html", form=form, establishment=None)


@bp.route("/annuaire/etablissements/<int:establishment_id>/modifier", methods=["GET", "POST"])
@no_patient_data
@allowed("directory.admin")
def establishment_edit(establishment_id: int):
    establishment = _load_establishment(establishment_id)
    form = EstablishmentForm(obj=establishment, current=establishment)
    if (
        form.validate_on_submit()
        and _submit(form, ops.update_establishment, establishment, version=form.version.data)
        is not None
    ):
        flash(f"Établissement « {establishment.name} » enregistré.", "success")
        return redirect(url_for(".establishments"))
    return render_template(
        "directory/establishment_form.html", form=form, establishment=establishment
    ), conflict.status(form)


# --- professionals -------------------------------------------------------------------------


@bp.route("/annuaire/professionnels")
@no_patient_data
@allowed("directory.edit")
def professionals():
    filters = ProfessionalFilterForm(formdata=request.args)
    filters.validate()
    stmt = select(Professional).order_by(
        Professional.last_name_key, Professional.first_name, Professional.id
    )
    key = search_key(filters.value("q"))
    if key:
        stmt = stmt.where(Professional.last_name_key.startswith(key, autoescape=True))
    if filters.value("specialty"):
        stmt = stmt.where(Professional.specialty_code == filters.value("specialty"))
    page = paginate(stmt, parse_page(request.args.get("page")), PER_PAGE)
    return render_template(
        "directory/professionals.html", page=page, filters=filters, specialties=_labels(SPECIALTY)
    )


@bp.route("/annuaire/professionnels/nouveau", methods=["GET", "POST"])
@no_patient_data
@allowed("directory.edit")
def professional_new():
    form = ProfessionalForm()
    if form.validate_on_submit():
        professional = _submit(form, ops.create_professional)
        if professional is not None:
            flash(f"{professional.display_name} ajouté(e) à l'annuaire.", "success")
            return redirect(url_for(".professionals"))
    return render_template("directory/professional_form.html", form=form, professional=None)


@bp.route("/annuaire/professionnels/<int:professional_id>/modifier", methods=["GET", "POST"])
@no_patient_data
@allowed("directory.edit")
def professional_edit(professional_id: int):
    professional = _load_professional(professional_id)
    form = ProfessionalForm(obj=professional, current=professional)
    if (
        form.validate_on_submit()
        and _submit(form, ops.update_professional, professional, version=form.version.data)
        is not None
    ):
        flash(f"Fiche de {professional.display_name} enregistrée.", "success")
        return redirect(url_for(".professionals"))
    return render_template(
        "directory/professional_form.html", form=form, professional=professional
    ), conflict.status(form)


# --- RCPs ----------------------------------------------------------------------------------


@bp.route("/annuaire/rcp")
@no_patient_data
@allowed("directory.view")
def rcps():
    filters = RcpFilterForm(formdata=request.args)
    filters.validate()
    stmt = select(Rcp).order_by(Rcp.name, Rcp.id)
    if filters.value("establishment"):
        stmt = stmt.where(Rcp.establishment_id == filters.value("establishment"))
    if filters.value("nature"):
        stmt = stmt.where(Rcp.nature == filters.value("nature"))
    if filters.value("appareil"):
        stmt = stmt.where(Rcp.appareil_code == filters.value("appareil"))
    if filters.value("theme"):
        stmt = stmt.where(Rcp.theme_code == filters.value("theme"))
    if filters.value("active"):
        stmt = stmt.where(Rcp.active.is_(filters.value("active") == "oui"))
    page = paginate(stmt, parse_page(request.args.get("page")), PER_PAGE)
    return render_template(
        "directory/rcps.html",
        page=page,
        filters=filters,
        appareils=_labels(APPAREIL),
        themes=_labels(TRANSVERSAL_THEME),
    )


@bp.route("/annuaire/rcp/<int:rcp_id>")
@no_patient_data
@allowed("directory.view")
def rcp_detail(rcp_id: int):
    """The RCP's card; its minimal items and upcoming sessions come from the packages above
    (the template calls ``rcp_minimal_items`` of cases/views.py and ``rcp_open_sessions`` of
    agenda/views.py), so the directory imports neither."""
    rcp = _load_rcp(rcp_id)
    specialties = _labels(SPECIALTY)
    return render_template(
        "directory/rcp_detail.html",
        rcp=rcp,
        specialties=specialties,
        appareils=_labels(APPAREIL),
        themes=_labels(TRANSVERSAL_THEME),
        quorum_rule=quorum_rule_label(rcp, specialties),
    )


@bp.route("/annuaire/rcp/nouvelle", methods=["GET", "POST"])
@no_patient_data
@allowed("directory.edit")
def rcp_new():
    form = RcpForm()
    if form.validate_on_submit():
        rcp = _submit(form, ops.create_rcp)
        if rcp is not None:
            flash(f"RCP « {rcp.name} » créée.", "success")
            return redirect(url_for(".rcp_detail", rcp_id=rcp.id))
    return render_template("directory/rcp_form.html", form=form, rcp=None)


@bp.route("/annuaire/rcp/<int:rcp_id>/modifier", methods=["GET", "POST"])
@no_patient_data
@allowed("directory.edit")
def rcp_edit(rcp_id: int):
    rcp = _load_rcp(rcp_id)
    require("configure", rcp)  # a secretariat changes the RCPs it runs only
    form = RcpForm(obj=rcp, current=rcp)
    if (
        form.validate_on_submit()
        and _submit(form, ops.update_rcp, rcp, version=form.version.data) is not None
    ):
        flash(f"RCP « {rcp.name} » enregistrée.", "success")
        return redirect(url_for(".rcp_detail", rcp_id=rcp.id))
    return render_template("directory/rcp_form.html", form=form, rcp=rcp), conflict.status(form)
