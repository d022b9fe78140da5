"""Logging in through the real login form, with CSRF, for every demo account."""

from __future__ import annotations

import re

import pytest

from rcp_app.auth.operations import GENERIC_LOGIN_ERROR

from .helpers import expect

# Each demo account and a heading only its role's home page shows.
HOMES = [
    ("admin", "Administration"),
    ("coordination", "Coordination des RCP"),
    ("dr.martin", "Bonjour Dr Claire Martin"),
    ("dr.nguyen", "Bonjour Dr Julien Nguyen"),
    ("dr.bernard", "Bonjour Dr Sophie Bernard"),
]


@pytest.mark.parametrize(("username", "heading"), HOMES, ids=[h[0] for h in HOMES])
def test_demo_account_reaches_its_home_page(page, login_as, username, heading):
    login_as(username)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("status").filter(has_text="Bienvenue")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert page.problems.unexpected() == []


def test_wrong_password_shows_the_french_error(page):
    page.goto("/connexion")
    page.get_by_label("Identifiant").fill("dr.nguyen")
    page.get_by_label("Mot de passe").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Se connecter").click()
    # The same words for an unknown account, a wrong password and a locked account.
    expect(page.get_by_role("alert")).to_have_text(GENERIC_LOGIN_ERROR)
    expect(page).to_have_url(re.compile(r"/connexion$"))
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
    # The username is kept, the password is not.
    expect(page.get_by_label("Identifiant")).to_have_value("dr.nguyen")
    expect(page.get_by_label("Mot de passe")).to_have_value("")
    assert page.problems.unexpected() == []


def test_csp_violations_and_console_errors_are_caught(page):
    """The checks above mean something: a blocked resource is reported both ways."""
    page.goto("/connexion")
    # Another origin (loopback, nothing listens): refused by the CSP before any request.
    page.evaluate(
        """() => { const img = document.createElement("img");
                   img.src = "http://127.0.0.2:9/tracker.png"; document.body.append(img); }"""
    )
    problems = page.problems
    for _ in range(100):  # the events reach Python while Playwright waits
        if problems.csp_violations and problems.console_errors:
            break
        page.wait_for_timeout(20)
    assert any("img-src" in v and "127.0.0.2" in v for v in problems.csp_violations)
    assert any("Content Security Policy" in e for e in problems.console_errors)
    problems.csp_violations.clear()
    problems.console_errors.clear()
