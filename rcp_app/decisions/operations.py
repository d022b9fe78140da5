"""Decision capture during the meeting: save (optimistic locking), mark ready, close the session.

Operations lock the rows they change, validate, write an audit row and flush; they never
commit and never read the request. Input ``data`` is a flat mapping of strings (a form or a
JSON body): every field of the decision form, missing keys meaning empty / unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..agenda import operations as agenda
from ..attendance.operations import quorum_for_case
from ..cases import status as case_status
from ..core import audit, signals
from ..core.conflict import check_version
from ..core.converters import parse_id, parse_int
from ..core.dates import parse_date
from ..core.errors import Conflict, DomainError
from ..core.patient_data import cases_named
from ..core.text import clean_text
from ..core.timeutil import format_time, utcnow
from ..extensions import db
from ..meetings.models import AgendaItem, MeetingSession
from ..terminology.builtin import QUORUM_REACHED, QUORUM_STATUS, TREATMENT_TYPE
from ..terminology.models import find_concept
from .models import OUTCOMES, Decision, DecisionAlternative

MAX_ALTERNATIVES = 3
MAX_TEXT = 10000
MAX_SECONDS = 24 * 3600
# Decision states that count as decided when the session closes.
DECIDED = ("ready_for_validation", "validated")
# Sessions whose decisions may be captured.
CAPTURE_STATUSES = ("agenda_published", "in_progress")
TEXT_FIELDS = {
    "proposal_details": MAX_TEXT,
    "exams_requested": MAX_TEXT,
    "recourse_rcp": 200,
    "guideline_name": 300,
    "guideline_version": 50,
    "deviation_reason": MAX_TEXT,
    "trial_name": 300,
    "trial_identifier": 100,
    "comments": MAX_TEXT,
}
BOOL_FIELDS = ("active_surveillance", "recourse_referral", "trial_proposed")
# The French label of every value the decision form sends (messages name the field).
LABELS = {
    "proposal_code": "Proposition de première ligne",
    "proposal_details": "Détails de la proposition",
    **{f"alt_code_{rank}": f"Alternative {rank}" for rank in range(1, MAX_ALTERNATIVES + 1)},
    **{
        f"alt_details_{rank}": f"Détails de l'alternative {rank}"
        for rank in range(1, MAX_ALTERNATIVES + 1)
    },
    "active_surveillance": "Surveillance active",
    "exams_requested": "Examens ou avis complémentaires demandés",
    "recourse_referral": "Adressé à une RCP de recours",
    "recourse_rcp": "RCP de recours",
    "guideline_name": "Référentiel suivi",
    "guideline_version": "Version du référentiel",
    "guideline_date": "Date du référentiel",
    "deviation_reason": "Motif d'écart au référentiel",
    "trial_proposed": "Essai clinique proposé",
    "trial_name": "Nom de l'essai",
    "trial_identifier": "Identifiant de l'essai",
    "file_complete": "Dossier complet",
    "quorum_status": "Statut du quorum",
    "comments": "Commentaires",
    "outcome": "Issue du dossier",
    "postpone_reason": "Motif du report",
    "seconds_spent": "Durée",
    "version": "Version",
}
STALE = (
    "La décision a été modifiée entre-temps par un autre utilisateur : comparez votre version "
    "avec la version enregistrée, puis choisissez."
)


class DecisionConflict(Conflict):
    """A stale save: carries the stored decision and what the user sent."""

    def __init__(self, stored: dict, mine: Mapping):
        super().__init__(STALE)
        self.stored = stored
        self.mine = dict(mine)


# --- loading ---------------------------------------------------------------------------------


def find_item(session: MeetingSession, raw_item_id) -> AgendaItem:
    """The agenda item of this session (French error when the case is not on its agenda)."""
    item_id = parse_id(raw_item_id)
    item = None
    if item_id is not None:
        item = db.session.get(AgendaItem, item_id, options=[joinedload(AgendaItem.case)])
    if item is None or item.session_id != session.id:
        raise DomainError(
            "Ce dossier n'est pas à l'ordre du jour de cette séance : aucune décision ne peut y "
            "être enregistrée. Rien n'a été changé.",
            field="item_id",
        )
    return item


def decision_of(item: AgendaItem) -> Decision | None:
    return db.session.scalars(
        select(Decision).where(Decision.item_id == item.id).options(joinedload(Decision.updated_by))
    ).first()


def decisions_for(items: list[AgendaItem]) -> dict[int, Decision]:
    """item id -> decision, for a whole agenda (two queries with the alternatives)."""
    if not items:
        return {}
    from sqlalchemy.orm import selectinload

    rows = db.session.scalars(
        select(Decision)
        .where(Decision.item_id.in_([i.id for i in items]))
        .options(selectinload(Decision.alternatives), joinedload(Decision.updated_by))
    )
    return {d.item_id: d for d in rows}


def as_dict(decision: Decision | None) -> dict:
    """The decision as the form's flat values (strings), plus who saved it and when."""
    if decision is None:
        return {"version": 0}
    values: dict = {name: getattr(decision, name) or "" for name in TEXT_FIELDS}
    for name in BOOL_FIELDS:
        values[name] = bool(getattr(decision, name))
    values.update(
        proposal_code=decision.proposal_code or "",
        guideline_date=decision.guideline_date.isoformat() if decision.guideline_date else "",
        file_complete={True: "yes", False: "no"}.get(decision.file_complete, ""),
        quorum_status=decision.quorum_status or "",
        outcome=decision.outcome or "",
        postpone_reason=decision.postpone_reason or "",
        seconds_spent=decision.seconds_spent,
        state=decision.state,
        version=decision.version,
        updated_by=decision.updated_by.display_name if decision.updated_by else "",
        updated_at=format_time(decision.updated_at),
    )
    for alt in decision.alternatives:
        values[f"alt_code_{alt.rank}"] = alt.treatment_code
        values[f"alt_details_{alt.rank}"] = alt.details
    return values


