"""Delivery benchmark: messages per second of one worker to a local SMTP server.

    .venv/bin/python -m bench.delivery [--database URL] [--messages 300] [--batch 50]

Loads the demo (its signed fiches queue their transmissions), adds ``--messages`` more
transmissions of a demo fiche to distinct addresses, starts the local mailbox (aiosmtpd,
writing each message to disk as ``make run`` does) on a free port, and times one worker
(delivery.worker.deliver_batch) until the outbox is empty: building each MSSanté message
(PDF + IHE_XDM.ZIP), SMTP, recording the outcome and its audit row, one commit per message.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import func, select

from rcp_app.core.timeutil import utcnow
from rcp_app.delivery import worker
from rcp_app.delivery.mailbox import LocalMailbox
from rcp_app.delivery.models import Transmission
from rcp_app.demo.loader import load_demo
from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin

from .fiches import _app


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="URL SQLAlchemy d'une base vide (SQLite temporaire)")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--batch", type=int, default=50)
    return parser.parse_args(argv)


def _queue(count: int) -> None:
    template = db.session.scalar(select(Transmission).where(Transmission.recipient_role == "gp"))
    now = utcnow()
    for n in range(count):
        db.session.add(
            Transmission(
                message_id=f"<bench.{n}@rcp-demo.mssante.fr>",
                kind="fiche",
                recipient_role="correspondent",
                recipient_address=f"correspondant{n}@medecin.mssante.fr",
                fiche_version_id=template.fiche_version_id,
                patient_id=template.patient_id,
                status="pending",
                next_attempt_at=now,
                created_at=now,
            )
        )
    db.session.commit()


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="rcp-bench-delivery-") as tmp:
        app = _app(args.database or f"sqlite:///{tmp}/bench.sqlite3", Path(tmp) / "pki")
        with LocalMailbox(Path(tmp) / "mailbox", port=0) as mailbox, app.app_context():
            app.config.update(RCP_SMTP_HOST=mailbox.host, RCP_SMTP_PORT=mailbox.port)
            upgrade()
            load_builtin()
            load_demo()
            db.session.commit()
            _queue(args.messages)
            total = db.session.scalar(select(func.count()).select_from(Transmission))
            started = time.perf_counter()
            sent = failed = 0
            while (report := worker.deliver_batch(args.batch, "bench")).claimed:
                sent, failed = sent + report.sent, failed + report.failed
            elapsed = time.perf_counter() - started
            stored = len(list((Path(tmp) / "mailbox").glob("*.eml")))
    print(f"Diffusion — un travailleur, {total} messages ({args.batch} par lot), SQLite")
    print(f"envoyés : {sent}, en échec : {failed}, reçus par la boîte locale : {stored}")
    print(f"durée : {elapsed:.2f} s, soit {sent / elapsed:.1f} messages/s")


if __name__ == "__main__":
    main()
