"""The PDF shows every clinical item the snapshot holds (the CDA it declares as its alternative
is generated from the same snapshot): derived from the snapshot itself, recursively, so a new
snapshot item fails here until the PDF shows it or the test says why it does not.

Expectations are written independently of rcp_app/fiches/pdf.py: dates are reformatted here,
words for codes and yes/no items are spelled out here.
"""

from __future__ import annotations

import copy
import fnmatch
import re
import subprocess

from rcp_app.fiches import pdf
from tests.fiches import samples

# Items deliberately not printed, each with its reason (fnmatch patterns over dotted paths,
# list positions as numbers: "case.tumours.0.rank").
NOT_SHOWN = {
    "schema": "version of the snapshot format",
    "document.id": "technical identifier of this version (CDA id, PDF metadata)",
    "document.set_id": "technical identifier of the fiche (CDA setId)",
    "document.replaces_id": "technical identifier (CDA relatedDocument); the text says which "
    "version it replaces",
    "document.oid_root": "our OID arc, for the CDA identifiers",
    "session.id": "technical identifier of the session (CDA encompassingEncounter)",
    "*.system": "OID of a code system: the PDF shows the label",
    "*.code": "code of a coded value or biomarker: the PDF shows its label",
    "*.display": "the value set's official displayName, for the CDA and XDM: the PDF shows the "
    "label people read",
    "people.*.rpps": "directory identifier (CDA header)",
    "people.*.mssante": "delivery address (MSSanté), not content",
    "people.*.establishment.*": "directory data (CDA header); the custodian is printed",
    "case.performance_status.coded.label": "the value set's words for performance_status.value, "
    "printed as « OMS n »",
    "case.treatments.*.status": "code; status_label is printed",
    "case.tumours.*.biomarkers.*.value": "code; value_label is printed",
    "decision.outcome": "code; decision.case_status is printed",
    "case.tumours.*.rank": "order of the rows",
    "decision.alternatives.*.rank": "order of the numbered list",
    "rcp.network_id": "national identifier of the encounter (CDA encompassingEncounter)",
    "rcp.manager_id": "national identifier of the encounter (CDA encompassingEncounter)",
    "rcp.registry_id": "national identifier of the encounter (CDA encompassingEncounter)",
    "custodian.facility_type.label": "category of the establishment (CDA healthCareFacility, "
    "XDS metadata)",
}

# What the PDF says for an item set to True.
WORDS_WHEN_TRUE = {
    "rcp.is_recourse": "RCP de recours",
    "rcp.is_paediatric": "RCP pédiatrique",
    "case.motives.diagnostic": "avis diagnostique",
    "case.motives.treatment": "proposition thérapeutique",
    "case.motives.recourse": "recours",
    "case.motives.paediatric": "pédiatrie",
    "case.progression.local": "évolution locale",
    "case.progression.regional": "régionale",
    "case.progression.distant": "à distance",
    "decision.active_surveillance": "Surveillance active",
    "decision.recourse_referral": "Avis d'une RCP de recours demandé",
    "decision.file_complete": "dossier complet",
}

# Items printed in other words than their value.
WORDS = {
    "patient.sex": {"F": "Féminin", "M": "Masculin", "I": "Indéterminé"}.get,
    "patient.identity_status": {"QUAL": "identité qualifiée"}.get,
    "patient.ins.oid": {"1.2.250.1.213.1.4.8": "INS-NIR"}.get,
    "case.discovery_screening": {"yes": "Découverte lors d'un dépistage"}.get,
    "case.tumours.*.stage.basis": {"clinical": "clinique", "pathological": "pathologique"}.get,
    "case.performance_status.value": lambda v: f"OMS {v}",
    "case.g8_score": lambda v: f"G8 {v}/17",
    "document.version": lambda v: f"Version {v}",
    "document.verification_url": lambda v: v.split("?")[0],
}

DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")


def full_snapshot() -> dict:
    """The amended breast fiche with every item given (lists with at least one entry)."""
    snapshot = samples.amendment_snapshot()
    clinical = samples.full_clinical_snapshot()
    trial = samples.trial_snapshot()
    snapshot["case"] = clinical["case"]
    snapshot["decision"] = trial["decision"]
    snapshot["rcp"].update(
        theme=samples.coded("C15747", samples.NCIT, "Soins de support"),
        is_recourse=True,
        is_paediatric=True,
    )
    snapshot["patient"]["used_first_name"] = "Malou"
    case = snapshot["case"]
    case["motives"] = dict.fromkeys(case["motives"], True)
    case["progression"] = dict.fromkeys(case["progression"], True)
    case.update(
        phase=samples.coded("MED-244", samples.ANS_ORG, "Rechute du cancer"),
        relapse_date="2026-10-02",
        performance_status={
            "value": 2,
            "coded": samples.coded("MED-242", samples.ANS_ORG, "Echelle OMS Stade 2"),
        },
    )
    tumour = case["tumours"][0]
    tumour.update(
        pathological={"t": "pT1c", "n": "pN0(sn)", "m": "cM0"},
        other_stagings=[{"system": "SBR", "version": "Elston-Ellis", "value": "grade 2"}],
        comment="Lésion unique, bord irrégulier.",
    )
    case["treatments"][1].update(date="2026-12-01", comment="Programmée après chirurgie.")
    snapshot["decision"].update(
        deviation_reason="Patiente âgée, chimiothérapie non retenue.",
        comments="Revoir en RCP après chirurgie.",
    )
    snapshot["people"]["coordinator"] = copy.deepcopy(samples.SURGEON)
    # Encounter identifiers and the establishment's category (CDA header items).
    for key, value in (
        ("network_id", "DSRC-IDF"),
        ("manager_id", "3C-VAL"),
        ("registry_id", "R-1"),
    ):
        snapshot["rcp"].setdefault(key, value)
    snapshot["custodian"].setdefault(
        "facility_type", samples.coded("SA01", "1.2.250.1.71.4.2.4", "Établissement public")
    )
    return snapshot


