"""The agenda's order: the "Monter" button with the keyboard and drag and drop, saved server-side
(« Ordre enregistré à … »), still there after a reload; no console error, no CSP violation."""

from __future__ import annotations

import re

from tests.support.factories import Factories

from .helpers import expect, scope_demo_coordinator


def _agenda(live_server, count: int = 3):
    make = Factories(live_server.app)
    rcp = make.rcp(name="RCP ordre du jour e2e")
    scope_demo_coordinator(live_server.app, rcp.id)
    session = make.session(rcp.id)
    cases = [make.agenda_item(session.id).case_id for _ in range(count)]
    return session.id, cases


def _order(page) -> list[str]:
    return page.locator("#agenda-body .agenda-row").evaluate_all(
        "rows => rows.map(r => r.querySelector('a').getAttribute('href'))"
    )


def test_reorder_with_keyboard_and_drag_and_drop(page, live_server, login_as):
    session_id, cases = _agenda(live_server)
    hrefs = [f"/dossiers/{c}" for c in cases]
    login_as("coordination")
    page.goto(f"/seances/{session_id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("RCP ordre du jour e2e")
    assert _order(page) == hrefs

    # Keyboard: focus "Monter" of the third case and press Enter (no page load: JavaScript).
    page.get_by_role("button", name=f"Monter le dossier n° {cases[2]}").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#order-status")).to_have_text(re.compile(r"Ordre enregistré à \d\dh\d\d"))
    assert _order(page) == [hrefs[0], hrefs[2], hrefs[1]]
    expect(page.get_by_role("button", name=f"Monter le dossier n° {cases[2]}")).to_be_focused()

    # Drag the first row below the last one.
    rows = page.locator("#agenda-body .agenda-row")
    page.locator("#order-status").evaluate("el => { el.textContent = ''; }")
    height = rows.nth(2).bounding_box()["height"]
    rows.nth(0).drag_to(rows.nth(2), target_position={"x": 20, "y": height - 4})
    expect(page.locator("#order-status")).to_have_text(re.compile(r"Ordre enregistré à"))
    assert _order(page) == [hrefs[2], hrefs[1], hrefs[0]]

    # Saved on the server: a reload shows the same order, and the buttons work without a
    # stale version.
    page.reload()
    assert _order(page) == [hrefs[2], hrefs[1], hrefs[0]]
    page.get_by_role("button", name=f"Monter le dossier n° {cases[0]}").click()
    expect(page.locator("#order-status")).to_have_text(re.compile(r"Ordre enregistré à"))
    page.reload()
    assert _order(page) == [hrefs[2], hrefs[0], hrefs[1]]
