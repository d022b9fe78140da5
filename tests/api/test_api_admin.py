"""The administrator's pages and commands for API clients: register (the secret shown once),
edit (conflicts), re-key, revoke; who may open them; CSRF; ``flask rcp api …``."""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from rcp_app.api.models import ApiClient
from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from tests.api.conftest import request_token
from tests.conftest import csrf_token_from
from tests.support.factories import PASSWORD
from tests.support.html_forms import form_values, other_client

BASE = "/admin/clients-api"


def _stored(app, client_id: str) -> ApiClient | None:
    with app.app_context():
        row = db.session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
        if row is not None:
            db.session.expunge(row)
        return row


def _actions(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        db.session.expunge_all()
        return rows


def _shown(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}" type="text" value="([^"]+)"', html)
    assert match, f"no #{element_id} in the page"
    return unescape(match.group(1))


def _new_client_form(establishment: int, **fields) -> dict:
    data = {
        "name": "DPI Hôpital Nord",
        "establishment_id": str(establishment),
        "scopes": ["patients:read", "cases:write"],
        "rate_limit_per_minute": "120",
        "contact": "dsi@hopital-nord.test",
    }
    data.update(fields)
    return data


def _create(client, establishment_id: int, **fields) -> tuple[str, str, str]:
    """(client_id, secret, page) from the page answering the form."""
    response = client.post(f"{BASE}/nouveau", data=_new_client_form(establishment_id, **fields))
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[:500]
    return _shown(page, "client-id"), _shown(page, "client-secret"), page


def test_admin_registers_a_client_and_sees_the_secret_once(app, client, login, make):
    login("admin")
    establishment = make.establishment(name="CH du Nord")
    form_page = unescape(client.get(f"{BASE}/nouveau").get_data(as_text=True))
    assert "Créer, compléter et soumettre des dossiers, y joindre des documents" in form_page
    assert "CH du Nord — FINESS" in form_page

    client_id, secret, page = _create(client, establishment.id)
    assert "Copiez le secret maintenant, il ne sera plus affiché." in unescape(page)

    stored = _stored(app, client_id)
    assert stored.name == "DPI Hôpital Nord" and stored.establishment_id == establishment.id
    assert stored.scopes == "cases:write patients:read" and stored.rate_limit_per_minute == 120
    assert stored.contact == "dsi@hopital-nord.test"
    assert stored.secret_hash.startswith("$argon2id$") and secret not in stored.secret_hash
    # Nothing keeps the secret: not the cookie session (flashes), not the audit row.
    with client.session_transaction() as session:
        assert secret not in repr(dict(session))
    registered = _actions(app, "api.client_registered")
    assert len(registered) == 1 and secret not in registered[0].details

    token = request_token(client, client_id, secret)
    assert token.status_code == 200, token.get_data(as_text=True)
    assert token.get_json()["scope"] == "cases:write patients:read"

    # The list shows the client and when it last obtained a token; its page never the secret.
    listing = unescape(client.get(f"{BASE}/").get_data(as_text=True))
    assert "DPI Hôpital Nord" in listing and client_id in listing and "120 / min" in listing
    assert "Dernier jeton délivré" in listing and "Aucun client" not in listing
    detail = client.get(f"{BASE}/{stored.id}").get_data(as_text=True)
    assert client_id in detail and secret not in detail


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"scopes": []}, "Choisissez au moins une portée."),
        ({"establishment_id": "0"}, "Choisissez l'établissement du client."),
        ({"rate_limit_per_minute": "0"}, "Le quota doit être compris entre 1 et 100000"),
        ({"name": "  "}, "Donnez un nom au client."),
        ({"scopes": ["patients:read", "tout:faire"]}, "n'est pas un choix valide"),
    ],
)
def test_refused_registration_keeps_the_form(app, client, login, make, fields, message):
    login("admin")
    establishment = make.establishment()
    response = client.post(f"{BASE}/nouveau", data=_new_client_form(establishment.id, **fields))
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 200
    assert message in page
    if "name" not in fields:
        assert 'value="DPI Hôpital Nord"' in page  # what was typed stays
    assert "client-secret" not in page
    with app.app_context():
        assert db.session.scalars(select(ApiClient)).all() == []


