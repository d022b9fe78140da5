"""Every code the application writes in a fiche's CDA and in its XDM metadata carries the display
name of the ANS value set it comes from, once the official value sets are imported; and the
encounter carries the RCP's national identifiers from the directory.

The oracle is the official files themselves (../shared/ans-cisis/jeuxDeValeurs), read here
independently of the application's importer: for each element with a code and a code system,
if that (code system, code) appears in a value-set file, its displayName must be the file's.
"""

from __future__ import annotations

import functools
import os
import re
import zipfile
from io import BytesIO

import pytest
from lxml import etree
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.delivery import notices
from rcp_app.delivery.models import Transmission
from rcp_app.directory.models import FACILITY_TYPE_VALUE_SET, Rcp
from rcp_app.extensions import db
from rcp_app.fiches import operations as ops
from rcp_app.meetings.models import AgendaItem
from rcp_app.terminology.builtin import BUILTIN, OFFICIAL_DISPLAY
from rcp_app.terminology.importer import read_value_sets
from rcp_app.terminology.operations import import_value_sets
from tests.fiches.conformance import ans_cisis_dir, schematron_failures, xsd_errors
from tests.fiches.support import version_bytes
from tests.fiches.test_cda_from_database import _enrich, _world

pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and not (ans_cisis_dir() / "jeuxDeValeurs").is_dir(),
    reason="ANS CI-SIS files absent (../shared/ans-cisis); under CI=true these tests fail instead",
)

SVS = "{urn:ihe:iti:svs:2008}"
HL7 = "urn:hl7-org:v3"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
NS = {"h": HL7, "rim": RIM}
# The XDS typeCode value set names document types: it binds the document's own code only.
# Section codes are LOINC codes with the volet's names (the official FRCP examples write
# « Plan de soins » where J07 says « Plan personnalisé de soins » for the PPS document).
DOCUMENT_TYPES = "JDV_J07_XdsTypeCode_CISIS"
# The value sets the application writes from, besides its built-in ones (XDS metadata).
XDS_VALUE_SETS = (
    "JDV_J01_XdsAuthorSpecialty_CISIS",
    FACILITY_TYPE_VALUE_SET,
    "JDV_J04_XdsPracticeSettingCode_CISIS",
    DOCUMENT_TYPES,
    "JDV_J08_XdsConfidentialityCode_CISIS",
)
NATIONAL_IDS = {"network_id": "5201", "manager_id": "520114", "registry_id": "27011113"}
ENCOUNTER_ROOTS = {
    "network_id": "1.2.250.1.161.1.20.1.1",
    "manager_id": "1.2.250.1.161.1.20.2.1",
    "registry_id": "1.2.250.1.161.1.20.3.1",
}
SPECIALTY_SYSTEM = "1.2.250.1.213.1.1.4.5"


@functools.cache
def official_names() -> dict[tuple[str, str], dict[str, set[str]]]:
    """(code system, code) -> {value-set file: its displayNames}, for every JDV file."""
    names: dict[tuple[str, str], dict[str, set[str]]] = {}
    for path in sorted((ans_cisis_dir() / "jeuxDeValeurs").glob("JDV_*.xml")):
        for concept in etree.parse(str(path)).iter(f"{SVS}Concept"):
            key = (concept.get("codeSystem"), concept.get("code"))
            names.setdefault(key, {}).setdefault(path.stem, set()).add(concept.get("displayName"))
    return names


def expected_names(system: str, code: str, *, document_code: bool) -> set[str] | None:
    """The displayNames the value sets give this code; None when no value set lists it."""
    files = official_names().get((system, code), {})
    allowed = set()
    for name, display_names in files.items():
        if name == DOCUMENT_TYPES and not document_code:
            continue
        allowed |= display_names
    return allowed or None


