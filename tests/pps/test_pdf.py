"""The PPS PDF written for the patient: PDF/A-3b with its CDA, plain French, no code.

Expectations are computed here from the snapshot (dates reformatted, weeks counted, the
abbreviations' meanings written out) independently of rcp_app/pps/pdf.py; the text is read back
from the PDF with poppler, as the fiche's content test does.
"""

from __future__ import annotations

import importlib.util
import io
import re
import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from rcp_app.pps import glossary, pdf
from tests.fiches.test_fiche_pdf_content import flat, pdf_text
from tests.pps.samples import VARIANTS, pps_snapshot

CDA = b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>"
GLOSSARY_HEADING = "6. Les mots de ce document"
TEMPLATE = Path(__file__).resolve().parents[2] / "templates" / "pps" / "pps_pdf.html"
WEEKS = 6  # the calendar's first weeks, from the Monday of the validation week
# Snapshot items that are codes or identifiers: none may reach the patient's document.
CODE_KEYS = frozenset(
    ("code", "system", "rpps", "matricule", "oid", "ipp", "finess", "birthplace_code", "id")
    + ("set_id", "document_id", "replaces_id", "oid_root", "mssante")
    + ("t", "n", "m", "tnm_edition", "group", "edition")
)

# Common French medical and administrative abbreviations, written out here (not taken from
# rcp_app/pps/glossary.py): any of them printed must be explained to the patient.
ABBREVIATIONS = {
    "3C": "centre de coordination en cancérologie",
    "ALD": "affection de longue durée",
    "AMM": "autorisation de mise sur le marché",
    "APA": "activité physique adaptée",
    "CH": "centre hospitalier",
    "CHU": "centre hospitalier universitaire",
    "CIM": "classification internationale des maladies",
    "CPAM": "caisse primaire d'assurance maladie",
    "DCC": "dossier communicant de cancérologie",
    "DMP": "dossier médical partagé",
    "ECG": "électrocardiogramme",
    "HAD": "hospitalisation à domicile",
    "HDJ": "hôpital de jour",
    "IDE": "infirmier(ère) diplômé(e) d'état",
    "INS": "identité nationale de santé",
    "IPP": "identifiant permanent du patient",
    "IRM": "imagerie par résonance magnétique",
    "NFS": "numération formule sanguine",
    "ORL": "oto-rhino-laryngologie",
    "PPS": "programme personnalisé de soins",
    "RCP": "réunion de concertation pluridisciplinaire",
    "RPPS": "répertoire partagé des professionnels de santé",
    "SAMU": "service d'aide médicale urgente",
    "SSR": "soins de suite et de réadaptation",
    "TDM": "tomodensitométrie",
    "TEP": "tomographie par émission de positons",
    "TNM": "tumeur, ganglions, métastases",
}
# What the template itself abbreviates: written out at (or right next to) its first use.
TEMPLATE_ABBREVIATIONS = ("PPS", "RCP", "3C", "SAMU")

# The words the brief requires the glossary to explain.
REQUIRED_TERMS = (
    "RCP",
    "PPS",
    "3C",
    "chimiothérapie",
    "radiothérapie",
    "hormonothérapie",
    "immunothérapie",
    "thérapie ciblée",
    "curiethérapie",
    "tumorectomie",
    "ganglion sentinelle",
    "surveillance active",
    "soins de support",
    "diététicienne",
    "infirmière de coordination",
    "médecin référent",
    "médecin traitant",
    "bilan sanguin",
    "échographie",
    "IRM",
    "scanner",
    "hôpital de jour",
)

