"""CDA header of the CANCER-PPS document: the FRCP header's parts (rcp_app/fiches/cda/header)
with the PPS's template, type code and signer, and the contacts the patient is given."""

from __future__ import annotations

from ...fiches.cda.header import (
    CARE_TEAM_MEMBER,
    CORRESPONDENT,
    author,
    custodian,
    document_header,
    gp_participant,
    health_care_facility,
    health_professional,
    legal_authenticator,
    participant,
    participant_head,
    record_target,
    related_document,
    tel_uri,
)
from ...fiches.cda.xml import ans_code, el, hl7_time, loinc

PPS_TEMPLATE = "1.2.250.1.213.1.1.1.26"
PPS_CODE = loinc("18776-5", "Plan personnalisé de soins")
# Kinds of contact (functionCode translations) as the official example writes them.
REFERENCE_TEAM = ans_code("ORG-177", "Etablissement de santé de référence")
CARE_CENTRE = ans_code("ORG-190", "Centre de coordination de cancérologie (3C)")


def contacts(root, snapshot: dict) -> None:
    """Whom the patient calls: the referring physician, the coordinating nurse and the 3C (all
    with their phone), then the GP, mandatory and null-flavoured when unknown."""
    people, book = snapshot["people"], snapshot["contacts"]
    participant(
        root,
        "PRF",
        CARE_TEAM_MEMBER,
        "Médecin référent",
        people["referent"],
        translation=REFERENCE_TEAM,
        phone=book.get("referent_phone"),
    )
    if book.get("nurse"):
        _contact(
            root,
            CARE_TEAM_MEMBER,
            REFERENCE_TEAM,
            "Infirmier(ère) de coordination",
            book["nurse"],
            tag="associatedPerson",
        )
    if book.get("care_centre"):
        _contact(
            root,
            CORRESPONDENT,
            CARE_CENTRE,
            "Centre de coordination en cancérologie (3C)",
            book["care_centre"],
            tag="scopingOrganization",
        )
    gp_participant(root, people.get("gp"))


def _contact(root, function: tuple, kind: dict, comment: str, contact: dict, *, tag: str):
    """A contact known by name and phone only (no RPPS, no FINESS in the snapshot)."""
    node = participant_head(root, "PRF", function, comment, kind)
    entity = el(node, "associatedEntity", classCode="PROV")
    if contact.get("phone"):
        el(entity, "telecom", value=tel_uri(contact["phone"]), use="WP")
    el(el(entity, tag), "name", contact["name"])


def documentation_of(root, snapshot: dict) -> None:
    """The act documented: drawing up the programme, by its author, when it was validated."""
    event = el(el(root, "documentationOf"), "serviceEvent", classCode="ACT")
    el(el(event, "effectiveTime"), "low", value=hl7_time(snapshot["document"]["effective_time"]))
    health_professional(
        el(event, "performer", typeCode="PRF"),
        "assignedEntity",
        snapshot["people"]["author"],
        person_tag="assignedPerson",
        org_tag="representedOrganization",
    )


def component_of(root, snapshot: dict) -> None:
    """The care episode has no single date: the custodian's establishment holds it."""
    encounter = el(el(root, "componentOf"), "encompassingEncounter")
    el(encounter, "effectiveTime", nullFlavor="UNK")
    health_care_facility(encounter, snapshot["custodian"], snapshot["custodian"])


def build_header(root, snapshot: dict) -> None:
    document = snapshot["document"]
    document_header(root, snapshot, template=PPS_TEMPLATE, code=PPS_CODE, title=document["title"])
    record_target(root, snapshot)
    author(root, snapshot, role="Médecin ayant validé le programme personnalisé de soins")
    custodian(root, snapshot)
    legal_authenticator(root, snapshot, signed_at=document["effective_time"])
    contacts(root, snapshot)
    documentation_of(root, snapshot)
    related_document(root, snapshot)
    component_of(root, snapshot)
