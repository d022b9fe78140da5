"""The personalised care programme written for the patient: PDF/A-3b, CDA CANCER-PPS embedded.

Rendered like the fiche (fiches/pdf.py: WeasyPrint, no network, one font) from the frozen
snapshot alone. The reader is the patient, not a colleague: no code of any kind, coded values
by their words, dates as dd/mm/yyyy, and a glossary of exactly the words the document uses
(pps/glossary.py), computed on the text of a first rendering so that the patient's own
treatments and appointments count as much as the template's sentences.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app

from ..core.timeutil import PARIS
from ..fiches.pdf import fr_date, person_name, render_html_pdf
from . import glossary

CDA_NAME = "pps-cda.xml"
CDA_DESCRIPTION = (
    "Programme personnalisé de soins au format CDA R2 (CI-SIS volet CANCER-PPS 2022.01)"
)
TEMPLATE = "pps/pps_pdf.html"
# The calendar details the first weeks after validation, week by week; later dates follow in
# one list: beyond that, dates move too often to be worth a table.
CALENDAR_WEEKS = 6
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
BORN = {"F": "née", "M": "né"}


@dataclass(frozen=True)
class Event:
    day: date
    time: str  # "9h30", or "" when the hour is not fixed
    what: str
    place: str

    @property
    def when(self) -> str:
        text = f"{WEEKDAYS[self.day.weekday()]} {self.day:%d/%m/%Y}"
        return f"{text} à {self.time}" if self.time else text


def _hour(value: str | None) -> str:
    """'09:30' -> '9h30' (as the patient reads a time)."""
    if not value:
        return ""
    hours, minutes = value.split(":")[:2]
    return f"{int(hours)}h{minutes}"


def _label(coded: dict | None) -> str:
    return coded["label"] if coded else ""


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lowered(text: str) -> str:
    """A value set's label inside a sentence (« Surveillance active » -> « surveillance
    active »); only the first letter, so that a proper name or an abbreviation stays."""
    return text[:1].lower() + text[1:]


def _events(snapshot: dict) -> list[Event]:
    """The appointments and the dated treatment starts, in date order."""
    events = [
        Event(
            date.fromisoformat(item["date"]),
            _hour(item.get("time")),
            item.get("description") or _capitalised(_label(item.get("kind"))),
            item.get("place") or "",
        )
        for item in snapshot["appointments"]
    ]
    events += [
        Event(
            date.fromisoformat(item["planned_start"]),
            "",
            f"{_capitalised(_label(item['kind']))} (début du traitement)",
            item.get("place") or "",
        )
        for item in snapshot["treatments"]
        if item.get("planned_start")
    ]
    return sorted(events, key=lambda e: (e.day, e.time.zfill(5)))


def validation_day(snapshot: dict) -> date:
    return datetime.fromisoformat(snapshot["document"]["effective_time"]).astimezone(PARIS).date()


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def calendar(snapshot: dict) -> dict:
    """{"weeks": [(monday, [Event])] for the first weeks, "later": [Event]}; "weeks" is empty
    when nothing falls in those weeks (the template then says so in one sentence)."""
    first = _monday(validation_day(snapshot))
    mondays = [first + timedelta(weeks=n) for n in range(CALENDAR_WEEKS)]
    end = first + timedelta(weeks=CALENDAR_WEEKS)
    events = _events(snapshot)
    # A date before the first week (not expected once validated) stays visible, in week one.
    weeks = [
        (monday, [e for e in events if _monday(max(e.day, first)) == monday]) for monday in mondays
    ]
    if not any(items for _, items in weeks):
        weeks = []
    return {"weeks": weeks, "later": [e for e in events if e.day >= end], "any": bool(events)}


def treatments(snapshot: dict) -> list[dict]:
    return [
        {
            "label": _capitalised(_label(item["kind"])),
            "meaning": glossary.meaning_of(_label(item["kind"])),
            "description": item.get("description") or "",
            "start": f"À partir du {fr_date(item['planned_start'])}"
            if item.get("planned_start")
            else "Date à fixer",
            "place": item.get("place") or "",
            "team": item.get("team") or "",
        }
        for item in snapshot["treatments"]
    ]


def _render(snapshot: dict, entries: list[glossary.Entry] | None) -> str:
    patient = snapshot["patient"]
    used_name = (patient.get("used_name") or "").upper()
    # The app's Jinja environment without its context processors (as fiches/pdf.py).
    template = current_app.jinja_env.get_template(TEMPLATE)
    return template.render(
        s=snapshot,
        fr_date=fr_date,
        person_name=person_name,
        label=_label,
        born=BORN.get(patient["sex"], "né(e)"),
        used_name=used_name if used_name != patient["birth_name"].upper() else "",
        validated_on=f"{validation_day(snapshot):%d/%m/%Y}",
        treatments=treatments(snapshot),
        calendar=calendar(snapshot),
        undated=[
            _lowered(_label(t["kind"]))
            for t in snapshot["treatments"]
            if not t.get("planned_start")
        ],
        weeks=CALENDAR_WEEKS,
        terms=[e for e in entries or () if not e.is_abbreviation],
        abbreviations=[e for e in entries or () if e.is_abbreviation],
    )


def visible_text(document: str) -> str:
    """The words a reader sees in the HTML body (the style sheet and tags left out)."""
    body = document.split("<body", 1)[-1]
    return html.unescape(re.sub(r"<[^>]*>", " ", body))


def pps_html(snapshot: dict) -> str:
    draft = _render(snapshot, None)
    return _render(snapshot, glossary.used_in(visible_text(draft)))


def render_pdf(snapshot: dict, cda: bytes | None) -> bytes:
    """The unsigned PDF/A-3b of a PPS version, embedding ``cda`` (relationship: Alternative)."""
    return render_html_pdf(
        pps_html(snapshot), cda, cda_name=CDA_NAME, cda_description=CDA_DESCRIPTION
    )
