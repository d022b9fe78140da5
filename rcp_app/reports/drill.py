"""The cases behind a figure: the same SQL conditions as the counts (populations.py), listed.

Each line names its patient only when the user may see that case (access.care_team); any other
line carries a pseudonym, stable for a patient and meaningless outside this installation (an
HMAC of the patient id under the application's secret key), so a list can still be read
(« the same patient twice ») without naming anyone.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select

from ..access.care_team import case_ids_among
from ..cases.status import STATUS_LABELS
from ..core.dates import today
from ..core.timeutil import to_paris
from ..decisions.models import OUTCOMES
from ..delivery.models import ROLES
from ..extensions import db
from ..followups.models import STATES
from ..patients.models import Patient
from . import closed_loop
from . import populations as pop
from .indicators import FICHES, TRANSMISSIONS, VERSIONS
from .period import Period
from .scope import Scope

PER_PAGE = 50
# An export lists at most this many lines (a year of a whole region fits).
EXPORT_LIMIT = 100_000

TITLES = (
    {key: flag.label for key, flag in pop.FLAGS.items()}
    | {
        "postponed": "Reports décidés",
        "refused": "Dossiers refusés",
        "first_rcp": "Patients à leur première RCP",
        "has_level1": "Premières RCP au niveau 1 de l'indicateur HAS",
        "has_level2": "Premières RCP au niveau 2 de l'indicateur HAS",
        "fiche": "Fiches signées",
        "amended": "Fiches modifiées",
        "delivery_failed": "Transmissions de fiches en échec",
    }
    | {key: population.title for key, population in closed_loop.POPULATIONS.items()}
)
COLUMNS = ("Date", "RCP", "Patient", "Dossier", "Statut du dossier", "Détail")


@dataclass(frozen=True)
class Line:
    case_id: int
    patient_id: int
    at: datetime  # the session's start, or the event's date
    rcp_name: str
    status: str
    detail: str
    patient: str = ""  # identity or pseudonym, filled by ``name_patients``
    identified: bool = False


def _presented(period: Period, scope: Scope, *conditions, fiches: bool = False):
    joined = pop.presented_join().join(pop.RCPS, pop.RCPS.c.id == pop.SESSIONS.c.rcp_id)
    if fiches:
        joined = joined.join(FICHES, FICHES.c.decision_id == pop.DECISIONS.c.id)
    return (
        select(
            pop.CASES.c.id,
            pop.CASES.c.patient_id,
            pop.SESSIONS.c.starts_at,
            pop.RCPS.c.name,
            pop.CASES.c.status,
            pop.DECISIONS.c.outcome,
        )
        .select_from(joined)
        .where(pop.presented_where(period, scope), *conditions)
        .order_by(pop.SESSIONS.c.starts_at, pop.ITEMS.c.position, pop.ITEMS.c.id)
    )


def _moves(period: Period, scope: Scope, kind: str):
    n = pop.NOTIFICATIONS
    return (
        select(
            pop.CASES.c.id,
            pop.CASES.c.patient_id,
            n.c.created_at,
            pop.RCPS.c.name,
            pop.CASES.c.status,
            n.c.reason,
        )
        .select_from(
            n.join(pop.CASES, pop.CASES.c.id == n.c.case_id).join(
                pop.RCPS, pop.RCPS.c.id == pop.CASES.c.rcp_id
            )
        )
        .where(pop.postponement_where(period, scope, kind))
        .order_by(n.c.created_at, n.c.id)
    )


def _failed(period: Period, scope: Scope):
    t = TRANSMISSIONS
    return (
        select(
            pop.CASES.c.id,
            pop.CASES.c.patient_id,
            pop.SESSIONS.c.starts_at,
            pop.RCPS.c.name,
            pop.CASES.c.status,
            t.c.recipient_role,
        )
        .select_from(
            pop.presented_join()
            .join(pop.RCPS, pop.RCPS.c.id == pop.SESSIONS.c.rcp_id)
            .join(FICHES, FICHES.c.decision_id == pop.DECISIONS.c.id)
            .join(VERSIONS, VERSIONS.c.fiche_id == FICHES.c.id)
            .join(t, t.c.fiche_version_id == VERSIONS.c.id)
        )
        .where(pop.presented_where(period, scope), t.c.kind == "fiche", t.c.status == "failed")
        .order_by(pop.SESSIONS.c.starts_at, t.c.id)
    )


def _followups(period: Period, scope: Scope, key: str, as_of: date):
    """The cases of the follow-ups counted by ``key``, dated by the fiche's validation;
    ``as_of``: the day a pending follow-up's due day is compared with."""
    f = closed_loop.FOLLOW_UPS
    return (
        select(
            pop.CASES.c.id,
            pop.CASES.c.patient_id,
            f.c.opened_at,
            pop.RCPS.c.name,
            pop.CASES.c.status,
            f.c.state,
        )
        .select_from(
            f.join(pop.CASES, pop.CASES.c.id == f.c.case_id).join(
                pop.RCPS, pop.RCPS.c.id == f.c.rcp_id
            )
        )
        .where(
            closed_loop.followups_where(period, scope),
            closed_loop.POPULATIONS[key].condition(as_of),
        )
        .order_by(f.c.opened_at, f.c.id)
    )


