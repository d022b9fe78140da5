"""Fixtures: one migrated database per test run, one rolled-back transaction per test.

The database is SQLite in a temporary folder, or PostgreSQL when RCP_TEST_DATABASE_URL is set
(a throw-away database is created on that server and dropped at the end).

Do not hold an app context open while using the test client: Flask would share ``g`` (and
Flask-Login's cached user) between requests. Use ``with app.app_context():`` blocks.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from contextlib import contextmanager

import pytest
from flask_migrate import upgrade

from rcp_app import create_app
from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin
from tests.support import factories
from tests.support.databases import temporary_database


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with temporary_database(os.environ.get("RCP_TEST_DATABASE_URL"), tmp_path_factory) as url:
        yield url


_ATTACHMENTS_DIR = tempfile.mkdtemp(prefix="rcp-test-attachments-")
atexit.register(shutil.rmtree, _ATTACHMENTS_DIR, ignore_errors=True)
_CHECKPOINT_DIR = tempfile.mkdtemp(prefix="rcp-test-audit-checkpoints-")
atexit.register(shutil.rmtree, _CHECKPOINT_DIR, ignore_errors=True)
# The seal and CA of the signed fiches: a test PKI generated once per run, on first use.
PKI_DIR = tempfile.mkdtemp(prefix="rcp-test-pki-")
atexit.register(shutil.rmtree, PKI_DIR, ignore_errors=True)
PKI_SETTINGS = {
    "RCP_TEST_PKI_DIR": PKI_DIR,
    "RCP_SEAL_P12": os.path.join(PKI_DIR, "test-seal.p12"),
    "RCP_SEAL_PASSPHRASE": None,
    "RCP_SEAL_PASSPHRASE_FILE": os.path.join(PKI_DIR, "test-seal.passphrase"),
    "RCP_TRUST_ROOTS": [os.path.join(PKI_DIR, "test-ca.pem")],
}


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "SERVER_NAME": "rcp.test",
        # Only what the test sets: the developer's environment must not leak in.
        "ENV_VARS": {
            "RCP_SECRET_KEY": "test-secret-key-not-for-production",
            "RCP_AUDIT_KEY": "test-audit-key-not-for-production",
        },
        # Case attachments go to a temporary folder, never to instance/.
        "RCP_ATTACHMENTS_DIR": _ATTACHMENTS_DIR,
        # Sealed audit checkpoints go to a temporary folder too.
        "RCP_AUDIT_CHECKPOINT_DIR": _CHECKPOINT_DIR,
        **PKI_SETTINGS,
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_url):
    app = make_app(database_url)
    with app.app_context():
        upgrade()
        load_builtin()
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _rollback_after_each_test(request):
    """Run each test inside a transaction that is rolled back at the end.

    The app's default engine is swapped for one connection holding an outer transaction;
    the application's own commits become savepoint releases.
    """
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        engines = db._app_engines[app]
        engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection
    original_session = db.session
    db.session = db._make_scoped_session(
        {"join_transaction_mode": "create_savepoint", "expire_on_commit": False}
    )
    try:
        yield
    finally:
        db.session = original_session
        engines[None] = engine
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_test_app(app, database_url):
    """``make_test_app(WTF_CSRF_ENABLED=True)``: another app (other settings) whose database
    work happens inside the current test's transaction, like the ``app`` fixture's (so it is
    rolled back too, and does not wait for the SQLite write lock that transaction holds)."""

    def _make(**overrides):
        other = make_app(database_url, **overrides)
        with app.app_context():
            connection = db._app_engines[app][None]
        db._app_engines[other][None] = connection
        return other

    return _make


@contextmanager
def in_app(app):
    with app.app_context():
        yield
        db.session.commit()


@pytest.fixture
def make(app):
    """Factories bound to the app: ``make.user(role="physician")``, ``make.patient()``…"""
    return factories.Factories(app)


@pytest.fixture
def login(app, client, make):
    """``login("coordinator")`` creates a user with that role, logs in and returns it.

    With ``team=True`` (the default) the user is part of what the test builds (``make.enrol``:
    a physician registered its patients and cases, a coordinator runs its establishments), as
    every feature test assumes; access tests pass ``team=False`` and build the relationships
    they test."""

    def _login(role: str = "admin", team: bool = True, **user_fields):
        user = make.user(role=role, **user_fields)
        if team:
            make.enrol(user)
        response = client.post(
            "/connexion",
            data={"username": user.username, "password": factories.PASSWORD},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return user

    return _login


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)