def test_edit_and_stale_version_conflict(app, client, login, make):
    login("admin")
    client_id, _secret, _page = _create(client, make.establishment().id)
    pk = _stored(app, client_id).id
    url = f"{BASE}/{pk}"
    mine = form_values(client.get(url).get_data(as_text=True))
    assert mine["version"] == "1" and sorted(mine["scopes"]) == ["cases:write", "patients:read"]

    other = other_client(app, make, "admin")  # another administrator saves meanwhile
    theirs = form_values(other.get(url).get_data(as_text=True))
    theirs.update(rate_limit_per_minute="50", scopes=["fiches:read"])
    assert other.post(url, data=theirs).status_code == 302

    mine.update(contact="astreinte@hopital-nord.test")
    response = client.post(url, data=mine)
    page = unescape(response.get_data(as_text=True))
    assert response.status_code == 409
    assert "Ce client a été modifié par un autre utilisateur pendant que vous le modifiiez" in page
    assert 'value="astreinte@hopital-nord.test"' in page  # what was typed stays
    assert "Valeur enregistrée entre-temps : 50" in page
    assert "Valeur enregistrée entre-temps : Lire les fiches RCP signées" in page
    saved = _stored(app, client_id)
    assert (saved.contact, saved.rate_limit_per_minute, saved.scopes) == (
        "dsi@hopital-nord.test",
        50,
        "fiches:read",
    )

    again = form_values(response.get_data(as_text=True))
    assert again["version"] == str(saved.version)
    assert client.post(url, data=again).status_code == 302
    saved = _stored(app, client_id)
    assert (saved.contact, saved.rate_limit_per_minute, saved.scopes) == (
        "astreinte@hopital-nord.test",
        120,
        "cases:write patients:read",
    )
    assert len(_actions(app, "api.client_updated")) == 2


