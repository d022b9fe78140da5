"""Time requests through the real application (Flask test client, logged-in users).

Per request: server time (time.perf_counter around the test client call: routing, session,
login check, queries, audit append, template rendering), number of SQL statements
(before_cursor_execute), time spent appending the audit row, and the list's total.
"""

from __future__ import annotations

import bisect
import random
import re
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Flask
from sqlalchemy import event, func, select

from rcp_app.access.models import CoordinatorScope
from rcp_app.auth.models import User
from rcp_app.cases import queries as case_queries
from rcp_app.core import audit
from rcp_app.demo.patient_data import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES
from rcp_app.extensions import db
from rcp_app.patients import operations as patient_ops
from rcp_app.patients.models import Patient

from .directory import PASSWORD
from .names import LAST_NAMES_BY_RANK
from .population import NAME_WEIGHTS

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@dataclass
class Probe:
    """What the instrumentation saw during one request."""

    statements: list[tuple[str, object]] = field(default_factory=list)
    sql_seconds: float = 0.0
    audit_seconds: float = 0.0
    totals: list[tuple[int, bool]] = field(default_factory=list)  # (total, exact)


class Instruments:
    def __init__(self, app: Flask):
        self.app = app
        self.probe = Probe()

    @contextmanager
    def installed(self):
        with self.app.app_context():
            engine = db.engine

        def before(_conn, _cursor, statement, parameters, context, _many):
            self.probe.statements.append((statement, parameters))
            context._bench_started = time.perf_counter()

        def after(_conn, _cursor, _statement, _parameters, context, _many):
            self.probe.sql_seconds += time.perf_counter() - context._bench_started

        original_record = audit.record
        # Every pagination function the measured lists call, in the modules that call them.
        originals = {
            (module, name): getattr(module, name)
            for module in (case_queries, patient_ops)
            for name in ("paginate", "paginate_by_key")
            if hasattr(module, name)
        }

        def timed_record(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original_record(*args, **kwargs)
            finally:
                self.probe.audit_seconds += time.perf_counter() - started

        def counting(original):
            def paginate(*args, **kwargs):
                page = original(*args, **kwargs)
                self.probe.totals.append((page.total, getattr(page, "exact", True)))
                return page

            return paginate

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        audit.record = timed_record
        for (module, name), original in originals.items():
            setattr(module, name, counting(original))
        try:
            yield
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
            audit.record = original_record
            for (module, name), original in originals.items():
                setattr(module, name, original)


@dataclass
class Scenario:
    key: str
    label: str
    requests: list[tuple[object, str, dict]]  # (client, path, query string)


@dataclass
class Result:
    scenario: Scenario
    seconds: list[float]
    cpu_seconds: list[float]
    sql_seconds: list[float]
    queries: list[int]
    audit_seconds: list[float]
    totals: list[tuple[int, bool]]
    sample: Probe

    @staticmethod
    def _ms(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return 1000 * statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        return self._ms(self.seconds, 0.95)


def login(app: Flask, username: str):
    client = app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = CSRF.search(page)
    data = {"username": username, "password": PASSWORD}
    if token:
        data["csrf_token"] = token.group(1)
    response = client.post("/connexion", data=data)
    if response.status_code != 302:
        raise SystemExit(f"Connexion impossible pour {username} ({response.status_code}).")
    return client


def run(instruments: Instruments, scenario: Scenario, warmup: int) -> Result:
    seconds, cpu_seconds, sql_seconds, queries, audit_seconds, totals = [], [], [], [], [], []
    sample = Probe()
    for index, (client, path, args) in enumerate(scenario.requests):
        instruments.probe = probe = Probe()
        cpu = time.process_time()
        started = time.perf_counter()
        response = client.get(path, query_string=args)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        if response.status_code != 200:
            raise SystemExit(f"{scenario.key}: {path} {args} -> {response.status_code}")
        if index < warmup:
            continue
        if index == warmup:
            sample = probe
        seconds.append(elapsed)
        cpu_seconds.append(cpu)
        sql_seconds.append(probe.sql_seconds)
        queries.append(len(probe.statements))
        audit_seconds.append(probe.audit_seconds)
        totals.append(probe.totals[0] if probe.totals else (0, True))
    return Result(
        scenario, seconds, cpu_seconds, sql_seconds, queries, audit_seconds, totals, sample
    )


def _prefix_queries(rng: random.Random, count: int) -> list[str]:
    """What people type: the start of a name (accents or not), sometimes a first name too."""
    fixed = ["lefe", "béna", "dupon", "GUÉR", "le g", "n'di", "mart", "da s", "thé", "lefèv"]
    queries = []
    while len(queries) < count:
        name = LAST_NAMES_BY_RANK[bisect.bisect(NAME_WEIGHTS, rng.random() * NAME_WEIGHTS[-1])]
        typed = name[: rng.randint(3, 6)].lower()
        if rng.random() < 0.3:
            typed = typed.upper()
        if rng.random() < 0.25:
            first = rng.choice(FEMALE_FIRST_NAMES + MALE_FIRST_NAMES)
            typed = f"{name.lower()} {first[: rng.randint(2, 4)].lower()}"
        queries.append(typed)
    return fixed + queries[: count - len(fixed)]


def _spaced(matricule: str) -> str:
    """'269054958815780' -> '2 69 05 49 588 157 80', as printed on the carte Vitale."""
    parts = (1, 2, 2, 2, 3, 3, 2)
    out, at = [], 0
    for size in parts:
        out.append(matricule[at : at + size])
        at += size
    return " ".join(out)


def scenarios(app: Flask, count: int, seed: int = 7) -> list[Scenario]:
    rng = random.Random(seed)
    with app.app_context():
        physicians = db.session.scalars(
            select(User.username).where(User.role == "physician").order_by(User.id)
        ).all()
        # The first secretariat account (bench.coordination): it runs 2 RCPs of the 40.
        coordinator, coordinator_id = db.session.execute(
            select(User.username, User.id)
            .where(User.role == "coordinator")
            .order_by(User.id)
            .limit(1)
        ).one()
        rcps = db.session.scalars(
            select(CoordinatorScope.rcp_id)
            .where(CoordinatorScope.user_id == coordinator_id, CoordinatorScope.rcp_id.is_not(None))
            .order_by(CoordinatorScope.rcp_id)
        ).all()
        matricules = db.session.scalars(
            select(Patient.ins_matricule)
            .where(Patient.ins_matricule.is_not(None))
            .order_by(func.random())
            .limit(count)
        ).all()
    coord = login(app, coordinator)
    doctors = [login(app, name) for name in physicians]
    by_name = [(rng.choice([coord, *doctors]), q) for q in _prefix_queries(rng, count)]
    by_ins = [(rng.choice([coord, *doctors]), m) for m in matricules]

    def page() -> dict:
        return {"page": str(rng.randint(2, 4))} if rng.random() < 0.2 else {}

    return [
        Scenario(
            "name",
            "Recherche patient par début de nom (accents indifférents)",
            [(c, "/patients", {"q": q, **page()}) for c, q in by_name],
        ),
        Scenario(
            "ins",
            "Recherche patient par matricule INS complet",
            [(c, "/patients", {"q": _spaced(m) if rng.random() < 0.5 else m}) for c, m in by_ins],
        ),
        Scenario(
            "mine",
            "Liste des dossiers d'un médecin (mine=1)",
            [(rng.choice(doctors), "/dossiers", {"mine": "1", **page()}) for _ in range(count)],
        ),
        Scenario(
            "team",
            "Tous les dossiers visibles d'un médecin (équipe de soins, sans filtre)",
            [(rng.choice(doctors), "/dossiers", page()) for _ in range(count)],
        ),
        Scenario(
            "recent",
            "Patients récents d'un médecin (/patients sans critère)",
            [(rng.choice(doctors), "/patients", {}) for _ in range(count)],
        ),
        Scenario(
            "scoped",
            "Dossiers soumis des 2 RCP du secrétariat (statut=submitted)",
            [(coord, "/dossiers", {"statut": "submitted", **page()}) for _ in range(count)],
        ),
        Scenario(
            "pool",
            "Dossiers soumis d'une de ses RCP (rcp=…, statut=submitted)",
            [
                (
                    coord,
                    "/dossiers",
                    {"rcp": str(rng.choice(rcps)), "statut": "submitted", **page()},
                )
                for _ in range(count)
            ],
        ),
    ]


def with_warmup(scenario: Scenario, warmup: int) -> Scenario:
    """The first ``warmup`` requests (repeated from the list) are not measured."""
    return Scenario(scenario.key, scenario.label, scenario.requests[:warmup] + scenario.requests)


def measure_all(app: Flask, count: int, warmup: int, report: Callable[[Result], None]):
    instruments = Instruments(app)
    results = []
    with instruments.installed():
        for scenario in scenarios(app, count):
            result = run(instruments, with_warmup(scenario, warmup), warmup)
            report(result)
            results.append(result)
    return results
