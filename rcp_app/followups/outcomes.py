"""What each outcome of a follow-up must say, checked field by field.

``checked_values`` returns the columns to store for the outcome chosen, every other outcome's
columns cleared (a follow-up says one thing), or raises ``FollowUpInvalid`` with every problem
at once, each next to its field, in French.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from ..core.converters import parse_int
from ..core.dates import parse_date
from ..core.errors import DomainError
from ..core.text import clean_text
from .models import DEVIATION_REASONS, DEVIATIONS, STATES

OUTCOMES = {code: label for code, label in STATES.items() if code != "pending"}
STARTED = ("started_as_proposed", "started_other")
MAX_TREATMENT = 500
MAX_DETAILS = 2000
# Far beyond any alternative a decision can hold (decisions: three).
MAX_RANK = 99
EVENT_LABELS = {"lost": "La date des dernières nouvelles", "deceased": "La date du décès"}
START_LABEL = "La date de début du traitement"


class FollowUpInvalid(DomainError):
    """Several field problems at once: ``errors`` maps a form field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(next(iter(errors.values()))[0])
        self.errors = errors


@dataclass(frozen=True)
class Frame:
    """What the answers are checked against."""

    ranks: frozenset[int]  # 0: the RCP's proposal; N: its alternative N
    validated_on: date  # the fiche's validation day (Paris)
    born_on: date


@dataclass
class _Problems:
    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)


def _raw(data: Mapping, name: str) -> str:
    value = data.get(name)
    return "" if value is None else str(value).strip()


def _text(data: Mapping, name: str, label: str, limit: int, problems: _Problems) -> str:
    try:
        value = clean_text(_raw(data, name), label, name).strip()
    except DomainError as refused:
        problems.add(name, refused.message)
        return ""
    if len(value) > limit:
        problems.add(name, f"{label} : {limit} caractères au maximum.")
    return value


def _date(data: Mapping, name: str, label: str, problems: _Problems, earliest: date):
    try:
        return parse_date(_raw(data, name), label, past=True, earliest=earliest)
    except ValueError as refused:
        problems.add(name, str(refused))
        return None


def _start(data: Mapping, frame: Frame, problems: _Problems) -> date | None:
    if not _raw(data, "started_on"):
        problems.add("started_on", "Indiquez la date de début du traitement.")
        return None
    started = _date(data, "started_on", START_LABEL, problems, frame.born_on)
    if started is not None and started < frame.validated_on:
        problems.add(
            "started_on",
            f"{START_LABEL} ({started:%d/%m/%Y}) précède la validation de la fiche RCP "
            f"({frame.validated_on:%d/%m/%Y}) : le suivi porte sur ce qui a suivi la proposition.",
        )
    return started


def _option(data: Mapping, frame: Frame, problems: _Problems) -> int | None:
    rank = parse_int(_raw(data, "option_rank"), 0, MAX_RANK)
    if rank is None or rank not in frame.ranks:
        problems.add(
            "option_rank",
            "Choisissez ce qui a été commencé : la proposition de la RCP ou l'une de ses "
            "alternatives.",
        )
        return None
    return rank


def _deviation(target: str, data: Mapping, problems: _Problems) -> tuple[str | None, str]:
    reason = _raw(data, "deviation_reason")
    if not reason:
        problems.add(
            "deviation_reason",
            "Choisissez pourquoi le traitement n'a pas commencé."
            if target == "not_started"
            else "Choisissez pourquoi le traitement commencé diffère de la proposition.",
        )
    elif reason not in DEVIATION_REASONS:
        problems.add("deviation_reason", "Motif inconnu : choisissez-le dans la liste.")
        reason = ""
    details = _text(data, "details", "Précisions", MAX_DETAILS, problems)
    if reason == "other" and not details:
        problems.add("details", "Précisez le motif (« Autre raison »).")
    return reason or None, details


def checked_values(target: str, data: Mapping, frame: Frame) -> dict:
    """The outcome's columns for ``target`` (one of OUTCOMES), from the submitted ``data``."""
    problems = _Problems()
    values: dict = {
        "option_rank": None,
        "started_on": None,
        "other_treatment": "",
        "deviation_reason": None,
        "details": "",
        "event_on": None,
    }
    if target == "started_as_proposed":
        values["option_rank"] = _option(data, frame, problems)
    if target == "started_other":
        values["other_treatment"] = _text(
            data, "other_treatment", "Le traitement commencé", MAX_TREATMENT, problems
        )
        if not values["other_treatment"] and "other_treatment" not in problems.by_field:
            problems.add("other_treatment", "Indiquez le traitement commencé à la place.")
    if target in STARTED:
        values["started_on"] = _start(data, frame, problems)
    if target in DEVIATIONS:
        values["deviation_reason"], values["details"] = _deviation(target, data, problems)
    if target in EVENT_LABELS:
        values["event_on"] = _date(data, "event_on", EVENT_LABELS[target], problems, frame.born_on)
    if problems.by_field:
        raise FollowUpInvalid(problems.by_field)
    return values
