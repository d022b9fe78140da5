from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from ..core.errors import DomainError
from ..core.patient_data import no_patient_data
from ..core.redirects import safe_local_path
from ..extensions import db
from . import operations as ops
from . import psc
from . import totp as totp_lib
from .forms import ConfirmForm, LoginForm, PasswordChangeForm, TotpForm
from .models import User
from .session import client_ip

bp = Blueprint("auth", __name__)

PENDING_USER = "pending_user_id"
PENDING_STAGE = "pending_stage"  # "totp": code expected; "enrol": enrolment required first
PENDING_SECRET = "pending_totp_secret"  # noqa: S105 (a session key)


def _safe_next(target: str | None) -> str:
    """Only same-site paths are followed after login (no open redirect: core/redirects.py)."""
    return safe_local_path(target) or url_for("main.home")


def _finish_login(user: User):
    next_url = session.pop("next_url", None)
    session.pop(PENDING_USER, None)
    session.pop(PENDING_STAGE, None)
    session.pop(PENDING_SECRET, None)
    login_user(user)
    session.permanent = True
    flash(f"Bienvenue, {user.display_name}.", "success")
    return redirect(_safe_next(next_url))


def _pending_user(stage: str) -> User | None:
    """The user who passed the password step, if the session is at ``stage``.

    A user waiting for a TOTP code must not reach the enrolment page (it would let whoever
    knows the password replace the second factor), and the other way round.
    """
    user_id = session.get(PENDING_USER)
    if not user_id or session.get(PENDING_STAGE) != stage:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return None
    if stage == "enrol" and user.totp_enabled:
        return None
    return user


@bp.route("/connexion", methods=["GET", "POST"])
@no_patient_data
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = ops.check_password_login(form.username.data, form.password.data, client_ip())
        if outcome.error:
            flash(outcome.error, "danger")
            return _login_page(form), 200
        session.clear()
        session["next_url"] = request.args.get("next")
        if outcome.needs_totp or outcome.needs_totp_enrolment:
            session[PENDING_USER] = outcome.user.id
            session[PENDING_STAGE] = "totp" if outcome.needs_totp else "enrol"
            target = "auth.totp" if outcome.needs_totp else "auth.totp_enrol_pending"
            return redirect(url_for(target))
        return _finish_login(outcome.user)
    return _login_page(form)


def _login_page(form: LoginForm) -> str:
    return render_template(
        "auth/login.html", form=form, psc_enabled=psc.is_configured(), next=request.args.get("next")
    )


@bp.route("/connexion/psc")
@no_patient_data
def psc_login():
    """Sends the browser to Pro Santé Connect (a plain link: the CSP's form-action would stop a
    form whose answer redirects to another site)."""
    if not psc.is_configured():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    next_url = request.args.get("next")
    try:
        response = psc.start(url_for("auth.psc_callback", _external=True))
    except psc.PscFailure as failure:
        return _psc_refused(failure)
    session["next_url"] = next_url
    return response


@bp.route("/connexion/psc/retour")
@no_patient_data
def psc_callback():
    """Pro Santé Connect sends the browser back here with the code (or an error)."""
    if not psc.is_configured():
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    try:
        identity = psc.finish()
    except psc.PscFailure as failure:
        return _psc_refused(failure)
    user = ops.psc_user(identity.rpps)
    if user is None:
        ops.record_psc_unknown(identity.national_id)
        return render_template(
            "auth/psc_unknown.html",
            national_id=identity.national_id,
            rpps=identity.rpps,
            contact=current_app.config["RCP_PSC_ACCESS_CONTACT"],
        ), 403
    next_url = session.get("next_url")
    session.clear()  # a new session for the new identity (no fixation)
    # PSC is itself two-factor (CPS card or e-CPS with its code): no local TOTP step.
    ops.complete_login(user, client_ip(), method="psc")
    session["next_url"] = next_url
    return _finish_login(user)


def _psc_refused(failure: psc.PscFailure):
    ops.record_psc_failure(failure.reason)
    flash(failure.message, "danger")
    return redirect(url_for("auth.login"))


@bp.route("/connexion/code", methods=["GET", "POST"])
@no_patient_data
def totp():
    user = _pending_user("totp")
    if user is None:
        return redirect(url_for("auth.login"))
    form = TotpForm()
    if form.validate_on_submit():
        error = ops.check_totp_login(user, form.code.data, client_ip())
        if error is None:
            return _finish_login(user)
        flash(error, "danger")
    return render_template("auth/totp.html", form=form)


def _enrolment_context(user: User) -> dict:
    secret = session.get(PENDING_SECRET)
    if not secret:
        secret = session[PENDING_SECRET] = totp_lib.new_secret()
    uri = totp_lib.provisioning_uri(secret, user.username, current_app.config["RCP_TOTP_ISSUER"])
    return {"secret": secret, "qr": totp_lib.qr_data_uri(uri)}


@bp.route("/connexion/activer-double-authentification", methods=["GET", "POST"])
@no_patient_data
def totp_enrol_pending():
    """Enrolment required by the role before the first login completes."""
    user = _pending_user("enrol")
    if user is None:
        return redirect(url_for("auth.login"))
    form = TotpForm()
    context = _enrolment_context(user)
    if form.validate_on_submit():
        try:
            ops.enable_totp(user, context["secret"], form.code.data)
            ops.complete_login(user, client_ip())
        except DomainError as error:
            db.session.rollback()
            form.code.errors.append(error.message)
        else:
            return _finish_login(user)
    return render_template("auth/totp_enrol.html", form=form, required=True, **context)


@bp.route("/deconnexion", methods=["POST"])
@no_patient_data
@login_required
def logout():
    ops.record_logout(current_user)
    logout_user()
    session.clear()
    flash("Vous êtes déconnecté.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/compte")
@no_patient_data
@login_required
def account():
    return render_template(
        "auth/account.html",
        totp_required=ops.totp_required_for(current_user),
        confirm_form=ConfirmForm(),
    )


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@no_patient_data
@login_required
def change_password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            ops.change_password(
                current_user, form.current_password.data, form.new_password.data, form.confirm.data
            )
        except DomainError as error:
            db.session.rollback()
            getattr(form, error.field or "new_password").errors.append(error.message)
        else:
            # The session token changed: log this session in again with the new one.
            login_user(current_user._get_current_object())
            flash("Votre mot de passe a été modifié.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form)


@bp.route("/compte/double-authentification", methods=["GET", "POST"])
@no_patient_data
@login_required
def totp_setup():
    if current_user.totp_enabled:
        flash("La double authentification est déjà active sur votre compte.", "info")
        return redirect(url_for("auth.account"))
    form = TotpForm()
    context = _enrolment_context(current_user)
    if form.validate_on_submit():
        try:
            ops.enable_totp(current_user, context["secret"], form.code.data)
        except DomainError as error:
            db.session.rollback()
            form.code.errors.append(error.message)
        else:
            session.pop(PENDING_SECRET, None)
            flash("Double authentification activée.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/totp_enrol.html", form=form, required=False, **context)


@bp.route("/compte/double-authentification/desactiver", methods=["POST"])
@no_patient_data
@login_required
def totp_disable():
    try:
        ops.disable_totp(current_user, by=current_user)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
    else:
        flash("Double authentification désactivée.", "info")
    return redirect(url_for("auth.account"))
