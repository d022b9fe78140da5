"""CDA header of the FRCP document (CI-SIS volet FRCP 2022.01), built from a fiche snapshot."""

from __future__ import annotations

from .identifiers import uuid_oid
from .xml import (
    FINESS_ROOT,
    RPPS_ROOT,
    code_el,
    display_name,
    el,
    hl7_time,
    loinc,
    template_ids,
)

DOCUMENT_TEMPLATES = (
    "2.16.840.1.113883.2.8.2.1",  # HL7 France
    "1.2.250.1.213.1.1.1.1",  # CI-SIS
)
FRCP_TEMPLATE = "1.2.250.1.213.1.1.1.8"
FUNCTION_CODES = "1.2.250.1.213.1.1.4.2.280"
CARE_TEAM_FUNCTIONS = "1.2.250.1.213.1.6.1.107"
CARE_TEAM_MEMBER = ("353", "Membre de l'équipe de soins", CARE_TEAM_FUNCTIONS)
CORRESPONDENT = ("CORRE", "Correspondant", FUNCTION_CODES)
GP_FUNCTION = ("PCP", "Médecin traitant", "2.16.840.1.113883.5.88")
# Roots of the national identifiers of the encounter, as in the ANS FRCP examples: the regional
# cancer network (DSRC, formerly RRC), the RCP manager, the RCP (snapshot["rcp"] keys).
ENCOUNTER_NATIONAL_IDS = (
    ("network_id", "1.2.250.1.161.1.20.1.1"),
    ("manager_id", "1.2.250.1.161.1.20.2.1"),
    ("registry_id", "1.2.250.1.161.1.20.3.1"),
)
SEX_CODES = {"M": ("M", "Masculin"), "F": ("F", "Féminin"), "I": ("UN", "Indéterminé")}
FRCP_CODE = loinc("34794-8", "CR de réunion de concertation pluridisciplinaire")


def document_header(
    root, snapshot: dict, *, template: str = FRCP_TEMPLATE, code: dict = FRCP_CODE, title=None
) -> None:
    """The identification of the document; the defaults are the FRCP's, other CI-SIS volets
    (the PPS) give their own template, type code and title."""
    document = snapshot["document"]
    el(root, "realmCode", code="FR")
    el(root, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    template_ids(root, *DOCUMENT_TEMPLATES)
    el(root, "templateId", root=template, extension="2022.01")
    el(root, "id", root=uuid_oid(document["id"]))
    code_el(root, "code", code)
    el(root, "title", title or f"{document['title']} – {snapshot['rcp']['name']}")
    el(root, "effectiveTime", value=hl7_time(document["effective_time"]))
    el(
        root,
        "confidentialityCode",
        code="N",
        codeSystem="2.16.840.1.113883.5.25",
        displayName="Normal",
    )
    el(root, "languageCode", code="fr-FR")
    el(root, "setId", root=uuid_oid(document["set_id"]))
    el(root, "versionNumber", value=str(document["version"]))


def record_target(root, snapshot: dict) -> None:
    patient = snapshot["patient"]
    role = el(el(root, "recordTarget"), "patientRole")
    # The INS may only be shared once the identity is qualified; otherwise the local IPP alone.
    if patient["identity_status"] == "QUAL" and patient.get("ins"):
        el(role, "id", root=patient["ins"]["oid"], extension=patient["ins"]["matricule"])
    el(role, "id", root=f"{snapshot['document']['oid_root']}.1", extension=patient["ipp"])
    person = el(role, "patient", classCode="PSN")
    name = el(person, "name")
    el(name, "family", patient["birth_name"], qualifier="BR")
    el(name, "given", patient["birth_first_names"])
    el(name, "given", patient["first_birth_first_name"], qualifier="BR")
    if patient.get("used_name"):
        el(name, "family", patient["used_name"], qualifier="SP")
    if patient.get("used_first_name"):
        el(name, "given", patient["used_first_name"], qualifier="CL")
    sex_code, sex_label = SEX_CODES[patient["sex"]]
    el(
        person,
        "administrativeGenderCode",
        code=sex_code,
        displayName=sex_label,
        codeSystem="2.16.840.1.113883.5.1",
    )
    el(person, "birthTime", value=hl7_time(patient["birth_date"]))
    if patient.get("birthplace_code"):
        address = el(el(el(person, "birthplace"), "place"), "addr")
        el(address, "county", patient["birthplace_code"])


def _person_name(parent, tag: str, person: dict) -> None:
    name = el(el(parent, tag), "name")
    el(name, "given", person["first_name"])
    el(name, "family", person["last_name"].upper())
    if person.get("title"):
        el(name, "suffix", person["title"].upper())


def _organization(parent, tag: str, establishment: dict | None) -> None:
    if establishment is None:  # a professional the directory knows without an establishment
        return
    organization = el(parent, tag)
    el(organization, "id", root=FINESS_ROOT, extension=f"1{establishment['finess']}")
    el(organization, "name", establishment["name"])
    el(
        organization,
        "standardIndustryClassCode",
        code="ETABLISSEMENT",
        displayName="Etablissement de santé",
        codeSystem="1.2.250.1.213.1.1.4.9",
    )


def health_professional(
    parent, tag: str, person: dict, *, person_tag: str, org_tag: str, phone: str | None = None
):
    """assignedAuthor / assignedEntity / associatedEntity of a physician identified by RPPS;
    ``phone`` (as typed, « 01 23 45 67 89 ») when the document tells the patient whom to call."""
    entity = el(parent, tag, classCode="PROV" if tag == "associatedEntity" else None)
    el(entity, "id", root=RPPS_ROOT, extension=f"8{person['rpps']}")
    code_el(entity, "code", person["specialty"])
    if phone:
        el(entity, "telecom", value=tel_uri(phone), use="WP")
    if person.get("mssante"):
        el(entity, "telecom", value=f"mailto:{person['mssante']}")
    _person_name(entity, person_tag, person)
    _organization(entity, org_tag, person["establishment"])
    return entity


def tel_uri(phone: str) -> str:
    """« 01 23 45 67 89 » -> 'tel:0123456789' (RFC 3966 keeps only digits and a leading +)."""
    return "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")


