"""Load benchmark: concurrent users of the four roles over gunicorn on PostgreSQL.

    .venv/bin/python -m bench.load [--users 32] [--seconds 30] [--workers 1,2,4]
                                   [--batch 40] [--server postgresql+psycopg://postgres@127.0.0.1/test]

For each gunicorn worker count: a throw-away PostgreSQL database with the demo data, a closed
session of the breast RCP with ``--batch`` decisions ready for validation, and a session in
progress whose decisions the physicians autosave; gunicorn serves the application
(``wsgi:app``, sync workers). ``--users`` threads log in as the demo accounts of the four roles
(coordination, dr.nguyen and dr.martin, dr.bernard, and a visitor) and repeat a realistic mix
— home, patient search, case list, meeting page, decision autosave (each physician user on a
decision of their own), fiche download, login, public verification by code — for ``--seconds``,
with ``--think`` seconds of mean pause between two actions (0 by default, as the load test that
measured the issue: every user always waiting for an answer). A third of the way in,
dr.martin presses « Valider et signer toutes les fiches prêtes » on the batch session (the form
post, no script).

Prints, per page: requests, throughput, p50 / p95 / p99 (ms), server errors (5xx or no answer);
conflicts (409) of concurrent autosaves are counted apart (expected). Then the batch's duration,
the slowest other request while it ran, and the resident memory of each gunicorn worker.
Targets (issue 11): 0 errors at 32 users; search and autosave p95 <= 300 ms at 32 users; no
other request above 1 s during the batch; throughput grows from 1 to 2 workers.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from rcp_app.demo.loader import DEMO_PASSWORD as PASSWORD

ROOT = Path(__file__).resolve().parents[1]
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# (action, weight) per role; the visitor only verifies codes.
MIX = {
    "coordinator": [("home", 3), ("search", 3), ("cases", 3), ("meeting", 1), ("login", 1)],
    "physician": [
        ("home", 2),
        ("search", 3),
        ("cases", 1),
        ("meeting", 2),
        ("autosave", 4),
        ("fiche", 1),
        ("login", 1),
    ],
    "gp": [("inbox", 3), ("gp_fiche", 1), ("login", 1)],
    "visitor": [("verify", 1)],
}
ACCOUNTS = [
    ("coordinator", "coordination"),
    ("physician", "dr.nguyen"),
    ("physician", "dr.martin"),
    ("gp", "dr.bernard"),
    ("coordinator", "coordination"),
    ("physician", "dr.nguyen"),
    ("physician", "dr.martin"),
    ("visitor", None),
]


@dataclass
class World:
    batch_session: int
    meeting_session: int
    meeting_items: list[int]
    fiche_id: int
    verification_code: str


@dataclass
class Sample:
    action: str
    started: float
    seconds: float
    status: int | None


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    batch: tuple[float, float, int | None] | None = None

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


# --- the database -----------------------------------------------------------------------------


@contextmanager
def fresh_database(server_url: str):
    url = make_url(server_url)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"rcp_bench_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(url: str, tmp: Path) -> dict[str, str]:
    pki = tmp / "pki"
    return {
        **os.environ,
        "RCP_DATABASE_URL": url,
        "RCP_SECRET_KEY": "bench-load-secret",
        "RCP_AUDIT_KEY": "bench-load-audit-key",
        "RCP_AUDIT_CHECKPOINT_DIR": str(tmp / "ancrage"),
        "RCP_SEAL_P12": str(pki / "test-seal.p12"),
        "RCP_SEAL_PASSPHRASE_FILE": str(pki / "test-seal.passphrase"),
        "RCP_TRUST_ROOTS": str(pki / "test-ca.pem"),
        "RCP_ATTACHMENTS_DIR": str(tmp / "attachments"),
        # The visitors all come from 127.0.0.1: no hourly cap on verifications here.
        "RCP_VERIFY_MAX_PER_HOUR": "1000000",
        "RCP_LOGIN_IP_SLOWDOWN_AFTER": "1000000",
    }


def prepare(url: str, tmp: Path, batch: int) -> World:
    """Demo data, the batch session (ready decisions) and a session in progress."""
    from flask_migrate import upgrade

    from rcp_app import create_app
    from rcp_app.auth.models import User
    from rcp_app.core.timeutil import utcnow
    from rcp_app.demo.loader import load_demo
    from rcp_app.demo.past_session import hold_session
    from rcp_app.directory.models import Rcp
    from rcp_app.extensions import db
    from rcp_app.fiches.models import Fiche, FicheVersion
    from rcp_app.fiches.signature.seal import ensure_test_pki
    from rcp_app.patients.models import Patient
    from rcp_app.terminology.builtin import load_builtin

    env = environment(url, tmp)
    app = create_app(
        {
            "ENV_VARS": {k: v for k, v in env.items() if k.startswith("RCP_")},
            "RCP_TEST_PKI_DIR": str(tmp / "pki"),
        }
    )
    with app.app_context():
        upgrade()
        ensure_test_pki(app)
        load_builtin()
        load_demo()
        db.session.commit()
        patients = list(db.session.scalars(select(Patient).order_by(Patient.id)))
        author = db.session.scalar(select(User).where(User.username == "dr.martin"))
        breast = db.session.scalar(select(Rcp).where(Rcp.national_id.like("%-SEIN")))
        closed, _, _ = hold_session(breast, patients, author, utcnow(), batch, weeks_ago=3)
        # One decision per physician user: in a meeting, one person edits a decision at a time.
        live, items, _ = hold_session(breast, patients, author, utcnow(), 16, weeks_ago=4)
        live.status = "in_progress"
        db.session.commit()
        fiche = db.session.scalar(select(Fiche).order_by(Fiche.id))
        code = db.session.scalar(
            select(FicheVersion.verification_code).where(FicheVersion.fiche_id == fiche.id)
        )
        world = World(closed.id, live.id, [i.id for i in items], fiche.id, code)
        db.session.remove()
        db.engine.dispose()
    return world


# --- the server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int = 1):
    port = free_port()
    # More than one thread per worker: gunicorn's gthread worker (short requests are no longer
    # queued behind a long one of the same process).
    thread_args = ["--threads", str(threads)] if threads > 1 else []
    process = subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            *thread_args,
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield port, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def worker_rss_mb(master: int) -> list[float]:
    sizes = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"PPid:\t{master}\n" in text:
            sizes.append(int(text.split("VmRSS:")[1].split()[0]) / 1024)
    return sorted(sizes)


# --- a user --------------------------------------------------------------------------------


class Client:
    def __init__(self, port: int):
        self.port = port
        self.cookie = ""

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            for key, value in response.getheaders():
                if key.lower() == "set-cookie" and value.startswith("rcp_session="):
                    self.cookie = value.split(";", 1)[0]
            return response.status, data
        except (OSError, http.client.HTTPException):
            return None, b""
        finally:
            connection.close()

    def token(self, path: str) -> str:
        _, page = self.request("GET", path)
        match = CSRF.search(page.decode("utf-8", "replace"))
        return match.group(1) if match else ""

    def post_form(self, path: str, fields: dict, token_from: str):
        fields = {**fields, "csrf_token": self.token(token_from)}
        return self.request(
            "POST",
            path,
            urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def login(self, username: str):
        self.cookie = ""
        return self.post_form(
            "/connexion", {"username": username, "password": PASSWORD}, "/connexion"
        )


def run_user(port, role, username, world, deadline, results: Results, seed: int, think: float):
    rng = random.Random(seed)
    physicians = [i for i in range(seed + 1) if ACCOUNTS[i % len(ACCOUNTS)][0] == "physician"]
    item = world.meeting_items[(len(physicians) - 1) % len(world.meeting_items)]
    client = Client(port)
    if username:
        client.login(username)
    actions, weights = zip(*MIX[role], strict=True)
    versions: dict[int, int] = {}
    token = client.token(f"/seances/{world.meeting_session}/reunion") if role != "gp" else ""
    while time.monotonic() < deadline:
        action = rng.choices(actions, weights)[0]
        started = time.monotonic()
        status = perform(client, action, username, world, item, rng, versions, token)
        results.add(Sample(action, started, time.monotonic() - started, status))
        if think:
            time.sleep(rng.expovariate(1 / think))


def perform(client: Client, action, username, world, item, rng, versions, token):
    if action == "home":
        return client.request("GET", "/")[0]
    if action == "search":
        term = rng.choice(["MAR", "DUP", "BER", "LEF", "GAR", "1960"])
        return client.request("GET", f"/patients?q={term}")[0]
    if action == "cases":
        return client.request("GET", "/dossiers")[0]
    if action == "meeting":
        return client.request("GET", f"/seances/{world.meeting_session}/reunion")[0]
    if action == "inbox":
        return client.request("GET", "/boite")[0]
    if action == "fiche":
        return client.request("GET", f"/fiches/{world.fiche_id}/v1.pdf")[0]
    if action == "gp_fiche":
        return client.request("GET", f"/boite/fiches/{world.fiche_id}.pdf")[0]
    if action == "verify":
        return client.request("GET", f"/verifier?code={world.verification_code}")[0]
    if action == "login":
        other = Client(client.port)
        return other.login(username)[0]
    if action == "autosave":
        body = {
            "version": versions.get(item, ""),
            "comments": f"Note de séance {rng.randint(1, 10**6)}",
        }
        status, data = client.request(
            "POST",
            f"/seances/{world.meeting_session}/reunion/{item}/decision",
            json.dumps(body).encode(),
            {
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-CSRFToken": token,
            },
        )
        try:
            answer = json.loads(data or b"{}")
        except ValueError:
            answer = {}
        if status == 200:
            versions[item] = answer.get("version")
        elif status == 409:
            versions[item] = (answer.get("stored") or {}).get("version", versions.get(item))
        return status
    raise ValueError(action)


def run_batch(port, world: World, start_at: float, results: Results):
    client = Client(port)
    client.login("dr.martin")
    path = f"/seances/{world.batch_session}/fiches"
    time.sleep(max(0.0, start_at - time.monotonic()))
    started = time.monotonic()
    status, _ = client.post_form(f"{path}/valider", {}, path)
    results.batch = (started, time.monotonic(), status)


# --- a run -----------------------------------------------------------------------------------


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def one_run(args, workers: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="rcp-bench-load-") as folder:
        tmp = Path(folder)
        with fresh_database(args.server) as url:
            world = prepare(url, tmp, args.batch)
            env = environment(url, tmp)
            with gunicorn(env, workers, args.threads) as (port, master):
                results = Results()
                # The first seconds warm every worker up (imports, font cmap, caches)
                # and are not counted.
                started = time.monotonic()
                begin = started + args.warmup
                deadline = begin + args.seconds
                threads = [
                    threading.Thread(
                        target=run_user,
                        args=(
                            port,
                            *ACCOUNTS[i % len(ACCOUNTS)],
                            world,
                            deadline,
                            results,
                            i,
                            args.think,
                        ),
                        daemon=True,
                    )
                    for i in range(args.users)
                ]
                batch = threading.Thread(
                    target=run_batch,
                    args=(port, world, begin + args.seconds / 3, results),
                    daemon=True,
                )
                for thread in [*threads, batch]:
                    thread.start()
                for thread in [*threads, batch]:
                    thread.join(timeout=args.seconds + 600)
                elapsed = time.monotonic() - begin
                results.samples = [s for s in results.samples if s.started >= begin]
                rss = worker_rss_mb(master)
    return report(results, workers, elapsed, rss, args.threads)


def report(
    results: Results, workers: int, elapsed: float, rss: list[float], threads: int = 1
) -> dict:
    by_action = defaultdict(list)
    for sample in results.samples:
        by_action[sample.action].append(sample)
    kind = f" × {threads} fils (gthread)" if threads > 1 else " (sync)"
    print(f"\n== {workers} worker(s) gunicorn{kind}, {elapsed:.0f} s, charge {load_average()}")
    columns = ("req", "req/s", "p50", "p95", "p99", "5xx", "409")
    print(f"{'page':<10} " + " ".join(f"{c:>7}" for c in columns))
    total_errors = 0
    for action in sorted(by_action):
        samples = by_action[action]
        ms = [s.seconds * 1000 for s in samples]
        errors = sum(1 for s in samples if s.status is None or s.status >= 500)
        conflicts = sum(1 for s in samples if s.status == 409)
        total_errors += errors
        print(
            f"{action:<10} {len(samples):>7} {len(samples) / elapsed:>7.1f} "
            f"{statistics.median(ms):>7.0f} {percentile(ms, 0.95):>7.0f} "
            f"{percentile(ms, 0.99):>7.0f} {errors:>7} {conflicts:>7}"
        )
    throughput = len(results.samples) / elapsed
    print(f"total: {len(results.samples)} requêtes, {throughput:.1f} req/s, {total_errors} erreurs")
    slowest = None
    if results.batch:
        start, end, status = results.batch
        during = [
            s.seconds
            for s in results.samples
            if s.started >= start and s.started + s.seconds <= end
        ]
        slowest = max(during, default=0.0)
        print(
            f"lot « signer toutes » : HTTP {status}, {end - start:.1f} s ; "
            f"{len(during)} autres requêtes pendant le lot, la plus lente {slowest * 1000:.0f} ms"
        )
    print("RSS des workers (Mo) : " + ", ".join(f"{x:.0f}" for x in rss))
    return {"workers": workers, "throughput": throughput, "errors": total_errors}


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--warmup",
        type=float,
        default=5,
        help="secondes de mise en route des workers, non comptées (0 : tout compter)",
    )
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--batch", type=int, default=40)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="fils par worker gunicorn (plus de 1 : worker gthread ; 1 : worker sync)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="pause moyenne entre deux actions d'un utilisateur, en secondes (0 : aucune)",
    )
    parser.add_argument(
        "--server",
        default=os.environ.get(
            "RCP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args(argv)
    import logging

    logging.disable(logging.WARNING)
    print(
        f"{args.users} utilisateurs, {args.seconds:.0f} s, lot de {args.batch} fiches, "
        f"pause moyenne {args.think:g} s, {args.threads} fil(s) par worker"
    )
    runs = [one_run(args, int(w)) for w in args.workers.split(",")]
    print("\ndébit (req/s) : " + ", ".join(f"{r['workers']} → {r['throughput']:.1f}" for r in runs))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
