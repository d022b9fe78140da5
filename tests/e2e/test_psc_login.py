"""Signing in with Pro Santé Connect in a real browser, through the test OpenID Connect provider
(tests/support/oidc_provider.py) on 127.0.0.1: the button, the provider, the callback, home."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.extensions import db
from tests.support.oidc_provider import OidcProvider

from .helpers import expect

PSC_SETTINGS = ("RCP_PSC_ISSUER", "RCP_PSC_CLIENT_ID", "RCP_PSC_CLIENT_SECRET")


@pytest.fixture
def provider(live_server):
    """The provider running, and the live application configured for it for this test only."""
    config = live_server.app.config
    saved = {name: config[name] for name in PSC_SETTINGS}
    with OidcProvider() as provider:
        config.update(provider.settings())
        try:
            yield provider
        finally:
            config.update(saved)


def _rpps_of(live_server, username: str) -> str:
    with live_server.app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        rpps = user.professional.rpps
        db.session.remove()
        return rpps


def test_a_physician_signs_in_with_pro_sante_connect(page, live_server, provider):
    provider.national_id = "8" + _rpps_of(live_server, "dr.martin")
    page.goto("/connexion")
    page.get_by_role("link", name="Se connecter avec Pro Santé Connect").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Dr Claire Martin")
    expect(page.get_by_role("status").filter(has_text="Bienvenue")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    # The browser really went through the provider, with PKCE.
    [asked] = provider.authorize_requests
    assert asked["code_challenge_method"] == "S256"
    assert provider.token_requests and not provider.token_refusals
    assert page.problems.unexpected() == []


def test_an_unknown_professional_reads_whom_to_ask(page, provider):
    provider.national_id = "810000000001"
    page.problems.allow(r"status of 403")  # the refusal page is answered with 403
    page.goto("/connexion")
    page.get_by_role("link", name="Se connecter avec Pro Santé Connect").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aucun compte pour cet identifiant")
    expect(page.get_by_text("n'est relié à aucun compte actif")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_have_count(0)
