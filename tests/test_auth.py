"""Login, lockout, throttling, TOTP two-factor authentication, sessions, configuration."""

from __future__ import annotations

import html
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from rcp_app.auth.models import LoginAttempt, User
from rcp_app.config import ConfigurationError, build_config
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from tests.support.factories import PASSWORD

GENERIC = "Identifiant ou mot de passe incorrect."
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NEW_PASSWORD = "Encore-un-mot-de-passe-77"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _post_login(client, username: str, password: str = PASSWORD, next_url: str | None = None):
    url = "/connexion" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password})


def _saved(app, user_id: int) -> User:
    with app.app_context():
        user = db.session.get(User, user_id)
        db.session.expunge(user)
        return user


def _audit(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
        ).all()
        db.session.expunge_all()
        return rows


def _code(secret: str = SECRET, shift_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * shift_steps)


# --- password login ------------------------------------------------------------------------


def test_login_success(app, client, make):
    user = make.user(role="coordinator", username="dupont.marie")
    response = _post_login(client, "  DUPONT.marie ")  # case and spaces do not matter
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    [row] = _audit(app, "auth.login")
    assert row.user_id == user.id and row.username == user.username  # named, not "anonyme"
    saved = _saved(app, user.id)
    assert saved.last_login_at is not None and saved.failed_logins == 0


@pytest.mark.parametrize("username", ["inconnu", "victime"])
def test_login_failure_gives_the_same_generic_message(app, client, make, username):
    make.user(role="coordinator", username="victime")
    response = _post_login(client, username, "mauvais-mot-de-passe")
    assert response.status_code == 200
    assert GENERIC in text_of(response)
    assert client.get("/").status_code == 302
    [row] = _audit(app, "auth.login_failed")
    assert row.user_id is None and row.username == "anonyme" and row.ip == "127.0.0.1"
    assert row.details_dict()["reason"] == "bad_password"
    assert "mauvais-mot-de-passe" not in row.details


def test_empty_login_form_is_refused_in_french(client):
    response = client.post("/connexion", data={"username": "", "password": ""})
    assert response.status_code == 200 and "Ce champ est requis." in text_of(response)


def test_inactive_account_cannot_log_in(client, make):
    user = make.user(role="coordinator", active=False)
    assert GENERIC in text_of(_post_login(client, user.username, "mauvais"))
    assert "Ce compte est désactivé" in text_of(_post_login(client, user.username))
    assert client.get("/").status_code == 302


def test_logged_in_user_visiting_login_goes_home(client, login):
    login("coordinator")
    response = client.get("/connexion")
    assert response.status_code == 302 and response.headers["Location"] == "/"


# --- lockout and throttling ----------------------------------------------------------------


def test_lockout_after_max_failures(app, client, make):
    user = make.user(role="physician")
    limit = app.config["RCP_LOGIN_MAX_FAILURES"]
    assert limit == 5
    for _ in range(limit - 1):
        assert GENERIC in text_of(_post_login(client, user.username, "faux"))
    response = _post_login(client, user.username, "faux")
    saved = _saved(app, user.id)
    assert saved.locked_until is not None
    assert saved.locked_until - utcnow() > timedelta(minutes=14)
    # The locked account answers like an unknown one (tests/test_login_hardening.py), even
    # with the right password.
    assert GENERIC in text_of(response)
    assert GENERIC in text_of(_post_login(client, user.username))
    assert client.get("/").status_code == 302
    failed = _audit(app, "auth.login_failed")
    assert len(failed) == limit + 1
    assert failed[-1].details_dict()["reason"] == "locked"
    [locked] = _audit(app, "auth.locked")
    assert locked.object_id == str(user.id)
    with app.app_context():
        attempts = db.session.scalar(
            select(func.count(LoginAttempt.id)).where(
                LoginAttempt.username == user.username, LoginAttempt.success.is_(False)
            )
        )
        assert attempts == limit + 1


def test_lockout_ends_after_its_delay(app, client, make):
    user = make.user(role="physician", locked_until=utcnow() - timedelta(seconds=1))
    assert _post_login(client, user.username).status_code == 302
    assert _saved(app, user.id).locked_until is None


