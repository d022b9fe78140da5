"""``flask --app wsgi rcp …`` commands."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from ..extensions import db
from . import audit

rcp_cli = AppGroup("rcp", help="Commandes d'exploitation de l'application RCP.")


@rcp_cli.command("setup")
@click.option(
    "--demo/--no-demo",
    default=True,
    help="Charger les données de démonstration si la base est vide.",
)
def setup_command(demo: bool) -> None:
    """Apply migrations, load built-in value sets and, if the database is empty, demo data."""
    from ..demo.loader import DEMO_PASSWORD, database_is_empty, demo_accounts, load_demo
    from ..fiches.seal import ensure_test_pki
    from ..terminology.builtin import load_builtin

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


@rcp_cli.command("audit-verify")
def audit_verify_command() -> None:
    """Check the audit log's hash chain; exit 1 at the first broken row."""
    report = audit.verify_chain()
    if report.ok:
        plural = "s" if report.checked > 1 else ""
        click.echo(f"Journal d'audit intègre : {report.checked} entrée{plural} vérifiée{plural}.")
        return
    click.echo(
        f"Journal d'audit ALTÉRÉ à l'entrée n° {report.broken_at} : {report.reason} "
        f"({report.checked} entrées intègres avant elle).",
        err=True,
    )
    sys.exit(1)


@rcp_cli.command("create-admin")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True)
@click.password_option()
def create_admin_command(username: str, email: str, display_name: str, password: str) -> None:
    """Create an administrator account (first installation)."""
    from ..admin.operations import create_user
    from ..core.errors import DomainError

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
    from ..delivery.cli import deliver_command, receipts_cli
    from ..fiches.cli import export_command, verify_command
    from ..terminology.cli import terminology_cli

    rcp_cli.add_command(terminology_cli)
    rcp_cli.add_command(verify_command)
    rcp_cli.add_command(export_command)
    rcp_cli.add_command(deliver_command)
    rcp_cli.add_command(receipts_cli)
    app.cli.add_command(rcp_cli)
