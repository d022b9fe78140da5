"""Finding a patient as the RCP secretariat: accent-blind search, INS shown only if qualified."""

from __future__ import annotations

import re

from rcp_app.demo.patient_data import generate_patients

from .helpers import expect

# Demo patients born « Rivière » (fixed seed): identities of several statuses.
RIVIERE = [p for p in generate_patients() if p.birth_name == "Rivière"]
QUALIFIED = next(p for p in RIVIERE if p.identity_status == "QUAL")
RECOVERED = next(p for p in RIVIERE if p.identity_status == "RECUP")  # has an INS, not shown


def _row(page, spec):
    return page.get_by_role("row").filter(has_text=spec.birth_date.strftime("%d/%m/%Y"))


def test_search_without_accents_then_ins_only_for_a_qualified_identity(page, login_as):
    assert QUALIFIED.ins_matricule and RECOVERED.ins_matricule
    login_as("coordination")
    search = page.get_by_role("search").get_by_label("Rechercher un patient")
    search.fill("rivie")  # no accent, lower case, a name prefix
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/patients\?q=rivie"))
    results = page.get_by_role("row").filter(has=page.get_by_role("link", name="RIVIÈRE"))
    expect(results).to_have_count(len(RIVIERE))

    # In the list: the INS of the qualified identity only.
    expect(_row(page, QUALIFIED)).to_contain_text(QUALIFIED.ins_matricule)
    expect(_row(page, QUALIFIED)).to_contain_text("Identité qualifiée")
    expect(_row(page, RECOVERED)).to_contain_text("Identité récupérée")
    expect(_row(page, RECOVERED)).not_to_contain_text(RECOVERED.ins_matricule)

    # On the patient pages.
    _row(page, QUALIFIED).get_by_role("link", name="RIVIÈRE").click()
    identity = page.get_by_role("region", name="Identité du patient")
    expect(identity).to_contain_text(f"RIVIÈRE {QUALIFIED.first_birth_first_name}")
    expect(identity).to_contain_text(f"Matricule INS : {QUALIFIED.ins_matricule}")

    page.go_back()
    _row(page, RECOVERED).get_by_role("link", name="RIVIÈRE").click()
    identity = page.get_by_role("region", name="Identité du patient")
    expect(identity).to_contain_text(f"RIVIÈRE {RECOVERED.first_birth_first_name}")
    expect(identity).not_to_contain_text("INS")
    expect(page.get_by_text("Non affiché : l'identité n'est pas qualifiée.")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(RECOVERED.ins_matricule)
