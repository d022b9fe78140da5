"""Validating a ready decision: who may, what is checked, what is frozen, stored and signed."""

from __future__ import annotations

import io
import json

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from rcp_app.auth.models import User
from rcp_app.core.errors import Conflict, PermissionDenied
from rcp_app.decisions import operations as decisions
from rcp_app.decisions.models import Decision
from rcp_app.directory.models import RcpValidator
from rcp_app.extensions import db
from rcp_app.fiches import operations as ops
from rcp_app.fiches.models import FicheDocument, FicheVersion
from rcp_app.fiches.verification import verify_document
from rcp_app.meetings.models import AgendaItem
from rcp_app.patients.models import Patient
from tests.fiches.support import READY, build_world, fiche_of, snapshot_of, version_bytes
from tests.meetings_support import audits
from tests.support.factories import PASSWORD


def _validate(app, world, user_id=None):
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        user = db.session.get(User, user_id or world.validator_user_id)
        version = ops.validate(item, user)
        db.session.commit()
        return version.id


@pytest.fixture
def world(app, make):
    return build_world(app, make)


def test_validation_signs_stores_and_audits(app, world):
    _validate(app, world)
    fiche = fiche_of(app, world.case_id)
    assert fiche.current_version == 1
    pdf = version_bytes(app, world.case_id, 1)
    cda = version_bytes(app, world.case_id, 1, "cda")
    with app.app_context():
        version = db.session.scalar(select(FicheVersion).where(FicheVersion.fiche_id == fiche.id))
        digests = {d.kind: (d.sha256, d.size_bytes) for d in version.documents}
        state = db.session.scalar(select(Decision.state).where(Decision.item_id == world.item_id))
        verdict = verify_document(pdf)
    import hashlib

    assert digests["pdf"] == (hashlib.sha256(pdf).hexdigest(), len(pdf))
    assert digests["cda"] == (hashlib.sha256(cda).hexdigest(), len(cda))
    assert state == "validated"
    assert verdict.ok and verdict.version == 1 and verdict.problems == []
    # The PDF embeds exactly the stored CDA, as a PDF/A-3 associated file.
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {"fiche-rcp-cda.xml": [cda]}
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    # PDF/A wants the Info dictionary and the XMP to agree, also after signing.
    producer = reader.metadata["/Producer"]
    assert f'pdf:Producer="{producer}"' in xmp
    (row,) = audits(app, "fiche.validate")
    details = json.loads(row.details)
    assert row.patient_id == world.patient_id
    assert details["pdf_sha256"] == digests["pdf"][0] and details["version"] == 1


def test_pdf_shows_what_a_gp_needs(app, world):
    _validate(app, world)
    text_of_pdf = PdfReader(io.BytesIO(version_bytes(app, world.case_id, 1))).pages[0]
    content = text_of_pdf.extract_text()
    frozen = snapshot_of(app, world.case_id)
    for expected in (
        "DUPONT Marie",
        "Quel traitement adjuvant ?",
        "Intervention chirurgicale",
        "Référentiel régional sein",
        "Quorum atteint",
        "Dr MARTIN Claire",
        frozen["document"]["verification_code"],
        "Page 1/1",
    ):
        assert expected in content, expected


def test_snapshot_is_frozen_against_later_changes(app, world):
    _validate(app, world)
    pdf_before = version_bytes(app, world.case_id, 1)
    with app.app_context():
        patient = db.session.get(Patient, world.patient_id)
        patient.birth_name = "DURAND"
        db.session.commit()
    assert snapshot_of(app, world.case_id)["patient"]["birth_name"] == "DUPONT"
    assert version_bytes(app, world.case_id, 1) == pdf_before


def test_versions_and_documents_are_write_once_in_the_orm(app, world):
    _validate(app, world)
    with app.app_context():
        version = db.session.scalar(select(FicheVersion))
        version.amendment_reason = "falsifié"
        with pytest.raises(RuntimeError, match="immuable"):
            db.session.flush()
        db.session.rollback()
        document = db.session.scalar(select(FicheDocument))
        db.session.delete(document)
        with pytest.raises(RuntimeError, match="immuable"):
            db.session.flush()
        db.session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE fiche_documents SET content = content",
        "DELETE FROM fiche_documents",
        "UPDATE fiche_versions SET amendment_reason = 'x'",
        "DELETE FROM fiche_versions",
    ],
)
def test_versions_and_documents_are_write_once_in_the_database(app, world, statement):
    _validate(app, world)
    with app.app_context(), pytest.raises(Exception, match="immutable"):
        db.session.execute(text(statement))
    with app.app_context():
        db.session.rollback()


def test_a_validated_decision_cannot_be_edited_in_the_meeting(app, world):
    _validate(app, world)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        decision = db.session.scalar(select(Decision).where(Decision.item_id == item.id))
        with pytest.raises(Conflict, match="avenant"):
            decisions.save_decision(item, READY, decision.version, world.validator_user_id)
        with pytest.raises(Conflict, match="avenant"):
            decisions.mark_ready(item)
        db.session.rollback()


def test_validating_twice_is_refused(app, world):
    _validate(app, world)
    with pytest.raises(Conflict, match="déjà validée"):
        _validate(app, world)


