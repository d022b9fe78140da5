"""Append-only, keyed hash chain of audit rows.

Every view of patient data and every change writes one row here, in the same transaction as
the change. Each row carries an HMAC-SHA256, keyed with ``RCP_AUDIT_KEY`` (kept outside the
database), over all its columns and the previous row's MAC: changing, inserting, deleting or
renumbering rows is detected by ``verify_chain`` unless the forger also holds the key. Deleting
the newest rows is detected against a sealed checkpoint of the chain head kept outside the
database (``audit_anchor``). The database refuses UPDATE and DELETE (migration 0002's
triggers) and so does the ORM.

Throughput: ``record`` only builds the row and keeps it with the session; the rows are linked
into the chain when the transaction commits (``before_commit``), so the chain's lock — an
advisory lock on PostgreSQL, the write lock on SQLite — is held for the few milliseconds of
that append, never across the request's work. Lock order is therefore always: the rows the
transaction locked itself, then the key-share locks of the users its audit rows name (the
foreign key), then the chain lock, after which nothing else is waited for.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g, has_app_context
from sqlalchemy import ForeignKey, Index, String, Text, event, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..extensions import db
from .timeutil import utcnow

GENESIS_HASH = "0" * 64
# Arbitrary constant identifying the audit chain's advisory lock on PostgreSQL.
_PG_AUDIT_LOCK_KEY = 782_451_903
_PENDING = "rcp_audit_pending"


class AuditEntry(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    # Set at commit with the chain position (not by the database), so the MAC covers it.
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

    def mac_payload(self) -> bytes:
        """Every column but the MAC itself, derived from the table so none can be left out."""
        values = []
        for column in self.__table__.columns:
            if column.key == "hash":
                continue
            value = getattr(self, column.key)
            if isinstance(value, datetime):
                value = value.isoformat(timespec="microseconds")
            values.append([column.key, value])
        return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def compute_hash(self, key: str | bytes | None = None) -> str:
        key = audit_key() if key is None else key
        if isinstance(key, str):
            key = key.encode("utf-8")
        return hmac.new(key, self.mac_payload(), hashlib.sha256).hexdigest()


def audit_key() -> str:
    return current_app.config["RCP_AUDIT_KEY"]


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


def record(
    action: str,
    object_type: str | None = None,
    object_id: object | None = None,
    *,
    patient_id: int | None = None,
    details: dict | None = None,
    actor: Actor | None = None,
) -> AuditEntry:
    """Prepare one audit row; it is written and chained when the transaction commits.

    The row's ``seq``, ``id`` and MAC are set at commit; a rollback discards it with the rest.
    """
    actor = actor or current_actor()
    entry = AuditEntry(
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
    )
    db.session.info.setdefault(_PENDING, []).append(entry)
    return entry


def pending_entries(session: Session | None = None) -> list[AuditEntry]:
    """Rows recorded in this transaction and not yet written (read-only view)."""
    return list((session or db.session).info.get(_PENDING, ()))


def _append(session: Session, entries: list[AuditEntry]) -> None:
    """Link ``entries`` to the chain head and insert them: the short critical section."""
    # The transaction's own changes first: every row lock it takes is taken before the chain
    # lock, never after (one lock order, no deadlock).
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        # The rows' foreign key needs a key-share lock on each user: take it now, before the
        # chain lock, so that a transaction holding a user row (a login) can never wait for the
        # chain while we wait for its row.
        user_ids = sorted({e.user_id for e in entries if e.user_id is not None})
        if user_ids:
            session.execute(
                text("SELECT id FROM users WHERE id = ANY(:ids) ORDER BY id FOR KEY SHARE"),
                {"ids": user_ids},
            )
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK_KEY})
    # SQLite: the INSERT below needs the write lock, which serialises appenders.
    head = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    max_id = session.scalar(select(func.max(AuditEntry.id))) or 0
    seq, prev_hash = (head[0], head[1]) if head else (0, GENESIS_HASH)
    key = audit_key()
    for entry in entries:
        seq += 1
        max_id += 1
        entry.id, entry.seq, entry.prev_hash = max_id, seq, prev_hash
        entry.hash = prev_hash = entry.compute_hash(key)
        session.add(entry)
    session.flush(entries)


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    entries = session.info.pop(_PENDING, None)
    if not entries:
        return
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.info.get("rcp_write"):
        # A read-only SQLite transaction (GET): upgrading its snapshot to write would fail
        # whenever another writer committed meanwhile. It changed nothing, so its audit rows
        # are appended by a short writing transaction of their own, before it commits.
        _append_in_own_transaction(session, entries)
        return
    _append(session, entries)


def _append_in_own_transaction(session: Session, entries: list[AuditEntry]) -> None:
    from .transactions import writing

    engine = session.get_bind()
    with writing(), Session(bind=engine, expire_on_commit=False) as own:
        _append(own, entries)
        own.commit()


@event.listens_for(Session, "after_rollback")
def _discard_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


@dataclass
class ChainReport:
    checked: int
    broken_at: int | None = None
    reason: str | None = None
    head_seq: int = 0
    head_hash: str = GENESIS_HASH

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(batch_size: int = 5000) -> ChainReport:
    """Walk the whole chain in order and report the first row that does not fit."""
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_seq = 0
    key = audit_key()
    while True:
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.seq > last_seq)
            .order_by(AuditEntry.seq)
            .limit(batch_size)
            # What the database holds now, not rows the session loaded earlier (sessions keep
            # their objects across commits: expire_on_commit is off).
            .execution_options(populate_existing=True)
        ).all()
        if not rows:
            return ChainReport(checked=checked, head_seq=last_seq, head_hash=prev_hash)
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(
                    checked, row.seq, f"séquence interrompue (attendu {expected_seq})"
                )
            if row.prev_hash != prev_hash:
                return ChainReport(checked, row.seq, "lien avec l'entrée précédente rompu")
            if not hmac.compare_digest(row.compute_hash(key), row.hash or ""):
                return ChainReport(checked, row.seq, "contenu modifié (empreinte HMAC invalide)")
            prev_hash = row.hash
            expected_seq += 1
            checked += 1
            last_seq = row.seq
        db.session.expunge_all()
