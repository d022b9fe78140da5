"""/dev/courriels shows a stored message as a mail client does: headers decoded (RFC 2047),
the text part decoded (charset, transfer encoding), each attachment listed and downloadable
(always as a download); the raw source stays one link away. Names and attachment numbers in
URLs are checked (no path traversal); every read is audited; nothing in production."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime as rfc2822_date

import pytest

from rcp_app.delivery import mailbox_files
from tests.meetings_support import audits

PDF = b"%PDF-1.7\n% fiche de test\n" + bytes(range(256)) * 4
ZIP = b"PK\x03\x04" + b"\x00\xff" * 300
HOSTILE_HTML = b"<script>alert('x')</script><p>INDEX</p>"


def _message() -> bytes:
    mail = EmailMessage()
    mail["From"] = "Dr Élise Lefèvre <rcp@rcp-demo.mssante.fr>"
    mail["To"] = "Luc Bérard <luc.berard@medecin.mssante.fr>, dcc@rcp-idf.mssante.fr"
    mail["Subject"] = "Fiche RCP — DUPONT Hélène, séance du 10/03/2026"
    mail["Date"] = rfc2822_date(datetime(2026, 3, 10, 15, 42, tzinfo=UTC))
    mail["Message-ID"] = "<fiche-42@rcp-demo.mssante.fr>"
    mail.set_content(
        "Bonjour,\nVeuillez trouver la fiche RCP signée de Mme DUPONT Hélène.\nCordialement.\n",
        cte="quoted-printable",
    )
    mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="fiche-rcp-é.pdf")
    mail.add_attachment(ZIP, maintype="application", subtype="zip", filename="IHE_XDM.ZIP")
    mail.add_attachment(
        HOSTILE_HTML, maintype="text", subtype="html", filename="../../etc/INDEX.HTM"
    )
    return mail.as_bytes()


@pytest.fixture
def stored(app, make, tmp_path):
    _delivery_of_the_message(app, make)
    saved = app.config["RCP_MAILBOX_DIR"]
    app.config["RCP_MAILBOX_DIR"] = str(tmp_path)
    path = mailbox_files.store_message(
        tmp_path, "rcp@rcp-demo.mssante.fr", ["luc.berard@medecin.mssante.fr"], _message(), 7
    )
    yield path.name
    app.config["RCP_MAILBOX_DIR"] = saved
    app.config["RCP_ENV"] = "development"


def _delivery_of_the_message(app, make):
    """The delivery the message was sent for: a notice of a session of an RCP (the coordinator
    who reads the mailbox runs it; rcp_app/access)."""
    from rcp_app.core.timeutil import utcnow
    from rcp_app.delivery.models import Transmission
    from rcp_app.extensions import db
    from rcp_app.meetings.models import Notification

    rcp = make.rcp(weekday=None)
    session = make.session(rcp.id)
    recipient = make.professional()
    with app.app_context():
        notice = Notification(
            kind="agenda_published",
            recipient_id=recipient.id,
            session_id=session.id,
            created_at=utcnow(),
        )
        db.session.add(notice)
        db.session.add(
            Transmission(
                message_id="<fiche-42@rcp-demo.mssante.fr>",
                kind="agenda_published",
                recipient_role="participant",
                recipient_address="luc.berard@medecin.mssante.fr",
                professional_id=recipient.id,
                notification=notice,
                status="sent",
                next_attempt_at=utcnow(),
                created_at=utcnow(),
            )
        )
        db.session.commit()
    return rcp


def test_raw_file_is_encoded(stored, tmp_path):
    """The premise: the stored source is MIME-encoded (what the page used to show)."""
    raw = (tmp_path / stored).read_bytes()
    assert b"=?utf-8?" in raw and "Hélène".encode() not in raw.split(b"\n\n", 1)[0]


def test_message_is_shown_decoded(client, login, stored):
    login("coordinator")
    response = client.get(f"/dev/courriels/{stored}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Fiche RCP — DUPONT Hélène, séance du 10/03/2026" in page
    assert "Dr Élise Lefèvre &lt;rcp@rcp-demo.mssante.fr&gt;" in page
    assert "Luc Bérard &lt;luc.berard@medecin.mssante.fr&gt;" in page
    assert "dcc@rcp-idf.mssante.fr" in page
    assert "10/03/2026 à 16h42" in page  # Paris time
    assert "Veuillez trouver la fiche RCP signée de Mme DUPONT Hélène." in page
    assert "=?utf-8?" not in page and "=C3=A9" not in page
    # Attachments: names (made safe), types, links.
    assert "fiche-rcp-é.pdf" in page and "IHE_XDM.ZIP" in page and "INDEX.HTM" in page
    assert "../" not in page.split("Pièces jointes", 1)[1].split("Texte du message", 1)[0]
    for index in (1, 2, 3):
        assert f'href="/dev/courriels/{stored}/pieces/{index}"' in page
    assert "<script>alert" not in page
    assert f'href="/dev/courriels/{stored}/source"' in page


@pytest.mark.parametrize(
    "index, data, filename",
    [(1, PDF, "fiche-rcp-%C3%A9.pdf"), (2, ZIP, "IHE_XDM.ZIP"), (3, HOSTILE_HTML, "INDEX.HTM")],
)
def test_each_attachment_downloads_as_sent(app, client, login, stored, index, data, filename):
    login("coordinator")
    response = client.get(f"/dev/courriels/{stored}/pieces/{index}")
    assert response.status_code == 200
    assert response.data == data
    # Always a download, never rendered in the application's origin.
    assert response.mimetype == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and filename in disposition
    assert "/" not in disposition.split("filename", 1)[1]
    assert response.headers["Cache-Control"] == "no-store"
    response.close()
    assert audits(app, "delivery.mailbox_read")


def test_raw_source_is_one_link_away(client, login, stored, tmp_path):
    login("coordinator")
    response = client.get(f"/dev/courriels/{stored}/source")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert response.data == (tmp_path / stored).read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/dev/courriels/..%2F..%2Fetc%2Fpasswd",
        "/dev/courriels/../secret.eml",
        "/dev/courriels/.tmp-x.eml",
        "/dev/courriels/20260310T154200000000Z-000001-absent.eml",
        "/dev/courriels/20260310T154200000000Z-000001-absent.eml/source",
        "/dev/courriels/{name}/pieces/0",
        "/dev/courriels/{name}/pieces/4",
        "/dev/courriels/{name}/pieces/-1",
        "/dev/courriels/{name}/pieces/abc",
        "/dev/courriels/{name}/pieces/99999999999999999999",
        "/dev/courriels/..%2F{name}/pieces/1",
    ],
)
def test_bad_names_and_numbers_are_404(client, login, stored, path):
    login("coordinator")
    assert client.get(path.format(name=stored)).status_code == 404


def test_read_attachment_refuses_other_indexes():
    raw = _message()
    for index in (0, 4, -1, True, "1", None):
        with pytest.raises(ValueError):
            mailbox_files.read_attachment(raw, index)


def test_coordinators_only_and_never_in_production(app, client, login, make, stored):
    login("physician")
    for tail in ("", "/source", "/pieces/1"):
        assert client.get(f"/dev/courriels/{stored}{tail}").status_code == 403
    from tests.support.factories import PASSWORD

    coordinator = app.test_client()
    other = make.user(role="coordinator")  # runs no RCP: not this delivery's message
    coordinator.post("/connexion", data={"username": other.username, "password": PASSWORD})
    for tail in ("", "/source", "/pieces/1"):
        assert coordinator.get(f"/dev/courriels/{stored}{tail}").status_code == 403
    assert stored not in coordinator.get("/dev/courriels").get_data(as_text=True)
    user = make.user(role="coordinator")
    make.enrol(user)  # runs the message's RCP
    coordinator = app.test_client()
    coordinator.post("/connexion", data={"username": user.username, "password": PASSWORD})
    assert coordinator.get(f"/dev/courriels/{stored}").status_code == 200
    assert stored in coordinator.get("/dev/courriels").get_data(as_text=True)
    app.config["RCP_ENV"] = "production"
    for tail in ("", "/source", "/pieces/1"):
        assert coordinator.get(f"/dev/courriels/{stored}{tail}").status_code == 404
