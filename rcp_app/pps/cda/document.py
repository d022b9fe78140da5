"""CDA R2 CANCER-PPS document generated from a validated PPS snapshot.

No database and no application context: the same frozen snapshot always gives the same bytes.
"""

from __future__ import annotations

from ...fiches.cda.body_tumours import diagnosis_section
from ...fiches.cda.document import assemble
from ...fiches.cda.xml import Ids
from . import body_programme, body_references, body_status, body_support
from .header import build_header


def cancer_diagnosis(body, snapshot: dict, ids: Ids) -> None:
    diagnosis_section(body, ids, snapshot["diagnosis"], title="DIAGNOSTIC", fiche_details=False)


# Body order follows the official CANCER-PPS example.
SECTIONS = (
    cancer_diagnosis,
    body_programme.therapeutic_programme,
    body_support.supportive_care,
    body_status.document_status,
    body_references.referenced_documents,
    body_references.personal_data_information,
)


def build_pps_cda(snapshot: dict) -> bytes:
    """The CANCER-PPS CDA document of a PPS snapshot, as UTF-8 XML with its declaration."""
    return assemble(snapshot, build_header, SECTIONS)