# Glossary entries each variant must show, and must not (its words are absent).
SHOWN = {
    "breast": {"tumorectomie", "ganglion sentinelle", "radiothérapie", "RCP", "PPS", "3C", "SAMU"}
    | {"diététicien(ne)", "infirmier(ère) de coordination", "bilan sanguin, prise de sang"},
    "several_treatments": {"chimiothérapie", "hormonothérapie", "hôpital de jour", "adjuvant"}
    | {"cure"},
    "no_supportive_care": {"tumorectomie", "RCP", "PPS", "SAMU"},
    "amended": {"tumorectomie", "ganglion sentinelle"},
    "unqualified_identity": {"tumorectomie"},
    "surveillance": {"surveillance active", "échographie", "imagerie médicale"},
}
NOT_SHOWN = {
    "breast": {"chimiothérapie", "hormonothérapie", "échographie", "IRM", "hôpital de jour"}
    | {"curiethérapie", "immunothérapie", "scanner", "surveillance active", "adjuvant"},
    "several_treatments": {"IRM", "échographie", "surveillance active"},
    "no_supportive_care": {"3C", "soins de support", "diététicien(ne)", "convalescence"}
    | {"infirmier(ère) de coordination", "bilan sanguin, prise de sang"},
    "amended": {"chimiothérapie"},
    "unqualified_identity": {"chimiothérapie"},
    "surveillance": {"radiothérapie", "chimiothérapie", "bilan sanguin, prise de sang"},
}


class Text:
    """The PDF's text: ``body`` before the glossary, ``glossary`` after, each as printed
    (``raw``) and flattened for phrase searches; the page footers are checked and cut out."""

    def __init__(self, pages: list[str], custodian: str):
        footer = re.compile(
            rf"^{re.escape(custodian)}(?:, [^\n]*)?\.\n(?:.*\n)*?page (\d+) sur (\d+)\s*\Z",
            re.MULTILINE,
        )
        kept = []
        for number, page in enumerate(pages, start=1):
            found = footer.search(page)
            assert found, f"page {number}: no footer"
            assert found.group(1, 2) == (str(number), str(len(pages)))
            assert "Document remis par votre médecin. Il est signé" in found.group(0)
            kept.append(page[: found.start()])
        self.raw = "\n".join(kept)
        self.body_raw, _, self.glossary_raw = self.raw.partition(GLOSSARY_HEADING)
        self.body = flat(self.body_raw)
        self.glossary = flat(self.glossary_raw)

    def shown_terms(self) -> set[str]:
        lines = self.glossary_raw.splitlines()
        return {
            e.term for e in glossary.ENTRIES if any(ln.startswith(f"{e.term} : ") for ln in lines)
        }


def render(app, snapshot: dict, cda: bytes | None = CDA) -> bytes:
    with app.app_context():
        return pdf.render_pdf(snapshot, cda)


def read(data: bytes, snapshot: dict, tmp_path) -> Text:
    return Text(pdf_text(data, tmp_path), snapshot["custodian"]["name"])


@pytest.fixture(scope="module")
def rendered(app):
    return {name: render(app, make()) for name, make in VARIANTS.items()}


@pytest.fixture(scope="module")
def texts(rendered, tmp_path_factory):
    return {
        name: read(data, VARIANTS[name](), tmp_path_factory.mktemp(name))
        for name, data in rendered.items()
    }


def day(value: str) -> str:
    return f"{value[8:10]}/{value[5:7]}/{value[:4]}"


# --- PDF/A-3b and the embedded CDA -----------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_pdf_a_3b_with_the_cda_as_its_alternative(rendered, variant):
    reader = PdfReader(io.BytesIO(rendered[variant]))
    assert reader.attachments == {"pps-cda.xml": [CDA]}
    root = reader.trailer["/Root"]
    spec = root["/AF"][0].get_object()
    assert spec["/F"] == "pps-cda.xml"
    assert spec["/AFRelationship"] == "/Alternative"
    assert "CANCER-PPS" in spec["/Desc"]
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    assert "/OutputIntents" in root


