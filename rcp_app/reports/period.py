"""The period an indicator covers: a month, a quarter, a year or chosen dates (Paris days).

Sessions, fiches and transmissions are stored with naive UTC times; a period is a run of whole
days in Paris, so its bounds are midnight Paris time converted to UTC (a session at 00:30 on
1 January in Paris belongs to January even though it is still 31 December in UTC).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from ..core.dates import parse_date, today
from ..core.timeutil import PARIS

KINDS = {
    "mois": "Mois",
    "trimestre": "Trimestre",
    "annee": "Année",
    "personnalisee": "Dates choisies",
}
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
FIRST_YEAR = 2000
# A chosen period spans at most this many days (ten years): the monthly tables stay readable
# and the queries bounded.
MAX_DAYS = 3660


def paris_midnight_utc(day: date) -> datetime:
    """00:00 in Paris on ``day``, as the naive UTC time the database stores."""
    return datetime.combine(day, time(0), tzinfo=PARIS).astimezone(UTC).replace(tzinfo=None)


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


@dataclass(frozen=True)
class Period:
    kind: str  # a key of KINDS
    start: date  # first day, Paris
    end: date  # last day, inclusive, Paris

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls("mois", date(year, month, 1), _month_end(year, month))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        first = 3 * (quarter - 1) + 1
        return cls("trimestre", date(year, first, 1), _month_end(year, first + 2))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls("annee", date(year, 1, 1), date(year, 12, 31))

    @classmethod
    def custom(cls, start: date, end: date) -> Period:
        if end < start:
            raise ValueError("La date de fin précède la date de début.")
        if (end - start).days + 1 > MAX_DAYS:
            raise ValueError("La période choisie dépasse dix ans : raccourcissez-la.")
        return cls("personnalisee", start, end)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.kind == "mois":
            return f"{MONTHS[self.start.month - 1]} {self.start.year}"
        if self.kind == "trimestre":
            return f"{(self.start.month - 1) // 3 + 1}e trimestre {self.start.year}"
        if self.kind == "annee":
            return f"année {self.start.year}"
        return f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"

    def previous(self) -> Period:
        """The period just before, of the same kind and length (a month: the month before)."""
        if self.kind == "mois":
            day = self.start - timedelta(days=1)
            return Period.month(day.year, day.month)
        if self.kind == "trimestre":
            day = self.start - timedelta(days=1)
            return Period.quarter(day.year, (day.month - 1) // 3 + 1)
        if self.kind == "annee":
            return Period.year(self.start.year - 1)
        end = self.start - timedelta(days=1)
        return Period("personnalisee", end - timedelta(days=self.days - 1), end)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[start, end) in naive UTC: midnight Paris of the first day and of the day after."""
        return paris_midnight_utc(self.start), paris_midnight_utc(self.end + timedelta(days=1))

    def months(self) -> list[tuple[str, datetime, datetime]]:
        """Each calendar month the period touches: (« 01/2025 », UTC start, UTC end), clipped
        to the period."""
        result = []
        year, month = self.start.year, self.start.month
        while date(year, month, 1) <= self.end:
            first = max(date(year, month, 1), self.start)
            last = min(_month_end(year, month), self.end)
            result.append(
                (
                    f"{month:02d}/{year}",
                    paris_midnight_utc(first),
                    paris_midnight_utc(last + timedelta(days=1)),
                )
            )
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return result

    def as_args(self) -> dict[str, str]:
        """The query-string arguments that name this period (``from_args`` reads them back)."""
        if self.kind == "mois":
            return {"periode": "mois", "annee": str(self.start.year), "mois": str(self.start.month)}
        if self.kind == "trimestre":
            quarter = (self.start.month - 1) // 3 + 1
            return {
                "periode": "trimestre",
                "annee": str(self.start.year),
                "trimestre": str(quarter),
            }
        if self.kind == "annee":
            return {"periode": "annee", "annee": str(self.start.year)}
        return {
            "periode": "personnalisee",
            "du": self.start.isoformat(),
            "au": self.end.isoformat(),
        }


def _bounded_int(raw, label: str, low: int, high: int, default: int) -> int:
    text = str(raw or "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{label} invalide : un nombre de {low} à {high} est attendu.")
    return int(text)


def from_args(args, now: date | None = None) -> Period:
    """The period named by the query string; ValueError with a French message otherwise.

    Without arguments: the current year. ``periode`` = mois | trimestre | annee |
    personnalisee, with ``annee`` and ``mois`` (1-12) or ``trimestre`` (1-4), or ``du``/``au``
    (dd/mm/yyyy or yyyy-mm-dd).
    """
    current = now or today()
    kind = str(args.get("periode") or "annee").strip()
    if kind not in KINDS:
        raise ValueError("Type de période inconnu : mois, trimestre, année ou dates choisies.")
    if kind == "personnalisee":
        start = parse_date(args.get("du"), "La date de début")
        end = parse_date(args.get("au"), "La date de fin")
        if start is None or end is None:
            raise ValueError("Indiquez la date de début et la date de fin de la période.")
        return Period.custom(start, end)
    year = _bounded_int(args.get("annee"), "Année", FIRST_YEAR, current.year + 1, current.year)
    if kind == "annee":
        return Period.year(year)
    if kind == "trimestre":
        quarter = _bounded_int(
            args.get("trimestre"), "Trimestre", 1, 4, (current.month - 1) // 3 + 1
        )
        return Period.quarter(year, quarter)
    return Period.month(year, _bounded_int(args.get("mois"), "Mois", 1, 12, current.month))
