"""Edit conflicts that keep what the user typed.

An edit form carries the version it was built from; when it comes back stale (or without a
version) the operation raises Conflict. The view then calls ``keep_typed_values`` and renders the
same form again with ``status(form)`` (409): the typed values stay in the fields, a banner
explains what happened, every field whose stored value now differs from the typed one gets a
note (« Valeur enregistrée entre-temps : … », shown by the ``field()`` macro), and the hidden
version is set to the current one, so that submitting again deliberately confirms the user's
values (an ordinary, audited update). Nothing is saved by the conflicting submit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any

from wtforms import BooleanField, SelectFieldBase, SelectMultipleField

from ..extensions import db
from .converters import parse_version
from .errors import Conflict
from .text import clean_spaces
from .timeutil import format_date, format_datetime

STATUS = 409
EMPTY = "(vide)"
_SKIPPED = ("csrf_token", "version")


def check_version(expected, current: int, refusal: str | Exception) -> None:
    """The edit-version check, the one every operation uses (optimistic locking).

    ``expected`` is the version the form or page was built from, as submitted (text, a number
    or None); ``current`` the stored one, read under the row lock the caller took. They differ:
    ``refusal`` is raised (a Conflict with that message, or the exception given). A missing or
    unreadable version never matches: such an edit is refused, never applied blindly.
    """
    if parse_version(expected) != current:
        raise refusal if isinstance(refusal, Exception) else Conflict(refusal)


def message(subject: str, feminine: bool = False) -> str:
    """The banner; ``subject`` is e.g. "Ce dossier patient" or "Cette RCP"."""
    agreement, pronoun = ("e", "la") if feminine else ("", "le")
    return (
        f"{subject} a été modifié{agreement} par un autre utilisateur pendant que vous "
        f"{pronoun} modifiiez. Vos saisies sont conservées ci-dessous ; les valeurs "
        "enregistrées entre-temps sont indiquées sous les champs concernés. Enregistrez à "
        "nouveau pour confirmer vos valeurs, ou annulez."
    )


def keep_typed_values(
    form,
    obj,
    subject: str,
    *,
    feminine: bool = False,
    adapt: Mapping[str, Callable[[Any], Any]] | None = None,
) -> None:
    """Undo the attempt and prepare ``form`` to be shown again after a Conflict on ``obj``.

    ``adapt`` maps a field name to a function turning the stored attribute into the field's
    data representation (e.g. None -> 0 for a "none" choice).
    """
    db.session.rollback()
    db.session.refresh(obj)  # what is stored now, saved by the other user
    adapt = adapt or {}
    for name, field in form._fields.items():
        if name in _SKIPPED or not hasattr(obj, name):
            continue
        stored = getattr(obj, name)
        if name in adapt:
            stored = adapt[name](stored)
        if not _same(field, field.data, stored):
            field.conflict_note = _display(field, stored)
    form.version.data = str(obj.version)
    form.conflict_message = message(subject, feminine)


def status(form) -> int:
    """409 when ``form`` is shown again after a conflict, 200 otherwise."""
    return STATUS if getattr(form, "conflict_message", None) else 200


def _key(value) -> str:
    return "" if value is None else str(value)


def _plain(value):
    if value is None or isinstance(value, str):
        return clean_spaces(value)
    return value


def _same(field, typed, stored) -> bool:
    if isinstance(field, SelectMultipleField):
        return {_key(v) for v in typed or []} == {_key(v) for v in stored or []}
    if isinstance(field, SelectFieldBase):
        return _key(typed) == _key(stored)
    if isinstance(field, BooleanField):
        return bool(typed) == bool(stored)
    return _plain(typed) == _plain(stored)


def _choice_label(field, value) -> str:
    for choice in field.iter_choices():
        if _key(choice.value) == _key(value):
            return str(choice.label)
    return _key(value) or EMPTY


def _display(field, value) -> str:
    """The stored value as a user reads it: choice labels, dd/mm/yyyy, 14h30, Oui/Non."""
    if isinstance(field, SelectMultipleField):
        return ", ".join(_choice_label(field, v) for v in value or []) or EMPTY
    if isinstance(field, SelectFieldBase):
        return _choice_label(field, value)
    if isinstance(field, BooleanField) or isinstance(value, bool):
        return "Oui" if value else "Non"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, time):
        return f"{value:%H}h{value:%M}"
    return _key(value).strip() or EMPTY
