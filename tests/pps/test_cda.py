"""CANCER-PPS CDA generation: conformance to the ANS XSD and schematrons, and content checks.

No database: the document is a pure function of the PPS snapshot (tests/pps/samples.py).
"""

from __future__ import annotations

import os
import re

import pytest
from lxml import etree

from rcp_app.fiches.cda.identifiers import uuid_oid
from rcp_app.pps.cda import build_pps_cda
from tests.pps import samples
from tests.pps.conformance import (
    PPS_SCHEMATRONS,
    ans_cisis_dir,
    official_example,
    pps_failures,
    xsd_errors,
)

NS = {"h": "urn:hl7-org:v3", "xsi": "http://www.w3.org/2001/XMLSchema-instance"}
PPS_TEMPLATE = "1.2.250.1.213.1.1.1.26"
TA_ASIP = "1.2.250.1.213.1.1.4.322"
INS = ("1.2.250.1.213.1.4.8", "261047505600123")

pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and not (ans_cisis_dir() / "schematrons").is_dir(),
    reason="ANS CI-SIS files absent (../shared/ans-cisis); under CI=true these tests fail instead",
)


def build(variant: str = "breast") -> bytes:
    return build_pps_cda(samples.VARIANTS[variant]())


def xpath(node, expression: str):
    return node.xpath(expression, namespaces=NS)


def root_of(variant: str = "breast") -> etree._Element:
    return etree.fromstring(build(variant))


def acts(root, category: str) -> list:
    """The planned acts of one category (MED-568 treatment, MED-571 follow-up, …)."""
    return xpath(root, f"//h:entry/h:procedure[h:code/@code='{category}']")


def kinds(root, category: str) -> list[tuple[str, str]]:
    return [
        (value.get("code"), value.get("codeSystem"))
        for procedure in acts(root, category)
        for value in xpath(procedure, "h:code/h:qualifier/h:value")
    ]


def planned_dates(root, category: str) -> list[str | None]:
    found = []
    for procedure in acts(root, category):
        lows = xpath(
            procedure,
            "h:entryRelationship/h:observation[h:code/@code='GEN-177']/h:effectiveTime/h:low/@value",
        )
        found.append(lows[0] if lows else None)
    return found


def narrative(root, anchor: str) -> str:
    """The text of the narrative element an entry points to (#anchor)."""
    (element,) = xpath(root, f"//h:section/h:text//*[@ID='{anchor}']")
    return " ".join("".join(element.itertext()).split())


def section_text(root, title: str) -> str:
    (text,) = xpath(root, f"//h:section[h:title='{title}']/h:text")
    return " ".join("".join(text.itertext()).split())


# --- The harness itself: it accepts the official example and rejects broken documents. ---


def test_official_example_is_conformant():
    xml = official_example()
    assert xsd_errors(xml) == []
    assert pps_failures(xml) == []


def test_harness_reports_a_missing_document_template():
    xml = build().replace(f'root="{PPS_TEMPLATE}"'.encode(), b'root="1.2.3.4"')
    failures = pps_failures(xml)
    assert len(failures) == 1
    assert "[Entete_Cancer-PPS]" in failures[0] and PPS_TEMPLATE in failures[0]


def test_harness_reports_a_treatment_outside_its_value_set():
    # Chemotherapy of the FRCP value set (C15632) is in the PPS one too; C99999 is in neither.
    xml = build().replace(b'code="C15313"', b'code="C99999"')
    failures = pps_failures(xml)
    assert len(failures) == 1
    assert "C99999" in failures[0] and "JDV_TypeTraitementPPS_CISIS" in failures[0]


def test_harness_reports_xsd_violations():
    assert xsd_errors(build().replace(b"<languageCode", b"<languageKode"))


# --- Every variant: valid, conformant, deterministic. ---


@pytest.mark.parametrize("variant", samples.VARIANTS)
def test_generated_document_is_valid_against_the_xsd(variant):
    xml = build(variant)
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert xsd_errors(xml) == []


@pytest.mark.parametrize("schematron", PPS_SCHEMATRONS)
@pytest.mark.parametrize("variant", samples.VARIANTS)
def test_generated_document_passes_the_schematron(variant, schematron):
    assert pps_failures(build(variant), (schematron,)) == []


@pytest.mark.parametrize("variant", samples.VARIANTS)
def test_generation_is_deterministic(variant):
    assert build(variant) == build(variant)


def test_generation_leaves_the_snapshot_unchanged():
    snapshot = samples.several_treatments_snapshot()
    build_pps_cda(snapshot)
    assert snapshot == samples.several_treatments_snapshot()


# --- Header. ---


