"""The public verification page and ``flask rcp verify`` / ``rcp export-fiches``."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader, PdfWriter

from rcp_app.auth.models import User
from rcp_app.extensions import db
from rcp_app.fiches import operations as ops
from rcp_app.fiches.models import Fiche
from tests.fiches.support import (
    READY,
    fiche_of,
    signed_world,
    snapshot_of,
    version_bytes,
)
from tests.meetings_support import audits


@pytest.fixture
def world(app, make):
    return signed_world(app, make)


def _code(app, world, version=1):
    return snapshot_of(app, world.case_id, version)["document"]["verification_code"]


def _tampered(pdf: bytes) -> bytes:
    """One byte changed inside the signed range (in the page content area)."""
    data = bytearray(pdf)
    position = data.index(b"/Type /Page") + 2
    data[position] ^= 0x01
    return bytes(data)


def _with_page_added(pdf: bytes) -> bytes:
    """An incremental update after signing that appends a blank page."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _post_file(client, data: bytes):
    return client.post(
        "/verifier",
        data={"document": (io.BytesIO(data), "fiche.pdf")},
        content_type="multipart/form-data",
    )


def test_the_page_is_public_and_checks_a_code(app, client, world):
    assert client.get("/verifier").status_code == 200
    page = client.get(f"/verifier?code={_code(app, world).lower().replace('-', ' ')}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Fiche authentique, version en vigueur" in body
    assert "Dr MARTIN Claire" in body
    # Nothing about the patient.
    assert "DUPONT" not in body and "Marie" not in body
    (row,) = audits(app, "fiche.verify")
    assert row.username == "anonyme"


def test_an_unknown_or_malformed_code(client, world):
    assert "Aucune fiche émise" in client.get("/verifier?code=2222-2222-2222").get_data(
        as_text=True
    )
    assert "Code de vérification invalide" in client.get("/verifier?code=abc").get_data(
        as_text=True
    )


def test_uploaded_pdf_authentic_then_tampered(app, client, world):
    pdf = version_bytes(app, world.case_id, 1)
    assert "Fiche authentique, version en vigueur" in _post_file(client, pdf).get_data(as_text=True)
    for altered in (_tampered(pdf), _with_page_added(pdf), b"not a pdf at all"):
        body = _post_file(client, altered).get_data(as_text=True)
        assert "Fiche non authentifiée" in body


def test_a_superseded_version_is_reported(app, client, world):
    with app.app_context():
        fiche = db.session.scalar(db.select(Fiche).where(Fiche.case_id == world.case_id))
        ops.amend(fiche, db.session.get(User, world.validator_user_id), READY, "Correction", 1)
        db.session.commit()
    body = _post_file(client, version_bytes(app, world.case_id, 1)).get_data(as_text=True)
    assert "remplacée par une version plus récente" in body
    assert "version en vigueur : 2" in body


def test_the_page_is_rate_limited(app, client, world):
    app.config["RCP_VERIFY_MAX_PER_HOUR"] = 3
    try:
        statuses = [client.get(f"/verifier?code={_code(app, world)}").status_code for _ in range(4)]
    finally:
        app.config["RCP_VERIFY_MAX_PER_HOUR"] = 30
    assert statuses == [200, 200, 200, 429]


def _cli(app, *args):
    return app.test_cli_runner().invoke(args=["rcp", *args])


def test_cli_verify_exit_codes(app, world, tmp_path):
    pdf = version_bytes(app, world.case_id, 1)
    good, bad, added = tmp_path / "a.pdf", tmp_path / "b.pdf", tmp_path / "c.pdf"
    good.write_bytes(pdf)
    bad.write_bytes(_tampered(pdf))
    added.write_bytes(_with_page_added(pdf))
    result = _cli(app, "verify", str(good))
    assert result.exit_code == 0, result.output
    assert "AUTHENTIQUE — version en vigueur" in result.output
    assert "Version : 1" in result.output
    for path in (bad, added):
        result = _cli(app, "verify", str(path))
        assert result.exit_code == 1 and "NON AUTHENTIFIÉE" in result.output
        # The signature check itself (not only the unknown digest) reports the change.
        assert "modifié après sa signature" in result.output, result.output
    with app.app_context():
        fiche = db.session.scalar(db.select(Fiche).where(Fiche.case_id == world.case_id))
        ops.amend(fiche, db.session.get(User, world.validator_user_id), READY, "Correction", 1)
        db.session.commit()
    result = _cli(app, "verify", str(good))
    assert result.exit_code == 1 and "REMPLACÉE" in result.output


def test_export_writes_every_version(app, world, tmp_path):
    with app.app_context():
        fiche = db.session.scalar(db.select(Fiche).where(Fiche.case_id == world.case_id))
        ops.amend(fiche, db.session.get(User, world.validator_user_id), READY, "Correction", 1)
        db.session.commit()
    set_id = fiche_of(app, world.case_id).set_id
    result = _cli(app, "export-fiches", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted(f"{set_id}-v{v}.{ext}" for v in (1, 2) for ext in ("pdf", "cda.xml"))
    assert (tmp_path / "out" / f"{set_id}-v2.pdf").read_bytes() == version_bytes(
        app, world.case_id, 2
    )
    assert PdfReader(tmp_path / "out" / f"{set_id}-v1.pdf").attachments
    future = _cli(app, "export-fiches", "--out", str(tmp_path / "none"), "--since", "2999-01-01")
    assert future.exit_code == 0 and "0 version(s)" in future.output
    wrong = _cli(app, "export-fiches", "--out", str(tmp_path / "x"), "--since", "01/02/2026")
    assert wrong.exit_code != 0 and "AAAA-MM-JJ" in wrong.output
