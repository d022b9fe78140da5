"""Building blocks of the PPS sections: sections coded with their ANS translation, and the
narrative — tables whose cells carry the anchors the entries point to, and paragraphs."""

from __future__ import annotations

from ...fiches.cda.xml import HL7, Ids, code_el, el, loinc, section

CARE_PLAN = (
    "2.16.840.1.113883.10.20.1.10",
    "1.3.6.1.4.1.19376.1.5.3.1.3.36",
    "1.2.250.1.213.1.1.2.158",
)
COMMENT_SECTION = (
    "2.16.840.1.113883.10.12.201",
    "1.3.6.1.4.1.19376.1.4.1.2.16",
    "1.2.250.1.213.1.1.2.73",
)


def translated_section(body, ids: Ids, templates, code: dict, translation: dict, title: str):
    """A section whose generic LOINC code says what it is in this volet by an ANS translation
    (two « Plan de soins » sections, told apart by MED-566 and MED-567)."""
    node = section(body, ids, templates, code, title, key=translation["code"])
    code_el(node.find(f"{{{HL7}}}code"), "translation", translation)
    return node


def care_plan_section(body, ids: Ids, translation: dict, title: str):
    return translated_section(
        body, ids, CARE_PLAN, loinc("18776-5", "Plan de soins"), translation, title
    )


def _text(node):
    """The section's narrative; created on first use, so before any entry is added."""
    text = node.find(f"{{{HL7}}}text")
    return text if text is not None else el(node, "text")


def grid(node, heading: str, columns: tuple[str, ...], rows: list) -> None:
    """A table titled ``heading``; a cell is a text, or (text, anchor) when an entry points to
    it."""
    table = el(_text(node), "table", border="1")
    head = el(table, "thead")
    el(el(head, "tr"), "th", heading, colspan=str(len(columns)))
    labels = el(head, "tr")
    for label in columns:
        el(labels, "th", label)
    body = el(table, "tbody")
    for cells in rows:
        row = el(body, "tr")
        for cell in cells:
            value, anchor = cell if isinstance(cell, tuple) else (cell, None)
            if anchor:
                el(el(row, "td"), "content", value, ID=anchor)
            else:
                el(row, "td", value)


def paragraph(node, text: str) -> None:
    el(_text(node), "paragraph", text)


def sentences(*parts: str) -> str:
    """Non-empty parts as sentences: « Tumorectomie. Lieu : bloc opératoire. »"""
    kept = [part.strip() for part in parts if part and part.strip()]
    return " ".join(part if part[-1] in ".!?" else f"{part}." for part in kept)


def capitalized(text: str) -> str:
    """« intervention chirurgicale » -> « Intervention chirurgicale » (value-set labels are
    lower case; the patient reads them at the start of a cell)."""
    return text[:1].upper() + text[1:]