def test_header_identifies_the_programme_version():
    root = root_of()
    document = samples.PPS_BREAST["document"]
    assert xpath(root, "h:templateId[@extension='2022.01']/@root") == [PPS_TEMPLATE]
    assert xpath(root, "h:code/@code") == ["18776-5"]
    assert xpath(root, "h:id/@root") == [uuid_oid(document["id"])]
    assert xpath(root, "h:setId/@root") == [uuid_oid(document["set_id"])]
    assert xpath(root, "h:versionNumber/@value") == ["1"]
    assert xpath(root, "h:relatedDocument") == []
    assert xpath(root, "h:legalAuthenticator/h:time/@value") == ["20261203101500+0100"]


def test_qualified_identity_carries_the_ins_and_the_ipp():
    ids = xpath(root_of(), "h:recordTarget/h:patientRole/h:id")
    assert [(i.get("root"), i.get("extension")) for i in ids] == [
        INS,
        ("1.2.250.1.999.1.1", "IPP000123"),
    ]


@pytest.mark.parametrize("ins", [None, {"matricule": INS[1], "oid": INS[0]}])
def test_unqualified_identity_never_shows_the_ins(ins):
    snapshot = samples.unqualified_identity_snapshot()
    snapshot["patient"]["ins"] = ins  # even when the snapshot still holds one
    xml = build_pps_cda(snapshot)
    assert INS[1].encode() not in xml and INS[0].encode() not in xml
    ids = xpath(etree.fromstring(xml), "h:recordTarget/h:patientRole/h:id/@extension")
    assert ids == ["IPP000123"]


def test_amended_version_replaces_the_previous_one_and_says_why():
    root = root_of("amended")
    document = samples.amended_snapshot()["document"]
    assert xpath(root, "h:versionNumber/@value") == ["2"]
    assert xpath(root, "h:setId/@root") == [uuid_oid(samples.PPS_BREAST["document"]["set_id"])]
    assert xpath(root, "h:relatedDocument/@typeCode") == ["RPLC"]
    assert xpath(root, "h:relatedDocument/h:parentDocument/h:id/@root") == [
        uuid_oid(samples.PPS_BREAST["document"]["id"])
    ]
    (motive,) = xpath(root, "//h:entry/h:observation[h:code/@code='GEN-037']")
    assert xpath(motive, "h:value/@code") == ["GEN-176"]
    assert xpath(motive, "h:value/@codeSystem") == [TA_ASIP]
    assert narrative(root, "motif-maj") == "Modification de calendrier"
    (precision,) = xpath(motive, "h:entryRelationship/h:act/h:text/h:reference/@value")
    assert narrative(root, precision[1:]) == document["amendment_reason"]
    # The replaced version is also cited among the referenced documents.
    assert uuid_oid(samples.PPS_BREAST["document"]["id"]) in xpath(
        root, "//h:externalDocument/h:id/@root"
    )


def test_first_version_has_no_update_motive():
    root = root_of()
    assert xpath(root, "//h:observation[h:code/@code='GEN-037']") == []
    assert xpath(root, "//h:externalDocument/h:id/@root") == [
        uuid_oid(samples.PPS_BREAST["fiche"]["document_id"])
    ]


def test_contacts_are_header_participants_with_their_phone():
    root = root_of()
    referent, nurse, care_centre, gp = xpath(root, "h:participant")
    assert xpath(referent, "h:associatedEntity/h:id/@extension") == ["810000000078"]
    assert "tel:0123456789" in xpath(referent, "h:associatedEntity/h:telecom/@value")
    assert xpath(nurse, "h:associatedEntity/h:telecom/@value") == ["tel:0123456790"]
    assert xpath(care_centre, "h:functionCode/h:translation/@code") == ["ORG-190"]
    assert xpath(care_centre, "h:associatedEntity/h:scopingOrganization/h:name/text()") == [
        "3C du Centre hospitalier de Valmont"
    ]
    assert xpath(gp, "h:functionCode/@code") == ["PCP"]


def test_unknown_gp_and_no_nurse_nor_care_centre():
    (gp,) = xpath(root_of("no_supportive_care"), "h:participant[@typeCode='INF']")
    assert xpath(gp, "h:associatedEntity/h:id/@nullFlavor") == ["UNK"]
    assert xpath(root_of("no_supportive_care"), "h:participant/h:functionCode/@code") == [
        "353",
        "PCP",
    ]


# --- Body. ---


