"""The meeting page: a physician navigates with the keyboard and types a decision that saves
itself; a second browser session editing the same decision gets the conflict panel."""

from __future__ import annotations

import re

from sqlalchemy import select

from rcp_app.demo.loader import DEMO_PASSWORD
from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from tests.support.factories import Factories
from tests.test_cases_completeness import _with_tumour

from .conftest import TIMEOUT_MS
from .helpers import expect


def _session(live_server, count: int = 3):
    make = Factories(live_server.app)
    with live_server.app.app_context():
        rcp_id = db.session.scalar(select(Rcp.id).where(Rcp.name == "RCP Sénologie"))
    session = make.session(rcp_id, status="agenda_published")
    items = [make.agenda_item(session.id) for _ in range(count)]
    _with_tumour(
        live_server.app,
        items[0].case_id,
        "C50.4",
        {"breast.er": "80", "breast.her2": "3+"},
        morphology_code="8500/3",
        tnm_edition="UICC8",
        clinical_t="T2",
        clinical_n="N1",
        clinical_m="M0",
        stage_group="IIB",
        stage_edition="UICC8",
        stage_basis="clinical",
    )
    return session.id, [item.id for item in items]


def _login(page, username: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(re.compile(r"/$"))


def test_meeting_keyboard_autosave_and_conflict(
    page, browser, live_server, login_as, screenshot_dir
):
    session_id, items = _session(live_server)
    url = f"/seances/{session_id}/reunion?dossier={items[0]}"
    login_as("dr.martin")

    # A second browser session opens the same decision before anything is saved.
    other_context = browser.new_context(
        base_url=live_server.url,
        viewport={"width": 1366, "height": 768},
        locale="fr-FR",
        timezone_id="Europe/Paris",
    )
    other_context.set_default_timeout(TIMEOUT_MS)
    other = other_context.new_page()
    try:
        _login(other, "coordination")
        other.goto(url)
        expect(other.locator("#decision-form")).to_be_visible()

        page.goto(url)
        expect(page.locator(".meeting-agenda-item.current")).to_contain_text("1.")
        page.keyboard.press("n")
        page.wait_for_url(re.compile(rf"dossier={items[1]}$"))
        expect(page.locator(".meeting-agenda-item.current")).to_contain_text("2.")
        page.keyboard.press("p")
        page.wait_for_url(re.compile(rf"dossier={items[0]}$"))
        expect(page.locator("#shortcuts")).to_contain_text("suivant")
        page.screenshot(path=str(screenshot_dir / "meeting-1366x768.png"))

        # Type a decision: saved without clicking anything.
        page.keyboard.press("d")
        page.get_by_label("Détails de la proposition").fill("Tumorectomie puis radiothérapie")
        expect(page.locator("#save-state")).to_have_text(re.compile(r"Enregistré à \d\dh\d\d"))

        # The second session, still on version 0, types a comment: conflict panel.
        other.get_by_label("Commentaires").fill("Avis de la coordination")
        conflict = other.locator("#conflict")
        expect(conflict).to_be_visible()
        expect(conflict).to_contain_text("Votre version")
        expect(conflict).to_contain_text("Avis de la coordination")
        expect(conflict).to_contain_text(re.compile(r"Version enregistrée par .+ à \d\dh\d\d"))
        expect(conflict).to_contain_text("Tumorectomie puis radiothérapie")
        other.screenshot(path=str(screenshot_dir / "meeting-conflict.png"))
        other.get_by_role("button", name="Garder ma version").click()
        expect(other.locator("#save-state")).to_have_text(re.compile(r"Enregistré à"))
        expect(conflict).to_be_hidden()
    finally:
        other_context.close()

    # Network down: the text stays in the browser, and is saved when the network is back.
    page.problems.allow("ERR_INTERNET_DISCONNECTED")
    page.goto(f"/seances/{session_id}/reunion?dossier={items[1]}")
    page.context.set_offline(True)
    page.get_by_label("Examens ou avis complémentaires demandés").fill("IRM mammaire")
    expect(page.locator("#save-state")).to_have_text("Hors ligne — nouvel essai…")
    kept = page.evaluate(f"localStorage.getItem('rcp-decision-{items[1]}-v0')")
    assert kept and "IRM mammaire" in kept
    page.context.set_offline(False)
    expect(page.locator("#save-state")).to_have_text(re.compile(r"Enregistré à \d\dh\d\d"))
    assert page.evaluate(f"localStorage.getItem('rcp-decision-{items[1]}-v0')") is None

    page.goto(url)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.reload()
    expect(page.get_by_label("Commentaires")).to_have_value("Avis de la coordination")
    page.screenshot(path=str(screenshot_dir / "meeting-1920x1080.png"))
