"""``flask --app wsgi rcp followups remind``."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from . import reminders


@click.group("followups", help="Suivi des propositions de RCP (boucle fermée).")
def followups_cli() -> None:
    pass


@followups_cli.command("remind")
@with_appcontext
def remind_command() -> None:
    """Queue the reminders of the follow-ups past their due day (the delivery worker sends
    them; it also runs this before each of its passes)."""
    queued = reminders.run()
    click.echo(f"Rappels de suivi mis en file d'envoi : {queued}.")
