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
