"""What the FHIR tests share: the snapshots to test, generic walks over a bundle, and the facts
a CDA and a bundle must agree on, each extracted independently (lxml for the CDA, the JSON for
the bundle) and compared by the tests.

Expected systems and role codes are written here from the standards, not imported from the
code under test.
"""

from __future__ import annotations

import copy
import inspect
import json
from datetime import date, datetime

from lxml import etree
from pydantic import BaseModel

from tests.fiches import samples

H = {"h": "urn:hl7-org:v3"}
RPPS_ROOT = "1.2.250.1.71.4.2.1"
FINESS_ROOT = "1.2.250.1.71.4.2.2"
CIM10 = "2.16.840.1.113883.6.3"
ICDO3 = "2.16.840.1.113883.6.43.1"
TNM = "2.16.840.1.113883.15.6"
ANS = "1.2.250.1.213.1.1.4.322"
# Code systems with a canonical FHIR URL (HL7 Terminology); any other OID stays urn:oid:.
CANONICAL = {
    "2.16.840.1.113883.6.1": "http://loinc.org",
    "2.16.840.1.113883.6.96": "http://snomed.info/sct",
    CIM10: "http://hl7.org/fhir/sid/icd-10",
    ICDO3: "http://terminology.hl7.org/CodeSystem/icd-o-3",
    "2.16.840.1.113883.3.26.1.1": "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl",
    "2.16.840.1.113883.6.8": "http://unitsofmeasure.org",
}
ICD10_URL = CANONICAL[CIM10]
# LOINC T, N, M codes (CDA and mCODE alike) and the stage-group codes of each side.
AXIS_CODES = {"21905-5", "21906-3", "21907-1", "21899-0", "21900-6", "21901-4"}
CDA_STAGE_CODES = {"21909-7": "clinical", "21902-2": "pathological"}
FHIR_STAGE_CODES = {"21908-9": "clinical", "21902-2": "pathological"}
GENDERS = {"M": "male", "F": "female", "UN": "unknown"}


def fhir_system(oid: str | None) -> str | None:
    if not oid:
        return None
    return CANONICAL.get(oid, f"urn:oid:{oid}")


# --- the snapshots ------------------------------------------------------------------------


def _pathological_with_registry_markers() -> dict:
    """Pathological TNM after treatment (y prefix), its stage group, and biomarkers of the
    registry of every kind (percent, choice, integer, number)."""
    snapshot = samples.organ_snapshot()
    tumour = snapshot["case"]["tumours"][0]
    tumour["pathological"] = {"t": "ypT2", "n": "ypN0(i+)", "m": None}
    tumour["stage"] = {"group": "IIA", "edition": "UICC8", "basis": "pathological"}
    tumour["biomarkers"] = [
        {"code": "breast.er", "label": "Récepteurs aux œstrogènes (RE)", "value": "90",
         "value_label": "90 %"},
        {"code": "breast.her2", "label": "Statut HER2", "value": "2+ ISH−",
         "value_label": "2+ ISH−"},
        {"code": "breast.ki67", "label": "Ki-67", "value": "12.5", "value_label": "12.5 %"},
        {"code": "prostate.isup", "label": "Groupe ISUP", "value": "3", "value_label": "3"},
        {"code": "prostate.psa", "label": "PSA", "value": "7.2", "value_label": "7.2 ng/mL"},
    ]  # fmt: skip
    return snapshot


def _lost_code_systems() -> dict:
    """Codes whose concept left its value set since (the snapshot then keeps no system)."""
    snapshot = samples.organ_snapshot()
    lost = {"code": "XYZ", "system": "", "label": "XYZ", "display": "XYZ"}
    snapshot["decision"]["proposal"] = lost
    snapshot["case"]["tumours"][0]["laterality"] = dict(lost)
    return snapshot


def _nia_indeterminate_sex() -> dict:
    snapshot = samples.organ_snapshot()
    snapshot["patient"].update(
        sex="I", ins={"matricule": "855557505600128", "oid": "1.2.250.1.213.1.4.9"}
    )
    return snapshot


def _validated_identity_with_ins_left() -> dict:
    """A validated (not qualified) identity whose snapshot still holds an INS: it stays home."""
    snapshot = samples.organ_snapshot()
    snapshot["patient"]["identity_status"] = "VALI"
    return snapshot


