"""``flask --app wsgi rcp deliver`` and ``rcp receipts import``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

from ..core import audit_anchor, signals
from ..core.resilience import is_unavailable
from ..core.timeutil import utcnow
from ..extensions import db
from ..fiches.signature.seal import sealer
from . import receipts, worker

MAX_OUTAGE_PAUSE = 30


@click.command("deliver")
@click.option("--once", is_flag=True, help="Un seul passage, puis arrêt.")
@click.option("--interval", default=5.0, show_default=True, help="Secondes entre deux passages.")
@click.option("--batch", default=50, show_default=True, help="Messages réclamés par passage.")
@with_appcontext
def deliver_command(once: bool, interval: float, batch: int) -> None:
    """Send due transmissions over SMTP and read the receipts folder, in a loop or once."""
    name = worker.worker_name()
    click.echo(f"Diffusion : travailleur {name}, passage toutes les {interval:g} s.")
    outage, started = 0, False
    while True:
        try:
            if not started or outage:
                _take_back(name, started)
                started = True
            _one_pass(name, batch)
        except DBAPIError as error:
            db.session.remove()
            if not is_unavailable(error):
                raise
            outage += 1
            pause = min(2 ** (outage - 1), MAX_OUTAGE_PAUSE)
            click.echo(
                f"Base de données injoignable ({type(error.orig).__name__}) : nouvel essai dans "
                f"{pause} s.",
                err=True,
            )
            time.sleep(pause)
            continue
        if outage:
            click.echo("Base de données de nouveau joignable : la diffusion reprend.")
            outage = 0
        if once:
            return
        time.sleep(interval)


def _take_back(name: str, started: bool) -> None:
    """At start, the rows of dead workers of this machine; after an outage, this worker's own
    (their outcome may not have been recorded): back in the queue at once, same Message-ID."""
    count = worker.reclaim_orphans(own=name if started else None)
    if count:
        click.echo(f"{count} message(s) en cours d'envoi remis dans la file.")


def _one_pass(name: str, batch: int) -> None:
    _announce_cycle(name)
    imported = receipts.import_folder(Path(current_app.config["RCP_MDN_DIR"]))
    for file_name, outcome in imported:
        click.echo(f"Accusé {file_name} : {outcome.detail}")
    while True:
        report = worker.deliver_batch(batch, name)
        if report.claimed:
            click.echo(
                f"{report.claimed} message(s) : {report.sent} envoyé(s), "
                f"{report.retried} à retenter, {report.failed} en échec."
            )
            for line in report.details:
                click.echo(f"  - {line}")
        db.session.remove()
        if report.claimed < batch:
            break
    _checkpoint_if_due()


def _announce_cycle(name: str) -> None:
    """Higher packages queue what has fallen due (the follow-up reminders), each in its own
    transaction, so that this pass sends it; their failure never stops the deliveries."""
    try:
        signals.send(signals.delivery_cycle, name, now=utcnow())
    except Exception as error:  # noqa: BLE001  (logged; the deliveries go on)
        click.echo(
            f"ALERTE : les tâches d'avant passage ont échoué ({type(error).__name__}) ; la "
            "diffusion continue.",
            err=True,
        )
    finally:
        db.session.remove()


def _checkpoint_if_due() -> None:
    """Seal the audit chain head every RCP_AUDIT_CHECKPOINT_MINUTES (core/audit_anchor.py)."""
    minutes = current_app.config["RCP_AUDIT_CHECKPOINT_MINUTES"]
    if minutes <= 0:
        return
    latest = audit_anchor.latest_checkpoint()
    if latest is not None and time.time() - latest.stat().st_mtime < minutes * 60:
        return
    try:
        checkpoint = audit_anchor.write_checkpoint(sealer)
    except audit_anchor.CheckpointError as exc:
        click.echo(f"ALERTE : {exc}", err=True)
    else:
        if checkpoint is not None:
            click.echo(f"Point d'ancrage du journal d'audit scellé : entrée n° {checkpoint.seq}.")
    finally:
        db.session.remove()


@click.group("receipts", help="Accusés de lecture (MDN).")
def receipts_cli() -> None:
    pass


@receipts_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_command(path: Path) -> None:
    """Apply one receipt file (left in place) or every file of a folder (moved aside)."""
    if path.is_dir():
        results = receipts.import_folder(path)
    else:
        outcome = receipts.apply_receipt(path.read_bytes())
        db.session.commit()
        results = [(path.name, outcome)]
    for name, outcome in results:
        click.echo(f"{name} : {outcome.detail}")
    if any(not outcome.acknowledged for _, outcome in results):
        sys.exit(1)
