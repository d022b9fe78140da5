"""``flask --app wsgi rcp api …``: register, list and revoke API clients from the shell.

``create-client`` prints ``CLIENT_ID=…`` and ``SECRET=…`` on standard output and nothing else
(the notes go to standard error), so that a script may ``eval "$(flask … create-client …)"``:
both values are URL-safe base64 or hex, which the shell reads literally.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..core.errors import DomainError
from ..core.timeutil import format_datetime
from ..directory.models import Establishment
from ..extensions import db
from . import operations as ops
from .models import SCOPES, ApiClient, ApiToken

api_cli = AppGroup("api", help="Clients de l'API (systèmes hospitaliers).")


def _establishment(finess: str) -> Establishment:
    finess = finess.strip()
    establishment = db.session.scalar(select(Establishment).where(Establishment.finess == finess))
    if establishment is None:
        raise click.ClickException(f"Établissement (FINESS) introuvable : {finess}.")
    if not establishment.active:
        raise click.ClickException(f"L'établissement FINESS {finess} est désactivé.")
    return establishment


def _scopes(text: str) -> list[str]:
    scopes = text.replace(",", " ").split()
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise click.ClickException(
            f"Portée inconnue : {', '.join(unknown)}. Portées possibles : {' '.join(SCOPES)}."
        )
    return scopes


def _client(client_id: str) -> ApiClient:
    client = db.session.scalar(
        select(ApiClient).where(ApiClient.client_id == client_id.strip()).with_for_update()
    )
    if client is None:
        raise click.ClickException(f"Aucun client « {client_id} ».")
    return client


@api_cli.command("create-client")
@click.option("--name", required=True, help="Nom du client (le logiciel et son éditeur).")
@click.option("--establishment", "finess", required=True, metavar="FINESS", help="Établissement.")
@click.option(
    "--scopes",
    required=True,
    help=f"Portées séparées par des espaces, parmi : {' '.join(SCOPES)}.",
)
@click.option("--rate", default=600, show_default=True, type=int, help="Appels par minute.")
@click.option("--contact", default="", help="Contact technique (adresse ou téléphone).")
def create_client_command(name: str, finess: str, scopes: str, rate: int, contact: str) -> None:
    """Register a client; print its client_id and its secret (shown once)."""
    try:
        credentials = ops.register_client(
            name, _establishment(finess), _scopes(scopes), contact=contact, rate=rate
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"CLIENT_ID={credentials.client.client_id}")
    click.echo(f"SECRET={credentials.secret}")
    click.echo(
        f"Client « {credentials.client.name} » créé. Le secret ne sera plus affiché : "
        "conservez-le maintenant.",
        err=True,
    )


@api_cli.command("revoke-client")
@click.argument("client_id")
def revoke_client_command(client_id: str) -> None:
    """Revoke a client: no more tokens, and its current tokens stop at once."""
    client = _client(client_id)
    if not client.active:
        click.echo(f"Le client « {client.client_id} » est déjà révoqué.")
        return
    ops.revoke_client(client, client.version)
    db.session.commit()
    click.echo(f"Client « {client.name} » ({client.client_id}) révoqué.")


@api_cli.command("list-clients")
def list_clients_command() -> None:
    """One line per client: client_id, state, FINESS, quota, last token, scopes, name."""
    last_tokens = dict(
        db.session.execute(
            select(ApiToken.client_id, func.max(ApiToken.issued_at)).group_by(ApiToken.client_id)
        ).all()
    )
    clients = db.session.scalars(
        select(ApiClient).options(selectinload(ApiClient.establishment)).order_by(ApiClient.id)
    ).all()
    if not clients:
        click.echo("Aucun client enregistré.")
        return
    for client in clients:
        state = "actif" if client.active else f"révoqué le {format_datetime(client.revoked_at)}"
        last = last_tokens.get(client.id)
        click.echo(
            "\t".join(
                [
                    client.client_id,
                    state,
                    f"FINESS {client.establishment.finess}",
                    f"{client.rate_limit_per_minute}/min",
                    f"dernier jeton : {format_datetime(last) if last else 'aucun'}",
                    client.scopes,
                    client.name,
                ]
            )
        )
