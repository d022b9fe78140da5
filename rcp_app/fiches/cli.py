"""``flask --app wsgi rcp verify`` and ``rcp export-fiches``."""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from ..core import audit
from ..core.timeutil import format_datetime
from ..extensions import db
from .models import DocumentAltered, FicheVersion
from .operations import load_document
from .verification import verify_document


@click.command("verify")
@with_appcontext
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify_command(pdf: Path) -> None:
    """Check a fiche PDF; exit 0 only for an authentic, unmodified, current version."""
    verdict = verify_document(pdf.read_bytes())
    if verdict.ok:
        click.echo("AUTHENTIQUE — version en vigueur.")
    elif verdict.authentic:
        click.echo("AUTHENTIQUE mais REMPLACÉE par une version plus récente.")
    else:
        click.echo("NON AUTHENTIFIÉE.")
    if verdict.version is not None:
        click.echo(f"Version : {verdict.version} (en vigueur : {verdict.current_version})")
        click.echo(f"Validée le {format_datetime(verdict.validated_at)} par {verdict.validated_by}")
    if verdict.signer:
        signed = f", le {format_datetime(verdict.signed_at)}" if verdict.signed_at else ""
        click.echo(f"Signée par : {verdict.signer}{signed}")
    for problem in verdict.problems:
        click.echo(f"- {problem}")
    if not verdict.ok:
        sys.exit(1)


def _since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time())
    except ValueError as error:
        raise click.BadParameter(
            "date attendue au format AAAA-MM-JJ", param_hint="--since"
        ) from error


@click.command("export-fiches")
@with_appcontext
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--since", "since", default=None, help="Versions validées depuis ce jour (AAAA-MM-JJ)."
)
def export_command(out: Path, since: str | None) -> None:
    """Write every signed fiche version as <fiche id>-v<version>.pdf and .cda.xml."""
    start = _since(since)
    out.mkdir(parents=True, exist_ok=True)
    stmt = (
        select(FicheVersion)
        .options(joinedload(FicheVersion.fiche), selectinload(FicheVersion.documents))
        .order_by(FicheVersion.validated_at, FicheVersion.id)
    )
    if start is not None:
        stmt = stmt.where(FicheVersion.validated_at >= start)
    count = 0
    altered = []
    for version in db.session.scalars(stmt):
        stem = f"{version.fiche.set_id}-v{version.version}"
        try:
            documents = {kind: load_document(version, kind).content for kind in ("pdf", "cda")}
        except DocumentAltered:
            altered.append(stem)  # never exported: the bytes are not what was signed
            continue
        (out / (stem + ".pdf")).write_bytes(documents["pdf"])
        (out / (stem + ".cda.xml")).write_bytes(documents["cda"])
        count += 1
    audit.record(
        "fiche.export",
        None,
        None,
        details={
            "versions": count,
            "since": since,
            "directory": str(out),
            "altered": altered,
        },
    )
    db.session.commit()
    click.echo(f"{count} version(s) de fiche exportée(s) dans {out}.")
    if altered:
        click.echo(
            "Non exportées, leur contenu ne correspond plus à l'empreinte enregistrée : "
            + ", ".join(altered),
            err=True,
        )
        sys.exit(1)
