"""A session with a decision ready for validation, and the physician allowed to validate it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.cases.models import Tumour
from rcp_app.decisions import operations as decisions
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche, FicheVersion
from rcp_app.meetings.models import AgendaItem

SURGERY = "387713003"
CHEMOTHERAPY = "C15632"
SPECIALTIES = ("G15_10/SM36", "G15_10/SM14", "G15_10/SM01")
READY = {
    "proposal_code": SURGERY,
    "proposal_details": "Tumorectomie et ganglion sentinelle",
    "alt_code_1": CHEMOTHERAPY,
    "alt_details_1": "Chimiothérapie néoadjuvante",
    "file_complete": "yes",
    "quorum_status": "ORG-126",
    "outcome": "discussed",
    "guideline_name": "Référentiel régional sein",
    "guideline_version": "2025",
}


@dataclass
class World:
    rcp_id: int
    session_id: int
    item_id: int
    case_id: int
    patient_id: int
    coordinator_id: int  # professional
    validator_user_id: int  # physician user linked to the coordinator
    validator_username: str


def build_world(
    app,
    make,
    *,
    decision: dict | None = READY,
    ready: bool = True,
    rcp_fields: dict | None = None,
    with_tumour: bool = True,
    **case_fields,
):
    """An organ RCP with a coordinating physician, an in-progress session whose quorum is
    reached, and one case on the agenda with a decision (ready unless told otherwise)."""
    establishment = make.establishment(name="Centre hospitalier de Valmont", city="Valmont")
    coordinator = make.professional(
        last_name="Martin", first_name="Claire", establishment_id=establishment.id
    )
    rcp = make.rcp(
        coordinator_id=coordinator.id, establishment_id=establishment.id, **(rcp_fields or {})
    )
    session = make.session(rcp.id, status="in_progress")
    make.attendance(session.id, coordinator.id)
    for code in SPECIALTIES[1:]:
        member = make.professional(specialty_code=code, establishment_id=establishment.id)
        make.attendance(session.id, member.id)
    case_fields.setdefault("gp_unknown", True)
    case_fields.setdefault("requester_id", make.professional(establishment_id=establishment.id).id)
    case = make.submitted_case(
        rcp_id=rcp.id, session_id=session.id, status="scheduled", **case_fields
    )
    if with_tumour:
        with app.app_context():
            db.session.add(Tumour(case_id=case.id, rank=1, topography_code="C50.4"))
            db.session.commit()
    item = make.agenda_item(session.id, case.id)
    user = make.user(role="physician", professional_id=coordinator.id)
    if decision is not None:
        with app.app_context():
            row = db.session.get(AgendaItem, item.id)
            decisions.save_decision(row, decision, 0, user.id)
            if ready:
                assert decisions.mark_ready(row) == []
            db.session.commit()
    return World(
        rcp.id,
        session.id,
        item.id,
        case.id,
        case.patient_id,
        coordinator.id,
        user.id,
        user.username,
    )


def signed_world(app, make, **options) -> World:
    """``build_world`` with its ready decision validated and signed (fiche version 1)."""
    from rcp_app.fiches import operations

    world = build_world(app, make, **options)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        operations.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
    return world


def fiche_of(app, case_id: int) -> Fiche | None:
    with app.app_context():
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == case_id))
        if fiche is not None:
            db.session.expunge(fiche)
        return fiche


def version_bytes(app, case_id: int, version: int, kind: str = "pdf") -> bytes:
    with app.app_context():
        row = db.session.scalar(
            select(FicheVersion)
            .join(Fiche)
            .where(Fiche.case_id == case_id, FicheVersion.version == version)
        )
        return row.document(kind).content


def snapshot_of(app, case_id: int, version: int = 1) -> dict:
    with app.app_context():
        row = db.session.scalar(
            select(FicheVersion)
            .join(Fiche)
            .where(Fiche.case_id == case_id, FicheVersion.version == version)
        )
        return row.snapshot_dict()
