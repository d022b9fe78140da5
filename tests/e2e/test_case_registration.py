"""A physician registers a breast case with the enhanced form (static/js/cases.js)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from .helpers import expect

# Demo patient used by this module only (rcp_app/demo/patient_data.py, seed 20260412): no demo
# case is registered for her, so the new case cannot collide with one.
PATIENT = ("perez anne", "PÉREZ", "31/07/1977")


def _days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).strftime("%d/%m/%Y")


def _pick_with_keyboard(combobox, code: str, max_steps: int = 12) -> None:
    """ArrowDown through the suggestions until ``code`` is highlighted, then Enter."""
    page = combobox.page
    listbox = page.locator(f"#{combobox.get_attribute('aria-controls')}")
    # The suggestions for the whole text typed (an earlier, shorter query may show first).
    expect(listbox.locator(f'[role="option"][data-code="{code}"]')).to_be_visible()
    for _ in range(max_steps):
        combobox.press("ArrowDown")
        active = combobox.get_attribute("aria-activedescendant")
        if active and page.locator(f"#{active}").get_attribute("data-code") == code:
            combobox.press("Enter")
            return
    raise AssertionError(f"{code} not among the suggestions")


def _screenshots(page, directory, name: str) -> None:
    """What a 1366×768 screen shows first, and the whole page (looked at, not compared)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=directory / f"{name}.png")
    page.screenshot(path=directory / f"{name}-full.png", full_page=True)


def open_new_case_form(page, rcp_name: str):
    """The physician's way in: « Inscrire un dossier » finds any patient by identity (the
    secretariat registered this one and she has no case yet, so her record is not open to
    dr.martin: rcp_app/access); choosing her and the RCP opens the form."""
    query, birth_name, birth_date = PATIENT
    page.goto("/dossiers/nouveau")
    search = page.get_by_label("Nom, prénom ou matricule INS du patient")
    search.fill(query)
    search.press("Enter")
    row = page.get_by_role("row").filter(has_text=birth_date)
    expect(row).to_have_count(1)
    row.get_by_role("link", name=re.compile(rf"^Choisir {birth_name} ")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inscrire un dossier : 2. la RCP")
    choice = page.get_by_label("RCP à laquelle présenter le dossier")
    choice.select_option(choice.locator("option", has_text=rcp_name).get_attribute("value"))
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Inscrire un dossier en RCP")


def test_register_and_submit_a_breast_case(page, login_as, screenshot_dir):
    login_as("dr.martin")
    open_new_case_form(page, "RCP Sénologie")
    form_url = page.url

    first = page.get_by_role("group", name="Tumeur 1", exact=True)
    breast_block = first.get_by_role("group", name="Données spécifiques : sein")
    lung_block = first.get_by_role("group", name="Données spécifiques : poumon")
    expect(breast_block).to_be_hidden()  # no topography yet: no site-specific block

    # Topography by type-ahead, chosen with the keyboard.
    topography = first.get_by_role("combobox", name="Topographie (CIM-10)")
    topography.press_sequentially("sein quadrant", delay=20)
    _pick_with_keyboard(topography, "C50.2")
    expect(topography).to_have_value("C50.2")
    expect(
        first.get_by_text("C50.2 — Tumeur maligne du quadrant supéro-interne du sein")
    ).to_be_visible()
    expect(breast_block).to_be_visible()
    expect(lung_block).to_be_hidden()

    first.get_by_label("Date du diagnostic").fill(_days_ago(30))
    first.get_by_role("combobox", name="Morphologie (CIM-O-3)").fill("8500/3")
    first.get_by_label("cT", exact=True).fill("T2")
    first.get_by_label("cN", exact=True).fill("N1")
    first.get_by_label("cM", exact=True).fill("M0")
    breast_block.get_by_label("Récepteurs aux œstrogènes (RE) (%)").fill("90")
    breast_block.get_by_label("Récepteurs à la progestérone (RP) (%)").fill("40")
    breast_block.get_by_label("Statut HER2").select_option("1+")

    # A second tumour, added in place by the JavaScript button (no round trip).
    page.get_by_role("button", name="Ajouter une tumeur").click()
    second = page.get_by_role("group", name="Tumeur 2", exact=True)
    expect(second).to_be_visible()
    assert page.url == form_url
    expect(second.get_by_label("cT", exact=True)).to_have_value("")  # a clean copy
    second.get_by_label("Date du diagnostic").fill(_days_ago(10))
    second.get_by_role("combobox", name="Topographie (CIM-10)").fill("C50.4")
    second.get_by_role("combobox", name="Morphologie (CIM-O-3)").fill("8520/3")
    second.get_by_label("cT", exact=True).fill("T1")
    second.get_by_label("cN", exact=True).fill("N0")
    second.get_by_label("cM", exact=True).fill("M0")
    expect(second.get_by_role("group", name="Données spécifiques : sein")).to_be_visible()

    # What submission requires (motive, synthesis, question, GP); the phase, performance status,
    # patient's information and the second tumour's markers are left out on purpose: the case
    # page must list them as missing.
    page.get_by_label("Proposition thérapeutique").check()
    page.get_by_label("Synthèse du dossier").fill("Deux lésions du sein droit, biopsiées.")
    page.get_by_label("Question posée à la RCP").fill("Chirurgie première ou néoadjuvant ?")
    page.get_by_label("Médecin traitant").select_option("unknown")
    _screenshots(page, screenshot_dir, "case-form")

    page.get_by_role("button", name="Enregistrer le brouillon").click()
    expect(page.get_by_role("status").filter(has_text="enregistré en brouillon")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/dossiers/\d+$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Brouillon")

    page.get_by_role("button", name="Soumettre à la RCP").click()
    expect(page.get_by_role("status").filter(has_text="soumis à la RCP")).to_be_visible()
    expect(heading).to_contain_text("Soumis")

    # Stage groups computed from the TNM typed: cT2 cN1 cM0 → IIB, cT1 cN0 cM0 → IA.
    stages = page.locator("strong.stage-group")
    expect(stages).to_have_text(["IIB", "IA"])
    # The missing items are named, tumour by tumour when needed.
    completeness = page.get_by_role("region", name="Complétude")
    expect(completeness.get_by_role("listitem")).to_have_text(
        [
            "Phase de la maladie (initiale ou rechute)",
            "Indice de performance OMS",
            "Information du patient et non-opposition",
            "Récepteurs aux œstrogènes (RE) du sein (tumeur 2)",
            "Récepteurs à la progestérone (RP) du sein (tumeur 2)",
            "Statut HER2 du sein (tumeur 2)",
        ]
    )
    _screenshots(page, screenshot_dir, "case-page")
