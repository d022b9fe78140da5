"""Small lxml helpers shared by the FRCP CDA builders (rcp_app/fiches/cda*.py)."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from lxml import etree

HL7 = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {None: HL7, "xsi": XSI}

LOINC = "2.16.840.1.113883.6.1"
ANS_TERMINOLOGY = "1.2.250.1.213.1.1.4.322"  # TA_ASIP
RPPS_ROOT = "1.2.250.1.71.4.2.1"
FINESS_ROOT = "1.2.250.1.71.4.2.2"
SPECIALTY_SYSTEM = "1.2.250.1.213.1.1.4.5"

SIMPLE_OBSERVATION = ("1.3.6.1.4.1.19376.1.5.3.1.4.13", "1.2.250.1.213.1.1.3.48")
COMMENT = (
    "2.16.840.1.113883.10.20.1.40",
    "1.3.6.1.4.1.19376.1.5.3.1.4.2",
    "1.2.250.1.213.1.1.3.32",
)

_SYSTEM_NAMES = {
    LOINC: "LOINC",
    ANS_TERMINOLOGY: "TA_ASIP",
    "2.16.840.1.113883.6.96": "SNOMED CT",
    "2.16.840.1.113883.3.26.1.1": "NCIT",
    "2.16.840.1.113883.6.3": "CIM-10",
    "2.16.840.1.113883.6.43.1": "CIM-O",
    "2.16.840.1.113883.15.6": "TNM_UICC",
}


def el(parent, tag: str, text: str | None = None, **attrs) -> etree._Element:
    """Append an HL7 element; attribute names use _ for xsi: (xsi_type) and drop None values."""
    element = etree.SubElement(parent, f"{{{HL7}}}{tag}")
    for name, value in attrs.items():
        if value is None:
            continue
        key = f"{{{XSI}}}type" if name == "xsi_type" else name
        element.set(key, str(value))
    if text is not None:
        element.text = text
    return element


def template_ids(parent, *roots: str) -> None:
    for root in roots:
        el(parent, "templateId", root=root)


def hl7_time(iso: str) -> str:
    """ISO date or instant -> HL7 TS (YYYYMMDD or YYYYMMDDHHMMSS+ZZZZ)."""
    if len(iso) == 10:
        return date.fromisoformat(iso).strftime("%Y%m%d")
    return datetime.fromisoformat(iso).strftime("%Y%m%d%H%M%S%z")


def french_date(iso: str | None) -> str:
    if not iso:
        return "non renseignée"
    return date.fromisoformat(iso[:10]).strftime("%d/%m/%Y")


class Ids:
    """Deterministic UUIDs for the document's inner acts: the same snapshot gives the same XML."""

    def __init__(self, document_id: str):
        self._namespace = uuid.UUID(document_id)

    def __call__(self, label: str) -> str:
        return str(uuid.uuid5(self._namespace, label)).upper()


def code_el(parent, tag: str, coded: dict | None, *, xsi_type: str | None = None, null="UNK"):
    """A coded element from a snapshot {code, system, label}; nullFlavor when absent."""
    if not coded:
        return el(parent, tag, xsi_type=xsi_type, nullFlavor=null)
    return el(
        parent,
        tag,
        xsi_type=xsi_type,
        code=coded["code"],
        displayName=display_name(coded),
        codeSystem=coded["system"],
        codeSystemName=_SYSTEM_NAMES.get(coded["system"]),
    )


def ans_code(code: str, label: str) -> dict:
    return {"code": code, "system": ANS_TERMINOLOGY, "label": label}


def loinc(code: str, label: str) -> dict:
    return {"code": code, "system": LOINC, "label": label}


def reference(parent, tag: str, anchor: str) -> etree._Element:
    holder = el(parent, tag)
    el(holder, "reference", value=f"#{anchor}")
    return holder


def effective(parent, iso: str | None, *, low=False) -> None:
    if not iso and low:
        # IHE problem entries: an unknown start is a low bound with nullFlavor UNK.
        el(el(parent, "effectiveTime"), "low", nullFlavor="UNK")
    elif not iso:
        el(parent, "effectiveTime", nullFlavor="NA")
    elif low:
        el(el(parent, "effectiveTime"), "low", value=hl7_time(iso))
    else:
        el(parent, "effectiveTime", value=hl7_time(iso))


def simple_observation(parent, ids: Ids, code: dict, anchor: str, value, *, when=None, low=False):
    """FR-Simple-Observation; value is a bool (BL), a coded dict (CD) or None (CD nullFlavor)."""
    observation = el(parent, "observation", classCode="OBS", moodCode="EVN")
    template_ids(observation, *SIMPLE_OBSERVATION)
    el(observation, "id", root=ids(f"obs:{anchor}"))
    code_el(observation, "code", code)
    reference(observation, "text", anchor)
    el(observation, "statusCode", code="completed")
    effective(observation, when, low=low)
    if isinstance(value, bool):
        el(observation, "value", xsi_type="BL", value="true" if value else "false")
    else:
        code_el(observation, "value", value, xsi_type="CD", null="NA")
    return observation


def comment_act(parent, ids: Ids, anchor: str) -> etree._Element:
    """FR-Commentaire-ER pointing to a narrative anchor."""
    act = el(parent, "act", classCode="ACT", moodCode="EVN")
    template_ids(act, *COMMENT)
    el(act, "id", root=ids(f"comment:{anchor}"))
    code_el(act, "code", loinc("48767-8", "Commentaire"))
    reference(act, "text", anchor)
    el(act, "statusCode", code="completed")
    return act


def section(parent, ids: Ids, templates, code: dict, title: str, key=None) -> etree._Element:
    """A body section; ``key`` tells apart sections of one template (the PPS's two care plans),
    whose ids would otherwise be derived from the same last templateId."""
    component = el(parent, "component")
    node = el(component, "section")
    template_ids(node, *templates)
    el(node, "id", root=ids(f"section:{key or templates[-1]}"))
    code_el(node, "code", code)
    el(node, "title", title)
    return node


def narrative_table(section_node, rows, *, heading: str | None = None) -> etree._Element:
    """Section <text> with a two-column table; rows are (label, value, anchor or None)."""
    text = section_node.find(f"{{{HL7}}}text")
    if text is None:
        text = el(section_node, "text")
    table = el(text, "table", border="0")
    if heading:
        el(el(el(table, "thead"), "tr"), "th", heading, colspan="2")
    body = el(table, "tbody")
    for label, value, anchor in rows:
        row = el(body, "tr")
        el(row, "td", label)
        cell = el(row, "td")
        if anchor:
            el(cell, "content", value or "", ID=anchor)
        else:
            cell.text = value or ""
    return text


def yes_no(value) -> str:
    return {True: "Oui", False: "Non"}.get(value, "Non renseigné")


def label_of(coded: dict | None) -> str:
    return coded["label"] if coded else "Non renseigné"


def display_name(coded: dict) -> str:
    """The official displayName (snapshots before it was kept carry only the label)."""
    return coded.get("display") or coded["label"]
