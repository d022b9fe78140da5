"""The one rule for numbers typed by users or read from URLs: ids, page numbers, versions.

Only ASCII digits count (``str.isdigit`` also accepts « ² » and « ٣ », which ``int`` then
rejects or reads as another number), and values are bounded so that nothing larger than the
database's INTEGER columns ever reaches a query (2³¹ − 1 fits both SQLite and PostgreSQL).
An id that breaks the rule is « not found » (404), a page number that breaks it means page 1,
and a form value that breaks it gets the field's French message.
"""

from __future__ import annotations

import re

import wtforms
from werkzeug.routing import BaseConverter, ValidationError

# Every id column of the application is an INTEGER (32-bit signed on PostgreSQL).
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def parse_int(raw, low: int = 1, high: int = MAX_ID) -> int | None:
    """``raw`` as an integer between ``low`` and ``high`` (ASCII digits, surrounding spaces
    allowed), or None. ``low`` must be ≥ 0: no signed value is read here."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        if not _DIGITS.fullmatch(text):
            return None
        value = int(text)
    return value if low <= value <= high else None


def parse_id(raw) -> int | None:
    """An object id from a form or query string, or None."""
    return parse_int(raw, 1, MAX_ID)


def parse_version(raw) -> int | None:
    """The row version an edit form or autosave was built from (optimistic locking), or None
    (which never matches a stored version, so the edit is refused as a conflict)."""
    return parse_int(raw, 0, MAX_ID)


def coerce_id(value) -> int:
    """``coerce`` of select fields whose values are ids: ValueError (the field's message)
    for anything but an id."""
    number = parse_id(value)
    if number is None:
        raise ValueError("Identifiant invalide.")
    return number


def coerce_choice_number(value) -> int:
    """``coerce`` of select fields whose values are numbers from 0 (e.g. 0 for « none »)."""
    number = parse_int(value, 0, MAX_ID)
    if number is None:
        raise ValueError("Choix invalide.")
    return number


def coerce_optional_id(value) -> int | None:
    """Like ``coerce_id``; '' (the « none » choice) means None."""
    if value is None or value == "" or value == "None":
        return None
    return coerce_id(value)


class IntegerField(wtforms.IntegerField):
    """WTForms' IntegerField with this module's rule: an optional minus sign and ASCII digits
    within ±MAX_ID, so « ٣ », « 1_000 » and « 10²⁰ » get the field's message; ranges (and
    their messages, negative values included) stay with the field's validators or the
    operation."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        self.data = parse_int(text.removeprefix("-"), 0, MAX_ID)
        if self.data is not None and text.startswith("-"):
            self.data = -self.data
        if self.data is None:
            raise ValueError(
                self.invalid_value_message or self.gettext("Not a valid integer value.")
            )


class IdConverter(BaseConverter):
    """``<int:…>`` in every route: ASCII digits, 1 … MAX_ID; anything else is a 404."""

    # Exactly 1 … 2147483647 (MAX_ID) in the pattern itself, not only in ``to_python``: a rule
    # whose pattern matches then refuses the value makes Werkzeug answer 405 when another
    # method's rule has the same path (PUT /patients/0 would be « method not allowed »); an id
    # the pattern refuses matches no rule at all, hence 404 whatever the method.
    regex = (
        r"(?:[1-9][0-9]{0,8}|1[0-9]{9}|20[0-9]{8}|21[0-3][0-9]{7}|214[0-6][0-9]{6}"
        r"|2147[0-3][0-9]{5}|21474[0-7][0-9]{4}|214748[0-2][0-9]{3}|2147483[0-5][0-9]{2}"
        r"|21474836[0-3][0-9]|214748364[0-7])"
    )
    weight = 50

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))


def register_converters(app) -> None:
    """Replace Werkzeug's ``int`` converter (Unicode digits, unbounded) before any route is
    added: rules pick their converter when they are added to the map."""
    app.url_map.converters["int"] = IdConverter
