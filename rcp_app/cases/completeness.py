"""Completeness: what an RCP requires of a case (its minimum data set) and what is missing.

Each RCP may list its required items (rcp_required_items); an RCP without a list uses the
defaults of its appareil (or the transversal defaults). ``missing_items(case)`` names what is
missing in plain French, tumour by tumour when there are several.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from ..core.timeutil import PARIS, to_paris
from ..extensions import db
from ..staging import biomarkers
from .models import Case, RcpRequiredItem, Tumour

G8_AGE = 70


@dataclass(frozen=True)
class Item:
    code: str
    label: str
    # Case-level check: True when present. Tumour-level items use ``tumour_check``.
    check: Callable[[Case], bool] | None = None
    tumour_check: Callable[[Tumour], bool] | None = None
    site: str | None = None  # tumour items that concern one site only


def reference_day(case: Case) -> date:
    """The day the case is presented: the session's date, or today without a session."""
    if case.session is not None:
        return to_paris(case.session.starts_at).date()
    return datetime.now(PARIS).date()


def g8_required(case: Case) -> bool:
    return case.age_on(reference_day(case)) >= G8_AGE


def _text(value) -> bool:
    return bool((value or "").strip())


def _tnm_complete(t: Tumour) -> bool:
    clinical = all((t.clinical_t, t.clinical_n, t.clinical_m))
    pathological = all((t.pathological_t, t.pathological_n))
    return bool(t.tnm_edition) and (clinical or pathological)


def _marker_item(marker: biomarkers.Marker) -> Item:
    return Item(
        marker.code,
        marker.full_label,
        tumour_check=lambda t, code=marker.code: code in t.biomarker_values,
        site=marker.site,
    )


ITEMS: dict[str, Item] = {
    item.code: item
    for item in (
        Item("motive", "Motif de présentation", check=lambda c: bool(c.motives)),
        Item(
            "phase", "Phase de la maladie (initiale ou rechute)", check=lambda c: bool(c.phase_code)
        ),
        Item(
            "performance_status",
            "Indice de performance OMS",
            check=lambda c: c.performance_status is not None,
        ),
        Item(
            "g8",
            f"Score G8 (patient de {G8_AGE} ans ou plus)",
            check=lambda c: c.g8_score is not None or not g8_required(c),
        ),
        Item("synthesis", "Synthèse du dossier", check=lambda c: _text(c.synthesis)),
        Item("question", "Question posée", check=lambda c: _text(c.question)),
        Item(
            "gp",
            "Médecin traitant (ou « inconnu »)",
            check=lambda c: c.gp_id is not None or c.gp_unknown,
        ),
        Item(
            "patient_informed",
            "Information du patient et non-opposition",
            check=lambda c: c.patient_informed_on is not None and c.patient_non_opposition,
        ),
        Item(
            "pathology_report",
            "Conclusion du compte rendu d'anatomopathologie",
            check=lambda c: _text(c.pathology_conclusion),
        ),
        Item("comorbidities", "Comorbidités", check=lambda c: _text(c.comorbidities)),
        Item("tumour", "Au moins une tumeur décrite", check=lambda c: bool(c.tumours)),
        Item(
            "diagnosis_date",
            "Date du diagnostic",
            tumour_check=lambda t: t.diagnosis_date is not None,
        ),
        Item("topography", "Topographie (CIM-10)", tumour_check=lambda t: bool(t.topography_code)),
        Item("morphology", "Morphologie (CIM-O-3)", tumour_check=lambda t: bool(t.morphology_code)),
        Item("tnm", "Classification TNM (avec son édition)", tumour_check=_tnm_complete),
        *(_marker_item(m) for m in biomarkers.MARKERS),
    )
}

COMMON = (
    "motive",
    "phase",
    "performance_status",
    "g8",
    "synthesis",
    "question",
    "gp",
    "patient_informed",
)
ORGAN = (*COMMON, "tumour", "diagnosis_date", "topography", "morphology")
# Defaults by appareil code (JDV_RCP_Appareil_CISIS); other appareils use ORGAN.
APPAREIL_DEFAULTS: dict[str, tuple[str, ...]] = {
    "76752008": (*ORGAN, "tnm", "breast.er", "breast.pr", "breast.her2"),  # sein
    "86762007": (*ORGAN, "tnm", "pathology_report"),  # système digestif
    "312419003": (*ORGAN, "tnm", "pathology_report"),  # appareil respiratoire
    "90264002": (*ORGAN, "tnm", "prostate.psa", "prostate.isup"),  # appareil génital masculin
}


def default_items(nature: str, appareil_code: str | None) -> tuple[str, ...]:
    if nature != "organ":
        return COMMON
    return APPAREIL_DEFAULTS.get(appareil_code or "", ORGAN)


def configured_items(rcp_ids: Iterable[int]) -> dict[int, list[str]]:
    """The explicit minimum data set of each RCP that has one (one query)."""
    ids = set(rcp_ids)
    result: dict[int, list[str]] = {}
    if not ids:
        return result
    rows = db.session.execute(
        select(RcpRequiredItem.rcp_id, RcpRequiredItem.item_code).where(
            RcpRequiredItem.rcp_id.in_(ids)
        )
    )
    for rcp_id, code in rows:
        result.setdefault(rcp_id, []).append(code)
    return result


def required_items(rcp, configured: dict[int, list[str]] | None = None) -> list[str]:
    """Item codes the RCP requires, in registry order."""
    if configured is None:
        configured = configured_items([rcp.id])
    codes = set(configured.get(rcp.id) or default_items(rcp.nature, rcp.appareil_code))
    return [code for code in ITEMS if code in codes]


def missing_items(case: Case, required: list[str] | None = None) -> list[str]:
    """Plain French labels of the required items the case lacks."""
    if required is None:
        required = required_items(case.rcp)
    missing: list[str] = []
    several = len(case.tumours) > 1
    for code in required:
        item = ITEMS.get(code)
        if item is None:
            continue
        if item.check is not None:
            if not item.check(case):
                missing.append(item.label)
            continue
        for tumour in case.tumours:
            if (
                item.site is not None
                and biomarkers.site_for_topography(tumour.topography_code) != item.site
            ):
                continue
            if not item.tumour_check(tumour):
                missing.append(f"{item.label} (tumeur {tumour.rank})" if several else item.label)
    return missing


def missing_by_case(cases: list[Case]) -> dict[int, list[str]]:
    """missing_items for a page of cases, with one query for the RCPs' data sets."""
    configured = configured_items(c.rcp_id for c in cases)
    required = {}
    for case in cases:
        if case.rcp_id not in required:
            required[case.rcp_id] = required_items(case.rcp, configured)
    return {case.id: missing_items(case, required[case.rcp_id]) for case in cases}
