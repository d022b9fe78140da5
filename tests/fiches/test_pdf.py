"""The fiche PDF: PDF/A-3b with the CDA as associated file, fonts embedded, no network."""

from __future__ import annotations

import io
import subprocess

import pytest
from pypdf import PdfReader

from rcp_app.fiches import pdf
from tests.fiches import samples


@pytest.fixture
def rendered(app):
    with app.app_context():
        return pdf.render_pdf(samples.organ_snapshot(), b"<ClinicalDocument/>")


def test_every_font_is_embedded(rendered, tmp_path):
    path = tmp_path / "fiche.pdf"
    path.write_bytes(rendered)
    lines = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert lines, "no font listed"
    # Columns: name type encoding emb sub uni object ID; "emb" must say yes for each font.
    assert all(line.split()[-5] == "yes" for line in lines), lines


def test_the_cda_is_an_associated_file_of_a_pdf_a_3b(rendered):
    reader = PdfReader(io.BytesIO(rendered))
    assert reader.attachments == {pdf.CDA_NAME: [b"<ClinicalDocument/>"]}
    root = reader.trailer["/Root"]
    specs = {spec.get_object()["/F"]: spec.get_object() for spec in root["/AF"]}
    assert specs[pdf.CDA_NAME]["/AFRelationship"] == "/Alternative"
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in root


@pytest.mark.parametrize(
    "resource",
    [
        '<img src="http://127.0.0.1:9/x.png">',
        '<link rel="stylesheet" href="https://cdn.example/a.css">',
    ],
)
def test_rendering_never_fetches_anything(app, resource):
    from weasyprint.urls import FatalURLFetchingError

    with app.app_context(), pytest.raises(FatalURLFetchingError, match="http"):
        pdf.render_html_pdf(f"<html><body>{resource}<p>x</p></body></html>", None)


def test_the_preview_is_marked_and_unsigned(app):
    snapshot = samples.organ_snapshot()
    snapshot["document"]["preview"] = True
    with app.app_context():
        data = pdf.render_pdf(snapshot, None)
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "APERÇU — NON VALIDÉ, NON SIGNÉ" in text
    assert b"/ByteRange" not in data
