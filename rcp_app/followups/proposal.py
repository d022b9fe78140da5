"""The RCP's proposal as the follow-up offers it: rank 0 the proposal, rank N its alternative N,
each with the words of the fiche (treatment type label and details)."""

from __future__ import annotations

from sqlalchemy import select

from ..decisions.models import Decision
from ..extensions import db
from ..terminology.builtin import TREATMENT_TYPE
from ..terminology.models import Concept


def _labels(codes: list[str]) -> dict[str, str]:
    wanted = [code for code in codes if code]
    if not wanted:
        return {}
    rows = db.session.execute(
        select(Concept.code, Concept.label).where(
            Concept.value_set == TREATMENT_TYPE, Concept.code.in_(wanted)
        )
    )
    return {code: label for code, label in rows}


def _describe(label: str | None, details: str) -> str:
    parts = [part for part in (label and label[:1].upper() + label[1:], details.strip()) if part]
    return " — ".join(parts)


def _without_treatment(decision: Decision) -> str:
    """A proposal that names no treatment: what the fiche proposes instead."""
    if decision.active_surveillance:
        return "Surveillance active"
    if decision.recourse_referral:
        return f"Avis d'une RCP de recours ({decision.recourse_rcp})"
    if decision.exams_requested:
        return f"Examens complémentaires : {decision.exams_requested}"
    return "Proposition rédigée sur la fiche RCP"


def options(decision: Decision) -> list[tuple[int, str]]:
    """(rank, text) of the proposal and its alternatives, in rank order (one query)."""
    alternatives = sorted(decision.alternatives, key=lambda alt: alt.rank)
    labels = _labels([decision.proposal_code, *(alt.treatment_code for alt in alternatives)])
    first = _describe(labels.get(decision.proposal_code or ""), decision.proposal_details or "")
    rows = [(0, f"Proposition de la RCP : {first or _without_treatment(decision)}")]
    rows += [
        (
            alt.rank,
            f"Alternative {alt.rank} : "
            + _describe(labels.get(alt.treatment_code, alt.treatment_code), alt.details or ""),
        )
        for alt in alternatives
    ]
    return rows


def ranks(decision: Decision) -> frozenset[int]:
    """The options a follow-up may name: the proposal (0) and the decision's alternatives."""
    return frozenset({0, *(alt.rank for alt in decision.alternatives)})
