"""Calls per client and per minute, counted in the database so that the limit holds across
every web process and server (a per-process counter would multiply it by their number).

One row per (client, minute), incremented by a single upsert in a short transaction of its
own, before the request's own transaction begins: the counter's row lock (PostgreSQL) or the
write lock (SQLite) is held for that one statement, never across the request's work, and a
call that later fails still counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..core.timeutil import utcnow
from ..core.transactions import writing
from ..extensions import db
from .models import ApiClient, ApiRateWindow, ApiToken

KEEP = timedelta(hours=1)


@dataclass(frozen=True)
class Quota:
    limit: int
    used: int
    reset_at: datetime

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    @property
    def retry_after(self) -> int:
        return max(1, int((self.reset_at - utcnow()).total_seconds()) + 1)


def _upsert(client_id: int, window: datetime):
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(ApiRateWindow).values(client_id=client_id, window_start=window, calls=1)
    return statement.on_conflict_do_update(
        index_elements=["client_id", "window_start"],
        set_={"calls": ApiRateWindow.calls + 1},
    ).returning(ApiRateWindow.calls)


def count_call(token_hash: str, now: datetime | None = None) -> Quota | None:
    """Count one call of the token's client; None when the token is unknown (Authlib then
    refuses it)."""
    now = now or utcnow()
    window = now.replace(second=0, microsecond=0)
    # A session of its own (its own connection in production; inside the test's transaction
    # in the tests, where the engine is that transaction's connection).
    with writing(), Session(db.engine) as connection, connection.begin():
        row = connection.execute(
            select(ApiClient.id, ApiClient.rate_limit_per_minute)
            .join(ApiToken, ApiToken.client_id == ApiClient.id)
            .where(ApiToken.token_hash == token_hash)
        ).first()
        if row is None:
            return None
        used = connection.execute(_upsert(row.id, window)).scalar_one()
        if used == 1:  # a new minute: drop this client's old windows
            connection.execute(
                delete(ApiRateWindow).where(
                    ApiRateWindow.client_id == row.id, ApiRateWindow.window_start < now - KEEP
                )
            )
    return Quota(row.rate_limit_per_minute, used, window + timedelta(minutes=1))
