"""Case statuses and the allowed transitions between them.

The agenda issue adds scheduled / postponed / refused / discussed / registered: add the
status here (label, CHECK constraint in models.py) and its rows in TRANSITIONS. Every status is
shown with the ``status_badge`` macro (templates/macros.html) and the CSS class
``status-<code>`` of static/css/app.css, already defined for those statuses.
"""

from __future__ import annotations

STATUS_LABELS = {
    "draft": "Brouillon",
    "submitted": "Soumis",
    "withdrawn": "Retiré",
    # Agenda (agenda/operations.py): on a session's agenda, postponed to the next session's pool
    # (its session_id is then the next session), refused by the coordinator with a reason.
    "scheduled": "Inscrit à l'ordre du jour",
    "postponed": "Reporté",
    "refused": "Refusé",
    # Meeting (decisions/operations.py): the decision is ready for validation.
    "discussed": "Discuté",
    "registered": "Enregistré",
}
# status -> statuses it may move to
TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"submitted", "withdrawn"}),
    "submitted": frozenset({"withdrawn", "scheduled", "postponed", "refused"}),
    "withdrawn": frozenset(),
    # A scheduled case is taken off the agenda (back to "submitted") before it is withdrawn.
    "scheduled": frozenset({"submitted", "postponed", "refused", "discussed", "registered"}),
    "postponed": frozenset({"scheduled", "postponed", "refused", "withdrawn"}),
    "refused": frozenset(),
    "discussed": frozenset(),
    "registered": frozenset(),
}
# Statuses of the cases waiting in a session's pool (not on an agenda yet).
POOL = ("submitted", "postponed")
# Statuses in which the referring physician may still change the case's data.
EDITABLE = frozenset({"draft", "submitted"})
# Statuses that occupy the patient's place in a session (a second case is refused).
ACTIVE = frozenset(STATUS_LABELS) - {"withdrawn"}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def status_check_sql() -> str:
    return "status IN (" + ", ".join(f"'{s}'" for s in STATUS_LABELS) + ")"
