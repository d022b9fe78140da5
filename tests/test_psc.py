"""Sign-in with Pro Santé Connect, against a real OpenID Connect provider on 127.0.0.1.

The Flask test client asks the application for the redirection to the provider; the test
follows it over HTTP (``requests``) to the provider's authorisation endpoint, which answers with
the code; the test client brings the code back to the callback, and the application exchanges it
over HTTP (token endpoint, JWKS, userinfo). Nothing of the protocol is stubbed.
"""

from __future__ import annotations

import html
import json
import re
import socket
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.auth.operations import GENERIC_LOGIN_ERROR, ROLE_NEEDS_PSC
from rcp_app.config import ConfigurationError, build_config
from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from tests.support.factories import PASSWORD
from tests.support.oidc_provider import Behaviour, OidcProvider

KEYS = {
    "RCP_SECRET_KEY": "test-secret-key-not-for-production",
    "RCP_AUDIT_KEY": "test-audit-key-not-for-production",
}
CONTACT = "la cellule 3C du CHU (poste 4242)"
NOT_VERIFIED = "La réponse de Pro Santé Connect n'a pas pu être vérifiée."


@pytest.fixture(scope="module")
def running_provider():
    with OidcProvider() as provider:
        yield provider


@pytest.fixture
def provider(running_provider):
    running_provider.national_id = None
    running_provider.behaviour = Behaviour()
    for seen in (
        running_provider.authorize_requests,
        running_provider.token_requests,
        running_provider.token_refusals,
    ):
        seen.clear()
    return running_provider


@pytest.fixture
def psc_app(make_test_app, provider):
    return make_test_app(ENV_VARS={**KEYS, **provider.settings(RCP_PSC_ACCESS_CONTACT=CONTACT)})


@pytest.fixture
def psc_client(psc_app):
    return psc_app.test_client()


