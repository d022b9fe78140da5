"""« Valider et signer » one fiche in a browser: a confirmation first, then the button is
disabled and says what is happening until the signed fiche's page arrives; a second click
sends nothing (core/forms.py SLOW_ACTIONS, static/js/app.js)."""

from __future__ import annotations

import threading

from rcp_app.fiches import signing_flow
from tests.fiches.support import build_world
from tests.support.factories import PASSWORD, Factories

from .conftest import login_on
from .helpers import expect

# Clicks « Valider et signer » (the confirmation is answered by the test's dialog handler),
# clicks again, and returns what the form shows meanwhile. All in one synchronous evaluation:
# once the form's navigation has started, Playwright would wait for it (the server holds it)
# before running a later evaluation.
CLICK_TWICE_AND_READ = """() => {
  const form = document.querySelector("form[data-sign-item]");
  const button = form.querySelector("button");
  button.click();
  button.click();
  return {
    disabled: button.disabled,
    text: button.textContent.trim(),
    busy: form.getAttribute("aria-busy"),
    announced: document.querySelector("#busy-status[role=status]")?.textContent,
  };
}"""


def test_validate_and_sign_asks_then_shows_progress(page, live_server, screenshot_dir, monkeypatch):
    # Its own RCP, session and ready decision: the demo's are signed by tests/e2e/test_fiches.py.
    world = build_world(live_server.app, Factories(live_server.app))
    login_on(page, world.validator_username, PASSWORD)
    page.goto(f"/seances/{world.session_id}/fiches")
    form = page.locator("form[data-sign-item]")
    button = form.get_by_role("button")
    expect(button).to_have_text("Valider et signer")

    # The server signs only once the busy state has been seen (and counts the requests).
    release, calls = threading.Event(), []
    validate = signing_flow.validate

    def held_validate(*args, **kwargs):
        calls.append(args)
        release.wait(timeout=30)
        return validate(*args, **kwargs)

    monkeypatch.setattr(signing_flow, "validate", held_validate)
    questions = []

    # Declined: nothing is sent.
    def decline(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", decline)
    button.click()
    expect(button).to_be_enabled()
    assert calls == []
    assert "Valider et signer cette fiche ?" in questions[0]

    # Accepted: the button is disabled and shows progress while the server signs.
    def accept(dialog):
        questions.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    state = page.evaluate(CLICK_TWICE_AND_READ)
    assert state == {
        "disabled": True,
        "text": "Signature en cours…",
        "busy": "true",
        "announced": "Signature en cours…",
    }
    release.set()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fiche RCP")
    expect(page.get_by_role("status").filter(has_text="Fiche validée et signée")).to_be_visible()
    # The second click sent nothing more, and asked nothing.
    assert len(calls) == 1 and len(questions) == 2
    page.screenshot(path=str(screenshot_dir / "fiche-signee-apres-attente.png"))
    assert page.problems.unexpected() == []
