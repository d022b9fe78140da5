"""TNM entries of one tumour in the FRCP CDA: clinical and pathological, each in its own panel.

The FRCP volet (2022.01) and its official examples structure the clinical TNM only: a « Stade
TNM Clinique » observation (IHE France template 1.3.6.1.4.1.19376.1.7.3.1.4.14.2, LOINC
75620-5) whose value carries the stage group and the TNM edition as qualifiers, with T, N and M
as FR-Simple-Observation components. The volet has no template for the pathological TNM, so it
is written the same way with the LOINC pathological codes (75621-3 panel, 21902-2 stage group,
21899-0/21900-6/21901-4 pT/pN/pM) and *without* the clinical template, which would tell a
receiver that it reads a clinical stage. The stage group sits in the panel of its basis only
(the snapshot's ``stage.basis``): a pathological stage is never shown as a clinical one.

Codes follow the TNM_UICC code system, whose categories carry no c/p/y prefix ("T1c"); the value
as written (« ypN0(i+) ») stays in displayName, and the y prefix (staging during or after
treatment) is also coded as an FR-TNM-y component.
"""

from __future__ import annotations

from ...staging.normalize import parse_category
from .xml import SIMPLE_OBSERVATION, Ids, code_el, effective, el, loinc, reference, template_ids

SNOMED = "2.16.840.1.113883.6.96"
TNM_SYSTEM = "2.16.840.1.113883.15.6"
CLINICAL_TEMPLATE = "1.3.6.1.4.1.19376.1.7.3.1.4.14.2"
Y_TEMPLATES = ("1.3.6.1.4.1.19376.1.3.10.9.32", "1.2.250.1.213.1.1.3.135")
AXES = ("t", "n", "m")

# kind -> (panel code, stage-group code, {axis: code}, French label, templates)
KINDS = {
    "clinical": {
        "panel": loinc("75620-5", "Stade TNM Clinique"),
        "group": loinc("21909-7", "Stade clinique"),
        "axes": {
            "t": loinc("21905-5", "TNM Clinique T"),
            "n": loinc("21906-3", "TNM Clinique N"),
            "m": loinc("21907-1", "TNM Clinique M"),
        },
        "label": "clinique",
        "templates": (CLINICAL_TEMPLATE,),
    },
    "pathological": {
        "panel": loinc("75621-3", "Stade TNM pathologique"),
        "group": loinc("21902-2", "Stade pathologique"),
        "axes": {
            "t": loinc("21899-0", "TNM pathologique T"),
            "n": loinc("21900-6", "TNM pathologique N"),
            "m": loinc("21901-4", "TNM pathologique M"),
        },
        "label": "pathologique",
        "templates": (),
    },
}
BASIS_LABELS = {kind: spec["label"] for kind, spec in KINDS.items()}


def tnm_text(values: dict | None) -> str:
    """« cT1c cN0 cM0 » — the values as stored (prefix and descriptors kept), as the PDF shows."""
    values = values or {}
    return " ".join(values[axis] for axis in AXES if values.get(axis))


def stage_text(stage: dict | None) -> str:
    """« IIIA (UICC8, pathologique) », as the PDF writes it; « Non calculé » without a stage."""
    if not stage:
        return "Non calculé"
    basis = BASIS_LABELS.get(stage.get("basis") or "", stage.get("basis") or "")
    return f"{stage['group']} ({stage['edition']}, {basis})"


def has_values(values: dict | None) -> bool:
    return bool(tnm_text(values))


def category_code(axis: str, value: str) -> tuple[str, str]:
    """(TNM_UICC code, prefix): "ypN0(i+)" -> ("N0", "yp")."""
    parsed = parse_category(axis.upper(), value)
    if parsed is None or parsed.error or not parsed.value:
        return value, ""  # stored values are validated; keep an unexpected one as written
    return parsed.value, parsed.prefix


def tnm_panels(diagnosis, ids: Ids, rank: int, tumour: dict) -> None:
    """The clinical panel always (the FRCP schematron requires T, N and M, null-flavoured when
    unknown); the pathological one when a pathological value is known."""
    _panel(diagnosis, ids, rank, tumour, "clinical")
    if has_values(tumour.get("pathological")):
        _panel(diagnosis, ids, rank, tumour, "pathological")


