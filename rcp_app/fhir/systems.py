"""Code systems, identifier systems and extension URLs of the fiche's FHIR bundle.

Snapshots name code systems by OID, as the CDA does. FHIR wants the canonical URL of a code
system when HL7 (terminology.hl7.org, THO) has registered one, ``urn:oid:…`` otherwise: the
single table below does that mapping, so every Coding of the bundle goes through it.
"""

from __future__ import annotations

from ..patients import ins

# OID -> canonical URL, as registered in HL7 Terminology (THO) for these systems.
CANONICAL_URLS = {
    "2.16.840.1.113883.6.1": "http://loinc.org",
    "2.16.840.1.113883.6.96": "http://snomed.info/sct",
    # CIM-10 is the WHO ICD-10 (the French edition, ATIH), not the US ICD-10-CM.
    "2.16.840.1.113883.6.3": "http://hl7.org/fhir/sid/icd-10",
    "2.16.840.1.113883.6.43.1": "http://terminology.hl7.org/CodeSystem/icd-o-3",
    "2.16.840.1.113883.3.26.1.1": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
    "2.16.840.1.113883.6.8": "http://unitsofmeasure.org",
    "2.16.840.1.113883.5.4": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "2.16.840.1.113883.5.88": "http://terminology.hl7.org/CodeSystem/v3-ParticipationFunction",
    "2.16.840.1.113883.5.90": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
}

LOINC_OID = "2.16.840.1.113883.6.1"
LOINC = CANONICAL_URLS[LOINC_OID]
SNOMED = CANONICAL_URLS["2.16.840.1.113883.6.96"]
ICD10 = CANONICAL_URLS["2.16.840.1.113883.6.3"]
UCUM = CANONICAL_URLS["2.16.840.1.113883.6.8"]
ACT_CODE = CANONICAL_URLS["2.16.840.1.113883.5.4"]
PARTICIPATION_TYPE = CANONICAL_URLS["2.16.840.1.113883.5.90"]
PARTICIPATION_FUNCTION = CANONICAL_URLS["2.16.840.1.113883.5.88"]
# Codes the CDA writes under these OIDs, which have no FHIR URL (urn:oid: is then the rule).
TNM_UICC_OID = "2.16.840.1.113883.15.6"
ANS_TERMINOLOGY_OID = "1.2.250.1.213.1.1.4.322"  # TA_ASIP
CARE_TEAM_FUNCTIONS_OID = "1.2.250.1.213.1.6.1.107"
FUNCTION_CODES_OID = "1.2.250.1.213.1.1.4.2.280"
CARE_MODE_OID = "1.2.250.1.213.3.3.13"  # TRE_R213-ModePriseEnCharge
SPECIALTY_OID = "1.2.250.1.213.1.1.4.5"

URI = "urn:ietf:rfc:3986"  # identifier system of an identifier that is itself a URI
RPPS_OID = "1.2.250.1.71.4.2.1"  # national id of a professional: "8" + RPPS
FINESS_OID = "1.2.250.1.71.4.2.2"  # national id of a structure: "1" + FINESS
RPPS_URL = "https://rpps.esante.gouv.fr"
FINESS_URL = "https://finess.esante.gouv.fr"

FR_CORE = "https://hl7.fr/ig/fhir/core"
FR_CORE_IDENTIFIER_TYPES = f"{FR_CORE}/CodeSystem/fr-core-cs-v2-0203"
FR_CORE_IDENTITY_RELIABILITY = f"{FR_CORE}/StructureDefinition/fr-core-identity-reliability"
FR_CORE_IDENTITY_STATUS = f"{FR_CORE}/CodeSystem/fr-core-cs-identity-status"
FR_CORE_STRUCTURES = f"{FR_CORE}/StructureDefinition"
FR_CORE_BIRTH_LIST_GIVEN_NAME = f"{FR_CORE_STRUCTURES}/fr-core-patient-birth-list-given-name"
FR_CORE_INSEE_CODE = f"{FR_CORE}/StructureDefinition/fr-core-address-insee-code"
INSEE_COMMUNES = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
V2_IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition"
HISTOLOGY_EXTENSION = f"{MCODE}/mcode-histology-morphology-behavior"
LATERALITY_EXTENSION = f"{MCODE}/mcode-laterality-qualifier"
CORE_EXTENSIONS = "http://hl7.org/fhir/StructureDefinition"
ASSERTED_DATE_EXTENSION = f"{CORE_EXTENSIONS}/condition-assertedDate"
BIRTH_PLACE_EXTENSION = f"{CORE_EXTENSIONS}/patient-birthPlace"
VERSION_NUMBER_EXTENSION = f"{CORE_EXTENSIONS}/composition-clinicaldocument-versionNumber"

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# INS OID -> (FR Core identifier type, Identifier.use): a NIA is a temporary number.
INS_TYPES = {
    ins.OID_NIR: ("INS-NIR", "official"),
    ins.OID_NIA: ("INS-NIA", "temp"),
    ins.OID_TEST_NIR: ("INS-NIR-TEST", "official"),
    ins.OID_DEMO_NIR: ("INS-NIR-DEMO", "official"),
}


def system_url(oid: str | None) -> str | None:
    """The FHIR system of a snapshot's code system; None when the snapshot has none."""
    if not oid:
        return None
    return CANONICAL_URLS.get(oid, f"urn:oid:{oid}")


def oid_uri(oid: str) -> str:
    return f"urn:oid:{oid}"


def coding(system: str, code: str, display: str | None = None) -> dict:
    result = {"system": system, "code": code}
    if display:
        result["display"] = display
    return result


def concept(coded: dict | None, *, text: str | None = None) -> dict | None:
    """A CodeableConcept from a snapshot's coded value {code, system, label, display}.

    A code whose system the snapshot lost (a concept no longer in its value set) keeps only its
    label as text: a Coding without a system would mean nothing to a receiver.
    """
    if not coded:
        return None
    result: dict = {}
    system = system_url(coded.get("system"))
    if system:
        display = coded.get("display") or coded.get("label")
        result["coding"] = [coding(system, coded["code"], display)]
    label = text or coded.get("label")
    if label:
        result["text"] = label
    return result


def loinc(code: str, display: str) -> dict:
    return {"coding": [coding(LOINC, code, display)]}


def ans(code: str, display: str) -> dict:
    return {"coding": [coding(oid_uri(ANS_TERMINOLOGY_OID), code, display)], "text": display}


def identifier_type(system: str, code: str) -> dict:
    return {"coding": [coding(system, code)]}