def test_the_cda_of_the_other_module_is_embedded_as_is(app):
    """With rcp_app/pps/cda when it exists; a PDF without CDA has no attachment."""
    if importlib.util.find_spec("rcp_app.pps.cda") is None:
        cda = b"<ClinicalDocument/>"
    else:
        from rcp_app.pps.cda import build_pps_cda

        cda = build_pps_cda(pps_snapshot())
    assert PdfReader(io.BytesIO(render(app, pps_snapshot(), cda))).attachments == {
        "pps-cda.xml": [cda]
    }
    assert PdfReader(io.BytesIO(render(app, pps_snapshot(), None))).attachments == {}


def test_every_font_is_embedded(rendered, tmp_path):
    path = tmp_path / "pps.pdf"
    path.write_bytes(rendered["several_treatments"])
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    rows = [line.split() for line in listing.stdout.splitlines()[2:]]
    assert rows and all(row[-5] == "yes" for row in rows), rows


def test_the_fiche_keeps_its_own_attachment_name():
    """fiches/pdf.render_html_pdf gained the name and description as keyword arguments."""
    from rcp_app.fiches import pdf as fiche_pdf

    data = fiche_pdf.render_html_pdf("<p>Fiche</p>", b"<x/>")
    spec = PdfReader(io.BytesIO(data)).trailer["/Root"]["/AF"][0].get_object()
    assert spec["/F"] == "fiche-rcp-cda.xml" and "FRCP" in spec["/Desc"]


# --- What the patient reads ------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_identity_version_and_treatments(texts, variant):
    snapshot, text = VARIANTS[variant](), texts[variant]
    patient = snapshot["patient"]
    assert flat(f"{patient['birth_name'].upper()} {patient['birth_first_names']}") in text.body
    assert f"le {day(patient['birth_date'])}" in text.body
    document = snapshot["document"]
    validated = day(document["effective_time"][:10])
    assert f"version {document['version']} du {validated}" in text.body
    assert f"le {day(snapshot['fiche']['session_date'])}, des médecins" in text.body
    for treatment in snapshot["treatments"]:
        start = treatment["planned_start"]
        when = f"à partir du {day(start)}" if start else "date à fixer"
        assert flat(f"{treatment['kind']['label']} ") in text.body
        assert flat(f"{treatment['description']} {when}") in text.body


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_code_and_only_french_dates(texts, variant):
    snapshot, text = VARIANTS[variant](), texts[variant]
    forbidden = set()

    def collect(value, key=""):
        if isinstance(value, dict):
            for k, v in value.items():
                collect(v, k)
        elif isinstance(value, list):
            for v in value:
                collect(v, key)
        elif value and key in CODE_KEYS:
            forbidden.add(str(value))

    collect(snapshot)
    collect(pps_snapshot())  # the INS of the qualified identity, in every variant
    shown = [v for v in forbidden if re.search(rf"(?<![\w.]){re.escape(v)}(?![\w.])", text.raw)]
    assert shown == []
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text.raw)
    for found in re.finditer(r"(?<![\d/])\d{1,4}/\d{1,4}(?:/\d+)?(?![\d/])", text.raw):
        before = text.raw[max(0, found.start() - 18) : found.start()]
        week = re.search(r"Semaine du lundi\s$", before)
        pattern = r"\d{2}/\d{2}" if week else r"\d{2}/\d{2}/\d{4}"
        assert re.fullmatch(pattern, found.group()), found.group()


def calendar_rows(text: Text) -> dict[str, str]:
    """'30/11' (the week's Monday) or 'ensuite' -> the flattened text of that row."""
    table = text.body.partition("3. votre calendrier")[2].partition("4. qui appeler")[0]
    table = table.partition("dates encore à fixer")[0]
    table = table.replace("semaine ce qui est prévu", " ")  # the header, repeated per page
    parts = re.split(r"semaine du lundi (\d{2}/\d{2})|(?<= )(ensuite)(?= )", table)
    rows, key = {}, None
    for index, part in enumerate(parts[1:], start=1):
        if index % 3 == 0:
            rows[key] = (part or "").strip()
        elif part:
            key = part
    return rows


