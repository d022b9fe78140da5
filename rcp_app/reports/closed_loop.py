"""The closed loop: what became of the proposals validated in the period (rcp_app/followups),
the section « Mise en œuvre des propositions » of the statistics page.

The population is the follow-ups opened in the period, of the RCPs in scope: one follow-up per
decision, opened when version 1 of its fiche is validated (``opened_at``, naive UTC, compared
with the period's Paris-day bounds like every other date of the reports), counted with the RCP
of the session that decided (``follow_ups.rcp_id``).

Like the other indicators, every figure is an aggregate computed by the database: one query for
the counts, one for the delays (grouped by outcome), one per table, whatever the volume.

Two denominators, each stated in its figure's definition:

- implemented as proposed, started otherwise, not started: the follow-ups whose outcome says
  whether the proposal was carried out (those three states); lost and deceased patients are
  left out, since nobody knows what they would have received;
- lost to follow-up, deceased: every recorded follow-up (any state but « pending »).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func, literal, select

from ..core.timeutil import to_paris
from ..extensions import db
from ..followups.models import DEVIATION_REASONS, DEVIATIONS, STATES, FollowUp
from . import populations as pop
from .model import Table
from .numbers import rate, rounded
from .period import Period
from .scope import Scope
from .sql import days_between, paris_date, percentiles

FOLLOW_UPS = FollowUp.__table__
# The outcomes that tell whether the proposal was carried out (the implementation share's
# denominator).
EVALUABLE = ("started_as_proposed", "started_other", "not_started")


@dataclass(frozen=True)
class Population:
    title: str  # the title of the list behind the figure (drill.py)
    condition: Callable[[date], object]  # SQL over a follow_ups row, given today (Paris day)


def _state(*states: str) -> Callable[[date], object]:
    return lambda _today: FOLLOW_UPS.c.state.in_(states)


def _as_proposed(option) -> Callable[[date], object]:
    return lambda _today: and_(FOLLOW_UPS.c.state == "started_as_proposed", option)


# Each count of the section, defined once: the figure sums it, the drill-down lists it.
POPULATIONS = {
    "followup": Population("Propositions validées", lambda _today: literal(True)),
    "followup_recorded": Population(
        "Suivis renseignés", lambda _today: FOLLOW_UPS.c.state != "pending"
    ),
    "followup_pending": Population("Suivis en attente", _state("pending")),
    "followup_overdue": Population(
        "Suivis en attente dont l'échéance est dépassée",
        lambda today: and_(FOLLOW_UPS.c.state == "pending", FOLLOW_UPS.c.due_on < today),
    ),
    "followup_evaluable": Population(
        "Suivis indiquant si la proposition a été mise en œuvre", _state(*EVALUABLE)
    ),
    "followup_as_proposed": Population(
        "Propositions mises en œuvre comme proposé", _state("started_as_proposed")
    ),
    "followup_first": Population(
        "Premières propositions de la RCP commencées",
        _as_proposed(FOLLOW_UPS.c.option_rank == 0),
    ),
    "followup_alternative": Population(
        "Alternatives proposées par la RCP commencées",
        _as_proposed(FOLLOW_UPS.c.option_rank > 0),
    ),
    "followup_other": Population("Autre traitement commencé", _state("started_other")),
    "followup_not_started": Population("Traitement non commencé", _state("not_started")),
    "followup_lost": Population("Patients perdus de vue", _state("lost")),
    "followup_deceased": Population("Patients décédés", _state("deceased")),
}
# (figure key part, state, label, definition) of each delay to treatment.
DELAYS = (
    (
        "delay_proposed",
        "started_as_proposed",
        "Validation → début du traitement proposé",
        "Du jour de la validation de la fiche (heure de Paris) au premier jour du traitement "
        "proposé par la RCP (première proposition ou alternative), en jours.",
    ),
    (
        "delay_other",
        "started_other",
        "Validation → début d'un autre traitement",
        "Du jour de la validation de la fiche (heure de Paris) au premier jour d'un traitement "
        "que la RCP n'avait pas proposé, en jours.",
    ),
)
TABLE_KEYS = ("followups.delays", "followups.deviation_reasons", "followups.by_rcp")
EVALUABLE_TEXT = (
    "suivis dont l'issue est connue hors patients perdus de vue ou décédés (traitement proposé "
    "commencé, autre traitement commencé, traitement non commencé)"
)


def paris_today(now: datetime) -> date:
    return to_paris(now).date()


def followups_where(period: Period, scope: Scope):
    return and_(
        pop.in_period(FOLLOW_UPS.c.opened_at, period),
        FOLLOW_UPS.c.rcp_id.in_(scope.rcp_ids),
    )


def _count(key: str, today: date):
    condition = POPULATIONS[key].condition(today)
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _counts(period: Period, scope: Scope, today: date) -> dict:
    row = db.session.execute(
        select(*(_count(key, today).label(key) for key in POPULATIONS))
        .select_from(FOLLOW_UPS)
        .where(followups_where(period, scope))
    ).one()
    return {key: int(value) for key, value in row._asdict().items()}


def _delays(period: Period, scope: Scope) -> dict:
    """Percentiles of the days from validation to treatment start, by outcome (one query)."""
    values = select(
        days_between(FOLLOW_UPS.c.started_on, paris_date(FOLLOW_UPS.c.opened_at)).label("v"),
        FOLLOW_UPS.c.state.label("g"),
    ).where(
        followups_where(period, scope),
        FOLLOW_UPS.c.state.in_([state for _key, state, *_ in DELAYS]),
    )
    return {row.g: row for row in db.session.execute(percentiles(values, group=True))}


def headline(period: Period, scope: Scope, now: datetime) -> tuple[dict, dict]:
    """The section's figure values by key, and the delays (for their table)."""
    counts = _counts(period, scope, paris_today(now))
    evaluable, recorded = counts["followup_evaluable"], counts["followup_recorded"]
    values = {
        "followups.validated": counts["followup"],
        "followups.recorded": recorded,
        "followups.pending": counts["followup_pending"],
        "followups.overdue": counts["followup_overdue"],
        "followups.implemented": rate(counts["followup_as_proposed"], evaluable),
        "followups.implemented_first": rate(counts["followup_first"], evaluable),
        "followups.implemented_alternative": rate(counts["followup_alternative"], evaluable),
        "followups.started_other": rate(counts["followup_other"], evaluable),
        "followups.not_started": rate(counts["followup_not_started"], evaluable),
        "followups.lost": rate(counts["followup_lost"], recorded),
        "followups.deceased": rate(counts["followup_deceased"], recorded),
    }
    delays = _delays(period, scope)
    for key, state, _label, _definition in DELAYS:
        row = delays.get(state)
        values[f"followups.{key}.median"] = rounded(row.median) if row else None
        values[f"followups.{key}.p90"] = rounded(row.p90) if row else None
    return values, delays


