"""Case operations: register, edit, submit, withdraw, view, list (each one audited).

Operations validate, lock, mutate, write the audit row and flush; the request commits once.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..core import audit
from ..core.conflict import check_version
from ..core.errors import Conflict, DomainError
from ..core.timeutil import utcnow
from ..extensions import db
from ..meetings.models import MeetingSession
from . import completeness, status
from .models import Biomarker, Case, OtherStaging, Treatment, Tumour
from .validation import LINES, TEXTS, CaseInvalid, Context, submission_problems, validate

STALE = (
    "Ce dossier a été modifié entre-temps par un autre utilisateur : vos modifications n'ont "
    "pas été enregistrées. Rouvrez le dossier pour repartir de la version actuelle."
)


class StaleCase(Conflict):
    """The edit form was built from an older version of the case."""


# Scalar columns set from the form (besides session, requester, GP and the child rows).
SCALARS = (
    "nature",
    "appareil_code",
    "organ_code",
    "theme_code",
    "motive_diagnostic",
    "motive_treatment",
    "motive_recourse",
    "motive_paediatric",
    "phase_code",
    "relapse_date",
    "progression_local",
    "progression_regional",
    "progression_distant",
    "discovery_screening",
    "performance_status",
    "g8_score",
    "surgery_date",
    "pathology_date",
    "molecular_date",
    "gp_id",
    "gp_unknown",
    "patient_informed_on",
    "patient_non_opposition",
    "patient_sharing_objection",
    *(name for name, _, _ in TEXTS),
    *(name for name, _, _ in LINES),
)
# Free texts: the audit names them when they change but does not copy them.
_TEXT_FIELDS = {name for name, _, _ in TEXTS}
TUMOUR_COLUMNS = (
    "diagnosis_date",
    "topography_code",
    "morphology_code",
    "laterality_code",
    "tnm_edition",
    "clinical_t",
    "clinical_n",
    "clinical_m",
    "pathological_t",
    "pathological_n",
    "pathological_m",
    "stage_group",
    "stage_edition",
    "stage_basis",
    "comment",
)
TREATMENT_COLUMNS = ("type_code", "status", "treatment_date", "comment")


# --- rules shared by the operations ----------------------------------------------------------


def is_frozen(case: Case) -> bool:
    """A registered case is frozen once its session's agenda is published."""
    return case.status != "draft" and case.session is not None and case.session.agenda_frozen


def check_editable(case: Case) -> None:
    if case.status not in status.EDITABLE:
        raise Conflict(
            f"Ce dossier est « {case.status_label.lower()} » : il ne peut plus être modifié."
        )
    if is_frozen(case):
        raise Conflict(
            f"L'ordre du jour de la séance du {case.session.starts_at:%d/%m/%Y} est publié : "
            "le dossier ne peut plus être modifié. Adressez-vous au secrétariat de la RCP."
        )


def _check_version(case: Case, expected_version) -> None:
    db.session.refresh(case, with_for_update=True)
    check_version(expected_version, case.version, StaleCase(STALE))


def check_transition(case: Case, target: str) -> None:
    if not status.can_transition(case.status, target):
        raise Conflict(
            f"Action impossible : le dossier est « {case.status_label.lower()} » "
            f"et ne peut pas passer à « {status.STATUS_LABELS[target].lower()} »."
        )


def duplicate_of(patient_id: int, session: MeetingSession | None, case_id: int | None):
    """Another active case of the patient in the same session, or None."""
    if session is None:
        return None
    stmt = select(Case).where(
        Case.patient_id == patient_id,
        Case.session_id == session.id,
        Case.status.in_(status.ACTIVE),
    )
    if case_id is not None:
        stmt = stmt.where(Case.id != case_id)
    return db.session.scalars(stmt.limit(1)).first()


def _refuse_duplicate(patient_id: int, session: MeetingSession | None, case_id=None) -> None:
    other = duplicate_of(patient_id, session, case_id)
    if other is not None:
        verb = "soumis" if other.status != "draft" else "préparé (brouillon)"
        raise CaseInvalid(
            {
                "session_id": [
                    f"Ce patient est déjà inscrit à la séance du "
                    f"{session.starts_at:%d/%m/%Y} (dossier n° {other.id}, {verb} par "
                    f"{other.requester.display_name})."
                ]
            }
        )


