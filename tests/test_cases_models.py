"""Statuses and transitions, database invariants, biomarker rules, the session calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rcp_app.cases import status
from rcp_app.cases.models import Case
from rcp_app.core.timeutil import utcnow
from rcp_app.extensions import db
from rcp_app.meetings import operations as sessions_ops
from rcp_app.meetings.models import MeetingSession
from rcp_app.staging import biomarkers

ALL = list(status.STATUS_LABELS)
ALLOWED = {
    ("draft", "submitted"),
    ("draft", "withdrawn"),
    ("submitted", "withdrawn"),
    # The agenda (agenda/operations.py): scheduled, postponed to the next session, refused.
    ("submitted", "scheduled"),
    ("submitted", "postponed"),
    ("submitted", "refused"),
    ("scheduled", "submitted"),
    ("scheduled", "postponed"),
    ("scheduled", "refused"),
    ("postponed", "scheduled"),
    ("postponed", "postponed"),
    ("postponed", "refused"),
    ("postponed", "withdrawn"),
    # The meeting (decisions/operations.py): the decision is ready for validation.
    ("scheduled", "discussed"),
    ("scheduled", "registered"),
}


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("target", ALL)
def test_transition_table(current, target):
    assert status.can_transition(current, target) == ((current, target) in ALLOWED)


def test_every_status_has_a_row_and_a_label():
    assert set(status.TRANSITIONS) == set(status.STATUS_LABELS)
    for targets in status.TRANSITIONS.values():
        assert targets <= set(status.STATUS_LABELS)


def _insert_fails(app, make, **fields) -> bool:
    with app.app_context():
        try:
            with db.session.begin_nested():
                db.session.add(Case(**fields))
                db.session.flush()
        except IntegrityError:
            return True
        return False


@pytest.mark.parametrize(
    "fields",
    [
        {"performance_status": 5},
        {"g8_score": 18},
        {"g8_score": -1},
        {"status": "validated"},  # a status no issue defines
        {"gp_unknown": True, "gp_id": "GP"},
        {"status": "submitted", "question": ""},
        {"status": "submitted", "gp_unknown": False},
        {"status": "submitted", "submitted_at": None},
        {"status": "withdrawn", "withdrawal_reason": None},
        {"nature": "transversal", "theme_code": None},
        {"discovery_screening": "maybe"},
    ],
)
def test_check_constraints(app, make, fields):
    base = make.case()
    gp = make.professional(specialty_code="G15_10/SM26")
    values = {
        "patient_id": make.patient().id,
        "rcp_id": base.rcp_id,
        "session_id": None,
        "requester_id": base.requester_id,
        "created_by_id": base.created_by_id,
        "status": "submitted",
        "nature": "organ",
        "appareil_code": "76752008",
        "created_at": utcnow(),
        "updated_at": utcnow(),
        "submitted_at": utcnow(),
        "question": "Q ?",
        "synthesis": "S.",
        "gp_unknown": True,
        "withdrawal_reason": "r",
        "withdrawn_at": utcnow(),
    }
    assert not _insert_fails(app, make, **values)  # the valid baseline
    values["patient_id"] = make.patient().id
    if fields.get("gp_id") == "GP":
        fields = {**fields, "gp_id": gp.id}
    assert _insert_fails(app, make, **{**values, **fields})


def test_one_active_case_per_patient_and_session(app, make):
    case = make.case()
    duplicate = {
        "patient_id": case.patient_id,
        "rcp_id": case.rcp_id,
        "session_id": case.session_id,
        "requester_id": case.requester_id,
        "created_by_id": case.created_by_id,
        "status": "draft",
        "nature": "organ",
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    assert _insert_fails(app, make, **duplicate)
    withdrawn = {
        **duplicate,
        "status": "withdrawn",
        "withdrawal_reason": "x",
        "withdrawn_at": utcnow(),
    }
    assert not _insert_fails(app, make, **withdrawn)


@pytest.mark.parametrize(
    ("code", "site"),
    [
        ("C50.4", "breast"),
        ("c50", "breast"),
        ("C18.7", "colorectal"),
        ("C19", "colorectal"),
        ("C20", "colorectal"),
        ("C34.1", "lung"),
        ("C61", "prostate"),
        ("C18.9+0", "colorectal"),
        ("C15.3", None),
        ("C500", None),
        ("", None),
        (None, None),
    ],
)
def test_site_from_topography(code, site):
    assert biomarkers.site_for_topography(code) == site


@pytest.mark.parametrize(
    ("code", "raw", "clean"),
    [
        ("breast.er", " 45 % ", "45"),
        ("breast.er", "0", "0"),
        ("breast.ki67", "12,5", "12.5"),
        ("breast.her2", "2+ ish-", "2+ ISH−"),
        ("breast.her2", "2+ISH+", "2+ ISH+"),
        ("breast.sbr", "3", "3"),
        ("colorectal.braf", "v600e", "V600E"),
        ("colorectal.ras", "Muté", "muté"),
        ("lung.alk", "NON FAIT", "non fait"),
        ("lung.pdl1", "50", "50"),
        ("prostate.psa", "0,8", "0.8"),
        ("prostate.isup", "5", "5"),
        ("breast.pr", "", None),
    ],
)
def test_marker_values_are_normalised(code, raw, clean):
    assert biomarkers.clean_value(biomarkers.BY_CODE[code], raw) == clean


@pytest.mark.parametrize(
    ("code", "raw"),
    [
        ("breast.er", "101"),
        ("breast.er", "-2"),
        ("breast.sbr", "4"),
        ("breast.her2", "2+"),
        ("prostate.isup", "2.5"),
        ("prostate.gleason_primary", "6"),
        ("lung.egfr", "muté"),
        ("prostate.psa", "abc"),
    ],
)
def test_marker_values_are_refused(code, raw):
    with pytest.raises(ValueError):
        biomarkers.clean_value(biomarkers.BY_CODE[code], raw)


@pytest.mark.parametrize(
    ("primary", "secondary", "group"),
    [(3, 3, 1), (3, 4, 2), (4, 3, 3), (4, 4, 4), (3, 5, 4), (5, 3, 4), (4, 5, 5), (5, 5, 5)],
)
def test_isup_from_gleason(primary, secondary, group):
    assert biomarkers.isup_from_gleason(primary, secondary) == group


def test_every_marker_has_a_label_and_a_known_site():
    for marker in biomarkers.MARKERS:
        assert marker.site in biomarkers.SITE_LABELS and marker.label
        assert marker.kind in ("percent", "number", "integer", "choice")
        assert marker.field_name.startswith("bm_")


# --- the session calendar ------------------------------------------------------------------


def _sessions(app, rcp_id):
    with app.app_context():
        return db.session.scalars(
            select(MeetingSession)
            .where(MeetingSession.rcp_id == rcp_id)
            .order_by(MeetingSession.starts_at)
        ).all()


def test_sessions_follow_paris_time_across_daylight_saving(app, make):
    rcp = make.rcp(weekday=1, start_time=time(14, 0), deadline_hours=48)
    now = datetime(2026, 10, 15, 8, 0)  # a Thursday; summer time ends on 25/10/2026
    with app.app_context():
        created = sessions_ops.ensure_upcoming_sessions(db.session.get(type(rcp), rcp.id), 6, now)
        db.session.commit()
        assert len(created) == 6
    sessions = _sessions(app, rcp.id)
    starts = [s.starts_at for s in sessions]
    assert starts[0] == datetime(2026, 10, 20, 12, 0)  # 14h00 CEST
    assert starts[1] == datetime(2026, 10, 27, 13, 0)  # 14h00 CET
    assert all(s.deadline_at == s.starts_at - timedelta(hours=48) for s in sessions)
    assert all(s.status == "planned" and s.place == rcp.place for s in sessions)
    for start in starts:
        local = start.replace(tzinfo=UTC).astimezone(sessions_ops.PARIS)
        assert (local.weekday(), local.hour, local.minute) == (1, 14, 0)


def test_calendar_is_idempotent_and_skips_rcps_without_rhythm(app, make):
    rcp = make.rcp(weekday=4)
    no_day = make.rcp(weekday=None)
    inactive = make.rcp(weekday=2, active=False)
    with app.app_context():
        load = lambda r: db.session.get(type(r), r.id)  # noqa: E731
        assert len(sessions_ops.ensure_upcoming_sessions(load(rcp))) == 6
        assert sessions_ops.ensure_upcoming_sessions(load(rcp)) == []
        assert sessions_ops.ensure_upcoming_sessions(load(rcp), count=8) and True
        assert sessions_ops.ensure_upcoming_sessions(load(no_day)) == []
        assert sessions_ops.ensure_upcoming_sessions(load(inactive)) == []
        db.session.commit()
    assert len(_sessions(app, rcp.id)) == 8


def test_default_session_is_the_next_open_one(app, make):
    rcp = make.rcp(weekday=None)
    now = utcnow().replace(microsecond=0)
    make.session(rcp.id, starts_at=now - timedelta(days=1))  # past
    make.session(rcp.id, starts_at=now + timedelta(hours=5))  # deadline passed
    frozen = make.session(rcp.id, starts_at=now + timedelta(days=3), status="agenda_published")
    open_ = make.session(rcp.id, starts_at=now + timedelta(days=10))
    with app.app_context():
        chosen = sessions_ops.default_session(rcp.id, now)
        assert chosen.id == open_.id and chosen.id != frozen.id
        upcoming = sessions_ops.upcoming_sessions(rcp.id, now)
        assert [s.id for s in upcoming][-1] == open_.id and len(upcoming) == 2


def test_age_is_computed_on_the_session_day(app, make):
    patient = make.patient(birth_date=date(1956, 12, 10))
    rcp = make.rcp(weekday=None)
    session = make.session(rcp.id, starts_at=datetime(2026, 12, 15, 13, 0))
    case = make.case(patient_id=patient.id, rcp_id=rcp.id, session_id=session.id)
    with app.app_context():
        from rcp_app.cases.completeness import g8_required, reference_day

        loaded = db.session.get(Case, case.id)
        assert reference_day(loaded) == date(2026, 12, 15)
        assert loaded.age_on(date(2026, 12, 9)) == 69 and loaded.age_on(date(2026, 12, 10)) == 70
        assert g8_required(loaded)