@pytest.fixture
def physician(make):
    """A physician whose account is linked to the directory's professional (RPPS)."""
    professional = make.professional()
    user = make.user(role="physician", professional_id=professional.id)
    return user, professional.rpps


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def words_of(response) -> str:
    """The page's text as read: tags removed, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text_of(response)).split())


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        ).all()
        db.session.expunge_all()
        return rows


def _to_provider(client, path: str = "/connexion/psc") -> str:
    """The application's redirection to the provider, followed over HTTP; the callback path
    (with the code or the error) the provider sends the browser back to."""
    start = client.get(path)
    assert start.status_code == 302, text_of(start)[:300]
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:300]
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/connexion/psc/retour"
    return f"{back.path}?{back.query}"


def sign_in(client, path: str = "/connexion/psc"):
    return client.get(_to_provider(client, path))


def _refused_with(client, response, message: str) -> None:
    """Back on the login page with the French message, and not logged in."""
    assert response.status_code == 302
    assert response.headers["Location"] == "/connexion"
    page = client.get("/connexion")
    assert page.status_code == 200
    assert message in text_of(page)
    assert client.get("/").status_code == 302  # still anonymous


def _failure_reasons(app) -> list[str]:
    return [json.loads(row.details)["reason"] for row in _audit(app, "auth.psc_failed")]


# --- the login page -------------------------------------------------------------------------


def test_login_page_offers_psc_above_the_password_form(psc_client):
    page = text_of(psc_client.get("/connexion"))
    assert "Se connecter avec Pro Santé Connect" in page
    assert page.index("Se connecter avec Pro Santé Connect") < page.index('name="password"')
    assert 'href="/connexion/psc"' in page


def test_without_psc_settings_no_button_and_both_routes_answer_404(client):
    assert "Pro Santé Connect" not in text_of(client.get("/connexion"))
    assert client.get("/connexion/psc").status_code == 404
    assert client.get("/connexion/psc/retour?code=x&state=y").status_code == 404


# --- the flow ---------------------------------------------------------------------------------


def test_a_known_rpps_signs_in_without_the_totp_step(psc_app, psc_client, provider, physician):
    user, rpps = physician
    provider.national_id = "8" + rpps
    response = sign_in(psc_client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = psc_client.get("/")
    assert home.status_code == 200 and user.display_name in text_of(home)
    # The authorisation request: code flow, PKCE S256, a nonce, PSC's scopes and level.
    [asked] = provider.authorize_requests
    assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
    assert asked["nonce"] and asked["state"]
    assert asked["scope"] == "openid scope_all" and asked["acr_values"] == "eidas1"
    assert asked["redirect_uri"] == "http://rcp.test/connexion/psc/retour"
    [exchange] = provider.token_requests
    assert exchange["code_verifier"] and exchange["grant_type"] == "authorization_code"
    [row] = _audit(psc_app, "auth.login")
    assert row.user_id == user.id and json.loads(row.details) == {"method": "psc"}
    with psc_app.app_context():
        assert db.session.get(User, user.id).last_login_at is not None


def test_the_national_id_may_come_in_the_id_token(psc_client, provider, physician):
    _user, rpps = physician
    provider.national_id = "8" + rpps
    provider.behaviour.subject_in_id_token = True
    assert sign_in(psc_client).headers["Location"] == "/"


def test_the_page_asked_for_is_reached_after_psc(psc_client, provider, physician):
    _user, rpps = physician
    provider.national_id = "8" + rpps
    response = sign_in(psc_client, "/connexion/psc?next=/compte")
    assert response.headers["Location"] == "/compte"


def test_the_totp_step_is_skipped_even_when_the_role_requires_it(
    make_test_app, provider, physician
):
    app = make_test_app(ENV_VARS={**KEYS, **provider.settings(RCP_TOTP_REQUIRED_ROLES="physician")})
    client = app.test_client()
    _user, rpps = physician
    provider.national_id = "8" + rpps
    assert sign_in(client).headers["Location"] == "/"
    assert client.get("/").status_code == 200


# --- who is not recognised --------------------------------------------------------------------


def _unknown_page(app, client, national_id: str, shown: str):
    response = sign_in(client)
    assert response.status_code == 403
    page = words_of(response)
    assert "n'est relié à aucun compte" in page and shown in page
    assert f"adressez-vous à {CONTACT}" in page
    assert client.get("/").status_code == 302
    [row] = _audit(app, "auth.psc_unknown")
    assert json.loads(row.details) == {"national_id": national_id}
    assert row.patient_id is None and row.user_id is None
    assert _audit(app, "auth.login") == []


def test_an_unknown_rpps_gets_the_french_page(psc_app, psc_client, provider):
    provider.national_id = "810000000001"
    _unknown_page(psc_app, psc_client, "810000000001", "votre identifiant RPPS 10000000001")


def test_a_professional_without_an_account_gets_the_french_page(
    psc_app, psc_client, provider, make
):
    rpps = make.professional().rpps
    provider.national_id = "8" + rpps
    _unknown_page(psc_app, psc_client, "8" + rpps, rpps)


def test_a_deactivated_account_gets_the_french_page(psc_app, psc_client, provider, make):
    professional = make.professional()
    make.user(role="physician", professional_id=professional.id, active=False)
    provider.national_id = "8" + professional.rpps
    _unknown_page(psc_app, psc_client, "8" + professional.rpps, professional.rpps)


def test_a_non_rpps_identifier_gets_the_french_page(psc_app, psc_client, provider):
    provider.national_id = "0751234567"  # an ADELI holder (type 0)
    _unknown_page(psc_app, psc_client, "0751234567", "identifiant national 0751234567")


# --- the id_token is checked ----------------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour",
    [
        Behaviour(audience="une-autre-application"),
        # Authlib alone accepts another audience when azp names this client: the audience option
        # the application passes refuses it.
        Behaviour(audience="une-autre-application", authorized_party="rcp-oncologie-test"),
        Behaviour(expired=True),
        Behaviour(nonce="pas-le-nonce-de-cette-demande"),
        Behaviour(foreign_key=True),
    ],
    ids=["audience", "audience-with-azp", "expired", "nonce", "signature"],
)
def test_an_invalid_id_token_is_refused(psc_app, psc_client, provider, physician, behaviour):
    _user, rpps = physician
    provider.national_id = "8" + rpps
    provider.behaviour = behaviour
    _refused_with(psc_client, sign_in(psc_client), NOT_VERIFIED)
    assert _failure_reasons(psc_app) == ["invalid_id_token"]
    assert _audit(psc_app, "auth.login") == []


def test_a_tampered_state_is_refused_before_any_exchange(psc_app, psc_client, provider, physician):
    _user, rpps = physician
    provider.national_id = "8" + rpps
    callback = _to_provider(psc_client)
    state = parse_qs(urlsplit(callback).query)["state"][0]
    response = psc_client.get(callback.replace(state, state[:-2] + "xy"))
    _refused_with(psc_client, response, "ne vient pas de cette page")
    assert provider.token_requests == []
    assert _failure_reasons(psc_app) == ["state_mismatch"]


def test_the_callback_cannot_be_replayed(psc_app, psc_client, provider, physician):
    _user, rpps = physician
    provider.national_id = "8" + rpps
    callback = _to_provider(psc_client)
    assert psc_client.get(callback).headers["Location"] == "/"
    psc_client.post("/deconnexion")
    _refused_with(psc_client, psc_client.get(callback), "ne vient pas de cette page")


def test_the_provider_checks_the_pkce_verifier(psc_app, psc_client, provider, physician):
    """The verifier the application sends must be the one of the challenge it sent: change the
    one kept in the session and the provider refuses the code."""
    _user, rpps = physician
    provider.national_id = "8" + rpps
    callback = _to_provider(psc_client)
    with psc_client.session_transaction() as session:
        [key] = [k for k in session if k.startswith("_state_psc_")]
        data = session[key]
        data["data"]["code_verifier"] = "un-autre-verificateur-" + "x" * 30
        session[key] = data
    _refused_with(psc_client, psc_client.get(callback), "Pro Santé Connect a refusé la connexion")
    assert provider.token_refusals == ["invalid_grant"]
    assert _failure_reasons(psc_app) == ["provider_error:invalid_grant"]


def test_a_sign_in_cancelled_at_the_provider(psc_app, psc_client, provider):
    provider.behaviour.deny = True
    _refused_with(psc_client, sign_in(psc_client), "Pro Santé Connect a été annulée.")
    assert _failure_reasons(psc_app) == ["access_denied"]


def test_a_provider_out_of_reach_is_a_french_message(make_test_app):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_test_app(
        ENV_VARS={
            **KEYS,
            "RCP_PSC_ISSUER": f"http://127.0.0.1:{port}",
            "RCP_PSC_CLIENT_ID": "x",
            "RCP_PSC_CLIENT_SECRET": "y",
        }
    )
    client = app.test_client()
    _refused_with(client, client.get("/connexion/psc"), "Pro Santé Connect ne répond pas")
    assert _failure_reasons(app) == ["unreachable"]


# --- passwords switched off per role ----------------------------------------------------------


@pytest.fixture
def psc_only_for_physicians(make_test_app, provider):
    return make_test_app(
        ENV_VARS={**KEYS, **provider.settings(RCP_PASSWORD_LOGIN_ROLES="coordinator,admin,dpo")}
    )


def test_password_login_refused_for_a_role_only_once_the_password_is_proven(
    psc_only_for_physicians, make
):
    app = psc_only_for_physicians
    physician = make.user(role="physician")
    client = app.test_client()
    wrong = client.post("/connexion", data={"username": physician.username, "password": "faux"})
    assert GENERIC_LOGIN_ERROR in text_of(wrong)  # no hint about the account
    assert ROLE_NEEDS_PSC not in text_of(wrong)
    right = client.post("/connexion", data={"username": physician.username, "password": PASSWORD})
    assert right.status_code == 200 and ROLE_NEEDS_PSC in text_of(right)
    assert client.get("/").status_code == 302
    [row] = _audit(app, "auth.login_refused")
    assert row.object_id == str(physician.id)
    with app.app_context():
        assert db.session.get(User, physician.id).failed_logins == 1  # the wrong one only
    coordinator = make.user(role="coordinator")
    allowed = app.test_client().post(
        "/connexion", data={"username": coordinator.username, "password": PASSWORD}
    )
    assert allowed.status_code == 302


def test_psc_still_signs_in_a_role_without_password(psc_only_for_physicians, provider, physician):
    _user, rpps = physician
    provider.national_id = "8" + rpps
    assert sign_in(psc_only_for_physicians.test_client()).headers["Location"] == "/"


# --- settings ----------------------------------------------------------------------------------


def _settings(tmp_path, **env):
    return build_config(str(tmp_path), {**KEYS, **env})


def test_settings_defaults(tmp_path):
    config = _settings(tmp_path)
    assert config["RCP_PSC_ISSUER"] is None
    assert config["RCP_PSC_SCOPES"] == "openid scope_all"
    assert config["RCP_PASSWORD_LOGIN_ROLES"] == {"admin", "coordinator", "physician", "gp", "dpo"}


def test_settings_read_the_secret_from_a_file_and_trim_the_issuer(tmp_path):
    secret = tmp_path / "psc-secret"
    secret.write_text("le-secret\n")
    config = _settings(
        tmp_path,
        RCP_PSC_ISSUER="https://auth.esante.gouv.fr/auth/realms/esante-wallet/",
        RCP_PSC_CLIENT_ID="rcp",
        RCP_PSC_CLIENT_SECRET_FILE=str(secret),
        RCP_PASSWORD_LOGIN_ROLES="coordinator, admin",
    )
    assert config["RCP_PSC_ISSUER"] == "https://auth.esante.gouv.fr/auth/realms/esante-wallet"
    assert config["RCP_PSC_CLIENT_SECRET"] == "le-secret"
    assert config["RCP_PASSWORD_LOGIN_ROLES"] == {"coordinator", "admin"}


ISSUER = {"RCP_PSC_ISSUER": "https://psc.example", "RCP_PSC_CLIENT_ID": "rcp"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RCP_PSC_ISSUER": "https://psc.example"}, "RCP_PSC_CLIENT_ID, RCP_PSC_CLIENT_SECRET"),
        ({**ISSUER, "RCP_PSC_ISSUER": "http://psc.example"}, "adresse https"),
        ({**ISSUER, "RCP_PSC_ISSUER": "psc.example"}, "adresse https"),
        ({**ISSUER, "RCP_PSC_CLIENT_SECRET": "s", "RCP_PSC_SCOPES": "scope_all"}, "« openid »"),
        ({**ISSUER, "RCP_PSC_CLIENT_SECRET_FILE": "/nonexistent/psc"}, "illisible"),
        ({"RCP_PASSWORD_LOGIN_ROLES": "coordinator,medecin"}, "rôles inconnus : medecin"),
        ({"RCP_PASSWORD_LOGIN_ROLES": "coordinator,admin"}, "n'est pas configuré"),
        ({"RCP_PSC_ACCESS_CONTACT": "x" * 301}, "trop long"),
    ],
)
def test_bad_settings_stop_the_start_in_french(tmp_path, env, message):
    with pytest.raises(ConfigurationError, match=message):
        _settings(tmp_path, **env)
