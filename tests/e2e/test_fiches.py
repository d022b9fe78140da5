"""Signed fiches in a browser: the GP finds the demo fiches in the inbox and downloads one; a
visitor without an account verifies the file and the printed code on the public page."""

from __future__ import annotations

import re

from .helpers import expect


def test_gp_inbox_download_and_public_verification(
    page, login_as, browser, live_server, tmp_path, screenshot_dir
):
    login_as("dr.bernard")
    page.get_by_role("link", name="Fiches RCP de mes patients").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fiches RCP de mes patients")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)  # the demo's past session: two fiches, one amended
    expect(rows.first).to_contain_text("avenant")
    code = rows.first.get_by_text(re.compile(r"^code ")).inner_text().removeprefix("code ").strip()
    with page.expect_download() as download:
        rows.first.get_by_role("link", name="Télécharger le PDF signé").click()
    pdf = tmp_path / "fiche.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    page.screenshot(path=str(screenshot_dir / "boite-medecin-traitant.png"), full_page=True)
    assert page.problems.unexpected() == []

    visitor = browser.new_context(base_url=live_server.url, locale="fr-FR")
    public = visitor.new_page()
    public.goto("/verifier")
    public.get_by_label("Fichier PDF de la fiche").set_input_files(str(pdf))
    public.get_by_role("button", name="Vérifier").click()
    verdict = public.get_by_role("heading", name=re.compile("Fiche authentique"))
    expect(verdict).to_have_text(re.compile("version en vigueur"))
    expect(public.locator("dl")).to_contain_text("Dr MARTIN Claire")
    public.screenshot(path=str(screenshot_dir / "verification.png"), full_page=True)

    # The code printed on the fiche, typed loosely (lower case, spaces).
    public.get_by_label("Code de vérification").fill(code.lower().replace("-", " "))
    public.get_by_role("button", name="Vérifier").click()
    expect(public.get_by_role("heading", name=re.compile("Fiche authentique"))).to_be_visible()
    # A tampered copy is refused.
    tampered = bytearray(pdf.read_bytes())
    tampered[tampered.index(b"/Type /Page") + 2] ^= 1
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(bytes(tampered))
    public.get_by_label("Code de vérification").fill("")
    public.get_by_label("Fichier PDF de la fiche").set_input_files(str(altered))
    public.get_by_role("button", name="Vérifier").click()
    expect(public.get_by_role("heading", name=re.compile("non authentifiée"))).to_be_visible()
    visitor.close()
