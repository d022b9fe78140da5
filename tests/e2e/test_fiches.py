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
    rows = page.locator("tbody tr").filter(has_text="avenant")
    # The demo's past session has an amended fiche, and its year of history (demo/history.py)
    # a few more: the inbox shows at least one, and each row offers its current version.
    expect(rows.first).to_be_visible()
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


def test_coordinating_physician_validates_and_signs_a_fiche(page, login_as, screenshot_dir):
    login_as("dr.martin")
    waiting = page.get_by_role("status").filter(has_text="Fiches RCP à valider et signer")
    expect(waiting).to_contain_text("1 décision(s) prête(s)")
    waiting.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Fiches RCP — RCP Sénologie")
    ready = page.locator("tbody tr").filter(has_text="Prête pour validation")
    expect(ready).to_have_count(1)
    patient = ready.locator("td").nth(1).inner_text().splitlines()[0]
    expect(ready.get_by_role("link", name="Aperçu PDF")).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "fiches-de-la-seance.png"), full_page=True)
    # The batch button asks for confirmation, then signs the ready fiches one request at a
    # time and shows its progress.
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Valider et signer toutes les fiches prêtes").click()
    expect(page.get_by_role("status").filter(has_text="fiche(s) signée(s) sur")).to_be_visible()
    assert questions and "toutes les fiches prêtes" in questions[0]
    progress = page.get_by_role("status").filter(has_text="fiche(s) signée(s) sur")
    expect(progress).to_contain_text("1 fiche(s) signée(s) sur 1.")
    expect(page.get_by_role("progressbar", name="Fiches signées")).to_have_attribute("value", "1")
    page.screenshot(path=str(screenshot_dir / "fiches-signature-progression.png"), full_page=True)
    progress.get_by_role("link", name="Actualiser la liste").click()
    signed = page.locator("tbody tr").filter(has_text=patient)
    expect(signed).to_contain_text("Validée et signée")
    signed.get_by_role("link", name="Version 1").click()
    expect(page.get_by_text("Version en vigueur : 1")).to_be_visible()
    # Queued for the DCC, the referring physician and the GP (no worker in this test).
    delivery = page.locator("table").last
    expect(delivery).to_contain_text("DCC régional")
    expect(delivery).to_contain_text("Médecin traitant")
    expect(delivery).to_contain_text("En attente")
    page.screenshot(path=str(screenshot_dir / "fiche-validee.png"), full_page=True)
    page.goto("/")
    expect(page.get_by_text("Fiches RCP à valider et signer")).to_have_count(0)
    assert page.problems.unexpected() == []