def _import_official_value_sets(app) -> None:
    folder = ans_cisis_dir() / "jeuxDeValeurs"
    names = dict.fromkeys((*BUILTIN, *XDS_VALUE_SETS))  # J01 is both
    files = [folder / f"{name}.xml" for name in names]
    with app.app_context():
        value_sets = [vs for path in files for vs in read_value_sets(path)]
        import_value_sets(value_sets)
        db.session.commit()


def _signed(app, make, variant: str, imported: bool = True):
    """A signed fiche; ``imported=False``: with the built-in value sets only (a fresh install)."""
    if imported:
        _import_official_value_sets(app)
    world = _world(app, make, variant)
    _enrich(app, world, variant)
    with app.app_context():
        rcp = db.session.get(Rcp, world.rcp_id)
        for key, value in NATIONAL_IDS.items():
            setattr(rcp, key, value)
        rcp.establishment.facility_type_code = "SA36"
        db.session.commit()
        item = db.session.get(AgendaItem, world.item_id)
        ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
    return world


def _metadata_of_each_message(app) -> list[etree._Element]:
    with app.app_context():
        rows = db.session.scalars(
            select(Transmission).where(Transmission.kind == "fiche").order_by(Transmission.id)
        ).all()
        found = []
        for row in rows:
            message = notices.build_for(row)
            for part in message.iter_attachments():
                if part.get_filename() == "IHE_XDM.ZIP":
                    with zipfile.ZipFile(BytesIO(part.get_content())) as archive:
                        found.append(
                            etree.fromstring(archive.read("IHE_XDM/SUBSET01/METADATA.XML"))
                        )
        return found


def cda_codes(cda: bytes) -> list[tuple[str, str, str, str | None, bool]]:
    """(where, system, code, displayName, is the document code) of every coded element."""
    root = etree.fromstring(cda)
    codes = []
    for element in root.iter(f"{{{HL7}}}*"):
        if element.get("code") and element.get("codeSystem"):
            codes.append(
                (
                    root.getroottree().getpath(element),
                    element.get("codeSystem"),
                    element.get("code"),
                    element.get("displayName"),
                    element.getparent() is root and element.tag == f"{{{HL7}}}code",
                )
            )
    return codes


def _hl7_unescape(text: str) -> str:
    escapes = {"\\F\\": "|", "\\S\\": "^", "\\T\\": "&", "\\R\\": "~", "\\E\\": "\\"}
    return re.sub(r"\\[FSTRE]\\", lambda m: escapes[m.group(0)], text)


def xds_codes(metadata: etree._Element) -> list[tuple[str, str, str, str | None, bool]]:
    """The same for the XDS metadata: classifications (code, codingScheme, Name) and the coded
    slots written as code^display^system."""
    codes = []
    for node in metadata.iterfind(".//rim:Classification[@nodeRepresentation]", NS):
        code = node.get("nodeRepresentation")
        if not code:
            continue  # author classifications carry slots, no code
        (system,) = node.xpath("rim:Slot[@name='codingScheme']//rim:Value/text()", namespaces=NS)
        name = node.xpath("rim:Name/rim:LocalizedString/@value", namespaces=NS)
        typecode = (
            node.get("classificationScheme") == "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
        )
        codes.append((f"classification {code}", system, code, name[0] if name else None, typecode))
    for slot in ("authorSpecialty", "authorRole"):
        for value in metadata.xpath(f"//rim:Slot[@name='{slot}']//rim:Value/text()", namespaces=NS):
            code, display, system = value.split("^")
            codes.append((slot, system, code, _hl7_unescape(display), False))
    return codes


def mismatches(codes) -> tuple[list[str], int]:
    wrong, checked = [], 0
    for where, system, code, display, document_code in codes:
        allowed = expected_names(system, code, document_code=document_code)
        if allowed is None:
            continue  # no value set lists it (section codes of the volet, TNM values…)
        checked += 1
        if display not in allowed:
            wrong.append(f"{where}: {system} {code} « {display} » au lieu de {sorted(allowed)}")
    return wrong, checked


