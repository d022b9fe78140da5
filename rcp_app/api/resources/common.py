"""What every resource shares: the problem document's schema, 404s, how instants are written
and which dates a client may send."""

from __future__ import annotations

from datetime import datetime

from flask import abort
from pydantic_core import PydanticCustomError

from ...core.errors import problem
from ..spec import Problem

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "WRITE_ERRORS",
    "Problem",
    "not_found",
    "plausible",
    "stamp",
]

# What an operation that writes from a JSON body may answer besides its success: the door's
# refusals, a conflict, a body that is not JSON, refused values.
WRITE_ERRORS = {
    "HTTP_401": Problem,
    "HTTP_403": Problem,
    "HTTP_409": Problem,
    "HTTP_415": Problem,
    "HTTP_422": Problem,
}

# Days and instants a client may send: beyond them the conversion to UTC overflows.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def stamp(value: datetime | None) -> str | None:
    """A stored naive-UTC time as the API writes every instant: ISO 8601 in UTC, « Z »."""
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def plausible(moment, error_type: str):
    """A date or instant within the years a client may mean, else the parsing error (its
    French message comes from spec.py)."""
    if moment is not None and not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise PydanticCustomError(error_type, "year out of range")
    return moment


def not_found(detail: str) -> None:
    abort(problem(404, detail))
