"""The local mailbox's files: one .eml per message, envelope as leading headers.

Reading them needs no SMTP server: the coordinators' /dev/courriels page uses this module
alone, so the application runs without aiosmtpd (a development dependency, for the server in
``mailbox.py`` that ``make run`` starts).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

_TIMESTAMP_FORMAT = "%Y%m%dT%H%M%S%fZ"
# Stored names: timestamp, counter, sanitised Message-ID. The timestamp first so that sorting
# the names sorts the messages by arrival.
_STORED_NAME = re.compile(r"(?P<stamp>\d{8}T\d{12}Z)-(?P<counter>\d{6})-[A-Za-z0-9._-]*\.eml")
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9._-]+")
_MESSAGE_ID_IN_NAME_MAX = 60


@dataclass(frozen=True)
class StoredMessage:
    name: str
    path: Path
    received_at: datetime
    sender: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    size: int


def store_message(
    directory: Path, sender: str, recipients: list[str], content: bytes, counter: int
) -> Path:
    """Write atomically (temporary file then rename) so a reader never sees half a message."""
    now = datetime.now(UTC)
    message_id = _header_value(content, "Message-ID")
    name = f"{now.strftime(_TIMESTAMP_FORMAT)}-{counter % 1_000_000:06d}-{_slug(message_id)}.eml"
    # Return-Path and X-Original-To: the usual way a local delivery records the envelope.
    envelope_lines = [f"Return-Path: <{sender}>"] + [f"X-Original-To: {r}" for r in recipients]
    data = ("\r\n".join(envelope_lines) + "\r\n").encode("utf-8") + content
    temporary = directory / f".tmp-{name}"
    with open(temporary, "xb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    target = directory / name
    os.replace(temporary, target)
    return target


def _slug(message_id: str) -> str:
    slug = _UNSAFE_IN_NAME.sub("_", message_id.strip().strip("<>")).strip("._")
    return slug[:_MESSAGE_ID_IN_NAME_MAX] or "sans-message-id"


def _header_value(content: bytes, header: str) -> str:
    headers = BytesParser(policy=default_policy).parsebytes(content, headersonly=True)
    value = headers.get(header)
    return str(value) if value is not None else ""


def list_messages(directory: Path) -> list[StoredMessage]:
    """The stored messages, newest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    names = sorted(
        (p.name for p in directory.iterdir() if _STORED_NAME.fullmatch(p.name)), reverse=True
    )
    return [_describe(directory / name) for name in names]


def _describe(path: Path) -> StoredMessage:
    data = path.read_bytes()
    headers = BytesParser(policy=default_policy).parsebytes(data, headersonly=True)
    stamp = _STORED_NAME.fullmatch(path.name).group("stamp")
    return StoredMessage(
        name=path.name,
        path=path,
        received_at=datetime.strptime(stamp, _TIMESTAMP_FORMAT).replace(tzinfo=UTC),
        sender=str(headers.get("Return-Path", "")).strip("<>"),
        recipients=tuple(str(v) for v in headers.get_all("X-Original-To", [])),
        subject=str(headers.get("Subject", "")),
        message_id=str(headers.get("Message-ID", "")),
        size=len(data),
    )


def read_message(directory: Path, name: str) -> bytes:
    """The stored bytes of one message; only names of stored messages are accepted."""
    if not isinstance(name, str) or not _STORED_NAME.fullmatch(name):
        raise ValueError(f"Nom de message invalide : « {name} ».")
    directory = Path(directory).resolve()
    path = (directory / name).resolve()
    if path.parent != directory:
        raise ValueError(f"Nom de message invalide : « {name} ».")
    return path.read_bytes()


# --- a stored message, decoded as a mail client shows it ----------------------------------------

_TEXT_MAX_CHARACTERS = 200_000
_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|;]+')


@dataclass(frozen=True)
class MailAttachment:
    index: int  # its number in the message, as used in the download URL (1, 2, …)
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class DecodedMessage:
    name: str
    sender: str  # From
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None  # aware, from the Date header
    message_id: str
    envelope_recipients: tuple[str, ...]  # X-Original-To (Bcc included)
    text: str  # the text/plain part (or the HTML part as text), decoded
    attachments: tuple[MailAttachment, ...]


def _attachment_parts(message) -> list:
    """The attachment parts, in the order of the message (the same order for the listing and
    the download): every non-multipart part with a file name or marked as an attachment."""
    return [
        part
        for part in message.walk()
        if not part.is_multipart() and (part.is_attachment() or part.get_filename())
    ]


def _safe_filename(name: str | None, index: int) -> str:
    """A file name fit for a Content-Disposition header: no path, no control or quote."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME.sub("_", name).strip(" ._")[:120]
    return name or f"piece-jointe-{index}"


def _addresses(header) -> tuple[str, ...]:
    if header is None:
        return ()
    addresses = getattr(header, "addresses", None)
    if addresses is None:
        return (str(header),)
    return tuple(str(a) for a in addresses)


def decode_message(name: str, raw: bytes) -> DecodedMessage:
    """Headers decoded (RFC 2047), the text part decoded (its charset and transfer encoding),
    the attachments listed; nothing of the message is executed or rendered as HTML."""
    message = BytesParser(policy=default_policy).parsebytes(raw)
    date_header = message.get("Date")
    try:
        date = getattr(date_header, "datetime", None) if date_header is not None else None
    except (TypeError, ValueError):
        date = None
    body = message.get_body(preferencelist=("plain", "html"))
    text = ""
    if body is not None:
        try:
            text = body.get_content()
        except (LookupError, UnicodeError, AssertionError):
            text = body.get_payload(decode=True).decode("utf-8", "replace")
        if body.get_content_subtype() == "html":
            # Shown as text, never as HTML (the page's CSP forbids its scripts and styles
            # anyway): the tags are removed, only the words are kept.
            text = re.sub(r"<[^>]+>", " ", text)
    attachments = []
    for index, part in enumerate(_attachment_parts(message), start=1):
        payload = part.get_payload(decode=True) or b""
        attachments.append(
            MailAttachment(
                index=index,
                filename=_safe_filename(part.get_filename(), index),
                content_type=part.get_content_type(),
                size=len(payload),
            )
        )
    return DecodedMessage(
        name=name,
        sender=", ".join(_addresses(message.get("From"))),
        to=_addresses(message.get("To")),
        cc=_addresses(message.get("Cc")),
        subject=str(message.get("Subject", "")),
        date=date,
        message_id=str(message.get("Message-ID", "")),
        envelope_recipients=tuple(str(v) for v in message.get_all("X-Original-To", [])),
        text=text[:_TEXT_MAX_CHARACTERS],
        attachments=tuple(attachments),
    )


def read_attachment(raw: bytes, index) -> tuple[str, bytes]:
    """(file name, bytes) of attachment number ``index`` (1, 2, …) of a stored message;
    ValueError for any other index."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 1:
        raise ValueError("Numéro de pièce jointe invalide.")
    message = BytesParser(policy=default_policy).parsebytes(raw)
    parts = _attachment_parts(message)
    if index > len(parts):
        raise ValueError("Numéro de pièce jointe invalide.")
    part = parts[index - 1]
    return _safe_filename(part.get_filename(), index), part.get_payload(decode=True) or b""
