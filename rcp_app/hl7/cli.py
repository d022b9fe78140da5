"""``flask --app wsgi rcp hl7 listen``: the HL7 identity feed's MLLP listener."""

from __future__ import annotations

import asyncio

import click
from flask import current_app
from flask.cli import AppGroup

from .listener import Listener
from .operations import FeedSettings

hl7_cli = AppGroup("hl7", help="Flux d'identités HL7 (IHE PAM) : récepteur MLLP.")


@hl7_cli.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True, help="Adresse d'écoute.")
@click.option("--port", default=2575, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Messages traités en parallèle (connexions différentes).",
)
@click.option(
    "--processing-id",
    "processing_ids",
    multiple=True,
    default=("P",),
    show_default=True,
    help="Code(s) de traitement MSH-11 acceptés (P production, T test) ; répétable.",
)
@click.option(
    "--ipp-authority",
    default=None,
    help="Autorité d'affectation de l'IPP (espace de noms ou OID de PID-3.4) quand PID-3 "
    "porte les IPP de plusieurs établissements.",
)
def listen_command(
    host: str, port: int, workers: int, processing_ids: tuple[str, ...], ipp_authority
) -> None:
    """Receive ADT^A28/A31/A40 over MLLP and apply them to the patients, until stopped."""
    settings = FeedSettings(
        processing_ids=frozenset(code.strip().upper() for code in processing_ids),
        ipp_authority=ipp_authority,
    )
    listener = Listener(
        current_app._get_current_object(), host, port, workers=workers, settings=settings
    )

    def ready(bound_port: int) -> None:
        click.echo(f"Récepteur HL7 à l'écoute sur {host}:{bound_port} (Ctrl+C pour arrêter).")

    asyncio.run(listener.serve_until_signalled(ready))
    click.echo("Récepteur HL7 arrêté.")