@pytest.mark.parametrize("imported", [True, False], ids=["imported", "builtin"])
@pytest.mark.parametrize("variant", ["organ_full", "transversal", "registered"])
def test_every_display_name_is_the_value_set_s(app, make, variant, imported):
    world = _signed(app, make, variant, imported)
    cda = version_bytes(app, world.case_id, 1, "cda")
    codes = cda_codes(cda)
    wrong, checked = mismatches(codes)
    assert wrong == []
    # The walk did reach the coded items that come from the directory and the value sets.
    systems = {
        system
        for _, system, code, _, _ in codes
        if expected_names(system, code, document_code=True)
    }
    assert {SPECIALTY_SYSTEM, "1.2.250.1.71.4.2.4", "1.2.250.1.213.1.1.4.9"} <= systems
    assert checked >= 10

    metadata = _metadata_of_each_message(app)
    assert metadata
    for root in metadata:
        codes = xds_codes(root)
        wrong, checked = mismatches(codes)
        assert wrong == []
        assert {"authorSpecialty", "classification SA36", "classification 34794-8"} <= {
            where for where, *_ in codes
        }


@pytest.mark.parametrize("imported", [True, False], ids=["imported", "builtin"])
def test_a_specialty_is_named_as_in_jdv_j01(app, make, imported):
    """The case of the issue: « Oncologie médicale » is « Médecin - Oncologie, opt médicale
    (SM) » in the ANS value set, and that is what the fiche must say, whether the official
    value sets were imported or only the built-in ones (shortened labels for the screens)
    are there."""
    world = _signed(app, make, "minimal", imported)
    root = etree.fromstring(version_bytes(app, world.case_id, 1, "cda"))
    names = root.xpath("//h:assignedAuthor/h:code[@code='G15_10/SM36']/@displayName", namespaces=NS)
    assert names == ["Médecin - Oncologie, opt médicale (SM)"]


def test_encounter_carries_the_rcp_national_identifiers(app, make):
    world = _signed(app, make, "organ_full")
    cda = version_bytes(app, world.case_id, 1, "cda")
    encounter = etree.fromstring(cda).find("h:componentOf/h:encompassingEncounter", NS)
    ids = [(i.get("root"), i.get("extension")) for i in encounter.findall("h:id", NS)]
    assert ids[:3] == [(ENCOUNTER_ROOTS[key], NATIONAL_IDS[key]) for key in ENCOUNTER_ROOTS]
    with app.app_context():
        rcp = db.session.get(Rcp, world.rcp_id)
        assert rcp.national_id in {extension for _, extension in ids[3:]}
    assert xsd_errors(cda) == []
    assert schematron_failures(cda) == []


def test_encounter_declares_missing_identifiers_unknown(app, make):
    """An RCP the network has not registered yet: each identifier is declared unknown under its
    scheme, and the fiche still passes the XSD and the schematrons."""
    world = _world(app, make, "minimal")
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
    cda = version_bytes(app, world.case_id, 1, "cda")
    encounter = etree.fromstring(cda).find("h:componentOf/h:encompassingEncounter", NS)
    unknown = [(i.get("root"), i.get("nullFlavor")) for i in encounter.findall("h:id", NS)[:3]]
    assert unknown == [(root, "UNK") for root in ENCOUNTER_ROOTS.values()]
    assert xsd_errors(cda) == []
    assert schematron_failures(cda) == []


def test_each_built_in_label_that_differs_from_the_official_one_has_it_beside():
    """A built-in concept whose label is shortened for the screens must keep the value set's
    displayName in OFFICIAL_DISPLAY (what a fresh install writes in documents)."""
    missing = []
    for name, value_set in BUILTIN.items():
        for code, system, label, _parent in value_set.concepts:
            official = official_names().get((system, code), {}).get(name)
            if not official or label in official:
                continue
            kept = OFFICIAL_DISPLAY.get(name, {}).get(code)
            if kept not in official:
                missing.append(f"{name} {code} « {label} » : officiel {sorted(official)}")
    assert missing == []