def test_rotate_shows_a_new_secret_and_stops_the_old_one(app, client, login, make):
    login("admin")
    client_id, old_secret, _page = _create(client, make.establishment().id)
    pk = _stored(app, client_id).id
    old_token = request_token(client, client_id, old_secret).get_json()["access_token"]

    stale = client.post(f"{BASE}/{pk}/nouveau-secret", data={"version": "0"})
    assert stale.status_code == 302
    assert request_token(client, client_id, old_secret).status_code == 200  # unchanged

    action = form_values(client.get(f"{BASE}/{pk}").get_data(as_text=True), "version")
    response = client.post(f"{BASE}/{pk}/nouveau-secret", data={"version": action["version"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "il ne sera plus affiché" in unescape(page)
    new_secret = _shown(page, "client-secret")
    assert new_secret != old_secret and _shown(page, "client-id") == client_id

    assert request_token(client, client_id, old_secret).status_code == 401
    assert request_token(client, client_id, new_secret).status_code == 200
    bearer = {"Authorization": f"Bearer {old_token}"}
    assert client.get("/api/v1/patients", headers=bearer).status_code == 401
    assert len(_actions(app, "api.client_secret_rotated")) == 1


def test_revoke_after_confirmation_stops_tokens(app, client, login, make):
    login("admin")
    client_id, secret, _page = _create(client, make.establishment().id)
    pk = _stored(app, client_id).id
    token = request_token(client, client_id, secret).get_json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/patients", headers=bearer).status_code == 200

    confirm = client.get(f"{BASE}/{pk}/revoquer")
    assert confirm.status_code == 200
    assert "La révocation est définitive" in unescape(confirm.get_data(as_text=True))
    assert _stored(app, client_id).active  # showing the confirmation revokes nothing

    values = form_values(confirm.get_data(as_text=True))
    assert client.post(f"{BASE}/{pk}/revoquer", data=values).status_code == 302
    assert not _stored(app, client_id).active
    assert client.get("/api/v1/patients", headers=bearer).status_code == 401
    assert request_token(client, client_id, secret).status_code == 401

    detail = unescape(client.get(f"{BASE}/{pk}").get_data(as_text=True))
    assert "Ce client a été révoqué le" in detail and "Nouveau secret" not in detail
    # An edit page opened before the revocation, submitted after it.
    stale_edit = {"version": str(_stored(app, client_id).version), "scopes": ["patients:read"]}
    refused = client.post(f"{BASE}/{pk}", data={**stale_edit, "rate_limit_per_minute": "5"})
    assert "Ce client est révoqué : il ne peut plus être modifié." in unescape(
        refused.get_data(as_text=True)
    )
    assert len(_actions(app, "api.client_revoked")) == 1


def test_revoke_with_a_stale_page_is_refused(app, client, login, make):
    login("admin")
    client_id, _secret, _page = _create(client, make.establishment().id)
    pk = _stored(app, client_id).id
    response = client.post(f"{BASE}/{pk}/revoquer", data={"version": "7"})
    assert response.status_code == 302
    assert _stored(app, client_id).active
    page = unescape(client.get(f"{BASE}/{pk}").get_data(as_text=True))
    assert "Ce client a été modifié entre-temps : rouvrez sa page et recommencez." in page


@pytest.mark.parametrize("role", ["coordinator", "physician", "gp", "dpo", "anonymous"])
def test_only_the_administrator_opens_the_pages(app, client, make, role):
    pk = _stored_client(app, make)
    if role != "anonymous":
        user = make.user(role=role)
        client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    expected = 302 if role == "anonymous" else 403
    for method, path in [
        ("GET", f"{BASE}/"),
        ("GET", f"{BASE}/nouveau"),
        ("POST", f"{BASE}/nouveau"),
        ("GET", f"{BASE}/{pk}"),
        ("POST", f"{BASE}/{pk}"),
        ("POST", f"{BASE}/{pk}/nouveau-secret"),
        ("GET", f"{BASE}/{pk}/revoquer"),
        ("POST", f"{BASE}/{pk}/revoquer"),
    ]:
        response = client.open(path, method=method, data={"version": "1"})
        assert response.status_code == expected, (method, path)
    assert _stored_by_pk(app, pk).version == 1


def test_empty_posts_change_nothing(app, client, login, make):
    """What the access matrix sends (a dummy field, no version): refused, nothing changed."""
    pk = _stored_client(app, make)
    login("admin")
    for path, status in [
        (f"{BASE}/nouveau", 200),
        (f"{BASE}/{pk}", 200),
        (f"{BASE}/{pk}/nouveau-secret", 302),
        (f"{BASE}/{pk}/revoquer", 302),
    ]:
        assert client.post(path, data={"_": "1"}).status_code == status, path
    stored = _stored_by_pk(app, pk)
    assert (stored.version, stored.active) == (1, True)
    with app.app_context():
        assert len(db.session.scalars(select(ApiClient)).all()) == 1


def test_the_navigation_shows_the_pages_to_the_administrator_only(client, login):
    login("coordinator")
    assert f'href="{BASE}/"' not in client.get("/").get_data(as_text=True)
    client.post("/deconnexion")
    login("admin")
    assert f'href="{BASE}/"' in client.get("/").get_data(as_text=True)


def _stored_client(app, make) -> int:
    from rcp_app.api.operations import register_client
    from rcp_app.directory.models import Establishment

    establishment = make.establishment()
    with app.app_context():
        credentials = register_client(
            "DPI", db.session.get(Establishment, establishment.id), ["patients:read"]
        )
        db.session.commit()
        return credentials.client.id


def _stored_by_pk(app, pk: int) -> ApiClient:
    with app.app_context():
        row = db.session.get(ApiClient, pk)
        db.session.expunge(row)
        return row


def test_csrf_is_required(make_test_app, make):
    app = make_test_app(WTF_CSRF_ENABLED=True)
    http = app.test_client()
    admin = make.user(role="admin")
    establishment = make.establishment()
    token = csrf_token_from(http.get("/connexion").get_data(as_text=True))
    http.post(
        "/connexion", data={"username": admin.username, "password": PASSWORD, "csrf_token": token}
    )
    data = _new_client_form(establishment.id)
    assert http.post(f"{BASE}/nouveau", data=data).status_code == 400
    with app.app_context():
        assert db.session.scalars(select(ApiClient)).all() == []
    token = csrf_token_from(http.get(f"{BASE}/nouveau").get_data(as_text=True))
    created = http.post(f"{BASE}/nouveau", data={**data, "csrf_token": token})
    assert created.status_code == 200
    client_id = _shown(created.get_data(as_text=True), "client-id")
    pk = _stored(app, client_id).id
    for path in (f"{BASE}/{pk}", f"{BASE}/{pk}/nouveau-secret", f"{BASE}/{pk}/revoquer"):
        assert http.post(path, data={"version": "1"}).status_code == 400, path
    assert _stored(app, client_id).version == 1


# --- flask rcp api … ----------------------------------------------------------------------


@pytest.fixture
def run(app):
    runner = app.test_cli_runner()

    def _run(*args):
        return runner.invoke(args=["rcp", "api", *args])

    return _run


def test_cli_create_list_revoke(app, client, make, run):
    establishment = make.establishment()
    result = run(
        "create-client",
        "--name",
        "Passerelle ADT",
        "--establishment",
        establishment.finess,
        "--scopes",
        "patients:read cases:write",
        "--rate",
        "30",
        "--contact",
        "dsi@chu.test",
    )
    assert result.exit_code == 0, result.output
    assert "ne sera plus affiché" in result.stderr
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(lines) == {"CLIENT_ID", "SECRET"}  # nothing else: eval "$(…)" in scripts
    client_id, secret = lines["CLIENT_ID"], lines["SECRET"]
    assert re.fullmatch(r"[A-Za-z0-9_-]+", client_id) and re.fullmatch(r"[A-Za-z0-9_-]+", secret)
    stored = _stored(app, client_id)
    assert (stored.scopes, stored.rate_limit_per_minute, stored.contact) == (
        "cases:write patients:read",
        30,
        "dsi@chu.test",
    )
    assert secret not in stored.secret_hash
    assert request_token(client, client_id, secret).status_code == 200

    listing = run("list-clients")
    assert listing.exit_code == 0
    line = next(line for line in listing.output.splitlines() if line.startswith(client_id))
    assert "actif" in line and f"FINESS {establishment.finess}" in line and "30/min" in line
    assert "dernier jeton : " in line and "aucun" not in line and "Passerelle ADT" in line

    revoked = run("revoke-client", client_id)
    assert revoked.exit_code == 0 and "révoqué" in revoked.output
    assert request_token(client, client_id, secret).status_code == 401
    assert "déjà révoqué" in run("revoke-client", client_id).output
    assert "révoqué le" in run("list-clients").output
    assert len(_actions(app, "api.client_revoked")) == 1


@pytest.mark.parametrize(
    ("establishment", "scopes", "message"),
    [
        ("999999999", "patients:read", "Établissement (FINESS) introuvable : 999999999."),
        (None, "patients:read tout:faire", "Portée inconnue : tout:faire. Portées possibles"),
        (None, "", "Choisissez au moins une portée."),
    ],
)
def test_cli_refusals_in_french(app, make, run, establishment, scopes, message):
    finess = establishment or make.establishment().finess
    result = run("create-client", "--name", "X", "--establishment", finess, "--scopes", scopes)
    assert result.exit_code == 1
    assert message in result.output
    with app.app_context():
        assert db.session.scalars(select(ApiClient)).all() == []


def test_cli_unknown_client(run):
    result = run("revoke-client", "rcp-inconnu")
    assert result.exit_code == 1 and "Aucun client « rcp-inconnu »." in result.output
    assert run("list-clients").output.strip() == "Aucun client enregistré."
