"""Keyboard only: log in and find a patient with Tab and Enter, the focus always visible."""

from __future__ import annotations

import re

from rcp_app.demo.loader import DEMO_PASSWORD

from .helpers import expect
from .test_meeting_validated import ready_session

_FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  return {
    element: el.tagName.toLowerCase() + (el.name ? "[name=" + el.name + "]" : "")
      + " " + (el.textContent || "").trim().slice(0, 40),
    href: el.getAttribute("href"),
    outline: style.outlineStyle,
    width: parseFloat(style.outlineWidth),
  };
}"""


def focused(page) -> dict:
    """The focused element, checked to show a visible focus outline."""
    info = page.evaluate(_FOCUSED)
    assert info["outline"] != "none" and info["width"] >= 2, f"focus not visible on {info}"
    return info


def arrive(page, heading: str) -> None:
    """Wait for the new page, its stylesheets loaded (the focus style comes from app.css)."""
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    page.wait_for_load_state("load")


def tab_until(page, predicate, max_steps: int = 15) -> dict:
    for _ in range(max_steps):
        page.keyboard.press("Tab")
        info = focused(page)
        if predicate(info):
            return info
    raise AssertionError("element not reached with Tab")


def test_login_and_patient_search_with_the_keyboard_only(page):
    page.goto("/connexion")
    # The username field has the focus on arrival.
    expect(page.get_by_label("Identifiant")).to_be_focused()
    assert focused(page)["element"].startswith("input[name=username]")
    page.keyboard.type("coordination")
    page.keyboard.press("Tab")
    assert focused(page)["element"].startswith("input[name=password]")
    page.keyboard.type(DEMO_PASSWORD)
    info = tab_until(page, lambda i: i["element"].startswith("button"))
    assert "Se connecter" in info["element"]
    page.keyboard.press("Enter")
    arrive(page, "Coordination des RCP")

    # The home page's search box has the focus: type, Enter.
    expect(page.get_by_label("Rechercher un patient")).to_be_focused()
    assert focused(page)["element"].startswith("input[name=q]")
    page.keyboard.type("rivie")
    page.keyboard.press("Enter")
    arrive(page, "Patients")
    expect(page).to_have_url(re.compile(r"/patients\?q=rivie"))
    # The search box keeps the focus; Tab to the first result and open it with Enter.
    expect(page.get_by_label("Nom, prénom ou matricule INS")).to_be_focused()
    assert focused(page)["element"].startswith("input[name=q]")
    tab_until(page, lambda i: bool(re.fullmatch(r"/patients/\d+", i["href"] or "")))
    page.keyboard.press("Enter")
    arrive(page, "Identité du patient")
    expect(page.get_by_role("region", name="Identité du patient")).to_contain_text("RIVIÈRE")


def test_after_marking_ready_the_next_case_is_one_key_away(page, live_server, login_as):
    session_id, items = ready_session(live_server, 3, ready=False)
    login_as("dr.martin")
    page.goto(f"/seances/{session_id}/reunion?dossier={items[0]}")
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Marquer prête pour validation").click()
    page.wait_for_url(re.compile(rf"dossier={items[0]}$"))
    page.wait_for_load_state("load")
    # The « Dossier suivant » action has the (visible) focus: Enter goes there.
    panel = page.locator("#next-case-panel")
    expect(panel).to_contain_text("Décision prête pour validation. Dossier suivant : n° 2")
    expect(page.locator("#next-case")).to_be_focused()
    assert focused(page)["href"].endswith(f"dossier={items[1]}")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"dossier={items[1]}$"))
    expect(page.locator("#next-case-panel")).to_have_count(0)  # not decided yet
    # Back on the decided case, n goes on as well.
    page.keyboard.press("p")
    page.wait_for_url(re.compile(rf"dossier={items[0]}$"))
    expect(page.locator("#next-case")).to_be_focused()
    page.keyboard.press("n")
    page.wait_for_url(re.compile(rf"dossier={items[1]}$"))
    # The last case says so.
    page.goto(f"/seances/{session_id}/reunion?dossier={items[2]}")
    page.get_by_role("button", name="Marquer prête pour validation").click()
    page.wait_for_url(re.compile(rf"dossier={items[2]}$"))
    last = page.locator("#next-case")
    expect(last).to_have_text("C'était le dernier dossier de l'ordre du jour.")
    expect(last).to_be_focused()
    expect(
        page.locator("#next-case-panel").get_by_role("link", name="Clore la séance")
    ).to_be_visible()
