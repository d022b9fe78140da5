"""What a care programme says while it is drafted: its prefill and its checks.

The draft is a JSON document (``CarePlan.draft``) of this shape, every key always present:

    treatments        [{kind, source, description, planned_start, place, team}]  (1 to 12)
    referent_id       directory professional id (the referring physician by default)
    referent_phone, nurse_name, nurse_phone, care_centre_name, care_centre_phone
    supportive_care   [{kind, details}]
    social_assessment text
    social_support    [{kind, details}]
    appointments      [{date, time, kind, description, place}]
    comments          text

Codes come from the CANCER-PPS value sets (values.py); dates are ISO days, times "HH:MM".
``clean`` checks what a form (or any caller) sends and names each problem by the form's field
(``treatment_rows-0-planned_start``), with a French message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from ..core.dates import parse_date, today
from ..core.errors import DomainError
from ..core.text import clean_text
from ..directory.models import Professional
from ..directory.operations import normalise_phone
from ..extensions import db
from . import values

MAX_ROWS = {"treatments": 12, "supportive_care": 12, "social_support": 6, "appointments": 20}
MAX_SHORT, MAX_TEXT = 300, 4000
# Planned dates: from a year before the programme (a treatment already begun) to five years on.
PAST_DAYS, FUTURE_DAYS = 366, 5 * 366
_TIME = re.compile(r"([01]?[0-9]|2[0-3])[:hH]([0-5][0-9])")
ROW_LISTS = {
    "treatments": "treatment_rows",
    "supportive_care": "support_rows",
    "social_support": "social_rows",
    "appointments": "appointment_rows",
}


class PlanInvalid(DomainError):
    """Several field problems at once: ``errors`` maps a form field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors.values()))[0]
        super().__init__(first)
        self.errors = errors


def empty() -> dict:
    return {
        "treatments": [],
        "referent_id": None,
        "referent_phone": "",
        "nurse_name": "",
        "nurse_phone": "",
        "care_centre_name": "",
        "care_centre_phone": "",
        "supportive_care": [],
        "social_assessment": "",
        "social_support": [],
        "appointments": [],
        "comments": "",
    }


def prefilled(decision, case, previous: dict | None) -> dict:
    """A new programme: the RCP's proposal as the first treatment, the referring physician and
    their phone from the directory; the nurse and 3C contacts of ``previous`` (the last
    programme written for the same RCP), which rarely change from one patient to the next."""
    draft = empty()
    kind = values.pps_treatment_code(decision.proposal_code)
    if kind is not None:
        draft["treatments"].append(
            {
                "kind": kind,
                "source": values.SOURCE_PROPOSAL,
                "description": decision.proposal_details or "",
                "planned_start": None,
                "place": "",
                "team": "",
            }
        )
    requester = case.requester
    draft["referent_id"] = requester.id if requester else None
    draft["referent_phone"] = (requester.phone or "") if requester else ""
    for key in ("nurse_name", "nurse_phone", "care_centre_name", "care_centre_phone"):
        draft[key] = (previous or {}).get(key, "")
    return draft


# --- checks ----------------------------------------------------------------------------------


@dataclass
class _Errors:
    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)


def _text(raw, label: str, name: str, errors: _Errors, limit: int = MAX_SHORT) -> str:
    try:
        text = clean_text(str(raw or ""), label, name).strip()
    except DomainError as refused:
        errors.add(name, refused.message)
        return ""
    if len(text) > limit:
        errors.add(name, f"{label} : {limit} caractères au plus.")
        return text[:limit]
    return text


def _code(raw, value_set: dict, label: str, name: str, errors: _Errors) -> str | None:
    code = str(raw or "").strip()
    if not code:
        return None
    if code not in value_set:
        errors.add(name, f"{label} : valeur inconnue, choisissez dans la liste.")
        return None
    return code


def _day(raw, label: str, name: str, errors: _Errors) -> str | None:
    around = today()
    try:
        value = parse_date(
            raw,
            label,
            earliest=around - timedelta(days=PAST_DAYS),
            latest=around + timedelta(days=FUTURE_DAYS),
        )
    except ValueError as refused:
        errors.add(name, str(refused))
        return None
    return value.isoformat() if isinstance(value, date) else None


