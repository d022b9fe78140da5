"""« Bris de glace »: a physician outside the care team finds a patient (identity only), is
refused the record, opens it by exceptional access with a reason; the coordinating physician of
the patient's RCP then reviews it."""

from __future__ import annotations

import re

from tests.support.factories import PASSWORD, Factories

from .conftest import login_on
from .helpers import expect


def _world(live_server) -> dict:
    make = Factories(live_server.app)
    coordinating = make.professional(last_name="Coordonnatrice")
    rcp = make.rcp(name="RCP bris de glace e2e", coordinator_id=coordinating.id)
    patient = make.patient(
        birth_name="VERRIER", birth_first_names="Léonie", first_birth_first_name="Léonie"
    )
    make.submitted_case(rcp_id=rcp.id, patient_id=patient.id)
    outsider = make.user(
        role="physician",
        professional_id=make.professional(last_name="Externe").id,
        display_name="Dr Externe Bris",
    )
    reviewer = make.user(role="physician", professional_id=coordinating.id)
    return {"patient": patient, "outsider": outsider, "reviewer": reviewer}


def test_exceptional_access_then_review(page, live_server):
    world = _world(live_server)
    patient_id = world["patient"].id

    login_on(page, world["outsider"].username, PASSWORD)
    page.goto("/patients")
    search = page.get_by_label("Nom, prénom ou matricule INS")
    search.fill("verrier leonie")
    search.press("Enter")
    row = page.get_by_role("row").filter(has_text="VERRIER")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("12/04/1956")
    expect(row).to_contain_text("Hors de vos équipes de soins")

    # The record itself is refused, with the offer (the 403 is the expected answer).
    page.problems.allow(rf"status of 403 .*/patients/{patient_id}\)$")
    page.goto(f"/patients/{patient_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
    expect(page.locator("main")).to_contain_text("pas suivi par une équipe de soins")
    page.get_by_role("link", name="Accès exceptionnel au dossier").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Accès exceptionnel au dossier")
    expect(page.get_by_role("region", name="Identité du patient")).to_contain_text("VERRIER Léonie")
    page.get_by_label("Urgence").check()
    page.get_by_label("Précisions").fill("Patiente aux urgences cette nuit.")
    page.get_by_role("button", name="Ouvrir le dossier (accès exceptionnel)").click()
    expect(page).to_have_url(re.compile(rf"/patients/{patient_id}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Identité du patient")
    expect(page.get_by_text("Accès exceptionnel ouvert")).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").click()

    login_on(page, world["reviewer"].username, PASSWORD)
    page.get_by_role("link", name="Accès exceptionnels").click()
    row = page.get_by_role("row").filter(has_text="VERRIER")
    expect(row).to_contain_text("Dr Externe Bris")
    expect(row).to_contain_text("Urgence : Patiente aux urgences cette nuit.")
    row.get_by_label("Commentaire (facultatif)").fill("Passage aux urgences confirmé.")
    row.get_by_role("button", name="Marquer comme revu").click()
    expect(page.get_by_text("Accès exceptionnel marqué comme revu.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="VERRIER")).to_have_count(0)
    page.get_by_role("link", name="Revus").click()
    reviewed = page.get_by_role("row").filter(has_text="VERRIER")
    expect(reviewed).to_contain_text("Revu")
    expect(reviewed).to_contain_text("Passage aux urgences confirmé.")
