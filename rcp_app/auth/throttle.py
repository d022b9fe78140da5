"""Per-address slowdown of login attempts.

A whole hospital may reach the application through one address (NAT, proxy): refusing every
login from an address after N failures would let one attacker lock everybody out. Instead,
past ``RCP_LOGIN_IP_SLOWDOWN_AFTER`` failures in the lockout window, each further attempt from
that address waits a little longer (``RCP_LOGIN_IP_DELAY_STEP_SECONDS`` more per failure, at
most ``RCP_LOGIN_IP_DELAY_MAX_SECONDS``) and is then handled normally: a right password still
logs in. Guessing stays bounded by the per-account lockout and by the delay.

The wait happens with no database transaction open (SQLite's write lock, PostgreSQL's
snapshot and row locks are not held while a request sleeps), and the count is a plain read:
attempts are not serialised.
"""

from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import func, select

from ..core.timeutil import utcnow
from ..core.transactions import release
from ..extensions import db
from .models import LoginAttempt

# Replaced in tests, which assert the delay asked for instead of waiting.
sleep = time.sleep


def recent_failures(ip: str) -> int:
    since = utcnow() - current_app.config["RCP_LOGIN_LOCKOUT"]
    return db.session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.ip == ip, LoginAttempt.success.is_(False), LoginAttempt.at >= since
        )
    )


def delay_for(failures: int) -> float:
    """Seconds to wait before handling an attempt, given the address's recent failures."""
    config = current_app.config
    excess = failures - config["RCP_LOGIN_IP_SLOWDOWN_AFTER"] + 1
    if excess <= 0:
        return 0.0
    step = config["RCP_LOGIN_IP_DELAY_STEP_SECONDS"]
    return min(config["RCP_LOGIN_IP_DELAY_MAX_SECONDS"], excess * step)


def slow_down(ip: str | None) -> tuple[int, float]:
    """Wait as long as the address's recent failures ask; returns (failures, seconds waited).

    Ends the current (read) transaction first: the caller must have nothing unwritten.
    """
    if not ip:
        return 0, 0.0
    failures = recent_failures(ip)
    delay = delay_for(failures)
    if delay > 0:
        release()
        sleep(delay)
    return failures, delay
