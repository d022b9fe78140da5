"""A preview of a fiche is marked as such on every page and shows nothing of a validated fiche:
no validation line, no « signé électroniquement », no verification code, no QR code."""

from __future__ import annotations

import re
import subprocess

from rcp_app.fiches import pdf
from tests.fiches import samples
from tests.fiches.support import build_world
from tests.support.factories import PASSWORD

MARK = "APERÇU — NON VALIDÉ"
CODE = re.compile(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b")
# Long enough for three pages: the marks must not stop at page 1 (nor at page 2).
LONG = " ".join(f"Élément {n} de la synthèse, rédigé pour occuper de la place." for n in range(400))


def pages_of(data: bytes, tmp_path) -> list[str]:
    path = tmp_path / "apercu.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return [" ".join(page.split()) for page in text.split("\f")[:-1]]


def long_snapshot(*, preview: bool) -> dict:
    snapshot = samples.full_clinical_snapshot()
    snapshot["case"]["synthesis"] = LONG
    if preview:
        snapshot["document"]["preview"] = True
        snapshot["document"]["verification_code"] = "APER-CU00-0000"
    return snapshot


def what_a_preview_must_not_show(page: str) -> list[str]:
    found = [
        w for w in ("Validée le", "signé électroniquement", "Code de vérification") if w in page
    ]
    found += CODE.findall(page)
    found += ["/verifier"] if "/verifier" in page else []
    return found


def test_every_page_of_a_preview_is_marked_and_none_looks_validated(app, tmp_path):
    with app.app_context():
        pages = pages_of(pdf.render_pdf(long_snapshot(preview=True), None), tmp_path)
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert MARK in page, f"page {number}"
        assert what_a_preview_must_not_show(page) == [], f"page {number}"


def test_a_preview_draws_no_qr_code(app):
    with app.app_context():
        html = pdf.fiche_html(long_snapshot(preview=True))
        validated = pdf.fiche_html(long_snapshot(preview=False))
    assert "<img" not in html and "data:image" not in html
    assert "<img" in validated and "data:image/svg+xml" in validated  # the check can fail


def test_a_validated_fiche_is_unmarked_and_verifiable(app, tmp_path):
    """The counterpart: the same checks find the marks of a validated fiche."""
    with app.app_context():
        pages = pages_of(pdf.render_pdf(long_snapshot(preview=False), None), tmp_path)
    assert all("APERÇU" not in page for page in pages)
    assert "Validée le" in pages[-1] and "K7QF-3MZP-9TXD" in pages[-1]
    assert all("K7QF-3MZP-9TXD" in page for page in pages)  # the footer of every page


def test_the_preview_route_marks_every_page(app, client, make, tmp_path):
    """Through the application: the physician's preview of a case with a long synthesis."""
    world = build_world(app, make, synthesis=LONG)
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    response = client.get(f"/seances/{world.session_id}/fiches/{world.item_id}/apercu.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pages = pages_of(response.data, tmp_path)
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert MARK in page, f"page {number}"
        assert what_a_preview_must_not_show(page) == [], f"page {number}"
