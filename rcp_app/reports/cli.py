"""``flask --app wsgi rcp indicators``: the indicators of a period written to a file, for
scheduled exports (the quarterly figures for the ARS, a nightly JSON for a data warehouse).

The command line runs on the server, as its operator: it sees every RCP (no user, no care
team), like the other ``rcp`` commands.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..core.dates import parse_date
from . import exports, indicators
from . import scope as scopes
from .period import Period

FORMATS = ("csv", "xlsx", "json")


def _date(_ctx, param, value) -> date:
    label = "La date de début" if param.name == "start" else "La date de fin"
    try:
        parsed = parse_date(value, label)
    except ValueError as problem:
        raise click.BadParameter(str(problem)) from None
    if parsed is None:
        raise click.BadParameter(f"{label} est obligatoire (AAAA-MM-JJ ou JJ/MM/AAAA).")
    return parsed


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def report_json(report) -> bytes:
    """The whole report (figures with their definitions, tables) as UTF-8 JSON."""
    data = dataclasses.asdict(report)
    data["period"]["label"] = report.period.label
    data["previous_period"]["label"] = report.previous_period.label
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_default).encode()


def report_csv(report) -> bytes:
    """The figures, then each table under its title, in one `;` CSV (UTF-8 with BOM)."""
    bom = "\ufeff".encode()
    parts = [exports.figures_csv(report)]
    for table in report.tables():
        title = exports.cases_csv([table.title], []).removeprefix(bom)
        parts.append(b"\r\n" + title + exports.table_csv(table, report).removeprefix(bom))
    return b"".join(parts)


@click.command("indicators")
@with_appcontext
@click.option("--from", "start", required=True, callback=_date, help="Premier jour (AAAA-MM-JJ).")
@click.option("--to", "end", required=True, callback=_date, help="Dernier jour (AAAA-MM-JJ).")
@click.option(
    "--rcp", "rcp_ids", type=int, multiple=True, help="Identifiant d'une RCP (répétable)."
)
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="csv", show_default=True
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Fichier à écrire (« - » : la sortie standard).",
)
def indicators_command(start, end, rcp_ids, output_format, out) -> None:
    """Write the activity and quality indicators of a period (every RCP, or those named)."""
    try:
        period = Period.custom(start, end)
    except ValueError as problem:
        raise click.BadParameter(str(problem), param_hint="--from/--to") from None
    rcps = scopes.visible_rcps(None)
    known = {rcp.id for rcp in rcps}
    unknown = sorted(set(rcp_ids) - known)
    if unknown:
        raise click.BadParameter(
            "RCP inconnue : " + ", ".join(map(str, unknown)), param_hint="--rcp"
        )
    chosen = [rcp for rcp in rcps if not rcp_ids or rcp.id in rcp_ids]
    scope = scopes.Scope(
        tuple(rcp.id for rcp in chosen),
        tuple(rcp.name for rcp in chosen),
        (("RCP", ", ".join(rcp.name for rcp in chosen)),) if rcp_ids else (),
    )
    report = indicators.compute_report(period, scope)
    body = {"csv": report_csv, "xlsx": exports.workbook, "json": report_json}[output_format](report)
    if str(out) == "-":
        click.get_binary_stream("stdout").write(body)
        return
    out.write_bytes(body)
    click.echo(
        f"Indicateurs {period.label} ({len(chosen)} RCP) écrits dans {out} ({len(body)} octets)."
    )
