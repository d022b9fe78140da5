"""FHIR R4 document Bundle of a signed fiche version: a pure function of its snapshot and of
its signed PDF's bytes, like the CDA (no database, no application context), so the same version
always gives the same bytes for the same ``base_url``.

Models: ``fhir.resources`` 8 has no R4 package, only R4B (4.3.0) and STU3; the bundle is
validated with the R4B models, whose elements used here have the names, types and cardinalities
of R4. A wrong element name or type raises ``pydantic.ValidationError`` at build time.

Profiles (no ``meta.profile`` is declared: each resource follows a profile only as far as the
table says, and a declared profile would hold it to the whole, US Core included for mCODE):

=====================  =========================================  ==============================
Entry                  Follows                                    Not aligned, and why
=====================  =========================================  ==============================
Bundle, Composition    FHIR document (Composition first);          Bundle.identifier = the
                       LOINC 34794-8; attester legal; custodian;  version's id, Composition.
                       status amended + relatesTo replaces for    identifier = the set id, both
                       version > 1                                in the CDA's OID form (2.25.…);
                                                                  version in the core extension
                                                                  composition-clinicaldocument-
                                                                  versionNumber (no element in R4)
Patient                FR Core Patient, FR Core Patient INS when  identityStatus coded in
                       qualified: INS slices (NIR, NIA, test,     fr-core-cs-identity-status
                       demo OIDs), IPP (PI), official name with   (PROV/RECUP/VALI/QUAL) of FR
                       birth-list-given-name, usual name,         Core's development version: the
                       fr-core-identity-reliability, birthPlace   published 2.1.0 value set has
                       INSEE code                                 no RECUP nor QUAL
Practitioner, Role,    FR Core: idNatPs (8 + RPPS) and rpps;      specialty in the CI-SIS author
Organization           idNatSt (1 + FINESS) and finess            specialty system (OID), not
                                                                  FR Core's ordinal specialties
Condition              mCODE PrimaryCancerCondition: histology-   code in WHO ICD-10 (CIM-10),
                       morphology-behavior (ICD-O-3), laterality  not SNOMED CT / ICD-10-CM;
                       qualifier, assertedDate, stage             bodySite without a SNOMED code
TNM Observations       mCODE TNMStageGroup, TNMPrimaryTumor-      values in TNM_UICC (urn:oid),
                       Category, TNMRegionalNodesCategory,        not AJCC / SNOMED CT; edition
                       TNMDistantMetastasesCategory: LOINC        as method text; the CDA codes
                       codes, focus, hasMember                    the clinical group 21909-7
                                                                  (FRCP volet), here 21908-9
Biomarker Observations mCODE TumorMarkerTest: laboratory, focus,  code from the application's
                       value Quantity (UCUM) / integer / string   registry (<base_url>/fhir/
                                                                  CodeSystem/biomarqueurs), not
                                                                  LOINC (a LOINC term depends on
                                                                  the method, which the fiche
                                                                  does not record); no date
CarePlan, CareTeam     base R4 (mCODE has no proposal profile):   rank = order of the activities;
                       intent proposal, one activity per ranked   CareTeam roles = the CDA's
                       treatment, ANS codes (surveillance,        participant codes (RESP, REFB,
                       exams, recourse, trial) as in the CDA;     PCP, CORRE); the GP is also
                       CareTeam: coordinator, requester, GP,      Patient.generalPractitioner
                       copy recipients
Encounter              base R4: class VR, the session's ids,      participant type PART plus the
                       present people, serviceProvider            CDA function (353 / CORRE)
DocumentReference      base R4: the signed PDF inline, SHA-1      -
                       hash (as Attachment.hash requires)
=====================  =========================================  ==============================

Not carried (the CDA and the PDF have them): reason for referral, phase (but for a relapse, the
Conditions' clinicalStatus « recurrence »), progression, OMS status, G8, history, clinical
reports, file status, quorum, other stagings. No narrative either: the signed PDF is the
document's human-readable form.
"""

from __future__ import annotations

import json

from fhir.resources.R4B.bundle import Bundle

from .careplan import add_care_plan, add_care_team
from .composition import composition_fields, document_uri
from .condition import add_conditions
from .encounter import add_encounter
from .entries import Entries
from .patient import add_patient
from .practitioners import Directory
from .signed_pdf import add_signed_pdf
from .systems import URI


def build_bundle(snapshot: dict, pdf: bytes | None, *, base_url: str) -> dict:
    """The document Bundle (a JSON-ready dict), validated against the FHIR models."""
    document = snapshot["document"]
    entries = Entries(document["id"])
    directory = Directory(entries)
    custodian = snapshot["custodian"]
    people = snapshot["people"]
    refs = {
        # The custodian first: its Organization keeps the city and category.
        "custodian": directory.organization(
            custodian, city=custodian.get("city"), kind=custodian.get("facility_type")
        ),
        "author": directory.role(people["author"]),
        "authenticator": directory.role(people["legal_authenticator"]),
    }
    refs["patient"] = add_patient(entries, snapshot, directory.role(people.get("gp")))
    refs["encounter"] = add_encounter(entries, snapshot, directory, refs["patient"])
    conditions = add_conditions(entries, snapshot, refs["patient"], base_url=base_url)
    team = add_care_team(entries, snapshot, directory, refs["patient"], refs["encounter"])
    plan = add_care_plan(
        entries,
        snapshot,
        subject=refs["patient"],
        encounter=refs["encounter"],
        author=refs["author"],
        conditions=conditions,
        team=team,
    )
    sections = {
        "diagnosis": entries.references("Condition", "Observation"),
        "plan": [plan, *([team] if team else [])],
        "pdf": [],
    }
    uri = document_uri(document["id"])
    if pdf:
        sections["pdf"].append(add_signed_pdf(entries, snapshot, pdf, document_uri=uri, refs=refs))
    composition = entries.add(
        "Composition", "composition", composition_fields(snapshot, refs, sections)
    )
    bundle = {
        "resourceType": "Bundle",
        "id": document["id"],
        "identifier": {"system": URI, "value": uri},
        "type": "document",
        "timestamp": document["effective_time"],
        "entry": entries.as_list(first=composition["reference"]),
    }
    Bundle.model_validate(bundle)
    return bundle


def bundle_json(snapshot: dict, pdf: bytes | None, *, base_url: str) -> bytes:
    """The bundle as compact UTF-8 JSON (application/fhir+json)."""
    bundle = build_bundle(snapshot, pdf, base_url=base_url)
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
