"""Shared helpers of the tests/test_meetings_*.py files."""

from __future__ import annotations

from sqlalchemy import select

from rcp_app.cases.models import Case, RcpRequiredItem
from rcp_app.core.audit import AuditEntry
from rcp_app.extensions import db
from rcp_app.meetings.models import AgendaItem, MeetingSession, Notification


def simple_rcp(app, make, **fields):
    """An RCP whose minimum data set is one item (comorbidities): cases with it are complete."""
    rcp = make.rcp(**fields)
    with app.app_context():
        db.session.add(RcpRequiredItem(rcp_id=rcp.id, item_code="comorbidities"))
        db.session.commit()
    return rcp


def pool_case(make, rcp_id: int, session_id: int, complete: bool = True, **fields):
    values = {"comorbidities": "HTA" if complete else ""}
    values.update(fields)
    return make.submitted_case(rcp_id=rcp_id, session_id=session_id, **values)


def get(app, model, object_id):
    with app.app_context():
        obj = db.session.get(model, object_id)
        if obj is not None:
            db.session.expunge(obj)
        return obj


def items_of(app, session_id: int) -> list[tuple[int, int]]:
    """(case_id, position) in agenda order."""
    with app.app_context():
        return [
            (i.case_id, i.position)
            for i in db.session.scalars(
                select(AgendaItem)
                .where(AgendaItem.session_id == session_id)
                .order_by(AgendaItem.position)
            )
        ]


def item_ids(app, session_id: int) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(AgendaItem.id)
                .where(AgendaItem.session_id == session_id)
                .order_by(AgendaItem.position)
            )
        )


def session_row(app, session_id: int) -> MeetingSession:
    return get(app, MeetingSession, session_id)


def case_row(app, case_id: int) -> Case:
    return get(app, Case, case_id)


def notifications(app) -> list[tuple]:
    with app.app_context():
        return [
            (n.kind, n.recipient_id, n.session_id, n.case_id, n.status, n.reason)
            for n in db.session.scalars(select(Notification).order_by(Notification.id))
        ]


def audits(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        for row in rows:
            db.session.expunge(row)
        return rows
