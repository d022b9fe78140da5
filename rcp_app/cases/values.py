"""Parsing of typed values (dates, integers, codes, TNM categories) with French messages.

Each parser returns the clean value (None when empty) or raises ValueError with the message
shown next to the field.
"""

from __future__ import annotations

import re
from datetime import date

from ..core import dates
from ..core.text import clean_spaces


def parse_date(raw, label: str, *, past: bool = True) -> date | None:
    """core/dates.py's rule; a clinical date is in the past unless said otherwise."""
    return dates.parse_date(raw, label, past=past)


def parse_int(raw, low: int, high: int, message: str) -> int | None:
    if raw is None or isinstance(raw, bool):
        return None
    text = str(raw).strip()
    if not text:
        return None
    if not re.fullmatch(r"-?[0-9]{1,6}", text) or not low <= int(text) <= high:
        raise ValueError(message)
    return int(text)


def text(raw, label: str, max_len: int) -> str:
    """Trimmed text (line breaks kept); ValueError past ``max_len`` characters."""
    value = (raw or "").replace("\r\n", "\n").strip()
    if len(value) > max_len:
        raise ValueError(f"{label} : {max_len} caractères au maximum ({len(value)} saisis).")
    return value


def line(raw, label: str, max_len: int) -> str:
    value = clean_spaces(raw)
    if len(value) > max_len:
        raise ValueError(f"{label} : {max_len} caractères au maximum.")
    return value


_TOPOGRAPHY = re.compile(r"C([0-9]{2})\.?([0-9])?")


def topography_code(raw) -> str | None:
    """'c504' or 'C50.4' -> 'C50.4'; anything else is returned upper-cased for the lookup."""
    value = (raw or "").strip().upper()
    if not value:
        return None
    match = _TOPOGRAPHY.fullmatch(value)
    if match:
        return f"C{match.group(1)}" + (f".{match.group(2)}" if match.group(2) else "")
    return value


def morphology_code(raw) -> str | None:
    """'85003' or '8500/3' -> '8500/3'."""
    value = (raw or "").strip()
    if not value:
        return None
    if re.fullmatch(r"[0-9]{5}", value):
        return f"{value[:4]}/{value[4]}"
    return value


def code(raw) -> str | None:
    value = (raw or "").strip()
    return value or None
