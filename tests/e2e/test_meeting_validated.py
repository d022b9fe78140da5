"""A decision validated on another screen: the meeting page turns read-only, never brings back a
draft kept in the browser, and forgets it."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.cases.models import Tumour
from rcp_app.decisions import operations as decisions
from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from rcp_app.meetings.models import AgendaItem
from tests.support.factories import Factories

from .conftest import TIMEOUT_MS
from .helpers import expect

# A complete decision (quorum « non atteint »: no attendance needed), ready for validation.
READY = {
    "proposal_code": "387713003",
    "proposal_details": "Tumorectomie et ganglion sentinelle",
    "file_complete": "yes",
    "quorum_status": "ORG-133",
    "outcome": "discussed",
}


def ready_session(
    live_server, count: int, status: str = "in_progress", ready: bool = True
) -> tuple[int, list[int]]:
    """A session of the demo « RCP Sénologie » (coordinated by dr.martin) with ``count`` cases,
    each with a complete decision, ready for validation unless told otherwise."""
    app = live_server.app
    make = Factories(app)
    with app.app_context():
        rcp_id = db.session.scalar(select(Rcp.id).where(Rcp.name == "RCP Sénologie"))
        martin = db.session.scalar(select(User.id).where(User.username == "dr.martin"))
    session = make.session(rcp_id, status=status)
    items = []
    for _ in range(count):
        item = make.agenda_item(session.id)
        with app.app_context():
            db.session.add(Tumour(case_id=item.case_id, rank=1, topography_code="C50.4"))
            row = db.session.get(AgendaItem, item.id)
            decisions.save_decision(row, READY, 0, martin)
            if ready:
                assert decisions.mark_ready(row) == []
            db.session.commit()
        items.append(item.id)
    return session.id, items


def _drafts(page, item_id: int) -> list[str]:
    return page.evaluate(
        """(prefix) => Object.keys(localStorage).filter((key) => key.startsWith(prefix))""",
        f"rcp-decision-{item_id}-",
    )


def test_validated_elsewhere_the_meeting_page_turns_read_only(
    page, browser, live_server, login_as, screenshot_dir
):
    session_id, (item_id,) = ready_session(live_server, 1)
    url = f"/seances/{session_id}/reunion?dossier={item_id}"
    login_as("dr.martin")
    page.goto(url)
    comments = page.get_by_label("Commentaires")
    comments.fill("Revoir en RCP de recours si progression")
    expect(page.locator("#save-state")).to_have_text(re.compile(r"Enregistré à \d\dh\d\d"))

    # Another browser validates and signs the fiche meanwhile.
    other_context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1366, "height": 768}, locale="fr-FR"
    )
    other_context.set_default_timeout(TIMEOUT_MS)
    other = other_context.new_page()
    other.on("dialog", lambda dialog: dialog.accept())  # « Valider et signer cette fiche ? »
    try:
        other.goto("/connexion")
        other.get_by_label("Identifiant").fill("dr.martin")
        other.get_by_label("Mot de passe").fill("Demo-RCP-2026!")
        other.get_by_role("button", name="Se connecter").click()
        other.wait_for_url(re.compile(r"/$"))
        other.goto(f"/seances/{session_id}/fiches")
        other.get_by_role("button", name="Valider et signer", exact=True).click()
        expect(other.get_by_role("heading", level=1)).to_contain_text("Fiche RCP", timeout=30_000)
    finally:
        other_context.close()

    # Typing on the stale page: the save is refused as validated, the page drops its copy and
    # shows the signed decision.
    page.problems.allow(r"status of 409")
    comments.fill("Texte tapé après la signature")
    notice = page.locator("#validated-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("validée et signée")
    expect(notice.get_by_role("link", name="Avenant")).to_be_visible()
    expect(page.get_by_label("Commentaires")).to_be_disabled()
    expect(page.get_by_label("Commentaires")).to_have_value(
        "Revoir en RCP de recours si progression"
    )
    assert _drafts(page, item_id) == []

    # A draft kept by this browser (an older tab, an offline moment) never comes back over it.
    version = page.locator("#f-version").input_value()
    draft = json.dumps({"comments": "Brouillon oublié", "version": version})
    for key in (f"rcp-decision-{item_id}-v{version}", f"rcp-decision-{item_id}-v1"):
        page.evaluate("([key, value]) => localStorage.setItem(key, value)", [key, draft])
    page.reload()
    expect(page.locator("#validated-notice")).to_be_visible()
    expect(page.locator("#restore-notice")).to_be_hidden()
    expect(page.get_by_label("Commentaires")).to_have_value(
        "Revoir en RCP de recours si progression"
    )
    assert _drafts(page, item_id) == []
    for control in ("Commentaires", "Détails de la proposition", "Proposition de première ligne"):
        expect(page.get_by_label(control)).to_be_disabled()
    expect(page.get_by_role("button", name="Enregistrer")).to_have_count(0)
    # The keyboard shortcuts change nothing either.
    page.locator("body").press("r")
    expect(page.locator("#f-outcome-discussed")).to_be_checked()
    assert _drafts(page, item_id) == []
    expect(page.locator(".meeting-agenda-item.current")).to_contain_text("validée et signée")
    page.screenshot(path=str(screenshot_dir / "meeting-validated.png"))
