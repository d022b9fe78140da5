"""Read side: the case list (constant number of queries per page) and a patient's timeline."""

from __future__ import annotations

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..access import care_team
from ..core import audit
from ..core.pagination import Page, paginate, paginate_by_key
from ..core.patient_data import patient_ids
from ..extensions import db
from ..patients.models import Patient
from .models import Case, Tumour


def _with_list_data(stmt: Select) -> Select:
    return stmt.options(
        joinedload(Case.patient),
        joinedload(Case.rcp),
        joinedload(Case.session),
        joinedload(Case.requester),
        selectinload(Case.tumours).selectinload(Tumour.biomarkers),
    )


def patient_condition(query: str):
    """The patient search of the patients list (rcp_app/patients): an INS prefix, or name and
    first-name prefixes with accents and case ignored, on the indexed search keys. None when
    the query is empty."""
    from ..patients.operations import search_statement

    return search_statement(query, None).whereclause if query.strip() else None


def list_statement(
    rcp_id: int | None,
    status: str | None,
    mine_of=None,
    professional_id: int | None = None,
    patient_query: str = "",
    *,
    user,
) -> Select:
    """The cases ``user`` may see (rcp_app/access), filtered.

    A physician's own cases (registered or requested by them) are in their care team by
    construction: that list leaves the team condition out, so that PostgreSQL reads the
    per-author indexes instead of scanning every case newest first (bench/README.md)."""
    own_only = (
        mine_of is not None
        and mine_of == user.id
        and getattr(user, "role", None) == "physician"
        and professional_id == user.professional_id
    )
    stmt = select(Case) if own_only else select(Case).where(care_team.case_condition(user))
    condition = patient_condition(patient_query)
    if condition is not None:
        stmt = stmt.join(Patient, Patient.id == Case.patient_id).where(condition)
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


def list_cases(
    stmt: Select,
    page: int,
    per_page: int,
    filters: dict,
    audit_empty: bool = True,
    count_limit: int | None = None,
    by_key: bool = True,
) -> Page:
    """One page of cases with what the list shows; listing patients is audited (an empty
    list too, unless ``audit_empty`` is False: then no patient was shown). ``count_limit``:
    see core.pagination.paginate; ``by_key``: one scan for the keys and the count, then the page
    by primary key (core.pagination.paginate_by_key), for lists filtered by the care team (its
    condition is then set up once); a selective filter with its own index (« mes dossiers »)
    pages as usual."""
    if count_limit is None or not by_key:
        result = paginate(_with_list_data(stmt), page, per_page, count_limit=count_limit)
    else:
        result = paginate_by_key(stmt, Case.id, _load_for_list, page, per_page, count_limit)
    if not result.items and not audit_empty:
        return result
    audit.record(
        "case.list",
        "case",
        None,
        details={
            **filters,
            "page": result.page,
            "result_ids": [c.id for c in result.items],
            "patients": patient_ids(c.patient_id for c in result.items),
        },
    )
    return result


def _load_for_list(case_ids: list[int]) -> list[Case]:
    return list(
        db.session.scalars(_with_list_data(select(Case).where(Case.id.in_(case_ids)))).unique()
    )


def cases_in_sessions(session_ids: list[int], status: str | tuple[str, ...]) -> list[Case]:
    """The cases of these sessions with that status (or one of those), with what completeness
    needs (a constant number of queries). Not audited: callers show counts, not patients."""
    if not session_ids:
        return []
    statuses = (status,) if isinstance(status, str) else status
    stmt = select(Case).where(Case.session_id.in_(session_ids), Case.status.in_(statuses))
    return list(db.session.scalars(_with_list_data(stmt)).unique())


def patient_timeline(patient_id: int, user) -> list[Case]:
    """The patient's cases that ``user`` may see, most recent first."""
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.patient_id == patient_id, care_team.case_condition(user))
            .options(joinedload(Case.rcp), joinedload(Case.session), joinedload(Case.requester))
            .order_by(Case.created_at.desc(), Case.id.desc())
        )
    )
