"""Who is in a patient's care team, as SQL: the one place lists, searches and counts ask.

A physician sees a patient's clinical data (cases, decisions, fiches, attachments, timeline)
when they are in the patient's care team through at least one case of that patient:

- they are its referring physician, or they registered it, once it was submitted (a draft
  opens itself to its author, not the patient's record: a draft typed for a patient found by
  the identity search is no way around the exceptional access);
- they are named on it as a correspondent (copy recipient);
- they belong to the RCP it was submitted to: usual participant, validation delegate or
  coordinating physician — unless the patient objects to sharing beyond the treating team
  (``patient_sharing_objection``), which leaves only the coordinating physician, who runs the
  meeting and signs;
- they were recorded present at a session whose agenda held it;
- or they hold an exceptional access (« bris de glace ») to the patient that has not expired.

Memberships are read as they are now: a physician removed from an RCP loses the access at
once (what they saw stays in the audit log, with its date).

A coordinator (secretariat, 3C) sees the cases of the RCPs they run — named one by one or
through their establishment — and the cases they registered themselves.

GPs see the fiches sent to them (rcp_app/delivery), never a patient record; the data-protection
officer and the administrator see no clinical data at all.

Tables are read by name: this package sits below every feature package.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    not_,
    or_,
    select,
    union,
    union_all,
)

from ..core.timeutil import utcnow
from ..extensions import db


def _table(name: str):
    return db.metadata.tables[name]


def _submitted(cases) -> ColumnElement[bool]:
    # Drafts stay with their author: an RCP sees a case once it was submitted to it.
    return cases.c.submitted_at.is_not(None)


def scoped_rcp_ids(user) -> Select:
    """The RCPs a coordinator runs: named, or every RCP of a named establishment."""
    scopes, rcps = _table("coordinator_scopes"), _table("rcps")
    return union(
        select(scopes.c.rcp_id).where(scopes.c.user_id == user.id, scopes.c.rcp_id.is_not(None)),
        select(rcps.c.id)
        .join(scopes, scopes.c.establishment_id == rcps.c.establishment_id)
        .where(scopes.c.user_id == user.id),
    )


def statistics_rcp_ids(user) -> Select | None:
    """The RCPs whose activity and quality indicators ``user`` sees (rcp_app/reports): a
    coordinator, the RCPs they run; a physician, the RCPs they coordinate (the coordinating
    physician answers for how the meeting works). None for the other roles."""
    role = getattr(user, "role", None)
    if role == "coordinator":
        return scoped_rcp_ids(user)
    if role == "physician":
        # A physician account not linked to the directory coordinates nothing.
        rcps = _table("rcps")
        if user.professional_id is None:
            return select(rcps.c.id).where(false())
        return select(rcps.c.id).where(rcps.c.coordinator_id == user.professional_id)
    return None


def member_rcp_ids(professional_id: int, *, with_coordinator: bool = True) -> Select:
    """The RCPs a professional belongs to now: usual participant, delegate, coordinator."""
    members, validators, rcps = (
        _table("rcp_members"),
        _table("rcp_validators"),
        _table("rcps"),
    )
    parts = [
        select(members.c.rcp_id).where(members.c.professional_id == professional_id),
        select(validators.c.rcp_id).where(validators.c.professional_id == professional_id),
    ]
    if with_coordinator:
        parts.append(select(rcps.c.id).where(rcps.c.coordinator_id == professional_id))
    return union(*parts)


def _rcp_lists(professional_id: int | None) -> tuple[list[int], list[int]]:
    """(RCPs the professional is a usual participant or delegate of, RCPs they coordinate):
    read first (two tiny queries) so that the care-team queries carry them as literal lists,
    which PostgreSQL matches against the covering indexes of cases (models.py)."""
    if professional_id is None:
        return [], []
    rcps = _table("rcps")
    shared = list(db.session.scalars(member_rcp_ids(professional_id, with_coordinator=False)))
    coordinated = list(
        db.session.scalars(select(rcps.c.id).where(rcps.c.coordinator_id == professional_id))
    )
    return shared, coordinated


def _own_case_paths(user, cases, rcp_lists, *, patient_level: bool) -> list[ColumnElement[bool]]:
    """The paths one case row opens: its author, its referring physician, its RCP's members,
    delegates and coordinating physician.

    Authorship opens the case itself at once (a draft belongs to whoever writes it), but opens
    the patient's other cases (``patient_level``) only once it was submitted: a draft typed
    for a patient found by the identity search does not open their record — submitting it sends
    it to an RCP and its secretariat, in the open."""
    authored = [cases.c.created_by_id == user.id]
    professional_id = user.professional_id
    if professional_id is not None:
        authored.append(cases.c.requester_id == professional_id)
    paths = [and_(_submitted(cases), or_(*authored))] if patient_level else authored
    if professional_id is not None:
        shared, coordinated = rcp_lists
        paths += [
            and_(
                _submitted(cases),
                not_(cases.c.patient_sharing_objection),
                cases.c.rcp_id.in_(shared),
            ),
            and_(_submitted(cases), cases.c.rcp_id.in_(coordinated)),
        ]
    return paths


def _physician_paths(user, now: datetime, rcp_lists) -> list[Select]:
    """Each way into a care team, as a SELECT of patient ids."""
    cases = _table("cases")
    paths = [
        select(cases.c.patient_id).where(path)
        for path in _own_case_paths(user, cases, rcp_lists, patient_level=True)
    ]
    professional_id = user.professional_id
    if professional_id is not None:
        correspondents = _table("case_correspondents")
        agenda, attendances = _table("agenda_items"), _table("attendances")
        paths += [
            select(cases.c.patient_id)
            .join(correspondents, correspondents.c.case_id == cases.c.id)
            .where(correspondents.c.professional_id == professional_id),
            select(cases.c.patient_id)
            .join(agenda, agenda.c.case_id == cases.c.id)
            .join(attendances, attendances.c.session_id == agenda.c.session_id)
            .where(attendances.c.professional_id == professional_id),
        ]
    exceptional = _table("exceptional_accesses")
    paths.append(
        select(exceptional.c.patient_id).where(
            exceptional.c.user_id == user.id, exceptional.c.expires_at > now
        )
    )
    return paths


def clinical_patient_ids(user, now: datetime | None = None) -> Select | None:
    """The patients whose clinical data ``user`` may see, as one SELECT of ids (duplicates
    possible); None when the role sees no patient record at all.

    For a physician each path is an index-only scan (covering indexes on cases); PostgreSQL
    hashes the result once per query and a list read newest first stops at its page's end."""
    now = now or utcnow()
    role = getattr(user, "role", None)
    if role == "physician":
        return union_all(*_physician_paths(user, now, _rcp_lists(user.professional_id)))
    if role == "coordinator":
        cases = _table("cases")
        return select(cases.c.patient_id).where(coordinator_case_condition(user, cases))
    return None


