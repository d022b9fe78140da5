"""The one date parser (rcp_app/core/dates.py): what is a date, what is refused and why."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from rcp_app.core.dates import parse_date, today

TOMORROW = today() + timedelta(days=1)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("31/01/2026", date(2026, 1, 31)),
        ("1/2/2026", date(2026, 2, 1)),  # one-digit day and month
        ("2026-01-31", date(2026, 1, 31)),  # <input type="date">
        ("  29/02/2024 ", date(2024, 2, 29)),  # spaces around, a leap day
        ("01/01/1900", date(1900, 1, 1)),  # the earliest
        ("31/12/2999", date(2999, 12, 31)),  # the latest
        ("", None),
        ("   ", None),
        (None, None),
        (date(2020, 5, 4), date(2020, 5, 4)),
        (datetime(2020, 5, 4, 13, 30), date(2020, 5, 4)),
    ],
)
def test_accepted(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("31/02/2026", "Date invalide « 31/02/2026 » : saisissez une date existante au format"),
        ("29/02/2025", "Date invalide « 29/02/2025 »"),
        ("2026-13-01", "Date invalide « 2026-13-01 »"),
        ("1/1/26", "Date invalide « 1/1/26 »"),  # a two-digit year
        ("2026-1-5", "Date invalide « 2026-1-5 »"),  # ISO has two-digit months and days
        ("31.01.2026", "Date invalide « 31.01.2026 »"),
        ("31/01/2026 10:00", "Date invalide"),
        ("demain", "Date invalide « demain »"),
        ("٣١/٠١/٢٠٢٦", "Date invalide"),  # digits, but not ASCII ones
        ("３１/０１/２０２６", "Date invalide"),  # full-width digits
        ("+1/01/2026", "Date invalide"),
        ("00/01/2026", "Date invalide"),
        ("31/12/1899", "Date invalide « 31/12/1899 » : elle est antérieure au 01/01/1900."),
        ("01/01/0001", "antérieure au 01/01/1900"),
        ("01/01/3000", "Date invalide « 01/01/3000 » : elle est postérieure au 31/12/2999."),
        ("31/12/9999", "postérieure au 31/12/2999"),
    ],
)
def test_refused(raw, message):
    with pytest.raises(ValueError, match="jj/mm/aaaa|antérieure|postérieure") as refused:
        parse_date(raw)
    assert message in str(refused.value)


def test_a_label_names_the_field():
    with pytest.raises(ValueError) as refused:
        parse_date("32/01/2026", "La date du diagnostic")
    assert str(refused.value) == (
        "La date du diagnostic : « 32/01/2026 » n'est pas une date valide ; saisissez une date "
        "existante au format jj/mm/aaaa."
    )


@pytest.mark.parametrize("raw", [TOMORROW.isoformat(), f"{TOMORROW:%d/%m/%Y}", TOMORROW])
def test_past_refuses_tomorrow_and_only_when_asked(raw):
    assert parse_date(raw) == TOMORROW
    with pytest.raises(ValueError) as refused:
        parse_date(raw, "La date de naissance", past=True)
    assert str(refused.value) == (
        f"La date de naissance ({TOMORROW:%d/%m/%Y}) ne peut pas être dans le futur."
    )
    assert parse_date(today(), past=True) == today()


def test_bounds_are_parameters():
    assert parse_date("01/01/1800", earliest=None) == date(1800, 1, 1)
    assert parse_date("01/01/5000", latest=None) == date(5000, 1, 1)
    with pytest.raises(ValueError, match="antérieure au 01/01/2020"):
        parse_date("31/12/2019", earliest=date(2020, 1, 1))
    with pytest.raises(ValueError, match="postérieure au 31/12/2030"):
        parse_date("2031-01-01", latest=date(2030, 12, 31))
