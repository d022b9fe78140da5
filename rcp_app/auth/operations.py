"""Named state changes for accounts: each one audits and flushes, the caller commits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from flask import current_app
from sqlalchemy import select

from ..core import audit
from ..core.audit import Actor
from ..core.errors import DomainError
from ..core.timeutil import format_time, utcnow
from ..core.transactions import release
from ..extensions import db
from . import throttle
from . import totp as totp_lib
from .models import LoginAttempt, User
from .passwords import hash_password, needs_rehash, password_problem, verify_password

# One answer for every refused password step, whatever the account: unknown, wrong password,
# locked (even with the right password). A locked account must not be told apart from an unknown
# one (account enumeration); the message says that lockout exists.
GENERIC_LOGIN_ERROR = (
    "Identifiant ou mot de passe incorrect. Après plusieurs échecs, un compte est verrouillé "
    "pendant quelques minutes : réessayez plus tard ou contactez un administrateur."
)


ROLE_NEEDS_PSC = (
    "La connexion par mot de passe n'est pas ouverte à votre rôle : connectez-vous avec "
    "Pro Santé Connect (carte CPS ou application e-CPS)."
)


@cache
def _dummy_hash() -> str:
    """Verified when the username is unknown, so that the answer takes as long as for a known
    account (no account enumeration by timing)."""
    return hash_password("compte-inexistant-" + secrets.token_hex(8))


@dataclass
class LoginOutcome:
    user: User | None
    error: str | None = None
    needs_totp: bool = False
    needs_totp_enrolment: bool = False


def _lockout_message(user: User) -> str:
    return (
        "Ce compte est temporairement verrouillé après plusieurs échecs de connexion. "
        f"Réessayez après {format_time(user.locked_until)} ou contactez un administrateur."
    )


def _is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def totp_required_for(user: User) -> bool:
    return user.role in current_app.config["RCP_TOTP_REQUIRED_ROLES"]


def _register_failure(user: User | None, username: str, ip: str | None, reason: str) -> None:
    db.session.add(LoginAttempt(at=utcnow(), username=username[:120], ip=ip, success=False))
    if user is None:
        audit.record("auth.login_failed", details={"username": username[:120], "reason": reason})
        db.session.flush()
        return
    user.failed_logins += 1
    audit.record(
        "auth.login_failed",
        "user",
        user.id,
        details={"reason": reason, "failures": user.failed_logins},
    )
    if user.failed_logins >= current_app.config["RCP_LOGIN_MAX_FAILURES"]:
        user.locked_until = utcnow() + current_app.config["RCP_LOGIN_LOCKOUT"]
        user.failed_logins = 0
        current_app.logger.warning(
            "Account %s locked after repeated failures from %s", user.username, ip
        )
        audit.record(
            "auth.locked", "user", user.id, details={"until": user.locked_until.isoformat()}
        )
    db.session.flush()


def check_password_login(username: str, password: str, ip: str | None) -> LoginOutcome:
    """First factor. Failures are recorded, so the caller commits whatever the outcome.

    Every path costs one Argon2 verification (an unknown username against a dummy hash, a
    locked account against its own hash) and answers the same generic message: neither the
    words nor the time tell an existing account from an unknown one. The slowdown wait and the
    hash verification both happen outside any database transaction.
    """
    username = (username or "").strip().lower()
    failures, delay = throttle.slow_down(ip)
    user = db.session.scalar(select(User).where(User.username == username))
    password_hash = user.password_hash if user is not None else None
    release()
    password_ok = verify_password(password_hash or _dummy_hash(), password or "")
    if delay:
        audit.record(
            "auth.ip_throttled",
            details={"username": username[:120], "failures": failures, "delay": delay},
        )
    if user is None:
        _register_failure(None, username, ip, "bad_password")
        return LoginOutcome(None, GENERIC_LOGIN_ERROR)
    # The write step: the account as it is now (another attempt may have locked it meanwhile).
    db.session.refresh(user, with_for_update=True)
    if _is_locked(user):
        _register_failure(None, username, ip, "locked")
        return LoginOutcome(None, GENERIC_LOGIN_ERROR)
    if not password_ok or user.password_hash != password_hash:
        _register_failure(user, username, ip, "bad_password")
        return LoginOutcome(None, GENERIC_LOGIN_ERROR)
    if not user.active:
        _register_failure(None, username, ip, "inactive")
        return LoginOutcome(None, "Ce compte est désactivé. Contactez un administrateur.")
    if user.role not in current_app.config["RCP_PASSWORD_LOGIN_ROLES"]:
        # Said only once the password is proven: it tells nothing about an account to whoever
        # does not hold it. Not a failure of the password: the lockout counter is left alone.
        audit.record(
            "auth.login_refused", "user", user.id, details={"reason": "password_off_for_role"}
        )
        db.session.flush()
        return LoginOutcome(None, ROLE_NEEDS_PSC)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.totp_enabled:
        return LoginOutcome(user, needs_totp=True)
    if totp_required_for(user):
        return LoginOutcome(user, needs_totp_enrolment=True)
    complete_login(user, ip)
    return LoginOutcome(user)


def check_totp_login(user: User, code: str, ip: str | None) -> str | None:
    """Second factor; returns a French error or None when the code is accepted.

    The password was proven: here a locked account may say so.
    """
    failures, delay = throttle.slow_down(ip)
    # Lock the row: two requests carrying the same code cannot both pass the replay check.
    db.session.refresh(user, with_for_update=True)
    if delay:
        audit.record(
            "auth.ip_throttled", "user", user.id, details={"failures": failures, "delay": delay}
        )
    if _is_locked(user):
        return _lockout_message(user)
    if not user.active or not user.totp_secret:
        return "Cette étape de connexion n'est plus valable. Recommencez la connexion."
    step = totp_lib.matching_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        _register_failure(user, user.username, ip, "bad_totp")
        if _is_locked(user):
            return _lockout_message(user)
        return "Code de vérification incorrect ou expiré."
    user.totp_last_step = step
    complete_login(user, ip)
    return None


def complete_login(user: User, ip: str | None, method: str = "password") -> None:
    """The user proved who they are (``method``: ``password``, with its TOTP step when due,
    or ``psc``)."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    db.session.add(LoginAttempt(at=utcnow(), username=user.username, ip=ip, success=True))
    # The request is still anonymous here: the row names the user who just proved who they are.
    audit.record(
        "auth.login",
        "user",
        user.id,
        details={"method": method},
        actor=Actor(user.id, user.username, ip),
    )
    db.session.flush()


