"""Read side: the case list (constant number of queries per page) and a patient's timeline."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..core import audit
from ..core.pagination import Page, paginate
from ..extensions import db
from .models import Case, Tumour


def _with_list_data(stmt: Select) -> Select:
    return stmt.options(
        joinedload(Case.patient),
        joinedload(Case.rcp),
        joinedload(Case.session),
        joinedload(Case.requester),
        selectinload(Case.tumours).selectinload(Tumour.biomarkers),
    )


def list_statement(
    rcp_id: int | None, status: str | None, mine_of=None, professional_id: int | None = None
) -> Select:
    stmt = select(Case)
    if rcp_id is not None:
        stmt = stmt.where(Case.rcp_id == rcp_id)
    if status is not None:
        stmt = stmt.where(Case.status == status)
    if mine_of is not None:
        mine = Case.created_by_id == mine_of
        if professional_id is not None:
            mine = or_(mine, Case.requester_id == professional_id)
        stmt = stmt.where(mine)
    return stmt.order_by(Case.created_at.desc(), Case.id.desc())


def list_cases(stmt: Select, page: int, per_page: int, filters: dict) -> Page:
    """One page of cases with what the list shows; listing patients is audited."""
    result = paginate(_with_list_data(stmt), page, per_page)
    audit.record(
        "case.list",
        "case",
        None,
        details={**filters, "page": result.page, "result_ids": [c.id for c in result.items]},
    )
    return result


def patient_timeline(patient_id: int) -> list[Case]:
    """The patient's cases, most recent first (decisions and fiches come with later issues)."""
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.patient_id == patient_id)
            .options(joinedload(Case.rcp), joinedload(Case.session), joinedload(Case.requester))
            .order_by(Case.created_at.desc(), Case.id.desc())
        )
    )
