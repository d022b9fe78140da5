"""API benchmark: the fiche list and the case creation of /api/v1 at the 100,000-patient scale.

    .venv/bin/python -m bench.api [SERVER_URL] [--keep] [--explain] [--scale 0.1]
    .venv/bin/python -m bench.api --reuse          # measure the kept rcp_bench_api again

Fills a PostgreSQL database ``rcp_bench_api`` with bench.indicators_data (100,000 patients,
200,000 cases, five years of sessions, ~186,000 signed fiches and their versions and
documents), registers one API client for the establishment with the most fiches, then times:

- ``patient``: GET /api/v1/fiches?patient_id=…&limit=50 (a patient of the establishment who
  has fiches);
- ``month`` and ``year``: GET /api/v1/fiches?since=…&limit=50, a day of the last month (a
  system that synchronises) or of the last year (one that catches up), one time in five
  following ``next`` to page 2 to 4;
- ``create``: POST /api/v1/cases, a draft with a realistic FRCP body (tumour, TNM, markers)
  for an upcoming session of one of the establishment's RCPs.

In this process through the Flask test client (server time, CPU, SQL time, statements), then
over HTTP through gunicorn (``--workers`` sync workers), once per number of ``--callers``
threads calling at once (1, then 2). Targets (issue 15): fiche list p95 ≤ 30 ms, case creation
p95 ≤ 100 ms. See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from psycopg import sql
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from rcp_app.api.models import SCOPES
from rcp_app.api.operations import register_client
from rcp_app.cases.models import Case
from rcp_app.core.timeutil import utcnow
from rcp_app.directory.models import Establishment, Professional, Rcp
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche
from rcp_app.meetings.models import MeetingSession
from rcp_app.staging.biomarkers import BY_CODE
from rcp_app.terminology import builtin as vs
from rcp_app.terminology.builtin import load_builtin
from rcp_app.terminology.models import Concept

from . import case_registration as base
from . import clinical, measure, seed
from . import indicators_data as data
from .directory import RCP_KIND
from .load import gunicorn
from .population import APPAREILS

DATABASE = "rcp_bench_api"
LIST_TARGET_MS = 30.0
CREATE_TARGET_MS = 100.0
PAGE = 50
CLIENT_NAME = "DPI du banc d'essai"
MARKER_PREFIX = "bm_"  # the case form's (and the API's) marker field names


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "server",
        nargs="?",
        default=os.environ.get("RCP_BENCH_DATABASE_URL", base.DEFAULT_SERVER),
        help=f"serveur PostgreSQL (URL SQLAlchemy ; la base {DATABASE} y est créée)",
    )
    parser.add_argument("--reuse", action="store_true", help=f"mesurer la base {DATABASE} gardée")
    parser.add_argument("--keep", action="store_true", help="ne pas supprimer la base à la fin")
    parser.add_argument("--scale", type=float, default=1.0, help="part des 200 000 dossiers")
    parser.add_argument("--requests", type=int, default=200, help="requêtes mesurées par scénario")
    parser.add_argument("--warmup", type=int, default=20, help="requêtes d'échauffement")
    parser.add_argument("--workers", type=int, default=2, help="workers gunicorn (0 : sans HTTP)")
    parser.add_argument(
        "--callers", default="1,2", help="appelants simultanés (HTTP), une mesure par nombre"
    )
    parser.add_argument(
        "--icu-locale", default="fr-FR", help="collation ICU de la base créée ('' = du serveur)"
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE des listes")
    parser.add_argument("--markdown", metavar="FICHIER", help="y écrire les chiffres (Markdown)")
    args = parser.parse_args(argv)
    args.callers = [int(count) for count in args.callers.split(",") if count.strip()]
    return args


# --- the database -------------------------------------------------------------------------------


@contextmanager
def bench_database(args) -> Iterator[str]:
    """The URL of rcp_bench_api: created afresh (replacing one left by --keep), dropped at the
    end unless --keep; with --reuse, the kept one, left as it is."""
    server = make_url(args.server)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    url = server.set(database=DATABASE).render_as_string(hide_password=False)
    if args.reuse:
        yield url
        return
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE))
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE))
    if args.icu_locale:
        create += sql.SQL(" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE {}").format(
            sql.Literal(args.icu_locale)
        )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(drop)
        conn.execute(create)
    try:
        yield url
    finally:
        if args.keep:
            print(f"Base conservée : {url} (--reuse pour la mesurer de nouveau)")
        else:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(drop)


# --- what the calls need ------------------------------------------------------------------------


@dataclass
class Target:
    """Where a new case goes: a patient free in that upcoming session of that RCP."""

    patient_id: int
    rcp_id: int
    kind: str  # bench.directory.RCP_KIND
    session_id: int


@dataclass
class World:
    establishment: str
    client_id: str
    secret: str
    fiches: int
    fiche_patients: list[int]
    targets: list[Target]
    requesters: list[int]
    organs: dict[str, str | None]  # RCP kind -> its organ, when the terminology agrees


def prepare(app, args) -> World:
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        load_builtin()
        db.session.commit()
        print(f"Migrations et terminologies : {time.perf_counter() - started:.1f} s")
        if args.reuse:
            seed.analyze()
        else:
            cases = round(data.FULL_CASES * args.scale)
            print(f"Remplissage (bench.indicators_data) : {cases} dossiers")
            filled = data.fill(cases)
            print(f"Remplissage terminé en {filled.seconds:.1f} s")
        establishment = _busiest_establishment()
        runs = 1 + (len(args.callers) if args.workers else 0)  # each creates its own cases
        credentials = register_client(
            CLIENT_NAME, establishment, list(SCOPES), contact="dsi@banc.test", rate=100_000
        )
        db.session.commit()
        requesters = db.session.scalars(
            select(Professional.id).where(Professional.establishment_id == establishment.id)
        )
        world = World(
            establishment.name,
            credentials.client.client_id,
            credentials.secret,
            *_fiches_of(establishment.id),
            _targets(establishment.id, runs * (args.requests + args.warmup)),
            list(requesters),
            _organs(),
        )
        db.session.remove()
    return world


def _busiest_establishment() -> Establishment:
    establishment_id = db.session.execute(
        select(Rcp.establishment_id, func.count(Fiche.id))
        .join(Case, Case.rcp_id == Rcp.id)
        .join(Fiche, Fiche.case_id == Case.id)
        .group_by(Rcp.establishment_id)
        .order_by(func.count(Fiche.id).desc())
        .limit(1)
    ).first()[0]
    return db.session.get(Establishment, establishment_id)


def _fiches_of(establishment_id: int) -> tuple[int, list[int]]:
    visible = (
        select(Fiche.patient_id)
        .join(Case, Case.id == Fiche.case_id)
        .join(Rcp, Rcp.id == Case.rcp_id)
        .where(Rcp.establishment_id == establishment_id)
    )
    count = db.session.scalar(select(func.count()).select_from(visible.subquery()))
    patients = sorted(set(db.session.scalars(visible)))
    return count, patients


def _organs() -> dict[str, str | None]:
    """bench.clinical's organ of each RCP kind, kept only under its appareil in the built-in
    terminology (the fill writes rows without the form's checks; the API makes them)."""
    parents = dict(
        db.session.execute(
            select(Concept.code, Concept.parent_code).where(Concept.value_set == vs.ORGAN)
        ).all()
    )
    return {
        kind: organ if organ and parents.get(organ) in (None, APPAREILS[kind]) else None
        for kind, organ in clinical.ORGANS.items()
    }


def _targets(establishment_id: int, count: int, seed_value: int = 15) -> list[Target]:
    """(patient, RCP, session) triples where a new draft is allowed: an upcoming session whose
    deadline has not passed, a patient of the establishment without a case in it."""
    rng = random.Random(seed_value)
    now = utcnow()
    sessions = db.session.execute(
        select(MeetingSession.id, Rcp.id, Rcp.national_id)
        .join(Rcp, Rcp.id == MeetingSession.rcp_id)
        .where(
            Rcp.establishment_id == establishment_id,
            MeetingSession.status == "planned",
            MeetingSession.deadline_at > now + timedelta(days=1),
        )
    ).all()
    patients = list(
        db.session.scalars(
            select(Case.patient_id)
            .join(Rcp, Rcp.id == Case.rcp_id)
            .where(Rcp.establishment_id == establishment_id)
            .distinct()
        )
    )
    taken = set(
        db.session.execute(
            select(Case.patient_id, Case.session_id).where(
                Case.session_id.in_([s for s, _, _ in sessions]), Case.status != "withdrawn"
            )
        ).all()
    )
    targets = []
    while len(targets) < count:
        session_id, rcp_id, national_id = rng.choice(sessions)
        patient_id = rng.choice(patients)
        if (patient_id, session_id) in taken:
            continue
        taken.add((patient_id, session_id))
        kind = RCP_KIND[national_id.rsplit("-", 1)[1]]
        targets.append(Target(patient_id, rcp_id, kind, session_id))
    return targets


def case_body(rng: random.Random, target: Target, requester_id: int, organ: str | None) -> dict:
    """What a hospital system sends for a draft: the FRCP data it holds (bench.clinical)."""
    template = rng.choice(clinical.TUMOURS[target.kind])
    transversal = clinical.ORGANS[target.kind] is None
    today = date.today()
    tumour = {
        "diagnosis_date": (today - timedelta(days=rng.randint(7, 90))).isoformat(),
        "topography_code": template.topography,
        "morphology_code": template.morphology,
        "laterality_code": template.laterality,
        "tnm_edition": clinical.EDITION,
        **template.tnm,
        "biomarkers": {
            BY_CODE[code].field_name.removeprefix(MARKER_PREFIX): value
            for code, value in template.markers.items()
        },
    }
    relapse = rng.random() < 0.2
    body = {
        "patient_id": target.patient_id,
        "rcp_id": target.rcp_id,
        "session_id": target.session_id,
        "requester_id": requester_id,
        "motive_treatment": True,
        "motive_diagnostic": rng.random() < 0.2,
        "nature": "transversal" if transversal else "organ",
        "phase_code": "MED-244" if relapse else "MED-268",
        "relapse_date": (today - timedelta(days=30)).isoformat() if relapse else None,
        "performance_status": rng.choice((0, 0, 1, 1, 2)),
        "comorbidities": rng.choice(("", "Hypertension artérielle.", "Diabète de type 2.")),
        "medical_history": "Appendicectomie dans l'enfance.",
        "synthesis": rng.choice(clinical.SYNTHESES),
        "question": rng.choice(clinical.QUESTIONS),
        "gp_unknown": True,
        "tumours": [tumour],
    }
    if transversal:
        body["theme_code"] = "ORG-130"
        body["g8_score"] = rng.randint(8, 16)
    else:
        body.update(appareil_code=APPAREILS[target.kind], organ_code=organ)
    return body


# --- the calls ----------------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    body: dict | None = None
    follow: int = 0  # pages to follow through ``next`` first (not timed)


@dataclass
class Scenario:
    key: str
    label: str
    target_ms: float
    warmup: list[Call]  # run first, not measured
    calls: list[Call]


def scenarios(world: World, targets: list[Target], count: int, warmup: int, seed_value: int):
    """The scenarios; ``targets`` (count + warmup of them) are used up by ``create``."""
    rng = random.Random(seed_value)
    today = date.today()

    def by_patient() -> Call:
        patient = rng.choice(world.fiche_patients)
        return Call("GET", f"/api/v1/fiches?patient_id={patient}&limit={PAGE}")

    def since(days: int) -> Call:
        day = today - timedelta(days=rng.randint(1, days))
        follow = rng.randint(1, 3) if rng.random() < 0.2 else 0
        return Call("GET", f"/api/v1/fiches?since={day.isoformat()}&limit={PAGE}", follow=follow)

    def create(target: Target) -> Call:
        requester = rng.choice(world.requesters)
        body = case_body(rng, target, requester, world.organs[target.kind])
        return Call("POST", "/api/v1/cases", body)

    creations = [create(target) for target in targets[: count + warmup]]
    return [
        Scenario(
            "patient",
            "Fiches d'un patient (patient_id, page de 50)",
            LIST_TARGET_MS,
            [by_patient() for _ in range(warmup)],
            [by_patient() for _ in range(count)],
        ),
        Scenario(
            "month",
            "Fiches signées depuis un jour du dernier mois (synchronisation ; page 1, ou 2 à 4)",
            LIST_TARGET_MS,
            [since(30) for _ in range(warmup)],
            [since(30) for _ in range(count)],
        ),
        Scenario(
            "year",
            "Fiches signées depuis un jour de l'année (rattrapage ; page 1, ou 2 à 4)",
            LIST_TARGET_MS,
            [since(365) for _ in range(warmup)],
            [since(365) for _ in range(count)],
        ),
        Scenario(
            "create",
            "Création d'un dossier (brouillon, corps FRCP complet)",
            CREATE_TARGET_MS,
            creations[:warmup],
            creations[warmup:],
        ),
    ]


EXPECTED = {"GET": 200, "POST": 201}


@dataclass
class Timing:
    seconds: float
    status: int
    cpu: float = 0.0
    sql: float = 0.0
    statements: int = 0
    items: int = 0


@dataclass
class Result:
    scenario: Scenario
    mode: str
    timings: list[Timing] = field(default_factory=list)
    sample: measure.Probe | None = None

    def ms(self, q: float) -> float:
        ordered = sorted(t.seconds for t in self.timings)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return 1000 * statistics.median(t.seconds for t in self.timings)

    @property
    def p95(self) -> float:
        return self.ms(0.95)

    @property
    def errors(self) -> int:
        return sum(1 for t in self.timings if t.status != 0)

    @property
    def met(self) -> bool:
        return self.p95 <= self.scenario.target_ms and not self.errors


def _check(call: Call, status: int, payload: bytes) -> int:
    """0 when the answer is the expected one, else its status (printed once)."""
    if status == EXPECTED[call.method]:
        return 0
    print(f"  ! {call.method} {call.path} -> {status} : {payload[:300]!r}", flush=True)
    return status or -1


def _items(payload: bytes) -> tuple[int, str | None]:
    try:
        body = json.loads(payload)
    except ValueError:
        return 0, None
    return len(body.get("items", ())), body.get("next")


# In the process: the Flask test client, instrumented.


def in_process_token(http, world: World) -> dict:
    raw = base64.b64encode(f"{world.client_id}:{world.secret}".encode()).decode()
    response = http.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {raw}"},
    )
    if response.status_code != 200:
        raise SystemExit(f"Jeton refusé : {response.status_code} {response.get_data()!r}")
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def _followed(http, headers: dict, call: Call) -> Call:
    """The call of the page reached by following ``next`` ``call.follow`` times."""
    path = call.path
    for _ in range(call.follow):
        _, following = _items(http.get(path, headers=headers).data)
        path = following or path
    return Call(call.method, path, call.body)


