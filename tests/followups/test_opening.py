"""A follow-up opens when version 1 of a fiche is signed, in the same transaction; an
amendment opens none."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from rcp_app.auth.models import User
from rcp_app.cases.models import Case
from rcp_app.core.audit import AuditEntry
from rcp_app.core.timeutil import to_paris
from rcp_app.extensions import db
from rcp_app.fiches import operations as fiche_ops
from rcp_app.fiches.models import Fiche
from rcp_app.followups.models import FollowUp
from rcp_app.meetings.models import AgendaItem
from tests.fiches.support import CHEMOTHERAPY, READY, build_world, signed_world


def _follow_ups(app, case_id: int) -> list[FollowUp]:
    with app.app_context():
        rows = db.session.scalars(select(FollowUp).where(FollowUp.case_id == case_id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_signing_version_one_opens_the_follow_up(app, make):
    world = signed_world(app, make, rcp_fields={"follow_up_days": 45})
    [follow_up] = _follow_ups(app, world.case_id)
    with app.app_context():
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == world.case_id))
        case = db.session.get(Case, world.case_id)
        validated_day = to_paris(fiche.created_at).date()
        assert follow_up.fiche_id == fiche.id and follow_up.decision_id == fiche.decision_id
        assert follow_up.requester_id == case.requester_id
        audit = db.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "followup.open",
                AuditEntry.object_id == str(follow_up.id),
            )
        )
    assert follow_up.due_on == validated_day + timedelta(days=45)
    assert (follow_up.state, follow_up.rcp_id, follow_up.patient_id) == (
        "pending",
        world.rcp_id,
        world.patient_id,
    )
    assert follow_up.reminder_queued_at is None
    assert audit is not None and audit.patient_id == world.patient_id


def test_an_amendment_opens_no_other_follow_up(app, make):
    world = signed_world(app, make)
    [before] = _follow_ups(app, world.case_id)
    with app.app_context():
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == world.case_id))
        user = db.session.get(User, world.validator_user_id)
        corrected = {**READY, "proposal_code": CHEMOTHERAPY, "proposal_details": "Chimiothérapie"}
        assert fiche_ops.amend(fiche, user, corrected, "Erreur de saisie", 1).version == 2
        db.session.commit()
    [after] = _follow_ups(app, world.case_id)
    assert (after.id, after.due_on, after.state) == (before.id, before.due_on, "pending")
    with app.app_context():
        opened = db.session.scalar(
            select(func.count()).where(
                AuditEntry.action == "followup.open", AuditEntry.patient_id == world.patient_id
            )
        )
    assert opened == 1


def test_the_follow_up_is_rolled_back_with_the_signature(app, make):
    world = build_world(app, make)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        fiche_ops.validate(item, db.session.get(User, world.validator_user_id))
        assert db.session.scalar(select(func.count()).select_from(FollowUp)) >= 1
        db.session.rollback()
    assert _follow_ups(app, world.case_id) == []
    with app.app_context():
        assert db.session.scalar(select(Fiche).where(Fiche.case_id == world.case_id)) is None
