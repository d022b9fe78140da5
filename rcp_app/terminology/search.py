"""Type-ahead search over a value set's active concepts (code prefix or words of the label)."""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select

from ..core.text import search_key
from ..extensions import db
from .models import Concept

DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_QUERY = 100


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_concepts(value_set: str, query: str, limit: int = DEFAULT_LIMIT) -> list[Concept]:
    """Active concepts whose every word of ``query`` starts the code or occurs in the label
    (accents and case ignored): « sein quadrant » finds « … quadrant supéro-interne du sein ».
    A code equal to, then starting with, the whole query comes first; then display order."""
    words = search_key(query).split()
    if not words:
        return []
    code = func.upper(Concept.code)
    matches = [
        or_(
            Concept.search_key.like(f"%{_like_escape(word)}%", escape="\\"),
            code.like(f"{_like_escape(word)}%", escape="\\"),
        )
        for word in words
    ]
    whole = search_key(query)
    rank = case(
        (code == whole, 0),
        (code.like(f"{_like_escape(whole)}%", escape="\\"), 1),
        else_=2,
    )
    stmt = (
        select(Concept)
        .where(Concept.value_set == value_set, Concept.retired_at.is_(None), and_(*matches))
        .order_by(rank, Concept.sort_order, Concept.code)
        .limit(limit)
    )
    return list(db.session.scalars(stmt))
