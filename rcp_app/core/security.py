"""Security headers on every response; URLs carrying NUL characters are refused."""

from flask import Flask, abort, request

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _has_nul(multidict) -> bool:
    return any(
        "\x00" in value
        for _key, values in multidict.lists()
        for value in values
        if isinstance(value, str)
    )


def register_security_headers(app: Flask) -> None:
    @app.before_request
    def _refuse_nul_characters():
        # No legitimate URL holds a NUL character, and PostgreSQL refuses them in text (a 500
        # otherwise): answer 400 before any view sees one in the path or the query string.
        # Submitted fields (forms, JSON) are not refused here: they go through the input rule
        # of core/text.py, which gives the form back with a French message next to the field.
        if "\x00" in request.path or _has_nul(request.args):
            abort(400)

    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if app.config.get("RCP_HSTS"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            # Pages, documents (fiche PDF and CDA, agendas, .ics, attachments, mailbox
            # messages) and JSON may all carry patient data: nothing but the static files is
            # kept in a cache, a proxy or the browser history. A rule by exception, so that a
            # new route cannot forget it.
            headers["Cache-Control"] = "no-store"
        return response