def author(root, snapshot: dict, *, role: str = "Médecin ayant validé la fiche RCP") -> None:
    node = el(root, "author")
    function = el(
        node,
        "functionCode",
        code="353",
        displayName="Membre de l'équipe de soins",
        codeSystem=CARE_TEAM_FUNCTIONS,
    )
    el(function, "originalText", role)
    el(node, "time", value=hl7_time(snapshot["document"]["effective_time"]))
    health_professional(
        node,
        "assignedAuthor",
        snapshot["people"]["author"],
        person_tag="assignedPerson",
        org_tag="representedOrganization",
    )


def custodian(root, snapshot: dict) -> None:
    custodian_org = snapshot["custodian"]
    organization = el(
        el(el(root, "custodian"), "assignedCustodian"), "representedCustodianOrganization"
    )
    el(organization, "id", root=FINESS_ROOT, extension=f"1{custodian_org['finess']}")
    el(organization, "name", custodian_org["name"])


def legal_authenticator(root, snapshot: dict, *, signed_at: str | None = None) -> None:
    """Signed when the decision was validated, unless the caller says when (``signed_at``)."""
    node = el(root, "legalAuthenticator")
    el(node, "time", value=hl7_time(signed_at or snapshot["decision"]["validated_at"]))
    el(node, "signatureCode", code="S")
    health_professional(
        node,
        "assignedEntity",
        snapshot["people"]["legal_authenticator"],
        person_tag="assignedPerson",
        org_tag="representedOrganization",
    )


def participant_head(root, type_code: str, function: tuple | None, comment: str, translation=None):
    """A header participant up to its time; ``translation`` (a coded dict) says which kind of
    contact it is where a volet asks for it (the PPS's ORG-177, ORG-190)."""
    node = el(root, "participant", typeCode=type_code)
    if function:
        code, label, system = function
        function_node = el(node, "functionCode", code=code, displayName=label, codeSystem=system)
    else:
        function_node = el(node, "functionCode", nullFlavor="NA")
    el(function_node, "originalText", comment)
    if translation:
        code_el(function_node, "translation", translation)
    el(node, "time", nullFlavor="UNK")
    return node


def participant(
    root,
    type_code: str,
    function: tuple | None,
    comment: str,
    person: dict | None,
    *,
    translation: dict | None = None,
    phone: str | None = None,
):
    """A physician participant (RPPS); ``None`` for an unknown one (null-flavoured)."""
    node = participant_head(root, type_code, function, comment, translation)
    if person is None:
        # Unknown GP: the participant stays (it is mandatory) with null-flavoured identity.
        entity = el(node, "associatedEntity", classCode="PROV")
        el(entity, "id", nullFlavor="UNK")
        el(el(entity, "associatedPerson"), "name", nullFlavor="UNK")
        return
    health_professional(
        node,
        "associatedEntity",
        person,
        person_tag="associatedPerson",
        org_tag="scopingOrganization",
        phone=phone,
    )


def gp_participant(root, gp: dict | None) -> None:
    """The GP, mandatory in the header: null-flavoured when unknown."""
    participant(root, "INF", GP_FUNCTION, "Médecin traitant" if gp else "Inconnu", gp)


