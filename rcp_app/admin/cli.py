"""``flask --app wsgi rcp coordinator-scope``: set a coordinator's scopes from the shell (a new
installation's secretariat accounts, before anyone uses the admin pages)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from ..auth.models import User
from ..core.errors import DomainError
from ..directory.models import Establishment, Rcp
from ..extensions import db
from . import operations as ops


def _ids(model, column, values: tuple[str, ...], what: str) -> list[int]:
    values = tuple(v.strip() for v in values)
    found = dict(db.session.execute(select(column, model.id).where(column.in_(values))).all())
    unknown = [v for v in values if v not in found]
    if unknown:
        raise click.ClickException(f"{what} introuvable : {', '.join(unknown)}.")
    return [found[v] for v in values]


@click.command("coordinator-scope")
@click.argument("username")
@click.option("--rcp", "rcps", multiple=True, metavar="ID_NATIONAL", help="RCP coordonnée")
@click.option(
    "--establishment",
    "establishments",
    multiple=True,
    metavar="FINESS",
    help="établissement coordonné (toutes ses RCP)",
)
@with_appcontext
def coordinator_scope_command(
    username: str, rcps: tuple[str, ...], establishments: tuple[str, ...]
) -> None:
    """Set the RCPs and establishments a coordinator runs (replaces them; none: removes all)."""
    user = db.session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise click.ClickException(f"Aucun compte « {username} ».")
    rcp_ids = _ids(Rcp, Rcp.national_id, rcps, "RCP (identifiant national)")
    establishment_ids = _ids(
        Establishment, Establishment.finess, establishments, "Établissement (FINESS)"
    )
    try:
        changes = ops.set_coordinator_scopes(user, rcp_ids, establishment_ids)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    if not changes:
        click.echo(f"Périmètre de « {user.username} » inchangé.")
        return
    summary = ops.scope_summaries([user])[user.id]
    click.echo(
        f"Périmètre de « {user.username} » enregistré : "
        + ("; ".join(summary) if summary else "aucun (ce compte ne voit plus aucun dossier)")
        + "."
    )
