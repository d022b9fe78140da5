"""Care programme operations: opening pre-filled, the draft's checks, validation in write-once
versions, amendments, and who may do what."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import func, select, text

from rcp_app.auth.models import User
from rcp_app.core.audit import AuditEntry
from rcp_app.core.errors import Conflict, DomainError, PermissionDenied
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from rcp_app.pps import draft as drafts
from rcp_app.pps import operations as ops
from rcp_app.pps.models import CarePlan, CarePlanVersion
from tests.pps.support import draft_data, in_days, open_and_fill, plan_world, validated_plan


@pytest.fixture
def world(app, make):
    return plan_world(app, make)


def _user(user_id: int) -> User:
    return db.session.get(User, user_id)


def test_a_new_programme_is_prefilled_from_the_decision_and_the_directory(app, world):
    with app.app_context():
        plan = ops.open_plan(db.session.get(Fiche, world.fiche_id), _user(world.requester_user_id))
        draft = plan.draft_dict()
        assert draft["treatments"] == [
            {
                "kind": "387713003",
                "source": "proposal",
                "description": "Tumorectomie et ganglion sentinelle",
                "planned_start": None,
                "place": "",
                "team": "",
            }
        ]
        assert draft["referent_id"] == world.requester_id
        assert draft["referent_phone"] == "0123456789"
        assert set(draft) == set(drafts.empty())
        db.session.rollback()


def test_the_contacts_come_from_the_last_programme_of_the_same_rcp(app, make, world):
    open_and_fill(app, world)
    other = plan_world(app, make, rcp_fields=None)
    with app.app_context():
        fiche = db.session.get(Fiche, other.fiche_id)
        # The same RCP: move the second fiche's session under the first world's RCP.
        fiche.session.rcp_id = world.fiche.rcp_id
        db.session.flush()
        plan = ops.open_plan(fiche, _user(other.requester_user_id))
        draft = plan.draft_dict()
        assert draft["nurse_name"] == "Mme GARNIER Sophie"
        assert draft["nurse_phone"] == "01 23 45 67 90"
        assert draft["care_centre_name"] == "3C de Valmont"
        db.session.rollback()


def test_a_fiche_has_one_programme(app, world):
    open_and_fill(app, world)
    with app.app_context(), pytest.raises(Conflict):
        ops.open_plan(db.session.get(Fiche, world.fiche_id), _user(world.requester_user_id))


@pytest.mark.parametrize(
    "changes, field, words",
    [
        (
            {"treatment_rows-0-planned_start": "31/02/2027"},
            "treatment_rows-0-planned_start",
            "n'est pas une date valide",
        ),
        (
            {"treatment_rows-0-planned_start": "01/01/2000"},
            "treatment_rows-0-planned_start",
            "antérieure",
        ),
        ({"treatment_rows-0-kind": "C547"}, "treatment_rows-0-kind", "valeur inconnue"),
        ({"treatment_rows-0-kind": ""}, "treatment_rows-0-kind", "type de traitement"),
        (
            {"treatment_rows-0-source": "alternative-7"},
            "treatment_rows-0-source",
            "valeur inconnue",
        ),
        ({"referent_phone": "12345"}, "referent_phone", "10 chiffres"),
        ({"nurse_name": ""}, "nurse_name", "à qui correspond ce numéro"),
        ({"support_rows-0-kind": "ORG-999"}, "support_rows-0-kind", "valeur inconnue"),
        ({"appointment_rows-0-time": "25h00"}, "appointment_rows-0-time", "hh:mm"),
        ({"appointment_rows-0-date": ""}, "appointment_rows-0-date", "date du rendez-vous"),
        ({"comments": "x" * 4001}, "comments", "4000 caractères"),
        ({"comments": "bip\x07"}, "comments", "caractère"),
    ],
)
def test_each_bad_value_is_refused_on_its_field(app, world, changes, field, words):
    plan_id = open_and_fill(app, world)
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        before = plan.draft
        with pytest.raises(drafts.PlanInvalid) as refused:
            ops.save_draft(
                plan,
                _user(world.requester_user_id),
                draft_data(world.requester_id, **changes),
                plan.lock_version,
            )
        messages = refused.value.errors[field]
        assert any(words in message for message in messages), messages
        db.session.rollback()
        assert db.session.get(CarePlan, plan_id).draft == before


def test_an_alternative_of_the_rcp_is_a_known_origin(app, world):
    plan_id = open_and_fill(app, world, **{"treatment_rows-0-source": "alternative-1"})
    with app.app_context():
        row = db.session.get(CarePlan, plan_id).draft_dict()["treatments"][0]
        assert row["source"] == "alternative-1"
        assert row["planned_start"] == datetime.strptime(in_days(12), "%d/%m/%Y").date().isoformat()


def test_removed_and_blank_rows_are_dropped_and_appointments_sorted(app, world):
    plan_id = open_and_fill(
        app,
        world,
        **{
            "appointment_rows-1-date": in_days(2),
            "appointment_rows-1-kind": "MED-091",
            "appointment_rows-2-date": "",
            "support_rows-0-remove": "y",
        },
    )
    with app.app_context():
        draft = db.session.get(CarePlan, plan_id).draft_dict()
        assert [a["kind"] for a in draft["appointments"]] == ["MED-091", "11429006"]
        assert draft["appointments"][1]["time"] == "09:30"
        assert draft["supportive_care"] == []


def test_a_stale_form_is_refused(app, world):
    plan_id = open_and_fill(app, world)
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        with pytest.raises(Conflict):
            ops.save_draft(
                plan,
                _user(world.requester_user_id),
                draft_data(world.requester_id),
                plan.lock_version - 1,
            )


def test_who_may_draft_and_who_may_validate(app, make, world):
    plan_id = open_and_fill(app, world)
    outsider = make.user(role="physician", professional_id=make.professional().id)
    gp = make.user(role="gp")
    secretariat = make.user(role="coordinator")
    make.coordinator_scope(secretariat.id, rcp_id=world.fiche.rcp_id)  # the RCP's secretariat
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        for user_id in (outsider.id, gp.id):
            with pytest.raises(PermissionDenied):
                ops.save_draft(plan, _user(user_id), draft_data(world.requester_id), 99)
        # The RCP's secretariat drafts, a physician of the case validates.
        assert ops.can_draft(_user(secretariat.id), plan.case)
        assert not ops.can_validate(_user(secretariat.id), plan.case)
        assert ops.can_validate(_user(world.requester_user_id), plan.case)
        with pytest.raises(PermissionDenied):
            ops.validate(plan, _user(secretariat.id))


def test_validation_stores_a_sealed_write_once_version(app, world):
    plan_id = validated_plan(app, world)
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        assert (plan.state, plan.current_version) == ("validated", 1)
        version = ops.current_version(plan)
        pdf, cda = version.document("pdf").content, version.document("cda").content
        assert pdf.startswith(b"%PDF") and b"/ByteRange" in pdf
        assert b"ClinicalDocument" in cda
        snapshot = version.snapshot_dict()
        assert snapshot["document"]["version"] == 1
        assert snapshot["treatments"][0]["kind"]["code"] == "387713003"
        assert snapshot["people"]["referent"]["last_name"] == "Durand"
        assert snapshot["fiche"]["proposal"]["code"] == "387713003"
        actions = set(
            db.session.scalars(
                select(AuditEntry.action).where(
                    AuditEntry.object_type == "care_plan", AuditEntry.object_id == str(plan_id)
                )
            )
        )
        assert {"pps.open", "pps.save", "pps.validate"} <= actions
        version.amendment_reason = "changé"
        with pytest.raises(RuntimeError, match="immuable"):
            db.session.flush()
        db.session.rollback()


def test_the_database_refuses_to_change_a_signed_version(app, world):
    plan_id = validated_plan(app, world)
    with app.app_context():
        with pytest.raises(Exception, match="immutable"):
            db.session.execute(
                text(
                    "UPDATE care_plan_versions SET amendment_reason = 'x' WHERE care_plan_id = :i"
                ),
                {"i": plan_id},
            )
            db.session.flush()
        db.session.rollback()
        with pytest.raises(Exception, match="immutable"):
            db.session.execute(text("DELETE FROM care_plan_documents"))
        db.session.rollback()


def test_an_incomplete_programme_is_not_validated(app, world):
    plan_id = open_and_fill(app, world, referent_phone="", nurse_phone="", nurse_name="")
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        with pytest.raises(ops.IncompletePlan, match="numéro de téléphone"):
            ops.validate(plan, _user(world.requester_user_id))
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(CarePlanVersion)) == 0


def test_a_validated_programme_changes_only_through_an_amendment(app, world):
    plan_id = validated_plan(app, world)
    user_id = world.requester_user_id
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        with pytest.raises(Conflict, match="avenant"):
            ops.save_draft(plan, _user(user_id), draft_data(world.requester_id), plan.lock_version)
        db.session.rollback()
        plan = db.session.get(CarePlan, plan_id)
        ops.start_amendment(plan, _user(user_id), plan.lock_version)
        ops.save_draft(
            plan,
            _user(user_id),
            draft_data(world.requester_id, **{"treatment_rows-0-planned_start": in_days(9)}),
            plan.lock_version,
        )
        with pytest.raises(DomainError) as refused:
            ops.validate(plan, _user(user_id))
        assert refused.value.field == "reason"
        with pytest.raises(DomainError) as refused:
            ops.validate(plan, _user(user_id), reason="Date avancée", motive="nope")
        assert refused.value.field == "motive"
        version = ops.validate(plan, _user(user_id), reason="Date avancée", motive="GEN-176")
        db.session.commit()
        first = db.session.scalar(
            select(CarePlanVersion).where(
                CarePlanVersion.care_plan_id == plan_id, CarePlanVersion.version == 1
            )
        )
        snapshot = version.snapshot_dict()
        assert snapshot["document"]["replaces_id"] == first.document_id
        assert snapshot["document"]["update_motive"]["code"] == "GEN-176"
        assert snapshot["document"]["set_id"] == first.snapshot_dict()["document"]["set_id"]
        assert (
            json.loads(first.snapshot)["treatments"][0]["planned_start"]
            != (snapshot["treatments"][0]["planned_start"])
        )


def test_giving_up_an_amendment_restores_the_version_in_force(app, world):
    plan_id = validated_plan(app, world)
    user_id = world.requester_user_id
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        signed = plan.draft_dict()
        ops.start_amendment(plan, _user(user_id), plan.lock_version)
        ops.save_draft(
            plan,
            _user(user_id),
            draft_data(world.requester_id, comments="brouillon"),
            plan.lock_version,
        )
        ops.cancel_amendment(plan, _user(user_id), plan.lock_version)
        assert plan.state == "validated"
        assert plan.draft_dict() == signed
        db.session.rollback()


def test_a_change_during_the_signature_stores_nothing(app, world):
    plan_id = open_and_fill(app, world)
    user_id = world.requester_user_id
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        draft = ops.draft_validation(plan, _user(user_id))
        documents = ops.produce(draft)
        ops.save_draft(
            plan,
            _user(user_id),
            draft_data(world.requester_id, comments="changé"),
            plan.lock_version,
        )
        with pytest.raises(Conflict, match="pendant la signature"):
            ops.store_validation(plan, _user(user_id), draft, documents)
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(CarePlanVersion)) == 0
