"""A year of activity before « now », so that the statistics page (rcp_app/reports) has months
to compare: the breast RCP (two sessions a month) and the gynaecological recourse RCP (one).
history_data.py says what happens (the patients' journeys, each RCP's plan); this module makes
it happen.

Every past session goes through the operations a real one uses, as past_session.py does:
registration, agenda (late additions, incomplete files listed by override, postponements,
refusals), publication, attendance, decisions, closing, validation and signature, amendments;
then the outbox records what became of each message (sent, read receipt, failure) through the
delivery package's own functions. Operations taking ``now=`` get the past time of the event.
Case registration has no such argument and accepts only sessions to come: the session is moved
ahead while its cases are registered, then set back, and the cases' registration times are set
back on their rows (not write-once, unlike the fiches, which are only ever created).

The gynaecological RCP's coordinating physician has no demo account: the RCP delegates
validation to its gynaecological surgeon, dr.nguyen. The CHU's RCPs get no history for the same
reason (nobody could sign their fiches).

Cost: each signed fiche is rendered and sealed (0.2 to 0.4 s); the history signs about 80.
Weeks 1 to 4 before the breast RCP's next session stay free (last week's session of
past_session.py, the sessions of bench/fiches.py and bench/load.py), and the benchmarks need
56 unused patients aged 20 to 69: the history takes patients of 70 and over first.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from ..agenda import operations as agenda
from ..attendance import operations as attendance_ops
from ..auth.models import User
from ..cases import operations as case_ops
from ..cases.completeness import G8_AGE
from ..cases.models import Case
from ..core.timeutil import to_paris
from ..decisions import operations as decision_ops
from ..delivery.mdn import build_mdn
from ..delivery.models import Transmission
from ..delivery.receipts import apply_receipt
from ..delivery.worker import record_outcome
from ..directory.models import Professional, Rcp, RcpValidator
from ..extensions import db
from ..fiches import operations as fiche_ops
from ..fiches.models import Fiche
from ..meetings import operations as sessions_ops
from ..meetings.models import AgendaItem, MeetingSession
from ..patients.models import Patient
from ..terminology.builtin import QUORUM_NOT_REACHED, QUORUM_REACHED
from .history_data import (
    AMEND,
    HISTORIES,
    LATE,
    NO_QUORUM,
    OVERRIDE,
    POSTPONE,
    POSTPONE_AT_CLOSE,
    POSTPONE_TWICE,
    POSTPONED_AT_AGENDA,
    POSTPONED_AT_CLOSE,
    QUORUM_MISSED,
    REFUSE,
    URGENT,
    Journey,
    RcpHistory,
    day_text,
)
from .history_followups import record_history_outcomes
from .past_session import _past_start

HISTORY_SEED = 2606  # one random year among others, of about 75 fiches (the demo load time)
GP_SPECIALTY = "G15_10/SM26"
RADIOTHERAPY_SPECIALTY = "G15_10/SM37"
FAILED_DELIVERY = "Refus définitif du destinataire {address} : 550 5.1.1 Destinataire inconnu"
# Read receipts: (share of the messages acknowledged, fewest and most days after sending).
RECEIPTS = {"dcc": (0.95, 0.02, 0.2), "requester": (0.85, 0.1, 3.0), "gp": (0.7, 0.5, 12.0)}
# Days from the meeting to the signature of a fiche, drawn: most the same day.
SIGNATURE_DELAYS = (0, 0, 0, 0, 1, 1, 2, 3, 6, 9)


@dataclass
class Line:
    """A case of the history on its way through a session (or several, when postponed)."""

    journey: Journey
    step: int
    requester: Professional
    values: dict = field(default_factory=dict)
    decision: dict = field(default_factory=dict)
    case: Case | None = None
    late: bool = False
    incomplete: bool = False
    refusal: tuple[str, bool] | None = None
    postpone: str | None = None  # postponed while the agenda is built, with this reason
    close_postpone: str | None = None  # postponed when the session closes, with this reason
    then_close_postpone: bool = False  # postponed once more at the next session's close


@dataclass
class World:
    """What every session of the history needs, read once."""

    now: datetime
    rng: random.Random
    users: dict[str, User]
    gps: list[Professional]
    free_patients: list[Patient]
    professionals: dict[tuple[str, str], Professional]
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def add_history(rcps: list[Rcp], patients: list[Patient], users: dict[str, User], now) -> dict:
    """The year of history of the breast and gynaecological RCPs; returns the counts.

    Idempotent: an RCP that already has sessions over the history's weeks is left as it is.
    """
    rng = random.Random(HISTORY_SEED)
    taken = set(db.session.scalars(select(Case.patient_id)))
    free = [p for p in patients if p.id not in taken and p.sex == "F"]
    rng.shuffle(free)
    world = World(now, rng, users, _gps(), free, _professionals_by_name())
    first_transmission = db.session.scalar(select(func.max(Transmission.id))) or 0
    first_fiche = db.session.scalar(select(func.max(Fiche.id))) or 0
    by_suffix = {rcp.national_id.rsplit("-", 1)[-1]: rcp for rcp in rcps}
    for plan in HISTORIES:
        rcp = by_suffix[plan.suffix]
        starts = [_past_start(rcp, now, weeks) for weeks in plan.weeks]
        if not _already_held(rcp, starts):
            _delegate_validation(rcp, users[plan.validator])
            _run(plan, rcp, starts, world)
    _deliver(first_transmission, world)
    followed = record_history_outcomes(first_fiche, now)
    c = world.counts
    return {
        "séances passées tenues": c["held"],
        "séances passées non tenues": c["unheld"],
        "dossiers présentés": c["presented"],
        "reports": c["postponed"],
        "dossiers refusés": c["refused"],
        "fiches signées de l'historique": c["signed"],
        "avenants de l'historique": c["amended"],
        "suivis renseignés de l'historique": followed,
    }


def _age(patient: Patient) -> int:
    return date.today().year - patient.birth_date.year


def _gps() -> list[Professional]:
    return list(
        db.session.scalars(
            select(Professional)
            .where(Professional.specialty_code == GP_SPECIALTY)
            .order_by(Professional.id)
        )
    )


def _professionals_by_name() -> dict[tuple[str, str], Professional]:
    return {(p.first_name, p.last_name): p for p in db.session.scalars(select(Professional))}


def _already_held(rcp: Rcp, starts: list[datetime]) -> bool:
    """Whether the RCP already has sessions over the history's weeks (a week's margin: the
    weeks count from its next session, which moves on once a start time has passed)."""
    found = db.session.scalar(
        select(MeetingSession.id)
        .where(
            MeetingSession.rcp_id == rcp.id,
            MeetingSession.starts_at.between(starts[0] - timedelta(days=7), starts[-1]),
        )
        .limit(1)
    )
    return found is not None


def _delegate_validation(rcp: Rcp, validator: User) -> None:
    if validator.professional_id not in fiche_ops.validator_ids(rcp):
        db.session.add(RcpValidator(rcp_id=rcp.id, professional_id=validator.professional_id))
        db.session.flush()


# --- the sessions of one RCP -----------------------------------------------------------------


def _run(plan: RcpHistory, rcp: Rcp, starts: list[datetime], world: World) -> None:
    """Hold the sessions in order; a presented case's next step is due some sessions later."""
    sessions = [_plan_session(rcp, start) for start in starts]
    due: dict[int, list[tuple[Journey, int]]] = defaultdict(list)
    carried: list[Line] = []
    for index, session in enumerate(sessions):
        if index in plan.unheld:
            # Cancelled (holidays): its follow-ups wait for the next session.
            due[index + 1].extend(due.pop(index, []))
            world.counts["unheld"] += 1
            continue
        lines = [_line(plan, world, journey, step) for journey, step in due.pop(index, [])]
        wanted = world.rng.choice(plan.per_session)
        lines += [_line(plan, world) for _ in range(wanted - len(lines))]
        events = plan.events.get(index, ())
        _give_events(plan, lines, events, world)
        presented, carried = _hold(plan, session, carried, lines, events, world)
        for line in presented:
            steps = line.journey.kind.steps
            if line.step + 1 < len(steps):
                due[index + steps[line.step + 1][0]].append((line.journey, line.step + 1))
        for line in lines:
            if line.refusal and line.refusal[1]:
                due[index + 1].append((line.journey, 0))  # submitted again, complete


