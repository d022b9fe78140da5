"""The published agenda as a printable PDF (WeasyPrint) and the session as iCalendar (.ics).

Both are downloads; the PDF names patients, so serving it is audited as access to patient data.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, timedelta

from flask import Response, render_template
from icalendar import Calendar, Event
from sqlalchemy import select

from ..core import audit
from ..core.links import safe_link
from ..core.patient_data import cases_named
from ..core.pdfrender import write_pdf
from ..core.timeutil import to_paris, utcnow
from ..core.transactions import commit_phase
from ..extensions import db
from .models import MeetingSession, planned_minutes

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


def agenda_html(session: MeetingSession, items, shown=None) -> str:
    """``shown``: an ``agenda.operations.VisibleAgenda`` when some lines were left out for the
    reader."""
    return render_template(
        "meetings/agenda_pdf.html",
        session=session,
        hidden=shown.hidden if shown else 0,
        hidden_objections=shown.hidden_objections if shown else 0,
        when=long_date_fr(session.starts_at),
        invited=invited(session),
        discussed=[i for i in items if i.mode == "discussed"],
        registered=[i for i in items if i.mode == "registered"],
        minutes=planned_minutes(items),
        generated_at=utcnow(),
    )


def html_to_pdf(html: str) -> bytes:
    """WeasyPrint's work: CPU only, to run with no transaction open."""
    return write_pdf(html)


def agenda_pdf_bytes(session: MeetingSession, items) -> bytes:
    return html_to_pdf(agenda_html(session, items))


def _filename(session: MeetingSession, ext: str) -> str:
    return f"seance-{session.id}-{to_paris(session.starts_at):%Y%m%d}.{ext}"


def agenda_pdf_response(session: MeetingSession, shown) -> Response:
    """The agenda PDF, audited. Its HTML is built from the database; the transaction (with the
    audit row) is committed before WeasyPrint turns it into a PDF. ``shown`` (an
    ``agenda.operations.VisibleAgenda``, built by the caller: the agenda sits above this
    package) holds the lines the reader may see, and how many others there are."""
    items = shown.items
    html = agenda_html(session, items, shown)
    audit.record(
        "session.agenda_pdf",
        "session",
        session.id,
        details=cases_named(items),
    )
    filename = _filename(session, "pdf")
    commit_phase()
    return Response(
        html_to_pdf(html),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# Line breaks a stored value may hold; RFC 5545 TEXT keeps only "\n" (written "\\n").
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x85\u2028\u2029]")


def ics_text(value) -> str:
    """A stored value as an iCalendar TEXT: line breaks as "\\n", other control characters
    (forbidden in TEXT) and non-characters dropped. Values saved before the input rules (or
    by another route) must never make the .ics, hence every agenda e-mail, fail."""
    text = _LINE_BREAKS.sub("\n", str(value or ""))
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs", "Cn")
    )


def ics_bytes(session: MeetingSession) -> bytes:
    """The session as iCalendar. Stored texts go through ``ics_text``; the video link only if
    it still satisfies the link rule (core.links), otherwise it is left out."""
    link = safe_link(session.video_url)
    calendar = Calendar()
    calendar.add("prodid", "-//RCP oncologie//Séances//FR")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"rcp-session-{session.id}@rcp-app")
    event.add("dtstamp", utcnow().replace(tzinfo=UTC))
    start = to_paris(session.starts_at)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=2))
    event.add("summary", ics_text(f"{session.rcp.name} — séance RCP"))
    if ics_text(session.place).strip():
        event.add("location", ics_text(session.place))
    if link:
        event.add("url", link)
    description = [f"Séance de la {session.rcp.name} ({session.status_label.lower()})."]
    if link:
        description.append(f"Visioconférence : {link}")
    event.add("description", ics_text("\n".join(description)))
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
