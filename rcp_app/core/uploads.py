"""How large a request body each route accepts, enforced before anything reads it.

Every route gets ``RCP_MAX_FORM_BYTES`` (forms and JSON are small); a route that takes a file
declares its own limit with ``@accepts_upload("RCP_…_BYTES")``. The limit is set on the request
before any other hook (the CSRF check reads the form), so Werkzeug refuses an oversized body
(HTTP 413) from its Content-Length, or as soon as a chunked body passes the limit — never
after reading it.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request

# Room for the multipart envelope and the other fields around the file.
_ENVELOPE_BYTES = 64 * 1024


def accepts_upload(setting: str) -> Callable:
    def mark(view: Callable) -> Callable:
        view.rcp_upload_setting = setting
        return view

    return mark


def body_limit(app: Flask, endpoint: str | None) -> int:
    view = app.view_functions.get(endpoint) if endpoint else None
    setting = getattr(view, "rcp_upload_setting", None)
    if setting is None:
        return app.config["RCP_MAX_FORM_BYTES"]
    return app.config[setting] + _ENVELOPE_BYTES


def register_body_limits(app: Flask) -> None:
    """Call before ``csrf.init_app``: before_request hooks run in registration order."""

    @app.before_request
    def _limit_body():
        request.max_content_length = body_limit(app, request.endpoint)
