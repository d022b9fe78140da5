"""The Patient entry: FR Core identifiers and identity traits.

The matricule INS travels only with a qualified identity (identity rules, DOMAIN.md §4), as in
the CDA: otherwise the local IPP alone identifies the patient.
"""

from __future__ import annotations

from .entries import Entries
from .systems import (
    BIRTH_PLACE_EXTENSION,
    FR_CORE_BIRTH_LIST_GIVEN_NAME,
    FR_CORE_IDENTIFIER_TYPES,
    FR_CORE_IDENTITY_RELIABILITY,
    FR_CORE_IDENTITY_STATUS,
    FR_CORE_INSEE_CODE,
    INS_TYPES,
    INSEE_COMMUNES,
    V2_IDENTIFIER_TYPES,
    coding,
    identifier_type,
    oid_uri,
)

# FR Core binds the INS traits' gender to male | female | unknown: « I » (indéterminé) is unknown.
GENDERS = {"M": "male", "F": "female", "I": "unknown"}
IDENTITY_STATUS_LABELS = {
    "PROV": "Identité provisoire",
    "RECUP": "Identité récupérée",
    "VALI": "Identité validée",
    "QUAL": "Identité qualifiée",
}
FOREIGN_BIRTHPLACE_PREFIX = "99"  # INSEE code of a country, not of a French commune


def shares_ins(patient: dict) -> bool:
    return patient["identity_status"] == "QUAL" and bool(patient.get("ins"))


def _identifiers(patient: dict, oid_root: str) -> list[dict]:
    identifiers = []
    if shares_ins(patient):
        ins = patient["ins"]
        identifier = {"use": "official"}
        if ins["oid"] in INS_TYPES:  # always, for an OID the INS checks accepted
            kind, identifier["use"] = INS_TYPES[ins["oid"]]
            identifier["type"] = identifier_type(FR_CORE_IDENTIFIER_TYPES, kind)
        identifier.update(system=oid_uri(ins["oid"]), value=ins["matricule"])
        identifiers.append(identifier)
    identifiers.append(
        {
            "use": "usual",
            "type": identifier_type(V2_IDENTIFIER_TYPES, "PI"),
            "system": oid_uri(f"{oid_root}.1"),
            "value": patient["ipp"],
        }
    )
    return identifiers


def _names(patient: dict) -> list[dict]:
    official: dict = {
        "extension": [
            {"url": FR_CORE_BIRTH_LIST_GIVEN_NAME, "valueString": patient["birth_first_names"]}
        ],
        "use": "official",
        "family": patient["birth_name"],
        "given": [patient["first_birth_first_name"]],
    }
    names = [official]
    used: dict = {}
    if patient.get("used_name"):
        used["family"] = patient["used_name"]
    if patient.get("used_first_name"):
        used["given"] = [patient["used_first_name"]]
    if used:
        names.append({"use": "usual", **used})
    return names


def _extensions(patient: dict) -> list[dict]:
    status = patient["identity_status"]
    extensions = [
        {
            "url": FR_CORE_IDENTITY_RELIABILITY,
            "extension": [
                {
                    "url": "identityStatus",
                    "valueCoding": coding(
                        FR_CORE_IDENTITY_STATUS, status, IDENTITY_STATUS_LABELS.get(status)
                    ),
                }
            ],
        }
    ]
    place = patient.get("birthplace_code")
    if place and not place.startswith(FOREIGN_BIRTHPLACE_PREFIX):
        address = {
            "extension": [{"url": FR_CORE_INSEE_CODE, "valueCoding": coding(INSEE_COMMUNES, place)}]
        }
        extensions.append({"url": BIRTH_PLACE_EXTENSION, "valueAddress": address})
    return extensions


def add_patient(entries: Entries, snapshot: dict, general_practitioner: dict | None) -> dict:
    patient = snapshot["patient"]
    fields: dict = {
        "extension": _extensions(patient),
        "identifier": _identifiers(patient, snapshot["document"]["oid_root"]),
        "name": _names(patient),
        "gender": GENDERS[patient["sex"]],
        "birthDate": patient["birth_date"],
    }
    if general_practitioner:
        fields["generalPractitioner"] = [general_practitioner]
    return entries.add("Patient", "patient", fields)