def coordinator_case_condition(user, cases) -> ColumnElement[bool]:
    return or_(cases.c.rcp_id.in_(scoped_rcp_ids(user)), cases.c.created_by_id == user.id)


def _in_care_team(user, patient_id_column, now: datetime, rcp_lists) -> ColumnElement[bool]:
    """The same paths, as EXISTS correlated on one patient id: for a few given patients (one
    record, a page of search results), a few index probes each."""
    cases = _table("cases")
    own = cases.alias("team_case")
    checks = [
        exists().where(
            own.c.patient_id == patient_id_column,
            or_(*_own_case_paths(user, own, rcp_lists, patient_level=True)),
        )
    ]
    professional_id = user.professional_id
    if professional_id is not None:
        named = cases.alias("named_case")
        correspondents = _table("case_correspondents")
        present = cases.alias("present_case")
        agenda, attendances = _table("agenda_items"), _table("attendances")
        checks += [
            exists().where(
                named.c.patient_id == patient_id_column,
                correspondents.c.case_id == named.c.id,
                correspondents.c.professional_id == professional_id,
            ),
            exists().where(
                present.c.patient_id == patient_id_column,
                agenda.c.case_id == present.c.id,
                attendances.c.session_id == agenda.c.session_id,
                attendances.c.professional_id == professional_id,
            ),
        ]
    exceptional = _table("exceptional_accesses")
    checks.append(
        exists().where(
            exceptional.c.patient_id == patient_id_column,
            exceptional.c.user_id == user.id,
            exceptional.c.expires_at > now,
        )
    )
    return or_(*checks)


