"""The one rule for web links typed by users (the video links of RCPs and sessions).

A link is an absolute https:// address with a host name, at most MAX_LENGTH characters, and no
white space or control character anywhere: it is shown in pages, printed on the agenda and
written into .ics files and e-mails, where a CR/LF would start a new line of the file.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from wtforms.validators import ValidationError

from .errors import DomainError

MAX_LENGTH = 500  # the String(500) columns rcps.video_url and sessions.video_url
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9-]*[a-z0-9]")
EXAMPLE = "https://visio.exemple.fr/rcp"


def _has_space_or_control(text: str) -> bool:
    return any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in text)


def problem(url: str, label: str = "Le lien") -> str | None:
    """The French message saying why ``url`` (already stripped, not empty) is refused."""
    if len(url) > MAX_LENGTH:
        return f"{label} : {MAX_LENGTH} caractères au maximum."
    refused = (
        f"{label} doit être une adresse sécurisée complète commençant par https:// "
        f"(par exemple {EXAMPLE}), sans espace ni retour à la ligne."
    )
    if _has_space_or_control(url):
        return refused
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError on a port that is not a number)
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        return refused
    if parts.scheme != "https" or parts.username is not None or not _HOST.fullmatch(host):
        return refused
    return None


def clean_link(raw, field: str = "video_url", label: str = "Le lien de visioconférence"):
    """The link to store (surrounding spaces removed; '' → None), or DomainError on ``field``."""
    url = str(raw if raw is not None else "").strip()
    if not url:
        return None
    message = problem(url, label)
    if message:
        raise DomainError(message, field=field)
    return url


def safe_link(stored: str | None) -> str | None:
    """A stored link, only if it still satisfies the rule (rows saved before it existed may
    not): documents and e-mails leave out a link they could not write safely."""
    url = (stored or "").strip()
    return url if url and problem(url) is None else None


class HttpsLink:
    """WTForms validator applying the same rule (empty values are left to Optional)."""

    def __init__(self, label: str = "Le lien de visioconférence"):
        self.label = label

    def __call__(self, form, field) -> None:
        url = str(field.data or "").strip()
        if url:
            message = problem(url, self.label)
            if message:
                raise ValidationError(message)
