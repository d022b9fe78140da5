"""Settings read from RCP_* environment variables.

Local runs need no configuration at all: the database is SQLite under ``instance/`` and a
random secret key is generated once into ``instance/secret_key``. In production
(``RCP_ENV=production``) nothing is guessed: a missing secret key stops the application.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROLES = ("admin", "coordinator", "physician", "gp", "dpo")


class ConfigurationError(RuntimeError):
    """Raised at start-up when a required production setting is missing."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def _load_or_create_secret(instance_path: Path, name: str = "secret_key") -> str:
    key_file = instance_path / name
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def build_config(instance_path: str, env: dict[str, str] | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    instance = Path(instance_path)
    rcp_env = env.get("RCP_ENV", "development")
    production = rcp_env == "production"

    secret = env.get("RCP_SECRET_KEY")
    if not secret:
        if production:
            raise ConfigurationError("RCP_SECRET_KEY est obligatoire quand RCP_ENV=production.")
        secret = _load_or_create_secret(instance)

    database_url = env.get("RCP_DATABASE_URL") or f"sqlite:///{instance / 'rcp.sqlite3'}"
    # SQLite is the embedded default for demos; production deserves a real server.
    if (
        production
        and database_url.startswith("sqlite")
        and not _bool(env.get("RCP_ALLOW_SQLITE_IN_PRODUCTION"), False)
    ):
        raise ConfigurationError(
            "RCP_DATABASE_URL doit désigner un serveur PostgreSQL en production."
        )

    # Roles for which two-factor authentication is mandatory. Production: every role unless
    # RCP_TOTP_REQUIRED_ROLES narrows it; local demo: none, so demo accounts log in with a
    # password alone.
    default_totp_roles = ",".join(ROLES) if production else ""
    totp_roles = {
        r.strip()
        for r in env.get("RCP_TOTP_REQUIRED_ROLES", default_totp_roles).split(",")
        if r.strip()
    }
    unknown = totp_roles - set(ROLES)
    if unknown:
        raise ConfigurationError(
            f"RCP_TOTP_REQUIRED_ROLES contient des rôles inconnus : {', '.join(sorted(unknown))}."
        )

    idle_minutes = int(env.get("RCP_SESSION_IDLE_MINUTES", "30"))
    attachment_bytes = int(env.get("RCP_MAX_ATTACHMENT_BYTES", str(20 * 1024 * 1024)))
    return {
        "RCP_ENV": rcp_env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "RCP_TOTP_REQUIRED_ROLES": frozenset(totp_roles),
        "RCP_TOTP_ISSUER": env.get("RCP_TOTP_ISSUER", "RCP Oncologie"),
        "RCP_SESSION_IDLE": timedelta(minutes=idle_minutes),
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=idle_minutes),
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("RCP_SECURE_COOKIES"), production),
        "SESSION_COOKIE_NAME": "rcp_session",
        "REMEMBER_COOKIE_DURATION": timedelta(seconds=0),
        "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime already bounds the token
        "RCP_LOGIN_MAX_FAILURES": int(env.get("RCP_LOGIN_MAX_FAILURES", "5")),
        "RCP_LOGIN_LOCKOUT": timedelta(minutes=int(env.get("RCP_LOGIN_LOCKOUT_MINUTES", "15"))),
        # Past this many failures from one address in the lockout window, each attempt from it
        # waits STEP seconds more (at most MAX) before it is handled (auth/throttle.py).
        "RCP_LOGIN_IP_SLOWDOWN_AFTER": int(env.get("RCP_LOGIN_IP_SLOWDOWN_AFTER", "30")),
        "RCP_LOGIN_IP_DELAY_STEP_SECONDS": float(env.get("RCP_LOGIN_IP_DELAY_STEP_SECONDS", "0.5")),
        "RCP_LOGIN_IP_DELAY_MAX_SECONDS": float(env.get("RCP_LOGIN_IP_DELAY_MAX_SECONDS", "5")),
        "RCP_PAGE_SIZE": int(env.get("RCP_PAGE_SIZE", "25")),
        "RCP_HSTS": production,
        # Reverse proxies whose X-Forwarded-* headers are trusted (rcp_app/__init__.py).
        "RCP_TRUSTED_PROXIES": int(env.get("RCP_TRUSTED_PROXIES", "0")),
        # A request may carry one attachment of the configured size plus the form around it.
        "MAX_CONTENT_LENGTH": max(25 * 1024 * 1024, attachment_bytes + 1024 * 1024),
        # Case attachments (PDF): outside the web root, 20 MB each by default.
        "RCP_ATTACHMENTS_DIR": env.get("RCP_ATTACHMENTS_DIR") or str(instance / "attachments"),
        "RCP_MAX_ATTACHMENT_BYTES": attachment_bytes,
        # Any request without a declared upload (core/uploads.py): forms and JSON.
        "RCP_MAX_FORM_BYTES": int(env.get("RCP_MAX_FORM_BYTES", str(1024 * 1024))),
        # How long an exceptional access (« bris de glace ») opens a record (access/).
        "RCP_EXCEPTIONAL_ACCESS_HOURS": _exceptional_access_hours(env),
        **_fiche_settings(env, instance, production),
        **_audit_settings(env, instance, production),
        **_psc_settings(env),
    }