def _plan_session(rcp: Rcp, start: datetime) -> MeetingSession:
    values = {
        "starts_at": start,
        "deadline_at": start - timedelta(hours=rcp.deadline_hours),
        "place": rcp.place,
        "video_url": rcp.video_url,
        "capacity": rcp.capacity,
    }
    return sessions_ops.create_session(rcp, values, now=start - timedelta(days=42))


def _line(plan: RcpHistory, world: World, journey: Journey | None = None, step: int = 0) -> Line:
    """The next step of a journey, or the first step of a new one (a new patient)."""
    rng = world.rng
    if journey is None:
        drawn = rng.choices(plan.kinds, weights=[k.weight for k in plan.kinds])[0]
        # When nobody of the drawn kind's ages is left, the first kind that has someone.
        for kind in (drawn, *plan.kinds):
            patient = _take_patient(world, *kind.ages)
            if patient is not None:
                break
        else:
            raise LookupError(f"no free demo patient left for the history of {plan.suffix}")
        journey = Journey(kind, patient, random.Random(rng.random()))
    return Line(journey, step, world.professionals[rng.choice(plan.requesters)])


def _take_patient(world: World, low: int, high: int) -> Patient | None:
    """A free patient of that age: 70 or over first, the youngest of them, so that the very old
    remain for the journeys that need them and those under 70 for the benchmarks."""
    fitting = [p for p in world.free_patients if low <= _age(p) <= high]
    if not fitting:
        return None
    patient = min(fitting, key=lambda p: (_age(p) < G8_AGE, _age(p) if _age(p) >= G8_AGE else 0))
    world.free_patients.remove(patient)
    return patient


