"""Applying parsed SVS value sets to the database (upsert, retirement, audit).

Rules, per value set (named by ValueSet@displayName), concept by concept (keyed by code):

- a code not yet known is added (after the existing ones in display order);
- a known code gets the file's label and code system;
- a concept whose ``dateFin`` is today or earlier is retired at that date; a concept present
  in the file without a (past) ``dateFin`` is active again if it was retired;
- a concept of the value set that the file no longer lists is retired at the import time: the
  file is the authoritative, complete list. Its row stays (old records point at it).

What the files do not carry is kept: display order of existing rows, ``parent_code``.
Audit: one ``terminology.import`` row per file that changed something (with its counts) and
one ``terminology.import_run`` row per run (totals), so a no-op re-import adds a single row.
Nothing is committed here; the caller commits once, so a failure leaves nothing behind.
Applying the same files twice changes nothing the second time.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..core import audit
from ..core.timeutil import utcnow
from ..extensions import db
from .models import Concept, ValueSet
from .svs import SvsConcept, SvsValueSet


@dataclass
class ImportSummary:
    file_name: str
    value_set: str
    added: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    new_value_set: bool = False
    metadata_changed: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.retired or self.metadata_changed)

    def counts(self) -> dict[str, int]:
        return {
            "added": self.added,
            "updated": self.updated,
            "retired": self.retired,
            "unchanged": self.unchanged,
        }


def import_value_sets(value_sets: list[SvsValueSet], now: datetime | None = None):
    """Upsert every value set; returns one ImportSummary per file, in the given order."""
    now = now or utcnow()
    names = [vs.name for vs in value_sets]
    rows = {v.name: v for v in db.session.scalars(select(ValueSet).where(ValueSet.name.in_(names)))}
    concepts: dict[str, dict[str, Concept]] = defaultdict(dict)
    for concept in db.session.scalars(select(Concept).where(Concept.value_set.in_(names))):
        concepts[concept.value_set][concept.code] = concept

    summaries = []
    for parsed in value_sets:
        summary = ImportSummary(parsed.path.name, parsed.name, warnings=list(parsed.warnings))
        if parsed.name not in rows:
            rows[parsed.name] = ValueSet(name=parsed.name, source="import")
            db.session.add(rows[parsed.name])
            summary.new_value_set = True
        summary.metadata_changed = _update_metadata(rows[parsed.name], parsed)
        summaries.append(summary)
    db.session.flush()  # the value sets exist before their concepts (foreign key)

    for parsed, summary in zip(value_sets, summaries, strict=True):
        _upsert_concepts(parsed, concepts[parsed.name], now, summary)
        if summary.changed:
            rows[parsed.name].imported_at = now
    db.session.flush()

    for summary in summaries:
        if summary.changed:
            audit.record(
                "terminology.import",
                "value_set",
                summary.value_set,
                details={
                    "file": summary.file_name,
                    "new_value_set": summary.new_value_set,
                    "metadata_changed": summary.metadata_changed,
                    **summary.counts(),
                },
            )
    audit.record(
        "terminology.import_run",
        details={
            "files": len(summaries),
            "changed_files": sum(1 for s in summaries if s.changed),
            **{k: sum(s.counts()[k] for s in summaries) for k in ImportSummary("", "").counts()},
        },
    )
    db.session.flush()
    return summaries


def _update_metadata(row: ValueSet, parsed: SvsValueSet) -> bool:
    wanted = {
        "oid": parsed.oid,
        "version": parsed.version,
        "revision_date": parsed.revision_date,
        "retired_at": parsed.ends_at,
        "source": "import",
        "file_name": parsed.path.name,
    }
    changed = False
    for attribute, value in wanted.items():
        if getattr(row, attribute) != value:
            setattr(row, attribute, value)
            changed = True
    return changed


def _retirement(concept: SvsConcept, now: datetime) -> datetime | None:
    """A dateFin in the past (or now) retires the concept; a future one does not yet."""
    if concept.ends_at is not None and concept.ends_at <= now:
        return concept.ends_at
    return None


def _upsert_concepts(
    parsed: SvsValueSet, existing: dict[str, Concept], now: datetime, summary: ImportSummary
) -> None:
    next_order = max((c.sort_order for c in existing.values()), default=-1) + 1
    listed = set()
    for position, item in enumerate(parsed.concepts):
        listed.add(item.code)
        retired_at = _retirement(item, now)
        row = existing.get(item.code)
        if row is None:
            db.session.add(
                Concept(
                    value_set=parsed.name,
                    code=item.code,
                    code_system=item.code_system,
                    label=item.label,
                    retired_at=retired_at,
                    sort_order=next_order + position,
                )
            )
            summary.added += 1
            continue
        was_active = row.retired_at is None
        changed = False
        if row.label != item.label:
            row.label = item.label
            changed = True
        if row.code_system != item.code_system:
            row.code_system = item.code_system
            changed = True
        if row.retired_at != retired_at:
            row.retired_at = retired_at
            changed = True
        if was_active and retired_at is not None:
            summary.retired += 1
        elif changed:
            summary.updated += 1
        else:
            summary.unchanged += 1
    for code, row in existing.items():
        if code in listed:
            continue
        if row.retired_at is None:
            row.retired_at = now
            summary.retired += 1
        else:
            summary.unchanged += 1