def test_every_treatment_has_its_code_and_planned_date():
    snapshot = samples.several_treatments_snapshot()
    root = root_of("several_treatments")
    treatments = snapshot["treatments"]
    assert kinds(root, "MED-568") == [(t["kind"]["code"], t["kind"]["system"]) for t in treatments]
    assert planned_dates(root, "MED-568") == ["20261215", None, "20270112", "20270401"]
    for index, treatment in enumerate(treatments, start=1):
        assert narrative(root, f"traitement-{index}").lower() == treatment["kind"]["label"]
        details = narrative(root, f"traitement-{index}-commentaire")
        assert treatment["description"] in details and treatment["place"] in details
        assert treatment["team"] in details


def test_treatment_dates_are_french_in_the_narrative():
    root = root_of("several_treatments")
    assert narrative(root, "traitement-1-date") == "15/12/2026"
    assert narrative(root, "traitement-3-date") == "12/01/2027"
    text = section_text(root, "PROGRAMME THÉRAPEUTIQUE ET DE SUIVI")
    assert "À déterminer" in text  # the radiotherapy has no date yet
    assert "Alternative 1 de la RCP" in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)


def test_appointments_are_follow_up_acts_at_paris_time():
    root = root_of()
    assert kinds(root, "MED-571") == [
        ("11429006", "2.16.840.1.113883.6.96"),
        ("MED-091", TA_ASIP),
    ]
    assert planned_dates(root, "MED-571") == ["20261208093000+0100", "20261210"]
    assert narrative(root, "suivi-1-date") == "08/12/2026 à 09h30"
    assert narrative(root, "suivi-2-date") == "10/12/2026"


def test_surveillance_only():
    root = root_of("surveillance")
    assert kinds(root, "MED-568") == [("MED-227", TA_ASIP)]
    assert planned_dates(root, "MED-568") == [None]
    # Summer time: the appointment is at 14h00 in Paris, UTC+2.
    assert planned_dates(root, "MED-571") == ["20270603140000+0200"]
    assert narrative(root, "suivi-1-date") == "03/06/2027 à 14h00"


def test_supportive_care_and_social_support_codes():
    root = root_of()
    assert kinds(root, "MED-572") == [("ORG-036", TA_ASIP), ("ORG-175", TA_ASIP)]
    assert kinds(root, "MED-573") == [("PAT-024", TA_ASIP)]
    text = section_text(
        root, "SOINS ONCOLOGIQUES DE SUPPORT, ACCOMPAGNEMENT SOCIAL ET SOCIOPROFESSIONNEL"
    )
    assert "Prise en charge diététique et nutritionnelle" in text
    assert "Aide ménagère pendant la convalescence." in text
    assert "Vit seule, secrétaire à temps plein, arrêt de travail prévu." in text


def test_nothing_proposed_is_said_in_words():
    root = root_of("no_supportive_care")
    assert acts(root, "MED-572") == [] and acts(root, "MED-573") == []
    assert acts(root, "MED-571") == []
    text = section_text(
        root, "SOINS ONCOLOGIQUES DE SUPPORT, ACCOMPAGNEMENT SOCIAL ET SOCIOPROFESSIONNEL"
    )
    assert "Aucun soin oncologique de support proposé." in text
    assert "Aucun accompagnement social ou socioprofessionnel proposé." in text
    assert "Évaluation sociale et socioprofessionnelle : non renseignée" in text
    assert "Aucun rendez-vous de suivi programmé." in section_text(
        root, "PROGRAMME THÉRAPEUTIQUE ET DE SUIVI"
    )


def test_diagnosis_and_rcp_are_stated_with_french_dates():
    root = root_of()
    assert xpath(root, "//h:observation/h:targetSiteCode/@code") == ["C50.4"]
    assert "10/11/2026" in section_text(root, "DIAGNOSTIC")
    assert narrative(root, "date-rcp") == "26/11/2026"
    (rcp_date,) = xpath(root, "//h:observation[h:code/@code='ORG-189']")
    assert xpath(rcp_date, "h:effectiveTime/@value") == ["20261126"]
    fiche = narrative(root, "document-ref-fiche")
    assert "RCP Sénologie du 26/11/2026" in fiche
    assert "Dr MARTIN Claire" in fiche


@pytest.mark.parametrize("variant", samples.VARIANTS)
def test_every_entry_points_to_words_of_its_own_section(variant):
    """What makes the narrative say what the entries say: every reference of an entry names
    a non-empty element of its own section's text."""
    root = root_of(variant)
    checked = 0
    for section in xpath(root, "//h:section"):
        anchors = {
            element.get("ID"): "".join(element.itertext()).strip()
            for element in xpath(section, "h:text//*[@ID]")
        }
        for value in xpath(section, "h:entry//h:reference/@value"):
            assert value.startswith("#") and anchors.get(value[1:]), (variant, value)
            checked += 1
    assert checked > 10