def _time(raw, name: str, errors: _Errors) -> str | None:
    text = str(raw or "").strip()
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if match is None:
        errors.add(name, f"Heure : « {text} » n'est pas une heure valide ; saisissez-la en hh:mm.")
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _phone(raw, label: str, name: str, errors: _Errors) -> str:
    text = str(raw or "").strip()
    if not text:
        return ""
    phone = normalise_phone(text)
    if phone is None:
        errors.add(name, f"{label} : numéro invalide ; 10 chiffres commençant par 0.")
        return ""
    return phone


def _rows(data: dict, key: str, errors: _Errors) -> list[tuple[str, dict]]:
    """(field prefix, row) for the rows to keep: blank and removed rows are dropped."""
    raw = data.get(key) or []
    if not isinstance(raw, list):
        raw = []
    kept = []
    for index, row in enumerate(raw):
        if not isinstance(row, dict) or row.get("remove"):
            continue
        if not any(str(v or "").strip() for k, v in row.items() if k not in ("remove", "source")):
            continue
        kept.append((f"{ROW_LISTS[key]}-{index}-", row))
    if len(kept) > MAX_ROWS[key]:
        errors.add(ROW_LISTS[key], f"{MAX_ROWS[key]} lignes au plus.")
        kept = kept[: MAX_ROWS[key]]
    return kept


def _sources(alternative_ranks: set[int]) -> set[str]:
    return {values.SOURCE_PROPOSAL, values.SOURCE_ADDED} | {
        f"alternative-{rank}" for rank in alternative_ranks
    }


def _treatments(data: dict, alternative_ranks: set[int], errors: _Errors) -> list[dict]:
    sources = _sources(alternative_ranks)
    rows = []
    for prefix, row in _rows(data, "treatments", errors):
        kind = _code(row.get("kind"), values.TREATMENT_KINDS, "Traitement", f"{prefix}kind", errors)
        if kind is None and f"{prefix}kind" not in errors.by_field:
            errors.add(f"{prefix}kind", "Choisissez le type de traitement.")
        source = str(row.get("source") or values.SOURCE_ADDED)
        if source not in sources:
            errors.add(f"{prefix}source", "Origine : valeur inconnue, choisissez dans la liste.")
        rows.append(
            {
                "kind": kind,
                "source": source,
                "description": _text(
                    row.get("description"), "Description", f"{prefix}description", errors, MAX_TEXT
                ),
                "planned_start": _day(
                    row.get("planned_start"), "Début prévu", f"{prefix}planned_start", errors
                ),
                "place": _text(row.get("place"), "Lieu", f"{prefix}place", errors),
                "team": _text(row.get("team"), "Équipe", f"{prefix}team", errors),
            }
        )
    if not rows:
        errors.add("treatment_rows", "Indiquez au moins un traitement ou une surveillance.")
    return rows


def _coded_rows(data: dict, key: str, value_set: dict, label: str, errors: _Errors) -> list[dict]:
    rows = []
    for prefix, row in _rows(data, key, errors):
        kind = _code(row.get("kind"), value_set, label, f"{prefix}kind", errors)
        if kind is None and f"{prefix}kind" not in errors.by_field:
            errors.add(f"{prefix}kind", f"{label} : choisissez dans la liste.")
        details = _text(row.get("details"), "Précisions", f"{prefix}details", errors, MAX_TEXT)
        rows.append({"kind": kind, "details": details})
    return rows


def _appointments(data: dict, errors: _Errors) -> list[dict]:
    rows = []
    for prefix, row in _rows(data, "appointments", errors):
        day = _day(row.get("date"), "Date du rendez-vous", f"{prefix}date", errors)
        if day is None and f"{prefix}date" not in errors.by_field:
            errors.add(f"{prefix}date", "Indiquez la date du rendez-vous.")
        kind = _code(
            row.get("kind"),
            values.APPOINTMENT_KINDS,
            "Type de rendez-vous",
            f"{prefix}kind",
            errors,
        )
        if kind is None and f"{prefix}kind" not in errors.by_field:
            errors.add(f"{prefix}kind", "Choisissez le type de rendez-vous.")
        rows.append(
            {
                "date": day,
                "time": _time(row.get("time"), f"{prefix}time", errors),
                "kind": kind,
                "description": _text(
                    row.get("description"), "Objet", f"{prefix}description", errors
                ),
                "place": _text(row.get("place"), "Lieu", f"{prefix}place", errors),
            }
        )
    return sorted(rows, key=lambda r: (r["date"] or "", r["time"] or ""))