# (figure key, label, unit, population, definition), as indicators.SECTIONS.
SECTION = (
    "followups",
    "Mise en œuvre des propositions",
    (
        ("followups.validated", "Propositions validées", "", "followup",
         "Décisions dont la fiche RCP (première version) a été validée dans la période, dans "
         "les RCP retenues : chacune ouvre un suivi de mise en œuvre."),
        ("followups.recorded", "Suivis renseignés", "", "followup_recorded",
         "Propositions validées dont le devenir a été renseigné (tout état autre que « en "
         "attente »)."),
        ("followups.pending", "Suivis en attente", "", "followup_pending",
         "Propositions validées dont le devenir n'est pas encore renseigné."),
        ("followups.overdue", "Suivis en attente, échéance dépassée", "", "followup_overdue",
         "Suivis encore en attente dont le jour d'échéance (le délai de suivi de la RCP après "
         "la validation) est passé au jour du calcul."),
        ("followups.implemented", "Propositions mises en œuvre comme proposé", "%",
         "followup_as_proposed",
         f"Traitement proposé par la RCP commencé (première proposition ou alternative) ÷ "
         f"{EVALUABLE_TEXT}."),
        ("followups.implemented_first", "dont première proposition", "%", "followup_first",
         "Première proposition de la RCP commencée ÷ le même dénominateur que la mise en "
         "œuvre comme proposé."),
        ("followups.implemented_alternative", "dont alternative de la RCP", "%",
         "followup_alternative",
         "Une alternative proposée par la RCP commencée ÷ le même dénominateur que la mise en "
         "œuvre comme proposé."),
        ("followups.started_other", "Autre traitement commencé", "%", "followup_other",
         f"Traitement que la RCP n'avait pas proposé commencé ÷ {EVALUABLE_TEXT}."),
        ("followups.not_started", "Traitement non commencé", "%", "followup_not_started",
         f"Aucun traitement commencé ÷ {EVALUABLE_TEXT}."),
        ("followups.lost", "Patients perdus de vue", "%", "followup_lost",
         "Patients perdus de vue ÷ suivis renseignés."),
        ("followups.deceased", "Patients décédés", "%", "followup_deceased",
         "Patients décédés ÷ suivis renseignés."),
        *(
            item
            for key, _state_name, label, definition in DELAYS
            for item in (
                (f"followups.{key}.median", f"{label} (médiane)", "j", None, definition),
                (f"followups.{key}.p90", f"{label} (90e centile)", "j", None, definition),
            )
        ),
    ),
)  # fmt: skip