# --- parsing ---------------------------------------------------------------------------------


def checked_input(data: Mapping) -> dict:
    """Every value the form sends, through the input rule of core/text.py (a form or a JSON
    body alike): text normalised, a forbidden character refused with a message naming the
    field. Values of other types are kept; keys the decision does not read are dropped."""
    return {
        name: clean_text(value, LABELS[name], name) if isinstance(value, str) else value
        for name, value in data.items()
        if name in LABELS
    }


def _text(data: Mapping, name: str, limit: int) -> str:
    value = str(data.get(name) or "").strip()
    if len(value) > limit:
        raise DomainError(f"Ce champ est limité à {limit} caractères.", field=name)
    return value


def _bool(data: Mapping, name: str) -> bool:
    return str(data.get(name) or "").strip().lower() in ("1", "true", "on", "yes", "y", "oui")


def _treatment(code: str, field: str) -> str | None:
    code = code.strip()
    if not code:
        return None
    if find_concept(TREATMENT_TYPE, code) is None:
        raise DomainError("Type de traitement inconnu.", field=field)
    return code


def _date(raw, field: str) -> date | None:
    try:
        return parse_date(raw)
    except ValueError as error:
        raise DomainError(str(error), field=field) from None


def _seconds(raw, current: int) -> int:
    if not str(raw if raw is not None else "").strip():
        return current
    seconds = parse_int(raw, 0, MAX_SECONDS)
    if seconds is None:
        raise DomainError("Durée invalide.", field="seconds_spent")
    return seconds


