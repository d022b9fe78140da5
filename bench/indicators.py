"""Statistics benchmark: five years of activity of 40 RCPs (200,000 cases), time the
« Statistiques » page and the annual report PDF.

    .venv/bin/python -m bench.indicators [SERVER_URL] [--explain] [--keep] [--scale 0.05]
    .venv/bin/python -m bench.indicators --sqlite
    .venv/bin/python -m bench.indicators --reuse DATABASE_URL   # a kept database

Fills a throw-away database (bench.indicators_data), then, through the Flask test client and
logged in by the login form: the page for the last complete year as a coordinator of the 40
RCPs and as the coordinating physician of 2 RCPs, a quarter of one RCP, and the annual report
PDF. See bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask_migrate import upgrade
from sqlalchemy import event, func, select

from rcp_app.auth.models import User
from rcp_app.core.timeutil import utcnow
from rcp_app.directory.models import Rcp
from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin

from . import case_registration as base
from . import indicators_data as data
from . import measure, seed

PAGE_TARGET_MS = 300.0
PDF_TARGET_MS = 5000.0
PAGE = "/statistiques"
PDF = "/statistiques/rapport-annuel.pdf"
MISSING = 2  # exit code: the page is not there yet, nothing was measured


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "server",
        nargs="?",
        default=os.environ.get("RCP_BENCH_DATABASE_URL", base.DEFAULT_SERVER),
        help="serveur PostgreSQL (URL SQLAlchemy ; une base rcp_bench_… y est créée)",
    )
    parser.add_argument("--sqlite", action="store_true", help="base SQLite temporaire")
    parser.add_argument("--reuse", metavar="URL", help="base déjà remplie (--keep) : mesurer")
    parser.add_argument("--scale", type=float, help="part des 200 000 dossiers (1 ; SQLite : 0,1)")
    parser.add_argument("--requests", type=int, default=50, help="requêtes mesurées par scénario")
    parser.add_argument("--warmup", type=int, default=5, help="requêtes d'échauffement")
    parser.add_argument("--pdf-runs", type=int, default=3, help="rendus mesurés du rapport PDF")
    parser.add_argument(
        "--icu-locale", default="fr-FR", help="collation ICU de la base créée ('' = du serveur)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE des requêtes les plus lentes"
    )
    parser.add_argument("--explain-top", type=int, default=5, help="combien de requêtes expliquer")
    parser.add_argument("--keep", action="store_true", help="ne pas supprimer la base")
    args = parser.parse_args(argv)
    args.scale = args.scale or (0.1 if args.sqlite else 1.0)
    return args


@dataclass
class Accounts:
    coordinator: str
    physician: str
    physician_rcps: int
    year: int


# --- filling ----------------------------------------------------------------------------------


def prepare(app, args) -> Accounts:
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        added = load_builtin()
        db.session.commit()
        print(
            f"Migrations et terminologies ({added} concepts) : "
            f"{time.perf_counter() - started:.1f} s"
        )
        if args.reuse:
            seed.analyze()
            return _kept_accounts()
        cases = round(data.FULL_CASES * args.scale)
        print(f"Remplissage : {data.YEARS} ans d'activité, 40 RCP, {cases} dossiers")
        filled = data.fill(cases)
        print(f"Remplissage terminé en {filled.seconds:.1f} s")
        return Accounts(filled.coordinator, filled.physician, filled.physician_rcps, filled.year)


def _kept_accounts() -> Accounts:
    """The accounts bench.indicators_data created, read back from a kept database."""
    physician, rcps = db.session.execute(
        select(User.username, func.count(Rcp.id))
        .join(Rcp, Rcp.coordinator_id == User.professional_id)
        .where(User.role == "physician")
        .group_by(User.id, User.username)
        .order_by(func.count(Rcp.id).desc(), User.id)
        .limit(1)
    ).one()
    return Accounts(data.STATISTICS_USERNAME, physician, rcps, utcnow().year - 1)


def print_counts(app) -> None:
    with app.app_context(), db.engine.connect() as conn:
        counts = [
            (model.__tablename__, conn.scalar(select(func.count()).select_from(model.__table__)))
            for model in data.WRITTEN
        ]
    print("Lignes par table :")
    for name, count in counts:
        print(f"  {name:<18} {count:>9,}".replace(",", " "))


def print_headline(app, year: int) -> None:
    """A few figures of the year, computed by rcp_app.reports without HTTP: the data look
    like an activity (or not)."""
    try:
        from rcp_app.reports import indicators, period, scope
    except ImportError as missing:
        print(f"Indicateurs non calculés ({missing}).")
        return
    keys = (
        "activity.sessions_held", "activity.sessions_not_held", "activity.cases_presented",
        "activity.patients", "quality.quorum_sessions", "quality.postponements",
        "quality.refusals", "quality.late", "has.level1", "has.level2", "dcc.fiches",
        "dcc.amended", "dcc.failed", "delays.session_to_signature.median",
    )  # fmt: skip
    with app.app_context():
        rcps = scope.visible_rcps(None)
        chosen = scope.from_args({}, rcps, scope.choices(rcps))
        report = indicators.compute_report(period.Period.year(year), chosen)
        shown = []
        for key in keys:
            try:
                figure = report.figure(key)
            except StopIteration:
                continue
            shown.append(f"{figure.label} {figure.value}{figure.unit and ' ' + figure.unit}")
        db.session.remove()
    print(f"Indicateurs {year}, 40 RCP : " + " ; ".join(shown))


# --- measuring --------------------------------------------------------------------------------


def page_missing(app, accounts: Accounts) -> bool:
    client = measure.login(app, accounts.coordinator)
    response = client.get(PAGE, query_string={"periode": "annee", "annee": str(accounts.year)})
    if response.status_code == 404:
        return True
    if response.status_code != 200:
        raise SystemExit(f"{PAGE} -> {response.status_code} : {response.get_data(as_text=True)}")
    return False


def scenarios(app, accounts: Accounts, count: int, pdf_runs: int, seed_value: int = 14):
    rng = random.Random(seed_value)
    with app.app_context():
        rcps = db.session.scalars(select(Rcp.id).order_by(Rcp.id)).all()
    coordinator = measure.login(app, accounts.coordinator)
    physician = measure.login(app, accounts.physician)
    year = {"periode": "annee", "annee": str(accounts.year)}

    def quarter() -> dict:
        return {
            "periode": "trimestre",
            "annee": str(accounts.year),
            "trimestre": str(rng.randint(1, 4)),
            "rcp": str(rng.choice(rcps)),
        }

    return [
        measure.Scenario(
            "annee", "Une année, les 40 RCP (coordination 3C)", [(coordinator, PAGE, year)] * count
        ),
        measure.Scenario(
            "medecin",
            f"Une année, médecin coordonnateur de {accounts.physician_rcps} RCP",
            [(physician, PAGE, year)] * count,
        ),
        measure.Scenario(
            "trim",
            "Un trimestre, une RCP tirée au sort (coordination 3C)",
            [(coordinator, PAGE, quarter()) for _ in range(count)],
        ),
        measure.Scenario(
            "pdf",
            "Rapport annuel PDF, les 40 RCP (coordination 3C)",
            [(coordinator, PDF, {"annee": str(accounts.year)})] * pdf_runs,
        ),
    ]


HEADER = (
    f"{'':<7} {'':>7} {'ms':>7} {'':>7} | {'médianes (ms)':>13} | SQL\n"
    f"{'':<7} {'p50':>7} {'p95':>7} {'max':>7} | {'CPU':>6} {'SQL':>6} | req."
)


def target_ms(result: measure.Result) -> float:
    return PDF_TARGET_MS if result.scenario.key == "pdf" else PAGE_TARGET_MS


def judged_ms(result: measure.Result) -> float:
    """The page is judged on its 95th percentile, the report on its slowest run."""
    return 1000 * max(result.seconds) if result.scenario.key == "pdf" else result.p95


def report_line(result: measure.Result) -> None:
    queries = sorted(set(result.queries))
    shown = str(queries[0]) if len(queries) == 1 else f"{queries[0]}–{queries[-1]}"
    verdict = "ok" if judged_ms(result) <= target_ms(result) else "AU-DESSUS"
    print(
        f"{result.scenario.key:<7} {result.p50:7.1f} {result.p95:7.1f} "
        f"{1000 * max(result.seconds):7.1f} | {1000 * statistics.median(result.cpu_seconds):6.1f} "
        f"{1000 * statistics.median(result.sql_seconds):6.1f} | {shown:>4}  {verdict:<9} "
        f"{result.scenario.label}",
        flush=True,
    )


def measure_all(app, args, accounts: Accounts) -> list[measure.Result]:
    instruments = measure.Instruments(app)
    results = []
    with instruments.installed():
        for scenario in scenarios(app, accounts, args.requests, args.pdf_runs):
            warmup = 1 if scenario.key == "pdf" else args.warmup
            result = measure.run(instruments, measure.with_warmup(scenario, warmup), warmup)
            report_line(result)
            results.append(result)
    return results


# --- EXPLAIN of the slowest statements ----------------------------------------------------------


@contextmanager
def timed_statements(app):
    """(seconds, statement, parameters) of every statement run inside the block."""
    timings: list[tuple[float, str, object]] = []
    with app.app_context():
        engine = db.engine

    def before(_conn, _cursor, _statement, _parameters, context, _many):
        context._bench_explain_started = time.perf_counter()

    def after(_conn, _cursor, statement, parameters, context, _many):
        elapsed = time.perf_counter() - context._bench_explain_started
        timings.append((elapsed, statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield timings
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def explain_slowest(app, accounts: Accounts, top: int) -> list[str]:
    client = measure.login(app, accounts.coordinator)
    with timed_statements(app) as timings:
        client.get(PAGE, query_string={"periode": "annee", "annee": str(accounts.year)})
    slowest = sorted(timings, key=lambda timing: timing[0], reverse=True)[:top]
    lines = [f"{len(timings)} requêtes SQL ; les {len(slowest)} plus lentes :"]
    with app.app_context(), db.engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
        for seconds, statement, parameters in slowest:
            flat = " ".join(statement.split())
            lines.append(f"  » {1000 * seconds:.1f} ms dans la page : {flat[:200]} …")
            for row in conn.exec_driver_sql(prefix + statement, parameters).all():
                lines.append("      " + (row[0] if postgres else str(row[-1])))
        conn.rollback()
    return lines


# --- main ---------------------------------------------------------------------------------------


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def run(args, app) -> list[measure.Result] | None:
    """The results, or None when the page does not exist yet."""
    logging.disable(logging.INFO)  # the migrations' progress lines
    try:
        accounts = prepare(app, args)
    finally:
        logging.disable(logging.NOTSET)
    try:
        print_counts(app)
        print_headline(app, accounts.year)
        if page_missing(app, accounts):
            print(
                f"La page {PAGE} n'existe pas encore (404) : rien n'est mesuré. "
                "Les chiffres du remplissage ci-dessus restent valables."
            )
            return None
        print(
            f"Serveur : {base.server_version(app)} ; année {accounts.year} ; "
            f"{args.requests} requêtes mesurées par scénario après {args.warmup} "
            f"d'échauffement, {args.pdf_runs} rendus du PDF après un ; cibles : page p95 ≤ "
            f"{PAGE_TARGET_MS:.0f} ms, PDF ≤ {PDF_TARGET_MS / 1000:.0f} s (rendu le plus lent)"
        )
        print(f"Charge de la machine avant mesure (load average 1/5/15 min) : {_load()}")
        print(HEADER)
        results = measure_all(app, args, accounts)
        print(
            f"Requêtes SQL émises par la page (année, 40 RCP) : {len(results[0].sample.statements)}"
        )
        if args.explain:
            print("\nEXPLAIN — page d'une année, 40 RCP")
            print("\n".join(explain_slowest(app, accounts, args.explain_top)))
        return results
    finally:
        with app.app_context():
            db.engine.dispose()  # before the database is dropped


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(
        f"Banc d'essai « statistiques » — {datetime.now():%d/%m/%Y %H:%M}, "
        f"{platform.node()}, {os.cpu_count()} cœurs, Python {platform.python_version()}"
    )
    with (
        tempfile.TemporaryDirectory(prefix="rcp-bench-files-") as attachments,
        base.throwaway_database(args) as (url, description),
    ):
        print(f"Base : {description}")
        results = run(args, base.make_app(url, attachments))
    if results is None:
        return MISSING
    print(f"Charge de la machine (load average 1/5/15 min) : {_load()}")
    missed = [r.scenario.key for r in results if judged_ms(r) > target_ms(r)]
    print(
        f"Cibles atteintes pour les {len(results)} scénarios."
        if not missed
        else f"Cible manquée : {missed}"
    )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
