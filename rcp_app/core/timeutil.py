"""Times are stored as naive UTC and shown in Europe/Paris, French style."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def to_paris(value: datetime) -> datetime:
    """Naive values are UTC (how they are stored); aware ones keep their own offset."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(PARIS)


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_paris(value)
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = to_paris(value)
    return f"{local:%d/%m/%Y} à {local:%H}h{local:%M}"


def format_time(value: datetime | None) -> str:
    if value is None:
        return ""
    local = to_paris(value)
    return f"{local:%H}h{local:%M}"
