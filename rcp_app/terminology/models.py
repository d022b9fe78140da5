"""Value sets and their concepts, stored in the database.

A value set (``ValueSet``) is named after its official CI-SIS file (e.g.
``JDV_RCP_Appareil_CISIS``) and carries its OID. A concept belongs to one value set and carries
the code and code system that documents need. Retired concepts keep their row (old records
still point at them) but get an end date and are no longer offered in forms.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, validates

from ..core.text import search_key
from ..extensions import db

SOURCES = {"builtin": "Intégré", "import": "Importé"}


class ValueSet(db.Model):
    __tablename__ = "value_sets"
    __table_args__ = (CheckConstraint("source IN ('builtin', 'import')", name="source_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    oid: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(40))
    revision_date: Mapped[date | None] = mapped_column()
    # "builtin": typed in by hand (builtin.py); "import": last updated from an official file.
    source: Mapped[str] = mapped_column(String(10))
    file_name: Mapped[str | None] = mapped_column(String(255))
    # Last import that changed this value set (None while it is only built in).
    imported_at: Mapped[datetime | None] = mapped_column()
    # End of validity of the whole value set (ValueSet@dateFin), when the file gives one.
    retired_at: Mapped[datetime | None] = mapped_column()

    @property
    def source_label(self) -> str:
        return SOURCES.get(self.source, self.source)


class Concept(db.Model):
    __tablename__ = "concepts"
    __table_args__ = (UniqueConstraint("value_set", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value_set: Mapped[str] = mapped_column(
        ForeignKey("value_sets.name", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(64))
    code_system: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(Text)
    # search_key(label): upper case, no accents; kept in step by the validator below.
    search_key: Mapped[str] = mapped_column(Text, default="")
    # The broader concept in another value set (an organ's appareil code); never imported.
    parent_code: Mapped[str | None] = mapped_column(String(64))
    retired_at: Mapped[datetime | None] = mapped_column()
    sort_order: Mapped[int] = mapped_column(default=0)

    @validates("label")
    def _keep_search_key(self, _key: str, label: str) -> str:
        self.search_key = search_key(label)
        return label

    @property
    def active(self) -> bool:
        return self.retired_at is None


def active_concepts(value_set: str, parent_code: str | None = None) -> list[Concept]:
    """The concepts offered in forms, in display order; optionally only a parent's children."""
    stmt = select(Concept).where(Concept.value_set == value_set, Concept.retired_at.is_(None))
    if parent_code is not None:
        stmt = stmt.where(Concept.parent_code == parent_code)
    return list(db.session.scalars(stmt.order_by(Concept.sort_order, Concept.label)))


def concept_choices(value_set: str, parent_code: str | None = None) -> list[tuple[str, str]]:
    return [(c.code, c.label) for c in active_concepts(value_set, parent_code)]


def concept_label(value_set: str, code: str | None) -> str:
    if not code:
        return ""
    label = db.session.scalar(
        select(Concept.label).where(Concept.value_set == value_set, Concept.code == code)
    )
    return label or code


def find_concept(value_set: str, code: str | None, *, active_only: bool = True) -> Concept | None:
    """The concept with this code in the value set (None if absent, or retired when asked)."""
    if not code:
        return None
    stmt = select(Concept).where(Concept.value_set == value_set, Concept.code == code)
    if active_only:
        stmt = stmt.where(Concept.retired_at.is_(None))
    return db.session.scalar(stmt)