def _without_optional_ids() -> dict:
    """National encounter ids, a birthplace abroad, no topography, no custodian city."""
    snapshot = samples.minimal_snapshot()
    snapshot["rcp"].update(network_id="DSRC-IDF", manager_id=None, registry_id="RCP-0042")
    snapshot["patient"]["birthplace_code"] = "99134"
    snapshot["case"]["tumours"][0]["topography"] = None
    snapshot["custodian"].pop("city")
    return snapshot


LOCAL_VARIANTS = {
    "tnm_pathologique_et_biomarqueurs": _pathological_with_registry_markers,
    "codes_sans_systeme": _lost_code_systems,
    "nia_sexe_indetermine": _nia_indeterminate_sex,
    "identite_validee_ins_conserve": _validated_identity_with_ins_left,
    "identifiants_facultatifs": _without_optional_ids,
}


def sample_builders() -> dict:
    """Every snapshot builder of tests/fiches/samples.py (a function named *_snapshot that
    takes no argument), then the local variants."""
    found = {
        name: function
        for name, function in inspect.getmembers(samples, inspect.isfunction)
        if name.endswith("_snapshot")
        and function.__module__ == samples.__name__
        and not any(
            p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            for p in inspect.signature(function).parameters.values()
        )
    }
    return {**found, **LOCAL_VARIANTS}


def fresh(snapshot: dict) -> dict:
    return copy.deepcopy(snapshot)


# --- generic walks ------------------------------------------------------------------------