@contextmanager
def _unique_guard(patient_id: int, session: MeetingSession | None, case_id: int | None):
    """Make the changes inside a savepoint: a concurrent duplicate (unique index on patient +
    session) gets the same French message as the pre-check instead of an error page."""
    try:
        with db.session.begin_nested():
            yield
    except IntegrityError:
        with db.session.no_autoflush:
            _refuse_duplicate(patient_id, session, case_id)
        raise


# --- writing the values ----------------------------------------------------------------------


def _apply_rows(existing: list, wanted: list[dict], factory, columns, extra=None) -> None:
    """Update the rows in place by position, add the missing ones, drop the extra ones."""
    for index, values in enumerate(wanted):
        if index < len(existing):
            row = existing[index]
        else:
            row = factory()
            existing.append(row)
        row.rank = index + 1
        for column in columns:
            setattr(row, column, values[column])
        if extra is not None:
            extra(row, values)
    del existing[len(wanted) :]


def _apply_tumour_children(tumour: Tumour, values: dict) -> None:
    _apply_rows(
        tumour.stagings, values["stagings"], OtherStaging, ("system", "system_version", "value")
    )
    wanted = values["biomarkers"]
    by_code = {b.code: b for b in tumour.biomarkers}
    for code, value in wanted.items():
        if code in by_code:
            by_code[code].value = value
        else:
            tumour.biomarkers.append(Biomarker(code=code, value=value))
    tumour.biomarkers[:] = [b for b in tumour.biomarkers if b.code in wanted]


def _apply(case: Case, clean: dict) -> None:
    case.session = clean["session"]
    case.requester = clean["requester"]
    for name in SCALARS:
        setattr(case, name, clean[name])
    case.correspondents = clean["correspondents"]
    _apply_rows(case.tumours, clean["tumours"], Tumour, TUMOUR_COLUMNS, _apply_tumour_children)
    _apply_rows(case.treatments, clean["treatments"], Treatment, TREATMENT_COLUMNS)


