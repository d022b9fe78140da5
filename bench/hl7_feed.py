"""HL7 identity feed benchmark: ADT messages per minute through the MLLP listener.

    .venv/bin/python -m bench.hl7_feed [--messages 1000] [--connections 4] [--rate 0]
                                       [--workers 4] [--server postgresql+psycopg://…]

A throw-away database (SQLite file, or with ``--server`` a PostgreSQL database created on that
server and dropped at the end), migrated; the listener (rcp_app/hl7/listener.py, ``--workers``
threads) on an ephemeral port of 127.0.0.1, in this process; ``--connections`` interface
engines, each on its own MLLP connection (python-hl7's asyncio client), sending its share of
``--messages`` in order and waiting for each acknowledgement, as an interface engine does. The
mix, per connection and per ten messages, is a hospital identity server's: 6 ADT^A28 (new
patients, half of them with a qualified INS), 3 ADT^A31 (an earlier patient's used name
changes) and 1 ADT^A40 (two earlier provisional records merged). Each is a real transaction:
patient rules, audit row chained at commit.

``--rate N`` paces each connection so that all together send N messages per minute (the
latency at a sustained load); 0 sends as fast as the acknowledgements come back (the
throughput). Prints the throughput, the p50 / p95 / max acknowledgement latency, the count of
each ACK code, and exits 1 when a message was not accepted (AA) or when the throughput stays
below the target of 1,000 messages per minute. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import psycopg
from flask_migrate import upgrade
from hl7.mllp import open_hl7_connection
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from rcp_app import create_app
from rcp_app.demo.patient_data import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES
from rcp_app.extensions import db
from rcp_app.hl7.listener import running
from rcp_app.patients import ins
from rcp_app.patients.models import Patient
from rcp_app.terminology.builtin import load_builtin

from .names import EXTRA_LAST_NAMES

TARGET_PER_MINUTE = 1000
AUTHORITY = "HOPITAL-BENCH&1.2.250.1.999.2&ISO"
TEST_NIR = "ASIP-SANTE-INS-NIR-TEST&1.2.250.1.213.1.4.10&ISO"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4, help="threads of the listener")
    parser.add_argument(
        "--rate", type=float, default=0, help="messages par minute au total (0 : au plus vite)"
    )
    parser.add_argument(
        "--server", help="serveur PostgreSQL (base jetable créée puis supprimée) ; sinon SQLite"
    )
    return parser.parse_args(argv)


@contextmanager
def throwaway_database(server: str | None):
    if not server:
        with tempfile.TemporaryDirectory(prefix="rcp-bench-hl7-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite"
        return
    url = make_url(server)
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"rcp_bench_hl7_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False), "PostgreSQL"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Interface:
    """One interface engine's messages: its own patients, so its order is all that matters."""

    def __init__(self, number: int, rng: random.Random):
        self.number = number
        self.rng = rng
        self.sent = 0
        self.patients: list[dict] = []  # every record created, still present
        self.provisional: list[dict] = []  # created without INS: candidates for a merge

    def next_message(self) -> str:
        step = self.sent % 10
        self.sent += 1
        if step == 9 and len(self.provisional) >= 2:
            return self._merge()
        if step in (6, 7, 8) and self.patients:
            return self._update()
        return self._create()

    def _new_patient(self) -> dict:
        sex = self.rng.choice("FM")
        birth = date(1940, 1, 1) + timedelta(days=self.rng.randrange(60 * 365))
        first = self.rng.choice(FEMALE_FIRST_NAMES if sex == "F" else MALE_FIRST_NAMES)
        patient = {
            "ipp": f"B{self.number:02d}{self.sent:07d}",
            "name": self.rng.choice(EXTRA_LAST_NAMES).upper(),
            "first": first,
            "sex": sex,
            "birth": birth,
            "used": "",
            "matricule": None,
        }
        if self.rng.random() < 0.5:
            order = (self.number * 100_003 + self.sent) % 1000
            commune = f"{(self.number * 100_003 + self.sent) // 1000 % 1000:03d}"
            digit = "2" if sex == "F" else "1"
            patient["matricule"] = ins.make_matricule(
                digit, birth.year, birth.month, "69", commune, order
            )
        return patient

    def _create(self) -> str:
        patient = self._new_patient()
        self.patients.append(patient)
        if patient["matricule"] is None:
            self.provisional.append(patient)
        return message("A28", pid(patient))

    def _update(self) -> str:
        patient = self.rng.choice(self.patients)
        patient["used"] = self.rng.choice(EXTRA_LAST_NAMES).upper()
        return message("A31", pid(patient))

    def _merge(self) -> str:
        absorbed, survivor = self.provisional.pop(), self.provisional.pop()
        self.patients.remove(absorbed)
        return message("A40", pid(survivor), f"MRG|{absorbed['ipp']}^^^{AUTHORITY}^PI")


