"""The care team has two SQL forms (rcp_app/access/care_team.py): the set of a user's patients
(``clinical_patient_ids``, a UNION ALL of index-only scans, hashed once by the lists) and the
per-row test used for a handful of given patients (``per_row=True``: correlated EXISTS). Both,
and the case conditions built on them, must name the same patients for every relationship."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from rcp_app.access import care_team
from rcp_app.cases.models import Case
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.patients.models import Patient
from tests.support.care_world import RELATIONSHIPS, add_patient, base_world


@pytest.fixture
def world(app, make):
    world = base_world(make)
    add_patient(app, make, world)
    # One more way in, open now: an exceptional access of the outside physician.
    make.exceptional_access(world.users["O"].id, world["patient"])
    # And a patient whose case was never submitted (a draft of R's): R only.
    make.case(patient_id=make.patient().id, created_by_id=world.users["R"].id)
    return world


def _own_drafts(user) -> set[int]:
    if user.role != "physician":
        return set()
    authored = Case.created_by_id == user.id
    if user.professional_id is not None:
        authored = authored | (Case.requester_id == user.professional_id)
    return set(
        db.session.scalars(select(Case.patient_id).where(Case.submitted_at.is_(None), authored))
    )


@pytest.mark.parametrize("later", [timedelta(0), timedelta(hours=13)], ids=["now", "13h_later"])
def test_both_forms_name_the_same_patients(app, world, later):
    when = utcnow() + later
    with app.app_context():
        for name in RELATIONSHIPS:
            user = db.session.merge(world.users[name])
            ids = care_team.clinical_patient_ids(user, when)
            as_set = set(db.session.scalars(ids)) if ids is not None else set()
            for per_row in (False, True):
                patients = set(
                    db.session.scalars(
                        select(Patient.id).where(
                            care_team.patient_condition(user, Patient.id, when, per_row=per_row)
                        )
                    )
                )
                by_case = set(
                    db.session.scalars(
                        select(Case.patient_id).where(
                            care_team.case_condition(user, None, when, per_row=per_row)
                        )
                    )
                )
                assert patients == as_set, (name, per_row)
                # Coordinators see cases by RCP, physicians by patient: the same patients, and
                # a physician's own drafts (which open themselves, not the patient's record).
                assert by_case == as_set | _own_drafts(user), (name, per_row)


def test_a_draft_opens_itself_not_the_patients_record(app, client, make):
    """An outside physician who types a draft for a patient found by the identity search sees
    that draft, never the patient's record nor their other cases, until it is submitted."""
    from rcp_app.access import rules
    from tests.support.factories import PASSWORD

    world = base_world(make)
    add_patient(app, make, world)
    outsider = world.users["O"]
    draft = make.case(
        patient_id=world["patient"],
        created_by_id=outsider.id,
        requester_id=outsider.professional_id,
    )
    with app.app_context():
        user = db.session.merge(outsider)
        assert not rules.sees_patient_record(user, world["patient"])
        assert rules.sees_case(user, db.session.get(Case, draft.id))
        visible = set(db.session.scalars(select(Case.id).where(care_team.case_condition(user))))
        assert draft.id in visible and world["case"] not in visible
    client.post("/connexion", data={"username": outsider.username, "password": PASSWORD})
    assert client.get(f"/dossiers/{draft.id}").status_code == 200
    assert client.get(f"/dossiers/{world['case']}").status_code == 403
    assert client.get(f"/patients/{world['patient']}").status_code == 403
