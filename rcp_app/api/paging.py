"""Cursor pagination and ETags.

A cursor is the last id of the page, opaque to clients (base64url): the next page is read with
``id > cursor`` on an index, whatever the depth, and rows added meanwhile are neither skipped
nor repeated. An ETag names a row's version; an update must send it back in ``If-Match``, the
same optimistic check the forms make with their hidden version field.
"""

from __future__ import annotations

import base64
import binascii

from flask import abort, request, url_for
from sqlalchemy import Select

from ..core.converters import parse_id
from ..core.errors import problem
from ..extensions import db

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The id after which the page starts (0: the first page); a bad cursor is a 400."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    kind, _, value = text.partition(":")
    last_id = parse_id(value) if kind == "id" else None
    if last_id is None:
        abort(
            problem(
                400,
                "Curseur de pagination invalide : reprenez le « next_cursor » d'une réponse.",
                [{"field": "cursor", "message": "Curseur invalide."}],
            )
        )
    return last_id


def page_size(limit: int | None) -> int:
    return min(max(limit or DEFAULT_LIMIT, 1), MAX_LIMIT)


def page(
    statement: Select, id_column, cursor: str | None, limit: int | None
) -> tuple[list, str | None]:
    """One page of ``statement`` in id order, and the cursor of the next page (or None)."""
    size = page_size(limit)
    rows = list(
        db.session.scalars(
            statement.where(id_column > decode_cursor(cursor)).order_by(id_column).limit(size + 1)
        )
    )
    more = len(rows) > size
    rows = rows[:size]
    return rows, (encode_cursor(rows[-1].id) if more and rows else None)


def next_link(endpoint: str, next_cursor: str | None, **args) -> str | None:
    if next_cursor is None:
        return None
    query = {k: v for k, v in request.args.items() if k != "cursor"}
    query.update(args)
    return url_for(endpoint, cursor=next_cursor, **query)


def etag(kind: str, row_id: int, version: int) -> str:
    return f'"{kind}-{row_id}-v{version}"'


def check_if_match(current: str) -> None:
    """428 without If-Match, 412 when it names another version ('*' matches any)."""
    sent = request.headers.get("If-Match")
    if sent is None:
        abort(problem(428))
    tags = {tag.strip().removeprefix("W/") for tag in sent.split(",")}
    if "*" not in tags and current not in tags:
        abort(problem(412, current_etag=current))
