"""Conformance of CANCER-PPS documents: the fiche harness (tests/fiches/conformance.py: XSD,
ISO Schematron through Saxon, each schematron compiled once per session) with the PPS volet's
schematron in place of the FRCP one."""

from __future__ import annotations

from lxml import etree

from tests.fiches.conformance import ans_cisis_dir, schematron_failures, xsd_errors

PPS_SCHEMATRONS = (
    "CI-SIS_CANCER-PPS_2022.01.sch",
    "profils/CI-SIS_Modeles_ANS.sch",
    "profils/IHE.sch",
)
HL7 = "urn:hl7-org:v3"

__all__ = ["PPS_SCHEMATRONS", "ans_cisis_dir", "official_example", "pps_failures", "xsd_errors"]


def pps_failures(xml: bytes, schematrons: tuple[str, ...] = PPS_SCHEMATRONS) -> list[str]:
    """Every failed assertion of the PPS, ANS-models and IHE schematrons."""
    return schematron_failures(xml, schematrons)


def official_example() -> bytes:
    """The ClinicalDocument of the official example: the ANS ships it « autoprésentable »,
    wrapped in the XSLT stylesheet that renders it, so it is taken out as a document of its
    own."""
    path = ans_cisis_dir() / "examples" / "CANCER-PPS_2022.01_Autopresentable.xml"
    document = etree.parse(str(path)).getroot().find(f".//{{{HL7}}}ClinicalDocument")
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")
