"""The case form shows each tumour's stage group as T, N and M are typed (static/js/cases.js →
GET /stade/apercu), with the reason when no stage can be given."""

from __future__ import annotations

from .helpers import expect
from .test_case_registration import open_new_case_form


def test_stage_appears_while_typing_tnm(page, login_as, screenshot_dir):
    login_as("dr.martin")
    open_new_case_form(page, "RCP Sénologie")
    first = page.get_by_role("group", name="Tumeur 1", exact=True)
    preview = first.locator("[data-stage-preview]")
    expect(preview).to_be_hidden()  # nothing typed yet

    first.get_by_role("combobox", name="Topographie (CIM-10)").fill("C50.4")
    first.get_by_label("cT", exact=True).press_sequentially("T2", delay=30)
    first.get_by_label("cN", exact=True).press_sequentially("N1", delay=30)
    expect(preview).to_contain_text("Saisissez cT, cN et cM")
    first.get_by_label("cM", exact=True).press_sequentially("M0", delay=30)
    expect(preview).to_contain_text("Stade IIB (d'après le cTNM, UICC 8e édition)")

    # The pathological TNM takes over as soon as pT and pN are there (M from cM0).
    first.get_by_label("pT", exact=True).press_sequentially("T2", delay=30)
    first.get_by_label("pN", exact=True).press_sequentially("N2a", delay=30)
    expect(preview).to_contain_text("Stade IIIA (d'après le pTNM, UICC 8e édition)")
    preview.scroll_into_view_if_needed()
    first.screenshot(path=screenshot_dir / "stage-preview-breast.png")

    # A value the save would refuse is explained in place.
    first.get_by_label("pN", exact=True).fill("N7")
    expect(preview).to_contain_text("Stade non calculable")
    expect(preview).to_contain_text("N pathologique « N7 » impossible")

    # Prostate without PSA nor ISUP grade: the anatomic group, and what the prognostic needs.
    for label in ("pT", "pN"):
        first.get_by_label(label, exact=True).fill("")
    first.get_by_role("combobox", name="Topographie (CIM-10)").fill("C61")
    first.get_by_label("cT", exact=True).fill("T2a")
    first.get_by_label("cN", exact=True).fill("N0")
    expect(preview).to_contain_text("Groupe anatomique I")
    expect(preview).to_contain_text("le PSA et le groupe ISUP")
    prostate = first.get_by_role("group", name="Données spécifiques : prostate")
    prostate.get_by_label("PSA", exact=False).first.fill("5")
    prostate.get_by_label("Groupe ISUP", exact=False).fill("1")
    expect(preview).to_contain_text("Stade I (d'après le cTNM")
    expect(preview).not_to_contain_text("Groupe anatomique")
    first.screenshot(path=screenshot_dir / "stage-preview-prostate.png")
