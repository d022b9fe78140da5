"""The administrator's pages for API clients: register, edit, re-key, revoke.

A secret is shown once, in the response to the POST that created it: never in a URL, a flash
message (the cookie session) or a log. Only its Argon2 hash is stored (operations.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..access.guards import allowed
from ..core import conflict
from ..core.errors import Conflict, DomainError
from ..core.forms import show_refusal
from ..core.pagination import paginate, parse_page
from ..core.patient_data import no_patient_data
from ..core.timeutil import utcnow
from ..directory.models import Establishment
from ..extensions import db
from . import operations as ops
from .forms import ClientActionForm, ClientCreateForm, ClientEditForm
from .models import EVENTS, SCOPES, ApiClient, ApiToken, WebhookSubscription

bp = Blueprint("api_admin", __name__, url_prefix="/admin/clients-api")


def _load(client_id: int, lock: bool = False) -> ApiClient:
    return db.get_or_404(ApiClient, client_id, with_for_update=lock or None)


def _last_tokens(client_ids: list[int]) -> dict[int, object]:
    if not client_ids:
        return {}
    rows = db.session.execute(
        select(ApiToken.client_id, func.max(ApiToken.issued_at))
        .where(ApiToken.client_id.in_(client_ids))
        .group_by(ApiToken.client_id)
    )
    return dict(rows.all())


def _secret_page(client: ApiClient, secret: str, *, new_client: bool) -> str:
    """Rendered as the POST's own response (core/security.py makes it no-store)."""
    return render_template(
        "api/clients_secret.html", client=client, secret=secret, new_client=new_client
    )


@bp.route("/")
@no_patient_data
@allowed("api_clients")
def clients():
    stmt = (
        select(ApiClient)
        .options(selectinload(ApiClient.establishment))
        .order_by(ApiClient.revoked_at.is_not(None), ApiClient.name, ApiClient.id)
    )
    page = paginate(stmt, parse_page(request.args.get("page")), current_app.config["RCP_PAGE_SIZE"])
    return render_template(
        "api/clients.html",
        page=page,
        scopes=SCOPES,
        last_tokens=_last_tokens([c.id for c in page.items]),
    )


@bp.route("/nouveau", methods=["GET", "POST"])
@no_patient_data
@allowed("api_clients")
def client_new():
    form = ClientCreateForm()
    if request.method == "GET":
        form.scopes.data = []
    if form.validate_on_submit():
        try:
            credentials = ops.register_client(
                form.name.data,
                db.session.get(Establishment, form.establishment_id.data),
                form.scopes.data or [],
                contact=form.contact.data or "",
                rate=form.rate_limit_per_minute.data,
            )
        except DomainError as error:
            show_refusal(form, error)
        else:
            return _secret_page(credentials.client, credentials.secret, new_client=True)
    return render_template("api/clients_form.html", form=form, client=None, scopes=SCOPES)


@bp.route("/<int:client_id>", methods=["GET", "POST"])
@no_patient_data
@allowed("api_clients")
def client_edit(client_id: int):
    client = _load(client_id, lock=request.method == "POST")
    form = ClientEditForm(obj=client if request.method == "GET" else None)
    if request.method == "GET":
        form.scopes.data = client.scope_list
        form.version.data = str(client.version)
    if form.validate_on_submit():
        try:
            ops.update_client(
                client,
                form.version.data,
                scopes=form.scopes.data or [],
                rate=form.rate_limit_per_minute.data,
                contact=form.contact.data or "",
            )
        except Conflict:
            conflict.keep_typed_values(
                form, client, "Ce client", adapt={"scopes": lambda text: text.split()}
            )
        except DomainError as error:
            show_refusal(form, error)
        else:
            flash(f"Client « {client.name} » enregistré.", "success")
            return redirect(url_for("api_admin.client_edit", client_id=client.id))
    subscriptions = db.session.scalars(
        select(WebhookSubscription)
        .where(WebhookSubscription.client_id == client.id)
        .order_by(WebhookSubscription.revoked_at.is_not(None), WebhookSubscription.id)
    ).all()
    return render_template(
        "api/clients_form.html",
        form=form,
        client=client,
        scopes=SCOPES,
        events=EVENTS,
        action=ClientActionForm(formdata=None, data={"version": str(client.version)}),
        last_token=_last_tokens([client.id]).get(client.id),
        subscriptions=subscriptions,
        now=utcnow(),
    ), conflict.status(form)


@bp.route("/<int:client_id>/nouveau-secret", methods=["POST"])
@no_patient_data
@allowed("api_clients")
def client_rotate(client_id: int):
    client = _load(client_id, lock=True)
    try:
        secret = ops.rotate_secret(client, ClientActionForm().version.data)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "danger")
        return redirect(url_for("api_admin.client_edit", client_id=client_id))
    return _secret_page(client, secret, new_client=False)


@bp.route("/<int:client_id>/revoquer", methods=["GET", "POST"])
@no_patient_data
@allowed("api_clients")
def client_revoke(client_id: int):
    client = _load(client_id, lock=request.method == "POST")
    if not client.active:
        flash(f"Le client « {client.name} » est déjà révoqué.", "info")
        return redirect(url_for("api_admin.client_edit", client_id=client.id))
    form = ClientActionForm(data={"version": str(client.version)})
    if request.method == "POST":
        try:
            ops.revoke_client(client, form.version.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "danger")
        else:
            flash(
                f"Client « {client.name} » révoqué : ses jetons ne sont plus acceptés.", "success"
            )
        return redirect(url_for("api_admin.client_edit", client_id=client_id))
    return render_template("api/clients_revoke.html", client=client, form=form)