def parse(data: Mapping, current_seconds: int = 0) -> tuple[dict, list[tuple[str, str]]]:
    """Validated column values and the alternatives (code, details) in rank order."""
    values: dict = {name: _text(data, name, limit) for name, limit in TEXT_FIELDS.items()}
    for name in BOOL_FIELDS:
        values[name] = _bool(data, name)
    values["proposal_code"] = _treatment(str(data.get("proposal_code") or ""), "proposal_code")
    values["guideline_date"] = _date(data.get("guideline_date"), "guideline_date")
    complete = str(data.get("file_complete") or "").strip()
    if complete not in ("", "yes", "no"):
        raise DomainError("Choisissez oui ou non.", field="file_complete")
    values["file_complete"] = {"yes": True, "no": False}.get(complete)
    quorum = str(data.get("quorum_status") or "").strip()
    if quorum and find_concept(QUORUM_STATUS, quorum) is None:
        raise DomainError("Statut de quorum inconnu.", field="quorum_status")
    values["quorum_status"] = quorum or None
    outcome = str(data.get("outcome") or "").strip()
    if outcome and outcome not in OUTCOMES:
        raise DomainError("Issue du dossier inconnue.", field="outcome")
    values["outcome"] = outcome or None
    reason = _text(data, "postpone_reason", MAX_TEXT)
    if outcome == "postponed" and not reason:
        raise DomainError("Indiquez le motif du report.", field="postpone_reason")
    values["postpone_reason"] = reason or None
    if values["trial_proposed"]:
        if not values["trial_name"]:
            raise DomainError("Indiquez le nom de l'essai clinique proposé.", field="trial_name")
        if not values["trial_identifier"]:
            raise DomainError(
                "Indiquez l'identifiant de l'essai clinique proposé.", field="trial_identifier"
            )
    if values["recourse_referral"] and not values["recourse_rcp"]:
        raise DomainError("Indiquez la RCP de recours.", field="recourse_rcp")
    values["seconds_spent"] = _seconds(data.get("seconds_spent"), current_seconds)
    alternatives = []
    for rank in range(1, MAX_ALTERNATIVES + 1):
        code = _treatment(str(data.get(f"alt_code_{rank}") or ""), f"alt_code_{rank}")
        details = _text(data, f"alt_details_{rank}", MAX_TEXT)
        if code is None and details:
            raise DomainError("Choisissez le type de traitement.", field=f"alt_code_{rank}")
        if code is not None:
            alternatives.append((code, details))
    return values, alternatives


# --- operations ------------------------------------------------------------------------------


def _check_capture(session: MeetingSession) -> None:
    if session.status not in CAPTURE_STATUSES:
        raise Conflict(
            f"La séance est « {session.status_label.lower()} » : les décisions ne peuvent pas "
            "être saisies."
        )


def _lock(item: AgendaItem) -> Decision | None:
    db.session.execute(select(AgendaItem.id).where(AgendaItem.id == item.id).with_for_update())
    decision = db.session.scalars(
        select(Decision).where(Decision.item_id == item.id).with_for_update()
    ).first()
    if decision is not None:
        db.session.refresh(decision)
    return decision


def save_decision(
    item: AgendaItem, data: Mapping, expected_version, user_id: int | None, now=None
) -> Decision:
    """Create or update the item's decision; DecisionConflict when the version is stale."""
    now = now or utcnow()
    data = checked_input(data)
    if isinstance(expected_version, str):
        expected_version = clean_text(expected_version, LABELS["version"], "version")
    session = agenda.lock_session(item.session)
    _check_capture(session)
    decision = _lock(item)
    # Validated first: a stale screen typing over a signed decision is told it is signed (and
    # drops its local copy), not offered to "keep its version".
    check_not_validated(decision)
    current = decision.version if decision is not None else 0
    check_version(expected_version, current, DecisionConflict(as_dict(decision), data))
    values, alternatives = parse(data, decision.seconds_spent if decision else 0)
    case = item.case
    if values["quorum_status"] == QUORUM_REACHED:
        check_quorum_reached(session, case)
    created = decision is None
    if created:
        decision = Decision(item_id=item.id, state="draft")
        db.session.add(decision)
    apply_values(decision, values, alternatives)
    decision.updated_by_id = user_id
    decision.updated_at = now
    if decision.state == "ready_for_validation" and missing_items(item, decision):
        decision.state = "draft"
    db.session.flush()
    audit.record(
        "decision.create" if created else "decision.update",
        "decision",
        decision.id,
        patient_id=case.patient_id,
        details={"item_id": item.id, "session_id": session.id, "version": decision.version},
    )
    return decision


