"""Security headers on every response; requests carrying NUL characters are refused."""

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
        # No legitimate input holds a NUL character, and PostgreSQL refuses them in text
        # (a 500 otherwise): answer 400 before any view sees one.
        if (
            "\x00" in request.path
            or _has_nul(request.args)
            or (request.method == "POST" and _has_nul(request.form))
        ):
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
        if response.mimetype == "text/html":
            # Pages may show patient data: never keep them in shared caches or history.
            headers["Cache-Control"] = "no-store"
        return response
