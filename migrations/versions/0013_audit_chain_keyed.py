"""audit chain keyed: every row's SHA-256 becomes an HMAC-SHA256 over all its columns

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03

Hand-written. The existing chain (plain SHA-256, core/audit.py before this revision) is first
verified as it stands: re-keying a chain that was already altered would launder the forgery, so
a broken chain stops the upgrade with the row at fault (investigate, restore the backup, then
upgrade). Then each row is re-chained with the key of RCP_AUDIT_KEY(_FILE), in seq order,
with the append-only triggers lifted for the duration of this transaction only.

The MAC payload is written out here as it was at this revision (the model may gain columns
later, with its own re-keying migration).
"""

import hashlib
import hmac
import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
COLUMNS = (
    "id", "seq", "at", "user_id", "username", "ip", "action", "object_type", "object_id",
    "patient_id", "details", "prev_hash",
)
LEGACY = (
    "seq", "at", "user_id", "username", "ip", "action", "object_type", "object_id",
    "patient_id", "details", "prev_hash",
)


def _iso(value):
    if isinstance(value, str):  # SQLite returns text through a bare select
        value = datetime.fromisoformat(value)
    return value.isoformat(timespec="microseconds")


def _legacy_hash(row) -> str:
    values = [_iso(row.at) if name == "at" else getattr(row, name) for name in LEGACY]
    payload = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _mac(key: bytes, row, prev_hash: str) -> str:
    values = []
    for name in COLUMNS:
        value = prev_hash if name == "prev_hash" else getattr(row, name)
        values.append([name, _iso(value) if name == "at" else value])
    payload = json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _set_triggers(enabled: bool) -> None:
    if op.get_bind().dialect.name == "postgresql":
        state = "ENABLE" if enabled else "DISABLE"
        op.execute(f"ALTER TABLE audit_log {state} TRIGGER audit_log_append_only")
        return
    if enabled:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(f"SELECT {', '.join(COLUMNS)}, hash FROM audit_log ORDER BY seq")
    ).all()
    prev = GENESIS
    for expected, row in enumerate(rows, start=1):
        if row.seq != expected or row.prev_hash != prev or _legacy_hash(row) != row.hash:
            raise RuntimeError(
                f"Journal d'audit altéré à l'entrée n° {row.seq} : la chaîne n'est pas "
                "re-scellée avec la clé HMAC (rcp audit-verify sur la version précédente)."
            )
        prev = row.hash
    if not rows:
        return
    key = current_app.config["RCP_AUDIT_KEY"].encode("utf-8")
    _set_triggers(False)
    prev = GENESIS
    for row in rows:
        mac = _mac(key, row, prev)
        bind.execute(
            sa.text("UPDATE audit_log SET prev_hash = :p, hash = :h WHERE id = :i"),
            {"p": prev, "h": mac, "i": row.id},
        )
        prev = mac
    _set_triggers(True)


def downgrade():
    # The MACs stay: older code would report this chain as altered, which is the truth about
    # any row it cannot check. Nothing in the schema changed.
    pass
