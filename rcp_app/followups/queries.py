"""The follow-up lists and counts, filtered in SQL by the care team (rcp_app/access).

- « Mes suivis »: the pending follow-ups a physician answers for (the cases they requested,
  registered or are named on as correspondent); for a secretariat, those of the RCPs it runs.
- « Propositions sans suivi »: the overdue pending follow-ups of the RCPs one runs (the
  secretariat, through its scopes) or coordinates (the coordinating physician).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, case, exists, false, func, or_, select
from sqlalchemy.orm import joinedload

from ..access import care_team
from ..cases.models import Case, case_correspondents
from ..core.timeutil import to_paris, utcnow
from ..directory.models import Rcp
from ..extensions import db
from ..fiches.models import Fiche
from ..pps.models import CarePlan
from .models import FollowUp


def today(now: datetime | None = None) -> date:
    return to_paris(now or utcnow()).date()


def _visible(user) -> Select:
    """Follow-ups whose case ``user`` sees (the care team's SQL condition)."""
    return (
        select(FollowUp)
        .join(Case, Case.id == FollowUp.case_id)
        .where(care_team.case_condition(user, Case.__table__))
    )


def _answered_by(user):
    """The follow-ups a physician answers for: the case's referring physician (as at the
    signature), its author, a correspondent named on it."""
    paths = [Case.created_by_id == user.id]
    professional_id = user.professional_id
    if professional_id is not None:
        paths += [
            FollowUp.requester_id == professional_id,
            exists().where(
                case_correspondents.c.case_id == FollowUp.case_id,
                case_correspondents.c.professional_id == professional_id,
            ),
        ]
    return or_(*paths)


def _with_list_data(stmt: Select) -> Select:
    return stmt.options(
        joinedload(FollowUp.patient),
        joinedload(FollowUp.rcp),
        joinedload(FollowUp.requester),
        joinedload(FollowUp.fiche).joinedload(Fiche.session),
    )


def _mine(user) -> Select:
    stmt = _visible(user).where(FollowUp.state == "pending")
    if user.role == "physician":
        stmt = stmt.where(_answered_by(user))
    return stmt


def mine_statement(user) -> Select:
    """Pending follow-ups, the earliest due first."""
    return _with_list_data(_mine(user)).order_by(FollowUp.due_on, FollowUp.id)


def followed_rcp_ids(user) -> Select:
    """The RCPs whose unanswered follow-ups ``user`` watches: those a secretariat runs, those a
    physician coordinates."""
    if user.role == "coordinator":
        return care_team.scoped_rcp_ids(user)
    rcps = Rcp.__table__
    if user.role != "physician" or user.professional_id is None:
        return select(rcps.c.id).where(false())
    return select(rcps.c.id).where(rcps.c.coordinator_id == user.professional_id)


def followed_rcps(user) -> list[Rcp]:
    return list(
        db.session.scalars(
            select(Rcp).where(Rcp.id.in_(followed_rcp_ids(user))).order_by(Rcp.name, Rcp.id)
        )
    )


def _unrecorded(user, now: datetime | None = None) -> Select:
    return _visible(user).where(
        FollowUp.state == "pending",
        FollowUp.due_on < today(now),
        FollowUp.rcp_id.in_(followed_rcp_ids(user)),
    )


def unrecorded_statement(user, rcp_id: int | None = None, now: datetime | None = None) -> Select:
    """Overdue pending follow-ups, by RCP, the longest overdue first."""
    stmt = _unrecorded(user, now).join(Rcp, Rcp.id == FollowUp.rcp_id)
    if rcp_id is not None:
        stmt = stmt.where(FollowUp.rcp_id == rcp_id)
    return _with_list_data(stmt).order_by(Rcp.name, Rcp.id, FollowUp.due_on, FollowUp.id)


@dataclass(frozen=True)
class DueCounts:
    pending: int = 0
    due: int = 0  # due today or overdue
    overdue: int = 0


def due_counts(user, now: datetime | None = None) -> DueCounts:
    """The home page's « Propositions à suivre » (one query, counts only: nobody named)."""
    if user.role not in ("physician", "coordinator"):
        return DueCounts()
    day = today(now)
    mine = _mine(user).subquery()
    row = db.session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((mine.c.due_on <= day, 1), else_=0)), 0),
            func.coalesce(func.sum(case((mine.c.due_on < day, 1), else_=0)), 0),
        ).select_from(mine)
    ).one()
    return DueCounts(pending=row[0], due=row[1], overdue=row[2])


def unrecorded_count(user, now: datetime | None = None) -> int:
    """The home page's « Propositions sans suivi » (counts only)."""
    if user.role not in ("physician", "coordinator"):
        return 0
    stmt = _unrecorded(user, now).with_only_columns(FollowUp.id)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))


def care_plans_of(follow_ups) -> dict:
    """fiche id -> its care programme (PPS), for a page of follow-ups (one query): the list
    says, beside each proposal, whether the programme handed to the patient is written."""
    fiche_ids = [follow_up.fiche_id for follow_up in follow_ups]
    if not fiche_ids:
        return {}
    rows = db.session.scalars(select(CarePlan).where(CarePlan.fiche_id.in_(fiche_ids)))
    return {plan.fiche_id: plan for plan in rows}
