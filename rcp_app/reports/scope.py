"""Which RCPs a report counts: those the user may see (access.care_team.statistics_rcp_ids),
narrowed by the filters of the page or the command (establishment, RCP, appareil, nature).

The RCP ids are read first (a few dozen at most) and passed to the indicators as a literal list:
every aggregate then filters on ``rcp_id IN (…)``, which the database matches against its
indexes. The filters apply to the RCP (its establishment, its appareil, its nature): an organ
RCP's cases are counted with it even when a case names another organ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ..access.care_team import statistics_rcp_ids
from ..directory.models import Establishment, Rcp
from ..extensions import db
from ..terminology.builtin import APPAREIL
from ..terminology.models import Concept

NATURES = {
    "organ": "RCP d'organe",
    "transversal": "RCP transversale",
    "recours": "RCP de recours",
}
FILTER_ARGS = ("etablissement", "rcp", "appareil", "nature")


@dataclass(frozen=True)
class Scope:
    rcp_ids: tuple[int, ...]
    rcp_names: tuple[str, ...]
    filters: tuple[tuple[str, str], ...] = ()  # (label, value) in French, for the exports
    args: dict = field(default_factory=dict)  # the query-string arguments that name it


@dataclass(frozen=True)
class Choices:
    """What the filter form offers this user: only what they may see."""

    establishments: list[tuple[int, str]]
    rcps: list[tuple[int, str]]
    appareils: list[tuple[str, str]]


def visible_rcps(user) -> list[Rcp] | None:
    """The RCPs the user's reports may count; None when the user sees no statistics at all;
    ``user=None`` is the server's command line, which sees every RCP."""
    statement = select(Rcp).order_by(Rcp.name, Rcp.id)
    if user is not None:
        allowed = statistics_rcp_ids(user)
        if allowed is None:
            return None
        statement = statement.where(Rcp.id.in_(allowed))
    return list(db.session.scalars(statement))


def choices(rcps: list[Rcp]) -> Choices:
    establishment_ids = {rcp.establishment_id for rcp in rcps}
    establishments = db.session.execute(
        select(Establishment.id, Establishment.name)
        .where(Establishment.id.in_(establishment_ids))
        .order_by(Establishment.name)
    ).all()
    codes = {rcp.appareil_code for rcp in rcps if rcp.appareil_code}
    appareils = db.session.execute(
        select(Concept.code, Concept.label)
        .where(Concept.value_set == APPAREIL, Concept.code.in_(codes))
        .order_by(Concept.label)
    ).all()
    return Choices(
        [tuple(row) for row in establishments],
        [(rcp.id, rcp.name) for rcp in rcps],
        [tuple(row) for row in appareils],
    )


def _int_arg(raw, label: str) -> int | None:
    text = str(raw or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise ValueError(f"{label} invalide.")
    return int(text)


def _nature_of(rcp: Rcp) -> set[str]:
    natures = {rcp.nature}
    if rcp.is_recourse:
        natures.add("recours")
    return natures


def from_args(args, rcps: list[Rcp], offered: Choices) -> Scope:
    """The scope the arguments name among ``rcps``; ValueError (French) for a filter value the
    user was not offered (an RCP of another secretariat is « inconnue », not « interdite »: its
    existence is not confirmed)."""
    filters: list[tuple[str, str]] = []
    chosen = list(rcps)
    establishment_id = _int_arg(args.get("etablissement"), "Établissement")
    if establishment_id is not None:
        names = dict(offered.establishments)
        if establishment_id not in names:
            raise ValueError("Établissement inconnu parmi ceux de vos RCP.")
        chosen = [rcp for rcp in chosen if rcp.establishment_id == establishment_id]
        filters.append(("Établissement", names[establishment_id]))
    rcp_id = _int_arg(args.get("rcp"), "RCP")
    if rcp_id is not None:
        names = dict(offered.rcps)
        if rcp_id not in names:
            raise ValueError("RCP inconnue parmi celles que vous suivez.")
        chosen = [rcp for rcp in chosen if rcp.id == rcp_id]
        filters.append(("RCP", names[rcp_id]))
    appareil = str(args.get("appareil") or "").strip()
    if appareil:
        names = dict(offered.appareils)
        if appareil not in names:
            raise ValueError("Appareil inconnu parmi ceux de vos RCP.")
        chosen = [rcp for rcp in chosen if rcp.appareil_code == appareil]
        filters.append(("Appareil", names[appareil]))
    nature = str(args.get("nature") or "").strip()
    if nature:
        if nature not in NATURES:
            raise ValueError("Nature de RCP inconnue : organe, transversale ou recours.")
        chosen = [rcp for rcp in chosen if nature in _nature_of(rcp)]
        filters.append(("Nature", NATURES[nature]))
    named = {name: str(args.get(name)).strip() for name in FILTER_ARGS if args.get(name)}
    return Scope(
        tuple(rcp.id for rcp in chosen),
        tuple(rcp.name for rcp in chosen),
        tuple(filters),
        named,
    )
