"""A signed fiche whose referring physician has an account: the world a care programme is
written in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.core.dates import today
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from rcp_app.pps import operations as ops
from rcp_app.pps.models import CarePlan
from tests.fiches.support import World, signed_world


@dataclass
class PlanWorld:
    fiche: World
    fiche_id: int
    requester_user_id: int
    requester_username: str
    requester_id: int  # professional


def plan_world(app, make, **options) -> PlanWorld:
    """``signed_world`` with a GP and a referring physician who logs in (phone in the
    directory)."""
    requester = make.professional(last_name="Durand", first_name="Julie", phone="0123456789")
    gp = make.professional(last_name="Bernard", first_name="Luc", specialty_code="G15_10/SM26")
    options.setdefault("requester_id", requester.id)
    options.setdefault("gp_unknown", False)
    options.setdefault("gp_id", gp.id)
    world = signed_world(app, make, **options)
    user = make.user(role="physician", professional_id=options["requester_id"])
    with app.app_context():
        fiche_id = db.session.scalar(select(Fiche.id).where(Fiche.case_id == world.case_id))
    return PlanWorld(world, fiche_id, user.id, user.username, options["requester_id"])


def in_days(days: int) -> str:
    return (today() + timedelta(days=days)).strftime("%d/%m/%Y")


FORM = {
    "treatment_rows-0-kind": "387713003",
    "treatment_rows-0-source": "proposal",
    "treatment_rows-0-description": "Opération pour enlever la tumeur du sein gauche.",
    "treatment_rows-0-planned_start": in_days(12),
    "treatment_rows-0-place": "Centre hospitalier de Valmont",
    "treatment_rows-0-team": "Dr NGUYEN Paul",
    "referent_phone": "01 23 45 67 89",
    "nurse_name": "Mme GARNIER Sophie",
    "nurse_phone": "0123456790",
    "care_centre_name": "3C de Valmont",
    "care_centre_phone": "",
    "support_rows-0-kind": "ORG-036",
    "support_rows-0-details": "Diététicienne avant l'opération",
    "social_assessment": "Vit seule.",
    "appointment_rows-0-date": in_days(5),
    "appointment_rows-0-time": "9h30",
    "appointment_rows-0-kind": "11429006",
    "appointment_rows-0-description": "Consultation avec le chirurgien",
    "appointment_rows-0-place": "Consultations, 2e étage",
    "comments": "",
}


def draft_data(referent_id: int, **changes) -> dict:
    """The operations' input (what PlanForm.data_for_operation gives) for FORM."""
    rows: dict[str, dict[int, dict]] = {}
    flat = {}
    for name, value in {**FORM, **changes}.items():
        if "-" in name:
            rows_name, index, field = name.split("-", 2)
            rows.setdefault(rows_name, {}).setdefault(int(index), {})[field] = value
        else:
            flat[name] = value
    keys = {
        "treatment_rows": "treatments",
        "support_rows": "supportive_care",
        "social_rows": "social_support",
        "appointment_rows": "appointments",
    }
    data = {**flat, "referent_id": str(referent_id)}
    for rows_name, key in keys.items():
        data[key] = [rows.get(rows_name, {})[i] for i in sorted(rows.get(rows_name, {}))]
    return data


def open_and_fill(app, world: PlanWorld, **changes) -> int:
    """The programme opened and its draft saved from FORM (committed); returns its id."""
    with app.app_context():
        user = db.session.get(User, world.requester_user_id)
        plan = ops.open_plan(db.session.get(Fiche, world.fiche_id), user)
        ops.save_draft(plan, user, draft_data(world.requester_id, **changes), plan.lock_version)
        db.session.commit()
        return plan.id


def validated_plan(app, world: PlanWorld, **changes) -> int:
    plan_id = open_and_fill(app, world, **changes)
    with app.app_context():
        plan = db.session.get(CarePlan, plan_id)
        ops.validate(plan, db.session.get(User, world.requester_user_id))
        db.session.commit()
    return plan_id


def stored_plan_of(app, fiche_id: int) -> int:
    """A programme (version 1 stored, being amended) for a fiche stored as rows; its id."""
    from rcp_app.fiches.models import FicheVersion
    from tests.support.factories import stored_care_plan

    with app.app_context():
        fiche = db.session.get(Fiche, fiche_id)
        author = db.session.scalar(
            select(FicheVersion.validated_by_id).where(FicheVersion.fiche_id == fiche_id)
        )
        plan, version = stored_care_plan(
            fiche, author, document_id=str(uuid.uuid4()), pdf=b"%PDF-1.7 pps"
        )
        db.session.add_all([plan, version])
        db.session.commit()
        return plan.id
