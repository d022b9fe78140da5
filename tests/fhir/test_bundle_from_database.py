"""The bundle of fiches signed through the application (database -> snapshot -> signed PDF and
CDA): it parses, its references resolve, and it agrees with the CDA stored with the version,
not one rebuilt for the test."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.coding import Coding

from rcp_app.auth.models import User
from rcp_app.cases.models import Biomarker
from rcp_app.extensions import db
from rcp_app.fhir.bundle import bundle_json
from rcp_app.fiches import operations as ops
from rcp_app.meetings.models import AgendaItem
from tests.fhir.support import (
    bundle_facts,
    cda_facts,
    loads,
    of_type,
    resources,
    walk_json,
    walk_models,
)
from tests.fiches.support import READY, build_world, snapshot_of, version_bytes

BASE_URL = "https://rcp.example.fr"


def _stage_the_tumour(app, world) -> None:
    with app.app_context():
        case = db.session.get(AgendaItem, world.item_id).case
        tumour = case.tumours[0]  # build_world's: topography only
        tumour.morphology_code = "8500/3"
        tumour.laterality_code = "7771000"
        tumour.diagnosis_date = date(2026, 10, 2)
        tumour.tnm_edition = "UICC8"
        tumour.clinical_t, tumour.clinical_n, tumour.clinical_m = "cT2", "cN1", "cM0"
        tumour.stage_group, tumour.stage_edition, tumour.stage_basis = "IIB", "UICC8", "clinical"
        tumour.biomarkers = [
            Biomarker(code="breast.er", value="90"),
            Biomarker(code="breast.her2", value="3+"),
        ]
        db.session.commit()


def _signed(app, make, *, amended: bool) -> tuple[int, int]:
    world = build_world(app, make)
    _stage_the_tumour(app, world)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        user = db.session.get(User, world.validator_user_id)
        ops.validate(item, user)
        db.session.commit()
        if amended:
            fiche = ops.fiches_of_session(item.session)[item.case_id]
            ops.amend(fiche, user, {**READY, "exams_requested": "TEP-TDM"}, "Ajout d'un examen", 1)
            db.session.commit()
    return world.case_id, 2 if amended else 1


@pytest.mark.parametrize("amended", [False, True], ids=["version_1", "version_2"])
def test_bundle_of_a_signed_fiche_agrees_with_its_stored_cda(app, make, amended):
    case_id, version = _signed(app, make, amended=amended)
    snapshot = snapshot_of(app, case_id, version)
    pdf = version_bytes(app, case_id, version, "pdf")
    data = bundle_json(snapshot, pdf, base_url=BASE_URL)
    bundle = loads(data)

    parsed = Bundle.model_validate(bundle)
    assert parsed.entry[0].resource.get_resource_type() == "Composition"
    full_urls = set(resources(bundle))
    assert {v for k, v in walk_json(bundle) if k == "reference"} <= full_urls
    assert all(c.system for c in walk_models(parsed) if isinstance(c, Coding))

    cda = cda_facts(version_bytes(app, case_id, version, "cda"))
    assert bundle_facts(bundle, len(cda["plan"]["treatments"])) == cda
    assert cda["tnm"] and cda["biomarkers"] and cda["patient_ids"]  # the facts were there

    (reference,) = of_type(bundle, "DocumentReference")
    assert base64.b64decode(reference["content"][0]["attachment"]["data"]) == pdf
    assert bundle_json(snapshot_of(app, case_id, version), pdf, base_url=BASE_URL) == data


def test_the_fiche_page_serves_the_same_bundle_and_audits_it(app, make, client):
    """/fiches/<id>/v<n>.fhir.json (the fiche page's link) is the Bundle of the stored snapshot
    and signed PDF, for the care team only, written down as a download."""
    from flask import current_app
    from sqlalchemy import select

    from rcp_app.core.audit import AuditEntry
    from rcp_app.fiches.models import Fiche
    from tests.support.factories import PASSWORD

    case_id, version = _signed(app, make, amended=False)
    with app.app_context():
        fiche = db.session.scalar(select(Fiche).where(Fiche.case_id == case_id))
        fiche_id, patient_id = fiche.id, fiche.patient_id
        validator = db.session.scalar(
            select(User).where(User.role == "physician").order_by(User.id.desc())
        )
        username = validator.username
        expected = bundle_json(
            snapshot_of(app, case_id, version),
            version_bytes(app, case_id, version, "pdf"),
            base_url=current_app.config["RCP_PUBLIC_URL"],
        )
    outsider = make.user(role="physician")
    url = f"/fiches/{fiche_id}/v{version}.fhir.json"
    client.post("/connexion", data={"username": outsider.username, "password": PASSWORD})
    assert client.get(url).status_code == 403
    member = app.test_client()
    member.post("/connexion", data={"username": username, "password": PASSWORD})
    response = member.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert response.data == expected
    with app.app_context():
        row = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "fiche.download", AuditEntry.patient_id == patient_id)
            .order_by(AuditEntry.seq.desc())
        ).first()
        assert row.details_dict() == {"version": version, "kind": "fhir"}
