"""The rows the indicators count, each defined once: the same SQL condition gives a figure's
count (``SUM`` of a 0/1 column) and the list of cases behind it (drill.py).

The base population is the **cases presented** in the period: agenda lines of the sessions
held in the period (Paris days, ``Period.utc_bounds``) of the RCPs in scope, whose decision says
« discuté » or « enregistré ». A case postponed at the meeting left that session's agenda; it
is counted where it was finally presented, and its postponements are counted apart (the
notifications « case_postponed », one per postponement, dated when it was decided).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, literal, not_, or_, select
from sqlalchemy.orm import aliased

from ..attendance.models import Attendance
from ..cases.models import Case, Treatment, Tumour
from ..decisions.models import Decision
from ..directory.models import Professional, Rcp, RcpRequiredSpecialty
from ..meetings.models import AgendaItem, MeetingSession, Notification
from ..terminology.builtin import PHASE_INITIAL, PHASE_RELAPSE, QUORUM_NOT_REACHED, QUORUM_REACHED
from .period import Period
from .scope import Scope
from .sql import days_between, paris_date

SESSIONS = MeetingSession.__table__
ITEMS = AgendaItem.__table__
CASES = Case.__table__
DECISIONS = Decision.__table__
ATTENDANCES = Attendance.__table__
PROFESSIONALS = Professional.__table__
RCPS = Rcp.__table__
REQUIRED_SPECIALTIES = RcpRequiredSpecialty.__table__
NOTIFICATIONS = Notification.__table__
TUMOURS = Tumour.__table__
TREATMENTS = Treatment.__table__

PRESENTED_OUTCOMES = ("discussed", "registered")
HELD_STATUSES = ("in_progress", "closed")
NOT_HELD_STATUSES = ("planned", "agenda_published")
# Treatments that count as begun before an RCP (HAS level 2): done or ongoing at registration.
BEGUN_TREATMENTS = ("done", "ongoing")
# HAS: at least this many professionals of different specialties at the first RCP.
HAS_MIN_SPECIALTIES = 3


def _relapse():
    return or_(
        CASES.c.phase_code == PHASE_RELAPSE,
        CASES.c.relapse_date.is_not(None),
        CASES.c.progression_local,
        CASES.c.progression_regional,
        CASES.c.progression_distant,
    )


@dataclass(frozen=True)
class Flag:
    label: str  # the list's title: « Dossiers présentés en rechute ou progression »
    condition: object  # SQL condition over the presented rows (callable, built on demand)


# Each flag, a condition on one presented row (agenda line × case × decision).
FLAGS = {
    "presented": Flag("Dossiers présentés", lambda: literal(True)),
    "discussed": Flag("Dossiers discutés", lambda: DECISIONS.c.outcome == "discussed"),
    "registered": Flag(
        "Dossiers enregistrés (standard de soins)",
        lambda: DECISIONS.c.outcome == "registered",
    ),
    "relapse": Flag("Dossiers en rechute ou progression", _relapse),
    "initial": Flag(
        "Dossiers en phase initiale",
        lambda: and_(CASES.c.phase_code == PHASE_INITIAL, not_(_relapse())),
    ),
    "complete_file": Flag(
        "Dossiers complets à l'inscription", lambda: not_(ITEMS.c.override_incomplete)
    ),
    "overridden": Flag(
        "Dossiers incomplets inscrits par dérogation", lambda: ITEMS.c.override_incomplete
    ),
    "late": Flag("Dossiers ajoutés tardivement", lambda: ITEMS.c.late_addition),
    "quorum_case_reached": Flag(
        "Dossiers discutés avec le quorum atteint",
        lambda: DECISIONS.c.quorum_status == QUORUM_REACHED,
    ),
    "quorum_case_not_reached": Flag(
        "Dossiers discutés sans le quorum",
        lambda: DECISIONS.c.quorum_status == QUORUM_NOT_REACHED,
    ),
    "trial": Flag("Dossiers avec proposition d'essai clinique", lambda: DECISIONS.c.trial_proposed),
    "guideline": Flag(
        "Décisions conformes à un référentiel",
        lambda: and_(
            or_(DECISIONS.c.guideline_name != "", ITEMS.c.mode == "registered"),
            DECISIONS.c.deviation_reason == "",
        ),
    ),
    "deviation": Flag(
        "Décisions s'écartant du référentiel (écart documenté)",
        lambda: DECISIONS.c.deviation_reason != "",
    ),
}


def presented_join():
    return (
        ITEMS.join(SESSIONS, SESSIONS.c.id == ITEMS.c.session_id)
        .join(CASES, CASES.c.id == ITEMS.c.case_id)
        .join(DECISIONS, DECISIONS.c.item_id == ITEMS.c.id)
    )


def in_period(column, period: Period):
    start, end = period.utc_bounds()
    return and_(column >= start, column < end)


def presented_where(period: Period, scope: Scope):
    return and_(
        in_period(SESSIONS.c.starts_at, period),
        SESSIONS.c.rcp_id.in_(scope.rcp_ids),
        DECISIONS.c.outcome.in_(PRESENTED_OUTCOMES),
    )


def flag_columns(keys=None):
    """``SUM``-able 0/1 columns, one per flag."""
    return [case((FLAGS[key].condition(), 1), else_=0).label(key) for key in (keys or FLAGS)]


def sessions_where(period: Period, scope: Scope):
    return and_(in_period(SESSIONS.c.starts_at, period), SESSIONS.c.rcp_id.in_(scope.rcp_ids))


def held_session_specialties(session_id_column, *, quorum_only: bool):
    """How many distinct specialties attended the session (quorum members only, or all)."""
    conditions = [ATTENDANCES.c.session_id == session_id_column]
    if quorum_only:
        conditions.append(ATTENDANCES.c.quorum_member)
    return (
        select(func.count(func.distinct(PROFESSIONALS.c.specialty_code)))
        .select_from(
            ATTENDANCES.join(PROFESSIONALS, PROFESSIONALS.c.id == ATTENDANCES.c.professional_id)
        )
        .where(*conditions)
        .scalar_subquery()
    )


def required_specialty_present(session_id_column):
    """A quorum member of that specialty (the required one of the outer row) attended."""
    # Correlated on everything outside (the session two levels up included): without it
    # SQLAlchemy would pull meeting_sessions into this EXISTS's own FROM.
    return (
        exists()
        .where(
            ATTENDANCES.c.session_id == session_id_column,
            ATTENDANCES.c.quorum_member,
            PROFESSIONALS.c.id == ATTENDANCES.c.professional_id,
            PROFESSIONALS.c.specialty_code == REQUIRED_SPECIALTIES.c.specialty_code,
        )
        .correlate_except(ATTENDANCES, PROFESSIONALS)
    )


def postponement_where(period: Period, scope: Scope, kind: str = "case_postponed"):
    """Postponements (or refusals) decided in the period, of the cases of the RCPs in scope."""
    return and_(
        NOTIFICATIONS.c.kind == kind,
        in_period(NOTIFICATIONS.c.created_at, period),
        NOTIFICATIONS.c.case_id == CASES.c.id,
        CASES.c.rcp_id.in_(scope.rcp_ids),
    )


def first_presentation():
    """The row is the patient's first presented case, in any RCP and at any date (ties at the
    same time: the lower agenda line)."""
    items, sessions = aliased(ITEMS), aliased(SESSIONS)
    cases, decisions = aliased(CASES), aliased(DECISIONS)
    return not_(
        exists()
        .select_from(
            items.join(sessions, sessions.c.id == items.c.session_id)
            .join(cases, cases.c.id == items.c.case_id)
            .join(decisions, decisions.c.item_id == items.c.id)
        )
        .where(
            cases.c.patient_id == CASES.c.patient_id,
            decisions.c.outcome.in_(PRESENTED_OUTCOMES),
            or_(
                sessions.c.starts_at < SESSIONS.c.starts_at,
                and_(sessions.c.starts_at == SESSIONS.c.starts_at, items.c.id < ITEMS.c.id),
            ),
        )
    )


def has_level1():
    """HAS level 1 at the first RCP: dated (a session always is), a proposal, and at least three
    professionals of different specialties present."""
    return and_(
        or_(DECISIONS.c.proposal_code.is_not(None), DECISIONS.c.active_surveillance),
        held_session_specialties(SESSIONS.c.id, quorum_only=False) >= HAS_MIN_SPECIALTIES,
    )


def treatment_before_rcp():
    """A treatment of the case, done or ongoing, dated before the day of the session (Paris)."""
    return exists().where(
        TREATMENTS.c.case_id == CASES.c.id,
        TREATMENTS.c.status.in_(BEGUN_TREATMENTS),
        TREATMENTS.c.treatment_date < paris_date(SESSIONS.c.starts_at),
    )


def has_level2():
    return and_(has_level1(), not_(treatment_before_rcp()))


def diagnosis_to_session_days():
    """Days from the case's earliest tumour diagnosis date to the session's day (Paris)."""
    diagnosis = (
        select(func.min(TUMOURS.c.diagnosis_date))
        .where(TUMOURS.c.case_id == CASES.c.id)
        .scalar_subquery()
    )
    return days_between(paris_date(SESSIONS.c.starts_at), diagnosis)