def expected_calendar(snapshot: dict) -> dict[str, list[str]]:
    """Week's Monday 'dd/mm' or 'ensuite' -> the 'dd/mm/yyyy' dates falling in it."""
    validated = datetime.fromisoformat(snapshot["document"]["effective_time"]).date()
    first = validated - timedelta(days=validated.weekday())
    rows: dict[str, list[str]] = {}
    dated = [(a["date"], a["description"]) for a in snapshot["appointments"]] + [
        (t["planned_start"], t["kind"]["label"])
        for t in snapshot["treatments"]
        if t["planned_start"]
    ]
    for value, what in dated:
        weeks = (date.fromisoformat(value) - first).days // 7
        key = "ensuite" if weeks >= WEEKS else f"{first + timedelta(weeks=weeks):%d/%m}"
        rows.setdefault(key, []).append(flat(f"{day(value)}") + "|" + flat(what))
    return rows


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_date_is_under_its_week(texts, variant):
    snapshot, text = VARIANTS[variant](), texts[variant]
    expected = expected_calendar(snapshot)
    rows = calendar_rows(text)
    for key, items in expected.items():
        for item in items:
            when, what = item.split("|")
            assert when in rows[key] and what in rows[key], (key, item, rows)
    weeks_shown = [k for k in rows if k != "ensuite"]
    if any(k != "ensuite" for k in expected):
        assert len(weeks_shown) == WEEKS  # every week is listed, the empty ones too
        for key in weeks_shown:
            assert (rows[key] == "rien de prévu.") == (key not in expected), key
    else:
        assert weeks_shown == []
        assert "vous n'avez pas de rendez-vous pendant les 6 premières semaines" in text.body


def test_the_surveillance_calendar_says_the_first_weeks_are_empty(texts):
    text = texts["surveillance"]
    assert "vous n'avez pas de rendez-vous pendant les 6 premières semaines. ensuite" in text.body
    assert "jeudi 03/06/2027 à 14h00 : échographie de contrôle" in text.body


def test_an_empty_calendar_says_so(app, tmp_path):
    snapshot = pps_snapshot(appointments=[])
    for treatment in snapshot["treatments"]:
        treatment["planned_start"] = None
    text = read(render(app, snapshot, None), snapshot, tmp_path)
    assert "aucun rendez-vous n'est encore fixé" in text.body
    assert "semaine du lundi" not in text.body
    assert "dates encore à fixer : intervention chirurgicale, radiothérapie" in text.body


@pytest.mark.parametrize("variant", VARIANTS)
def test_whom_to_call(texts, variant):
    snapshot, text = VARIANTS[variant](), texts[variant]
    contacts = snapshot["contacts"]
    phones = [contacts["referent_phone"]] + [
        contacts[key]["phone"] for key in ("nurse", "care_centre") if contacts[key]
    ]
    for phone in phones:
        assert f"téléphone : {phone}" in text.body
    assert "en cas d'urgence vitale, appelez le 15 (samu) ou le 112" in text.body
    assert "fièvre" in text.body and "douleur nouvelle" in text.body
    referent = snapshot["people"]["referent"]
    assert flat(f"Dr {referent['last_name'].upper()} {referent['first_name']}") in text.body
    assert ("centre de coordination en cancérologie (3c)" in text.body) == bool(
        contacts["care_centre"]
    )


def test_supportive_care_and_its_absence(texts):
    breast, none = texts["breast"], texts["no_supportive_care"]
    for item in VARIANTS["breast"]()["supportive_care"] + VARIANTS["breast"]()["social"]["support"]:
        assert flat(item["kind"]["label"]) in breast.body
    assert "rendez-vous avec la diététicienne avant la chirurgie" in breast.body
    assert "aucune aide n'est prévue pour l'instant" in none.body
    assert "aucune aide n'est prévue" not in breast.body
    assert "vous n'avez pas de médecin traitant connu" in none.body