def walk_json(node, key=None):
    """Every (key, value) pair anywhere in a JSON document."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield name, value
            yield from walk_json(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from walk_json(item, key)


def walk_models(model):
    """Every model instance (elements, datatypes) inside a parsed fhir.resources model."""
    if isinstance(model, BaseModel):
        yield model
        for name in type(model).model_fields:
            yield from walk_models(getattr(model, name))
    elif isinstance(model, list):
        for item in model:
            yield from walk_models(item)


def resources(bundle: dict) -> dict[str, dict]:
    return {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}


def of_type(bundle: dict, resource_type: str) -> list[dict]:
    return [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type
    ]


def resolve(bundle: dict, reference: dict) -> dict:
    return resources(bundle)[reference["reference"]]


def codes(concept: dict | None) -> list[tuple[str | None, str]]:
    return [(c.get("system"), c["code"]) for c in (concept or {}).get("coding", [])]


# --- facts of a CDA -----------------------------------------------------------------------


def _cda_time(value: str):
    if len(value) == 8:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    return datetime.strptime(value, "%Y%m%d%H%M%S%z")


def _fhir_time(value: str):
    return date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)


def _rpps(entity) -> str | None:
    ids = entity.xpath(f"h:id[@root='{RPPS_ROOT}']/@extension", namespaces=H)
    return ids[0] if ids else None


def _cda_participants(root) -> dict[str, list]:
    by_role: dict[str, list] = {}
    for node in root.xpath("h:participant", namespaces=H):
        rpps = _rpps(node.find("h:associatedEntity", H))
        by_role.setdefault(node.get("typeCode"), []).append(rpps)
    known = {role: sorted(r for r in found if r) for role, found in by_role.items()}
    return {role: found for role, found in known.items() if found}


def _cda_tnm(root) -> tuple[set, set]:
    categories, groups = set(), set()
    for observation in root.xpath("//h:observation", namespaces=H):
        code = observation.find("h:code", H)
        value = observation.find("h:value", H)
        if code is None or value is None:
            continue
        if code.get("code") in AXIS_CODES and value.get("code"):
            categories.add((code.get("code"), value.get("code"), value.get("displayName")))
        for qualifier in value.findall("h:qualifier", H):
            name = qualifier.find("h:name", H).get("code")
            if name in CDA_STAGE_CODES:
                groups.add((CDA_STAGE_CODES[name], qualifier.find("h:value", H).get("code")))
    return categories, groups


def _cda_plan(root) -> dict:
    section = root.xpath("//h:section[h:code/@code='18776-5']", namespaces=H)[0]
    treatments = []
    for procedure in section.xpath("h:entry/h:procedure", namespaces=H):
        code = procedure.find("h:code", H)
        priority = int(procedure.find("h:priorityCode/h:originalText", H).text)
        system = fhir_system(code.get("codeSystem"))
        treatments.append((priority, system, code.get("code") if system else None))
    others = {
        (fhir_system(code.get("codeSystem")), code.get("code"))
        for code in section.xpath("h:entry/h:encounter/h:code | h:entry/h:observation/h:code",
                                  namespaces=H)
    }  # fmt: skip
    trial = root.xpath("//h:observation[h:code/@code='MED-250']/h:value/@value", namespaces=H)
    return {
        "treatments": [t[1:] for t in sorted(treatments)],
        "other_activities": others,
        "trial": trial == ["true"],
    }


def _cda_biomarkers(root) -> set[str]:
    items = set()
    for cell in root.xpath("//h:tr[h:td[1]='Biomarqueurs']/h:td[2]", namespaces=H):
        text = "".join(cell.itertext())
        if text != "Aucun":
            items.update(text.split("; "))
    return items


def cda_facts(cda: bytes) -> dict:
    root = etree.fromstring(cda)
    target = root.find("h:recordTarget/h:patientRole", H)
    patient = target.find("h:patient", H)
    related = root.xpath("h:relatedDocument/h:parentDocument/h:id/@root", namespaces=H)
    encounter = root.find("h:componentOf/h:encompassingEncounter", H)
    categories, groups = _cda_tnm(root)
    return {
        "document_id": root.find("h:id", H).get("root"),
        "set_id": root.find("h:setId", H).get("root"),
        "version": root.find("h:versionNumber", H).get("value"),
        "replaces": related[0] if related else None,
        "effective_time": _cda_time(root.find("h:effectiveTime", H).get("value")),
        "legal_time": _cda_time(root.find("h:legalAuthenticator/h:time", H).get("value")),
        "patient_ids": sorted(
            (f"urn:oid:{i.get('root')}", i.get("extension")) for i in target.findall("h:id", H)
        ),
        "birth_date": _cda_time(patient.find("h:birthTime", H).get("value")),
        "gender": GENDERS[patient.find("h:administrativeGenderCode", H).get("code")],
        "icd10": set(root.xpath(f"//*[@codeSystem='{CIM10}']/@code")),
        "morphology": set(root.xpath(f"//*[@codeSystem='{ICDO3}']/@code")),
        "laterality": {
            (fhir_system(v.get("codeSystem")), v.get("code") if v.get("codeSystem") else None)
            for v in root.xpath("//h:targetSiteCode/h:qualifier/h:value", namespaces=H)
        },
        "tnm": categories,
        "stage_groups": groups,
        "biomarkers": _cda_biomarkers(root),
        "plan": _cda_plan(root),
        "all_rpps": set(root.xpath(f"//h:id[@root='{RPPS_ROOT}']/@extension", namespaces=H)),
        "participants": _cda_participants(root),
        "custodian": root.xpath(
            f"h:custodian//h:id[@root='{FINESS_ROOT}']/@extension", namespaces=H
        )[0],
        "encounter_start": _cda_time(encounter.find("h:effectiveTime/h:low", H).get("value")),
        "encounter_ids": sorted(
            (f"urn:oid:{i.get('root')}", i.get("extension"))
            for i in encounter.findall("h:id", H)
            if i.get("extension")
        ),
    }


# --- the same facts of a bundle -------------------------------------------------------------


def _practitioner_rpps(bundle: dict, role_reference: dict) -> str:
    practitioner = resolve(bundle, resolve(bundle, role_reference)["practitioner"])
    return next(
        i["value"] for i in practitioner["identifier"] if i["system"] == f"urn:oid:{RPPS_ROOT}"
    )


def _bundle_participants(bundle: dict) -> dict[str, list]:
    """The CDA's participant roles, read where the bundle carries them."""
    by_role: dict[str, list] = {}
    (encounter,) = of_type(bundle, "Encounter")
    by_role["PRF"] = [
        _practitioner_rpps(bundle, p["individual"]) for p in encounter.get("participant", [])
    ]
    (patient,) = of_type(bundle, "Patient")
    by_role["INF"] = [_practitioner_rpps(bundle, r) for r in patient.get("generalPractitioner", [])]
    cda_role = {"RESP": "RESP", "REFB": "REFB", "PCP": "INF", "CORRE": "CON"}
    for team in of_type(bundle, "CareTeam"):
        for member in team["participant"]:
            role = cda_role[member["role"][0]["coding"][0]["code"]]
            by_role.setdefault(role, []).append(_practitioner_rpps(bundle, member["member"]))
    # The GP is both the patient's and the care team's: one person, or the facts differ.
    by_role["INF"] = sorted(set(by_role["INF"]))
    return {role: sorted(found) for role, found in by_role.items() if found}