def pid(patient: dict) -> str:
    identifiers = f"{patient['ipp']}^^^{AUTHORITY}^PI"
    status = "PROV"
    if patient["matricule"]:
        identifiers += f"~{patient['matricule']}^^^{TEST_NIR}^INS"
        status = "VALI"
    names = f"{patient['name']}^{patient['first']}^{patient['first']}^^^^L"
    if patient["used"]:
        names += f"~{patient['used']}^{patient['first']}^^^^^D"
    fields = ["PID", "1", "", identifiers, "", names, "", f"{patient['birth']:%Y%m%d}"]
    fields += [patient["sex"], "", "", "^^^^^^BDL^^69123"]
    fields += [""] * (32 - len(fields)) + [status]
    return "|".join(fields)


def message(event: str, *segments: str) -> str:
    structure = "ADT_A39" if event == "A40" else "ADT_A05"
    msh = (
        f"MSH|^~\\&|GAM|HOPITAL|RCP|RCP|{time.strftime('%Y%m%d%H%M%S')}||ADT^{event}^"
        f"{structure}|{uuid.uuid4().hex[:20]}|P|2.5|||||FRA|UNICODE UTF-8"
    )
    return "\r".join([msh, f"EVN||{time.strftime('%Y%m%d%H%M%S')}", *segments])


async def _interface(port: int, interface: Interface, count: int, interval: float, results):
    reader, writer = await open_hl7_connection("127.0.0.1", port, encoding="utf-8")
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        for n in range(count):
            if interval:
                await asyncio.sleep(max(0.0, start + n * interval - loop.time()))
            text = interface.next_message()
            sent = time.perf_counter()
            writer.writeblock(text.encode("utf-8"))
            await writer.drain()
            block = await reader.readblock()
            latency = time.perf_counter() - sent
            code = block.split(b"\rMSA|", 1)[1][:2].decode() if b"\rMSA|" in block else "??"
            results.append((text[text.index("ADT^") + 4 : text.index("ADT^") + 7], code, latency))
    finally:
        writer.close()
        await writer.wait_closed()


async def _feed(port: int, args) -> tuple[float, list]:
    rng = random.Random(20261201)
    shares = [args.messages // args.connections] * args.connections
    shares[0] += args.messages - sum(shares)
    interval = args.connections * 60 / args.rate if args.rate else 0.0
    results: list = []
    started = time.perf_counter()
    await asyncio.gather(
        *(
            _interface(port, Interface(n, rng), share, interval, results)
            for n, share in enumerate(shares)
        )
    )
    return time.perf_counter() - started, results


def _percentile(values: list[float], fraction: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(fraction * 100) - 1]


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.disable(logging.WARNING)
    with throwaway_database(args.server) as (url, base):
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "ENV_VARS": {"RCP_SECRET_KEY": "bench", "RCP_AUDIT_KEY": "bench"},
            }
        )
        with app.app_context():
            upgrade()
            load_builtin()
            db.session.commit()
            db.session.remove()
        with running(app, workers=args.workers) as listener:
            elapsed, results = asyncio.run(_feed(listener.port, args))
        with app.app_context():
            patients = db.session.scalar(select(func.count()).select_from(Patient))
            db.engine.dispose()
    latencies = [latency * 1000 for _, _, latency in results]
    per_minute = len(results) / elapsed * 60
    codes = Counter(code for _, code, _ in results)
    events = Counter(event for event, _, _ in results)
    pace = f"{args.rate:.0f}/min imposés" if args.rate else "au plus vite"
    print(
        f"Flux HL7 — {base}, {len(results)} messages sur {args.connections} connexion(s), "
        f"{args.workers} fil(s) de traitement, {pace}"
    )
    print("événements : " + ", ".join(f"{k} {v}" for k, v in sorted(events.items())))
    print("acquittements : " + ", ".join(f"{k} {v}" for k, v in sorted(codes.items())))
    print(f"patients en base à la fin : {patients}")
    print(f"durée : {elapsed:.1f} s, soit {per_minute:.0f} messages/min")
    print(
        f"latence ACK : p50 {_percentile(latencies, 0.5):.1f} ms, "
        f"p95 {_percentile(latencies, 0.95):.1f} ms, max {max(latencies):.1f} ms"
    )
    failed = codes.get("AA", 0) != len(results)
    slow = not args.rate and per_minute < TARGET_PER_MINUTE
    if failed or slow:
        print(f"CIBLE NON ATTEINTE : {TARGET_PER_MINUTE} messages/min, tous acceptés (AA).")
        sys.exit(1)


if __name__ == "__main__":
    main()
