"""TOTP (RFC 6238) two-factor authentication helpers."""

from __future__ import annotations

import base64
import re
import time

import pyotp
import segno


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def qr_data_uri(uri: str) -> str:
    """An SVG QR code as a data: URI (allowed by the CSP's img-src, no inline script)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#111", light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def matching_step(
    secret: str, code: str, last_step: int | None, at: float | None = None
) -> int | None:
    """The time-step the code belongs to (now ±1 step), or None.

    A step at or before ``last_step`` is refused, so an observed code cannot be replayed.
    """
    code = (code or "").replace(" ", "")
    if not re.fullmatch(r"[0-9]{6}", code):  # ASCII only: « ٣ » would reach compare_digest
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if at is None else at
    current = int(now // totp.interval)
    for step in (current, current - 1, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            return step
    return None