def patient_condition(
    user, patient_id_column, now: datetime | None = None, *, per_row: bool = False
):
    """SQL condition on a patient id column: the patient's clinical data is visible.

    Lists use the set form (hashed once); ``per_row`` for a handful of given patients."""
    role = getattr(user, "role", None)
    now = now or utcnow()
    if role == "physician" and per_row:
        return _in_care_team(user, patient_id_column, now, _rcp_lists(user.professional_id))
    ids = clinical_patient_ids(user, now)
    if ids is None:
        return false()
    return patient_id_column.in_(ids)


def case_condition(user, case_table=None, now: datetime | None = None, *, per_row: bool = False):
    """SQL condition on the cases table (or an alias of it): the case is visible.

    Physicians see every case of a patient of their care team (the timeline is the patient's):
    the row's own paths first (most visible rows are decided without the subquery), then its
    patient. Coordinators see the cases of the RCPs they run."""
    cases = case_table if case_table is not None else _table("cases")
    role = getattr(user, "role", None)
    if role == "coordinator":
        return coordinator_case_condition(user, cases)
    if role == "physician":
        rcp_lists = _rcp_lists(user.professional_id)
        now = now or utcnow()
        team = (
            _in_care_team(user, cases.c.patient_id, now, rcp_lists)
            if per_row
            else cases.c.patient_id.in_(union_all(*_physician_paths(user, now, rcp_lists)))
        )
        return or_(*_own_case_paths(user, cases, rcp_lists, patient_level=False), team)
    return false()


def registered_patient_condition(user, patients=None):
    """The patients ``user`` registered: they see the identity page (to submit a first case)."""
    patients = patients if patients is not None else _table("patients")
    return and_(patients.c.created_by_id.is_not(None), patients.c.created_by_id == user.id)


def patient_page_condition(
    user, patients=None, now: datetime | None = None, *, per_row: bool = False
):
    """The patients whose page ``user`` opens: the record, or the identity they registered."""
    patients = patients if patients is not None else _table("patients")
    return or_(
        registered_patient_condition(user, patients),
        patient_condition(user, patients.c.id, now, per_row=per_row),
    )


def _ids_among(table, ids, condition) -> set[int]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return set()
    return set(db.session.scalars(select(table.c.id).where(table.c.id.in_(wanted), condition)))


def record_ids_among(user, patient_ids, now: datetime | None = None) -> set[int]:
    """Which of these patients (a page of search results) ``user`` may open: one query."""
    patients = _table("patients")
    return _ids_among(
        patients, patient_ids, patient_page_condition(user, patients, now, per_row=True)
    )


def transmission_condition(user, transmissions=None):
    """The deliveries a coordinator follows: those of the RCPs they run (a fiche or a care
    programme (PPS) of one of its cases, a notice of one of its sessions or cases)."""
    transmissions = transmissions if transmissions is not None else _table("transmissions")
    if getattr(user, "role", None) != "coordinator":
        return false()
    rcp_ids = scoped_rcp_ids(user)
    versions, fiches, cases = _table("fiche_versions"), _table("fiches"), _table("cases")
    notices, sessions = _table("notifications"), _table("meeting_sessions")
    fiche_versions = (
        select(versions.c.id)
        .join(fiches, fiches.c.id == versions.c.fiche_id)
        .join(cases, cases.c.id == fiches.c.case_id)
        .where(cases.c.rcp_id.in_(rcp_ids))
    )
    plan_versions, plans = _table("care_plan_versions"), _table("care_plans")
    care_plan_versions = (
        select(plan_versions.c.id)
        .join(plans, plans.c.id == plan_versions.c.care_plan_id)
        .join(cases, cases.c.id == plans.c.case_id)
        .where(cases.c.rcp_id.in_(rcp_ids))
    )
    session_notices = (
        select(notices.c.id)
        .join(sessions, sessions.c.id == notices.c.session_id)
        .where(sessions.c.rcp_id.in_(rcp_ids))
    )
    case_notices = (
        select(notices.c.id)
        .join(cases, cases.c.id == notices.c.case_id)
        .where(cases.c.rcp_id.in_(rcp_ids))
    )
    return or_(
        transmissions.c.fiche_version_id.in_(fiche_versions),
        transmissions.c.care_plan_version_id.in_(care_plan_versions),
        transmissions.c.notification_id.in_(union(session_notices, case_notices)),
    )


def case_ids_among(user, case_ids, now: datetime | None = None) -> set[int]:
    """Which of these cases (an agenda's) ``user`` may see: one query."""
    cases = _table("cases")
    return _ids_among(cases, case_ids, case_condition(user, cases, now, per_row=True))
