"""Administration: user accounts and the audit log (read-only: no edit or delete route)."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..access.guards import allowed
from ..auth.models import ROLE_LABELS, User
from ..core import audit, conflict
from ..core.converters import parse_version
from ..core.errors import Conflict, DomainError
from ..core.forms import show_refusal
from ..core.pagination import paginate, parse_page
from ..core.patient_data import may_see_identities, no_patient_data
from ..core.timeutil import utcnow
from ..directory.models import Professional
from ..extensions import db
from . import audit_query
from . import operations as ops
from .forms import (
    NO_PROFESSIONAL,
    SCOPE_HELP,
    STRENGTH_HELP,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
    choices,
    set_scope_choices,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _load_user(user_id: int, lock: bool = False) -> User:
    return db.get_or_404(User, user_id, with_for_update=lock or None)


def _professional_choices(user: User | None) -> list[SelectChoice]:
    """Active professionals not linked to another account, plus the user's current one."""
    linked_elsewhere = select(User.professional_id).where(
        User.professional_id.is_not(None), User.id != (user.id if user else 0)
    )
    current_id = user.professional_id if user else None
    professionals = db.session.scalars(
        select(Professional)
        .where(
            or_(Professional.active.is_(True), Professional.id == current_id),
            Professional.id.not_in(linked_elsewhere),
        )
        .order_by(Professional.last_name_key, Professional.first_name)
    )
    return choices(
        [(NO_PROFESSIONAL, "— Aucun —")]
        + [(p.id, f"{p.display_name} — RPPS {p.rpps}") for p in professionals]
    )


def _professional_choice(professional_id: int | None) -> int:
    """The professional select's value for a stored link (NO_PROFESSIONAL when none)."""
    return professional_id or NO_PROFESSIONAL


@bp.route("/utilisateurs")
@no_patient_data
@allowed("accounts")
def users():
    role = request.args.get("role", "")
    query = " ".join(request.args.get("q", "").split())[:120]
    stmt = select(User).options(selectinload(User.professional)).order_by(User.username)
    if role in ROLE_LABELS:
        stmt = stmt.where(User.role == role)
    else:
        role = ""
    if query:
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                User.username.ilike(pattern, escape="\\"),
                User.display_name.ilike(pattern, escape="\\"),
                User.email.ilike(pattern, escape="\\"),
            )
        )
    page = paginate(stmt, parse_page(request.args.get("page")), current_app.config["RCP_PAGE_SIZE"])
    return render_template(
        "admin/users.html",
        page=page,
        role=role,
        q=query,
        role_labels=ROLE_LABELS,
        now=utcnow(),
        scopes=ops.scope_summaries(page.items),
    )


@bp.route("/utilisateurs/nouveau", methods=["GET", "POST"])
@no_patient_data
@allowed("accounts")
def user_new():
    form = UserCreateForm()
    form.professional_id.choices = _professional_choices(None)
    set_scope_choices(form, ((), ()))
    if form.validate_on_submit():
        try:
            user = ops.create_user(
                username=form.username.data,
                email=form.email.data,
                display_name=form.display_name.data,
                role=form.role.data,
                professional_id=form.professional_id.data or None,
                active=form.active.data,
                password=form.password.data,
                confirm=form.confirm.data,
                rcp_ids=form.rcp_ids.data,
                establishment_ids=form.establishment_ids.data,
            )
        except DomainError as error:
            show_refusal(form, error)
        else:
            flash(f"Compte « {user.username} » créé.", "success")
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=None,
        password_help=STRENGTH_HELP,
        scope_help=SCOPE_HELP,
    )


@bp.route("/utilisateurs/<int:user_id>/modifier", methods=["GET", "POST"])
@no_patient_data
@allowed("accounts")
def user_edit(user_id: int):
    user = _load_user(user_id, lock=request.method == "POST")
    form = UserEditForm(obj=user if request.method == "GET" else None)
    form.professional_id.choices = _professional_choices(user)
    scopes = ops.coordinator_scopes(user)
    set_scope_choices(form, scopes)
    if request.method == "GET":
        form.professional_id.data = _professional_choice(user.professional_id)
        form.rcp_ids.data, form.establishment_ids.data = list(scopes[0]), list(scopes[1])
        form.version.data = str(user.version)
    if form.validate_on_submit():
        version = form.version.data
        try:
            changes = ops.update_user(
                user,
                {
                    "display_name": form.display_name.data,
                    "email": form.email.data,
                    "role": form.role.data,
                    "professional_id": form.professional_id.data or None,
                    "active": form.active.data,
                },
                expected_version=parse_version(version),
                by=current_user,
                scopes=(form.rcp_ids.data, form.establishment_ids.data),
            )
        except Conflict:
            conflict.keep_typed_values(
                form, user, "Ce compte", adapt={"professional_id": _professional_choice}
            )
        except DomainError as error:
            if error.status_code != 400:
                raise
            show_refusal(form, error)
        else:
            flash(
                f"Compte « {user.username} » enregistré." if changes else "Aucune modification.",
                "success" if changes else "info",
            )
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        password_help=STRENGTH_HELP,
        scope_help=SCOPE_HELP,
        scoped=any(scopes),
        now=utcnow(),
    ), conflict.status(form)


@bp.route("/utilisateurs/<int:user_id>/deverrouiller", methods=["POST"])
@no_patient_data
@allowed("accounts")
def user_unlock(user_id: int):
    user = _load_user(user_id, lock=True)
    ops.unlock_user(user)
    flash(f"Compte « {user.username} » déverrouillé.", "success")
    return redirect(url_for("admin.user_edit", user_id=user.id))


@bp.route("/utilisateurs/<int:user_id>/reinitialiser-double-authentification", methods=["POST"])
@no_patient_data
@allowed("accounts")
def user_reset_totp(user_id: int):
    user = _load_user(user_id, lock=True)
    try:
        ops.reset_totp(user, by=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash(
            f"Double authentification de « {user.username} » réinitialisée : un nouvel "
            "enrôlement sera demandé.",
            "success",
        )
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.route("/utilisateurs/<int:user_id>/mot-de-passe", methods=["GET", "POST"])
@no_patient_data
@allowed("accounts")
def user_password(user_id: int):
    user = _load_user(user_id, lock=request.method == "POST")
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            ops.reset_password(user, form.new_password.data, form.confirm.data)
        except DomainError as error:
            show_refusal(form, error)
        else:
            if user.id == current_user.id:
                login_user(user)  # an admin resetting their own password stays logged in here
            flash(
                f"Mot de passe de « {user.username} » réinitialisé ; ses sessions ouvertes "
                "ont été fermées.",
                "success",
            )
            return redirect(url_for("admin.user_edit", user_id=user.id))
    return render_template(
        "admin/user_password.html", form=form, user=user, password_help=STRENGTH_HELP
    )


@bp.route("/audit")
@no_patient_data
@allowed("accounts")
def audit_log():
    form, page = audit_query.filtered_page(
        request.args, parse_page(request.args.get("page")), current_app.config["RCP_PAGE_SIZE"]
    )
    return render_template(
        "admin/audit_log.html",
        form=form,
        page=page,
        details_text=lambda entry: audit_query.details_text(
            entry, clinical_content=may_see_identities(current_user)
        ),
        # The rows name patients by id; identities only for a viewer entitled to them (not
        # the admin role: ids only).
        identities=audit_query.patient_identities(page.items, current_user),
    )


@bp.route("/audit/verification")
@no_patient_data
@allowed("accounts")
def audit_verify():
    report = audit.verify_chain()
    return render_template("admin/audit_verify.html", report=report)
