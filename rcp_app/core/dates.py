"""The one date parser: what every form, filter and operation accepts as a date.

Users type French dates, dd/mm/yyyy (the day and the month may have one digit: 1/2/2026); a
browser's ``<input type="date">`` sends ISO yyyy-mm-dd. Nothing else is a date: no two-digit year,
no other separator, only ASCII digits (``strptime`` alone would take « 1/1/26 » as the year 26 and
« ٣١/٠١/٢٠٢٦ » as a date). A date outside its bounds is refused with the bound in the message:
by default from 01/01/1900 (older means a typing error) to 31/12/2999 (keeps date arithmetic
away from its limits), and not after today when ``past``.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from .timeutil import PARIS

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)
_FRENCH = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")


def today() -> date:
    """Today in France (the server's clock is UTC: after 22:00 or 23:00 it is already
    tomorrow in Paris)."""
    return datetime.now(PARIS).date()


def parse_date(
    raw,
    label: str | None = None,
    *,
    past: bool = False,
    earliest: date | None = EARLIEST,
    latest: date | None = LATEST,
) -> date | None:
    """``raw`` as a date; None when empty; ValueError with a French message otherwise.

    ``label`` names the field in the message (« La date du diagnostic »); without it the message
    starts with « Date invalide ». ``past``: not after today (Paris). A ``date`` or ``datetime``
    is taken as it is, then checked against the bounds.
    """
    if isinstance(raw, datetime):
        raw = raw.date()
    if isinstance(raw, date):
        value, text = raw, f"{raw:%d/%m/%Y}"
    else:
        text = str(raw or "").strip()
        if not text:
            return None
        value = _read(text)
        if value is None:
            if label:
                raise ValueError(
                    f"{label} : « {text} » n'est pas une date valide ; saisissez une date "
                    "existante au format jj/mm/aaaa."
                )
            raise ValueError(
                f"Date invalide « {text} » : saisissez une date existante au format jj/mm/aaaa."
            )
    if earliest is not None and value < earliest:
        raise ValueError(
            _out_of_bounds(label, text, value, f"est antérieure au {earliest:%d/%m/%Y}")
        )
    if past and value > today():
        raise ValueError(_out_of_bounds(label, text, value, "ne peut pas être dans le futur"))
    if latest is not None and value > latest:
        raise ValueError(
            _out_of_bounds(label, text, value, f"est postérieure au {latest:%d/%m/%Y}")
        )
    return value


def _read(text: str) -> date | None:
    if match := _FRENCH.fullmatch(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        return None
    try:
        return date(year, month, day)
    except ValueError:  # 31/02, month 13, year 0
        return None


def _out_of_bounds(label: str | None, text: str, value: date, why: str) -> str:
    if label:
        return f"{label} ({value:%d/%m/%Y}) {why}."
    return f"Date invalide « {text} » : elle {why}."
