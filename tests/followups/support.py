"""A validated proposal with its follow-up, built as rows (no PDF signed: fast), and the people
around it. ``tests.fiches.support.signed_world`` signs for real where the signature matters
(the follow-up opened by it, the fiche e-mail)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from rcp_app.auth.models import User
from rcp_app.core.timeutil import to_paris, utcnow
from rcp_app.decisions.models import Decision, DecisionAlternative
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from rcp_app.fiches.operations import new_verification_code
from rcp_app.followups.models import FollowUp
from tests.fiches.support import CHEMOTHERAPY, SURGERY
from tests.support.factories import Factories, stored_fiche_version

RADIOTHERAPY = "C15313"


def follow_up_for(fiche: Fiche, case, *, due_on: date | None = None, **fields) -> FollowUp:
    """A pending follow-up of a fiche stored as rows (the generic route tests' worlds store
    fiches without the signature that opens one): its case's people, due yesterday."""
    values = {
        "fiche": fiche,
        "decision": fiche.decision,
        "case_id": case.id,
        "patient_id": case.patient_id,
        "rcp_id": case.rcp_id,
        "requester_id": case.requester_id,
        "opened_at": utcnow() - timedelta(days=31),
        "due_on": due_on or to_paris(utcnow()).date() - timedelta(days=1),
        "state": "pending",
    }
    values.update(fields)
    return FollowUp(**values)


@dataclass
class World:
    follow_up_id: int
    fiche_id: int
    case_id: int
    patient_id: int
    rcp_id: int
    session_id: int
    decision_id: int
    requester: User  # physician, the case's referring physician and author
    coordinator: User  # secretariat running the RCP
    coordinating: User  # the RCP's coordinating physician
    member: User  # usual participant of the RCP: sees the case, does not edit it
    outsider: User  # physician outside the care team


def today() -> date:
    return to_paris(utcnow()).date()


def follow_up_world(
    app,
    make: Factories,
    *,
    due_in: int = -1,
    validated_days_ago: int = 31,
    patient_fields: dict | None = None,
    rcp_fields: dict | None = None,
    **follow_up_fields,
) -> World:
    """A closed session of a breast RCP, one case on it whose decision (surgery, alternative 1
    chemotherapy, alternative 2 radiotherapy) was validated ``validated_days_ago`` days ago,
    and its follow-up due in ``due_in`` days (negative: overdue)."""
    establishment = make.establishment()
    coordinating_professional = make.professional(
        last_name="Martin", first_name="Claire", establishment_id=establishment.id
    )
    rcp = make.rcp(
        establishment_id=establishment.id,
        coordinator_id=coordinating_professional.id,
        **(rcp_fields or {}),
    )
    requester = make.physician(last_name="Demandeur", first_name="Paul")
    member = make.physician(last_name="Membre")
    make.rcp_member(rcp.id, member.professional_id)
    validated_at = utcnow().replace(microsecond=0) - timedelta(days=validated_days_ago)
    session = make.session(rcp.id, status="closed", starts_at=validated_at - timedelta(hours=2))
    patient = make.patient(**(patient_fields or {}))
    case = make.submitted_case(
        rcp_id=rcp.id,
        session_id=session.id,
        patient_id=patient.id,
        status="discussed",
        requester_id=requester.professional_id,
        created_by_id=requester.id,
    )
    item = make.agenda_item(session.id, case.id)
    coordinating = make.user(role="physician", professional_id=coordinating_professional.id)
    with app.app_context():
        decision = Decision(
            item_id=item.id,
            state="validated",
            outcome="discussed",
            proposal_code=SURGERY,
            proposal_details="Tumorectomie et ganglion sentinelle",
            updated_at=validated_at,
        )
        decision.alternatives = [
            DecisionAlternative(rank=1, treatment_code=CHEMOTHERAPY, details="Néoadjuvante"),
            DecisionAlternative(rank=2, treatment_code=RADIOTHERAPY, details=""),
        ]
        fiche = Fiche(
            set_id=str(uuid.uuid4()),
            decision=decision,
            case_id=case.id,
            patient_id=patient.id,
            session_id=session.id,
            created_at=validated_at,
        )
        version = stored_fiche_version(
            fiche,
            coordinating.id,
            code=new_verification_code(),
            document_id=str(uuid.uuid4()),
            pdf=b"%PDF-1.7 follow-up",
        )
        follow_up = follow_up_for(
            fiche,
            case,
            opened_at=validated_at,
            due_on=today() + timedelta(days=due_in),
            **follow_up_fields,
        )
        db.session.add_all([decision, fiche, version, follow_up])
        db.session.commit()
        ids = (follow_up.id, fiche.id, decision.id)
    coordinator = make.user(role="coordinator")
    make.coordinator_scope(coordinator.id, rcp_id=rcp.id)
    return World(
        follow_up_id=ids[0],
        fiche_id=ids[1],
        case_id=case.id,
        patient_id=patient.id,
        rcp_id=rcp.id,
        session_id=session.id,
        decision_id=ids[2],
        requester=requester,
        coordinator=coordinator,
        coordinating=coordinating,
        member=member,
        outsider=make.physician(last_name="Extérieur"),
    )


def load(app, follow_up_id: int) -> FollowUp:
    with app.app_context():
        follow_up = db.session.get(FollowUp, follow_up_id)
        db.session.expunge(follow_up)
        return follow_up


def follow_up_of(app, fiche_id: int, **fields) -> int:
    """``follow_up_for`` a fiche already stored, committed; its id."""
    with app.app_context():
        fiche = db.session.get(Fiche, fiche_id)
        follow_up = follow_up_for(fiche, fiche.case, **fields)
        db.session.add(follow_up)
        db.session.commit()
        return follow_up.id
