"""The published agenda as a printable PDF (WeasyPrint) and the session as iCalendar (.ics).

Both are downloads; the PDF names patients, so serving it is audited as access to patient data.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from flask import Response, render_template
from icalendar import Calendar, Event
from sqlalchemy import select

from ..core import audit
from ..core.timeutil import to_paris, utcnow
from ..extensions import db
from . import agenda
from .models import MeetingSession

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def long_date_fr(value) -> str:
    """'mardi 3 mars 2026 à 14h00' (Europe/Paris)."""
    local = to_paris(value)
    return (
        f"{WEEKDAYS[local.weekday()]} {local.day} {MONTHS[local.month - 1]} {local.year} "
        f"à {local:%H}h{local:%M}"
    )


def invited(session: MeetingSession) -> list:
    """Participants invited: the RCP's coordinator, then its usual participants."""
    from ..directory.models import Professional

    people = [session.rcp.coordinator] if session.rcp.coordinator is not None else []
    members = [pid for pid in session.rcp.member_ids if pid != session.rcp.coordinator_id]
    if members:
        people += db.session.scalars(
            select(Professional)
            .where(Professional.id.in_(members))
            .order_by(Professional.last_name_key, Professional.first_name)
        ).all()
    return people


def agenda_pdf_bytes(session: MeetingSession, items) -> bytes:
    from weasyprint import HTML

    html = render_template(
        "meetings/agenda_pdf.html",
        session=session,
        when=long_date_fr(session.starts_at),
        invited=invited(session),
        discussed=[i for i in items if i.mode == "discussed"],
        registered=[i for i in items if i.mode == "registered"],
        minutes=agenda.planned_minutes(items),
        generated_at=utcnow(),
    )
    return HTML(string=html).write_pdf()


def _filename(session: MeetingSession, ext: str) -> str:
    return f"seance-{session.id}-{to_paris(session.starts_at):%Y%m%d}.{ext}"


def agenda_pdf_response(session: MeetingSession) -> Response:
    items = agenda.agenda_items(session)
    data = agenda_pdf_bytes(session, items)
    audit.record(
        "session.agenda_pdf",
        "session",
        session.id,
        details={
            "cases": [i.case_id for i in items],
            "patients": [i.case.patient_id for i in items],
        },
    )
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{_filename(session, "pdf")}"'},
    )


def ics_bytes(session: MeetingSession) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//RCP oncologie//Séances//FR")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"rcp-session-{session.id}@rcp-app")
    event.add("dtstamp", utcnow().replace(tzinfo=UTC))
    start = to_paris(session.starts_at)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=2))
    event.add("summary", f"{session.rcp.name} — séance RCP")
    if session.place:
        event.add("location", session.place)
    if session.video_url:
        event.add("url", session.video_url)
    description = [f"Séance de la {session.rcp.name} ({session.status_label.lower()})."]
    if session.video_url:
        description.append(f"Visioconférence : {session.video_url}")
    event.add("description", "\n".join(description))
    calendar.add_component(event)
    calendar.add_missing_timezones()  # the VTIMEZONE of Europe/Paris
    return calendar.to_ical()


def ics_response(session: MeetingSession) -> Response:
    audit.record("session.ics", "session", session.id)
    return Response(
        ics_bytes(session),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{_filename(session, "ics")}"'},
    )
