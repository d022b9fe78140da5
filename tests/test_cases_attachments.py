"""Attachments: PDF checked by content, size limit, storage outside the web root, downloads
only for the roles that see cases, everything audited, no orphan file."""

from __future__ import annotations

import errno
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from rcp_app.cases.attachments import safe_name
from rcp_app.cases.models import Attachment
from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from tests.support.factories import PASSWORD, pdf_bytes


@pytest.fixture
def case(make):
    return make.case(rcp_id=make.rcp(weekday=None).id)


def _upload(client, case_id, data: bytes, name="compte rendu anapath.pdf", kind="pathology"):
    return client.post(
        f"/dossiers/{case_id}/pieces-jointes",
        data={"kind": kind, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _stored_files(app) -> set[Path]:
    root = Path(app.config["RCP_ATTACHMENTS_DIR"])
    return {p for p in root.rglob("*") if p.is_file()}


def _attachments(app, case_id):
    with app.app_context():
        rows = db.session.scalars(select(Attachment).where(Attachment.case_id == case_id)).all()
        db.session.expunge_all()
        return rows


def test_upload_and_download_a_pdf(app, client, login, case):
    login("physician")
    data = pdf_bytes(2)
    response = _upload(client, case.id, data, name="../../CR anapath éé:x.pdf")
    assert response.status_code == 302
    [attachment] = _attachments(app, case.id)
    assert attachment.original_name == "CR anapath éé_x.pdf"
    assert attachment.size_bytes == len(data) and len(attachment.sha256) == 64
    path = Path(app.config["RCP_ATTACHMENTS_DIR"]) / attachment.storage_key
    assert path.read_bytes() == data
    assert attachment.storage_key.startswith(attachment.sha256[:2] + "/")
    assert "static" not in str(path)

    page = client.get(f"/dossiers/{case.id}").get_data(as_text=True)
    assert "CR anapath éé_x.pdf" in page and "Compte rendu d&#39;anatomopathologie" in page

    download = client.get(f"/dossiers/{case.id}/pieces-jointes/{attachment.id}")
    assert download.status_code == 200 and download.data == data
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''CR%20anapath" in disposition
    assert download.headers["Cache-Control"] == "no-store"
    download.close()
    with app.app_context():
        actions = [
            (e.action, e.patient_id)
            for e in db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.like("attachment.%"))
                .order_by(AuditEntry.seq)
            )
        ]
    assert actions == [
        ("attachment.upload", case.patient_id),
        ("attachment.download", case.patient_id),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"MZ\x90\x00 not a pdf at all", "n'est pas un PDF"),
        (b"<html><body>faux</body></html>", "n'est pas un PDF"),
        (b"%PDF-1.7\n garbage without any object", "endommagé ou illisible"),
        (b"", "Le fichier est vide."),
    ],
)
def test_non_pdf_renamed_pdf_is_refused(app, client, login, case, data, message):
    login("physician")
    before = _stored_files(app)
    response = _upload(client, case.id, data, name="scanner.pdf")
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 200
    assert message in page
    assert 'class="form-control is-invalid"' in page  # next to the file field
    assert _attachments(app, case.id) == []
    assert _stored_files(app) == before


def test_missing_kind_is_refused(app, client, login, case):
    login("physician")
    response = _upload(client, case.id, pdf_bytes(), kind="")
    assert response.status_code == 200
    assert "Choisissez le type de document." in response.get_data(as_text=True)
    assert _attachments(app, case.id) == []