def participants(root, snapshot: dict) -> None:
    people = snapshot["people"]
    quorum, correspondent = CARE_TEAM_MEMBER, CORRESPONDENT
    participant(root, "RESP", None, "Médecin coordonnateur de la RCP", people["coordinator"])
    participant(root, "REFB", None, "Médecin demandeur", people["requester"])
    if people.get("presenter"):
        participant(root, "PRF", None, "Médecin présentant le dossier", people["presenter"])
    gp_participant(root, people.get("gp"))
    for member in people["quorum_members"]:
        participant(root, "PRF", quorum, "Participant du quorum", member)
    for attendee in people["other_attendees"]:
        participant(root, "PRF", correspondent, "Participant hors quorum", attendee)
    for recipient in people["copy_recipients"]:
        participant(root, "CON", correspondent, "Destinataire d'une copie", recipient)


def in_fulfillment_of(root, snapshot: dict) -> None:
    order = el(el(root, "inFulfillmentOf"), "order")
    el(
        order,
        "id",
        root=f"{snapshot['document']['oid_root']}.2",
        extension=str(snapshot["case"]["id"]),
    )
    code = el(order, "code", nullFlavor="NA")
    el(code, "originalText", "Inscription du dossier en RCP")


def documentation_of(root, snapshot: dict) -> None:
    event = el(el(root, "documentationOf"), "serviceEvent", classCode="ACT")
    act = el(
        event,
        "code",
        code="39",
        displayName="Réunion de Concertation Pluridisciplinaire (RCP)",
        codeSystem="1.2.250.1.213.3.3.13",
        codeSystemName="TRE_R213-ModePriseEnCharge",
    )
    el(act, "originalText", snapshot["rcp"]["name"])
    el(el(event, "effectiveTime"), "low", value=hl7_time(snapshot["session"]["starts_at"]))
    performer = el(event, "performer", typeCode="PRF")
    health_professional(
        performer,
        "assignedEntity",
        snapshot["people"]["coordinator"],
        person_tag="assignedPerson",
        org_tag="representedOrganization",
    )
    for tumour in snapshot["case"]["tumours"]:
        topography = el(el(root, "documentationOf"), "serviceEvent", classCode="ACT")
        code_el(topography, "code", tumour["topography"])


def related_document(root, snapshot: dict) -> None:
    document = snapshot["document"]
    if document["version"] > 1 and document.get("replaces_id"):
        parent = el(el(root, "relatedDocument", typeCode="RPLC"), "parentDocument")
        el(parent, "id", root=uuid_oid(document["replaces_id"]))


def component_of(root, snapshot: dict) -> None:
    rcp, session = snapshot["rcp"], snapshot["session"]
    oid_root = snapshot["document"]["oid_root"]
    encounter = el(el(root, "componentOf"), "encompassingEncounter")
    manager = rcp["establishment"]
    for key, id_root in ENCOUNTER_NATIONAL_IDS:
        # Mandatory in the volet; an identifier the network has not assigned yet is declared
        # unknown under its scheme rather than left out (fiches signed before 0014 have none).
        if rcp.get(key):
            el(encounter, "id", root=id_root, extension=rcp[key])
        else:
            el(encounter, "id", root=id_root, nullFlavor="UNK")
    el(encounter, "id", root=f"{oid_root}.3", extension=str(session["id"]))
    el(encounter, "id", root=f"{oid_root}.4", extension=rcp["national_id"])
    el(
        encounter,
        "code",
        code="VR",
        displayName="Virtuelle (exemple : RCP en l'absence du patient)",
        codeSystem="2.16.840.1.113883.5.4",
    )
    el(el(encounter, "effectiveTime"), "low", value=hl7_time(session["starts_at"]))
    health_care_facility(encounter, snapshot["custodian"], manager)


def health_care_facility(encounter, custodian_org: dict, establishment: dict) -> None:
    """The encounter's location: ``establishment`` (FINESS, name), with the custodian's
    facility category and city."""
    facility = el(el(encounter, "location"), "healthCareFacility")
    el(facility, "id", root=FINESS_ROOT, extension=f"1{establishment['finess']}")
    facility_type = custodian_org.get("facility_type")
    if facility_type:  # the same category as the XDS healthcareFacilityTypeCode
        el(
            facility,
            "code",
            code=facility_type["code"],
            displayName=display_name(facility_type),
            codeSystem=facility_type["system"],
        )
    place = el(facility, "location")
    el(place, "name", establishment["name"])
    address = el(place, "addr")
    el(address, "city", custodian_org.get("city") or "")


def build_header(root, snapshot: dict) -> None:
    document_header(root, snapshot)
    record_target(root, snapshot)
    author(root, snapshot)
    custodian(root, snapshot)
    legal_authenticator(root, snapshot)
    participants(root, snapshot)
    in_fulfillment_of(root, snapshot)
    documentation_of(root, snapshot)
    related_document(root, snapshot)
    component_of(root, snapshot)
