"""SQL pieces the indicators need that SQLite and PostgreSQL spell differently, written once.

- ``days_between(later, earlier)``: a duration in days (fractional) between two timestamps or
  dates.
- ``percentiles(values, group)``: medians and 90th percentiles computed by the database with
  window functions, the same interpolation as PostgreSQL's ``percentile_cont`` (SQLite has no
  percentile function, and loading every value into Python to sort it is what the indicators
  must not do).
- ``month_bucket(column, period)``: the Paris month of a UTC timestamp, as « 01/2025 », from
  the period's month bounds (no time-zone arithmetic in SQL).
"""

from __future__ import annotations

from sqlalchemy import Float, case, cast, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .period import Period


class days_between(FunctionElement):  # noqa: N801 - used like a SQL function
    """(later - earlier) in days, fractional; NULL when either side is NULL."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)}))"
    )


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM (CAST({compiler.process(later, **kw)} AS TIMESTAMP) - "
        f"CAST({compiler.process(earlier, **kw)} AS TIMESTAMP))) / 86400.0)"
    )


def month_bucket(column, period: Period):
    """« MM/YYYY » of the Paris month ``column`` (naive UTC) falls in; NULL outside the period."""
    return case(
        *(
            (column.between(start, end) & (column < end), label)
            for label, start, end in period.months()
        ),
        else_=None,
    )


# p as an integer fraction: integer arithmetic truncates the same way in both databases.
FRACTIONS = {"median": (1, 2), "p90": (9, 10)}


def percentiles(values, group=None):
    """A SELECT of (group, n, median, p90) over ``values``, a selectable with a column ``v``
    (and a column ``g`` when ``group`` is true); rows with a NULL value are left out.

    Linear interpolation between the two closest ranks, as ``percentile_cont``: rank
    h = (n - 1) × p (0-based), value = v[⌊h⌋] + (h - ⌊h⌋) × (v[⌊h⌋ + 1] - v[⌊h⌋]).
    """
    source = values.subquery("pv")
    partition = [source.c.g] if group else []
    ranked = (
        select(
            *([source.c.g] if group else []),
            source.c.v,
            func.row_number().over(partition_by=partition or None, order_by=source.c.v).label("rn"),
            func.count().over(partition_by=partition or None).label("n"),
        )
        .where(source.c.v.is_not(None))
        .subquery("ranked")
    )
    columns = []
    for name, (num, den) in FRACTIONS.items():
        scaled = (ranked.c.n - 1) * num
        low = scaled // den + 1  # 1-based rank of the lower neighbour (integer division)
        rest = cast(scaled % den, Float) / den
        columns.append(
            func.sum(
                case(
                    (ranked.c.rn == low, ranked.c.v * (1 - rest)),
                    (ranked.c.rn == low + 1, ranked.c.v * rest),
                    else_=0.0,
                )
            ).label(name)
        )
    return select(
        *([ranked.c.g] if group else [literal(None).label("g")]),
        func.max(ranked.c.n).label("n"),
        *columns,
    ).group_by(*([ranked.c.g] if group else []))


class paris_date(FunctionElement):  # noqa: N801 - used like a SQL function
    """The calendar day in Paris of a naive UTC timestamp (a session at 00:30 in Paris on
    1 January is on 1 January, although still 31 December in UTC)."""

    inherit_cache = True
    name = "paris_date"


@compiles(paris_date, "postgresql")
def _paris_date_postgresql(element, compiler, **kw):
    (value,) = list(element.clauses)
    return (
        f"CAST((CAST({compiler.process(value, **kw)} AS TIMESTAMP) AT TIME ZONE 'UTC') "
        "AT TIME ZONE 'Europe/Paris' AS DATE)"
    )


@compiles(paris_date, "sqlite")
def _paris_date_sqlite(element, compiler, **kw):
    # SQLite knows no time zone but the server's: the European rule, written out. Summer time
    # runs from the last Sunday of March to the last Sunday of October, both at 01:00 UTC.
    value = compiler.process(value_of(element), **kw)
    year = f"strftime('%Y', {value})"
    start = f"datetime(date({year} || '-03-25', 'weekday 0'), '+1 hour')"
    end = f"datetime(date({year} || '-10-25', 'weekday 0'), '+1 hour')"
    return (
        f"date({value}, CASE WHEN {value} >= {start} AND {value} < {end} "
        "THEN '+2 hours' ELSE '+1 hour' END)"
    )


def value_of(element):
    (value,) = list(element.clauses)
    return value
