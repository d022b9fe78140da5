"""Value-set concepts stored in the database.

A concept belongs to a value set (e.g. ``JDV_RCP_Appareil_CISIS``) and carries the code and
code system that documents need. Retired concepts keep their row (old records still point at
them) but get an end date and are no longer offered in forms.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class Concept(db.Model):
    __tablename__ = "concepts"
    __table_args__ = (UniqueConstraint("value_set", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value_set: Mapped[str] = mapped_column(String(80), index=True)
    code: Mapped[str] = mapped_column(String(64))
    code_system: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(255))
    retired_at: Mapped[datetime | None] = mapped_column()
    sort_order: Mapped[int] = mapped_column(default=0)

    @property
    def active(self) -> bool:
        return self.retired_at is None


def active_concepts(value_set: str) -> list[Concept]:
    return list(
        db.session.scalars(
            select(Concept)
            .where(Concept.value_set == value_set, Concept.retired_at.is_(None))
            .order_by(Concept.sort_order, Concept.label)
        )
    )


def concept_choices(value_set: str) -> list[tuple[str, str]]:
    return [(c.code, c.label) for c in active_concepts(value_set)]


def concept_label(value_set: str, code: str | None) -> str:
    if not code:
        return ""
    label = db.session.scalar(
        select(Concept.label).where(Concept.value_set == value_set, Concept.code == code)
    )
    return label or code
