"""End-to-end fixtures: the real application served over HTTP, driven by a real Chromium.

- ``live_server`` (session): ``create_app`` on a temporary SQLite file, migrated, with the
  built-in terminology and the demo data, CSRF enabled, served by werkzeug in a thread on
  127.0.0.1 (free port). It does not use the rolled-back transaction of ``tests/conftest.py``
  (that fixture only acts for tests requesting ``app``): what a test saves stays saved, so each
  test creates what it needs with unique values or only reads the demo data.
- ``browser`` (session): Playwright (sync API) launching Debian's Chromium through
  ``executable_path`` (``/usr/bin/chromium``, or ``RCP_E2E_CHROMIUM``). Without Chromium or
  Playwright the tests are skipped with a message, except under ``CI=true`` where they fail.
- ``page``: a fresh browser context (1366×768, fr-FR) per test. Console errors, uncaught page
  errors, CSP violations and server errors (5xx) fail the test at teardown.
- ``login_as(username)``: logs a demo account in through the login form.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import request, request_finished
from flask_migrate import upgrade
from werkzeug.serving import make_server

from rcp_app.demo.loader import DEMO_PASSWORD, load_demo
from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin
from tests.conftest import make_app

E2E_DIR = Path(__file__).resolve().parent
DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Flags that work on these machines (no sandbox as root, no GPU, no network but loopback).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
TIMEOUT_MS = 10_000

_screenshot_dirs: list[Path] = []


def pytest_collection_modifyitems(config, items):
    browser_tests = []
    for item in items:
        if E2E_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
            browser_tests.append(item)
    # Last: Playwright's sync API keeps an event loop running in the main thread until the
    # session ends, and libraries calling asyncio.run (pyHanko) refuse to run under it.
    last = set(browser_tests)
    others = [item for item in items if item not in last]
    items[:] = others + browser_tests


def pytest_terminal_summary(terminalreporter):
    for directory in _screenshot_dirs:
        if any(directory.iterdir()):
            terminalreporter.write_line(f"Captures d'écran des tests de bout en bout : {directory}")


def _unavailable(reason: str):
    """Skip locally, fail in CI: the browser tests must never be silently skipped there."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true : les tests de bout en bout sont obligatoires)")
    pytest.skip(f"{reason} : tests de bout en bout sautés")


def chromium_path() -> str:
    path = os.environ.get("RCP_E2E_CHROMIUM") or DEFAULT_CHROMIUM
    resolved = shutil.which(path)
    if resolved is None:
        _unavailable(
            f"Chromium introuvable ({path}) ; installez le paquet Debian « chromium » "
            "ou indiquez son chemin dans RCP_E2E_CHROMIUM"
        )
    return resolved


# --- server ------------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    app: object
    errors: list[str] = field(default_factory=list)  # "GET /path → 500"


def _read_whole(app):
    """Read each response whole, then close it, before the server writes it.

    Werkzeug's development server skips the response's ``close()`` when the browser hangs up
    mid-response (a context closed while a stylesheet loads): the file behind a static response
    would then leak, a ResourceWarning that fails a later test. Test pages are small.
    """

    def wsgi(environ, start_response):
        iterable = app(environ, start_response)
        try:
            return [b"".join(iterable)]
        finally:
            if hasattr(iterable, "close"):
                iterable.close()

    return wsgi


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("e2e")
    app = make_app(
        f"sqlite:///{folder / 'rcp-e2e.sqlite3'}",
        TESTING=False,  # real error pages, exceptions not propagated to the server
        WTF_CSRF_ENABLED=True,
        SERVER_NAME=None,
        RCP_ATTACHMENTS_DIR=str(folder / "attachments"),
    )
    with app.app_context():
        upgrade()
        load_builtin()
        db.session.commit()
        load_demo()
        db.session.commit()
        db.session.remove()

    server = make_server("127.0.0.1", 0, _read_whole(app), threaded=True)
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)

    def record(_sender, response, **_extra):
        # The app's own handler turns exceptions into a 500 page (logged): catch those here.
        if response.status_code >= 500:
            live.errors.append(f"{request.method} {request.full_path} → {response.status_code}")

    request_finished.connect(record, app)
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    yield live
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    request_finished.disconnect(record, app)
    with app.app_context():
        db.engine.dispose()


# --- browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Le paquet Python « playwright » n'est pas installé (make install)")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
    except Exception:
        playwright.stop()
        raise
    yield browser
    browser.close()
    playwright.stop()


@dataclass
class BrowserProblems:
    """What the page reported that a user would never see but a developer must."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    allowed: list[re.Pattern] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Tolerate console errors matching ``pattern`` (e.g. an expected 409 response)."""
        self.allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        console = [
            text for text in self.console_errors if not any(p.search(text) for p in self.allowed)
        ]
        return [
            *(f"console: {t}" for t in console),
            *(f"pageerror: {t}" for t in self.page_errors),
            *(f"CSP: {t}" for t in self.csp_violations),
        ]


# Reports every CSP violation of every page of the context to the test (runs before page scripts,
# outside the page's CSP).
_CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__rcpCspViolation(
    event.violatedDirective + " " + (event.blockedURI || "inline") + " @ " + event.documentURI
  );
});
"""


def _open_page(browser, live_server, viewport: dict):
    """A fresh context at ``viewport``; returns (page, context, problems, errors_before)."""
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, locale="fr-FR", timezone_id="Europe/Paris"
    )
    context.set_default_timeout(TIMEOUT_MS)
    problems = BrowserProblems()
    context.expose_function("__rcpCspViolation", lambda text: problems.csp_violations.append(text))
    context.add_init_script(_CSP_LISTENER)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            message.type == "error"
            and problems.console_errors.append(f"{message.text} ({page.url})")
        ),
    )
    page.on("pageerror", lambda error: problems.page_errors.append(str(error)))
    page.problems = problems
    return page, context, problems, len(live_server.errors)


def _check_closed(live_server, problems: BrowserProblems, errors_before: int) -> None:
    server_errors = live_server.errors[errors_before:]
    assert not server_errors, f"server errors (see the captured log): {server_errors}"
    assert not problems.unexpected(), "\n".join(problems.unexpected())


@pytest.fixture
def page(browser, live_server):
    page, context, problems, errors_before = _open_page(browser, live_server, VIEWPORT)
    yield page
    context.close()
    _check_closed(live_server, problems, errors_before)


@pytest.fixture
def sized_page(browser, live_server):
    """``sized_page(390, 844)``: another page at that viewport, checked like ``page``.

    For layout tests (1366×768, 1280×800, 1024×768, 390×844, 360×740). Log in on it with
    ``login_on(sized, "dr.bernard")``.
    """
    opened = []

    def _open(width: int, height: int):
        page, context, problems, errors_before = _open_page(
            browser, live_server, {"width": width, "height": height}
        )
        opened.append((context, problems, errors_before))
        return page

    yield _open
    for context, _problems, _before in opened:
        context.close()
    for _context, problems, errors_before in opened:
        _check_closed(live_server, problems, errors_before)


def login_on(page, username: str, password: str = DEMO_PASSWORD):
    """Logs the demo account in on ``page`` through the login form, waits for the home page."""
    page.goto("/connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/$"))
    return page


@pytest.fixture
def login_as(page):
    """``login_as("dr.martin")``: logs the demo account in and waits for the home page."""

    def _login(username: str, password: str = DEMO_PASSWORD):
        return login_on(page, username, password)

    return _login


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("e2e-screenshots")
    _screenshot_dirs.append(directory)
    return directory
