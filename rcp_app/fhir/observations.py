"""TNM (mCODE TNMStageGroup and TNM category profiles) and biomarker (mCODE TumorMarkerTest)
Observations of each tumour.

TNM codes are those the CDA writes: the TNM_UICC code system (no c/p/y prefix, « T1c »), the
value as typed (« ypN0(i+) ») in display and text, the edition as the coding's version. The
stage group sits under its basis only (clinical or pathological), as in the CDA.
"""

from __future__ import annotations

from ..fiches.cda.tnm import category_code, stage_text
from ..staging.biomarkers import BY_CODE
from .entries import Entries
from .systems import (
    LOINC,
    OBSERVATION_CATEGORY,
    TNM_UICC_OID,
    UCUM,
    coding,
    oid_uri,
)

AXES = ("t", "n", "m")
# LOINC codes of the mCODE profiles (the same T, N, M and pathological codes as the CDA's).
KINDS = {
    "clinical": {
        "group": ("21908-9", "Stade TNM clinique"),
        "t": ("21905-5", "TNM clinique T"),
        "n": ("21906-3", "TNM clinique N"),
        "m": ("21907-1", "TNM clinique M"),
    },
    "pathological": {
        "group": ("21902-2", "Stade TNM pathologique"),
        "t": ("21899-0", "TNM pathologique T"),
        "n": ("21900-6", "TNM pathologique N"),
        "m": ("21901-4", "TNM pathologique M"),
    },
}
# Units of the biomarker registry -> UCUM code.
UCUM_CODES = {"%": "%", "% des cellules tumorales": "%", "ng/mL": "ng/mL"}
BIOMARKER_SYSTEM_PATH = "/fhir/CodeSystem/biomarqueurs"


def stage_label(rank: int, kind: str) -> str:
    return f"stage-group:{rank}:{kind}"


def has_stage_group(tumour: dict) -> bool:
    return (tumour.get("stage") or {}).get("basis") in KINDS


def _edition_version(edition: str | None) -> str | None:
    return "".join(ch for ch in edition or "" if ch.isdigit()) or None


def tnm_coding(code: str, display: str, edition: str | None) -> dict:
    result = {"system": oid_uri(TNM_UICC_OID)}
    version = _edition_version(edition)
    if version:
        result["version"] = version
    result.update(code=code, display=display)
    return result


def _common(tumour: dict, code: tuple[str, str], subject: dict, focus: dict) -> dict:
    fields = {
        "status": "final",
        "code": {"coding": [coding(LOINC, code[0])], "text": code[1]},
        "subject": subject,
        "focus": [focus],
    }
    if tumour.get("diagnosis_date"):
        fields["effectiveDateTime"] = tumour["diagnosis_date"]
    return fields


def _categories(entries, tumour, kind, subject, focus) -> list[dict]:
    rank, edition = tumour["rank"], tumour.get("tnm_edition")
    references = []
    for axis in AXES:
        raw = (tumour.get(kind) or {}).get(axis)
        if not raw:
            continue
        code, _prefix = category_code(axis, raw)
        fields = _common(tumour, KINDS[kind][axis], subject, focus)
        fields["valueCodeableConcept"] = {"coding": [tnm_coding(code, raw, edition)], "text": raw}
        if edition:
            fields["method"] = {"text": edition}
        references.append(entries.add("Observation", f"tnm:{rank}:{kind}:{axis}", fields))
    return references


def edition_of(tumour: dict) -> str | None:
    """The stage's edition, else the tumour's TNM edition (the CDA's choice too)."""
    return (tumour.get("stage") or {}).get("edition") or tumour.get("tnm_edition")


def _stage_group(entries, tumour, kind, members, subject, focus) -> None:
    stage = tumour["stage"]
    edition = edition_of(tumour)
    fields = _common(tumour, KINDS[kind]["group"], subject, focus)
    fields["valueCodeableConcept"] = {
        "coding": [tnm_coding(stage["group"], stage["group"], edition)],
        "text": stage_text(stage),
    }
    if edition:
        fields["method"] = {"text": edition}
    if members:
        fields["hasMember"] = members
    entries.add("Observation", stage_label(tumour["rank"], kind), fields)


def add_tnm(entries: Entries, tumour: dict, subject: dict, focus: dict) -> None:
    for kind in KINDS:
        members = _categories(entries, tumour, kind, subject, focus)
        if has_stage_group(tumour) and tumour["stage"]["basis"] == kind:
            _stage_group(entries, tumour, kind, members, subject, focus)


def _number(text: str) -> int | float | None:
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def biomarker_value(biomarker: dict) -> dict:
    """value[x] of a biomarker: a Quantity or an integer when the registry says the marker is
    numeric, else the value as the fiche shows it."""
    marker = BY_CODE.get(biomarker["code"])
    number = _number(biomarker["value"]) if marker else None
    if marker and number is not None and marker.kind in ("percent", "number"):
        unit = marker.unit or "%"
        quantity = {"value": number, "unit": unit}
        if unit in UCUM_CODES:
            quantity.update(system=UCUM, code=UCUM_CODES[unit])
        return {"valueQuantity": quantity}
    if marker and marker.kind == "integer" and isinstance(number, int):
        return {"valueInteger": number}
    return {"valueString": biomarker["value_label"]}


def add_biomarkers(entries, tumour, subject, focus, base_url: str) -> None:
    system = base_url.rstrip("/") + BIOMARKER_SYSTEM_PATH
    for biomarker in tumour.get("biomarkers") or []:
        fields = {
            "status": "final",
            "category": [{"coding": [coding(OBSERVATION_CATEGORY, "laboratory", "Laboratory")]}],
            "code": {
                "coding": [coding(system, biomarker["code"], biomarker["label"])],
                "text": biomarker["label"],
            },
            "subject": subject,
            "focus": [focus],
            **biomarker_value(biomarker),
        }
        label = f"biomarker:{tumour['rank']}:{biomarker['code']}"
        entries.add("Observation", label, fields)
