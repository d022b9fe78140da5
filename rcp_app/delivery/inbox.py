"""The GP's inbox: signed fiches of the patients whose GP or correspondent they are."""

from __future__ import annotations

from flask import abort
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..cases.models import Case, case_correspondents
from ..extensions import db
from ..fiches.models import Fiche, FicheVersion


def _concerning(professional_id: int):
    """Cases whose GP is this professional, or that name them as a correspondent."""
    correspondent = select(case_correspondents.c.case_id).where(
        case_correspondents.c.professional_id == professional_id
    )
    return or_(Case.gp_id == professional_id, Case.id.in_(correspondent))


def fiches_for(user, limit: int = 200) -> list[tuple[Fiche, FicheVersion]]:
    """(fiche, its current version), newest first; nothing without a linked professional."""
    if user.professional_id is None:
        return []
    rows = db.session.execute(
        select(Fiche, FicheVersion)
        .join(Case, Case.id == Fiche.case_id)
        .join(
            FicheVersion,
            (FicheVersion.fiche_id == Fiche.id) & (FicheVersion.version == Fiche.current_version),
        )
        .where(_concerning(user.professional_id))
        .options(joinedload(Fiche.patient), joinedload(Fiche.session))
        .order_by(FicheVersion.validated_at.desc(), Fiche.id.desc())
        .limit(limit)
    )
    return [(fiche, version) for fiche, version in rows]


def fiche_for(user, fiche_id: int) -> Fiche:
    """The fiche if it concerns one of the user's patients; 404 otherwise (no existence leak)."""
    if user.professional_id is None:
        abort(404)
    fiche = db.session.scalar(
        select(Fiche)
        .join(Case, Case.id == Fiche.case_id)
        .where(Fiche.id == fiche_id, _concerning(user.professional_id))
    )
    if fiche is None:
        abort(404)
    return fiche