def statement(key: str, period: Period, scope: Scope, *, as_of: date | None = None):
    """The SELECT of the lines behind population ``key``; KeyError for an unknown one.
    ``as_of``: the day « overdue » is judged on (today in Paris unless told)."""
    if key in pop.FLAGS:
        return _presented(period, scope, pop.FLAGS[key].condition())
    if key == "postponed":
        return _moves(period, scope, "case_postponed")
    if key == "refused":
        return _moves(period, scope, "case_refused")
    if key == "first_rcp":
        return _presented(period, scope, pop.first_presentation())
    if key == "has_level1":
        return _presented(period, scope, pop.first_presentation(), pop.has_level1())
    if key == "has_level2":
        return _presented(period, scope, pop.first_presentation(), pop.has_level2())
    if key == "fiche":
        return _presented(period, scope, fiches=True)
    if key == "amended":
        return _presented(period, scope, FICHES.c.current_version > 1, fiches=True)
    if key == "delivery_failed":
        return _failed(period, scope)
    if key in closed_loop.POPULATIONS:
        return _followups(period, scope, key, as_of or today())
    raise KeyError(key)


def _detail(key: str, last) -> str:
    if key in ("postponed", "refused"):
        return last or ""
    if key == "delivery_failed":
        return "Échec : " + ROLES.get(last, last or "")
    if key in closed_loop.POPULATIONS:
        return STATES.get(last or "", last or "")
    return OUTCOMES.get(last or "", "")


def count(key: str, period: Period, scope: Scope, *, as_of: date | None = None) -> int:
    selected = statement(key, period, scope, as_of=as_of).order_by(None).subquery()
    return db.session.scalar(select(func.count()).select_from(selected))


def lines(key: str, period: Period, scope: Scope, *, limit: int, offset: int = 0) -> list[Line]:
    rows = db.session.execute(statement(key, period, scope).limit(limit).offset(offset))
    return [
        Line(
            case_id, patient_id, at, rcp_name, STATUS_LABELS.get(status, status), _detail(key, last)
        )
        for case_id, patient_id, at, rcp_name, status, last in rows
    ]


def pseudonym(patient_id: int) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    digest = hmac.new(key, f"patient:{patient_id}".encode(), hashlib.sha256).hexdigest()
    return "PSN-" + digest[:10].upper()


def name_patients(user, found: list[Line]) -> list[Line]:
    """Each line with its patient's identity when ``user`` may see the case (``user=None``:
    the server's command line, which sees identities), a pseudonym otherwise."""
    case_ids = {line.case_id for line in found}
    visible = case_ids if user is None else case_ids_among(user, case_ids)
    patient_ids = {line.patient_id for line in found if line.case_id in visible}
    names = {}
    if patient_ids:
        for patient in db.session.scalars(select(Patient).where(Patient.id.in_(patient_ids))):
            names[patient.id] = f"{patient.display_name} (né(e) le {patient.birth_date:%d/%m/%Y})"
    return [
        Line(
            **{
                **line.__dict__,
                "patient": names[line.patient_id]
                if line.case_id in visible
                else pseudonym(line.patient_id),
                "identified": line.case_id in visible,
            }
        )
        for line in found
    ]


def row(line: Line) -> tuple:
    """A line as the export's cells, in the order of COLUMNS."""
    return (
        to_paris(line.at).strftime("%d/%m/%Y"),
        line.rcp_name,
        line.patient,
        line.case_id,
        line.status,
        line.detail,
    )
