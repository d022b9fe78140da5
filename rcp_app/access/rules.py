"""``can(user, action, thing)``: the access rule for one object, used by views and templates.

Lists, searches and counts use the SQL conditions of ``care_team`` instead (no loop over rows);
both read the same rules, so what a list shows is what a page opens. Each check is one small
query, cached for the request.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g, has_app_context
from sqlalchemy import exists, select

from ..extensions import db
from . import care_team

CLINICAL_ROLES = frozenset({"physician", "coordinator"})


def _cache() -> dict:
    if not has_app_context():
        return {}
    if "rcp_access_cache" not in g:
        g.rcp_access_cache = {}
    return g.rcp_access_cache


def forget() -> None:
    """Drop the cached answers (after an exceptional access is opened, in the same request)."""
    if has_app_context():
        g.pop("rcp_access_cache", None)


def _cached(key, compute: Callable[[], bool]) -> bool:
    cache = _cache()
    if key not in cache:
        cache[key] = bool(compute())
    return cache[key]


def _role(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.role


# --- patients and their records --------------------------------------------------------------


def sees_patient_record(user, patient_id: int) -> bool:
    """Clinical data of this patient (cases, decisions, fiches, attachments, timeline)."""
    if _role(user) not in CLINICAL_ROLES:
        return False

    def compute():
        condition = care_team.patient_condition(
            user, care_team._table("patients").c.id, per_row=True
        )
        patients = care_team._table("patients")
        return db.session.scalar(select(exists().where(patients.c.id == patient_id, condition)))

    return _cached(("record", user.id, patient_id), compute)


def sees_patient_page(user, patient_id: int) -> bool:
    """The patient's page: the record, or the identity alone for whoever registered the
    patient (they submit the first case from there)."""
    if sees_patient_record(user, patient_id):
        return True
    if _role(user) not in CLINICAL_ROLES:
        return False
    patients = care_team._table("patients")
    return _cached(
        ("registered", user.id, patient_id),
        lambda: db.session.scalar(
            select(
                exists().where(
                    patients.c.id == patient_id,
                    care_team.registered_patient_condition(user, patients),
                )
            )
        ),
    )


def sees_case(user, case) -> bool:
    role = _role(user)
    if role == "physician":
        # Its author sees a case at once (a draft too); the patient's record is the care team's.
        authored = case.created_by_id == user.id or (
            user.professional_id is not None and case.requester_id == user.professional_id
        )
        return authored or sees_patient_record(user, case.patient_id)
    if role == "coordinator":
        return runs_rcp(user, case.rcp_id) or case.created_by_id == user.id
    return False


def edits_case(user, case) -> bool:
    """Changing a case's data: its authors (referring physician, who registered it,
    correspondents) and the RCP's secretariat — not every member of the RCP."""
    role = _role(user)
    if role == "coordinator":
        return sees_case(user, case)
    if role != "physician" or not sees_case(user, case):
        return False
    if case.created_by_id == user.id:
        return True
    professional_id = user.professional_id
    if professional_id is None:
        return False
    if case.requester_id == professional_id:
        return True
    return any(p.id == professional_id for p in case.correspondents)


# --- RCPs and their sessions -----------------------------------------------------------------


def runs_rcp(user, rcp_id: int) -> bool:
    """A coordinator in charge of this RCP (named, or through its establishment)."""
    if _role(user) != "coordinator":
        return False
    return _cached(
        ("runs", user.id, rcp_id),
        lambda: db.session.scalar(
            select(exists().where(care_team.scoped_rcp_ids(user).subquery().c.rcp_id == rcp_id))
        ),
    )


def coordinates_rcp_of_patient(user, patient_id: int) -> bool:
    """The coordinating physician of an RCP where one of the patient's cases was submitted:
    they review the exceptional accesses to that patient."""
    if _role(user) != "physician" or user.professional_id is None:
        return False
    cases, rcps = care_team._table("cases"), care_team._table("rcps")
    return _cached(
        ("coordinates", user.id, patient_id),
        lambda: db.session.scalar(
            select(
                exists()
                .where(cases.c.patient_id == patient_id, cases.c.rcp_id == rcps.c.id)
                .where(rcps.c.coordinator_id == user.professional_id)
            )
        ),
    )


def coordinated_patient_ids(user):
    """``coordinates_rcp_of_patient`` as one SELECT of patient ids, for the review list (a SQL
    filter, no loop over rows); None for a user who coordinates no RCP."""
    if _role(user) != "physician" or user.professional_id is None:
        return None
    cases, rcps = care_team._table("cases"), care_team._table("rcps")
    return (
        select(cases.c.patient_id)
        .join(rcps, rcps.c.id == cases.c.rcp_id)
        .where(rcps.c.coordinator_id == user.professional_id)
    )


def reviews_exceptional_access(user, access) -> bool:
    role = _role(user)
    if role == "dpo":
        return True
    return coordinates_rcp_of_patient(user, access.patient_id)


def any_exceptional_access_to_review(user) -> bool:
    """Whether the review page concerns this user at all (the menu shows it)."""
    role = _role(user)
    if role == "dpo":
        return True
    if role != "physician" or user.professional_id is None:
        return False
    rcps = care_team._table("rcps")
    return _cached(
        ("any_review", user.id),
        lambda: db.session.scalar(
            select(exists().where(rcps.c.coordinator_id == user.professional_id))
        ),
    )


def _via_case(action: str):
    """Decisions, fiches, attachments, agenda lines: what their case allows."""
    return lambda u, thing: _case_rule(action)(u, thing.case)


def _case_rule(action: str):
    return sees_case if action == "view" else edits_case


# --- the one entry point ---------------------------------------------------------------------

# (action, table of the thing) → rule(user, thing)
_RULES: dict[tuple[str, str], Callable[..., bool]] = {
    ("view", "patients"): lambda u, p: sees_patient_page(u, p.id),
    ("view_record", "patients"): lambda u, p: sees_patient_record(u, p.id),
    ("edit", "patients"): lambda u, p: sees_patient_page(u, p.id),
    ("view", "cases"): sees_case,
    ("edit", "cases"): edits_case,
    ("view", "rcps"): lambda u, r: _role(u) in CLINICAL_ROLES,
    ("manage", "rcps"): lambda u, r: runs_rcp(u, r.id),
    # The RCP's settings in the directory: the administrator, or its own secretariat.
    ("configure", "rcps"): lambda u, r: _role(u) == "admin" or runs_rcp(u, r.id),
    ("view", "meeting_sessions"): lambda u, s: runs_rcp(u, s.rcp_id) or _role(u) == "physician",
    ("manage", "meeting_sessions"): lambda u, s: runs_rcp(u, s.rcp_id),
    ("review", "exceptional_accesses"): reviews_exceptional_access,
    **{
        (action, kind): _via_case(action)
        for action in ("view", "edit")
        for kind in ("agenda_items", "fiches", "care_plans", "follow_ups")
    },
    ("view", "decisions"): lambda u, d: sees_case(u, d.item.case),
    ("edit", "decisions"): lambda u, d: sees_case(u, d.item.case),
}


def can(user, action: str, thing) -> bool:
    """Whether ``user`` may do ``action`` on ``thing`` (a model instance).

    An (action, kind) pair without a rule is refused: a new kind of object is closed until a
    rule opens it."""
    if thing is None:
        return False
    rule = _RULES.get((action, getattr(thing, "__tablename__", "")))
    return bool(rule and rule(user, thing))
