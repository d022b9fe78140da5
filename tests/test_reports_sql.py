"""The SQL pieces the indicators share, on the test database (SQLite or PostgreSQL): they must
agree with Python's own computations (statistics, zoneinfo) on both."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, DateTime, Float, Integer, MetaData, Table, insert, literal, select

from rcp_app.core.timeutil import PARIS
from rcp_app.extensions import db
from rcp_app.reports.period import Period
from rcp_app.reports.sql import days_between, month_bucket, paris_date, percentiles

VALUES = Table(
    "test_report_values",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("g", Integer),
    Column("v", Float),
)


@pytest.fixture
def values_table(app):
    with app.app_context():
        VALUES.create(db.engine, checkfirst=True)
        try:
            yield
        finally:
            VALUES.drop(db.engine)


def _expected(data):
    if len(data) == 1:
        return data[0], data[0]
    median = statistics.median(data)
    p90 = statistics.quantiles(data, n=10, method="inclusive")[8]
    return median, p90


@given(
    st.lists(
        # Delays and durations as stored: hundredths of a day or minute (a subnormal float would
        # underflow in PostgreSQL's float arithmetic; no delay is ever 1e-310 days).
        st.lists(
            st.integers(min_value=-100_000, max_value=100_000).map(lambda x: x / 100),
            min_size=1,
            max_size=25,
        ),
        min_size=1,
        max_size=4,
    )
)
# Each example empties the table first: the function-scoped fixtures are safe to share.
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_percentiles_agree_with_linear_interpolation(app, values_table, groups):
    with app.app_context():
        db.session.execute(VALUES.delete())
        rows = [{"g": g, "v": v} for g, data in enumerate(groups) for v in data]
        db.session.execute(insert(VALUES), rows + [{"g": 0, "v": None}])
        found = {
            row.g: row
            for row in db.session.execute(percentiles(select(VALUES.c.v, VALUES.c.g), group=True))
        }
        db.session.rollback()
    for g, data in enumerate(groups):
        median, p90 = _expected(sorted(data))
        assert found[g].n == len(data)
        assert found[g].median == pytest.approx(median, abs=1e-6)
        assert found[g].p90 == pytest.approx(p90, abs=1e-6)


INSTANTS = [
    datetime(2025, 3, 30, 0, 59),  # 01:59 Paris, winter time
    datetime(2025, 3, 30, 1, 0),  # 03:00 Paris, summer time
    datetime(2025, 10, 26, 0, 59),  # 02:59 Paris, still summer time
    datetime(2025, 10, 26, 1, 0),  # 02:00 Paris, winter time again
    datetime(2024, 12, 31, 23, 0),  # midnight, 1 January in Paris
    datetime(2024, 12, 31, 22, 59),
    datetime(2025, 6, 30, 22, 0),
    datetime(2025, 6, 30, 21, 59, 59),
]


@pytest.mark.parametrize("instant", INSTANTS)
def test_paris_date_follows_the_time_zone(app, instant):
    with app.app_context():
        found = db.session.scalar(select(paris_date(literal(instant, DateTime))))
    expected = instant.replace(tzinfo=UTC).astimezone(PARIS).date()
    assert str(found) == str(expected)


def test_days_between_timestamps_and_dates(app):
    with app.app_context():
        assert db.session.scalar(
            select(days_between(literal(datetime(2025, 3, 2, 12)), literal(datetime(2025, 3, 1))))
        ) == pytest.approx(1.5)
        assert db.session.scalar(
            select(
                days_between(
                    paris_date(literal(datetime(2025, 3, 10, 13))), literal(date(2025, 3, 1))
                )
            )
        ) == pytest.approx(9)


def test_month_bucket_is_the_paris_month(app):
    period = Period.year(2025)
    cases = {
        datetime(2024, 12, 31, 23, 30): "01/2025",  # 00:30 on 1 January in Paris
        datetime(2025, 1, 31, 22, 59): "01/2025",
        datetime(2025, 1, 31, 23, 0): "02/2025",
        datetime(2025, 12, 31, 22, 59): "12/2025",
        datetime(2025, 12, 31, 23, 0): None,  # 2026 in Paris: outside the period
        datetime(2024, 12, 31, 22, 59): None,
    }
    with app.app_context():
        for instant, expected in cases.items():
            found = db.session.scalar(select(month_bucket(literal(instant, DateTime), period)))
            assert found == expected, instant
