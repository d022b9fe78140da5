"""``flask --app wsgi rcp …`` commands.

Part of the application's assembly, with ``create_app``: it gathers every feature's commands,
so no package imports it (tests/test_architecture.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from .admin.cli import coordinator_scope_command
from .admin.operations import create_user
from .api.cli import api_cli
from .core import audit, audit_anchor
from .core.errors import DomainError
from .delivery.cli import deliver_command, receipts_cli
from .demo.loader import DEMO_PASSWORD, database_is_empty, demo_accounts, load_demo
from .extensions import db
from .fiches.cli import export_command, verify_command
from .fiches.signature.seal import ensure_test_pki, sealer, trust_roots
from .followups.cli import followups_cli
from .hl7.cli import hl7_cli
from .reports.cli import indicators_command
from .terminology.builtin import load_builtin
from .terminology.cli import terminology_cli

rcp_cli = AppGroup("rcp", help="Commandes d'exploitation de l'application RCP.")


@rcp_cli.command("setup")
@click.option(
    "--demo/--no-demo",
    default=True,
    help="Charger les données de démonstration si la base est vide.",
)
def setup_command(demo: bool) -> None:
    """Apply migrations, load built-in value sets and, if the database is empty, demo data."""
    _check_database_reachable()
    upgrade()
    ensure_test_pki(current_app)
    added = load_builtin()
    db.session.commit()
    if added:
        click.echo(f"Terminologies intégrées : {added} concepts ajoutés.")
    if demo and database_is_empty():
        counts = load_demo()
        db.session.commit()
        click.echo(
            "Données de démonstration chargées : "
            + ", ".join(f"{v} {k}" for k, v in counts.items())
        )
    if demo:
        click.echo(f"\nComptes de démonstration (mot de passe commun : {DEMO_PASSWORD}) :")
        for username, role_label, name in demo_accounts():
            click.echo(f"  {username:<14} {role_label:<40} {name}")


def _check_database_reachable() -> None:
    """One French line instead of a traceback when the database is missing or unreachable."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except DBAPIError as error:
        url = db.session.get_bind().engine.url.render_as_string(hide_password=True)
        cause = str(getattr(error, "orig", error)).strip().splitlines()[0]
        _fail(
            f"Base de données injoignable ({url}) : {cause}. Créez-la et donnez-en l'accès "
            "(README, « PostgreSQL »), ou corrigez RCP_DATABASE_URL."
        )


@rcp_cli.command("audit-verify")
@click.option(
    "--checkpoint",
    "checkpoint_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Point d'ancrage scellé à confronter (défaut : le plus récent de "
    "RCP_AUDIT_CHECKPOINT_DIR).",
)
def audit_verify_command(checkpoint_path: Path | None) -> None:
    """Check the keyed chain, then the latest sealed checkpoint; exit 1 on any alteration."""
    report = audit.verify_chain()
    if not report.ok:
        _fail(
            f"Journal d'audit ALTÉRÉ à l'entrée n° {report.broken_at} : {report.reason} "
            f"({report.checked} entrées intègres avant elle)."
        )
    plural = "s" if report.checked > 1 else ""
    click.echo(f"Journal d'audit intègre : {report.checked} entrée{plural} vérifiée{plural}.")
    path = checkpoint_path or audit_anchor.latest_checkpoint()
    if path is None:
        click.echo(
            "Aucun point d'ancrage : la suppression des dernières entrées ne peut pas être "
            "détectée (flask rcp audit-checkpoint)."
        )
        return
    try:
        checkpoint = audit_anchor.read_checkpoint(path, trust_roots)
    except audit_anchor.CheckpointError as exc:
        _fail(f"Journal d'audit NON VÉRIFIABLE : {exc}")
    problem = audit_anchor.verify_against(checkpoint)
    if problem:
        _fail(f"Journal d'audit ALTÉRÉ : {problem}.")
    click.echo(
        f"Conforme au point d'ancrage scellé du {checkpoint.at} (entrée n° {checkpoint.seq})."
    )


def _fail(message: str):
    click.echo(message, err=True)
    sys.exit(1)


@rcp_cli.command("audit-checkpoint")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help="Dossier des points d'ancrage (défaut : RCP_AUDIT_CHECKPOINT_DIR).",
)
def audit_checkpoint_command(directory: Path | None) -> None:
    """Seal the chain head into the checkpoint folder (to back up apart from the database)."""
    try:
        checkpoint = audit_anchor.write_checkpoint(sealer, directory)
    except audit_anchor.CheckpointError as exc:
        _fail(str(exc))
    if checkpoint is None:
        click.echo("Journal d'audit vide : aucun point d'ancrage à sceller.")
        return
    click.echo(f"Point d'ancrage scellé : entrée n° {checkpoint.seq} → {checkpoint.path}")


@rcp_cli.command("create-admin")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.password_option()
def create_admin_command(username: str, email: str, display_name: str, password: str) -> None:
    """Create an administrator account (first installation)."""
    try:
        create_user(
            username=username,
            email=email,
            display_name=display_name,
            role="admin",
            professional_id=None,
            active=True,
            password=password,
            confirm=password,
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    db.session.commit()
    click.echo(f"Administrateur « {username} » créé.")


def register_cli(app: Flask) -> None:
    rcp_cli.add_command(terminology_cli)
    rcp_cli.add_command(verify_command)
    rcp_cli.add_command(export_command)
    rcp_cli.add_command(deliver_command)
    rcp_cli.add_command(receipts_cli)
    rcp_cli.add_command(coordinator_scope_command)
    rcp_cli.add_command(indicators_command)
    rcp_cli.add_command(api_cli)
    rcp_cli.add_command(hl7_cli)
    rcp_cli.add_command(followups_cli)
    app.cli.add_command(rcp_cli)