EXCEPTIONAL_ACCESS_HOURS = (1, 72)


def _exceptional_access_hours(env: dict[str, str]) -> int:
    """Hours an exceptional access lasts: long enough for a shift, short enough that a
    forgotten one does not stay open for days."""
    raw = (env.get("RCP_EXCEPTIONAL_ACCESS_HOURS") or "12").strip()
    low, high = EXCEPTIONAL_ACCESS_HOURS
    if not (raw.isascii() and raw.isdigit() and low <= int(raw) <= high):
        raise ConfigurationError(
            f"RCP_EXCEPTIONAL_ACCESS_HOURS doit être un nombre entier d'heures entre {low} et "
            f"{high} (reçu : {raw[:20]!r})."
        )
    return int(raw)


# Loopback addresses where an issuer may use plain HTTP: the test suite's OpenID Connect provider.
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _psc_settings(env: dict[str, str]) -> dict:
    """Pro Santé Connect (auth/psc.py) and which roles may still sign in with a password.

    PSC is on when ``RCP_PSC_ISSUER`` is set; its client id and secret are then required.
    Without PSC every role must keep the password (or its accounts could not sign in at all).
    """
    issuer = (env.get("RCP_PSC_ISSUER") or "").strip().rstrip("/")
    client_id = (env.get("RCP_PSC_CLIENT_ID") or "").strip()
    secret = env.get("RCP_PSC_CLIENT_SECRET") or ""
    secret_file = env.get("RCP_PSC_CLIENT_SECRET_FILE")
    if secret_file:
        try:
            secret = Path(secret_file).read_text().strip()
        except OSError as error:
            raise ConfigurationError(
                f"RCP_PSC_CLIENT_SECRET_FILE illisible ({secret_file}) : {error.strerror}."
            ) from error
    scopes = (env.get("RCP_PSC_SCOPES") or "openid scope_all").split()
    contact = " ".join((env.get("RCP_PSC_ACCESS_CONTACT") or "").split())
    if issuer:
        _check_issuer(issuer)
        missing = [
            name
            for name, value in (("RCP_PSC_CLIENT_ID", client_id), ("RCP_PSC_CLIENT_SECRET", secret))
            if not value
        ]
        if missing:
            raise ConfigurationError(
                "Pro Santé Connect est activé (RCP_PSC_ISSUER) mais il manque : "
                + ", ".join(missing)
                + " (ou RCP_PSC_CLIENT_SECRET_FILE)."
            )
        if "openid" not in scopes:
            raise ConfigurationError(
                "RCP_PSC_SCOPES doit contenir « openid » (sinon aucun jeton d'identité n'est émis)."
            )
    if len(contact) > 300:
        raise ConfigurationError("RCP_PSC_ACCESS_CONTACT est trop long (300 caractères au plus).")
    return {
        "RCP_PSC_ISSUER": issuer or None,
        "RCP_PSC_CLIENT_ID": client_id or None,
        "RCP_PSC_CLIENT_SECRET": secret or None,
        "RCP_PSC_SCOPES": " ".join(scopes),
        # PSC asks for this authentication level (CPS card or e-CPS) in the authorisation request.
        "RCP_PSC_ACR_VALUES": (env.get("RCP_PSC_ACR_VALUES") or "eidas1").strip(),
        "RCP_PSC_ACCESS_CONTACT": contact
        or "l'administrateur de l'application ou le secrétariat de votre RCP",
        "RCP_PASSWORD_LOGIN_ROLES": _password_login_roles(env, psc_enabled=bool(issuer)),
    }