def _delays_table(delays: dict) -> Table:
    body = []
    for _key, state, label, _definition in DELAYS:
        row = delays.get(state)
        body.append(
            (
                label,
                (row.n or 0) if row else 0,
                rounded(row.median) if row else None,
                rounded(row.p90) if row else None,
            )
        )
    return Table(
        "followups.delays",
        "Délai entre la validation et le début du traitement (jours)",
        "Du jour de la validation de la fiche (heure de Paris) au premier jour du traitement, "
        "pour les propositions mises en œuvre comme proposé et pour les autres traitements "
        "commencés : médiane et 90e centile (interpolation linéaire) ; « Patients » : nombre "
        "de délais mesurés.",
        ("Délai", "Patients", "Médiane (j)", "90e centile (j)"),
        tuple(body),
    )


def _reasons_table(period: Period, scope: Scope) -> Table:
    rows = db.session.execute(
        select(FOLLOW_UPS.c.deviation_reason, FOLLOW_UPS.c.state, func.count())
        .where(followups_where(period, scope), FOLLOW_UPS.c.state.in_(DEVIATIONS))
        .group_by(FOLLOW_UPS.c.deviation_reason, FOLLOW_UPS.c.state)
    )
    found: dict[str, dict[str, int]] = {}
    for reason, state, count in rows:
        found.setdefault(reason, {})[state] = count
    total = sum(sum(by_state.values()) for by_state in found.values())
    body = []
    for reason, label in DEVIATION_REASONS.items():
        if reason not in found:
            continue
        started, waiting = (found[reason].get(state, 0) for state in DEVIATIONS)
        both = started + waiting
        body.append((label, started, waiting, both, rate(both, total)))
    return Table(
        "followups.deviation_reasons",
        "Motifs des écarts à la proposition",
        "Propositions validées dans la période pour lesquelles un autre traitement a été "
        "commencé ou aucun traitement n'a été commencé, par motif renseigné au suivi ; « Part » "
        "rapporte le motif à l'ensemble de ces écarts.",
        (
            "Motif",
            STATES["started_other"],
            STATES["not_started"],
            "Total",
            "Part des écarts (%)",
        ),
        tuple(body),
    )


def _by_rcp_table(period: Period, scope: Scope, today: date) -> Table:
    rcps = pop.RCPS
    rows = db.session.execute(
        select(
            rcps.c.name,
            func.count(),
            _count("followup_recorded", today),
            _count("followup_pending", today),
            _count("followup_overdue", today),
            _count("followup_as_proposed", today),
            _count("followup_evaluable", today),
        )
        .select_from(FOLLOW_UPS.join(rcps, rcps.c.id == FOLLOW_UPS.c.rcp_id))
        .where(followups_where(period, scope))
        .group_by(rcps.c.id, rcps.c.name)
        .order_by(rcps.c.name, rcps.c.id)
    )
    body = tuple(
        (name, validated, recorded, pending, overdue, rate(as_proposed, evaluable))
        for name, validated, recorded, pending, overdue, as_proposed, evaluable in rows
    )
    return Table(
        "followups.by_rcp",
        "Mise en œuvre des propositions par RCP",
        "Par RCP ayant validé des propositions dans la période : propositions validées, suivis "
        "renseignés, suivis en attente (dont l'échéance est dépassée) et part des propositions "
        f"mises en œuvre comme proposé ({EVALUABLE_TEXT} au dénominateur).",
        (
            "RCP",
            "Propositions validées",
            "Suivis renseignés",
            "En attente",
            "Échéance dépassée",
            "Mises en œuvre comme proposé (%)",
        ),
        body,
    )


def tables(period: Period, scope: Scope, now: datetime, delays: dict) -> tuple[Table, ...]:
    return (
        _delays_table(delays),
        _reasons_table(period, scope),
        _by_rcp_table(period, scope, paris_today(now)),
    )