VALIDATED = (
    "La fiche de ce dossier est validée et signée : elle ne se corrige plus que par un avenant "
    "(nouvelle version), depuis la page de la fiche."
)


class DecisionValidated(Conflict):
    """The decision is validated and signed: read-only, corrected only by an amendment."""


def check_not_validated(decision: Decision | None) -> None:
    if decision is not None and decision.state == "validated":
        raise DecisionValidated(VALIDATED)


def check_quorum_reached(session: MeetingSession, case) -> None:
    """« Quorum atteint » may only be recorded when the live quorum says so."""
    quorum = quorum_for_case(session, case)
    if not quorum.reached:
        raise DomainError(
            "Le quorum n'est pas atteint pour ce dossier : la décision ne peut pas porter "
            f"« quorum atteint ». {quorum.message}",
            field="quorum_status",
        )


def apply_values(decision: Decision, values: dict, alternatives: list[tuple[str, str]]) -> None:
    """Set parsed values (operations.parse) on the decision and its ranked alternatives."""
    with db.session.no_autoflush:
        for name, value in values.items():
            setattr(decision, name, value)
        _set_alternatives(decision, alternatives)


def _set_alternatives(decision: Decision, alternatives: list[tuple[str, str]]) -> None:
    """Update the ranked rows in place (a delete then insert would clash on (decision, rank))."""
    existing = {alt.rank: alt for alt in decision.alternatives}
    for rank, (code, details) in enumerate(alternatives, start=1):
        row = existing.pop(rank, None)
        if row is None:
            decision.alternatives.append(
                DecisionAlternative(rank=rank, treatment_code=code, details=details)
            )
        else:
            row.treatment_code, row.details = code, details
    for row in existing.values():
        decision.alternatives.remove(row)


def missing_items(item: AgendaItem, decision: Decision | None) -> list[str]:
    """The mandatory items the decision still lacks (French)."""
    missing = []
    if not (item.case.question or "").strip():
        missing.append("la question posée")
    if decision is None:
        return missing + [
            "l'issue du dossier (discuté, enregistré ou reporté)",
            "le statut du quorum",
            "la complétude du dossier",
        ]
    if not decision.outcome:
        missing.append("l'issue du dossier (discuté, enregistré ou reporté)")
    elif decision.outcome != "postponed" and not (
        decision.proposal_code or decision.active_surveillance
    ):
        missing.append("la proposition thérapeutique (ou la surveillance active)")
    if not decision.quorum_status:
        missing.append("le statut du quorum")
    if decision.file_complete is None:
        missing.append("la complétude du dossier")
    registered = decision.outcome == "registered" or item.mode == "registered"
    if registered and not decision.guideline_name:
        missing.append("le référentiel suivi (dossier enregistré)")
    return missing


def mark_ready(item: AgendaItem, now=None) -> list[str]:
    """Move the decision to "ready_for_validation"; returns the missing items (then unchanged).

    A discussed or registered case takes that status; a postponed one is moved to the next
    session when the session closes.
    """
    session = agenda.lock_session(item.session)
    _check_capture(session)
    decision = _lock(item)
    check_not_validated(decision)
    missing = missing_items(item, decision)
    if missing:
        return missing
    if decision.state != "ready_for_validation":
        decision.state = "ready_for_validation"
        decision.updated_at = now or utcnow()
    case = item.case
    if decision.outcome in ("discussed", "registered") and case.status != decision.outcome:
        if not case_status.can_transition(case.status, decision.outcome):
            raise Conflict(
                f"Le dossier est « {case.status_label.lower()} » et ne peut pas passer à "
                f"« {case_status.STATUS_LABELS[decision.outcome].lower()} »."
            )
        case.status = decision.outcome
    db.session.flush()
    audit.record(
        "decision.ready",
        "decision",
        decision.id,
        patient_id=case.patient_id,
        details={"item_id": item.id, "outcome": decision.outcome},
    )
    return []