def _referent(raw, errors: _Errors) -> int | None:
    try:
        professional_id = int(str(raw or "").strip())
    except ValueError:
        errors.add("referent_id", "Choisissez le médecin référent.")
        return None
    professional = db.session.get(Professional, professional_id)
    if professional is None or not professional.active:
        errors.add("referent_id", "Médecin référent inconnu ou inactif dans l'annuaire.")
        return None
    return professional_id


def clean(data: dict, alternative_ranks: set[int]) -> dict:
    """The draft as stored, or PlanInvalid naming every problem by its field."""
    errors = _Errors()
    draft = {
        "treatments": _treatments(data, alternative_ranks, errors),
        "referent_id": _referent(data.get("referent_id"), errors),
        "referent_phone": _phone(
            data.get("referent_phone"), "Téléphone du médecin référent", "referent_phone", errors
        ),
        "nurse_name": _text(
            data.get("nurse_name"), "Infirmier(ère) de coordination", "nurse_name", errors
        ),
        "nurse_phone": _phone(
            data.get("nurse_phone"), "Téléphone de l'infirmier(ère)", "nurse_phone", errors
        ),
        "care_centre_name": _text(
            data.get("care_centre_name"),
            "Centre de coordination en cancérologie (3C)",
            "care_centre_name",
            errors,
        ),
        "care_centre_phone": _phone(
            data.get("care_centre_phone"), "Téléphone du 3C", "care_centre_phone", errors
        ),
        "supportive_care": _coded_rows(
            data, "supportive_care", values.SUPPORTIVE_CARE, "Soin de support", errors
        ),
        "social_assessment": _text(
            data.get("social_assessment"),
            "Bilan social et professionnel",
            "social_assessment",
            errors,
            MAX_TEXT,
        ),
        "social_support": _coded_rows(
            data, "social_support", values.SOCIAL_SUPPORT, "Accompagnement", errors
        ),
        "appointments": _appointments(data, errors),
        "comments": _text(data.get("comments"), "Commentaires", "comments", errors, MAX_TEXT),
    }
    for who, phone in (("nurse", "nurse_phone"), ("care_centre", "care_centre_phone")):
        if draft[phone] and not draft[f"{who}_name"]:
            errors.add(f"{who}_name", "Indiquez à qui correspond ce numéro.")
    if errors.by_field:
        raise PlanInvalid(errors.by_field)
    return draft


def missing_for_validation(draft: dict) -> list[str]:
    """What a programme handed to the patient must say (French), beyond the draft's checks."""
    missing = []
    if not draft["treatments"]:
        missing.append("au moins un traitement ou une surveillance")
    if draft["referent_id"] is None:
        missing.append("le médecin référent")
    if not (draft["referent_phone"] or draft["nurse_phone"] or draft["care_centre_phone"]):
        missing.append("au moins un numéro de téléphone à appeler")
    return missing


def from_snapshot(snapshot: dict) -> dict:
    """The draft a validated version was made from (to give up an amendment)."""

    def code(coded: dict | None) -> str | None:
        return coded["code"] if coded else None

    contacts = snapshot["contacts"]
    nurse, centre = contacts.get("nurse") or {}, contacts.get("care_centre") or {}
    referent = snapshot["people"].get("referent")
    referent_id = (
        db.session.scalar(select(Professional.id).where(Professional.rpps == referent["rpps"]))
        if referent
        else None
    )
    return {
        "treatments": [{**row, "kind": code(row["kind"])} for row in snapshot["treatments"]],
        "referent_id": referent_id,
        "referent_phone": contacts.get("referent_phone") or "",
        "nurse_name": nurse.get("name", ""),
        "nurse_phone": nurse.get("phone", ""),
        "care_centre_name": centre.get("name", ""),
        "care_centre_phone": centre.get("phone", ""),
        "supportive_care": [
            {"kind": code(row["kind"]), "details": row["details"]}
            for row in snapshot["supportive_care"]
        ],
        "social_assessment": snapshot["social"]["assessment"],
        "social_support": [
            {"kind": code(row["kind"]), "details": row["details"]}
            for row in snapshot["social"]["support"]
        ],
        "appointments": [{**row, "kind": code(row["kind"])} for row in snapshot["appointments"]],
        "comments": snapshot["comments"],
    }
