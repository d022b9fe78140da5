"""The quorum of an RCP session or case: a pure function of the rule and the attendees.

The rule (DOMAIN.md §3 step 4): at least ``min_specialties`` distinct specialties among the
quorum members (3 by default), including every required specialty of the RCP and those a case
adds (e.g. a pathologist). Non-quorum attendees do not count; a professional counts once;
specialties are equal when their codes are. Required specialties are distinct by definition,
so the effective minimum is max(min_specialties, number of required specialties).

The result carries the FRCP code (JDV_StatutQuorum_CISIS): ORG-126 "Quorum atteint",
ORG-133 "Quorum non atteint", GEN-010 "Ne sait pas" when no attendance was recorded at all.
No database access here: labels are passed in by the caller (code -> French label).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..core.text import search_key
from ..terminology.builtin import QUORUM_NOT_REACHED, QUORUM_REACHED, QUORUM_UNKNOWN

DEFAULT_MIN_SPECIALTIES = 3


@dataclass(frozen=True)
class Attendee:
    professional_id: int
    specialty_code: str
    quorum_member: bool = True


@dataclass(frozen=True)
class QuorumResult:
    reached: bool
    status_code: str  # JDV_StatutQuorum_CISIS code
    minimum: int  # effective minimum number of distinct specialties
    counted: tuple[str, ...]  # distinct specialty codes of the quorum members
    counted_labels: tuple[str, ...]
    missing_required: tuple[str, ...]  # required specialty codes nobody present holds
    missing_required_labels: tuple[str, ...]
    more_needed: int  # how many more distinct specialties are needed (required ones included)
    message: str

    @property
    def others_needed(self) -> int:
        """Distinct specialties needed besides the missing required ones (any specialty)."""
        return self.more_needed - len(self.missing_required)


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def french_list(items: list[str] | tuple[str, ...]) -> str:
    """« A », « A et B », « A, B et C »."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


def compute_quorum(
    attendees: Iterable[Attendee],
    *,
    min_specialties: int | None = DEFAULT_MIN_SPECIALTIES,
    required: Iterable[str] = (),
    extra_required: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
) -> QuorumResult:
    """The quorum reached (or not) by ``attendees`` under the rule; see the module docstring."""
    labels = labels or {}

    def label(code: str) -> str:
        return labels.get(code, code)

    def by_label(codes: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(codes, key=lambda c: (search_key(label(c)), c)))

    attendees = list(attendees)
    seen: set[int] = set()
    counted_set: set[str] = set()
    for attendee in attendees:
        if attendee.professional_id in seen:
            continue
        seen.add(attendee.professional_id)
        code = (attendee.specialty_code or "").strip()
        if attendee.quorum_member and code:
            counted_set.add(code)
    required_set = {c.strip() for c in (*required, *extra_required) if c and c.strip()}
    base = DEFAULT_MIN_SPECIALTIES if min_specialties is None else min_specialties
    minimum = max(base, len(required_set), 1)
    counted = by_label(counted_set)
    missing = by_label(required_set - counted_set)
    more_needed = max(len(missing), minimum - len(counted_set))
    reached = more_needed == 0
    counted_labels = tuple(label(c) for c in counted)
    missing_labels = tuple(label(c) for c in missing)

    if reached:
        status = QUORUM_REACHED
        message = (
            f"Quorum atteint : "
            f"{_plural(len(counted), 'spécialité distincte', 'spécialités distinctes')}"
            f" ({', '.join(counted_labels)})"
        )
    else:
        status = QUORUM_UNKNOWN if not attendees else QUORUM_NOT_REACHED
        others = more_needed - len(missing)
        parts = list(missing_labels)
        if others and parts:
            parts.append(_plural(others, "autre spécialité", "autres spécialités"))
        elif others:
            parts.append(_plural(others, "spécialité", "spécialités"))
        prefix = (
            "Quorum inconnu (aucune présence enregistrée)"
            if not attendees
            else "Quorum non atteint"
        )
        message = f"{prefix} : il manque {french_list(parts)}"
    return QuorumResult(
        reached=reached,
        status_code=status,
        minimum=minimum,
        counted=counted,
        counted_labels=counted_labels,
        missing_required=missing,
        missing_required_labels=missing_labels,
        more_needed=more_needed,
        message=message,
    )
