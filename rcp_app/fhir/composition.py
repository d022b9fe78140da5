"""The Composition, first entry of the document: the CDA header's data (type, set id and
version, author, legal authenticator, custodian, replaced version) and the sections."""

from __future__ import annotations

from ..fiches.cda.identifiers import uuid_oid
from .systems import URI, VERSION_NUMBER_EXTENSION, loinc

RCP_NOTE = ("34794-8", "CR de réunion de concertation pluridisciplinaire")


def document_uri(document_id: str) -> str:
    """The OID form of a version's UUID, as the CDA's id and the XDS uniqueId write it."""
    return f"urn:oid:{uuid_oid(document_id)}"


def _section(title: str, code: dict | None, entries: list[dict]) -> dict | None:
    if not entries:
        return None  # FHIR forbids a section without content (cmp-1)
    section: dict = {"title": title}
    if code:
        section["code"] = code
    section["entry"] = entries
    return section


def composition_fields(snapshot: dict, refs: dict, sections: dict) -> dict:
    document = snapshot["document"]
    amended = document["version"] > 1
    fields: dict = {
        "language": "fr-FR",
        "extension": [{"url": VERSION_NUMBER_EXTENSION, "valueString": str(document["version"])}],
        # Version-independent: the fiche's set id (a new version replaces, the set stays).
        "identifier": {"system": URI, "value": document_uri(document["set_id"])},
        "status": "amended" if amended else "final",
        "type": loinc(*RCP_NOTE),
        "subject": refs["patient"],
        "encounter": refs["encounter"],
        "date": document["effective_time"],
        "author": [refs["author"]],
        "title": document["title"],
        "confidentiality": "N",
        "attester": [
            {
                "mode": "legal",
                "time": snapshot["decision"]["validated_at"],
                "party": refs["authenticator"],
            }
        ],
        "custodian": refs["custodian"],
    }
    if amended and document.get("replaces_id"):
        fields["relatesTo"] = [
            {
                "code": "replaces",
                "targetIdentifier": {"system": URI, "value": document_uri(document["replaces_id"])},
            }
        ]
    fields["section"] = [
        section
        for section in (
            _section(
                "Diagnostic du cancer",
                loinc("72135-7", "Diagnostic du cancer"),
                sections["diagnosis"],
            ),
            _section("Proposition de la RCP", loinc("18776-5", "Plan de soins"), sections["plan"]),
            _section("Fiche RCP signée (PDF)", None, sections["pdf"]),
        )
        if section
    ]
    return fields
