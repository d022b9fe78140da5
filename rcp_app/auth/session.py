"""Per-request identity: user loading, inactivity expiry, audit actor."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import select

from ..core.audit import Actor, set_actor
from ..core.converters import parse_id
from ..extensions import db, login_manager
from .models import User

login_manager.login_view = "auth.login"
login_manager.login_message = "Veuillez vous connecter pour accéder à cette page."
login_manager.login_message_category = "warning"
login_manager.session_protection = "strong"


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    user_id, _, session_token = token.partition(":")
    if parse_id(user_id) is None:
        return None
    user = db.session.scalar(select(User).where(User.id == parse_id(user_id)))
    if user is None or not user.active or user.session_token != session_token:
        return None
    return user


def client_ip() -> str | None:
    return request.remote_addr


def register_session_hooks(app: Flask) -> None:
    @app.before_request
    def _expire_idle_session():
        if request.endpoint == "static":
            return None
        now = datetime.now(UTC).timestamp()
        if current_user.is_authenticated:
            last_seen = session.get("last_seen")
            idle = app.config["RCP_SESSION_IDLE"].total_seconds()
            if last_seen is not None and now - last_seen > idle:
                logout_user()
                session.clear()
                flash(
                    f"Votre session a expiré après {int(idle // 60)} minutes d'inactivité. "
                    "Veuillez vous reconnecter.",
                    "warning",
                )
                # Come back to the page after logging in again (a POST cannot be replayed).
                target = request.full_path if request.method == "GET" else None
                return redirect(url_for("auth.login", next=target))
            session["last_seen"] = now
            session.permanent = True
            set_actor(Actor(current_user.id, current_user.username, client_ip()))
        else:
            set_actor(Actor(None, "anonyme", client_ip()))
        return None