def _check_issuer(issuer: str) -> None:
    parts = urlsplit(issuer)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
    if not parts.hostname or (parts.scheme != "https" and not loopback) or parts.query:
        raise ConfigurationError(
            "RCP_PSC_ISSUER doit être une adresse https (par exemple "
            "https://auth.esante.gouv.fr/auth/realms/esante-wallet), sans paramètres."
        )


def _password_login_roles(env: dict[str, str], psc_enabled: bool) -> frozenset[str]:
    raw = env.get("RCP_PASSWORD_LOGIN_ROLES")
    roles = set(ROLES) if raw is None else {r.strip() for r in raw.split(",") if r.strip()}
    unknown = roles - set(ROLES)
    if unknown:
        raise ConfigurationError(
            "RCP_PASSWORD_LOGIN_ROLES contient des rôles inconnus : "
            f"{', '.join(sorted(unknown))} (rôles possibles : {', '.join(ROLES)})."
        )
    if not psc_enabled and roles != set(ROLES):
        raise ConfigurationError(
            "RCP_PASSWORD_LOGIN_ROLES retire le mot de passe à certains rôles alors que "
            "Pro Santé Connect n'est pas configuré (RCP_PSC_ISSUER) : ces comptes ne pourraient "
            "plus se connecter."
        )
    return frozenset(roles)


def _audit_settings(env: dict[str, str], instance: Path, production: bool) -> dict:
    """The audit chain's HMAC key (kept outside the database, like the seal) and the folder
    where sealed checkpoints of the chain head are written (backed up separately)."""
    key = env.get("RCP_AUDIT_KEY")
    key_file = env.get("RCP_AUDIT_KEY_FILE")
    if key_file:
        key = Path(key_file).read_text().strip()
    if not key:
        if production:
            raise ConfigurationError(
                "RCP_AUDIT_KEY_FILE (ou RCP_AUDIT_KEY) est obligatoire quand RCP_ENV=production."
            )
        key = _load_or_create_secret(instance, "audit_key")
    return {
        "RCP_AUDIT_KEY": key,
        "RCP_AUDIT_CHECKPOINT_DIR": env.get("RCP_AUDIT_CHECKPOINT_DIR")
        or str(instance / "audit-checkpoints"),
        # The delivery worker seals a checkpoint of the chain head this often (0: never).
        "RCP_AUDIT_CHECKPOINT_MINUTES": int(env.get("RCP_AUDIT_CHECKPOINT_MINUTES", "60")),
    }


