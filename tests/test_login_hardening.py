"""Login: no account enumeration (same words, same work), and a per-address slowdown that
never refuses the right password nor waits inside a database transaction."""

from __future__ import annotations

import html

import pytest

from rcp_app.auth import passwords
from rcp_app.auth.operations import GENERIC_LOGIN_ERROR
from rcp_app.extensions import db
from tests.support.factories import PASSWORD


def _post_login(client, username: str, password: str = PASSWORD):
    return client.post("/connexion", data={"username": username, "password": password})


def _flash_of(response) -> str:
    """The page's alert text: what tells one refusal from another."""
    page = html.unescape(response.get_data(as_text=True))
    start = page.index('class="alert')
    return page[start : page.index("</div>", start)]


class _CountingHasher:
    """Wraps the Argon2 hasher: counts verifications and notes whether a transaction was open."""

    def __init__(self, inner):
        self.inner = inner
        self.verifications: list[bool] = []  # in_transaction() at each call

    def verify(self, *args):
        self.verifications.append(db.session().in_transaction())
        return self.inner.verify(*args)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture
def hasher(monkeypatch):
    counting = _CountingHasher(passwords._hasher)
    monkeypatch.setattr(passwords, "_hasher", counting)
    return counting


@pytest.fixture
def sleeps(monkeypatch):
    """The slowdown's waits, recorded instead of slept, with whether a transaction was open."""
    waits: list[tuple[float, bool]] = []
    monkeypatch.setattr(
        "rcp_app.auth.throttle.sleep",
        lambda seconds: waits.append((seconds, db.session().in_transaction())),
    )
    return waits


def _lock(app, client, username: str) -> None:
    for _ in range(app.config["RCP_LOGIN_MAX_FAILURES"]):
        _post_login(client, username, "faux")


@pytest.mark.parametrize("password", ["faux", PASSWORD])
def test_a_locked_account_answers_exactly_like_an_unknown_one(app, make, hasher, password):
    user = make.user(role="physician")
    locked_client, unknown_client = app.test_client(), app.test_client()
    _lock(app, locked_client, user.username)
    hasher.verifications.clear()
    locked = _post_login(locked_client, user.username, password)
    assert len(hasher.verifications) == 1  # the locked path verifies one hash too
    unknown = _post_login(unknown_client, "personne.inconnue", password)
    assert len(hasher.verifications) == 2  # … and so does the unknown-account path
    assert locked.status_code == unknown.status_code == 200
    assert _flash_of(locked) == _flash_of(unknown)
    assert GENERIC_LOGIN_ERROR in _flash_of(locked)
    assert "verrouillé" not in _flash_of(locked).replace(GENERIC_LOGIN_ERROR, "")
    # No Argon2 work while a transaction (SQLite's write lock) is open.
    assert hasher.verifications == [False, False]


def test_the_lockout_is_kept(app, client, make):
    user = make.user(role="physician")
    _lock(app, client, user.username)
    assert _post_login(client, user.username).status_code == 200  # right password, locked
    assert client.get("/").status_code == 302


def test_slowdown_grows_is_capped_and_waits_outside_any_transaction(app, make, sleeps, monkeypatch):
    monkeypatch.setitem(app.config, "RCP_LOGIN_IP_SLOWDOWN_AFTER", 2)
    monkeypatch.setitem(app.config, "RCP_LOGIN_IP_DELAY_STEP_SECONDS", 1.5)
    monkeypatch.setitem(app.config, "RCP_LOGIN_IP_DELAY_MAX_SECONDS", 4)
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.50"
    for n in range(6):  # unknown names: only the address counts
        _post_login(attacker, f"inconnu{n}", "faux")
    # Failures before each attempt: 0, 1, 2, 3, 4, 5 → waits from the 3rd attempt on.
    assert [seconds for seconds, _ in sleeps] == [1.5, 3.0, 4, 4]
    assert not any(in_transaction for _, in_transaction in sleeps)
    # A colleague behind the same address, with the right password, gets in (after the wait).
    user = make.user(role="coordinator")
    colleague = app.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "203.0.113.50"
    assert _post_login(colleague, user.username).status_code == 302
    assert sleeps[-1] == (4, False)
    assert colleague.get("/").status_code == 200


def test_totp_step_is_slowed_down_too(app, make, sleeps, monkeypatch):
    from rcp_app.core.timeutil import utcnow

    monkeypatch.setitem(app.config, "RCP_LOGIN_IP_SLOWDOWN_AFTER", 1)
    user = make.user(
        role="physician", totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", totp_enabled_at=utcnow()
    )
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.51"
    assert _post_login(client, user.username).headers["Location"] == "/connexion/code"
    client.post("/connexion/code", data={"code": "000000"})
    client.post("/connexion/code", data={"code": "000001"})
    assert sleeps and all(not in_transaction for _, in_transaction in sleeps)
