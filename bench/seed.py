"""Seed a migrated, empty database: directory (ORM), then bulk rows (COPY / executemany).

Also writes one hash-chained audit row per created patient and case, as the application
would have, so that the audit log has a realistic size when the benchmark appends to it.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from datetime import timedelta

from rcp_app.cases.models import Biomarker, Case, Tumour
from rcp_app.core.audit import GENESIS_HASH, AuditEntry
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.meetings.models import MeetingSession
from rcp_app.patients.models import Patient

from . import population
from .bulk import insert_rows, reset_sequences
from .directory import Directory, seed_directory

SEED = 20260501
CHUNK = 20_000


@dataclass
class Seeded:
    directory: Directory
    cohort: population.Cohort
    counts: dict[str, int]
    seconds: float


def _log(message: str, started: float) -> None:
    print(f"  {message:<52} {time.perf_counter() - started:7.1f} s", flush=True)


def seed(patient_count: int, case_count: int, professionals: int = 50) -> Seeded:
    started = time.perf_counter()
    rng = random.Random(SEED)
    now = utcnow()
    directory = seed_directory(rng, professionals, now)
    db.session.commit()
    _log(f"annuaire : {directory.counts}", started)

    cohort = population.patients(rng, patient_count)
    session_rows, by_rcp = population.sessions(directory, now)
    factory = population.CaseFactory(rng, directory, cohort, by_rcp, now)
    batch = population.CaseBatch()
    for case_id in range(1, case_count + 1):
        factory.case(case_id, batch)
    for row in cohort.rows:  # a patient is created just before their first case
        first = factory.first_case_at.get(row["id"])
        created = (
            first - timedelta(hours=rng.uniform(1, 720)) if first
            else now - timedelta(days=rng.uniform(1, 3650))
        )  # fmt: skip
        row["created_at"] = row["updated_at"] = created
        # Who registered the patient: whoever registered their first case (rcp_app/access
        # shows them the identity page).
        row["created_by_id"] = factory.first_case_by.get(row["id"], directory.coordinator_user)
    _log("génération en mémoire", started)

    counts = {}
    with db.engine.begin() as conn:
        counts["patients"] = insert_rows(conn, Patient.__table__, cohort.rows)
        _log(f"{counts['patients']} patients", started)
        counts["séances"] = insert_rows(conn, MeetingSession.__table__, session_rows)
        for name, model, rows in (
            ("dossiers", Case, batch.cases),
            ("tumeurs", Tumour, batch.tumours),
            ("biomarqueurs", Biomarker, batch.biomarkers),
        ):
            counts[name] = insert_rows(conn, model.__table__, rows)
            _log(f"{counts[name]} {name}", started)
        audit = insert_rows(
            conn, AuditEntry.__table__, audit_rows(directory, cohort.rows, batch.cases)
        )
        counts["entrées d'audit"] = audit
        _log(f"{audit} entrées d'audit (chaînées)", started)
        reset_sequences(
            conn,
            [t.__table__ for t in (Patient, MeetingSession, Case, Tumour, Biomarker, AuditEntry)],
        )
    analyze()
    _log("VACUUM ANALYZE", started)
    return Seeded(directory, cohort, counts, time.perf_counter() - started)


def audit_rows(directory: Directory, patients: list[dict], cases: list[dict]):
    """patient.create and case.create rows in time order, chained like audit.record does."""
    events = [(p["created_at"], 0, p["id"], p["id"], p["created_by_id"]) for p in patients]
    events += [(c["created_at"], 1, c["id"], c["patient_id"], c["created_by_id"]) for c in cases]
    events.sort()
    prev_hash = GENESIS_HASH
    for seq, (at, kind, object_id, patient_id, user_id) in enumerate(events, start=1):
        entry = AuditEntry(  # transient: never added to the session
            id=seq,
            seq=seq,
            at=at,
            user_id=user_id,
            username=directory.usernames[user_id],
            ip="10.0.0.1",
            action=("patient.create", "case.create")[kind],
            object_type=("patient", "case")[kind],
            object_id=str(object_id),
            patient_id=patient_id,
            details=json.dumps({"source": "bench"}, sort_keys=True),
            prev_hash=prev_hash,
        )
        entry.hash = prev_hash = entry.compute_hash()
        yield {column.key: getattr(entry, column.key) for column in AuditEntry.__table__.columns}


def analyze() -> None:
    """Fresh statistics and visibility map, as autovacuum would give a long-lived database."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
