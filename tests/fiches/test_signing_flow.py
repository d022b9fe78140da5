"""Signing from the web holds no transaction while rendering and sealing, and stores a version
only if the database still says what was signed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rcp_app.auth.models import User
from rcp_app.core.errors import Conflict
from rcp_app.decisions.models import Decision
from rcp_app.extensions import db
from rcp_app.fiches import operations as ops
from rcp_app.fiches import signing_flow
from rcp_app.fiches.models import Fiche
from rcp_app.fiches.signature import bounded
from rcp_app.meetings.models import AgendaItem
from tests.fiches.support import READY, build_world, fiche_of
from tests.support.factories import PASSWORD


def _edit_decision(item_id: int) -> None:
    """Another user's autosave, committed while the documents are being produced."""
    decision = db.session.scalar(select(Decision).where(Decision.item_id == item_id))
    decision.comments = "Modifié pendant la signature"
    db.session.commit()


@pytest.fixture
def world(app, make):
    return build_world(app, make)


def _outside_transaction_spy(monkeypatch, module, name):
    """Wrap ``module.name``: record, at each call, whether a transaction was open."""
    original = getattr(module, name)
    seen = []

    def spy(*args, **kwargs):
        seen.append(db.session().in_transaction())
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, spy)
    return seen


def test_rendering_and_sealing_hold_no_transaction(app, client, world, monkeypatch):
    seen = _outside_transaction_spy(monkeypatch, ops, "produce")
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    response = client.post(f"/seances/{world.session_id}/fiches/{world.item_id}/valider")
    assert response.status_code == 302
    assert seen == [False]
    assert fiche_of(app, world.case_id).current_version == 1


def _second_item(app, make, world):
    second = build_world(app, make)
    with app.app_context():  # the second case joins the first session
        item = db.session.get(AgendaItem, second.item_id)
        item.session_id = world.session_id
        item.position = 2
        db.session.commit()
    return second


def test_the_batch_signs_fiche_by_fiche_outside_transactions(app, client, make, world, monkeypatch):
    second = _second_item(app, make, world)
    seen = _outside_transaction_spy(monkeypatch, ops, "produce")
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    response = client.post(f"/seances/{world.session_id}/fiches/valider")
    assert response.status_code == 302
    assert seen == [False, False]
    assert fiche_of(app, world.case_id) is not None
    assert fiche_of(app, second.case_id) is not None


def test_a_conflict_in_the_batch_keeps_the_fiches_already_signed(app, make, world, monkeypatch):
    second = _second_item(app, make, world)
    original = ops.produce

    def produce(draft):
        documents = original(draft)
        if len(calls := getattr(produce, "calls", [])) == 1:  # while signing the second one
            _edit_decision(second.item_id)
        produce.calls = [*calls, draft]
        return documents

    monkeypatch.setattr(ops, "produce", produce)
    with app.app_context():
        user = db.session.get(User, world.validator_user_id)
        result = signing_flow.validate_ready(world.session_id, user)
    assert len(result.signed) == 1 and len(result.conflicts) == 1
    assert "modifié pendant la signature" in result.conflicts[0][2]
    assert fiche_of(app, world.case_id) is not None
    assert fiche_of(app, second.case_id) is None


def test_amendment_renders_outside_transactions(app, client, world, monkeypatch):
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        ops.validate(item, db.session.get(User, world.validator_user_id))
        db.session.commit()
    fiche = fiche_of(app, world.case_id)
    seen = _outside_transaction_spy(monkeypatch, ops, "produce")
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    response = client.post(
        f"/fiches/{fiche.id}/avenant",
        data={**READY, "reason": "Erreur de saisie", "expected_version": "1"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert seen == [False]
    assert fiche_of(app, world.case_id).current_version == 2


def test_a_decision_changed_while_signing_is_not_stored(app, world, monkeypatch):
    original = ops.produce

    def produce_while_someone_edits(draft):
        documents = original(draft)
        _edit_decision(world.item_id)
        return documents

    monkeypatch.setattr(ops, "produce", produce_while_someone_edits)
    with app.app_context():
        user = db.session.get(User, world.validator_user_id)
        with pytest.raises(Conflict, match="modifié pendant la signature"):
            signing_flow.validate(world.item_id, user)
        db.session.rollback()
        assert db.session.scalar(select(Fiche).where(Fiche.case_id == world.case_id)) is None
        state = db.session.scalar(select(Decision.state).where(Decision.item_id == world.item_id))
        assert state == "ready_for_validation"


def test_public_verification_checks_with_no_transaction(app, client, monkeypatch):
    import io

    from rcp_app.fiches import views

    seen = []
    original = bounded.check_signature

    def spy(data):
        seen.append(db.session().in_transaction())
        return original(data)

    monkeypatch.setattr(views, "check_signature", spy)
    response = client.post(
        "/verifier", data={"document": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "f.pdf")}
    )
    assert response.status_code == 200
    assert seen == [False]


def test_preview_and_agenda_pdfs_render_with_no_transaction(app, client, world, monkeypatch):
    from rcp_app.fiches import views
    from rcp_app.meetings import documents

    preview_seen = _outside_transaction_spy(monkeypatch, views, "render_pdf")
    agenda_seen = _outside_transaction_spy(monkeypatch, documents, "html_to_pdf")
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    preview = client.get(f"/seances/{world.session_id}/fiches/{world.item_id}/apercu.pdf")
    assert preview.status_code == 200 and preview.data.startswith(b"%PDF")
    agenda = client.get(f"/seances/{world.session_id}/ordre-du-jour.pdf")
    assert agenda.status_code == 200 and agenda.data.startswith(b"%PDF")
    assert preview_seen == [False] and agenda_seen == [False]