def record_meeting_view(session: MeetingSession, items: list[AgendaItem], current) -> None:
    """The meeting page shows one case in full and names every patient of the agenda."""
    audit.record(
        "session.meeting_view",
        "session",
        session.id,
        patient_id=current.case.patient_id if current is not None else None,
        details={
            "case_id": current.case_id if current is not None else None,
            **cases_named(items),
        },
    )


def record_close_view(session: MeetingSession, undecided: list[AgendaItem]) -> None:
    """The closing page names the patients whose decision is not ready (session in progress)."""
    if session.status != "in_progress" or not undecided:
        return
    audit.record(
        "session.close_view",
        "session",
        session.id,
        details=cases_named(undecided),
    )


# --- closing the session ---------------------------------------------------------------------


def undecided_items(session: MeetingSession) -> list[AgendaItem]:
    """Agenda items whose decision is neither ready for validation nor validated."""
    items = agenda.agenda_items(session)
    decisions = decisions_for(items)
    return [i for i in items if i.id not in decisions or decisions[i.id].state not in DECIDED]


@signals.session_closing.connect
def _refuse_closing_while_undecided(session: MeetingSession) -> None:
    """A session closes only when every item has a ready or validated decision."""
    undecided = undecided_items(session)
    if undecided:
        raise Conflict(
            "Des dossiers n'ont pas de décision prête pour validation (n° "
            + ", ".join(str(item.position) for item in undecided)
            + ") : utilisez la page « Clore la séance » pour choisir pour chacun."
        )


def _postpone_item(session: MeetingSession, item: AgendaItem, reason: str, now) -> None:
    """The case leaves the agenda for the next session's pool (as agenda.postpone does)."""
    case = item.case
    target = agenda.next_session(session)
    if target is None:
        raise DomainError(
            "Aucune séance suivante n'est planifiée pour cette RCP : générez ou créez-la d'abord "
            "pour y reporter les dossiers.",
            field=f"reason_{item.id}",
        )
    decision = decision_of(item)
    if decision is not None:
        db.session.delete(decision)
        db.session.flush()
    agenda.move_to_session(session, case, target, reason, now, at_close=True)


def close_session(
    session: MeetingSession, choices: Mapping[int, tuple[str, str]], expected_version, now=None
) -> list[str]:
    """Close an in-progress session. ``choices``: item id -> ("postpone", reason) or
    ("decided", ""), required for every undecided item. Returns the French problems (then
    nothing is changed by the caller, who rolls back); empty when the session is closed.
    """
    now = now or utcnow()
    agenda.lock_session(session)
    if session.status != "in_progress":
        raise Conflict(
            f"La séance est « {session.status_label.lower()} » : seule une séance en cours peut "
            "être close."
        )
    check_version(expected_version, session.version, agenda.STALE)
    problems: list[str] = []
    items = agenda.agenda_items(session)
    decisions = decisions_for(items)
    for item in items:
        decision = decisions.get(item.id)
        label = f"n° {item.position} ({item.case.patient.display_name})"
        if decision is not None and decision.state in DECIDED:
            if decision.outcome == "postponed":
                _postpone_item(session, item, decision.postpone_reason or "", now)
            continue
        choice, reason = choices.get(item.id, ("", ""))
        if choice == "postpone":
            try:
                reason = clean_text(reason or "", "Motif du report", f"reason_{item.id}").strip()
            except DomainError as refused:
                problems.append(f"Dossier {label} : {refused.message}")
                continue
            if not reason:
                problems.append(f"Dossier {label} : indiquez le motif du report.")
                continue
            _postpone_item(session, item, reason[:MAX_TEXT], now)
        elif choice == "decided":
            missing = mark_ready(item, now)
            if missing:
                problems.append(f"Dossier {label} : il manque {', '.join(missing)}.")
            elif decision_of(item).outcome == "postponed":
                _postpone_item(session, item, decision_of(item).postpone_reason or "", now)
        else:
            problems.append(f"Dossier {label} : choisissez « reporter » ou « décidé ».")
    if problems:
        return problems
    session.status = "closed"
    db.session.flush()
    audit.record(
        "session.status", "session", session.id, details={"from": "in_progress", "to": "closed"}
    )
    return []
