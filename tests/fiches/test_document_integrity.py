"""A stored fiche document whose bytes no longer match their digest is never served or sent.

Every reader goes through ``FicheDocument.content``; each one is exercised here: the clinical
download, the GP inbox, the delivery message and the export command.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from rcp_app.delivery.models import Transmission
from rcp_app.delivery.notices import build_for
from rcp_app.extensions import db
from rcp_app.fiches.models import DocumentAltered, FicheDocument
from tests.delivery.support import signed_fiche
from tests.fiches.support import fiche_of
from tests.support.factories import PASSWORD


def _alter_stored_pdf(app, case_id: int) -> None:
    """What a database administrator could do: lift the write-once trigger, flip bytes."""
    fiche = fiche_of(app, case_id)
    with app.app_context():
        document = db.session.scalar(
            select(FicheDocument)
            .join(FicheDocument.version)
            .where(FicheDocument.kind == "pdf")
            .where(FicheDocument.version.has(fiche_id=fiche.id))
        )
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(
                text("ALTER TABLE fiche_documents DISABLE TRIGGER fiche_documents_write_once")
            )
        else:
            db.session.execute(text("DROP TRIGGER fiche_documents_no_update"))
        altered = document._content.replace(b"%%EOF", b"%%EOG", 1)
        db.session.execute(
            text("UPDATE fiche_documents SET content = :c WHERE id = :i"),
            {"c": altered, "i": document.id},
        )
        db.session.commit()


@pytest.fixture
def world(app, make):
    world = signed_fiche(app, make)
    _alter_stored_pdf(app, world.case_id)
    return world


def test_clinical_download_refuses_altered_bytes(app, client, world):
    fiche = fiche_of(app, world.case_id)
    client.post("/connexion", data={"username": world.validator_username, "password": PASSWORD})
    response = client.get(f"/fiches/{fiche.id}/v1.pdf")
    assert response.status_code == 409
    assert "ne correspond plus à son empreinte" in response.get_data(as_text=True)
    assert client.get(f"/fiches/{fiche.id}/v1.xml").status_code == 200  # the CDA is intact


def test_gp_inbox_refuses_altered_bytes(app, make, world):
    from tests.delivery.test_receipts_and_inbox import _gp_client

    fiche = fiche_of(app, world.case_id)
    client = _gp_client(app, make, world.gp_id)
    response = client.get(f"/boite/fiches/{fiche.id}.pdf")
    assert response.status_code == 409


def test_delivery_does_not_send_altered_bytes(app, world):
    with app.app_context():
        transmission = db.session.scalar(
            select(Transmission).where(Transmission.kind == "fiche").limit(1)
        )
        with pytest.raises(DocumentAltered):
            build_for(transmission)


def test_export_refuses_altered_bytes(app, world, tmp_path):
    result = app.test_cli_runner().invoke(args=["rcp", "export-fiches", "--out", str(tmp_path)])
    assert result.exit_code != 0
    assert not list(tmp_path.glob("*.pdf"))
