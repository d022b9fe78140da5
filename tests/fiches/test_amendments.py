"""Amendments: a new signed version with a reason; the previous one stays, marked superseded."""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.core.errors import Conflict, DomainError, PermissionDenied
from rcp_app.extensions import db
from rcp_app.fiches import operations as ops
from rcp_app.fiches.cda.identifiers import uuid_oid
from rcp_app.fiches.models import Fiche
from rcp_app.fiches.verification import verify_document
from rcp_app.patients.models import Patient
from tests.fiches.support import (
    CHEMOTHERAPY,
    READY,
    fiche_of,
    signed_world,
    snapshot_of,
    version_bytes,
)
from tests.meetings_support import audits
from tests.support.factories import PASSWORD

HL7 = {"h": "urn:hl7-org:v3"}
CORRECTED = {**READY, "proposal_code": CHEMOTHERAPY, "proposal_details": "Chimiothérapie"}


@pytest.fixture
def world(app, make):
    return signed_world(app, make)


def _amend(
    app,
    world,
    data=CORRECTED,
    reason="Erreur de saisie de la proposition",
    expected=1,
    user_id=None,
):
    with app.app_context():
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == world.case_id))
        user = db.session.get(User, user_id or world.validator_user_id)
        version = ops.amend(fiche, user, data, reason, expected)
        db.session.commit()
        return version.version


def test_amendment_creates_version_two_and_supersedes_one(app, world):
    v1_pdf = version_bytes(app, world.case_id, 1)
    assert _amend(app, world) == 2
    assert fiche_of(app, world.case_id).current_version == 2
    v2 = snapshot_of(app, world.case_id, 2)
    v1 = snapshot_of(app, world.case_id, 1)
    assert v2["document"]["set_id"] == v1["document"]["set_id"]
    assert v2["document"]["version"] == 2
    assert v2["document"]["replaces_id"] == v1["document"]["id"]
    assert v2["document"]["amendment_reason"] == "Erreur de saisie de la proposition"
    assert v2["decision"]["proposal"]["code"] == CHEMOTHERAPY
    assert v1["decision"]["proposal"]["code"] != CHEMOTHERAPY
    # Version 1 is still there, unchanged, authentic but no longer in force.
    assert version_bytes(app, world.case_id, 1) == v1_pdf
    with app.app_context():
        old, new = verify_document(v1_pdf), verify_document(version_bytes(app, world.case_id, 2))
    assert old.authentic and not old.current and not old.ok
    assert "remplacée par la version 2" in old.problems[0]
    assert new.ok
    (row,) = audits(app, "fiche.amend")
    assert '"reason": "Erreur de saisie de la proposition"' in row.details


def test_the_cda_carries_set_id_version_and_replaced_document(app, world):
    _amend(app, world)
    v1 = snapshot_of(app, world.case_id, 1)
    cda = etree.fromstring(version_bytes(app, world.case_id, 2, "cda"))
    assert cda.find("h:versionNumber", HL7).get("value") == "2"
    set_id = cda.find("h:setId", HL7)
    assert set_id.get("root") == uuid_oid(v1["document"]["set_id"])
    parent = cda.find("h:relatedDocument[@typeCode='RPLC']/h:parentDocument/h:id", HL7)
    assert parent is not None
    assert parent.get("root") == uuid_oid(v1["document"]["id"])


def test_an_amendment_takes_todays_patient_data(app, world):
    with app.app_context():
        db.session.get(Patient, world.patient_id).birth_name = "DURAND"
        db.session.commit()
    _amend(app, world, reason="Correction de l'identité (nom de naissance)")
    assert snapshot_of(app, world.case_id, 1)["patient"]["birth_name"] == "DUPONT"
    assert snapshot_of(app, world.case_id, 2)["patient"]["birth_name"] == "DURAND"


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_amendment_needs_a_reason(app, world, reason):
    with pytest.raises(DomainError, match="motif"):
        _amend(app, world, reason=reason)
    with app.app_context():
        db.session.rollback()
    assert fiche_of(app, world.case_id).current_version == 1


def test_a_stale_amendment_is_refused(app, world):
    _amend(app, world)
    with pytest.raises(Conflict, match="version 2 en vigueur"):
        _amend(app, world, expected=1)


def test_an_incomplete_amendment_is_refused_whole(app, world):
    with pytest.raises(ops.IncompleteFiche, match="le statut du quorum"):
        _amend(app, world, data={**CORRECTED, "quorum_status": ""})
    with app.app_context():
        db.session.rollback()
    assert fiche_of(app, world.case_id).current_version == 1
    assert snapshot_of(app, world.case_id, 1)["decision"]["quorum"]["code"] == "ORG-126"


def test_only_validators_amend(app, make, world):
    other = make.user(role="physician", professional_id=make.professional().id)
    with pytest.raises(PermissionDenied):
        _amend(app, world, user_id=other.id)


def test_amendment_through_the_web(app, client, world):
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    fiche = fiche_of(app, world.case_id)
    form = client.get(f"/fiches/{fiche.id}/avenant")
    assert form.status_code == 200 and "Motif de l&#39;avenant" in form.get_data(as_text=True)
    refused = client.post(
        f"/fiches/{fiche.id}/avenant", data={**CORRECTED, "reason": "", "expected_version": "1"}
    )
    assert refused.status_code == 400
    assert "Indiquez le motif de l&#39;avenant" in refused.get_data(as_text=True)
    done = client.post(
        f"/fiches/{fiche.id}/avenant",
        data={**CORRECTED, "reason": "Proposition corrigée", "expected_version": "1"},
    )
    assert done.status_code == 302
    detail = client.get(f"/fiches/{fiche.id}").get_data(as_text=True)
    assert "Version en vigueur : 2" in detail and "Remplacée" in detail
    stale = client.post(
        f"/fiches/{fiche.id}/avenant",
        data={**CORRECTED, "reason": "Encore", "expected_version": "1"},
    )
    assert stale.status_code == 409
