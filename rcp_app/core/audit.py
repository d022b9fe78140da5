"""Append-only, hash-chained audit log.

Every view of patient data and every change writes one row here, in the same transaction as
the change. Each row's hash covers its content and the previous row's hash, so changing,
inserting or deleting a row in the middle of the chain is detected by ``verify_chain``.
The database refuses UPDATE and DELETE on the table (triggers in the migrations) and the ORM
refuses them too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask import g, has_app_context
from sqlalchemy import ForeignKey, Index, String, Text, event, select, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .timeutil import utcnow

GENESIS_HASH = "0" * 64
# Arbitrary constant identifying the audit chain's advisory lock on PostgreSQL.
_PG_AUDIT_LOCK_KEY = 782_451_903


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[datetime] = mapped_column(index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    username: Mapped[str] = mapped_column(String(120))
    ip: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    patient_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def details_dict(self) -> dict:
        return json.loads(self.details or "{}")

    def compute_hash(self) -> str:
        payload = json.dumps(
            [
                self.seq,
                self.at.isoformat(timespec="microseconds"),
                self.user_id,
                self.username,
                self.ip,
                self.action,
                self.object_type,
                self.object_id,
                self.patient_id,
                self.details,
                self.prev_hash,
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(*_args):
    raise RuntimeError("Le journal d'audit est en ajout seul : modification interdite.")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(*_args):
    raise RuntimeError("Le journal d'audit est en ajout seul : suppression interdite.")


@dataclass(frozen=True)
class Actor:
    """Who acts, and from where; set per request by the auth layer, or by the CLI."""

    user_id: int | None
    username: str
    ip: str | None


SYSTEM_ACTOR = Actor(user_id=None, username="système", ip=None)


def set_actor(actor: Actor) -> None:
    g.rcp_actor = actor


def current_actor() -> Actor:
    if has_app_context():
        actor = g.get("rcp_actor")
        if actor is not None:
            return actor
    return SYSTEM_ACTOR


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _lock_chain_head() -> None:
    bind = db.session.get_bind()
    if bind.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK_KEY})
    # SQLite: every transaction starts with BEGIN IMMEDIATE (extensions.py), which already
    # serialises writers.


def record(
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    *,
    patient_id: int | None = None,
    details: dict | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """Append one audit row in the current transaction (flushed, never committed here)."""
    actor = actor or current_actor()
    _lock_chain_head()
    head = db.session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    entry = AuditEntry(
        seq=seq,
        at=utcnow(),
        user_id=actor.user_id,
        username=actor.username,
        ip=actor.ip,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        patient_id=patient_id,
        details=json.dumps(
            details or {}, ensure_ascii=False, sort_keys=True, default=_json_default
        ),
        prev_hash=prev_hash,
    )
    entry.hash = entry.compute_hash()
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in order and report the first row that does not fit."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    while True:
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(batch_size)
        ).all()
        if not rows:
            return ChainReport(checked=checked)
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(
                    checked, row.seq, f"séquence interrompue (attendu {expected_seq})"
                )
            if row.prev_hash != prev_hash:
                return ChainReport(checked, row.seq, "lien avec l'entrée précédente rompu")
            if row.compute_hash() != row.hash:
                return ChainReport(checked, row.seq, "contenu modifié (empreinte invalide)")
            prev_hash = row.hash
            expected_seq += 1
            checked += 1
            last_seq = row.seq
        db.session.expunge_all()
