"""TNM and biomarkers are written the same way on every page that shows them.

One formatter (rcp_app/cases/display.py: ``tnm_text``, ``biomarker_rows``, Jinja globals) and a
set of tumours covering what is stored in practice: values with and without their c/p prefix,
missing axes, a y prefix, biomarkers with and without a unit. Each page marks what it shows
(``data-tnm``, ``data-biomarker``); the expected strings are written out here by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest

from rcp_app.cases.display import biomarker_rows, tnm_category, tnm_text
from rcp_app.cases.models import Biomarker, Tumour
from rcp_app.extensions import db

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# (tumour columns, biomarkers stored, what every page must show for that tumour)
TUMOURS = [
    (  # stored with prefixes and a descriptor (as validation stores them)
        {
            "topography_code": "C50.4",
            "clinical_t": "cT1c",
            "clinical_n": "cN0",
            "clinical_m": "cM0",
            "pathological_t": "pT1c",
            "pathological_n": "pN0(sn)",
        },
        {"breast.er": "80", "breast.her2": "3+", "breast.ki67": "20"},
        {
            ("tnm", "clinical"): "cT1c cN0 cM0",
            ("tnm", "pathological"): "pT1c pN0(sn)",
            ("biomarker", "Récepteurs aux œstrogènes (RE)"): "80 %",
            ("biomarker", "Statut HER2"): "3+",
            ("biomarker", "Ki-67"): "20 %",
        },
    ),
    (  # older rows without prefix, M missing
        {"topography_code": "C61", "clinical_t": "T2", "clinical_n": "N0"},
        {"prostate.psa": "12.5", "prostate.isup": "2"},
        {
            ("tnm", "clinical"): "cT2 cN0",
            ("biomarker", "PSA"): "12.5 ng/mL",
            ("biomarker", "Groupe ISUP"): "2",
        },
    ),
    (  # after neoadjuvant treatment (y prefix), a bare clinical category, a long unit
        {
            "topography_code": "C34.1",
            "clinical_t": "3",
            "pathological_t": "ypT1a",
            "pathological_n": "ypN0",
            "pathological_m": "M1a",
        },
        {"lung.pdl1": "50", "lung.egfr": "positif"},
        {
            ("tnm", "clinical"): "cT3",
            ("tnm", "pathological"): "ypT1a ypN0 pM1a",
            ("biomarker", "Mutation EGFR"): "positif",
            ("biomarker", "Expression PD-L1"): "50 % des cellules tumorales",
        },
    ),
    ({"topography_code": "C71.9"}, {}, {}),  # no TNM, no site-specific data
]


@pytest.mark.parametrize(
    ("stored", "kind", "axis", "shown"),
    [
        ("cT2a", "clinical", "T", "cT2a"),
        ("T2a", "clinical", "T", "cT2a"),
        ("2a", "clinical", "T", "cT2a"),
        ("N1mi", "pathological", "N", "pN1mi"),
        ("pN0(i+)", "pathological", "N", "pN0(i+)"),
        ("ypT0", "pathological", "T", "ypT0"),
        ("ycN1", "clinical", "N", "ycN1"),
        ("rpT1", "pathological", "T", "rpT1"),
        ("X", "clinical", "M", "cMX"),
        ("is", "pathological", "T", "pTis"),
        ("", "clinical", "T", ""),
        (None, "clinical", "T", ""),
    ],
)
def test_a_category_gets_its_prefix_once(stored, kind, axis, shown):
    assert tnm_category(stored, kind, axis) == shown


@pytest.fixture
def pages(app, make, login):
    login("physician")
    rcp = make.rcp()
    session = make.session(rcp.id, status="agenda_published")
    item = make.agenda_item(session.id)
    with app.app_context():
        for rank, (columns, markers, _) in enumerate(TUMOURS, start=1):
            tumour = Tumour(case_id=item.case_id, rank=rank, **columns)
            tumour.biomarkers = [Biomarker(code=k, value=v) for k, v in markers.items()]
            db.session.add(tumour)
        db.session.commit()
    # Every page that shows a case's tumours (the agenda, its PDF and the meeting's agenda
    # column show none: test_no_template_formats_tnm_or_biomarkers_by_hand keeps it so).
    return {
        "dossier": f"/dossiers/{item.case_id}",
        "réunion": f"/seances/{session.id}/reunion?dossier={item.id}",
    }


def _shown(html: str) -> dict[int, dict]:
    """Tumour rank -> {(kind, name): text} of the marked elements under each « Tumeur n »."""
    tree = lxml.html.fromstring(html)
    found: dict[int, dict] = {}
    rank = None
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        heading = re.fullmatch(r"Tumeur (\d+)", element.text_content().strip())
        if element.tag in ("h2", "h3", "h4") and heading:
            rank = int(heading[1])
            found[rank] = {}
        elif element.get("data-tnm") is not None:
            found[rank][("tnm", element.get("data-tnm"))] = element.text_content().strip()
        elif element.get("data-biomarker") is not None:
            key = ("biomarker", element.get("data-biomarker"))
            found[rank][key] = element.text_content().strip()
    return found


def test_every_page_shows_the_same_tnm_and_biomarkers(client, pages):
    expected = {rank: shown for rank, (_, _, shown) in enumerate(TUMOURS, start=1)}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        assert _shown(html) == expected, name
        # The old meeting-mode spellings: a doubled prefix, placeholders for missing axes.
        assert not re.search(r"\b(cc|pp)[TNM]|[TNM]\?", html), name


@pytest.mark.parametrize(("columns", "markers", "shown"), TUMOURS)
def test_a_fiche_snapshot_is_written_like_the_tumour(columns, markers, shown):
    """The same formatter reads a fiche snapshot's tumour (fiches/snapshot.py's shape), so the
    fiche PDF can write TNM and biomarkers as the pages do."""
    snapshot = {
        "topography": {"code": columns["topography_code"]},
        "biomarkers": [{"code": code, "value": value} for code, value in markers.items()],
        **{
            kind: {axis: columns.get(f"{kind}_{axis}") for axis in "tnm"}
            for kind in ("clinical", "pathological")
        },
    }
    written = {
        ("tnm", kind): text
        for kind in ("clinical", "pathological")
        if (text := tnm_text(snapshot[kind], kind))
    }
    written |= {("biomarker", label): text for label, text in biomarker_rows(snapshot)}
    assert written == shown


# Templates that may read the stored TNM and biomarker values themselves: the case form edits
# them (inputs, not display); the fiche PDF renders the frozen snapshot with fiches/pdf.py's
# own helpers (see the fiche tests).
RAW_ALLOWED = {
    "cases/_tumour_row.html",
    "fiches/fiche_pdf.html",
    # The statistics: ``f.unit`` is a figure's unit (%, days, minutes), not a biomarker's.
    "reports/page.html",
    "reports/annual_report.html",
}
RAW = re.compile(
    r"(clinical|pathological)_(t|n|m|tnm)\b|biomarker_values|\.biomarkers\b|\bmarkers\[|\.unit\b"
)


def test_no_template_formats_tnm_or_biomarkers_by_hand():
    offenders = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if str(path.relative_to(TEMPLATES)) not in RAW_ALLOWED and RAW.search(path.read_text())
    ]
    assert offenders == [], "use tnm_text / biomarker_rows (rcp_app/cases/display.py)"
