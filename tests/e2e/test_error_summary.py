"""A refused case form, at 1366×768: the error summary is on screen and focused, and its
links take the keyboard to the field (templates/macros.html, static/js/app.js)."""

from __future__ import annotations

from .helpers import expect
from .test_case_registration import open_new_case_form


def test_the_summary_is_seen_and_leads_to_the_field(sized_page, screenshot_dir):
    from .conftest import login_on

    page = login_on(sized_page(1366, 768), "dr.martin")
    open_new_case_form(page, "RCP Sénologie")
    date = page.locator("#tumour_rows-0-diagnosis_date")
    date.fill("99/99/9999")
    page.get_by_label("Score G8 (0 à 17)").fill("99")
    # The save button is at the bottom of a 2 000 px form: the messages used to stay there.
    page.get_by_role("button", name="Enregistrer le brouillon").click()

    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("Il y a un problème")
    expect(summary).to_be_focused()
    expect(summary).to_be_in_viewport()
    links = summary.get_by_role("link")
    expect(links).to_have_count(2)
    page.screenshot(path=str(screenshot_dir / "resume-des-erreurs.png"))

    # The field tells what is wrong with it, in words and to assistive technologies.
    expect(date).to_have_attribute("aria-invalid", "true")
    message = page.locator("#tumour_rows-0-diagnosis_date-error")
    expect(date).to_have_attribute(
        "aria-describedby", "tumour_rows-0-diagnosis_date-error tumour_rows-0-diagnosis_date-help"
    )
    expect(message).to_contain_text("jj/mm/aaaa")

    # Following a link (keyboard) focuses the field, and shows it.
    link = links.filter(has_text="Date du diagnostic")
    link.focus()
    page.keyboard.press("Enter")
    expect(date).to_be_focused()
    expect(date).to_be_in_viewport()
    page.screenshot(path=str(screenshot_dir / "resume-des-erreurs-lien-suivi.png"))
    # And the second one (a mouse click) too.
    links.filter(has_text="G8").click()
    expect(page.get_by_label("Score G8 (0 à 17)")).to_be_focused()
    assert page.problems.unexpected() == []
