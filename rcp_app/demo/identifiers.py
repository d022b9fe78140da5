"""Plausible national identifiers for the demo: Luhn keys, RPPS, FINESS, MSSanté addresses."""

from __future__ import annotations

import random
import re

from ..core.text import search_key


def luhn_key(body: str) -> str:
    """The digit that makes ``body + key`` pass the Luhn check (RPPS, FINESS)."""
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char)
        if index % 2 == 0:  # doubled: the key will sit to its right
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_key(number[:-1]) == number[-1]


def with_luhn_key(body: str) -> str:
    return body + luhn_key(body)


def rpps_numbers(rng: random.Random, count: int) -> list[str]:
    """Distinct 11-digit RPPS numbers ('10' + 8 digits + Luhn key), as physicians have."""
    bodies = rng.sample(range(10**8), count)
    return [with_luhn_key(f"10{body:08d}") for body in bodies]


def mail_local_part(first_name: str, last_name: str) -> str:
    """'Marie-José', "N'Diaye" -> 'marie-jose.ndiaye' (no accents, no apostrophes)."""

    def clean(value: str) -> str:
        value = search_key(value).lower().replace("'", "")
        return re.sub(r"[^a-z0-9]+", "-", value).strip("-")

    return f"{clean(first_name)}.{clean(last_name)}"
