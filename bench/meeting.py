"""Meeting benchmark: one published session of 60 cases, time the meeting page and autosave.

    .venv/bin/python -m bench.meeting [SERVER_URL] [--keep]
    .venv/bin/python -m bench.meeting --sqlite

Seeds 5,000 patients and 10,000 cases (bench.seed), then one upcoming session of the RCP
with 60 agenda items (submitted cases of that RCP, assigned and published through
agenda.operations) and 8 attendees (attendance.operations). Logged in through the login form
as the RCP's coordinating physician (or the secretariat when no account is theirs), it times
(1) GET /seances/<id>/reunion?dossier=<item> and (2) the decision autosave, a JSON POST as
static/js/meeting.js sends it (whole form, X-CSRFToken header, current version; the next save
of the same item sends the version the response returned). See bench/README.md.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime

from flask_migrate import upgrade
from sqlalchemy import select

from rcp_app.agenda import operations as agenda
from rcp_app.attendance import operations as attendance_ops
from rcp_app.auth.models import User
from rcp_app.core.errors import DomainError
from rcp_app.core.timeutil import utcnow
from rcp_app.directory.models import Professional, Rcp
from rcp_app.extensions import db
from rcp_app.meetings import operations as meeting_ops
from rcp_app.meetings.models import MeetingSession
from rcp_app.terminology.builtin import TREATMENT_TYPE, load_builtin
from rcp_app.terminology.models import concept_choices

from . import case_registration as base
from . import measure, seed

TARGET_MS = 50.0
ITEMS = 60
ATTENDEES = 8
RCP_SUFFIX = "SEIN"  # the busiest RCP of the benchmark's directory
PROPOSALS = [
    "Chirurgie conservatrice avec exploration du ganglion sentinelle, puis radiothérapie "
    "adjuvante du sein ; hormonothérapie par inhibiteur de l'aromatase pendant cinq ans.",
    "Chimiothérapie néoadjuvante (4 EC puis 12 paclitaxel hebdomadaire) associée au "
    "trastuzumab et au pertuzumab, réévaluation par IRM avant chirurgie.",
    "Mastectomie totale avec curage axillaire ; discuter la reconstruction immédiate avec "
    "la patiente, radiothérapie de paroi et des aires ganglionnaires.",
    "Surveillance clinique et mammographique annuelle ; pas d'indication de traitement "
    "complémentaire au vu du faible risque de récidive.",
]
COMMENTS = [
    "Dossier présenté par l'interne ; compte rendu opératoire à joindre.",
    "Avis oncogériatrique souhaité avant toute chimiothérapie.",
    "Consultation d'oncogénétique à proposer (antécédents familiaux).",
]
EXAMS = ["IRM mammaire bilatérale", "TEP-TDM au 18F-FDG", "Biopsie d'une adénopathie axillaire"]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "server",
        nargs="?",
        default=os.environ.get("RCP_BENCH_DATABASE_URL", base.DEFAULT_SERVER),
        help="serveur PostgreSQL (URL SQLAlchemy ; une base rcp_bench_… y est créée)",
    )
    parser.add_argument("--sqlite", action="store_true", help="base SQLite temporaire")
    parser.add_argument("--patients", type=int, default=5_000)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200, help="requêtes mesurées par scénario")
    parser.add_argument("--warmup", type=int, default=20, help="requêtes d'échauffement")
    parser.add_argument(
        "--icu-locale", default="fr-FR", help="collation ICU de la base créée ('' = du serveur)"
    )
    parser.add_argument("--keep", action="store_true", help="ne pas supprimer la base")
    args = parser.parse_args(argv)
    args.reuse = None  # base.throwaway_database
    return args


@dataclass
class Meeting:
    session_id: int
    rcp_name: str
    username: str
    items: list[int]
    attendees: int
    treatments: list[str] = field(default_factory=list)


def _attendees(rcp: Rcp) -> list[Professional]:
    """The coordinator, one professional per required specialty, then others of the site."""
    pros = db.session.scalars(
        select(Professional)
        .where(Professional.establishment_id == rcp.establishment_id, Professional.active)
        .order_by(Professional.id)
    ).all()
    chosen = [p for p in pros if p.id == rcp.coordinator_id]
    for code in rcp.required_specialty_codes:
        match = next((p for p in pros if p.specialty_code == code and p not in chosen), None)
        if match is not None:
            chosen.append(match)
    chosen += [p for p in pros if p not in chosen][: max(0, ATTENDEES - len(chosen))]
    return chosen[:ATTENDEES]


def seed_meeting(seeded: seed.Seeded) -> Meeting:
    """The RCP's next session: 60 pool cases assigned, agenda published, 8 attendees."""
    started = time.perf_counter()
    now = utcnow()
    rcp = db.session.get(Rcp, seeded.directory.rcps[RCP_SUFFIX])
    secretariat = db.session.scalar(
        select(User).where(User.username == seeded.directory.coordinator_username)
    )
    physician = db.session.scalar(
        select(User).where(User.professional_id == rcp.coordinator_id, User.role == "physician")
    )
    session = db.session.scalars(
        select(MeetingSession)
        .where(MeetingSession.rcp_id == rcp.id, MeetingSession.starts_at > now)
        .order_by(MeetingSession.starts_at)
        .limit(1)
    ).one()
    session.capacity = ITEMS
    db.session.flush()
    # Latest submissions first, as a secretariat fills the agenda; one case per patient.
    pool = sorted(agenda.pool_cases(session), key=lambda c: (c.submitted_at, c.id), reverse=True)
    patients: set[int] = set()
    for case in pool:
        if len(patients) == ITEMS:
            break
        if case.patient_id in patients or not case.tumours:
            continue
        try:
            with db.session.begin_nested():
                agenda.assign(session, case.id, "Complété en séance (banc d'essai).", now)
        except DomainError:
            continue
        patients.add(case.patient_id)
    agenda.publish(session, session.agenda_version, now)
    meeting_ops.change_status(session, "in_progress", session.version)
    attendees = _attendees(rcp)
    for pro in attendees:
        attendance_ops.record_attendance(session, secretariat, pro.id, now=now)
    items = [item.id for item in agenda.agenda_items(session)]
    user = physician or secretariat
    session_id = session.id
    treatments = [code for code, _ in concept_choices(TREATMENT_TYPE)]
    label = f"séance {session.id} ({rcp.name}, {session.status})"
    username, rcp_name = user.username, rcp.name
    db.session.commit()
    db.session.remove()  # no transaction left open (SQLite: BEGIN IMMEDIATE)
    print(
        f"  {label} : {len(items)} dossiers, "
        f"{len(attendees)} présents  {time.perf_counter() - started:7.1f} s",
        flush=True,
    )
    return Meeting(
        session_id,
        rcp_name,
        username,
        items,
        len(attendees),
        treatments,
    )