def test_too_big_attachment_is_refused(make_test_app, make, case):
    small = make_test_app(RCP_MAX_ATTACHMENT_BYTES=1000)
    client = small.test_client()
    user = make.user(role="physician")
    make.enrol(user)  # the case's author (rcp_app/access)
    client.post("/connexion", data={"username": user.username, "password": PASSWORD})
    before = _stored_files(small)
    data = pdf_bytes(5) + b"%" * 1000
    response = _upload(client, case.id, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "la taille maximale est 1 Ko par pièce jointe" in page
    assert _attachments(small, case.id) == []
    assert _stored_files(small) == before


@pytest.mark.parametrize(
    ("role", "status"), [("coordinator", 200), ("physician", 200), ("gp", 403), ("admin", 403)]
)
def test_download_by_role(app, client, login, make, case, role, status):
    attachment = make.attachment(case.id, case.created_by_id)
    login(role)
    response = client.get(f"/dossiers/{case.id}/pieces-jointes/{attachment.id}")
    assert response.status_code == status
    response.close()
    if status == 403:
        assert b"%PDF" not in response.data


def test_download_of_another_case_attachment_is_404(app, client, login, make, case):
    other = make.case(rcp_id=case.rcp_id)
    attachment = make.attachment(other.id, other.created_by_id)
    login("physician")
    assert client.get(f"/dossiers/{case.id}/pieces-jointes/{attachment.id}").status_code == 404


def _corrupt(app, attachment, how: str) -> Path:
    path = Path(app.config["RCP_ATTACHMENTS_DIR"]) / attachment.storage_key
    if how == "missing":
        path.unlink()
    elif how == "altered":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01  # one bit flipped: same size, still starts with %PDF-
        path.write_bytes(bytes(data))
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    return path


@pytest.mark.parametrize(
    ("how", "said"), [("altered", "est endommagé"), ("truncated", "est endommagé"),
                      ("missing", "est introuvable sur le serveur")]
)  # fmt: skip
def test_a_damaged_file_is_never_served(app, client, login, make, case, caplog, how, said):
    attachment = make.attachment(case.id, case.created_by_id, original_name="CR anapath.pdf")
    _corrupt(app, attachment, how)
    user = login("physician")
    with caplog.at_level("ERROR", logger="rcp_app.cases.attachments"):
        response = client.get(f"/dossiers/{case.id}/pieces-jointes/{attachment.id}")
    assert response.status_code == 500
    assert response.mimetype == "text/html" and b"%PDF" not in response.data
    assert "Content-Disposition" not in response.headers
    page = response.get_data(as_text=True)
    assert f"Le fichier « CR anapath.pdf » {said}" in page
    assert "Il n&#39;est pas transmis. L&#39;incident a été enregistré" in page
    assert any(
        record.levelname == "ERROR" and "failed its integrity check" in record.getMessage()
        for record in caplog.records
    )
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("attachment.%"))
        ).all()
        [failure] = entries  # no "attachment.download" row
        details = failure.details_dict()
        assert (failure.action, failure.user_id, failure.patient_id) == (
            "attachment.integrity_failed",
            user.id,
            case.patient_id,
        )
    assert details["attachment_id"] == attachment.id
    assert details["expected_sha256"] == attachment.sha256
    assert (details["found_sha256"] is None) == (how == "missing")
    # The case's history names the incident in French.
    history = client.get(f"/dossiers/{case.id}").get_data(as_text=True)
    assert "Pièce jointe endommagée ou introuvable (non transmise)" in history


def test_an_intact_file_is_served_after_the_check(app, client, login, make, case):
    data = pdf_bytes(3)
    attachment = make.attachment(case.id, case.created_by_id, data=data)
    login("coordinator")
    response = client.get(f"/dossiers/{case.id}/pieces-jointes/{attachment.id}")
    assert response.status_code == 200 and response.data == data
    response.close()


def test_no_file_is_left_when_the_commit_fails(app, client, login, case, monkeypatch):
    login("physician")
    before = _stored_files(app)
    app.config["RCP_PROPAGATE_ERRORS_IN_TESTS"] = False

    def failing_commit():
        raise RuntimeError("database gone")

    monkeypatch.setattr(db.session, "commit", failing_commit)
    try:
        response = _upload(client, case.id, pdf_bytes())
    finally:
        app.config["RCP_PROPAGATE_ERRORS_IN_TESTS"] = True
    assert response.status_code == 500
    monkeypatch.undo()
    assert _stored_files(app) == before


def test_upload_refused_once_the_agenda_is_published(app, client, login, make):
    rcp = make.rcp(weekday=None)
    session = make.session(rcp.id, status="agenda_published")
    case = make.case(
        rcp_id=rcp.id,
        session_id=session.id,
        status="submitted",
        gp_unknown=True,
        submitted_at=session.created_at,
    )
    login("physician")
    assert _upload(client, case.id, pdf_bytes()).status_code == 409


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("rapport.PDF", "rapport.pdf"),
        ("C:\\Users\\x\\scan 1.pdf", "scan 1.pdf"),
        ("sans extension", "sans extension.pdf"),
        ("a\x00b\r\n.pdf", "a_b.pdf"),
        ("", "document.pdf"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_safe_name(raw, clean):
    assert safe_name(raw) == clean


def _half_written(self, data):
    """A disk that fills up in the middle of the file."""
    with open(self, "wb") as handle:
        handle.write(data[: len(data) // 2])
    raise OSError(errno.ENOSPC, "No space left on device")


def _read_only(*_args, **_kwargs):
    raise OSError(errno.EROFS, "Read-only file system")


@pytest.mark.parametrize(
    ("target", "replacement"),
    [
        ("pathlib.Path.write_bytes", _half_written),  # disk full while writing
        ("os.replace", _read_only),  # the final rename refused
        ("pathlib.Path.mkdir", _read_only),  # the folder cannot be created
    ],
)
def test_storage_failure_leaves_nothing_and_says_so(
    app, client, login, case, monkeypatch, target, replacement
):
    login("physician")
    before = _stored_files(app)
    with app.app_context():
        audit_rows = db.session.scalar(select(db.func.count(AuditEntry.id)))
    monkeypatch.setattr(target, replacement)
    response = _upload(client, case.id, pdf_bytes())
    monkeypatch.undo()
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Stockage indisponible" in page
    assert _stored_files(app) == before  # no .part left behind
    assert _attachments(app, case.id) == []
    with app.app_context():
        uploads = db.session.scalar(
            select(db.func.count(AuditEntry.id)).where(AuditEntry.action == "attachment.upload")
        )
        assert uploads == 0
        assert db.session.scalar(select(db.func.count(AuditEntry.id))) >= audit_rows
