"""The period of a statistic: parsing, the previous period, Paris-midnight bounds, months."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rcp_app.reports.period import MAX_DAYS, Period, from_args

TODAY = date(2026, 12, 4)


def test_kinds_labels_and_previous_periods():
    assert Period.month(2025, 1).label == "janvier 2025"
    assert Period.month(2025, 1).previous() == Period.month(2024, 12)
    assert Period.quarter(2025, 1).label == "1e trimestre 2025"
    assert Period.quarter(2025, 1).previous() == Period.quarter(2024, 4)
    assert Period.quarter(2025, 4).end == date(2025, 12, 31)
    assert Period.year(2025).previous() == Period.year(2024)
    custom = Period.custom(date(2025, 3, 15), date(2025, 4, 2))
    assert custom.label == "du 15/03/2025 au 02/04/2025"
    before = custom.previous()
    assert before.end == date(2025, 3, 14) and before.days == custom.days == 19


def test_bounds_are_midnight_in_paris():
    # Winter: UTC+1; summer: UTC+2 (the last day of June ends at 22:00 UTC).
    assert Period.year(2025).utc_bounds() == (
        datetime(2024, 12, 31, 23),
        datetime(2025, 12, 31, 23),
    )
    assert Period.month(2025, 6).utc_bounds() == (
        datetime(2025, 5, 31, 22),
        datetime(2025, 6, 30, 22),
    )


def test_months_cover_the_period_without_gap_or_overlap():
    period = Period.custom(date(2024, 11, 15), date(2025, 2, 10))
    months = period.months()
    assert [label for label, *_ in months] == ["11/2024", "12/2024", "01/2025", "02/2025"]
    start, end = period.utc_bounds()
    assert months[0][1] == start and months[-1][2] == end
    for (_, _, previous_end), (_, next_start, _) in zip(months, months[1:], strict=False):
        assert previous_end == next_start


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=800),
)
@settings(max_examples=60, deadline=None)
def test_previous_period_ends_the_day_before_and_months_tile(start, length):
    period = Period.custom(start, date.fromordinal(start.toordinal() + length))
    assert period.previous().end.toordinal() == period.start.toordinal() - 1
    months = period.months()
    assert months[0][1] == period.utc_bounds()[0] and months[-1][2] == period.utc_bounds()[1]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({}, Period.year(2026)),
        ({"periode": "mois", "annee": "2025", "mois": "2"}, Period.month(2025, 2)),
        ({"periode": "trimestre", "annee": "2025", "trimestre": "3"}, Period.quarter(2025, 3)),
        ({"periode": "annee", "annee": "2024"}, Period.year(2024)),
        (
            {"periode": "personnalisee", "du": "01/02/2025", "au": "2025-02-28"},
            Period.custom(date(2025, 2, 1), date(2025, 2, 28)),
        ),
    ],
)
def test_from_args(args, expected):
    assert from_args(args, now=TODAY) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"periode": "semaine"}, "Type de période inconnu"),
        ({"periode": "mois", "mois": "13"}, "Mois invalide"),
        ({"periode": "mois", "mois": "١"}, "Mois invalide"),
        ({"periode": "trimestre", "trimestre": "0"}, "Trimestre invalide"),
        ({"annee": "1999"}, "Année invalide"),
        ({"annee": "2028"}, "Année invalide"),
        ({"annee": "20255"}, "Année invalide"),
        ({"periode": "personnalisee", "du": "01/02/2025"}, "Indiquez la date"),
        ({"periode": "personnalisee", "du": "31/02/2025", "au": "01/03/2025"}, "date"),
        ({"periode": "personnalisee", "du": "02/02/2025", "au": "01/02/2025"}, "précède"),
        ({"periode": "personnalisee", "du": "01/01/2000", "au": "01/01/2020"}, "dix ans"),
    ],
)
def test_bad_arguments_are_refused_in_french(args, message):
    with pytest.raises(ValueError, match=message):
        from_args(args, now=TODAY)


def test_a_ten_year_custom_period_is_the_limit():
    Period.custom(date(2015, 1, 1), date.fromordinal(date(2015, 1, 1).toordinal() + MAX_DAYS - 1))
