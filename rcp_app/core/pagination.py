"""Pagination of a select() with a page number taken from the query string."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, literal_column, select

from ..extensions import db
from .converters import parse_int

# Lists that may match many rows count at most this many (or up to the current page): beyond
# it they say "plus de 1 000 résultats", which costs a bounded scan instead of counting every
# matching row on each page view (bench/README.md).
COUNT_LIMIT = 1000


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    total: int  # exact, or a lower bound when ``exact`` is False
    exact: bool = True

    @property
    def pages(self) -> int:
        """The number of pages, or (inexact total) the pages known to exist."""
        return max(1, -(-self.total // self.per_page)) + (0 if self.exact else 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def total_label(self) -> str:
        """'1 234 résultats', '1 résultat' or 'plus de 1 000 résultats'."""
        number = f"{self.total:,}".replace(",", "\u202f")
        if not self.exact:
            return f"plus de {number} résultats"
        return f"{number} résultat{'s' if self.total > 1 else ''}"


MAX_PAGE = 100_000


def parse_page(raw: str | None) -> int:
    """Page numbers from the URL: anything that is not an integer from 1 to MAX_PAGE
    (ASCII digits, core.converters) means page 1."""
    return parse_int(raw, 1, MAX_PAGE) or 1


def paginate(stmt: Select, page: int, per_page: int, count_limit: int | None = None) -> Page:
    """One page of ``stmt``. With ``count_limit``, at most max(count_limit, rows up to this
    page) rows are counted: a longer list gets an inexact total (``Page.exact`` False)."""
    exact = True
    if count_limit is None:
        total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    else:
        limit = max(count_limit, page * per_page)
        rows = stmt.order_by(None).with_only_columns(
            literal_column("1"), maintain_column_froms=True
        )
        total = db.session.scalar(
            select(func.count()).select_from(rows.limit(limit + 1).subquery())
        )
        if total > limit:
            total, exact = limit, False
    page = min(page, max(1, -(-total // per_page)))
    items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total, exact=exact)


def paginate_by_key(
    stmt: Select,
    key,
    load: Callable[[list], Sequence],
    page: int,
    per_page: int,
    count_limit: int = COUNT_LIMIT,
) -> Page:
    """``paginate`` for a list whose filter is costly to set up (a care team, hashed once per
    query: rcp_app/access): one query reads the keys in order — at most max(count_limit, rows up
    to this page) + 1, which gives the total — and ``load(keys)`` reads the page's rows by key
    (primary key lookups, the filter not run again). ``load`` may return them in any order."""
    limit = max(count_limit, page * per_page)
    keys = list(db.session.scalars(stmt.with_only_columns(key).limit(limit + 1)))
    total, exact = (limit, False) if len(keys) > limit else (len(keys), True)
    page = min(page, max(1, -(-total // per_page)))
    wanted = keys[(page - 1) * per_page : page * per_page]
    rows = {getattr(row, key.key): row for row in load(wanted)} if wanted else {}
    items = [rows[k] for k in wanted if k in rows]
    return Page(items=items, page=page, per_page=per_page, total=total, exact=exact)
