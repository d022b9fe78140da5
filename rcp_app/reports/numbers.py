"""How the indicators round: a share in percent with one decimal, None when there is nothing
to divide by (shown « — », never a division by zero)."""

from __future__ import annotations


def rate(part, whole) -> float | None:
    if not whole:
        return None
    return round(100.0 * (part or 0) / whole, 1)


def rounded(value, digits: int = 1):
    return None if value is None else round(float(value), digits)
