"""The e-mail of each transmission: a signed fiche (MSSanté message with IHE_XDM.ZIP), or a
meeting notification to a referring physician or a participant (French, plain text; the
published agenda carries its PDF and .ics)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import format_datetime as rfc5322_date
from functools import partial

from flask import current_app

from ..core.timeutil import format_date, to_paris
from ..core.transactions import release
from ..extensions import db
from .message import FICHE_MAIL, Mail, build_message, message_body
from .models import Transmission
from .pps_message import PPS_MAIL
from .xdm import build_xdm_zip

SUBJECTS = {
    "case_scheduled": "Dossier RCP inscrit à la séance du {when}",
    "case_postponed": "Dossier RCP reporté à la séance du {when}",
    "case_refused": "Dossier RCP non retenu pour la séance du {when}",
    "agenda_published": "Ordre du jour de la {rcp} — séance du {when}",
}
BODIES = {
    "case_scheduled": "Le dossier de votre patient(e) {patient} est inscrit à l'ordre du jour de "
    "la {rcp}, séance du {when_long}.",
    "case_postponed": "Le dossier de votre patient(e) {patient} est reporté à la séance du "
    "{when_long} de la {rcp}.\nMotif : {reason}",
    "case_refused": "Le dossier de votre patient(e) {patient} n'a pas été retenu pour la séance "
    "du {when_long} de la {rcp}.\nMotif : {reason}",
    "agenda_published": "L'ordre du jour de la {rcp}, séance du {when_long}, est publié. Vous le "
    "trouverez en pièce jointe, avec l'invitation à ajouter à votre agenda.",
}


def patient_initials(patient) -> str:
    """Initials and birth year only: a notification does not need the full identity."""
    return (
        f"{patient.birth_name[:1].upper()}. {patient.first_birth_first_name[:1].upper()}. "
        f"(né(e) en {patient.birth_date.year})"
    )


def build_for(transmission: Transmission) -> EmailMessage:
    if transmission.kind == "fiche":
        return _fiche_message(transmission)
    if transmission.kind == "pps":
        return _document_message(transmission, transmission.care_plan_version, PPS_MAIL)
    if transmission.kind == "followup_reminder":
        return _payload_message(transmission)
    return _notification_message(transmission)


def _payload_message(transmission: Transmission) -> EmailMessage:
    """A message whose words were fixed when it was queued (outbox.enqueue_reminder)."""
    words = json.loads(transmission.payload)
    message = EmailMessage()
    message["Subject"] = words["subject"]
    message["From"] = current_app.config["RCP_MSSANTE_SENDER"]
    message["To"] = transmission.recipient_address
    message["Message-ID"] = transmission.message_id
    message["Date"] = rfc5322_date(to_paris(transmission.created_at))
    message.set_content(words["body"], charset="utf-8")
    return message


def intended_recipient(transmission: Transmission) -> dict:
    """Who the message is for, as its XDM submission set names them (xdm.intended_recipient):
    the professional of the directory when there is one, and the address it is sent to."""
    professional = transmission.professional
    person = None
    if professional is not None:
        establishment = professional.establishment
        person = {
            "rpps": professional.rpps,
            "title": professional.title,
            "last_name": professional.last_name,
            "first_name": professional.first_name,
            "establishment": (
                {"name": establishment.name, "finess": establishment.finess}
                if establishment is not None
                else None
            ),
        }
    return {"address": transmission.recipient_address, "person": person}


def _fiche_message(transmission: Transmission) -> EmailMessage:
    mail = FICHE_MAIL
    if transmission.recipient_role == "requester":
        # The referring physician's copy asks what became of the proposal (rcp_app/followups).
        public = current_app.config["RCP_PUBLIC_URL"].rstrip("/")
        link = f"{public}/suivis/fiche/{transmission.fiche_version.fiche_id}"
        mail = replace(FICHE_MAIL, body=partial(message_body, follow_up_url=link))
    return _document_message(transmission, transmission.fiche_version, mail)


def _document_message(transmission: Transmission, version, mail: Mail) -> EmailMessage:
    """Read what the message needs, end the transaction, then assemble it (CPU only).
    ``version``: the FicheVersion or CarePlanVersion sent (same reading interface)."""
    config = current_app.config
    parts = _fiche_parts(version)
    recipient, message_id = transmission.recipient_address, transmission.message_id
    submission_time = transmission.created_at
    addressee = intended_recipient(transmission)
    release()
    # Each message's archive is its own (recipient, submission-set ids): CPU work, built with
    # no transaction held.
    archive = build_xdm_zip(
        parts.snapshot,
        parts.cda,
        submission_time=submission_time,
        source_oid=config["RCP_OID_ROOT"],
        recipient=addressee,
        message_id=message_id,
        profile=mail.profile,
    )
    return build_message(
        parts.snapshot,
        parts.pdf,
        parts.cda,
        sender=config["RCP_MSSANTE_SENDER"],
        recipient=recipient,
        message_id=message_id,
        submission_time=submission_time,
        source_oid=config["RCP_OID_ROOT"],
        read_receipt_to=config["RCP_MSSANTE_SENDER"],
        product_reference=config["RCP_MSSANTE_NIL"],
        archive=archive,
        mail=mail,
    )


@dataclass(frozen=True)
class FicheParts:
    snapshot: dict
    pdf: bytes
    cda: bytes


_PARTS_CACHE: OrderedDict[str, FicheParts] = OrderedDict()
_PARTS_CACHE_SIZE = 8
_PARTS_LOCK = threading.Lock()


def _fiche_parts(version) -> FicheParts:
    """What every recipient of one fiche (or care programme) version gets alike — the checked
    PDF and CDA, the snapshot — read once per worker process, not once per message. The
    version's documents are write-once, so the cache can never serve stale bytes; the digest
    of each document is still checked whenever they are read from the database."""
    # The version's random document UUID: unique across databases too (tests, restores).
    key = version.document_id
    with _PARTS_LOCK:
        parts = _PARTS_CACHE.get(key)
        if parts is not None:
            _PARTS_CACHE.move_to_end(key)
            return parts
    snapshot = version.snapshot_dict()
    cda = version.document("cda").content
    pdf = version.document("pdf").content
    parts = FicheParts(snapshot=snapshot, pdf=pdf, cda=cda)
    with _PARTS_LOCK:
        _PARTS_CACHE[key] = parts
        while len(_PARTS_CACHE) > _PARTS_CACHE_SIZE:
            _PARTS_CACHE.popitem(last=False)
    return parts


def _notification_message(transmission: Transmission) -> EmailMessage:
    from ..agenda import operations as agenda
    from ..cases.models import Case
    from ..meetings import documents
    from ..meetings.models import MeetingSession

    notification = transmission.notification
    session = db.session.get(MeetingSession, notification.session_id)
    case = db.session.get(Case, notification.case_id) if notification.case_id else None
    values = {
        "rcp": session.rcp.name,
        "when": format_date(session.starts_at),
        "when_long": documents.long_date_fr(session.starts_at),
        "patient": patient_initials(case.patient) if case else "",
        "reason": notification.reason or "non précisé",
    }
    config = current_app.config
    message = EmailMessage()
    message["Subject"] = SUBJECTS[transmission.kind].format(**values)
    message["From"] = config["RCP_MSSANTE_SENDER"]
    message["To"] = transmission.recipient_address
    message["Message-ID"] = transmission.message_id
    message["Date"] = rfc5322_date(to_paris(transmission.created_at))
    body = BODIES[transmission.kind].format(**values)
    public = config["RCP_PUBLIC_URL"].rstrip("/")
    message.set_content(
        f"Bonjour,\n\n{body}\n\nApplication RCP : {public}\n\nMessage automatique, merci de ne "
        "pas y répondre.\n",
        charset="utf-8",
    )
    if transmission.kind == "agenda_published":
        # Sent to every invited participant: patients who object to sharing beyond the team
        # treating them are left out (the document says how many).
        shown = agenda.shareable_agenda(agenda.agenda_items(session))
        html = documents.agenda_html(session, shown.items, shown)
        ics = documents.ics_bytes(session)
        release()  # rendering the PDF is CPU work: no transaction held meanwhile
        message.add_attachment(
            documents.html_to_pdf(html),
            maintype="application",
            subtype="pdf",
            filename="ordre-du-jour.pdf",
        )
        message.add_attachment(
            ics,
            maintype="text",
            subtype="calendar",
            filename="seance.ics",
            params={"method": "PUBLISH"},
        )
    return message