def anchor(kind: str, rank: int) -> str:
    return f"tnm-{'clinique' if kind == 'clinical' else 'pathologique'}-{rank}"


def _panel(diagnosis, ids: Ids, rank: int, tumour: dict, kind: str) -> None:
    spec = KINDS[kind]
    values = tumour.get(kind) or {}
    stage = tumour.get("stage") if (tumour.get("stage") or {}).get("basis") == kind else None
    observation = el(
        el(diagnosis, "entryRelationship", typeCode="SUBJ", inversionInd="false"),
        "observation",
        classCode="OBS",
        moodCode="EVN",
        negationInd="false",
    )
    template_ids(observation, *spec["templates"])
    if kind != "clinical":
        el(observation, "id", root=ids(f"tnm:{rank}:{kind}"))
    code_el(observation, "code", spec["panel"])
    reference(observation, "text", anchor(kind, rank))
    el(observation, "statusCode", code="completed")
    effective(observation, tumour.get("diagnosis_date"), low=True)
    value = el(observation, "value", xsi_type="CD")
    if not stage:
        value.set("nullFlavor", "UNK")
    else:
        _qualifier(value, spec["group"], stage["group"], stage["group"])
        edition = stage.get("edition") or tumour.get("tnm_edition") or ""
        if edition:
            version = "".join(ch for ch in edition if ch.isdigit()) or edition
            _qualifier(value, loinc("21917-0", "Version TNM Classification"), version, edition)
    prefixes = set()
    for axis in AXES:
        prefixes.add(_component(observation, ids, rank, kind, axis, values.get(axis), tumour))
    if any("y" in prefix for prefix in prefixes):
        _y_symbol(observation, ids, rank, kind)


def _qualifier(value, name: dict, code: str, label: str) -> None:
    qualifier = el(value, "qualifier")
    code_el(qualifier, "name", name)
    el(
        qualifier,
        "value",
        xsi_type="CD",
        code=code,
        displayName=label,
        codeSystem=TNM_SYSTEM,
        codeSystemName="TNM_UICC",
    )


def _component(observation, ids: Ids, rank: int, kind: str, axis: str, raw, tumour) -> str:
    component = el(
        el(observation, "entryRelationship", typeCode="COMP"),
        "observation",
        classCode="OBS",
        moodCode="EVN",
    )
    template_ids(component, *SIMPLE_OBSERVATION)
    # The clinical ids keep their former labels, so re-issued documents keep their ids.
    label = f"tnm:{rank}:{axis}" if kind == "clinical" else f"tnm:{rank}:{kind}:{axis}"
    el(component, "id", root=ids(label))
    code_el(component, "code", KINDS[kind]["axes"][axis])
    reference(component, "text", anchor(kind, rank))
    el(component, "statusCode", code="completed")
    el(component, "effectiveTime", nullFlavor="NA")
    if not raw:
        el(component, "value", xsi_type="CD", nullFlavor="UNK")
        return ""
    code, prefix = category_code(axis, raw)
    edition = tumour.get("tnm_edition") or ""
    el(
        component,
        "value",
        xsi_type="CD",
        code=code,
        displayName=raw,
        codeSystem=TNM_SYSTEM,
        codeSystemName="TNM_UICC",
        codeSystemVersion="".join(ch for ch in edition if ch.isdigit()) or None,
    )
    return prefix


def _y_symbol(observation, ids: Ids, rank: int, kind: str) -> None:
    """FR-TNM-y: the categories were assessed during or after a first treatment."""
    component = el(
        el(observation, "entryRelationship", typeCode="COMP"),
        "observation",
        classCode="OBS",
        moodCode="EVN",
    )
    template_ids(component, *Y_TEMPLATES)
    el(component, "id", root=ids(f"tnm:{rank}:{kind}:y"))
    code_el(
        component,
        "code",
        {
            "code": "277649004",
            "system": SNOMED,
            "label": "y - pendant ou après traitement (stadification tumorale)",
        },
    )
    reference(component, "text", anchor(kind, rank))
    el(component, "statusCode", code="completed")
    el(component, "effectiveTime", nullFlavor="NA")
    el(
        component,
        "value",
        xsi_type="CD",
        code="y",
        displayName="y",
        codeSystem=TNM_SYSTEM,
        codeSystemName="TNM_UICC",
    )
