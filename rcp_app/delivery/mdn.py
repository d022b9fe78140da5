"""Read receipts: RFC 8098 message disposition notifications (MDN).

parse_mdn() reads what comes back to the sending mailbox and never raises: anything that is not
an MDN (bounces, replies, spam, broken bytes) gives None so the caller can just skip it.
build_mdn() writes one, as a GP's mail client would, for the tests and the demo.
"""

from __future__ import annotations

import base64
import hashlib
import quopri
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import format_datetime

REPORT_TYPE = "disposition-notification"
# RFC 6533 allows UTF-8 fields in message/global-disposition-notification.
NOTIFICATION_TYPES = ("message/disposition-notification", "message/global-disposition-notification")
ENCODED = ("base64", "quoted-printable")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
REPORTING_UA = "rcp-app; simulation de client de messagerie"
DISPOSITION_WORDS = {
    "displayed": "affiché",
    "deleted": "supprimé sans avoir été lu",
    "dispatched": "transmis",
    "processed": "traité",
}


@dataclass(frozen=True)
class Mdn:
    """What the delivery tracker needs from a receipt."""

    original_message_id: str | None  # "<...>", to find the delivery it acknowledges
    disposition: str  # displayed, deleted, dispatched, processed, failed, denied…
    final_recipient: str | None  # the address, without its "rfc822;" type
    reporting_ua: str | None
    action_mode: str | None = None  # e.g. "manual-action/MDN-sent-manually"


def _single_line(value) -> str:
    return " ".join(str(value).split())


def _notification_fields(part: Message) -> Message | None:
    """The MDN fields, parsed as a header block whatever way the parser stored the body."""
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    payload = part.get_payload()
    if not isinstance(payload, list):
        body = part.get_payload(decode=True) or b""
    elif encoding not in ENCODED:
        return payload[0] if payload else None  # message/* bodies are parsed as a message
    else:
        # RFC 6533 lets the global variant be base64/QP: the parser took that text for a body.
        text = payload[0].as_bytes(policy=policy.compat32) if payload else b""
        body = base64.b64decode(text) if encoding == "base64" else quopri.decodestring(text)
    return BytesHeaderParser(policy=policy.default).parsebytes(body)


def _first_message_id(*values) -> str | None:
    for value in values:
        if value:
            found = MESSAGE_ID.findall(str(value))
            if found:
                # References lists the thread oldest first: the message replied to is the last.
                return found[-1]
    return None


def _parse_disposition(value: str) -> tuple[str | None, str] | None:
    """'manual-action/MDN-sent-manually; displayed/error' -> (action mode, 'displayed')."""
    if ";" not in value:
        return None
    mode, _, rest = value.partition(";")
    disposition = rest.strip().split("/")[0].strip().lower()
    if not re.fullmatch(r"[a-z][a-z-]*", disposition):
        return None
    return (mode.strip() or None), disposition


def _address(final_recipient: str | None) -> str | None:
    if not final_recipient:
        return None
    _, _, address = _single_line(final_recipient).rpartition(";")
    return address.strip() or None


def _read_mdn(raw: bytes) -> Mdn | None:
    message = message_from_bytes(raw, policy=policy.default)
    if message.get_content_type() != "multipart/report":
        return None
    if (message.get_param("report-type") or "").lower() != REPORT_TYPE:
        return None
    part = next((p for p in message.walk() if p.get_content_type() in NOTIFICATION_TYPES), None)
    fields = _notification_fields(part) if part is not None else None
    if fields is None or not fields.get("Disposition"):
        return None
    parsed = _parse_disposition(_single_line(fields["Disposition"]))
    if parsed is None:
        return None
    action_mode, disposition = parsed
    reporting_ua = fields.get("Reporting-UA")
    return Mdn(
        original_message_id=_first_message_id(
            fields.get("Original-Message-ID"),
            message.get("In-Reply-To"),
            message.get("References"),
        ),
        disposition=disposition,
        final_recipient=_address(fields.get("Final-Recipient")),
        reporting_ua=_single_line(reporting_ua) if reporting_ua else None,
        action_mode=action_mode,
    )


def parse_mdn(raw: bytes) -> Mdn | None:
    """The read receipt in raw, or None for anything else; never raises."""
    try:
        return _read_mdn(raw)
    except Exception:  # noqa: BLE001 — any malformed input is "not an MDN", by contract
        return None


def build_mdn(
    original_message_id: str,
    final_recipient: str,
    disposition: str = "displayed",
    *,
    to: str | None = None,
    date: datetime | None = None,
) -> bytes:
    """A receipt as a recipient's mail client sends it (RFC 8098 multipart/report)."""
    domain = final_recipient.rpartition("@")[2] or "localhost"
    seed = f"{original_message_id} {final_recipient} {disposition}".encode()
    mdn_id = f"<mdn-{hashlib.sha256(seed).hexdigest()[:24]}@{domain}>"
    manual = disposition == "displayed"
    action_mode = (
        "manual-action/MDN-sent-manually" if manual else "automatic-action/MDN-sent-automatically"
    )
    message = EmailMessage()
    message["From"] = final_recipient
    if to:
        message["To"] = to
    message["Subject"] = f"Accusé de lecture ({DISPOSITION_WORDS.get(disposition, disposition)})"
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = mdn_id
    message["In-Reply-To"] = original_message_id
    message["References"] = original_message_id
    message.set_content(
        f"Le message {original_message_id} envoyé à {final_recipient} a été "
        f"{DISPOSITION_WORDS.get(disposition, disposition)}.\n"
        "Cet accusé ne garantit pas que le contenu a été lu ou compris.\n",
        charset="utf-8",
    )
    fields = Message()
    fields.set_payload(
        f"Reporting-UA: {REPORTING_UA}\r\n"
        f"Final-Recipient: rfc822; {final_recipient}\r\n"
        f"Original-Message-ID: {original_message_id}\r\n"
        f"Disposition: {action_mode}; {disposition}\r\n"
    )
    fields["Content-Type"] = "message/disposition-notification"
    message.make_mixed()
    message.attach(fields)
    message.replace_header("Content-Type", "multipart/report")
    message.set_param("report-type", REPORT_TYPE)
    message.set_boundary(f"=_mdn_{hashlib.sha256(seed).hexdigest()[:24]}")
    return message.as_bytes(policy=policy.SMTP)