def _bundle_tnm(bundle: dict) -> tuple[set, set]:
    categories, groups = set(), set()
    for observation in of_type(bundle, "Observation"):
        (code,) = [c for s, c in codes(observation["code"]) if s == "http://loinc.org"] or [None]
        value = observation.get("valueCodeableConcept") or {}
        tnm = [c for c in value.get("coding", []) if c["system"] == f"urn:oid:{TNM}"]
        if code in AXIS_CODES:
            categories.add((code, tnm[0]["code"], tnm[0]["display"]))
        if code in FHIR_STAGE_CODES:
            groups.add((FHIR_STAGE_CODES[code], tnm[0]["code"]))
    return categories, groups


def _value_text(observation: dict) -> str:
    if "valueString" in observation:
        return observation["valueString"]
    if "valueInteger" in observation:
        return str(observation["valueInteger"])
    quantity = observation["valueQuantity"]
    return f"{quantity['value']:g} {quantity['unit']}"


def _bundle_biomarkers(bundle: dict) -> set[str]:
    return {
        f"{o['code']['text']} : {_value_text(o)}"
        for o in of_type(bundle, "Observation")
        if any(c["code"] == "laboratory" for cat in o.get("category", []) for c in cat["coding"])
    }


def _bundle_plan(bundle: dict, treatment_count: int) -> dict:
    (plan,) = of_type(bundle, "CarePlan")
    activities = [
        (codes(a["detail"].get("code")) or [(None, None)])[0] for a in plan.get("activity", [])
    ]
    trial = (f"urn:oid:{ANS}", "MED-250")
    return {
        "treatments": activities[:treatment_count],
        "other_activities": {a for a in activities[treatment_count:] if a != trial},
        "trial": trial in activities,
    }


def bundle_facts(bundle: dict, treatment_count: int) -> dict:
    (composition,) = of_type(bundle, "Composition")
    (patient,) = of_type(bundle, "Patient")
    (encounter,) = of_type(bundle, "Encounter")
    conditions = of_type(bundle, "Condition")
    relates = composition.get("relatesTo", [])
    custodian = resolve(bundle, composition["custodian"])
    categories, groups = _bundle_tnm(bundle)
    histology = [
        e["valueCodeableConcept"]
        for c in conditions
        for e in c.get("extension", [])
        if e["url"].endswith("mcode-histology-morphology-behavior")
    ]
    lateralities = [
        e["valueCodeableConcept"]
        for c in conditions
        for site in c.get("bodySite", [])
        for e in site.get("extension", [])
        if e["url"].endswith("mcode-laterality-qualifier")
    ]
    return {
        "document_id": bundle["identifier"]["value"].removeprefix("urn:oid:"),
        "set_id": composition["identifier"]["value"].removeprefix("urn:oid:"),
        "version": composition["extension"][0]["valueString"],
        "replaces": relates[0]["targetIdentifier"]["value"].removeprefix("urn:oid:")
        if relates
        else None,
        "effective_time": _fhir_time(composition["date"]),
        "legal_time": _fhir_time(composition["attester"][0]["time"]),
        "patient_ids": sorted((i["system"], i["value"]) for i in patient["identifier"]),
        "birth_date": _fhir_time(patient["birthDate"]),
        "gender": patient["gender"],
        "icd10": {c for cond in conditions for s, c in codes(cond.get("code")) if s == ICD10_URL},
        "morphology": {c for h in histology for s, c in codes(h) if s == CANONICAL[ICDO3]},
        "laterality": {(codes(lat) or [(None, None)])[0] for lat in lateralities},
        "tnm": categories,
        "stage_groups": groups,
        "biomarkers": _bundle_biomarkers(bundle),
        "plan": _bundle_plan(bundle, treatment_count),
        "all_rpps": {
            i["value"]
            for p in of_type(bundle, "Practitioner")
            for i in p["identifier"]
            if i["system"] == f"urn:oid:{RPPS_ROOT}"
        },
        "participants": _bundle_participants(bundle),
        "custodian": next(
            i["value"] for i in custodian["identifier"] if i["system"] == f"urn:oid:{FINESS_ROOT}"
        ),
        "encounter_start": _fhir_time(encounter["period"]["start"]),
        "encounter_ids": sorted((i["system"], i["value"]) for i in encounter["identifier"]),
    }


def loads(data: bytes) -> dict:
    return json.loads(data.decode("utf-8"))
