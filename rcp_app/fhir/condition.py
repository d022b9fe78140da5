"""One Condition per tumour (mCODE PrimaryCancerCondition): CIM-10 code, ICD-O-3 morphology in
the histology-morphology-behavior extension, laterality as the bodySite's laterality qualifier,
diagnosis date as assertedDate; its TNM and biomarker Observations point back to it (focus)."""

from __future__ import annotations

from ..terminology.builtin import PHASE_RELAPSE
from .entries import Entries
from .observations import (
    KINDS,
    add_biomarkers,
    add_tnm,
    edition_of,
    has_stage_group,
    stage_label,
    tnm_coding,
)
from .systems import (
    ASSERTED_DATE_EXTENSION,
    CONDITION_CATEGORY,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    HISTOLOGY_EXTENSION,
    LATERALITY_EXTENSION,
    LOINC,
    coding,
    concept,
)


def _extensions(tumour: dict) -> list[dict]:
    extensions = []
    if tumour.get("diagnosis_date"):
        extensions.append(
            {"url": ASSERTED_DATE_EXTENSION, "valueDateTime": tumour["diagnosis_date"]}
        )
    if tumour.get("morphology"):
        extensions.append(
            {"url": HISTOLOGY_EXTENSION, "valueCodeableConcept": concept(tumour["morphology"])}
        )
    return extensions


def _body_site(tumour: dict) -> dict | None:
    """The site is the CIM-10 code itself; the bodySite carries the laterality (mCODE binds
    the site to SNOMED CT, which the fiche does not hold)."""
    if not tumour.get("laterality"):
        return None
    site: dict = {
        "extension": [
            {"url": LATERALITY_EXTENSION, "valueCodeableConcept": concept(tumour["laterality"])}
        ]
    }
    if tumour.get("topography"):
        site["text"] = tumour["topography"]["label"]
    return site


def _stage(entries: Entries, tumour: dict) -> list[dict]:
    if not has_stage_group(tumour):
        return []
    stage = tumour["stage"]
    kind = stage["basis"]
    return [
        {
            "summary": {
                "coding": [
                    tnm_coding(stage["group"], stage["group"], edition_of(tumour)),
                ],
                "text": stage["group"],
            },
            "assessment": [{"reference": entries.url(stage_label(tumour["rank"], kind))}],
            "type": {"coding": [coding(LOINC, KINDS[kind]["group"][0])]},
        }
    ]


def add_conditions(entries: Entries, snapshot: dict, subject: dict, *, base_url: str) -> list[dict]:
    """The tumours' Conditions (references, by rank), with their Observations."""
    relapse = (snapshot["case"].get("phase") or {}).get("code") == PHASE_RELAPSE
    references = []
    for tumour in snapshot["case"]["tumours"]:
        fields: dict = {}
        extensions = _extensions(tumour)
        if extensions:
            fields["extension"] = extensions
        fields["clinicalStatus"] = {
            "coding": [coding(CONDITION_CLINICAL, "recurrence" if relapse else "active")]
        }
        fields["verificationStatus"] = {"coding": [coding(CONDITION_VERIFICATION, "confirmed")]}
        fields["category"] = [{"coding": [coding(CONDITION_CATEGORY, "problem-list-item")]}]
        if tumour.get("topography"):
            fields["code"] = concept(tumour["topography"])
        site = _body_site(tumour)
        if site:
            fields["bodySite"] = [site]
        fields["subject"] = subject
        stage = _stage(entries, tumour)
        if stage:
            fields["stage"] = stage
        if tumour.get("comment"):
            fields["note"] = [{"text": tumour["comment"]}]
        reference = entries.add("Condition", f"condition:{tumour['rank']}", fields)
        add_tnm(entries, tumour, subject, reference)
        add_biomarkers(entries, tumour, subject, reference, base_url)
        references.append(reference)
    return references