def _give_events(
    plan: RcpHistory, lines: list[Line], events: tuple[str, ...], world: World
) -> None:
    """Each event of the session goes to a different new case (follow-ups keep their course);
    a refusal comes with a case of its own. Without a follow-up, one new case at least keeps
    its ordinary course, so that the agenda is never empty when published."""
    kinds = (LATE, OVERRIDE, POSTPONE, POSTPONE_TWICE, POSTPONE_AT_CLOSE, NO_QUORUM)
    roles = [role for role in kinds if role in events]
    new = [line for line in lines if line.step == 0]
    ordinary = 0 if len(new) < len(lines) else 1
    while len(new) < len(roles) + ordinary:
        new.append(_line(plan, world))
        lines.append(new[-1])
    for role, line in zip(roles, reversed(new), strict=False):
        line.late = role == LATE
        line.incomplete = role == OVERRIDE
        if role in (POSTPONE, POSTPONE_TWICE):
            line.postpone = POSTPONED_AT_AGENDA
            line.then_close_postpone = role == POSTPONE_TWICE
        elif role in (POSTPONE_AT_CLOSE, NO_QUORUM):
            line.close_postpone = QUORUM_MISSED if role == NO_QUORUM else POSTPONED_AT_CLOSE
    if REFUSE in events:
        refused = _line(plan, world)
        refused.refusal = plan.refusals[world.counts["refused_" + plan.suffix] % len(plan.refusals)]
        world.counts["refused_" + plan.suffix] += 1
        lines.append(refused)


def _hold(
    plan: RcpHistory,
    session: MeetingSession,
    carried: list[Line],
    lines: list[Line],
    events: tuple[str, ...],
    world: World,
) -> tuple[list[Line], list[Line]]:
    """One past session from registration to signature; returns (presented, postponed)."""
    for line in carried:
        line.close_postpone = POSTPONED_AT_CLOSE if line.then_close_postpone else None
        line.then_close_postpone = False
    everyone = carried + lines
    _register(plan, session, lines, world)
    _build_agenda(plan, session, everyone, world)
    quorum = NO_QUORUM not in events
    sessions_ops.change_status(session, "in_progress", session.version)
    _attend(session, world, quorum)
    _decide(plan, session, everyone, world, quorum)
    closing = session.starts_at + timedelta(hours=2)
    problems = decision_ops.close_session(session, {}, session.version, now=closing)
    if problems:
        raise RuntimeError(f"history session of {session.starts_at:%d/%m/%Y}: {problems}")
    world.counts["held"] += 1
    world.counts["postponed"] += sum(1 for line in everyone if line.close_postpone)
    _sign(plan, session, world, amend=AMEND in events)
    presented = [line for line in everyone if line.case.status in ("discussed", "registered")]
    return presented, [line for line in everyone if line.case.status == "postponed"]


def _register(plan: RcpHistory, session: MeetingSession, lines: list[Line], world: World) -> None:
    """Each line's case, submitted to the session while it is moved ahead (registration accepts
    only sessions to come), then dated back to when it was submitted: days before the
    deadline, or after it for a late addition."""
    start, deadline = session.starts_at, session.deadline_at
    # Odd seconds: never the start of another session (those start on whole minutes).
    ahead = world.now.replace(second=17, microsecond=0) + timedelta(days=2)
    session.starts_at = session.deadline_at = ahead
    day = to_paris(start).date()
    for line in lines:
        line.values, line.decision = line.journey.kind.steps[line.step][1](line.journey, day)
        if line.incomplete or line.refusal:
            _leave_out(line.values, plan.incomplete[0])
        line.case = case_ops.create_case(
            line.journey.patient,
            session.rcp,
            _author(line.requester, world),
            _form(session, line, day, world),
            submit=True,
        )
    session.starts_at, session.deadline_at = start, deadline
    rng = world.rng
    for line in lines:
        early = timedelta(days=rng.randint(3, 12), hours=rng.randint(0, 9))
        submitted = start - (timedelta(hours=30) if line.late else early)
        line.case.created_at = submitted - timedelta(minutes=rng.randint(10, 90))
        line.case.submitted_at = line.case.updated_at = submitted
        line.case.is_late = line.late
    db.session.flush()


