"""Case registration benchmark: seed 100,000 patients and 200,000 cases, time the patient
searches and case lists as physicians with a realistic care team and a secretariat running 2 of
the 40 RCPs.

    .venv/bin/python -m bench.case_registration [SERVER_URL] [--explain] [--keep]
    .venv/bin/python -m bench.case_registration --sqlite
    .venv/bin/python -m bench.case_registration --reuse DATABASE_URL   # a kept database

See bench/README.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from rcp_app import create_app
from rcp_app.access import care_team
from rcp_app.auth.models import User
from rcp_app.extensions import db
from rcp_app.terminology.builtin import load_builtin

from . import measure, seed
from .explain import explain

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_MS = 30.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "server",
        nargs="?",
        default=os.environ.get("RCP_BENCH_DATABASE_URL", DEFAULT_SERVER),
        help="serveur PostgreSQL (URL SQLAlchemy ; une base rcp_bench_… y est créée)",
    )
    parser.add_argument("--sqlite", action="store_true", help="base SQLite temporaire")
    parser.add_argument("--reuse", metavar="URL", help="base déjà remplie (--keep) : mesurer")
    parser.add_argument("--patients", type=int, help="100 000 (SQLite : 10 000)")
    parser.add_argument("--cases", type=int, help="200 000 (SQLite : 20 000)")
    parser.add_argument("--requests", type=int, default=200, help="requêtes mesurées par scénario")
    parser.add_argument("--warmup", type=int, default=20, help="requêtes d'échauffement")
    parser.add_argument(
        "--icu-locale",
        default="fr-FR",
        help="collation ICU de la base créée (défaut fr-FR, comme un serveur français) ; "
        "'' = celle du serveur",
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE des requêtes")
    parser.add_argument("--keep", action="store_true", help="ne pas supprimer la base")
    args = parser.parse_args(argv)
    small = args.sqlite
    args.patients = args.patients or (10_000 if small else 100_000)
    args.cases = args.cases or (20_000 if small else 200_000)
    return args


def _admin_dsn(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def throwaway_database(args):
    """Yield (database URL, description); drop the database at the end unless --keep."""
    if args.reuse:
        yield args.reuse, "base réutilisée"
        return
    if args.sqlite:
        folder = Path(tempfile.mkdtemp(prefix="rcp-bench-"))
        path = folder / "bench.sqlite3"
        yield f"sqlite:///{path}", f"SQLite {path}"
        if args.keep:
            print(f"Base conservée : sqlite:///{path}")
        else:
            for file in folder.iterdir():
                file.unlink()
            folder.rmdir()
        return
    server = make_url(args.server)
    name = f"rcp_bench_{uuid.uuid4().hex[:10]}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if args.icu_locale:
        create += sql.SQL(" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE {}").format(
            sql.Literal(args.icu_locale)
        )
    with psycopg.connect(_admin_dsn(server), autocommit=True) as conn:
        conn.execute(create)
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        yield url, f"PostgreSQL {name} (collation {args.icu_locale or 'du serveur'})"
    finally:
        if args.keep:
            print(f"Base conservée : {url}")
        else:
            with psycopg.connect(_admin_dsn(server), autocommit=True) as conn:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                conn.execute(drop.format(sql.Identifier(name)))


def make_app(url: str, attachments: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            # Only what the benchmark sets: the caller's RCP_* environment does not leak in.
            "ENV_VARS": {
                "RCP_SECRET_KEY": "bench-secret-key-not-for-production",
                "RCP_AUDIT_KEY": "bench-audit-key",
            },
            "RCP_ATTACHMENTS_DIR": attachments,
        }
    )


def prepare(app, args) -> None:
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
            return
        print(f"Remplissage : {args.patients} patients, {args.cases} dossiers")
        seeded = seed.seed(args.patients, args.cases)
        print(
            f"Remplissage terminé en {seeded.seconds:.1f} s : "
            + ", ".join(f"{v} {k}" for k, v in seeded.counts.items())
        )


def server_version(app) -> str:
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            return conn.exec_driver_sql("SHOW server_version").scalar()
        return "SQLite " + conn.exec_driver_sql("SELECT sqlite_version()").scalar()


def report_line(result: measure.Result) -> None:
    queries = sorted(set(result.queries))
    shown = str(queries[0]) if len(queries) == 1 else f"{queries[0]}–{queries[-1]}"

    def median_ms(values) -> str:
        return f"{1000 * statistics.median(values):5.1f}"

    verdict = "ok" if result.p95 <= TARGET_MS else "AU-DESSUS"
    print(
        f"{result.scenario.key:<5} {result.p50:6.1f} {result.p95:6.1f} "
        f"{1000 * max(result.seconds):6.1f} | {median_ms(result.cpu_seconds)} "
        f"{median_ms(result.sql_seconds)} {median_ms(result.audit_seconds)} | {shown:>5} "
        f"{_found(result.totals):>11}  {verdict:<9} {result.scenario.label}",
        flush=True,
    )


HEADER = (
    "                 ms     |  médianes (ms)    | SQL  lignes trouvées\n"
    "      p50    p95    max |   CPU   SQL audit | req. (médiane, % > plafond)"
)


def _found(totals: list[tuple[int, bool]]) -> str:
    """Median number of matching rows; '>1000 (37 %)' when most lists were not counted to
    the end (core.pagination.COUNT_LIMIT)."""
    inexact = sum(1 for _, exact in totals if not exact)
    median = statistics.median(total for total, _ in totals)
    if not inexact:
        return f"{median:.0f}"
    return (
        f"{'>' if inexact * 2 > len(totals) else ''}{median:.0f} ({100 * inexact // len(totals)} %)"
    )


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def print_care_teams(app) -> None:
    """How many patients each measured account may open (rcp_app.access.care_team)."""
    with app.app_context():
        users = db.session.scalars(
            select(User).where(User.role.in_(("physician", "coordinator"))).order_by(User.id)
        ).all()
        sizes = []
        for user in users[:9]:  # the 8 physicians, then the measured secretariat
            ids = care_team.clinical_patient_ids(user).subquery()  # may repeat a patient
            distinct = select(func.count(func.distinct(ids.c[0])))
            sizes.append(f"{user.username} {db.session.scalar(distinct)}")
    print("Patients de l'équipe de soins : " + ", ".join(sizes))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(
        f"Banc d'essai « inscription des cas » — {datetime.now():%d/%m/%Y %H:%M}, "
        f"{platform.node()}, {os.cpu_count()} cœurs, Python {platform.python_version()}"
    )
    with (
        tempfile.TemporaryDirectory(prefix="rcp-bench-files-") as attachments,
        throwaway_database(args) as (url, description),
    ):
        print(f"Base : {description}")
        results = run(args, make_app(url, attachments))
    print(f"Charge de la machine (load average 1/5/15 min) : {_load()}")
    missed = [r.scenario.key for r in results if r.p95 > TARGET_MS]
    print(
        f"Cible atteinte pour les {len(results)} scénarios."
        if not missed
        else f"Cible manquée : {missed}"
    )
    return 1 if missed else 0


def run(args, app) -> list[measure.Result]:
    logging.disable(logging.INFO)  # the migrations' progress lines
    try:
        prepare(app, args)
    finally:
        logging.disable(logging.NOTSET)
    print(
        f"Serveur : {server_version(app)} ; {args.requests} requêtes mesurées par "
        f"scénario après {args.warmup} d'échauffement ; cible p95 ≤ {TARGET_MS:.0f} ms"
    )
    print_care_teams(app)
    print(f"Charge de la machine avant mesure (load average 1/5/15 min) : {_load()}")
    print(HEADER)
    try:
        results = measure.measure_all(app, args.requests, args.warmup, report_line)
        if args.explain:
            for result in results:
                print(f"\nEXPLAIN — {result.scenario.label}")
                print("\n".join(explain(app, result.sample)))
    finally:
        with app.app_context():
            db.engine.dispose()  # before the database is dropped
    return results


if __name__ == "__main__":
    sys.exit(main())
