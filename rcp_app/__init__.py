"""RCP application factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import build_config
from .extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    overrides = dict(overrides or {})
    env = overrides.pop("ENV_VARS", None)
    app.config.update(build_config(app.instance_path, env))
    app.config.update(overrides)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    proxies = int(app.config.get("RCP_TRUSTED_PROXIES", 0) or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    from .core.uploads import register_body_limits

    register_body_limits(app)  # first: the CSRF check reads the body
    csrf.init_app(app)
    login_manager.init_app(app)

    from . import models  # noqa: F401  (registers every table on the metadata)
    from .cli import register_cli
    from .core import errors, security, templating
    from .core.converters import register_converters
    from .decisions import operations as _decisions  # noqa: F401  (signal receivers: core/signals.py)
    from .delivery import subscriptions  # noqa: F401  (signal receivers: core/signals.py)
    from .followups import subscriptions as _followups  # noqa: F401  (signal receivers)
    from .meetings import operations as _meetings  # noqa: F401  (signal receivers: core/signals.py)

    register_converters(app)  # before any route: ``<int:…>`` ids are ASCII and bounded

    errors.register_error_handlers(app)
    security.register_security_headers(app)
    templating.register_template_helpers(app)
    from .cases import display

    display.register_template_helpers(app)  # TNM and biomarkers, written alike everywhere
    from .access.guards import register_template_helpers as register_access_helpers

    register_access_helpers(app)  # can(), may(): the access rules, in templates too
    register_cli(app)

    from .admin.views import bp as admin_bp
    from .agenda.views import bp as meetings_bp  # the session pages (rcp_app/agenda)
    from .api.admin_views import bp as api_admin_bp
    from .api.views import bp as api_bp
    from .api.views import init_api
    from .attendance.views import bp as attendance_bp
    from .auth.session import register_session_hooks
    from .auth.views import bp as auth_bp
    from .cases.views import bp as cases_bp
    from .decisions.views import bp as decisions_bp
    from .delivery.views import bp as delivery_bp
    from .directory.views import bp as directory_bp
    from .fhir.views import bp as fhir_bp
    from .fiches.views import bp as fiches_bp
    from .followups.views import bp as followups_bp
    from .main.views import bp as main_bp
    from .patients.views import bp as patients_bp
    from .pps.views import bp as pps_bp
    from .privacy.exceptional import bp as exceptional_access_bp
    from .privacy.views import bp as privacy_bp
    from .reports.views import bp as reports_bp
    from .staging.views import bp as staging_bp
    from .terminology.views import bp as terminology_bp

    init_api(app)  # before the blueprint is registered: its resources join it
    register_session_hooks(app)
    for blueprint in (
        main_bp,
        auth_bp,
        admin_bp,
        directory_bp,
        patients_bp,
        terminology_bp,
        staging_bp,
        cases_bp,
        attendance_bp,
        meetings_bp,
        decisions_bp,
        fiches_bp,
        fhir_bp,
        pps_bp,
        delivery_bp,
        followups_bp,
        exceptional_access_bp,
        privacy_bp,
        reports_bp,
        api_bp,
        api_admin_bp,
    ):
        app.register_blueprint(blueprint)
    from .core.resilience import register_resilience

    register_resilience(app)  # last: wraps every registered view
    return app