def _leave_out(values: dict, name: str) -> None:
    values.pop(name, None)
    for row in values.get("tumour_rows", []):
        row.pop(name, None)


def _author(requester: Professional, world: World) -> User:
    """The referring physician registers the case when they have a demo account, the 3C
    secretariat otherwise."""
    for user in world.users.values():
        if user.professional_id == requester.id and user.role == "physician":
            return user
    return world.users["coordination"]


def _form(session: MeetingSession, line: Line, day: date, world: World) -> dict:
    rng = world.rng
    gp = rng.choice(world.gps[:1] * 3 + world.gps)  # the demo GP's account gets her share
    data = {
        "session_id": str(session.id),
        "requester_id": str(line.requester.id),
        "nature": session.rcp.nature,
        "appareil_code": session.rcp.appareil_code or "",
        "gp": "unknown" if rng.random() < 0.06 else str(gp.id),
        "patient_informed_on": day_text(day - timedelta(days=rng.randint(14, 21))),
        "patient_informed_by": line.requester.display_name,
        "patient_non_opposition": True,
        **line.values,
    }
    if _age(line.journey.patient) >= G8_AGE and "g8_score" not in data:
        data["g8_score"] = str(rng.randint(12, 16))  # screened, not frail
    return data


def _build_agenda(
    plan: RcpHistory, session: MeetingSession, lines: list[Line], world: World
) -> None:
    """The secretariat after the deadline: lists, refuses, postpones, publishes; late cases are
    added to the published agenda; standard cases are marked « enregistré »."""
    start = session.starts_at
    for line in lines:
        if not line.late and not line.refusal:
            _assign(plan, session, line, start - timedelta(hours=47))
    for line in lines:
        if line.refusal:
            agenda.refuse(session, line.case.id, line.refusal[0], now=start - timedelta(hours=46))
            world.counts["refused"] += 1
        elif line.postpone:
            agenda.postpone(session, line.case.id, line.postpone, now=start - timedelta(hours=45))
            line.postpone = None
            world.counts["postponed"] += 1
    agenda.publish(session, session.agenda_version, now=start - timedelta(hours=44))
    for line in lines:
        if line.late:
            _assign(plan, session, line, start - timedelta(hours=26))
    for item in agenda.agenda_items(session):
        decision = _line_of(item, lines).decision
        if decision["outcome"] == "registered":
            agenda.update_item(session, item.id, "registered", decision["guideline_name"], "3")


def _assign(plan: RcpHistory, session: MeetingSession, line: Line, when: datetime) -> None:
    override = plan.incomplete[1] if line.incomplete else None
    agenda.assign(session, line.case.id, override_reason=override, now=when)


def _line_of(item: AgendaItem, lines: list[Line]) -> Line:
    return next(line for line in lines if line.case.id == item.case_id)


def _attend(session: MeetingSession, world: World, quorum: bool) -> None:
    """The coordinating physician, one member of each required specialty and a few others,
    recorded by the secretariat; a session without quorum has only its radiotherapist."""
    rcp, rng = session.rcp, world.rng
    staff = db.session.scalars(
        select(Professional)
        .where(
            Professional.establishment_id == rcp.establishment_id,
            Professional.id != rcp.coordinator_id,
        )
        .order_by(Professional.id)
    ).all()
    required = rcp.required_specialty_codes
    wanted = required if quorum else [RADIOTHERAPY_SPECIALTY]
    present = [rcp.coordinator_id]
    for code in wanted:
        candidates = [p.id for p in staff if p.specialty_code == code and p.id not in present]
        present += [rng.choice(candidates)] if candidates else []
    if quorum:
        others = [p.id for p in staff if p.specialty_code not in required]
        present += rng.sample(others, k=min(len(others), rng.randint(1, 3)))
    arrival = session.starts_at - timedelta(minutes=5)
    for number, pid in enumerate(present):
        mode = "remote" if number and rng.random() < 0.25 else "on_site"
        attendance_ops.record_attendance(
            session, world.users["coordination"], pid, mode=mode, now=arrival
        )


