"""The signed fiche says one thing: its PDF, its CDA narrative and its CDA coded entries agree on
each tumour's clinical TNM, pathological TNM and stage group with its basis.

Each case goes through the application (tumour row -> stage computed by the case validation ->
fiche validated -> stored PDF and CDA). What each of the three says is read independently:
- the PDF from its text layer (poppler's pdftotext), by pattern, so that the test does not
  depend on the page layout;
- the narrative from the CDA's <content> anchors of the cancer diagnosis section;
- the coded entries from LOINC codes only (75620-5 / 75621-3 panels, 21905-5… / 21899-0…).
All three must equal the values the tumour was saved with, and the documents must still pass
the CDA schema and the ANS schematrons.
"""

from __future__ import annotations

import os
import re
import subprocess
from datetime import date

import pytest
from lxml import etree

from rcp_app.auth.models import User
from rcp_app.cases.models import Biomarker, Tumour
from rcp_app.cases.validation import _stage
from rcp_app.extensions import db
from rcp_app.fiches import operations as ops
from rcp_app.meetings.models import AgendaItem
from rcp_app.staging import biomarkers
from tests.fiches.conformance import ans_cisis_dir, schematron_failures, xsd_errors
from tests.fiches.support import build_world, version_bytes

pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and not (ans_cisis_dir() / "schematrons").is_dir(),
    reason="ANS CI-SIS files absent (../shared/ans-cisis); under CI=true these tests fail instead",
)

NS = {"h": "urn:hl7-org:v3"}
KINDS = ("clinical", "pathological")
# LOINC codes of the panels and of their T, N and M components, read without the templates.
PANELS = {"clinical": "75620-5", "pathological": "75621-3"}
AXIS_CODES = {
    "clinical": ("21905-5", "21906-3", "21907-1"),
    "pathological": ("21899-0", "21900-6", "21901-4"),
}
GROUP_CODES = {"clinical": "21909-7", "pathological": "21902-2"}
COLUMN_GAP = 6.0  # points; a space is about 3 at the fiche's body size
BASIS_WORDS = {"clinique": "clinical", "pathologique": "pathological"}
TNM_TOKEN = re.compile(r"(?<![\w(])((?:y|r|a)?[cp])([TNM](?:X|is|\d[a-z]*|mi)(?:\([^)\s]*\))*)")
STAGE_PHRASE = re.compile(
    r"\b([0IV]{1,4}[ABC]?\d?|occult)\s*\((UICC8),\s*(clinique|pathologique)\)"
)

# name -> (topography, clinical T N M, pathological T N M, biomarkers, expected stage or None)
CASES = {
    "clinique_seul": ("C34.1", ("cT2a", "cN1", "cM0"), (None, None, None), {}, ("IIB", "clinical")),
    "clinique_et_pathologique": (
        "C50.4",
        ("cT1c", "cN0", "cM0"),
        ("pT2", "pN2a", None),
        {},
        ("IIIA", "pathological"),
    ),
    "pathologique_seul": (
        "C18.7",
        (None, None, None),
        ("pT3", "pN1a", "pM1a"),
        {},
        ("IVA", "pathological"),
    ),
    "apres_neoadjuvant": (
        "C20",
        ("cT3", "cN1", "cM0"),
        ("ypT2", "ypN0", None),
        {},
        ("I", "pathological"),
    ),
    "stade_inconnu_prostate_sans_psa": (
        "C61",
        ("cT2a", "cN0", "cM0"),
        (None, None, None),
        {},
        None,
    ),
    "stade_inconnu_tx": ("C34.1", ("cTX", "cN2", "cM0"), (None, None, None), {}, None),
}


def _save_tumour(app, world, name: str) -> None:
    topography, clinical, pathological, markers, _ = CASES[name]
    with app.app_context():
        case = db.session.get(AgendaItem, world.item_id).case
        tumour = db.session.get(Tumour, case.tumours[0].id)
        tumour.topography_code = topography
        tumour.morphology_code = "8140/3"
        tumour.diagnosis_date = date(2026, 10, 2)
        tumour.tnm_edition = "UICC8"
        tumour.clinical_t, tumour.clinical_n, tumour.clinical_m = clinical
        tumour.pathological_t, tumour.pathological_n, tumour.pathological_m = pathological
        tumour.biomarkers = [Biomarker(code=code, value=value) for code, value in markers.items()]
        # The stage exactly as the case form computes it on save.
        site = biomarkers.site_for_topography(topography)
        clean = {
            "tnm_edition": "UICC8",
            **{f"clinical_{a}": v for a, v in zip("tnm", clinical, strict=True)},
            **{f"pathological_{a}": v for a, v in zip("tnm", pathological, strict=True)},
        }
        factors = biomarkers.staging_factors(site, markers)
        tumour.stage_group, tumour.stage_edition, tumour.stage_basis = _stage(clean, site, factors)
        db.session.commit()