def _fiche_settings(env: dict[str, str], instance: Path, production: bool) -> dict:
    """Signed fiches: the seal, the trusted CAs, identifiers and the public verification URL.

    Outside production, a missing seal means the test PKI that ``flask rcp setup`` generates
    under ``instance/pki-test/`` (named as test material); production names its own.
    """
    test_pki = instance / "pki-test"
    seal = env.get("RCP_SEAL_P12")
    if production:
        missing = [
            name
            for name in ("RCP_SEAL_P12", "RCP_TRUST_ROOTS", "RCP_OID_ROOT", "RCP_PUBLIC_URL")
            if not env.get(name)
        ]
        if missing:
            raise ConfigurationError(
                "Réglages obligatoires en production pour signer les fiches : "
                + ", ".join(missing)
                + "."
            )
    passphrase = env.get("RCP_SEAL_PASSPHRASE")
    passphrase_file = env.get("RCP_SEAL_PASSPHRASE_FILE")
    if not seal:
        seal = str(test_pki / "test-seal.p12")
        passphrase_file = passphrase_file or str(test_pki / "test-seal.passphrase")
    trust_roots = env.get("RCP_TRUST_ROOTS") or str(test_pki / "test-ca.pem")
    return {
        "RCP_SEAL_P12": seal,
        "RCP_SEAL_PASSPHRASE": passphrase,
        "RCP_SEAL_PASSPHRASE_FILE": passphrase_file,
        "RCP_TEST_PKI_DIR": None if env.get("RCP_SEAL_P12") else str(test_pki),
        "RCP_TSA_URL": env.get("RCP_TSA_URL") or None,
        "RCP_TRUST_ROOTS": [p.strip() for p in trust_roots.split(",") if p.strip()],
        # Demo arc; an organisation sets its own registered OID in production.
        "RCP_OID_ROOT": env.get("RCP_OID_ROOT", "1.2.250.1.999.42"),
        "RCP_PUBLIC_URL": env.get("RCP_PUBLIC_URL", "http://127.0.0.1:5000"),
        # Public verification page: attempts allowed per client address and per hour.
        "RCP_VERIFY_MAX_PER_HOUR": int(env.get("RCP_VERIFY_MAX_PER_HOUR", "30")),
        # A sealed fiche is a few hundred kilobytes: larger uploads are refused unread.
        "RCP_VERIFY_MAX_BYTES": int(env.get("RCP_VERIFY_MAX_BYTES", str(5 * 1024 * 1024))),
        # CPU seconds one verification may use (it runs in a child process).
        "RCP_VERIFY_CPU_SECONDS": int(env.get("RCP_VERIFY_CPU_SECONDS", "10")),
        **_delivery_settings(env, instance),
    }


def _delivery_settings(env: dict[str, str], instance: Path) -> dict:
    """Outbox, SMTP relay (MSSanté operator), read receipts, the optional DMP channel."""
    return {
        "RCP_MSSANTE_SENDER": env.get("RCP_MSSANTE_SENDER", "rcp@rcp-demo.mssante.fr"),
        "RCP_MSSANTE_NIL": env.get("RCP_MSSANTE_NIL") or None,
        "RCP_SMTP_HOST": env.get("RCP_SMTP_HOST", "127.0.0.1"),
        "RCP_SMTP_PORT": int(env.get("RCP_SMTP_PORT", "8025")),
        "RCP_SMTP_SECURITY": env.get("RCP_SMTP_SECURITY", "none"),
        "RCP_SMTP_USERNAME": env.get("RCP_SMTP_USERNAME") or None,
        "RCP_SMTP_PASSWORD": env.get("RCP_SMTP_PASSWORD") or None,
        "RCP_SMTP_TIMEOUT": int(env.get("RCP_SMTP_TIMEOUT", "30")),
        "RCP_DELIVERY_MAX_ATTEMPTS": int(env.get("RCP_DELIVERY_MAX_ATTEMPTS", "8")),
        "RCP_DELIVERY_BACKOFF_SECONDS": int(env.get("RCP_DELIVERY_BACKOFF_SECONDS", "60")),
        # A transmission claimed longer ago than this by a worker that died is sent again.
        "RCP_DELIVERY_LEASE_SECONDS": int(env.get("RCP_DELIVERY_LEASE_SECONDS", "300")),
        "RCP_MDN_DIR": env.get("RCP_MDN_DIR") or str(instance / "mdn"),
        "RCP_MAILBOX_DIR": env.get("RCP_MAILBOX_DIR") or str(instance / "mailbox"),
        "RCP_DELIVER_TO_DMP": _bool(env.get("RCP_DELIVER_TO_DMP"), False),
        "RCP_DMP_ADDRESS": env.get("RCP_DMP_ADDRESS") or None,
    }