def _send(http, headers: dict, call: Call):
    if call.method == "POST":
        return http.post(call.path, headers=headers, json=call.body)
    return http.get(call.path, headers=headers)


def run_in_process(app, world: World, scenario: Scenario) -> Result:
    instruments = measure.Instruments(app)
    http = app.test_client()
    headers = in_process_token(http, world)
    result = Result(scenario, "processus")
    with instruments.installed():
        for call in scenario.warmup:
            _send(http, headers, _followed(http, headers, call))
        for call in scenario.calls:
            call = _followed(http, headers, call)
            instruments.probe = probe = measure.Probe()
            cpu = time.process_time()
            started = time.perf_counter()
            response = _send(http, headers, call)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu
            if result.sample is None:
                result.sample = probe
            result.timings.append(
                Timing(
                    elapsed,
                    _check(call, response.status_code, response.data),
                    cpu,
                    probe.sql_seconds,
                    len(probe.statements),
                    _items(response.data)[0],
                )
            )
    return result


# Over HTTP: gunicorn, callers in threads.


def http_environment(url: str, folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RCP_DATABASE_URL": url,
        "RCP_SECRET_KEY": "bench-api-secret-key-not-for-production",
        "RCP_AUDIT_KEY": "bench-audit-key",  # the in-process app's: one chain
        "RCP_AUDIT_CHECKPOINT_DIR": str(folder / "ancrage"),
        "RCP_ATTACHMENTS_DIR": str(folder / "attachments"),
    }