def psc_user(rpps: str | None) -> User | None:
    """The active account of the directory's active professional holding this RPPS."""
    if rpps is None:
        return None
    # Through the relationship: auth sits below the directory and does not import it.
    return db.session.scalar(
        select(User).where(User.active, User.professional.has(rpps=rpps, active=True))
    )


def record_psc_unknown(national_id: str) -> None:
    """A professional PSC vouched for, with no account here: who asked, to answer them."""
    audit.record("auth.psc_unknown", details={"national_id": national_id})
    db.session.flush()


def record_psc_failure(reason: str) -> None:
    audit.record("auth.psc_failed", details={"reason": reason})
    db.session.flush()


def record_logout(user: User) -> None:
    """Log out: a new session token ends every session of this account (a copied cookie too,
    and the user's other devices), as a password change does."""
    user.session_token = new_session_token()
    audit.record("auth.logout", "user", user.id)


def enable_totp(user: User, secret: str, code: str) -> None:
    if user.totp_enabled:
        raise DomainError("La double authentification est déjà active sur ce compte.", field="code")
    step = totp_lib.matching_step(secret, code, None)
    if step is None:
        raise DomainError(
            "Le code saisi ne correspond pas. Vérifiez l'heure de votre téléphone "
            "et saisissez le code affiché.",
            field="code",
        )
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    audit.record("auth.totp_enabled", "user", user.id)
    db.session.flush()


def disable_totp(user: User, by: User) -> None:
    if totp_required_for(user) and by.id == user.id:
        raise DomainError("La double authentification est obligatoire pour votre rôle.")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    audit.record("auth.totp_disabled", "user", user.id, details={"by": by.username})
    db.session.flush()


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    if not verify_password(user.password_hash, current or ""):
        raise DomainError("Le mot de passe actuel est incorrect.", field="current_password")
    set_password(user, new, confirm)
    audit.record("auth.password_changed", "user", user.id)
    db.session.flush()


def set_password(user: User, new: str, confirm: str) -> None:
    if new != confirm:
        raise DomainError("Les deux mots de passe saisis sont différents.", field="confirm")
    problem = password_problem(new)
    if problem:
        raise DomainError(problem, field="new_password")
    user.password_hash = hash_password(new)
    # Other sessions of this account end with the old password.
    user.session_token = new_session_token()


def new_session_token() -> str:
    return secrets.token_hex(8)
