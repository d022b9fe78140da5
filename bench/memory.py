"""Memory of a process that renders PDFs: RSS after each step of N renders.

    .venv/bin/python -m bench.memory [--renders 2000] [--every 250]

Loads the demo into a temporary SQLite database, holds a session of the breast RCP with 10
ready decisions, then renders alternately a fiche preview (snapshot → PDF/A-3b, as
``/seances/<id>/fiches/<item>/apercu.pdf``) and the session's agenda PDF (as
``/seances/<id>/ordre-du-jour.pdf``), through the application's own functions, in one process,
as a web worker does. Prints the resident set size (VmRSS) every ``--every`` renders.

Target (issue 11): flat after warm-up — before the shared font configuration
(core/pdfrender.py) a worker grew by about 0.3 MB per render (100 MB after ~355 renders).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

from bench.fiches import _app, _prepare
from rcp_app.agenda import operations as agenda
from rcp_app.auth.models import User
from rcp_app.extensions import db
from rcp_app.fiches import operations as ops
from rcp_app.fiches.pdf import render_pdf
from rcp_app.meetings import documents
from rcp_app.meetings.models import AgendaItem, MeetingSession


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=2000)
    parser.add_argument("--every", type=int, default=250)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="rcp-bench-memory-") as tmp:
        app = _app(f"sqlite:///{tmp}/bench.sqlite3", Path(tmp) / "pki")
        with app.app_context():
            session_id, item_ids, validator_id = _prepare(10)
            validator = db.session.get(User, validator_id)
            print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
            print(f"{'rendus':>7} {'RSS (Mo)':>9} {'s':>7}")
            started = time.perf_counter()
            for n in range(args.renders + 1):
                if n % args.every == 0:
                    elapsed = time.perf_counter() - started
                    print(f"{n:>7} {rss_mb():>9.1f} {elapsed:>7.1f}", flush=True)
                if n == args.renders:
                    break
                if n % 2:
                    session = db.session.get(MeetingSession, session_id)
                    documents.agenda_pdf_bytes(session, agenda.agenda_items(session))
                else:
                    item = db.session.get(AgendaItem, item_ids[n // 2 % len(item_ids)])
                    render_pdf(ops.preview_snapshot(item, validator), None)
                db.session.rollback()  # the preview's audit row: not kept
            print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
