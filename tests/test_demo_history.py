"""The demo's year of history (rcp_app/demo/history.py): enough variety for the statistics page.

The history signs about a hundred fiches, so it is loaded once, in one test, and each kind of
content is checked by its own helper. The checks count by kind (at least so many, spread over
so many months) rather than exact numbers, which any tweak of the plan would change.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select

from rcp_app.access import care_team
from rcp_app.attendance.models import Attendance
from rcp_app.auth.models import User
from rcp_app.cases.models import Case, Treatment, Tumour
from rcp_app.core.timeutil import to_paris, utcnow
from rcp_app.decisions.models import Decision
from rcp_app.delivery.models import Transmission
from rcp_app.demo import loader
from rcp_app.demo.history import add_history
from rcp_app.directory.models import Professional, Rcp
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche, FicheVersion
from rcp_app.fiches.verification import verify_document
from rcp_app.meetings.models import AgendaItem, MeetingSession, Notification
from rcp_app.patients.models import Patient

PRESENTED = ("discussed", "registered")
# Last week's session (past_session.py) is at most 7 days old; the history's are older.
HISTORY_AGE = timedelta(days=8)


def test_a_year_of_history(app):
    with app.app_context():
        started = time.perf_counter()
        counts = loader.load_demo()
        db.session.commit()
        print(f"demo load with its history: {time.perf_counter() - started:.1f} s")
        now = utcnow()
        history = select(MeetingSession.id).where(MeetingSession.starts_at < now - HISTORY_AGE)

        assert counts["séances passées tenues"] >= 30
        assert counts["fiches signées de l'historique"] == counts["dossiers présentés"] >= 60
        _sessions_spread_over_the_year(now)
        _sessions_never_held(now)
        _a_session_without_quorum(history)
        _cases_presented_with_their_variety(history)
        _agenda_events(history)
        _diagnosis_and_treatment_dates(history)
        _every_presented_case_has_its_signed_fiche(history)
        _transmissions_have_realistic_states(history, now)
        _everything_is_dated_in_the_past(history, now)
        _patients_left_for_the_benchmarks()
        _the_outside_physician_still_sees_only_his_patient()
        _loading_again_adds_nothing(now)


def _closed_history_sessions(now: datetime):
    return db.session.scalars(
        select(MeetingSession).where(
            MeetingSession.status == "closed", MeetingSession.starts_at < now - HISTORY_AGE
        )
    ).all()


def _sessions_spread_over_the_year(now: datetime) -> None:
    closed = _closed_history_sessions(now)
    assert len(closed) >= 30
    months = {to_paris(s.starts_at).strftime("%Y-%m") for s in closed}
    assert len(months) >= 10, months
    assert min(s.starts_at for s in closed) >= now - timedelta(days=366)
    by_rcp = Counter(s.rcp_id for s in closed)
    assert len(by_rcp) >= 2 and all(count >= 10 for count in by_rcp.values()), by_rcp


def _sessions_never_held(now: datetime) -> None:
    """Planned in the past, never opened, no case on their agenda."""
    never_held = db.session.scalars(
        select(MeetingSession).where(
            MeetingSession.status == "planned", MeetingSession.starts_at < now
        )
    ).all()
    assert 1 <= len(never_held) <= 3
    items = db.session.scalar(
        select(func.count())
        .select_from(AgendaItem)
        .where(AgendaItem.session_id.in_([s.id for s in never_held]))
    )
    assert items == 0


def _a_session_without_quorum(history) -> None:
    """Fewer than three specialties among the quorum members of a closed session."""
    specialties = (
        select(
            Attendance.session_id,
            func.count(func.distinct(Professional.specialty_code)).label("n"),
        )
        .join(Professional, Professional.id == Attendance.professional_id)
        .where(Attendance.quorum_member, Attendance.session_id.in_(history))
        .group_by(Attendance.session_id)
        .subquery()
    )
    counts = list(db.session.scalars(select(specialties.c.n)))
    assert any(n < 3 for n in counts), counts
    assert sum(n >= 3 for n in counts) > len(counts) / 2
    not_reached = db.session.scalar(
        select(func.count())
        .select_from(Decision)
        .join(AgendaItem, AgendaItem.id == Decision.item_id)
        .where(AgendaItem.session_id.in_(history), Decision.quorum_status == "ORG-133")
    )
    assert not_reached >= 1


def _presented(history):
    return db.session.execute(
        select(Case, Decision, AgendaItem)
        .join(AgendaItem, AgendaItem.case_id == Case.id)
        .join(Decision, Decision.item_id == AgendaItem.id)
        .where(AgendaItem.session_id.in_(history), Decision.outcome.in_(PRESENTED))
    ).all()


def _cases_presented_with_their_variety(history) -> None:
    rows = _presented(history)
    assert len(rows) >= 60
    decisions = [d for _, d, _ in rows]
    outcomes = Counter(d.outcome for d in decisions)
    assert outcomes["discussed"] >= 30 and outcomes["registered"] >= 3, outcomes
    for _, decision, item in rows:
        assert decision.state == "validated"
        assert decision.seconds_spent > 0
        if decision.outcome == "registered":
            assert item.mode == "registered" and item.guideline and decision.guideline_name
    assert sum(bool(d.guideline_name) and not d.deviation_reason for d in decisions) >= 30
    assert sum(bool(d.deviation_reason) for d in decisions) >= 1
    trials = [d for d in decisions if d.trial_proposed]
    assert trials and all(d.trial_name and d.trial_identifier for d in trials)
    cases = [c for c, _, _ in rows]
    assert sum(c.phase_code == "MED-268" for c in cases) >= 20
    relapses = [c for c in cases if c.phase_code == "MED-244"]
    assert relapses and all(c.relapse_date for c in relapses)
    assert any(
        c.progression_local or c.progression_regional or c.progression_distant for c in cases
    )
    assert len({c.organ_code for c in cases}) >= 3
    establishments = {db.session.get(Professional, c.requester_id).establishment_id for c in cases}
    assert len(establishments) == 2
    # Patients presented more than once (after surgery, at progression).
    assert any(n > 1 for n in Counter(c.patient_id for c in cases).values())


def _postponements(case_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.case_id == case_id, Notification.kind == "case_postponed")
    )


def _agenda_events(history) -> None:
    items = db.session.scalars(select(AgendaItem).where(AgendaItem.session_id.in_(history))).all()
    late = [i for i in items if i.late_addition]
    assert late and all(i.case.is_late for i in late)
    overridden = [i for i in items if i.override_incomplete]
    assert overridden and all(i.override_reason for i in overridden)
    twice = [i for i in items if i.case.status in PRESENTED and _postponements(i.case_id) >= 2]
    assert twice, "a case postponed twice, then presented"
    reasons = db.session.scalars(
        select(Notification.reason).where(Notification.kind == "case_postponed")
    ).all()
    assert len(reasons) >= 5 and all(reasons)
    refused = db.session.scalars(select(Case).where(Case.status == "refused")).all()
    assert len(refused) >= 2
    for case in refused:
        reason = db.session.scalar(
            select(Notification.reason).where(
                Notification.case_id == case.id, Notification.kind == "case_refused"
            )
        )
        assert reason and reason.strip()


def _diagnosis_and_treatment_dates(history) -> None:
    """Diagnosed weeks before the first RCP; some treated before it (HAS level 2 below 100 %)."""
    first_seen: dict[int, tuple] = {}
    for case, _, item in _presented(history):
        if (
            case.patient_id not in first_seen
            or item.session.starts_at < first_seen[case.patient_id][1].session.starts_at
        ):
            first_seen[case.patient_id] = (case, item)
    initial = [(c, i) for c, i in first_seen.values() if c.phase_code == "MED-268"]
    assert len(initial) >= 20
    for case, item in initial:
        day = to_paris(item.session.starts_at).date()
        diagnosed = db.session.scalar(
            select(func.min(Tumour.diagnosis_date)).where(Tumour.case_id == case.id)
        )
        assert timedelta(days=7) <= day - diagnosed <= timedelta(weeks=26), (case.id, diagnosed)
    treated_before = [
        case
        for case, item in first_seen.values()
        if db.session.scalar(
            select(func.count())
            .select_from(Treatment)
            .where(
                Treatment.case_id == case.id,
                Treatment.status == "done",
                Treatment.treatment_date < to_paris(item.session.starts_at).date(),
            )
        )
    ]
    assert 1 <= len(treated_before) < len(first_seen)


def _every_presented_case_has_its_signed_fiche(history) -> None:
    validated = db.session.scalars(select(Decision).where(Decision.state == "validated")).all()
    fiches = {f.decision_id: f for f in db.session.scalars(select(Fiche))}
    assert all(d.id in fiches for d in validated)
    for _, decision, _ in _presented(history):
        assert decision.id in fiches
    amended = [f for f in fiches.values() if f.current_version > 1]
    assert len(amended) >= 2
    for fiche in amended:
        first, second = db.session.scalars(
            select(FicheVersion)
            .where(FicheVersion.fiche_id == fiche.id)
            .order_by(FicheVersion.version)
            .limit(2)
        ).all()
        assert second.validated_at > first.validated_at and second.amendment_reason
        for version in (first, second):
            assert verify_document(version.document("pdf").content).authentic


def _history_fiche_transmissions(history):
    return db.session.execute(
        select(Transmission, FicheVersion)
        .join(FicheVersion, FicheVersion.id == Transmission.fiche_version_id)
        .join(Fiche, Fiche.id == FicheVersion.fiche_id)
        .where(Fiche.session_id.in_(history))
    ).all()


def _transmissions_have_realistic_states(history, now: datetime) -> None:
    rows = _history_fiche_transmissions(history)
    states = Counter(t.status for t, _ in rows)
    assert states["acknowledged"] > states["failed"] >= 2, states
    assert states["pending"] == states["sending"] == 0, states
    roles = {t.recipient_role for t, _ in rows if t.status == "acknowledged"}
    assert {"dcc", "gp", "requester"} <= roles
    for transmission, version in rows:
        if transmission.status == "failed":
            assert transmission.last_error and transmission.failed_at >= version.validated_at
        else:
            assert version.validated_at <= transmission.sent_at < now
        if transmission.status == "acknowledged":
            assert transmission.sent_at < transmission.acknowledged_at < now
    gp_delays = [
        (t.acknowledged_at - v.validated_at).days
        for t, v in rows
        if t.status == "acknowledged" and t.recipient_role == "gp"
    ]
    assert max(gp_delays) >= 3, "GPs acknowledge some days after signature"
    # Notifications of past sessions are not left for the worker to send today.
    pending = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.session_id.in_(history), Notification.status == "pending")
    )
    assert pending == 0


def _everything_is_dated_in_the_past(history, now: datetime) -> None:
    for case, decision, item in _presented(history):
        session = item.session
        assert session.created_at < session.starts_at < now
        assert case.created_at <= case.submitted_at < item.added_at < session.starts_at
        assert session.published_at < session.starts_at
        assert decision.updated_at < now
    assert db.session.scalar(select(func.max(FicheVersion.validated_at))) < now
    assert db.session.scalar(select(func.max(Notification.created_at))) < now
    assert db.session.scalar(select(func.max(Transmission.acknowledged_at))) < now


def _patients_left_for_the_benchmarks() -> None:
    """bench/load.py registers 56 more cases of patients aged 20 to 69 with no case."""
    this_year = utcnow().year
    free = db.session.scalars(select(Patient).where(~Patient.id.in_(select(Case.patient_id)))).all()
    assert sum(20 <= this_year - p.birth_date.year <= 69 for p in free) >= 56


def _the_outside_physician_still_sees_only_his_patient() -> None:
    lebihan = db.session.scalar(select(User).where(User.username == "dr.lebihan"))
    orl = db.session.scalar(select(Rcp).where(Rcp.national_id.like("%-ORL")))
    [own] = db.session.scalars(select(Case).where(Case.rcp_id == orl.id)).all()
    assert set(db.session.scalars(care_team.clinical_patient_ids(lebihan))) == {own.patient_id}


def _loading_again_adds_nothing(now: datetime) -> None:
    rcps = db.session.scalars(select(Rcp).order_by(Rcp.id)).all()
    patients = db.session.scalars(select(Patient).order_by(Patient.id)).all()
    users = {u.username: u for u in db.session.scalars(select(User))}
    sessions = db.session.scalar(select(func.count()).select_from(MeetingSession))
    again = add_history(rcps, patients, users, now)
    assert set(again.values()) == {0}
    assert db.session.scalar(select(func.count()).select_from(MeetingSession)) == sessions