def test_only_the_coordinating_physician_or_a_delegate_validates(app, make, world):
    other = make.user(role="physician", professional_id=make.professional().id)
    coordinator_role = make.user(role="coordinator")
    for user in (other, coordinator_role):
        with pytest.raises(PermissionDenied):
            _validate(app, world, user.id)
    with app.app_context():
        db.session.rollback()
        db.session.add(RcpValidator(rcp_id=world.rcp_id, professional_id=other.professional_id))
        db.session.commit()
    _validate(app, world, other.id)
    assert fiche_of(app, world.case_id) is not None


def test_a_draft_decision_is_not_validated(app, make):
    world = build_world(app, make, ready=False)
    with pytest.raises(Conflict, match="prête pour validation"):
        _validate(app, world)
    assert fiche_of(app, world.case_id) is None


def test_missing_items_are_listed_in_french(app, make):
    world = build_world(app, make, decision=None)
    with pytest.raises(ops.IncompleteFiche) as refused:
        _validate(app, world)
    message = refused.value.message
    assert "l'issue du dossier" in message and "le statut du quorum" in message
    assert "la complétude du dossier" in message


def test_a_fiche_needs_a_tumour_topography(app, make):
    world = build_world(app, make, with_tumour=False)
    with pytest.raises(ops.IncompleteFiche, match="la localisation .CIM-10. d'au moins une"):
        _validate(app, world)


def test_a_registered_case_needs_its_guideline(app, make):
    world = build_world(app, make, ready=False)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        item.mode = "registered"
        item.guideline = "Référentiel"
        decision = db.session.scalar(select(Decision).where(Decision.item_id == item.id))
        decision.guideline_name = ""
        decision.state = "ready_for_validation"
        db.session.commit()
    with pytest.raises(ops.IncompleteFiche, match="le référentiel suivi"):
        _validate(app, world)


def test_validation_waits_for_the_meeting(app, make, world):
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        item.session.status = "agenda_published"
        db.session.commit()
    with pytest.raises(Conflict, match="pendant ou après la réunion"):
        _validate(app, world)


def test_a_non_qualified_identity_never_carries_the_ins(app, make):
    world = build_world(app, make)
    with app.app_context():
        patient = db.session.get(Patient, world.patient_id)
        patient.identity_status = "VALI"
        ins = patient.ins_matricule
        db.session.commit()
    _validate(app, world)
    assert snapshot_of(app, world.case_id)["patient"]["ins"] is None
    cda = version_bytes(app, world.case_id, 1, "cda")
    text_of_pdf = PdfReader(io.BytesIO(version_bytes(app, world.case_id, 1))).pages[0]
    assert ins.encode() not in cda
    assert ins not in text_of_pdf.extract_text()


def test_batch_validates_every_ready_decision(app, make, world):
    second = make.agenda_item(world.session_id)
    third = make.agenda_item(world.session_id)
    with app.app_context():
        for item_id, ready in ((second.id, True), (third.id, False)):
            item = db.session.get(AgendaItem, item_id)
            decisions.save_decision(item, READY, 0, world.validator_user_id)
            if ready:
                decisions.mark_ready(item)
        db.session.commit()
        session = db.session.get(AgendaItem, world.item_id).session
        user = db.session.get(User, world.validator_user_id)
        versions, skipped = ops.validate_ready(session, user)
        db.session.commit()
        # The second case has no tumour: ready, but its fiche would lack a mandatory item.
        assert [v.fiche.case_id for v in versions] == [world.case_id]
        assert [(i.id, m) for i, m in skipped] == [
            (second.id, ["la localisation (CIM-10) d'au moins une tumeur"])
        ]
    assert fiche_of(app, second.case_id) is None
    assert fiche_of(app, third.case_id) is None


def test_session_page_and_validation_through_the_web(app, client, world):
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    page = client.get(f"/seances/{world.session_id}/fiches")
    assert page.status_code == 200
    assert "Valider et signer" in page.get_data(as_text=True)
    preview = client.get(f"/seances/{world.session_id}/fiches/{world.item_id}/apercu.pdf")
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    assert fiche_of(app, world.case_id) is None  # a preview stores nothing
    response = client.post(f"/seances/{world.session_id}/fiches/{world.item_id}/valider")
    fiche = fiche_of(app, world.case_id)
    assert response.status_code == 302 and response.location.endswith(f"/fiches/{fiche.id}")
    detail = client.get(f"/fiches/{fiche.id}").get_data(as_text=True)
    assert "Version en vigueur : 1" in detail
    download = client.get(f"/fiches/{fiche.id}/v1.pdf")
    assert download.data == version_bytes(app, world.case_id, 1)
    assert client.get(f"/fiches/{fiche.id}/v2.pdf").status_code == 404
    assert [a.action for a in audits(app, "fiche.download")] == ["fiche.download"]


def test_home_lists_the_fiches_waiting_for_this_validator(app, client, world):
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    home = client.get("/").get_data(as_text=True)
    assert "Fiches RCP à valider et signer" in home and "1 décision(s) prête(s)" in home
    _validate(app, world)
    assert "Fiches RCP à valider" not in client.get("/").get_data(as_text=True)


def test_other_physicians_are_not_asked_to_validate(client, login, world):
    login("physician")
    assert "Fiches RCP à valider" not in client.get("/").get_data(as_text=True)
