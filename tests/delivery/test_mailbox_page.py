"""The development mailbox page lists what the local SMTP server stored (not in production)."""

from __future__ import annotations

from rcp_app.delivery.mailbox import LocalMailbox
from tests.delivery.support import signed_fiche
from tests.delivery.test_worker import deliver
from tests.meetings_support import audits


def test_mailbox_page_lists_and_shows_received_messages(app, make, login, client, tmp_path):
    saved = {k: app.config[k] for k in ("RCP_MAILBOX_DIR", "RCP_SMTP_HOST", "RCP_SMTP_PORT")}
    try:
        with LocalMailbox(tmp_path, port=0) as mailbox:
            app.config.update(
                RCP_MAILBOX_DIR=str(tmp_path),
                RCP_SMTP_HOST=mailbox.host,
                RCP_SMTP_PORT=mailbox.port,
            )
            signed_fiche(app, make)
            assert deliver(app).sent == 4
        login("coordinator")
        page = client.get("/dev/courriels").get_data(as_text=True)
        assert page.count("dcc@rcp-idf.mssante.fr") == 1 and "Fiche RCP" in page
        name = sorted(p.name for p in tmp_path.glob("*.eml"))[0]
        raw = client.get(f"/dev/courriels/{name}")
        assert raw.status_code == 200 and b"IHE_XDM.ZIP" in raw.data
        assert client.get("/dev/courriels/..%2Fsecret").status_code == 404
        assert audits(app, "delivery.mailbox_read")
        app.config["RCP_ENV"] = "production"
        assert client.get("/dev/courriels").status_code == 404
    finally:
        app.config.update(saved, RCP_ENV="development")
