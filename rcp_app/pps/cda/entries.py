"""The PPS's planned acts (FR-Acte, moodCode INT), as the official CANCER-PPS example writes
them: a category code qualified by the value from its value set, the planned date as a
GEN-177 observation, and a comment pointing to the narrative."""

from __future__ import annotations

from ...fiches.cda.xml import (
    Ids,
    ans_code,
    code_el,
    comment_act,
    el,
    reference,
    simple_observation,
    template_ids,
)

PLANNED_ACT = (
    "1.3.6.1.4.1.19376.1.5.3.1.4.19",
    "2.16.840.1.113883.10.20.1.25",
    "1.2.250.1.213.1.1.3.62",
)
# Categories, each checked against its value set by the CANCER-PPS schematron.
TREATMENT = ans_code("MED-568", "Traitement")  # JDV_TypeTraitementPPS
FOLLOW_UP = ans_code("MED-571", "Suivi")  # JDV_TypeDeSuivi
SUPPORTIVE_CARE = ans_code("MED-572", "Soin oncologique de support")  # JDV_SoinsOncoDeSupport
SOCIAL_SUPPORT = ans_code(
    "MED-573", "Accompagnement social ou socioprofessionnel"
)  # JDV_TypeAccompagnementSocioPro
PLANNED_DATES = ans_code("GEN-177", "Date(s) prévisionnelle(s)")


def date_anchor(anchor: str) -> str:
    return f"{anchor}-date"


def comment_anchor(anchor: str) -> str:
    return f"{anchor}-commentaire"


def planned_act(
    node, ids: Ids, category: dict, kind: dict, anchor: str, *, planned=None, comment=False
) -> None:
    """One planned act; ``anchor`` names its kind in the narrative, ``date_anchor(anchor)`` its
    planned date (ISO day or instant) when given, ``comment_anchor(anchor)`` its comment."""
    procedure = el(
        el(node, "entry"), "procedure", classCode="PROC", moodCode="INT", negationInd="false"
    )
    template_ids(procedure, *PLANNED_ACT)
    el(procedure, "id", root=ids(f"act:{anchor}"))
    code = code_el(procedure, "code", category)
    code_el(el(code, "qualifier"), "value", kind)
    reference(procedure, "text", anchor)
    el(procedure, "statusCode", code="active")
    # Confirmed dates: none yet for an act still to come.
    el(procedure, "effectiveTime", nullFlavor="UNK")
    if planned:
        simple_observation(
            el(procedure, "entryRelationship", typeCode="COMP", inversionInd="false"),
            ids,
            PLANNED_DATES,
            date_anchor(anchor),
            None,
            when=planned,
            low=True,
        )
    if comment:
        comment_act(
            el(procedure, "entryRelationship", typeCode="SUBJ", inversionInd="true"),
            ids,
            comment_anchor(anchor),
        )
