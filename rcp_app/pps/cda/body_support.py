"""« SOINS ONCOLOGIQUES DE SUPPORT, ACCOMPAGNEMENT SOCIAL ET SOCIOPROFESSIONNEL »: the
supportive care and the social support proposed, and the social assessment (narrative only:
the volet has no entry for it)."""

from __future__ import annotations

from typing import NamedTuple

from ...fiches.cda.xml import Ids, ans_code, label_of
from .entries import SOCIAL_SUPPORT, SUPPORTIVE_CARE, comment_anchor, planned_act
from .sections import capitalized, care_plan_section, grid, paragraph

SUPPORT = ans_code(
    "MED-567", "Soins oncologiques de support, accompagnement social et socioprofessionnel"
)


class Listing(NamedTuple):
    category: dict
    prefix: str  # of the narrative anchors
    heading: str
    column: str
    nothing: str  # said when nothing is proposed


CARE = Listing(
    SUPPORTIVE_CARE,
    "soin",
    "Soins oncologiques de support proposés",
    "Type de soin",
    "Aucun soin oncologique de support proposé.",
)
SOCIAL = Listing(
    SOCIAL_SUPPORT,
    "accompagnement",
    "Accompagnement social et socioprofessionnel proposé",
    "Type d'accompagnement",
    "Aucun accompagnement social ou socioprofessionnel proposé.",
)


def supportive_care(body, snapshot: dict, ids: Ids) -> None:
    node = care_plan_section(
        body,
        ids,
        SUPPORT,
        "SOINS ONCOLOGIQUES DE SUPPORT, ACCOMPAGNEMENT SOCIAL ET SOCIOPROFESSIONNEL",
    )
    social = snapshot.get("social") or {}
    listed = ((CARE, snapshot.get("supportive_care") or []), (SOCIAL, social.get("support") or []))
    for listing, items in listed:
        if items:
            rows = [_row(f"{listing.prefix}-{i}", item) for i, item in enumerate(items, start=1)]
            grid(node, listing.heading, (listing.column, "Précisions"), rows)
        else:
            paragraph(node, listing.nothing)
    assessment = social.get("assessment") or "non renseignée"
    paragraph(node, f"Évaluation sociale et socioprofessionnelle : {assessment}")
    for listing, items in listed:
        for index, item in enumerate(items, start=1):
            planned_act(
                node,
                ids,
                listing.category,
                item["kind"],
                f"{listing.prefix}-{index}",
                comment=bool(item.get("details")),
            )


def _row(anchor: str, item: dict) -> tuple:
    details = item.get("details") or ""
    return (
        (capitalized(label_of(item["kind"])), anchor),
        (details, comment_anchor(anchor)) if details else "",
    )
