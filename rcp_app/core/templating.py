"""Jinja filters and globals: French dates, navigation by role, status badges."""

from __future__ import annotations

from flask import Flask, has_request_context
from flask_login import current_user

from . import timeutil
from .forms import page_problems, slow_action
from .links import safe_link

# (endpoint, label, roles) — the navigation bar shows only what the role may open.
NAVIGATION = [
    ("main.home", "Accueil", {"admin", "coordinator", "physician", "gp"}),
    ("patients.index", "Patients", {"coordinator", "physician"}),
    ("cases.index", "Dossiers RCP", {"coordinator", "physician"}),
    ("meetings.index", "Séances", {"coordinator", "physician"}),
    ("followups.index", "Suivis", {"coordinator", "physician"}),
    ("delivery.dashboard", "Diffusion", {"coordinator"}),
    ("reports.page", "Statistiques", {"coordinator", "physician"}),
    ("delivery.gp_inbox", "Fiches RCP de mes patients", {"gp"}),
    ("directory.rcps", "Annuaire des RCP", {"admin", "coordinator", "physician"}),
    ("directory.professionals", "Professionnels", {"admin", "coordinator"}),
    ("directory.establishments", "Établissements", {"admin"}),
    ("admin.users", "Utilisateurs", {"admin"}),
    ("terminology.index", "Terminologies", {"admin"}),
    ("admin.audit_log", "Journal d'audit", {"admin"}),
]


def number_fr(value) -> str:
    """12 345 ; 3,5 ; 3 (a whole float loses its « ,0 »): French digits for the statistics."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        text = f"{value:,.1f}"
    else:
        text = f"{int(value):,}"
    # Thousands: a narrow no-break space, as French typography (and the CSV readers) expect.
    return text.replace(",", "\u202f").replace(".", ",")


def navigation_for(user) -> list[tuple[str, str]]:
    if user is None or not user.is_authenticated:
        return []
    return [(endpoint, label) for endpoint, label, roles in NAVIGATION if user.role in roles]


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["date_fr"] = timeutil.format_date
    app.jinja_env.filters["datetime_fr"] = timeutil.format_datetime
    app.jinja_env.filters["time_fr"] = timeutil.format_time
    app.jinja_env.filters["nombre_fr"] = number_fr
    # Stored links are shown only if they satisfy the link rule (older rows may not).
    app.jinja_env.filters["safe_link"] = safe_link
    # The error summary at the top of every page (base.html) lists these.
    app.jinja_env.globals["page_problems"] = page_problems
    # Forms and links leading to a slow endpoint (PDF rendering, signing): core/forms.py.
    app.jinja_env.globals["slow_action"] = slow_action

    @app.context_processor
    def _globals():
        # Outside a request (the delivery worker renders the agenda PDF) there is no user.
        user = current_user if has_request_context() else None
        return {"navigation": navigation_for(user), "rcp_env": app.config["RCP_ENV"]}