def test_the_amended_version_says_what_it_replaces_and_why(texts):
    snapshot, text = VARIANTS["amended"](), texts["amended"]
    document = snapshot["document"]
    assert "cette version 2 remplace la version 1" in text.body
    assert flat(document["update_motive"]["label"]) in text.body
    assert flat(document["amendment_reason"]) in text.body
    assert "remplace la version" not in texts["breast"].body


# --- Glossary and abbreviations --------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_glossary_shows_the_words_used_and_only_those(texts, variant):
    text = texts[variant]
    shown = text.shown_terms()
    assert SHOWN[variant] <= shown
    assert not NOT_SHOWN[variant] & shown
    meanings = " ".join(e.meaning for e in glossary.ENTRIES if e.term in shown)
    for entry in glossary.ENTRIES:
        in_body = bool(entry.pattern.search(text.body_raw.replace("\n", " ")))
        if entry.term in shown:
            assert in_body or entry.pattern.search(meanings), entry.term
        else:
            assert not in_body, entry.term


def unexplained_capitals(text: Text, names: set[str]) -> list[str]:
    """All-capitals words of two letters or more that are neither in the glossary shown nor a
    person's name from the snapshot."""
    shown = text.shown_terms()
    tokens = re.findall(r"\w+", text.raw)
    return sorted(
        {
            t
            for t in tokens
            if sum(c.isalpha() for c in t) >= 2 and t == t.upper() and t not in shown | names
        }
    )


def snapshot_names(snapshot: dict) -> set[str]:
    """Names are printed in capitals: the patient's, the physicians', and the capitalised
    words of the people named in free text (the team, the nurse)."""
    patient = snapshot["patient"]
    names = {patient["birth_name"], patient.get("used_name") or ""}
    names |= {p["last_name"] for p in snapshot["people"].values() if p}
    free = [t["team"] for t in snapshot["treatments"]]
    free.append((snapshot["contacts"]["nurse"] or {}).get("name", ""))
    names = {w for n in names for w in re.findall(r"\w+", n.upper())}
    return names | {w for text in free for w in re.findall(r"\w+", text) if w == w.upper()}


def abbreviation_problems(text: Text) -> list[str]:
    shown = text.shown_terms()
    problems = []
    for short, written_out in ABBREVIATIONS.items():
        if not re.search(rf"(?<!\w){re.escape(short)}(?!\w)", text.raw):
            continue
        if short not in shown and f"{written_out} ({short.casefold()})" not in text.body:
            problems.append(short)
    return problems


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_abbreviation_is_explained(texts, variant):
    text = texts[variant]
    assert abbreviation_problems(text) == []
    assert unexplained_capitals(text, snapshot_names(VARIANTS[variant]())) == []
    for short in TEMPLATE_ABBREVIATIONS:
        first = re.search(rf"(?<!\w){short.casefold()}(?!\w)", text.body)
        if first:
            around = text.body[max(0, first.start() - 80) : first.end() + 80]
            assert ABBREVIATIONS[short] in around, (short, around)


def test_an_unexplained_abbreviation_is_caught(app, tmp_path, monkeypatch):
    snapshot = pps_snapshot()
    snapshot["appointments"][0]["description"] = "IRM de contrôle"
    text = read(render(app, snapshot, None), snapshot, tmp_path)
    assert "IRM" in text.shown_terms()
    assert abbreviation_problems(text) == []
    assert unexplained_capitals(text, snapshot_names(snapshot)) == []
    assert "DUPONT" in unexplained_capitals(text, set())  # names are excused, not ignored

    monkeypatch.setattr(glossary, "ENTRIES", tuple(e for e in glossary.ENTRIES if e.term != "IRM"))
    text = read(render(app, snapshot, None), snapshot, tmp_path)
    assert abbreviation_problems(text) == ["IRM"]
    assert unexplained_capitals(text, snapshot_names(snapshot)) == ["IRM"]


