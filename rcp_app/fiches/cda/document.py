"""CDA R2 FRCP document (CI-SIS volet FRCP 2022.01) generated from a validated fiche snapshot.

Pure function of the snapshot (see tests/fiches/samples.py for its format): no database and no
application context, so the same frozen snapshot always gives the same bytes.
"""

from __future__ import annotations

from lxml import etree

from . import body_case as case_sections
from . import body_clinical as clinical_sections
from . import body_decision as decision_sections
from . import body_referral as referral_sections
from . import body_tumours as tumour_sections
from .header import build_header
from .xml import HL7, NSMAP, Ids, el

# Body order follows the official FRCP examples.
SECTIONS = (
    referral_sections.reason_for_referral,
    referral_sections.discovery_events,
    tumour_sections.cancer_diagnosis,
    clinical_sections.medical_history,
    clinical_sections.active_problems,
    clinical_sections.functional_status,
    clinical_sections.exam_results,
    case_sections.progress_note,
    case_sections.past_treatments,
    clinical_sections.report_conclusions,
    case_sections.history_of_present_illness,
    decision_sections.file_status,
    decision_sections.care_plan,
    decision_sections.proposal_framework,
    decision_sections.document_status,
)


def assemble(snapshot: dict, header, sections) -> bytes:
    """A CDA document: ``header(root, snapshot)``, then each section of the structured body in
    order, as UTF-8 XML with its declaration (the FRCP and CANCER-PPS documents alike)."""
    ids = Ids(snapshot["document"]["id"])
    root = etree.Element(f"{{{HL7}}}ClinicalDocument", nsmap=NSMAP)
    header(root, snapshot)
    body = el(el(root, "component"), "structuredBody")
    for add_section in sections:
        add_section(body, snapshot, ids)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_cda(snapshot: dict) -> bytes:
    """The FRCP CDA document of a fiche snapshot, as UTF-8 XML with its declaration."""
    return assemble(snapshot, build_header, SECTIONS)
