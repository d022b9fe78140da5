"""Signed fiches benchmark: CDA, PDF/A-3b rendering, PAdES seal, and the end-of-meeting batch.

    .venv/bin/python -m bench.fiches [--database URL] [--fiches 40] [--rounds 3]

Loads the demo data into a temporary SQLite database (or the given one, which must be empty),
then holds one session of the breast RCP with ``--fiches`` cases decided and ready
(demo.past_session.hold_session). It then:

1. for each ready decision, ``--rounds`` times: builds the snapshot, generates the CDA, renders
   the PDF/A-3b with the CDA embedded, seals it; and renders the same HTML with plain
   WeasyPrint (``HTML(string=...).write_pdf()``, no PDF/A, no attachment) for comparison;
2. validates and signs the whole batch (fiches.operations.validate_ready, as the « Valider et
   signer toutes les fiches prêtes » button does) and commits, timing it end to end.

Prints median and p95 per step, the signature's share of the total, the ratio of the total to
the plain render, and the batch time. Targets (issue 5): median total <= 300 ms, signature
<= 15 % of the total, batch of 40 <= 12 s.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select

from rcp_app import create_app
from rcp_app.auth.models import User
from rcp_app.core.timeutil import utcnow
from rcp_app.demo.loader import load_demo
from rcp_app.demo.past_session import hold_session
from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from rcp_app.fiches import operations as ops
from rcp_app.fiches import pdf, snapshot
from rcp_app.fiches.cda import build_cda
from rcp_app.fiches.signature import seal
from rcp_app.patients.models import Patient
from rcp_app.terminology.builtin import load_builtin

STEPS = ("snapshot", "cda", "pdf", "signature", "total", "plain")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="URL SQLAlchemy d'une base vide (SQLite temporaire)")
    parser.add_argument("--fiches", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args(argv)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _app(url: str, pki: Path):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "ENV_VARS": {"RCP_SECRET_KEY": "bench", "RCP_AUDIT_KEY": "bench"},
            "RCP_TEST_PKI_DIR": str(pki),
            "RCP_SEAL_P12": str(pki / "test-seal.p12"),
            "RCP_SEAL_PASSPHRASE": None,
            "RCP_SEAL_PASSPHRASE_FILE": str(pki / "test-seal.passphrase"),
            "RCP_TRUST_ROOTS": [str(pki / "test-ca.pem")],
        }
    )


def _prepare(count: int):
    upgrade()
    load_builtin()
    load_demo()
    rcp = db.session.scalar(select(Rcp).where(Rcp.national_id.like("%-SEIN")))
    patients = list(db.session.scalars(select(Patient).order_by(Patient.id)))
    author = db.session.scalar(select(User).where(User.username == "dr.martin"))
    session, items, validator = hold_session(rcp, patients, author, utcnow(), count, weeks_ago=2)
    db.session.commit()
    return session.id, [i.id for i in items], validator.id


def _one(item, validator, sealer, timings: dict[str, list[float]]) -> None:
    from weasyprint import HTML

    decision = ops.decisions.decision_of(item)
    started = time.perf_counter()
    frozen = snapshot.build(
        decision=decision,
        item=item,
        validator=validator.professional,
        validated_at=utcnow(),
        document_id=str(uuid.uuid4()),
        set_id=str(uuid.uuid4()),
        version=1,
        verification_code=ops.new_verification_code(),
    )
    t_snapshot = time.perf_counter()
    cda = build_cda(frozen)
    t_cda = time.perf_counter()
    html = pdf.fiche_html(frozen)
    rendered = pdf.render_html_pdf(html, cda)
    t_pdf = time.perf_counter()
    sealer.sign(rendered, reason="Benchmark", location="Bench")
    t_sign = time.perf_counter()
    HTML(string=html).write_pdf()
    t_plain = time.perf_counter()
    for step, seconds in (
        ("snapshot", t_snapshot - started),
        ("cda", t_cda - t_snapshot),
        ("pdf", t_pdf - t_cda),
        ("signature", t_sign - t_pdf),
        ("total", t_sign - started),
        ("plain", t_plain - t_sign),
    ):
        timings[step].append(seconds * 1000)


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="rcp-bench-fiches-") as tmp:
        url = args.database or f"sqlite:///{tmp}/bench.sqlite3"
        app = _app(url, Path(tmp) / "pki")
        with app.app_context():
            session_id, item_ids, validator_id = _prepare(args.fiches)
            from rcp_app.meetings.models import AgendaItem, MeetingSession

            sealer = seal.sealer()  # loaded once, as in the application
            validator = db.session.get(User, validator_id)
            items = [db.session.get(AgendaItem, i) for i in item_ids]
            _one(items[0], validator, sealer, {s: [] for s in STEPS})  # warm-up
            timings: dict[str, list[float]] = {s: [] for s in STEPS}
            for _ in range(args.rounds):
                for item in items:
                    gc.collect()
                    _one(item, validator, sealer, timings)
            db.session.rollback()

            session = db.session.get(MeetingSession, session_id)
            started = time.perf_counter()
            versions, skipped = ops.validate_ready(session, validator)
            db.session.commit()
            batch = time.perf_counter() - started
        _report(args, timings, batch, len(versions), len(skipped))


def _report(args, timings, batch: float, signed: int, skipped: int) -> None:
    n = len(timings["total"])
    print(f"Fiches RCP — {n} rendus ({args.fiches} dossiers × {args.rounds} tours), ms")
    print(f"{'étape':<12}{'médiane':>10}{'p95':>10}")
    for step in STEPS:
        values = timings[step]
        label = "WeasyPrint seul" if step == "plain" else step
        print(f"{label:<12}{statistics.median(values):>10.1f}{percentile(values, 0.95):>10.1f}")
    total = statistics.median(timings["total"])
    share = statistics.median(
        s / t for s, t in zip(timings["signature"], timings["total"], strict=True)
    )
    ratio = total / statistics.median(timings["plain"])
    print(f"part de la signature dans le total (médiane) : {share:.1%} (cible <= 15 %)")
    print(f"total / rendu WeasyPrint seul : {ratio:.2f}")
    print(f"médiane du total : {total:.1f} ms (cible <= 300 ms)")
    print(
        f"lot de fin de séance : {signed} fiches validées et signées en {batch:.2f} s "
        f"({skipped} écartées ; cible <= 12 s pour 40)"
    )


if __name__ == "__main__":
    main()