def _decide(
    plan: RcpHistory, session: MeetingSession, lines: list[Line], world: World, quorum: bool
) -> None:
    """Each decision captured in turn during the meeting, timed, and marked ready."""
    validator = world.users[plan.validator]
    for number, item in enumerate(agenda.agenda_items(session), start=1):
        line = _line_of(item, lines)
        when = session.starts_at + timedelta(minutes=8 * number)
        registered = line.decision["outcome"] == "registered"
        seconds = world.rng.randint(40, 120) if registered else world.rng.randint(150, 720)
        values = {
            **line.decision,
            "file_complete": "no" if line.incomplete else "yes",
            "quorum_status": QUORUM_REACHED if quorum else QUORUM_NOT_REACHED,
            "seconds_spent": str(seconds),
        }
        if line.close_postpone:
            values.update(outcome="postponed", postpone_reason=line.close_postpone)
        elif not quorum:
            values["comments"] = URGENT
        decision_ops.save_decision(item, values, 0, validator.id, now=when)
        decision_ops.mark_ready(item, when)


def _sign(plan: RcpHistory, session: MeetingSession, world: World, amend: bool) -> None:
    """Validate and sign every fiche of the session, most on the day, some days later; the
    first one is amended days later when the plan says so."""
    validator, rng = world.users[plan.validator], world.rng
    latest = world.now - timedelta(days=1)
    versions = []
    for number, item in enumerate(agenda.agenda_items(session)):
        delay = timedelta(days=rng.choice(SIGNATURE_DELAYS), hours=3, minutes=15 * number)
        when = min(session.starts_at + delay, latest)
        versions.append(fiche_ops.validate(item, validator, when))
    world.counts["presented"] += len(versions)
    world.counts["signed"] += len(versions)
    if amend and versions:
        _amend(plan, versions[0], validator, world)
        world.counts["amended"] += 1


def _amend(plan: RcpHistory, version, validator: User, world: World) -> None:
    fiche = version.fiche
    item = fiche_ops.item_of(fiche)
    stored = decision_ops.as_dict(decision_ops.decision_of(item))
    decision = {k: v for k, v in stored.items() if k in decision_ops.LABELS and k != "version"}
    added, reason = plan.amendment
    decision["comments"] = f"{decision['comments']} {added}".strip()
    later = version.validated_at + timedelta(days=world.rng.randint(2, 5))
    when = min(later, world.now - timedelta(hours=1))
    fiche_ops.amend(fiche, validator, decision, reason, fiche.current_version, when)


# --- what became of the messages -------------------------------------------------------------


def _deliver(after_id: int, world: World) -> None:
    """Every message of the history was sent minutes after it was queued; most fiches were
    acknowledged by a read receipt days later, a few GP and referring-physician deliveries
    failed. Receipts that would fall in the future are still to come."""
    rng = world.rng
    rows = db.session.scalars(
        select(Transmission).where(Transmission.id > after_id).order_by(Transmission.id)
    ).all()
    fiches_by_role: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.status != "pending":
            continue  # failed at once (no address)
        sent = row.created_at + timedelta(minutes=rng.randint(1, 6))
        row.attempts = 1  # the worker's claim counts each attempt
        if row.kind != "fiche":
            record_outcome(row, "sent", "", sent)
            continue
        fiches_by_role[row.recipient_role] += 1
        if _fails(row.recipient_role, fiches_by_role[row.recipient_role]):
            detail = FAILED_DELIVERY.format(address=row.recipient_address)
            record_outcome(row, "permanent", detail, sent)
            continue
        record_outcome(row, "sent", "", sent)
        acknowledged = _receipt_time(row.recipient_role, sent, rng)
        if acknowledged is not None and acknowledged < world.now - timedelta(hours=1):
            _acknowledge(row, acknowledged)


def _fails(role: str, number: int) -> bool:
    """One GP delivery in 18, one referring physician's in 40."""
    return (role == "gp" and number % 18 == 7) or (role == "requester" and number % 40 == 21)


def _receipt_time(role: str, sent: datetime, rng: random.Random) -> datetime | None:
    share, fewest, most = RECEIPTS.get(role, (0.6, 0.5, 8.0))
    if rng.random() >= share:
        return None
    return sent + timedelta(days=rng.uniform(fewest, most))


def _acknowledge(row: Transmission, when: datetime) -> None:
    """The recipient's mail client sends a read receipt (MDN), which the tracker applies."""
    disposition = "processed" if row.recipient_role == "dcc" else "displayed"
    receipt = build_mdn(
        row.message_id,
        row.recipient_address,
        disposition,
        to=current_app.config["RCP_MSSANTE_SENDER"],
        date=when.replace(tzinfo=UTC),
    )
    apply_receipt(receipt, now=when)