@dataclass
class Timing:
    key: str
    label: str
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    sql_seconds: list[float] = field(default_factory=list)
    audit_seconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    full_gc: int = 0  # measured requests during which Python ran a full (generation 2) GC

    def ms(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def p50(self) -> float:
        return 1000 * statistics.median(self.seconds)

    @property
    def p95(self) -> float:
        return self.ms(0.95)


_FULL_GC = [0]


def _count_full_gc(phase: str, info: dict) -> None:
    if phase == "start" and info.get("generation") == 2:
        _FULL_GC[0] += 1


def _timed(instruments: measure.Instruments, timing: Timing, measured: bool, call):
    instruments.probe = probe = measure.Probe()
    collections = _FULL_GC[0]
    cpu = time.process_time()
    started = time.perf_counter()
    response = call()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    if response.status_code != 200:
        raise SystemExit(f"{timing.key}: {response.status_code} {response.get_data(as_text=True)}")
    if measured:
        timing.seconds.append(elapsed)
        timing.cpu_seconds.append(cpu)
        timing.sql_seconds.append(probe.sql_seconds)
        timing.audit_seconds.append(probe.audit_seconds)
        timing.queries.append(len(probe.statements))
        timing.full_gc += _FULL_GC[0] > collections
    return response


def _form(rng: random.Random, token: str, state: dict) -> dict:
    """What FormData(form) holds after some more typing (meeting.js sends all fields)."""
    state["typed"] = min(len(state["text"]), state["typed"] + rng.randint(8, 40))
    state["seconds"] += rng.randint(2, 15)
    data = {
        "csrf_token": token,
        "version": str(state["version"]),
        "seconds_spent": str(state["seconds"]),
        "postpone_reason": "",
        "proposal_code": state["proposal"],
        "proposal_details": state["text"][: state["typed"]],
        "exams_requested": state["exams"],
        "recourse_rcp": "",
        "guideline_name": "Référentiel régional cancer du sein" if state["typed"] > 60 else "",
        "guideline_version": "2025" if state["typed"] > 60 else "",
        "guideline_date": "",
        "deviation_reason": "",
        "trial_name": "",
        "trial_identifier": "",
        "file_complete": "yes",
        "quorum_status": "",
        "comments": state["comments"][: max(0, state["typed"] - 80)],
    }
    for rank in (1, 2, 3):
        data[f"alt_code_{rank}"] = state["alternative"] if rank == 1 else ""
        data[f"alt_details_{rank}"] = ""
    if state["typed"] > 30:
        data["outcome"] = "discussed"
    return data


def measure_meeting(app, meeting: Meeting, count: int, warmup: int) -> list[Timing]:
    rng = random.Random(11)
    client = measure.login(app, meeting.username)
    path = f"/seances/{meeting.session_id}/reunion"
    page = Timing("page", "Page de séance (dossier varié : présentation, décision, quorum)")
    save = Timing("save", "Enregistrement automatique d'une décision (JSON, version)")
    instruments = measure.Instruments(app)
    states = {
        item: {
            "version": 0,
            "seconds": 0,
            "typed": 0,
            "text": rng.choice(PROPOSALS),
            "comments": rng.choice(COMMENTS),
            "exams": rng.choice(EXAMS) if rng.random() < 0.4 else "",
            "proposal": rng.choice(meeting.treatments),
            "alternative": rng.choice(meeting.treatments) if rng.random() < 0.3 else "",
        }
        for item in meeting.items
    }
    # The page's CSRF token, as meeting.js reads it from the decision form (not measured).
    first = client.get(path, query_string={"dossier": str(meeting.items[0])})
    token = measure.CSRF.search(first.get_data(as_text=True)).group(1)
    gc.callbacks.append(_count_full_gc)
    with instruments.installed():
        # Typing: a few saves in a row on the current case, then another case (varied).
        item = rng.choice(meeting.items)
        for index in range(warmup + count):
            if rng.random() < 0.3:
                item = rng.choice(meeting.items)
            state = states[item]
            body = _form(rng, token, state)
            response = _timed(
                instruments,
                save,
                index >= warmup,
                lambda item=item, body=body: client.post(
                    f"{path}/{item}/decision",
                    json=body,
                    headers={"X-CSRFToken": token, "Accept": "application/json"},
                ),
            )
            state["version"] = response.get_json()["version"]
        # Then the page, most cases now carrying a decision (as in the middle of a meeting).
        for index in range(warmup + count):
            item = rng.choice(meeting.items)
            _timed(
                instruments,
                page,
                index >= warmup,
                lambda item=item: client.get(path, query_string={"dossier": str(item)}),
            )
    gc.callbacks.remove(_count_full_gc)
    saved = sum(1 for s in states.values() if s["version"])
    top = max(s["version"] for s in states.values())
    print(f"  {saved} décisions enregistrées sur {len(states)}, version maximale {top}")
    return [page, save]


HEADER = (
    "                  ms     |  médianes (ms)    | SQL  requêtes avec\n"
    "       p50    p95    max |   CPU   SQL audit | req. GC complet"
)


def report_line(timing: Timing) -> None:
    queries = sorted(set(timing.queries))
    shown = str(queries[0]) if len(queries) == 1 else f"{queries[0]}–{queries[-1]}"

    def median_ms(values) -> str:
        return f"{1000 * statistics.median(values):5.1f}"

    verdict = "ok" if timing.p95 <= TARGET_MS else "AU-DESSUS"
    print(
        f"{timing.key:<5} {timing.p50:6.1f} {timing.p95:6.1f} {1000 * max(timing.seconds):6.1f} "
        f"| {median_ms(timing.cpu_seconds)} {median_ms(timing.sql_seconds)} "
        f"{median_ms(timing.audit_seconds)} | {shown:>5} {timing.full_gc:>5}  {verdict:<9} "
        f"{timing.label}",
        flush=True,
    )


def prepare(app, args) -> Meeting:
    """Migrate, seed, build the session; the seeded rows are released on return."""
    logging.disable(logging.INFO)  # the migrations' progress lines
    try:
        with app.app_context():
            started = time.perf_counter()
            upgrade()
            load_builtin()
            db.session.commit()
            print(f"Migrations et terminologies : {time.perf_counter() - started:.1f} s")
            print(f"Remplissage : {args.patients} patients, {args.cases} dossiers")
            meeting = seed_meeting(seed.seed(args.patients, args.cases))
            seed.analyze()
    finally:
        logging.disable(logging.NOTSET)
    return meeting


def run(args, app) -> list[Timing]:
    meeting = prepare(app, args)
    gc.collect()  # the seeding's garbage is not the requests' (a server process has none)
    print(
        f"Serveur : {base.server_version(app)} ; {args.requests} requêtes mesurées par "
        f"scénario après {args.warmup} d'échauffement ; cible p95 ≤ {TARGET_MS:.0f} ms ; "
        f"connecté en tant que {meeting.username}"
    )
    print(f"Charge de la machine avant mesure (load average 1/5/15 min) : {base._load()}")
    print(HEADER)
    try:
        timings = measure_meeting(app, meeting, args.requests, args.warmup)
        for timing in timings:
            report_line(timing)
    finally:
        with app.app_context():
            db.engine.dispose()
    return timings


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(
        f"Banc d'essai « séance » — {datetime.now():%d/%m/%Y %H:%M}, "
        f"{platform.node()}, {os.cpu_count()} cœurs, Python {platform.python_version()}"
    )
    with (
        tempfile.TemporaryDirectory(prefix="rcp-bench-files-") as attachments,
        base.throwaway_database(args) as (url, description),
    ):
        print(f"Base : {description}")
        timings = run(args, base.make_app(url, attachments))
    print(f"Charge de la machine après mesure (load average 1/5/15 min) : {base._load()}")
    missed = [t.key for t in timings if t.p95 > TARGET_MS]
    print("Cible atteinte pour les 2 scénarios." if not missed else f"Cible manquée : {missed}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
