"""``flask --app wsgi rcp deliver`` and ``rcp receipts import``."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from . import receipts, worker


@click.command("deliver")
@click.option("--once", is_flag=True, help="Un seul passage, puis arrêt.")
@click.option("--interval", default=5.0, show_default=True, help="Secondes entre deux passages.")
@click.option("--batch", default=50, show_default=True, help="Messages réclamés par passage.")
@with_appcontext
def deliver_command(once: bool, interval: float, batch: int) -> None:
    """Send due transmissions over SMTP and read the receipts folder, in a loop or once."""
    name = worker.worker_name()
    click.echo(f"Diffusion : travailleur {name}, passage toutes les {interval:g} s.")
    while True:
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
        if once:
            return
        time.sleep(interval)


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
