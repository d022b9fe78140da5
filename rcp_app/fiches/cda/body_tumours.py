"""FRCP cancer diagnosis section: one problem concern holding every tumour with its TNM
(the TNM entries themselves are built in cda_tnm.py)."""

from __future__ import annotations

from .tnm import anchor, has_values, stage_text, tnm_panels, tnm_text
from .xml import (
    Ids,
    code_el,
    comment_act,
    effective,
    el,
    french_date,
    label_of,
    loinc,
    narrative_table,
    reference,
    section,
    template_ids,
)

SNOMED = "2.16.840.1.113883.6.96"


def _tnm_rows(rank: int, tumour: dict) -> list:
    """Clinical TNM always, pathological TNM when known, then the stage group with its basis:
    the same words as the PDF, so that the document and its CDA alternative say the same."""
    rows = [
        (
            "TNM clinique",
            tnm_text(tumour.get("clinical")) or "Non renseigné",
            anchor("clinical", rank),
        )
    ]
    if has_values(tumour.get("pathological")):
        rows.append(
            ("TNM pathologique", tnm_text(tumour["pathological"]), anchor("pathological", rank))
        )
    edition = tumour.get("tnm_edition")
    if edition and not tumour.get("stage"):
        rows.append(("Édition TNM", edition, None))
    rows.append(("Stade TNM", stage_text(tumour.get("stage")), f"stade-{rank}"))
    return rows


def _tumour_rows(rank: int, tumour: dict, fiche_details: bool) -> list:
    rows = [
        ("Date du diagnostic", french_date(tumour.get("diagnosis_date")), None),
        ("Topographie", label_of(tumour.get("topography")), f"topographie-{rank}"),
        ("Latéralité", label_of(tumour.get("laterality")), f"lateralite-{rank}"),
        ("Morphologie", label_of(tumour.get("morphology")), f"morphologie-{rank}"),
        *_tnm_rows(rank, tumour),
    ]
    if not fiche_details:
        return rows
    others = "; ".join(
        f"{o['system']} {o.get('version') or ''} : {o['value']}"
        for o in tumour.get("other_stagings") or []
    )
    markers = "; ".join(
        f"{b['label']} : {b['value_label']}" for b in tumour.get("biomarkers") or []
    )
    return [
        *rows,
        ("Autre stade", others or "Aucun", None),
        ("Biomarqueurs", markers or "Aucun", None),
        ("Commentaire", tumour.get("comment") or "", f"commentaire-tumeur-{rank}"),
    ]


def cancer_diagnosis(body, snapshot: dict, ids: Ids) -> None:
    diagnosis_section(body, ids, snapshot["case"]["tumours"])


def diagnosis_section(
    body, ids: Ids, tumours: list, *, title: str = "TUMEUR", fiche_details: bool = True
) -> None:
    """The « Diagnostic du cancer » section of the tumours; ``fiche_details``: also the other
    stagings, biomarkers and comment rows that only the fiche's tumours carry (the PPS copies
    site, morphology and TNM only)."""
    node = section(
        body,
        ids,
        (
            "2.16.840.1.113883.10.20.1.11",
            "1.3.6.1.4.1.19376.1.5.3.1.3.6",
            "1.3.6.1.4.1.19376.1.7.3.1.3.14.1",
            "1.2.250.1.213.1.1.2.27",
        ),
        loinc("72135-7", "Diagnostic du cancer"),
        title,
    )
    if not tumours:
        narrative_table(node, [("Tumeur", "Aucune tumeur renseignée", None)])
        return
    for tumour in tumours:
        narrative_table(
            node,
            _tumour_rows(tumour["rank"], tumour, fiche_details),
            heading=f"Tumeur {tumour['rank']}",
        )
    # One concern holds every tumour: the IHE schematron evaluates a boolean per concern entry
    # and fails (XPath type error) as soon as there are two of them.
    concern = el(el(node, "entry"), "act", classCode="ACT", moodCode="EVN")
    template_ids(
        concern,
        "2.16.840.1.113883.10.20.1.27",
        "1.3.6.1.4.1.19376.1.5.3.1.4.5.1",
        "1.3.6.1.4.1.19376.1.5.3.1.4.5.2",
        "1.2.250.1.213.1.1.3.39",
        "1.2.250.1.213.1.1.3.39.1",
    )
    el(concern, "id", root=ids("tumours"))
    el(concern, "code", nullFlavor="NA")
    el(concern, "statusCode", code="active")
    dates = sorted(t["diagnosis_date"] for t in tumours if t.get("diagnosis_date"))
    effective(concern, dates[0] if dates else None, low=True)
    for tumour in tumours:
        _tumour_diagnosis(concern, ids, tumour["rank"], tumour)


def _tumour_diagnosis(concern, ids: Ids, rank: int, tumour: dict) -> None:
    diagnosis = el(
        el(concern, "entryRelationship", typeCode="SUBJ", inversionInd="false"),
        "observation",
        classCode="OBS",
        moodCode="EVN",
        negationInd="false",
    )
    template_ids(
        diagnosis,
        "2.16.840.1.113883.10.20.1.28",
        "1.3.6.1.4.1.19376.1.5.3.1.4.5",
        "1.2.250.1.213.1.1.3.37",
        "1.3.6.1.4.1.19376.1.7.3.1.4.14.1",
        "1.2.250.1.213.1.1.3.113",
    )
    el(diagnosis, "id", root=ids(f"tumour-diagnosis:{rank}"))
    code_el(
        diagnosis,
        "code",
        {"code": "282291009", "system": SNOMED, "label": "interprétation diagnostique"},
    )
    reference(diagnosis, "text", f"morphologie-{rank}")
    el(diagnosis, "statusCode", code="completed")
    effective(diagnosis, tumour.get("diagnosis_date"), low=True)
    morphology = code_el(diagnosis, "value", tumour.get("morphology"), xsi_type="CD", null="UNK")
    reference(morphology, "originalText", f"morphologie-{rank}")
    site = code_el(diagnosis, "targetSiteCode", tumour.get("topography"))
    reference(site, "originalText", f"topographie-{rank}")
    if tumour.get("laterality"):
        qualifier = el(site, "qualifier")
        code_el(qualifier, "name", loinc("20228-3", "Latéralité"))
        side = code_el(qualifier, "value", tumour["laterality"])
        reference(side, "originalText", f"lateralite-{rank}")
    tnm_panels(diagnosis, ids, rank, tumour)
    if tumour.get("comment"):
        comment_act(
            el(diagnosis, "entryRelationship", typeCode="SUBJ", inversionInd="true"),
            ids,
            f"commentaire-tumeur-{rank}",
        )