def leaves(value, path=()):
    if isinstance(value, dict | list) and not value:
        yield ".".join(path), value  # an empty part: nothing below it would be checked
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, str(index)))
    else:
        yield ".".join(path), value


def matching(table: dict, path: str):
    return next((v for pattern, v in table.items() if fnmatch.fnmatchcase(path, pattern)), None)


def expected_text(path: str, value) -> str:
    words = matching(WORDS, path)
    if isinstance(value, bool):
        text = matching(WORDS_WHEN_TRUE, path)
        assert text, f"{path}: a yes/no item with no wording in WORDS_WHEN_TRUE"
        return text
    if words is not None:
        text = words(value)
        assert text, f"{path}: no wording for {value!r} in WORDS"
        return text
    if isinstance(value, str) and DAY.match(value):
        return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
    if isinstance(value, str) and INSTANT.match(value):
        return f"{value[8:10]}/{value[5:7]}/{value[:4]} à {value[11:13]}h{value[14:16]}"
    return str(value)


def flat(text: str) -> str:
    """One line, single spaces, no case; a word cut after its hyphen at a line end rejoined."""
    return " ".join(re.sub(r"(?<=\S)-\n", "-", text).split()).casefold()


def pdf_text(data: bytes, tmp_path) -> list[str]:
    """The text of each page, in drawing order (-raw keeps a table cell's lines together)."""
    path = tmp_path / "fiche.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def test_the_full_snapshot_gives_every_item():
    """Otherwise an item absent here would never be checked."""
    empty = [
        path
        for path, v in leaves(full_snapshot())
        if (v is None or v is False or v in ("", [], {})) and matching(NOT_SHOWN, path) is None
    ]
    assert empty == []


def test_every_clinical_item_of_the_snapshot_is_on_the_pdf(app, tmp_path):
    snapshot = full_snapshot()
    with app.app_context():
        pages = pdf_text(pdf.render_pdf(snapshot, b"<ClinicalDocument/>"), tmp_path)
    text = flat(" ".join(pages))
    missing = [
        f"{path} = {value!r} (expected « {expected_text(path, value)} »)"
        for path, value in leaves(snapshot)
        if matching(NOT_SHOWN, path) is None and flat(expected_text(path, value)) not in text
    ]
    assert missing == []


def test_the_decision_comes_first(app, tmp_path):
    """The GP reads the proposal on page 1, before the clinical context."""
    snapshot = full_snapshot()
    with app.app_context():
        pages = pdf_text(pdf.render_pdf(snapshot, None), tmp_path)
    first = flat(pages[0])
    decision = first.index(flat(snapshot["decision"]["proposal_details"]))
    assert flat(snapshot["case"]["question"]) in first
    assert decision < flat(" ".join(pages)).index(flat(snapshot["case"]["medical_history"]))


def _shape(value):
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return None


def _differences(built, full, path="") -> list[str]:
    if isinstance(built, dict) and isinstance(full, dict):
        found = [f"{path}{key}" for key in built.keys() ^ full.keys()]
        for key in built.keys() & full.keys():
            found += _differences(built[key], full[key], f"{path}{key}.")
        return found
    if isinstance(built, list) and isinstance(full, list) and built and full:
        return _differences(built[0], full[0], f"{path}0.")
    return []


def test_the_full_snapshot_has_the_shape_the_application_builds(app, make):
    """A snapshot built from the database (rcp_app/fiches/snapshot.py) has exactly the items
    of the one above: a new item there fails here until it is added above, hence checked."""
    from rcp_app.cases.models import Biomarker, OtherStaging, Treatment, Tumour
    from rcp_app.core.timeutil import utcnow
    from rcp_app.decisions import operations as decisions
    from rcp_app.extensions import db
    from rcp_app.fiches import snapshot as snapshots
    from rcp_app.meetings.models import AgendaItem
    from tests.fiches.support import CHEMOTHERAPY, build_world

    world = build_world(app, make)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        tumour = db.session.query(Tumour).filter_by(case_id=world.case_id).one()
        db.session.add_all(
            [
                OtherStaging(tumour_id=tumour.id, rank=1, system="SBR", value="grade 2"),
                Biomarker(tumour_id=tumour.id, code="er", value="positive"),
                Treatment(case_id=world.case_id, rank=1, type_code=CHEMOTHERAPY, status="done"),
            ]
        )
        db.session.flush()
        db.session.expire_all()
        built = snapshots.build(
            decision=decisions.decision_of(item),
            item=item,
            validator=item.session.rcp.coordinator,
            validated_at=utcnow(),
            document_id="d",
            set_id="s",
            version=1,
            verification_code="K7QF-3MZP-9TXD",
        )
        db.session.rollback()
    for part in ("tumours", "treatments"):
        assert built["case"][part], part  # the lists below are compared, not skipped
    assert (
        built["case"]["tumours"][0]["biomarkers"] and built["case"]["tumours"][0]["other_stagings"]
    )
    assert _differences(_shape(built), _shape(full_snapshot())) == []
