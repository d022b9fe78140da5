"""MSSanté-style e-mail delivering a signed fiche: French text, the PDF and the IHE_XDM.ZIP.

Pure function of its inputs (no database, no application context). The subject carries no
patient identity: subjects show up in notifications, lists and server logs. The body names the
patient only by initials and birth year, enough for the recipient to triage; the full identity
travels in the signed PDF and the CDA.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from .xdm import FRCP, PARIS, DocumentProfile, as_utc, build_xdm_zip, qualified_ins

XDM_FILE_NAME = "IHE_XDM.ZIP"
PATIENT_WORDS = {  # (noun, past participle of naître) by administrative sex
    "F": ("Patiente", "née"),
    "M": ("Patient", "né"),
}


def _french_date(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%d/%m/%Y")


def pdf_file_name(snapshot: dict) -> str:
    document = snapshot["document"]
    return f"fiche-rcp-{document['set_id']}-v{document['version']}.pdf"


def message_subject(snapshot: dict) -> str:
    """Subject without any patient identity: RCP, session date and version only."""
    session_date = _french_date(snapshot["session"]["starts_at"])
    version = snapshot["document"]["version"]
    return f"Fiche RCP — {snapshot['rcp']['name']} — séance du {session_date} (version {version})"


def _initials(*names: str | None) -> str:
    return " ".join(f"{name.strip()[0].upper()}." for name in names if name and name.strip())


def patient_line(snapshot: dict) -> str:
    """The patient as initials (birth name, first name) and birth year, never the full name."""
    patient = snapshot["patient"]
    noun, born = PATIENT_WORDS.get(patient["sex"], ("Patient(e)", "né(e)"))
    initials = _initials(patient["birth_name"], patient["first_birth_first_name"])
    return f"{noun} : {initials}, {born} en {patient['birth_date'][:4]}"


def _physician(person: dict) -> str:
    title = f"{person['title']} " if person.get("title") else ""
    return f"{title}{person['first_name']} {person['last_name'].upper()}"


def message_body(snapshot: dict, follow_up_url: str | None = None) -> str:
    """``follow_up_url``: where the referring physician says what became of the proposal
    (their copy only; rcp_app/followups)."""
    document, rcp = snapshot["document"], snapshot["rcp"]
    signer = snapshot["people"]["legal_authenticator"]
    validated = datetime.fromisoformat(snapshot["decision"]["validated_at"])
    lines = [
        "Bonjour,",
        "",
        "Veuillez trouver ci-joint la fiche de réunion de concertation pluridisciplinaire (RCP)"
        f" « {rcp['name']} », séance du {_french_date(snapshot['session']['starts_at'])}.",
        "",
        patient_line(snapshot),
        f"Version de la fiche : {document['version']}",
        f"Validée et signée électroniquement le {validated.strftime('%d/%m/%Y à %H:%M')}"
        f" par {_physician(signer)} ({signer['specialty']['label']}).",
    ]
    if document["version"] > 1 and document.get("amendment_reason"):
        lines.append(
            f"Cette version remplace la précédente. Motif : {document['amendment_reason']}"
        )
    lines += [
        "",
        "Pièces jointes :",
        f"- {pdf_file_name(snapshot)} : la fiche signée (PDF/A), à lire et à conserver ;",
        f"- {XDM_FILE_NAME} : la même fiche au format structuré CDA R2 (CI-SIS, volet FRCP),"
        " pour intégration dans le dossier du patient par votre logiciel.",
        "",
        "Pour vérifier l'authenticité de la fiche, saisissez le code de vérification"
        f" {document['verification_code']} sur {document['verification_url']}",
    ]
    if follow_up_url:
        lines += [
            "",
            "Après la réunion, indiquez ce qui a été fait pour ce patient (traitement commencé,"
            f" modifié ou non commencé) : {follow_up_url}",
        ]
    lines += [
        "",
        "Ce message vous est adressé par messagerie sécurisée de santé (MSSanté) ;"
        " il contient des données de santé à caractère personnel.",
        "",
        f"Secrétariat de la {rcp['name']} — {snapshot['custodian']['name']}",
    ]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Mail:
    """What the e-mail says of the document it carries, and the archive's profile: a fiche
    (``FICHE_MAIL``) or a care programme (pps_message.PPS_MAIL)."""

    subject: Callable[[dict], str]
    body: Callable[[dict], str]
    pdf_name: Callable[[dict], str]
    profile: DocumentProfile


FICHE_MAIL = Mail(message_subject, message_body, pdf_file_name, FRCP)


def build_message(
    snapshot: dict,
    pdf: bytes,
    cda: bytes,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    submission_time: datetime,
    source_oid: str,
    read_receipt_to: str | None,
    product_reference: str | None = None,
    archive: bytes | None = None,
    intended_recipient: dict | None = None,
    mail: Mail = FICHE_MAIL,
) -> EmailMessage:
    """The e-mail of a fiche (or of the document ``mail`` describes); product_reference is the
    convergence number for X-MSS-NIL. ``archive``: the IHE_XDM.ZIP of this message if already
    built; otherwise it is built here, addressed to ``intended_recipient``
    (xdm.intended_recipient; by default the To address)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = mail.subject(snapshot)
    message["Date"] = format_datetime(as_utc(submission_time).astimezone(PARIS))
    message["Message-ID"] = message_id
    if read_receipt_to:
        message["Disposition-Notification-To"] = read_receipt_to  # RFC 8098 read receipt
    # Référentiel socle MSSanté #2 §3.8: the CDA type carried in the IHE_XDM archive and
    # whether that archive holds a qualified INS (O/N).
    message["X-MSS-CODECDA"] = mail.profile.type_code[0]
    message["X-MSS-INS"] = "O" if qualified_ins(snapshot) else "N"
    if product_reference:
        message["X-MSS-NIL"] = product_reference
    message.set_content(mail.body(snapshot), charset="utf-8", cte="quoted-printable")
    message.add_attachment(
        pdf, maintype="application", subtype="pdf", filename=mail.pdf_name(snapshot)
    )
    if archive is None:
        archive = build_xdm_zip(
            snapshot,
            cda,
            submission_time=submission_time,
            source_oid=source_oid,
            recipient=intended_recipient or {"address": recipient, "person": None},
            message_id=message_id,
            profile=mail.profile,
        )
    message.add_attachment(archive, maintype="application", subtype="zip", filename=XDM_FILE_NAME)
    for part in message.iter_parts():
        del part["MIME-Version"]  # only the top-level header carries it (RFC 2045 §4)
    # A boundary derived from the Message-ID keeps a re-sent message byte-identical.
    message.set_boundary(f"=_rcp_{hashlib.sha256(message_id.encode()).hexdigest()[:32]}")
    return message