def test_unlock_by_admin(app, client, make):
    user = make.user(role="physician")
    for _ in range(5):
        _post_login(client, user.username, "faux")
    assert _post_login(client, user.username).status_code == 200  # locked: refused
    admin = make.user(role="admin")
    admin_client = app.test_client()
    _post_login(admin_client, admin.username)
    assert admin_client.post(f"/admin/utilisateurs/{user.id}/deverrouiller").status_code == 302
    assert _post_login(client, user.username).status_code == 302
    assert client.get("/").status_code == 200
    assert _audit(app, "user.unlock")[0].details_dict()["was_locked"] is True


def test_ip_slowdown_never_refuses_the_right_password(app, make, monkeypatch):
    """Past the threshold an address is slowed down, not shut out (one NAT for a hospital)."""
    monkeypatch.setitem(app.config, "RCP_LOGIN_IP_SLOWDOWN_AFTER", 3)
    waits = []
    monkeypatch.setattr("rcp_app.auth.throttle.sleep", waits.append)
    user = make.user(role="coordinator")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    for n in range(3):  # different unknown accounts: no account lockout is involved
        assert GENERIC in text_of(_post_login(attacker, f"inconnu{n}", "faux"))
    assert waits == []
    response = _post_login(attacker, user.username)  # the right password still logs in
    assert response.status_code == 302 and attacker.get("/").status_code == 200
    assert waits == [0.5]
    [row] = _audit(app, "auth.ip_throttled")
    assert row.ip == "203.0.113.9" and row.details_dict()["delay"] == 0.5
    # Another address is not slowed down.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    assert _post_login(other, user.username).status_code == 302
    assert waits == [0.5]
    assert _saved(app, user.id).locked_until is None


# --- TOTP ----------------------------------------------------------------------------------


