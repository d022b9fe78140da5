"""The list of who opened a patient's record, as a CSV file a patient can be given.

Semicolon-separated, UTF-8 with a byte-order mark: what a French spreadsheet opens as is.
"""

from __future__ import annotations

import csv
import io

from ..core.timeutil import to_paris
from .labels import action_label

HEADER = ["Date (heure de Paris)", "Utilisateur", "Identifiant", "Rôle", "Action", "Objet"]
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): the names
# come from accounts typed by people, so each such cell is read as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def row_values(entry, user, role_labels: dict[str, str]) -> list[str]:
    """One line: date, name, login, role, action in French, object."""
    when = to_paris(entry.at)
    obj = f"{entry.object_type} {entry.object_id or ''}".strip() if entry.object_type else ""
    return [
        f"{when:%d/%m/%Y %H:%M:%S}",
        user.display_name if user is not None else entry.username,
        entry.username,
        role_labels.get(user.role, user.role) if user is not None else "",
        action_label(entry.action),
        obj,
    ]


def accesses_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")