def _expected(name: str) -> dict:
    _, clinical, pathological, _, stage = CASES[name]
    return {
        "clinical": [v for v in clinical if v],
        "pathological": [v for v in pathological if v],
        "stage": stage,
    }


# --- what each rendering says ----------------------------------------------------------------


def _pdf_text(pdf: bytes) -> str:
    """The text layer, one column at a time: a table row's cells share their lines, so plain
    extraction interleaves them (« cT1c cN0 IIIA (UICC8, cM0 pathologique) »). Lines are grouped
    by page and left edge (one group per table column or text margin), top to bottom."""
    layout = subprocess.run(
        ["pdftotext", "-bbox-layout", "-enc", "UTF-8", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    root = etree.fromstring(layout, etree.XMLParser(recover=True))
    columns: dict[tuple, list] = {}
    for page_number, page in enumerate(root.iter("{*}page")):
        for line in page.iter("{*}line"):
            # poppler may join neighbouring cells into one line: a gap wider than a few spaces
            # starts a new segment, keyed by its own left edge.
            segments: list[list] = []
            previous_end = None
            for word in line.iter("{*}word"):
                start, end = float(word.get("xMin")), float(word.get("xMax"))
                if previous_end is None or start - previous_end > COLUMN_GAP:
                    segments.append([start, float(word.get("yMin")), []])
                segments[-1][2].append(word.text or "")
                previous_end = end
            for start, top, words in segments:
                key = (page_number, round(start))
                columns.setdefault(key, []).append((top, " ".join(words)))
    return "\n\n".join(
        " ".join(words for _, words in sorted(lines)) for _, lines in sorted(columns.items())
    )


def _pdf_says(pdf: bytes) -> dict:
    flat = _pdf_text(pdf)
    said: dict = {"clinical": [], "pathological": []}
    for prefix, category in TNM_TOKEN.findall(flat):
        said["pathological" if prefix.endswith("p") else "clinical"].append(prefix + category)
    stages = {(group, BASIS_WORDS[basis]) for group, _, basis in STAGE_PHRASE.findall(flat)}
    assert len(stages) <= 1, stages
    said["stage"] = stages.pop() if stages else None
    return said


def _narrative_says(root) -> dict:
    def content(anchor: str) -> str | None:
        found = root.xpath(f"//h:content[@ID='{anchor}']", namespaces=NS)
        return found[0].text if found else None

    said: dict = {}
    for kind, anchor in (("clinical", "tnm-clinique-1"), ("pathological", "tnm-pathologique-1")):
        text = content(anchor)
        said[kind] = [] if text in (None, "Non renseigné") else text.split()
    stage = STAGE_PHRASE.findall(content("stade-1") or "")
    said["stage"] = (stage[0][0], BASIS_WORDS[stage[0][2]]) if stage else None
    return said


def _coded_says(root) -> dict:
    said: dict = {"stage": None}
    for kind in KINDS:
        panels = root.xpath(f"//h:observation[h:code/@code='{PANELS[kind]}']", namespaces=NS)
        assert len(panels) <= 1
        said[kind] = []
        if not panels:
            continue
        panel = panels[0]
        for code in AXIS_CODES[kind]:
            values = panel.xpath(
                f"h:entryRelationship/h:observation[h:code/@code='{code}']/h:value",
                namespaces=NS,
            )
            assert len(values) == 1
            value = values[0]
            if value.get("nullFlavor"):
                continue
            # The TNM_UICC code has no prefix; the value as written is its displayName.
            code_value, written = value.get("code"), value.get("displayName")
            assert code_value[0] in "TNM" and code_value in written, (code_value, written)
            said[kind].append(written)
        groups = panel.xpath(
            f"h:value/h:qualifier[h:name/@code='{GROUP_CODES[kind]}']/h:value/@code",
            namespaces=NS,
        )
        if groups:
            assert said["stage"] is None, "stage group in both panels"
            said["stage"] = (groups[0], kind)
        y_coded = bool(
            panel.xpath(
                "h:entryRelationship/h:observation[h:code/@code='277649004']", namespaces=NS
            )
        )
        assert y_coded == any(value.startswith("y") for value in said[kind])
    return said


@pytest.mark.parametrize("name", list(CASES))
def test_pdf_narrative_and_coded_entries_agree(app, make, name):
    world = build_world(app, make)
    _save_tumour(app, world, name)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
    pdf = version_bytes(app, world.case_id, 1, "pdf")
    cda = version_bytes(app, world.case_id, 1, "cda")
    root = etree.fromstring(cda)
    expected = _expected(name)
    assert _pdf_says(pdf) == expected
    assert _narrative_says(root) == expected
    assert _coded_says(root) == expected
    assert xsd_errors(cda) == []
    assert schematron_failures(cda) == []
