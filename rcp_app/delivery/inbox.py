"""The GP's inbox: signed fiches of the patients whose GP or correspondent they are (with the
care programme handed to the patient, once validated), and which of them the GP has not
opened yet."""

from __future__ import annotations

import json

from flask import abort
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..cases.models import Case, case_correspondents
from ..core.audit import AuditEntry
from ..extensions import db
from ..fiches.models import Fiche, FicheVersion
from ..pps.models import CarePlan


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


def care_plans_of(fiches: list[tuple[Fiche, FicheVersion]]) -> dict[int, CarePlan]:
    """fiche id -> its validated care programme (PPS), for the listed fiches (one query)."""
    if not fiches:
        return {}
    rows = db.session.scalars(
        select(CarePlan).where(
            CarePlan.fiche_id.in_([fiche.id for fiche, _ in fiches]),
            CarePlan.current_version >= 1,
        )
    )
    return {plan.fiche_id: plan for plan in rows}


def care_plan_for(user, plan_id: int) -> CarePlan:
    """A validated programme of one of the user's patients; 404 otherwise (as fiche_for)."""
    if user.professional_id is None:
        abort(404)
    plan = db.session.scalar(
        select(CarePlan)
        .join(Case, Case.id == CarePlan.case_id)
        .where(
            CarePlan.id == plan_id,
            CarePlan.current_version >= 1,
            _concerning(user.professional_id),
        )
    )
    if plan is None:
        abort(404)
    return plan


def unread_ids(user, fiches: list[tuple[Fiche, FicheVersion]]) -> set[int]:
    """Ids of the fiches whose current version this user has not downloaded yet.

    The audit log already records every download (``fiche.download``: user, fiche, version),
    so "read" is derived from it rather than from a second record that could disagree. The
    version is compared, not the time: an amendment makes the fiche new again, even when the
    GP downloaded the previous version while the amendment was being sealed. One query on the
    audit object index, bounded to downloads since the oldest listed version was validated.
    """
    if not fiches:
        return set()
    current = {str(fiche.id): version.version for fiche, version in fiches}
    rows = db.session.execute(
        select(AuditEntry.object_id, AuditEntry.details).where(
            AuditEntry.object_type == "fiche",
            AuditEntry.object_id.in_(list(current)),
            AuditEntry.action == "fiche.download",
            AuditEntry.user_id == user.id,
            AuditEntry.at >= min(version.validated_at for _, version in fiches),
        )
    )
    opened = set()
    for object_id, details in rows:
        download = json.loads(details or "{}")
        if download.get("kind") == "pdf" and download.get("version") == current[object_id]:
            opened.add(int(object_id))
    return {fiche.id for fiche, _ in fiches} - opened
