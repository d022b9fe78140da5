"""``flask --app wsgi rcp terminology …`` commands."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from ..extensions import db
from .importer import ImportRejected, read_value_sets
from .operations import import_value_sets

terminology_cli = AppGroup("terminology", help="Jeux de valeurs (terminologies).")


@terminology_cli.command("import")
@click.argument("path", type=click.Path(path_type=Path))
def import_command(path: Path) -> None:
    """Import IHE SVS value sets: a folder (every JDV_*.xml in it) or one file.

    Every file is checked before anything is written; the import is one transaction.
    """
    started = time.perf_counter()
    try:
        value_sets = read_value_sets(path)
        summaries = import_value_sets(value_sets)
    except ImportRejected as rejected:
        db.session.rollback()
        click.echo("Import refusé, la base n'a pas été modifiée :", err=True)
        for message in rejected.errors:
            click.echo(f"  {message}", err=True)
        sys.exit(1)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    for s in summaries:
        click.echo(
            f"{s.file_name} → {s.value_set}{' (nouveau)' if s.new_value_set else ''} : "
            f"{s.added} ajouté(s), {s.updated} mis à jour, {s.retired} retiré(s), "
            f"{s.unchanged} inchangé(s)"
        )
        for warning in s.warnings:
            click.echo(f"  attention : {warning}", err=True)
    totals = {
        key: sum(getattr(s, key) for s in summaries)
        for key in ("added", "updated", "retired", "unchanged")
    }
    changed = sum(1 for s in summaries if s.changed)
    click.echo(
        f"\n{len(summaries)} fichier(s) en {time.perf_counter() - started:.1f} s, "
        f"{changed} modifié(s) : "
        f"{totals['added']} ajouté(s), {totals['updated']} mis à jour, "
        f"{totals['retired']} retiré(s), {totals['unchanged']} inchangé(s)."
    )