def _jsonable(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def snapshot(case: Case) -> dict:
    """The case's values as plain data, to tell what an edit changed."""
    data = {name: _jsonable(getattr(case, name)) for name in SCALARS}
    data["session_id"] = case.session.id if case.session is not None else None
    data["requester_id"] = case.requester.id if case.requester is not None else None
    data["correspondents"] = sorted(p.id for p in case.correspondents)
    data["tumours"] = [
        {
            **{c: _jsonable(getattr(t, c)) for c in TUMOUR_COLUMNS},
            "stagings": [(s.system, s.system_version, s.value) for s in t.stagings],
            "biomarkers": {b.code: b.value for b in t.biomarkers},
        }
        for t in case.tumours
    ]
    data["treatments"] = [
        {c: _jsonable(getattr(t, c)) for c in TREATMENT_COLUMNS} for t in case.treatments
    ]
    return data


def _changes(before: dict, after: dict) -> dict:
    fields = [name for name in after if before.get(name) != after[name]]
    return {
        "fields": fields,
        "changes": {
            name: {"old": before.get(name), "new": after[name]}
            for name in fields
            if name not in _TEXT_FIELDS and name not in ("tumours", "treatments")
        },
    }


def _author_columns(author) -> dict:
    if isinstance(author, User):
        return {"created_by_id": author.id}
    return {"created_by_client_id": author.id}


# --- operations ------------------------------------------------------------------------------


def create_case(patient, rcp, author, data: dict, *, submit: bool = False) -> Case:
    """Register a draft case (and submit it at once when ``submit``).

    ``author``: the user who fills in the form, or the API client of a hospital system
    (rcp_app/api), which is not a user; the case records which one registered it.
    """
    if not rcp.active:
        raise DomainError("Cette RCP n'est plus active : choisissez-en une autre.", field="rcp_id")
    now = utcnow()
    clean = validate(data, Context(rcp=rcp, patient=patient, now=now))
    _refuse_duplicate(patient.id, clean["session"])
    case = Case(
        patient=patient,
        rcp=rcp,
        **_author_columns(author),
        status="draft",
        created_at=now,
        updated_at=now,
    )
    with _unique_guard(patient.id, clean["session"], None):
        db.session.add(case)
        _apply(case, clean)
    audit.record(
        "case.create",
        "case",
        case.id,
        patient_id=patient.id,
        details={"rcp_id": rcp.id, "session_id": case.session_id, "fields": list(snapshot(case))},
    )
    if submit:
        submit_case(case)
    return case


def update_case(case: Case, data: dict, expected_version, *, submit: bool = False) -> list[str]:
    """Apply the form's values; returns the changed field names (empty: nothing changed)."""
    _check_version(case, expected_version)
    check_editable(case)
    now = utcnow()
    clean = validate(data, Context(rcp=case.rcp, patient=case.patient, now=now, case=case))
    _refuse_duplicate(case.patient_id, clean["session"], case.id)
    before = snapshot(case)
    with _unique_guard(case.patient_id, clean["session"], case.id):
        _apply(case, clean)
        details = _changes(before, snapshot(case))
        if details["fields"]:
            case.updated_at = now  # also bumps the version when only child rows changed
        if "session_id" in details["fields"] and case.status == "submitted":
            # Moved to another session: late or not with respect to the new deadline.
            case.is_late = case.session is not None and now > case.session.deadline_at
    if details["fields"]:
        audit.record("case.update", "case", case.id, patient_id=case.patient_id, details=details)
    if submit:
        submit_case(case)
    db.session.flush()
    return details["fields"]


def submit_case(case: Case, expected_version=None) -> None:
    """draft -> submitted; late when the session's deadline has passed."""
    if expected_version is not None:
        _check_version(case, expected_version)
    check_transition(case, "submitted")
    check_editable(case)
    if case.session is not None and case.session.agenda_frozen:
        raise CaseInvalid(
            {
                "session_id": [
                    f"L'ordre du jour de la séance du {case.session.starts_at:%d/%m/%Y} est "
                    "déjà publié : choisissez une séance suivante avant de soumettre."
                ]
            }
        )
    problems = submission_problems(case, completeness.g8_required(case))
    if problems:
        raise CaseInvalid(problems)
    _refuse_duplicate(case.patient_id, case.session, case.id)
    now = utcnow()
    case.status = "submitted"
    case.submitted_at = now
    case.is_late = case.session is not None and now > case.session.deadline_at
    case.updated_at = now
    db.session.flush()
    audit.record(
        "case.submit",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={
            "session_id": case.session_id,
            "late": case.is_late,
            "missing": completeness.missing_items(case),
        },
    )


def withdraw_case(case: Case, reason: str, expected_version) -> None:
    _check_version(case, expected_version)
    check_transition(case, "withdrawn")
    if case.session is not None and case.session.status in ("in_progress", "closed"):
        raise Conflict(
            "La séance a commencé : le dossier ne peut plus être retiré. Adressez-vous au "
            "secrétariat de la RCP."
        )
    reason = (reason or "").replace("\r\n", "\n").strip()
    if not reason:
        raise DomainError("Indiquez le motif du retrait.", field="reason")
    if len(reason) > 2000:
        raise DomainError("Le motif du retrait : 2000 caractères au maximum.", field="reason")
    previous = case.status
    now = utcnow()
    case.status = "withdrawn"
    case.withdrawn_at = now
    case.withdrawal_reason = reason
    case.updated_at = now
    db.session.flush()
    audit.record(
        "case.withdraw",
        "case",
        case.id,
        patient_id=case.patient_id,
        details={"previous_status": previous, "reason": reason},
    )


def record_view(case: Case, context: str | None = None) -> None:
    """Every display of a case is an access to patient data."""
    details = {"context": context} if context else {}
    audit.record("case.view", "case", case.id, patient_id=case.patient_id, details=details)


def set_required_items(rcp, codes: list[str], use_defaults: bool) -> list[str]:
    """Replace the RCP's minimum data set (empty or ``use_defaults``: the defaults apply)."""
    from .models import RcpRequiredItem

    unknown = [code for code in codes if code not in completeness.ITEMS]
    if unknown:
        raise DomainError("Élément inconnu : cochez-les dans la liste.", field="items")
    wanted = [] if use_defaults else [code for code in completeness.ITEMS if code in set(codes)]
    current = completeness.configured_items([rcp.id]).get(rcp.id, [])
    if sorted(current) == sorted(wanted):
        return wanted
    for row in db.session.scalars(select(RcpRequiredItem).where(RcpRequiredItem.rcp_id == rcp.id)):
        db.session.delete(row)
    db.session.flush()
    db.session.add_all(RcpRequiredItem(rcp_id=rcp.id, item_code=code) for code in wanted)
    db.session.flush()
    audit.record(
        "rcp.required_items",
        "rcp",
        rcp.id,
        details={"old": sorted(current), "new": wanted, "defaults": not wanted},
    )
    return wanted
