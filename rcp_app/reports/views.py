"""The « Statistiques » pages: indicators, their exports, the cases behind a figure and the
annual report. Thin: the period and the scope come from the query string (period.py, scope.py),
the figures from indicators.py, the renderings from charts.py, exports.py and annual.py."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_login import current_user

from ..access.guards import allowed
from ..core import audit
from ..core.dates import today
from ..core.pagination import parse_page
from ..core.patient_data import no_patient_data, patient_ids, shows_patient_data
from . import charts, drill, exports, indicators
from . import period as periods
from . import scope as scopes
from .annual import annual_report_pdf

bp = Blueprint("reports", __name__, url_prefix="/statistiques")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _named(argument: str, known) -> str:
    """The table or population the query string names (a closed list); 404 otherwise."""
    key = str(request.args.get(argument) or "")
    if key not in known:
        abort(404)
    return key


def _selection():
    """(period, scope, offered choices, error) from the query string; the user's RCPs only.

    A period or a filter that cannot be read gives the default period and every RCP, with the
    French message shown above the page (the user sees what was kept)."""
    rcps = scopes.visible_rcps(current_user)
    if rcps is None:
        abort(403)
    offered = scopes.choices(rcps)
    error = None
    try:
        period = periods.from_args(request.args)
    except ValueError as problem:
        period, error = periods.from_args({}), str(problem)
    try:
        scope = scopes.from_args(request.args, rcps, offered)
    except ValueError as problem:
        scope, error = scopes.from_args({}, rcps, offered), str(problem)
    return period, scope, offered, error


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _args(period, scope, **extra) -> dict:
    return {**period.as_args(), **scope.args, **extra}


def _stem(period) -> str:
    return "indicateurs-rcp-" + "-".join(period.as_args().values()).replace("personnalisee-", "")


@bp.route("")
@no_patient_data
@allowed("statistics")
def page():
    period, scope, offered, error = _selection()
    report = indicators.compute_report(period, scope)
    drawn = {
        table.key: charts.data_uri(svg)
        for table in report.tables()
        if (svg := charts.svg(table)) is not None
    }
    return render_template(
        "reports/page.html",
        report=report,
        charts=drawn,
        offered=offered,
        selected=_args(period, scope),
        args=_args(period, scope),
        error=error,
        kinds=periods.KINDS,
        months=periods.MONTHS,
        natures=scopes.NATURES,
        years=range(today().year, today().year - 10, -1),
        drill_titles=drill.TITLES,
    )


def _refused(message: str):
    return render_template("reports/error.html", message=message), 400


def _selection_or_refusal():
    """For the downloads: a period or a filter that cannot be read is refused (400), not
    silently replaced as on the page."""
    period, scope, _offered, error = _selection()
    return period, scope, (_refused(error) if error else None)


@bp.route("/indicateurs.csv")
@no_patient_data
@allowed("statistics")
def figures_csv():
    period, scope, refusal = _selection_or_refusal()
    if refusal:
        return refusal
    report = indicators.compute_report(period, scope)
    return _download(exports.figures_csv(report), "text/csv", _stem(period) + ".csv")


@bp.route("/tableau.csv")
@no_patient_data
@allowed("statistics")
def table_csv():
    key = _named("tableau", indicators.TABLE_KEYS)
    period, scope, refusal = _selection_or_refusal()
    if refusal:
        return refusal
    report = indicators.compute_report(period, scope)
    table = report.table(key)
    name = f"{_stem(period)}-{key.replace('.', '-').replace('_', '-')}.csv"
    return _download(exports.table_csv(table, report), "text/csv", name)


@bp.route("/indicateurs.xlsx")
@no_patient_data
@allowed("statistics")
def workbook():
    period, scope, refusal = _selection_or_refusal()
    if refusal:
        return refusal
    report = indicators.compute_report(period, scope)
    return _download(exports.workbook(report), XLSX, _stem(period) + ".xlsx")


@bp.route("/rapport-annuel.pdf")
@no_patient_data
@allowed("statistics")
def annual_report():
    rcps = scopes.visible_rcps(current_user)
    if rcps is None:
        abort(403)
    offered = scopes.choices(rcps)
    try:
        period = periods.from_args({"periode": "annee", "annee": request.args.get("annee")})
        scope = scopes.from_args(request.args, rcps, offered)
    except ValueError as problem:
        return _refused(str(problem))
    report = indicators.compute_report(period, scope)
    title = f"Rapport annuel d'activité des RCP — {period.start.year}"
    body = annual_report_pdf(report, title)
    return _download(body, "application/pdf", f"rapport-annuel-rcp-{period.start.year}.pdf")


def _named_lines(key, period, scope, *, limit, offset=0):
    found = drill.lines(key, period, scope, limit=limit, offset=offset)
    named = drill.name_patients(current_user, found)
    audit.record(
        "reports.cases",
        details={
            "population": key,
            "period": period.label,
            "patients": patient_ids(line.patient_id for line in named),
            "identified": patient_ids(line.patient_id for line in named if line.identified),
        },
    )
    return named


@bp.route("/dossiers")
@shows_patient_data
@allowed("statistics")
def cases():
    key = _named("population", drill.TITLES)
    period, scope, _offered, error = _selection()
    total = drill.count(key, period, scope)
    page_number = min(parse_page(request.args.get("page")), max(1, -(-total // drill.PER_PAGE)))
    named = _named_lines(
        key, period, scope, limit=drill.PER_PAGE, offset=(page_number - 1) * drill.PER_PAGE
    )
    return render_template(
        "reports/cases.html",
        key=key,
        title=drill.TITLES[key],
        lines=named,
        total=total,
        page=page_number,
        pages=max(1, -(-total // drill.PER_PAGE)),
        period=period,
        scope=scope,
        args=_args(period, scope),
        error=error,
        columns=drill.COLUMNS,
        back=url_for("reports.page", **_args(period, scope)),
    )


def _export(key: str, render):
    period, scope, refusal = _selection_or_refusal()
    if refusal:
        return refusal
    named = _named_lines(key, period, scope, limit=drill.EXPORT_LIMIT)
    return render(period, [drill.row(line) for line in named])


@bp.route("/dossiers.csv")
@shows_patient_data
@allowed("statistics")
def cases_csv():
    key = _named("population", drill.TITLES)
    return _export(
        key,
        lambda period, rows: _download(
            exports.cases_csv(list(drill.COLUMNS), rows),
            "text/csv",
            f"dossiers-{key.replace('_', '-')}-{_stem(period)}.csv",
        ),
    )


@bp.route("/dossiers.xlsx")
@shows_patient_data
@allowed("statistics")
def cases_xlsx():
    key = _named("population", drill.TITLES)
    return _export(
        key,
        lambda period, rows: _download(
            exports.cases_workbook(list(drill.COLUMNS), rows, drill.TITLES[key]),
            XLSX,
            f"dossiers-{key.replace('_', '-')}-{_stem(period)}.xlsx",
        ),
    )