def test_totp_enrolment(app, client, login):
    user = login("coordinator")
    response = client.get("/compte/double-authentification")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'src="data:image/svg+xml;base64,' in page
    with client.session_transaction() as session:
        secret = session["pending_totp_secret"]
    assert secret in page  # the key to type by hand
    response = client.post("/compte/double-authentification", data={"code": "000000"})
    if pyotp.TOTP(secret).verify("000000", valid_window=1):  # pragma: no cover - 1 in 300 000
        pytest.skip("the wrong code happened to be right")
    assert "Le code saisi ne correspond pas" in text_of(response)
    assert not _saved(app, user.id).totp_enabled
    response = client.post(
        "/compte/double-authentification", data={"code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 302
    saved = _saved(app, user.id)
    assert saved.totp_enabled and saved.totp_secret == secret
    [row] = _audit(app, "auth.totp_enabled")
    assert secret not in row.details
    # Enrolled: the next login asks for a code.
    client.post("/deconnexion")
    response = _post_login(client, user.username)
    assert response.headers["Location"] == "/connexion/code"


def test_login_with_totp_and_replay_refused(app, client, make):
    user = make.user(role="physician", totp_secret=SECRET, totp_enabled_at=utcnow())
    response = _post_login(client, user.username)
    assert response.status_code == 302 and response.headers["Location"] == "/connexion/code"
    assert client.get("/").status_code == 302  # not logged in before the code
    bad = client.post("/connexion/code", data={"code": "12345"})
    assert "Saisissez les 6 chiffres du code." in text_of(bad)
    code = _code()
    response = client.post("/connexion/code", data={"code": code[:3] + " " + code[3:]})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert _saved(app, user.id).totp_last_step is not None
    # Replay: the same code, seen by someone else, is refused within its validity window.
    client.post("/deconnexion")
    assert _post_login(client, user.username).headers["Location"] == "/connexion/code"
    response = client.post("/connexion/code", data={"code": code})
    assert "Code de vérification incorrect ou expiré." in text_of(response)
    assert client.get("/").status_code == 302
    # The next time-step's code is still accepted (clock drift window).
    response = client.post("/connexion/code", data={"code": _code(shift_steps=1)})
    assert response.status_code == 302 and client.get("/").status_code == 200


def test_totp_failures_lock_the_account(app, client, make):
    user = make.user(role="physician", totp_secret=SECRET, totp_enabled_at=utcnow())
    _post_login(client, user.username)
    wrong = str((int(_code()) + 500_000) % 1_000_000).zfill(6)
    for _ in range(5):
        response = client.post("/connexion/code", data={"code": wrong})
    assert "temporairement verrouillé" in text_of(response)
    assert _saved(app, user.id).locked_until is not None
    response = client.post("/connexion/code", data={"code": _code()})
    assert "temporairement verrouillé" in text_of(response)
    assert client.get("/").status_code == 302


def test_code_step_cannot_be_skipped_through_enrolment(app, client, make):
    """Knowing the password is not enough to replace an enrolled second factor."""
    user = make.user(role="physician", totp_secret=SECRET, totp_enabled_at=utcnow())
    _post_login(client, user.username)
    response = client.get("/connexion/activer-double-authentification")
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    attacker_secret = pyotp.random_base32()
    with client.session_transaction() as session:
        session["pending_totp_secret"] = attacker_secret
    client.post(
        "/connexion/activer-double-authentification",
        data={"code": pyotp.TOTP(attacker_secret).now()},
    )
    assert client.get("/").status_code == 302
    assert _saved(app, user.id).totp_secret == SECRET


def test_code_page_needs_the_password_step(client):
    response = client.get("/connexion/code")
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"


def test_totp_required_for_role_forces_enrolment(make_test_app, make):
    app = make_test_app(ENV_VARS={"RCP_TOTP_REQUIRED_ROLES": "physician", "RCP_SECRET_KEY": "x"})
    client = app.test_client()
    physician = make.user(role="physician")
    response = _post_login(client, physician.username)
    assert response.headers["Location"] == "/connexion/activer-double-authentification"
    assert client.get("/").status_code == 302  # login not complete yet
    assert client.get("/connexion/code").status_code == 302  # no code to give yet
    page = client.get("/connexion/activer-double-authentification").get_data(as_text=True)
    assert "obligatoire pour votre rôle" in page
    assert 'src="data:image/svg+xml;base64,' in page
    with client.session_transaction() as session:
        secret = session["pending_totp_secret"]
    response = client.post(
        "/connexion/activer-double-authentification", data={"code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    # Required: the user cannot switch it off.
    response = client.post("/compte/double-authentification/desactiver", follow_redirects=True)
    assert "obligatoire pour votre rôle" in text_of(response)
    with app.app_context():
        assert db.session.get(User, physician.id).totp_enabled
    # Other roles still log in with a password alone.
    coordinator = make.user(role="coordinator")
    other = app.test_client()
    assert _post_login(other, coordinator.username).headers["Location"] == "/"


def test_optional_totp_can_be_disabled(app, client, login):
    user = login("coordinator")
    with app.app_context():
        saved = db.session.get(User, user.id)
        saved.totp_secret, saved.totp_enabled_at = SECRET, utcnow()
        db.session.commit()
    response = client.post("/compte/double-authentification/desactiver")
    assert response.status_code == 302
    assert not _saved(app, user.id).totp_enabled
    assert _audit(app, "auth.totp_disabled")


# --- sessions ------------------------------------------------------------------------------


def test_session_expires_after_inactivity(app, client, login):
    login("coordinator")
    assert client.get("/").status_code == 200
    idle = app.config["RCP_SESSION_IDLE"]
    with client.session_transaction() as session:
        session["last_seen"] = datetime.now(UTC).timestamp() - idle.total_seconds() + 60
    assert client.get("/").status_code == 200  # 1 minute left: still open
    with client.session_transaction() as session:
        session["last_seen"] = datetime.now(UTC).timestamp() - idle.total_seconds() - 1
    response = client.get("/compte")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=/compte")
    page = text_of(client.get("/connexion"))
    assert "Votre session a expiré après 30 minutes d'inactivité" in page
    assert client.get("/").status_code == 302  # really logged out


def test_session_is_cleared_at_login(client, make):
    user = make.user(role="coordinator")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    _post_login(client, user.username)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.permanent


def test_password_change_ends_other_sessions(app, client, make):
    user = make.user(role="physician")
    other = app.test_client()
    _post_login(client, user.username)
    _post_login(other, user.username)
    assert other.get("/").status_code == 200
    url = "/compte/mot-de-passe"
    wrong = client.post(
        url,
        data={"current_password": "faux", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert "Le mot de passe actuel est incorrect." in text_of(wrong)
    weak = client.post(
        url, data={"current_password": PASSWORD, "new_password": "faible", "confirm": "faible"}
    )
    assert "au moins 12 caractères" in text_of(weak)
    assert other.get("/").status_code == 200  # nothing changed yet
    response = client.post(
        url,
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/compte").status_code == 200  # this session goes on
    response = other.get("/")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    assert _audit(app, "auth.password_changed")
    client.post("/deconnexion")
    assert GENERIC in text_of(_post_login(client, user.username, PASSWORD))
    assert _post_login(client, user.username, NEW_PASSWORD).status_code == 302


def test_logout_is_post_only(app, client, login):
    user = login("gp")
    assert client.get("/deconnexion").status_code == 405
    assert client.get("/").status_code == 200  # a GET (e.g. an <img> elsewhere) logs no one out
    response = client.post("/deconnexion")
    assert response.status_code == 302 and response.headers["Location"] == "/connexion"
    assert client.get("/").status_code == 302
    [row] = _audit(app, "auth.logout")
    assert row.user_id == user.id


def test_a_cookie_copied_before_logout_is_dead_after_it(app, client, login, make):
    user = login("physician")
    patient = make.patient()
    cookie = client.get_cookie("rcp_session", domain="rcp.test").value
    assert client.get(f"/patients/{patient.id}").status_code == 200
    client.post("/deconnexion")
    thief = app.test_client()
    thief.set_cookie("rcp_session", cookie, domain="rcp.test")
    response = thief.get(f"/patients/{patient.id}")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    # Only the legitimate view, before logout, is in the audit.
    views = [r for r in _audit(app, "patient.view") if r.patient_id == patient.id]
    assert [r.user_id for r in views] == [user.id]


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/%2F..",
        "https://evil.example/",
        "/\\evil.example",
        "/%09/evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_open_redirect_refused(client, make, target):
    user = make.user(role="coordinator")
    response = _post_login(client, user.username, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_is_followed_when_local(client, make):
    user = make.user(role="coordinator")
    response = _post_login(client, user.username, next_url="/compte")
    assert response.headers["Location"] == "/compte"


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/compte")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/connexion?next=")


# --- configuration -------------------------------------------------------------------------


def test_production_refuses_to_start_without_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="RCP_SECRET_KEY"):
        build_config(str(tmp_path), {"RCP_ENV": "production"})
    assert not (tmp_path / "secret_key").exists()  # nothing was guessed


def test_production_settings(tmp_path):
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        build_config(str(tmp_path), {"RCP_ENV": "production", "RCP_SECRET_KEY": "s"})
    production = {
        "RCP_ENV": "production",
        "RCP_SECRET_KEY": "s",
        "RCP_DATABASE_URL": "postgresql+psycopg://rcp@db/rcp",
    }
    with pytest.raises(ConfigurationError, match="RCP_SEAL_P12, RCP_TRUST_ROOTS"):
        build_config(str(tmp_path), production)
    signing = {
        "RCP_SEAL_P12": "/etc/rcp/cachet.p12",
        "RCP_TRUST_ROOTS": "/etc/rcp/ac.pem",
        "RCP_OID_ROOT": "1.2.250.1.999.7",
        "RCP_PUBLIC_URL": "https://rcp.example.fr",
    }
    with pytest.raises(ConfigurationError, match="RCP_AUDIT_KEY_FILE"):
        build_config(str(tmp_path), {**production, **signing})
    assert not (tmp_path / "audit_key").exists()  # the audit key is never guessed either
    key_file = tmp_path / "audit.key"
    key_file.write_text("cle-du-journal\n")
    config = build_config(
        str(tmp_path), {**production, **signing, "RCP_AUDIT_KEY_FILE": str(key_file)}
    )
    assert config["RCP_AUDIT_KEY"] == "cle-du-journal"
    # No test PKI is ever generated for production.
    assert config["RCP_TEST_PKI_DIR"] is None and config["RCP_TRUST_ROOTS"] == ["/etc/rcp/ac.pem"]
    assert config["SECRET_KEY"] == "s"
    assert config["RCP_TOTP_REQUIRED_ROLES"] == {"admin", "coordinator", "physician", "gp", "dpo"}
    assert config["SESSION_COOKIE_SECURE"] is True
    with pytest.raises(ConfigurationError, match="rôles inconnus"):
        build_config(str(tmp_path), {"RCP_SECRET_KEY": "s", "RCP_TOTP_REQUIRED_ROLES": "chef"})


def test_local_runs_generate_a_secret_once(tmp_path):
    first = build_config(str(tmp_path), {})
    second = build_config(str(tmp_path), {})
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["RCP_TOTP_REQUIRED_ROLES"] == frozenset()  # demo: password alone


def test_passwords_are_hashed_with_argon2id(app, make):
    user = make.user(role="gp")
    assert user.password_hash.startswith("$argon2id$")
