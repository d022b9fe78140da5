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
import os
import subprocess
import sys
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
from rcp_app.fiches.signature import seal
from rcp_app.terminology.builtin import load_builtin

from .fiches import _app

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="URL SQLAlchemy d'une base vide (SQLite temporaire)")
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="travailleurs « flask rcp deliver --once » lancés en processus séparés "
        "(PostgreSQL : --database) ; 0 : un travailleur dans ce processus",
    )
    return parser.parse_args(argv)


def _processes(args, url: str, tmp: str, mailbox) -> float:
    """``--workers`` worker processes on the same outbox; seconds until all have drained it."""
    pki = Path(tmp) / "pki"
    env = {
        **os.environ,
        "RCP_DATABASE_URL": url,
        "RCP_SECRET_KEY": "bench",
        "RCP_AUDIT_KEY": "bench",
        "RCP_AUDIT_CHECKPOINT_MINUTES": "0",
        "RCP_SMTP_HOST": mailbox.host,
        "RCP_SMTP_PORT": str(mailbox.port),
        "RCP_SEAL_P12": str(pki / "test-seal.p12"),
        "RCP_SEAL_PASSPHRASE_FILE": str(pki / "test-seal.passphrase"),
        "RCP_TRUST_ROOTS": str(pki / "test-ca.pem"),
        "RCP_MDN_DIR": str(Path(tmp) / "mdn"),
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "rcp", "deliver", "--once"]
    started = time.perf_counter()
    workers = [
        subprocess.Popen(  # noqa: S603
            [*command, "--batch", str(args.batch)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.workers)
    ]
    for process in workers:
        process.wait(timeout=600)
    return time.perf_counter() - started


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
        url = args.database or f"sqlite:///{tmp}/bench.sqlite3"
        app = _app(url, Path(tmp) / "pki")
        with LocalMailbox(Path(tmp) / "mailbox", port=0) as mailbox, app.app_context():
            app.config.update(RCP_SMTP_HOST=mailbox.host, RCP_SMTP_PORT=mailbox.port)
            upgrade()
            load_builtin()
            load_demo()
            db.session.commit()
            _queue(args.messages)
            total = db.session.scalar(select(func.count()).select_from(Transmission))
            seal.sealer()  # the test PKI exists before any worker process starts
            db.session.commit()
            if args.workers:
                elapsed = _processes(args, url, tmp, mailbox)
                counts = dict(
                    db.session.execute(
                        select(Transmission.status, func.count()).group_by(Transmission.status)
                    ).all()
                )
                sent, failed = counts.get("sent", 0), counts.get("failed", 0)
            else:
                started = time.perf_counter()
                sent = failed = 0
                while (report := worker.deliver_batch(args.batch, "bench")).claimed:
                    sent, failed = sent + report.sent, failed + report.failed
                elapsed = time.perf_counter() - started
            stored = len(list((Path(tmp) / "mailbox").glob("*.eml")))
    who = f"{args.workers} travailleur(s) en processus" if args.workers else "un travailleur"
    base = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"Diffusion — {who}, {total} messages ({args.batch} par lot), {base}")
    print(f"envoyés : {sent}, en échec : {failed}, reçus par la boîte locale : {stored}")
    print(f"durée : {elapsed:.2f} s, soit {sent / elapsed:.1f} messages/s")


if __name__ == "__main__":
    main()
