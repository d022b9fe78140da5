"""Every character the application accepts is drawn in the PDFs (no empty box, no `.notdef`,
which would also break PDF/A), and WeasyPrint's progress lines stay out of the log.

The accepted set is what DejaVu Sans covers (rcp_app/core/pdfrender.py reads its cmap; the
input rule, rcp_app/core/text.py, refuses the rest: tests/test_text_input_rule.py).
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from rcp_app.core import pdfrender
from rcp_app.core.text import forbidden_character, normalise_text
from rcp_app.fiches import pdf
from tests.fiches import samples

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# What clinicians type: every script and sign the fiche must show as typed.
SCRIPTS = {
    "latin": "Ça, c’est l’œuvre d’Æsop — cœur, Straße, Łódź, Dvořák, İzmir, Ærøskøbing, ǅ ŉ",
    "greek": "Ελληνικά: αβγδε ΑΒΓΔ, μ, Ω",
    "cyrillic": "Русский: Жизнь, ёлка; Українська: ґїє",
    "punctuation": "« guillemets » – tiret — cadratin ’ apostrophe … ‘a’ “b” „c” • ‰",
    "signs": "T ≤ 2 cm, N ≥ 1, ± 3 mm, 5 µg/l, 37,5 °C, ½, ×, →, €, №",
    "combining": "Re\u0301cidive, franc\u0327ais, a\u0300 revoir, Mu\u0308ller, q\u0301",
}
REFUSED = "🧬 中 \ue000"


def notdef_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if ".notdef" in r.getMessage()]


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return unicodedata.normalize("NFC", " ".join(text.split()))


def fonts_of(data: bytes, tmp_path) -> list[str]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(data)
    lines = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    return [line.split()[0].split("+")[-1] for line in lines]


@pytest.mark.skipif(shutil.which("fc-match") is None, reason="fontconfig tools absent")
@pytest.mark.parametrize("style", ["", ":bold", ":italic", ":bold:italic"])
def test_the_font_the_templates_name_is_the_file_the_rule_reads(style):
    """fontconfig, which WeasyPrint asks, resolves the family to the file whose cmap is read
    (the bold and oblique faces fall back to it for what they lack)."""
    family = pdfrender.DOCUMENT_FONT_FAMILY
    resolved = subprocess.run(
        ["fc-match", "-s", "-f", "%{file}\n", family + style],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert str(pdfrender.DOCUMENT_FONT_FILE) in resolved
    same_family = [f for f in resolved if Path(f).name.startswith("DejaVuSans")]
    assert resolved[0] == same_family[0]


def test_every_pdf_template_names_the_document_font():
    """The fiche, the agenda and any PDF template added later: every font-family starts with
    the font whose coverage the input rule enforces (monospace: the ASCII code only)."""
    templates = [p for p in TEMPLATES.rglob("*.html") if "@page" in p.read_text("utf-8")]
    assert {p.name for p in templates} >= {"fiche_pdf.html", "agenda_pdf.html"}
    for template in templates:
        families = re.findall(r"font-family:\s*([^;}]+)", template.read_text("utf-8"))
        assert families, template.name
        for family in families:
            first = family.split(",")[0].strip().strip("\"'")
            assert first in (pdfrender.DOCUMENT_FONT_FAMILY, "DejaVu Sans Mono"), (
                f"{template.name}: {family}"
            )


def test_every_accepted_character_is_drawn_in_every_style(caplog):
    """All of them, not a sample: regular, bold, italic and bold italic."""
    accepted = sorted(pdfrender.document_characters())
    assert len(accepted) > 5000
    assert all(forbidden_character(c) is None for c in accepted)
    text = html.escape(" ".join(accepted))
    styles = (
        "",
        "font-weight: bold",
        "font-style: italic",
        "font-weight: bold; font-style: italic",
    )
    body = "".join(f'<p class="s{n}">{text}</p>' for n in range(len(styles)))
    css = "".join(f".s{n} {{ {style} }}" for n, style in enumerate(styles))
    document = (
        f'<html><head><style>body {{ font-family: "{pdfrender.DOCUMENT_FONT_FAMILY}" }}'
        f"{css}</style></head><body>{body}</body></html>"
    )
    with caplog.at_level(logging.WARNING):
        assert pdfrender.write_pdf(document).startswith(b"%PDF")
    assert notdef_warnings(caplog) == []


def _fiche_with(question: str) -> dict:
    snapshot = samples.organ_snapshot()
    snapshot["case"]["question"] = question
    snapshot["case"]["synthesis"] = question  # upright, the question is in italics
    snapshot["decision"]["comments"] = question  # inside the bold-bordered decision box
    return snapshot


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_each_script_prints_on_the_fiche_as_typed(app, caplog, tmp_path, script):
    typed = normalise_text(SCRIPTS[script])  # what the input rule stores
    assert forbidden_character(typed) is None
    with app.app_context(), caplog.at_level(logging.WARNING):
        data = pdf.render_pdf(_fiche_with(typed), b"<ClinicalDocument/>")
    assert notdef_warnings(caplog) == []
    assert typed in pdf_text(data, tmp_path)
    fonts = fonts_of(data, tmp_path)
    assert "DejaVu-Sans" in fonts and all(f.startswith("DejaVu-Sans") for f in fonts), fonts


def test_the_refused_characters_would_print_as_empty_boxes(app, caplog):
    """Why the rule refuses them: the same check sees the boxes (so it can fail)."""
    assert all(forbidden_character(c) == c for c in REFUSED.split())
    with app.app_context(), caplog.at_level(logging.WARNING):
        pdf.render_pdf(_fiche_with(REFUSED), None)
    warned = " ".join(notdef_warnings(caplog))
    assert all(f"U+{ord(c):04X}" in warned for c in REFUSED.split()), warned


def test_the_agenda_prints_every_script_in_the_document_font(app, client, make, login, tmp_path):
    from tests.meetings_support import simple_rcp

    login("coordinator")
    name = "RCP " + normalise_text(SCRIPTS["greek"] + " " + SCRIPTS["cyrillic"])
    rcp = simple_rcp(app, make, name=name[:200])
    session = make.session(rcp.id)
    response = client.get(f"/seances/{session.id}/ordre-du-jour.pdf")
    assert response.status_code == 200
    assert name[:200] in pdf_text(response.data, tmp_path)
    fonts = fonts_of(response.data, tmp_path)
    assert "DejaVu-Sans" in fonts and all(f.startswith("DejaVu-Sans") for f in fonts), fonts


def test_weasyprint_progress_is_not_logged_but_its_warnings_are(app, caplog):
    with app.app_context(), caplog.at_level(logging.DEBUG):
        pdf.render_pdf(_fiche_with("Question 🧬 ?"), b"<ClinicalDocument/>")
    noisy = [
        r.name
        for r in caplog.records
        if r.levelno < logging.WARNING and r.name.split(".")[0] in ("weasyprint", "fontTools")
    ]
    assert noisy == []
    assert any("U+1F9EC" in message for message in notdef_warnings(caplog))
