"""Security headers, cookie flags, CSRF, and the French error pages (no stack trace)."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.extensions import db
from tests.api.conftest import api  # noqa: F401 (a fixture)
from tests.conftest import csrf_token_from
from tests.support.factories import PASSWORD

PRODUCTION_ENV = {
    "RCP_ENV": "production",
    "RCP_SECRET_KEY": "production-test-secret",
    "RCP_ALLOW_SQLITE_IN_PRODUCTION": "1",
    # Production names its seal; these tests never sign (the files need not exist).
    "RCP_SEAL_P12": "/etc/rcp/cachet.p12",
    "RCP_TRUST_ROOTS": "/etc/rcp/ac.pem",
    "RCP_OID_ROOT": "1.2.250.1.999.7",
    "RCP_PUBLIC_URL": "https://rcp.example.fr",
    "RCP_AUDIT_KEY": "production-test-audit-key",
}


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    directives = [d.strip().split(" ", 1) for d in policy.split(";") if d.strip()]
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


def _assert_no_stack_trace(body: str) -> None:
    for marker in ("Traceback", 'File "', "line ", "Exception", "Error:", "werkzeug"):
        assert marker not in body, marker


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/connexion", "/", "/admin/utilisateurs", "/nulle-part"])
def test_security_headers(client, login, path):
    login("admin")
    response = client.get(path)
    csp = _csp(response)
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    assert csp["script-src"] == "'self'"
    assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in csp.get("style-src", "")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {
        "same-origin",
        "no-referrer",
        "strict-origin-when-cross-origin",
    }
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # local demo over http


def test_pages_have_no_inline_script_or_style(client, login):
    """The CSP forbids them, so they would silently not work."""
    login_page = client.get("/connexion").get_data(as_text=True)
    assert "<script>" not in login_page and " style=" not in login_page
    login("admin")
    for path in (
        "/",
        "/admin/utilisateurs",
        "/admin/utilisateurs/nouveau",
        "/admin/audit",
        "/admin/audit/verification",
        "/compte",
        "/compte/double-authentification",
    ):
        body = client.get(path).get_data(as_text=True)
        assert "<script>" not in body and " style=" not in body and "onclick" not in body, path
        assert "<script src=" in body


def test_hsts_in_production(make_test_app):
    app = make_test_app(ENV_VARS=PRODUCTION_ENV)
    response = app.test_client().get("/connexion")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "démonstration" not in text_of(response)  # no demo banner in production


# --- cookies -------------------------------------------------------------------------------


def _session_cookie_header(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("rcp_session=")]
    return header


def test_session_cookie_flags(client, make):
    user = make.user(role="coordinator")
    response = client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    header = _session_cookie_header(response)
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert "Secure" not in header  # local demo over http://127.0.0.1


def test_session_cookie_secure_in_production(make_test_app, make):
    app = make_test_app(ENV_VARS=PRODUCTION_ENV)
    user = make.user(role="coordinator")
    response = app.test_client().post(
        "/connexion", data={"username": user.username, "password": PASSWORD}
    )
    # Production requires two-factor authentication: the password step leads to enrolment.
    assert response.headers["Location"] == "/connexion/activer-double-authentification"
    header = _session_cookie_header(response)
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header


# --- CSRF ----------------------------------------------------------------------------------


def test_csrf_required_on_posts(make_test_app, make):
    app = make_test_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    user = make.user(role="coordinator")
    credentials = {"username": user.username, "password": PASSWORD}
    response = client.post("/connexion", data=credentials)
    assert response.status_code == 400
    body = text_of(response)
    assert "Le formulaire a expiré ou n'est pas valide" in body
    _assert_no_stack_trace(body)
    assert client.get("/").status_code == 302  # not logged in
    token = csrf_token_from(client.get("/connexion").get_data(as_text=True))
    response = client.post("/connexion", data={**credentials, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    # Logged in: the logout button of every page carries a token; a bare POST is refused.
    assert client.post("/deconnexion").status_code == 400
    assert client.get("/").status_code == 200
    page = client.get("/").get_data(as_text=True)
    response = client.post("/deconnexion", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_csrf_on_admin_action_buttons(make_test_app, make):
    app = make_test_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    admin = make.user(role="admin")
    target = make.user(role="coordinator", failed_logins=2)
    token = csrf_token_from(client.get("/connexion").get_data(as_text=True))
    client.post(
        "/connexion", data={"username": admin.username, "password": PASSWORD, "csrf_token": token}
    )
    url = f"/admin/utilisateurs/{target.id}/deverrouiller"
    assert client.post(url).status_code == 400
    page = client.get(f"/admin/utilisateurs/{target.id}/modifier").get_data(as_text=True)
    assert client.post(url, data={"csrf_token": csrf_token_from(page)}).status_code == 302


# --- error pages ---------------------------------------------------------------------------


def test_403_page_in_french(client, login):
    login("gp")
    response = client.get("/admin/utilisateurs")
    assert response.status_code == 403
    body = text_of(response)
    assert "Accès refusé" in body and "Vous n'avez pas les droits nécessaires" in body
    assert '<html lang="fr">' in body


def test_404_page_in_french(client, login):
    login("coordinator")
    response = client.get("/cette-page-n-existe-pas")
    assert response.status_code == 404
    assert "Page introuvable" in text_of(response)


def test_404_page_for_anonymous(client):
    response = client.get("/cette-page-n-existe-pas")
    assert response.status_code == 404 and "Page introuvable" in text_of(response)


def test_405_page_in_french(client, login):
    login("coordinator")
    response = client.get("/deconnexion")
    assert response.status_code == 405
    assert "Méthode non autorisée" in text_of(response)


def test_500_page_in_french_without_stack_trace(make_test_app):
    app = make_test_app(RCP_PROPAGATE_ERRORS_IN_TESTS=False)

    def broken():
        raise RuntimeError("secret internal detail: table users")

    app.add_url_rule("/test-erreur-interne", "test_broken", broken)
    response = app.test_client().get("/test-erreur-interne")
    assert response.status_code == 500
    body = text_of(response)
    assert "Erreur interne" in body and "Une erreur inattendue s'est produite" in body
    assert "secret internal detail" not in body and "RuntimeError" not in body
    _assert_no_stack_trace(body)
    assert response.headers["X-Frame-Options"] == "DENY"


def test_bad_query_parameters_never_500(client, login):
    login("admin")
    for url in (
        "/admin/utilisateurs?page=%00",
        "/admin/utilisateurs?page=1e9",
        "/admin/audit?page=-1&date_from=%00",
        "/admin/audit?patient_id=%F0%9F%98%80",
        "/admin/utilisateurs/abc/modifier",
        "/admin/utilisateurs?q=a%00b",
        "/admin/audit?user=a%00b&action=%00&object_type=%00",
    ):
        response = client.get(url)
        assert response.status_code in (200, 400, 404), url
        assert "Erreur interne" not in text_of(response)


def test_nul_characters_in_forms_give_the_form_back_with_a_message(app, client, login):
    """PostgreSQL refuses NUL in text: the input rule (core/text.py) refuses it next to the
    field, before it reaches the database, instead of a bare 400 page."""
    response = client.post("/connexion", data={"username": "a\x00b", "password": "x\x00"})
    assert response.status_code == 200
    assert (
        "Le champ « Identifiant » contient un caractère invisible non autorisé (U+0000)."
        in text_of(response)
    )
    login("admin")
    response = client.post(
        "/admin/utilisateurs/nouveau",
        data={
            "username": "nul",
            "display_name": "A\x00B",
            "email": "a@b.fr",
            "role": "admin",
            "professional_id": "0",
            "password": "Abcdefgh-1234\x00",
            "confirm": "Abcdefgh-1234\x00",
        },
    )
    assert response.status_code in (200, 400)
    assert "Le champ « Nom affiché » contient un caractère invisible" in text_of(response)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "nul")) is None


# --- the JSON API ----------------------------------------------------------------------------


def test_api_responses_carry_the_security_headers(api, client):  # noqa: F811
    caller = api(scopes=("patients:read",))
    for response in (
        client.get("/api/v1/openapi.json"),
        client.get("/api/v1/patients"),  # 401
        caller.get("/api/v1/patients"),
        caller.get("/api/v1/patients/999999"),  # 404
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert _csp(response)["frame-ancestors"] == "'none'"
        assert response.mimetype in ("application/json", "application/problem+json")


def test_a_session_cookie_with_its_csrf_token_does_not_open_the_api(make_test_app, make, api):  # noqa: F811
    """The API is exempt from CSRF because no cookie authenticates it: a logged-in browser
    (cookie and CSRF token) is refused, a bearer token needs no CSRF token."""
    from rcp_app.patients.models import Patient

    app = make_test_app(WTF_CSRF_ENABLED=True)
    browser = app.test_client()
    user = make.user(role="coordinator")
    token = csrf_token_from(browser.get("/connexion").get_data(as_text=True))
    browser.post(
        "/connexion", data={"username": user.username, "password": PASSWORD, "csrf_token": token}
    )
    assert browser.get("/").status_code == 200  # logged in
    identity = {
        "birth_name": "NAVIGATEUR",
        "birth_first_names": "Jean",
        "first_birth_first_name": "Jean",
        "sex": "M",
        "birth_date": "1970-01-01",
        "identity_status": "PROV",
    }
    refused = browser.post("/api/v1/patients", json=identity, headers={"X-CSRFToken": token})
    assert refused.status_code == 401
    assert refused.mimetype == "application/problem+json"
    with app.app_context():
        assert db.session.scalar(select(Patient).where(Patient.birth_name == "NAVIGATEUR")) is None
    caller = api(scopes=("patients:write",))
    created = app.test_client().post("/api/v1/patients", json=identity, headers=caller.headers())
    assert created.status_code == 201, created.get_data(as_text=True)


def test_api_errors_are_french_problems_without_stack_trace(make_test_app):
    app = make_test_app(RCP_PROPAGATE_ERRORS_IN_TESTS=False)

    def broken():
        raise RuntimeError("secret internal detail: table api_tokens")

    app.add_url_rule("/api/v1/test-erreur-interne", "test_api_broken", broken)
    http = app.test_client()
    for path, method, status, title in (
        ("/api/v1/test-erreur-interne", "GET", 500, "Erreur interne"),
        ("/api/v1/nulle-part", "GET", 404, "Page introuvable"),
        ("/api/v1/oauth/token", "GET", 405, "Méthode non autorisée"),
    ):
        response = http.open(path, method=method)
        assert response.status_code == status, path
        assert response.mimetype == "application/problem+json", path
        body = response.get_json()
        assert body["title"] == title and body["status"] == status
        text = response.get_data(as_text=True)
        assert "secret internal detail" not in text and "RuntimeError" not in text
        _assert_no_stack_trace(text)