def test_the_glossary_covers_the_words_the_brief_lists():
    missing = [
        term
        for term in REQUIRED_TERMS
        if not any(e.pattern.fullmatch(term) for e in glossary.ENTRIES)
    ]
    assert missing == []
    for short, written_out in ABBREVIATIONS.items():
        entry = next((e for e in glossary.ABBREVIATIONS if e.term == short), None)
        assert entry and entry.meaning.casefold().startswith(written_out), short


def test_each_treatment_kind_of_the_value_set_is_explained():
    from tests.fiches.conformance import ans_cisis_dir

    path = ans_cisis_dir() / "jeuxDeValeurs" / "JDV_TypeTraitementPPS_CISIS.xml"
    if not path.is_file():
        pytest.skip("ANS CI-SIS value sets absent (../shared/ans-cisis)")
    labels = re.findall(r'<Concept [^>]*displayName="([^"]+)"', path.read_text("utf-8"))
    assert len(labels) > 10
    unexplained = [x for x in labels if not x.startswith("Autre") and not glossary.meaning_of(x)]
    assert unexplained == []


def test_the_meanings_use_no_abbreviation_left_unexplained():
    known = {e.term for e in glossary.ABBREVIATIONS}
    for entry in glossary.ENTRIES:
        for token in re.findall(r"\w+", entry.meaning):
            if sum(c.isalpha() for c in token) >= 2 and token == token.upper():
                assert token in known, (entry.term, token)


# --- Legibility ------------------------------------------------------------------------------


def font_sizes(data: bytes) -> list[float]:
    """The size, in points, of every run of text drawn (font size times the text and
    transformation matrices' vertical scale)."""
    sizes = []

    def visit(text, cm, tm, font, size):
        if text.strip():
            scale = abs(tm[3] * cm[3] + tm[1] * cm[2])
            sizes.append(round(size * scale, 2))

    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return sizes


@pytest.mark.parametrize("variant", VARIANTS)
def test_no_text_under_13_points_and_larger_headings(rendered, variant):
    sizes = font_sizes(rendered[variant])
    assert len(sizes) > 50
    assert min(sizes) >= 13
    assert max(sizes) >= 17


def test_the_font_check_can_fail(app):
    from rcp_app.fiches.pdf import render_html_pdf

    with app.app_context():
        small = render_html_pdf('<p style="font-size: 11pt">Petit texte</p>', None)
    assert min(font_sizes(small)) == pytest.approx(11, abs=0.05)


def template_sentences() -> list[list[str]]:
    """The template's own sentences (inserted values count as one word), split at . ! ? ; :"""
    source = TEMPLATE.read_text("utf-8")
    source = re.sub(r"<style>.*?</style>|\{#.*?#\}|\{%.*?%\}", " ", source, flags=re.DOTALL)
    source = re.sub(r"\{\{.*?\}\}", " valeur ", source)
    source = re.sub(r"</(?:h\d|p|li|td|th|div)>", ".", source)  # a heading ends a sentence
    source = re.sub(r"<[^>]*>", " ", source)
    sentences = [s.split() for s in re.split(r"[.!?;:]", source)]
    return [s for s in sentences if len(s) > 1]


def test_short_sentences():
    sentences = template_sentences()
    assert len(sentences) > 30
    assert sum(map(len, sentences)) / len(sentences) < 15
    assert max(map(len, sentences)) <= 20, max(sentences, key=len)


def test_the_template_is_printable_on_a4():
    source = TEMPLATE.read_text("utf-8")
    assert re.search(r"@page\s*\{\s*size:\s*A4", source)
    assert 'counter(page) " sur " counter(pages)' in source
    body = re.search(r"body \{[^}]*\}", source).group()
    assert "font-size: 13pt" in body and "line-height: 1.5" in body