class Caller:
    def __init__(self, port: int, world: World):
        self.port = port
        raw = base64.b64encode(f"{world.client_id}:{world.secret}".encode()).decode()
        status, payload = self.request(
            "POST",
            "/api/v1/oauth/token",
            urllib.parse.urlencode({"grant_type": "client_credentials"}).encode(),
            {"Authorization": f"Basic {raw}", "Content-Type": "application/x-www-form-urlencoded"},
            token=False,
        )
        if status != 200:
            raise SystemExit(f"Jeton refusé : {status} {payload[:300]!r}")
        self.token = json.loads(payload)["access_token"]

    def request(self, method, path, body=None, headers=None, token=True):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            return 0, b""
        finally:
            connection.close()

    def call(self, call: Call) -> tuple[float, int, bytes]:
        path = call.path
        for _ in range(call.follow):
            _, following = _items(self.request("GET", path)[1])
            path = following or path
        body = json.dumps(call.body).encode() if call.body is not None else None
        headers = {"Content-Type": "application/json"} if body else {}
        started = time.perf_counter()
        status, payload = self.request(call.method, path, body, headers)
        return time.perf_counter() - started, status, payload


def run_over_http(port: int, world: World, scenario: Scenario, callers: int) -> Result:
    result = Result(scenario, f"HTTP ×{callers}")
    lock = threading.Lock()
    clients = [Caller(port, world) for _ in range(callers)]
    for index, call in enumerate(scenario.warmup):  # every worker warms up
        clients[index % callers].call(call)
    queue = list(reversed(scenario.calls))

    def work(client: Caller) -> None:
        while True:
            with lock:
                if not queue:
                    return
                call = queue.pop()
            seconds, status, payload = client.call(call)
            timing = Timing(seconds, _check(call, status, payload), items=_items(payload)[0])
            with lock:
                result.timings.append(timing)

    threads = [threading.Thread(target=work, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


# --- reporting ----------------------------------------------------------------------------------


HEADER = (
    f"{'':<8} {'':<10} {'':>7} {'ms':>7} {'':>7} | {'médianes (ms)':>13} | SQL  lignes\n"
    f"{'':<8} {'mode':<10} {'p50':>7} {'p95':>7} {'max':>7} | {'CPU':>6} {'SQL':>6} | req. (méd.)"
)


def report_line(result: Result) -> str:
    """One line per scenario and mode; CPU, SQL and statements are measured in the process
    only (« – » over HTTP)."""
    timings = result.timings
    if result.sample is None:
        cpu = sql_ms = f"{'–':>6}"
        shown = "–"
    else:
        cpu = f"{1000 * statistics.median(t.cpu for t in timings):6.1f}"
        sql_ms = f"{1000 * statistics.median(t.sql for t in timings):6.1f}"
        counts = sorted({t.statements for t in timings})
        shown = str(counts[0]) if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    items = statistics.median(t.items for t in timings)
    verdict = "ok" if result.met else "AU-DESSUS"
    errors = f" {result.errors} erreur(s)" if result.errors else ""
    return (
        f"{result.scenario.key:<8} {result.mode:<10} {result.p50:7.1f} {result.p95:7.1f} "
        f"{1000 * max(t.seconds for t in timings):7.1f} | {cpu} {sql_ms} | "
        f"{shown:>5} {items:>4.0f}  {verdict} (cible {result.scenario.target_ms:.0f}){errors}"
    )


def _load() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _memory_gb() -> str:
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        return "?"
    return f"{kb / 1024 / 1024:.0f}"


def explain_lists(app, results: list[Result]) -> list[str]:
    """EXPLAIN ANALYZE of the statements reading fiches in the first measured call of each
    list scenario (parameters as sent)."""
    lines = []
    with app.app_context(), db.engine.connect() as conn:
        for result in results:
            if result.sample is None or result.scenario.key == "create":
                continue
            lines.append(f"\nEXPLAIN — {result.scenario.label}")
            for statement, parameters in result.sample.statements:
                if "FROM fiche" not in statement:
                    continue
                lines.append("  » " + " ".join(statement.split())[:160] + " …")
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                lines += ["      " + row[0] for row in plan]
        conn.rollback()
    return lines


# --- main ---------------------------------------------------------------------------------------


def run(args, url: str, folder: Path) -> list[Result]:
    app = base.make_app(url, str(folder / "attachments"))
    logging.disable(logging.INFO)  # the migrations' progress lines
    try:
        world = prepare(app, args)
    finally:
        logging.disable(logging.NOTSET)
    print(
        f"Établissement mesuré : {world.establishment} — {world.fiches} fiches signées, "
        f"{len(world.fiche_patients)} patients ayant au moins une fiche"
    )
    print(
        f"Serveur : {base.server_version(app)} ; {args.requests} requêtes mesurées par "
        f"scénario après {args.warmup} d'échauffement ; cibles p95 : liste ≤ "
        f"{LIST_TARGET_MS:.0f} ms, création ≤ {CREATE_TARGET_MS:.0f} ms"
    )
    # Each new case takes a (patient, session) place once: each run has its own.
    share = args.requests + args.warmup
    batches = [world.targets[i : i + share] for i in range(0, len(world.targets), share)]
    results = []
    try:
        print(f"\nDans le processus (client de test Flask) — charge {_load()}")
        print(HEADER)
        for scenario in scenarios(world, batches[0], args.requests, args.warmup, seed_value=15):
            result = run_in_process(app, world, scenario)
            print(report_line(result), flush=True)
            results.append(result)
        if args.explain:
            print("\n".join(explain_lists(app, results)))
    finally:
        with app.app_context():
            db.engine.dispose()
    if not args.workers:
        return results
    env = http_environment(url, folder)
    with gunicorn(env, args.workers) as (port, _master):
        for run_number, callers in enumerate(args.callers, start=1):
            print(
                f"\nHTTP : gunicorn {args.workers} worker(s) synchrones, {callers} "
                f"appelant(s) simultané(s) — charge {_load()}"
            )
            print(HEADER)
            targets = batches[run_number]
            for scenario in scenarios(world, targets, args.requests, args.warmup, 15 + run_number):
                result = run_over_http(port, world, scenario, callers)
                print(report_line(result), flush=True)
                results.append(result)
    return results


def write_markdown(path: str, heading: str, loads: tuple[str, str], results: list[Result]):
    lines = [
        heading,
        f"Charge (load average 1/5/15 min) : {loads[0]} au départ, {loads[1]} à la fin.",
        "",
        "```",
        HEADER,
        *(report_line(r) for r in results),
        "```",
        "",
    ]
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    print(f"Chiffres écrits dans {path}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    heading = (
        f"Banc d'essai « API » — {datetime.now():%d/%m/%Y %H:%M}, {platform.node()}, "
        f"{os.cpu_count()} cœurs, {_memory_gb()} Go, Python {platform.python_version()}"
    )
    print(heading)
    started_load = _load()
    print(f"Charge de la machine au départ (load average 1/5/15 min) : {started_load}")
    with (
        tempfile.TemporaryDirectory(prefix="rcp-bench-api-") as folder,
        bench_database(args) as url,
    ):
        results = run(args, url, Path(folder))
    ended_load = _load()
    print(f"Charge de la machine à la fin (load average 1/5/15 min) : {ended_load}")
    missed = sorted({f"{r.scenario.key} ({r.mode})" for r in results if not r.met})
    print("Cibles atteintes." if not missed else f"Cibles manquées : {', '.join(missed)}")
    if args.markdown:
        write_markdown(args.markdown, heading, (started_load, ended_load), results)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
