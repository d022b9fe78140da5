"""Every indicator of the statistics page, as SQL aggregates (populations.py defines the rows).

``compute_report(period, scope)`` runs a fixed number of queries whatever the volume: each
aggregate is computed by the database (counts, sums, medians and 90th percentiles through
window functions, distributions through CASE buckets); Python only lays the results out.
The headline figures are computed again over the previous period, for the comparison. The
section on what became of the proposals (the closed loop) lives in closed_loop.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, case, func, literal, select

from ..core.timeutil import utcnow
from ..delivery.models import ROLES, Transmission
from ..directory.models import Establishment
from ..extensions import db
from ..fiches.models import Fiche, FicheVersion
from ..terminology.builtin import APPAREIL, ORGAN, SPECIALTY, TRANSVERSAL_THEME
from ..terminology.models import Concept
from . import closed_loop
from . import populations as pop
from .model import Figure, Report, Section, Table
from .numbers import rate as _rate
from .numbers import rounded as _round
from .period import Period
from .scope import Scope
from .sql import days_between, month_bucket, percentiles

FICHES = Fiche.__table__
VERSIONS = FicheVersion.__table__
TRANSMISSIONS = Transmission.__table__
ESTABLISHMENTS = Establishment.__table__
DELIVERED = ("sent", "acknowledged")
# Delay distribution buckets, in days: (label, upper bound inclusive or None).
BUCKETS = (
    ("0 à 7 j", 7),
    ("8 à 14 j", 14),
    ("15 à 21 j", 21),
    ("22 à 30 j", 30),
    ("31 à 60 j", 60),
    ("plus de 60 j", None),
)
# Every table of a report (the route of a table's CSV accepts these names only).
TABLE_KEYS = (
    "activity.monthly_by_organ",
    "activity.sessions_by_month",
    "activity.by_rcp",
    "activity.by_organ",
    "activity.by_establishment",
    "quality.rates_by_month",
    "quality.postponement_reasons",
    "quality.refusal_reasons",
    "quality.attendance_by_specialty",
    "delays.summary",
    "delays.distribution",
    "dcc.transmissions",
    *closed_loop.TABLE_KEYS,
)
TOP_ORGANS = 8
OTHER = "Autres"
UNSPECIFIED = "Non renseigné"


def _labels(*value_sets: str) -> dict[str, str]:
    rows = db.session.execute(
        select(Concept.code, Concept.label).where(Concept.value_set.in_(value_sets))
    )
    return {code: label for code, label in rows}


# --- the queries ------------------------------------------------------------------------------


def _sessions(period: Period, scope: Scope, now: datetime) -> dict:
    s = pop.SESSIONS
    # Each per-session count is one grouped subquery over the period's sessions, joined once
    # (a correlated subquery per session costs seconds at a region's scale).
    in_scope = pop.sessions_where(period, scope)
    presented = (
        select(pop.ITEMS.c.session_id, func.count().label("n"))
        .select_from(
            pop.ITEMS.join(pop.DECISIONS, pop.DECISIONS.c.item_id == pop.ITEMS.c.id).join(
                s, s.c.id == pop.ITEMS.c.session_id
            )
        )
        .where(in_scope, pop.DECISIONS.c.outcome.in_(pop.PRESENTED_OUTCOMES))
        .group_by(pop.ITEMS.c.session_id)
        .subquery()
    )
    a, p = pop.ATTENDANCES, pop.PROFESSIONALS
    specialties = (
        select(a.c.session_id, func.count(func.distinct(p.c.specialty_code)).label("n"))
        .select_from(a.join(p, p.c.id == a.c.professional_id).join(s, s.c.id == a.c.session_id))
        .where(in_scope, a.c.quorum_member)
        .group_by(a.c.session_id)
        .subquery()
    )
    rq = pop.REQUIRED_SPECIALTIES
    missing = (
        select(s.c.id.label("session_id"), func.count().label("n"))
        .select_from(s.join(rq, rq.c.rcp_id == s.c.rcp_id))
        .where(in_scope, ~pop.required_specialty_present(s.c.id))
        .group_by(s.c.id)
        .subquery()
    )
    required = select(rq.c.rcp_id, func.count().label("n")).group_by(rq.c.rcp_id).subquery()
    per_session = (
        select(
            s.c.id,
            s.c.status,
            s.c.starts_at,
            s.c.capacity,
            func.coalesce(presented.c.n, 0).label("presented"),
            func.coalesce(specialties.c.n, 0).label("specialties"),
            func.coalesce(missing.c.n, 0).label("missing_required"),
            func.coalesce(required.c.n, 0).label("required"),
            pop.RCPS.c.min_specialties,
        )
        .join(pop.RCPS, pop.RCPS.c.id == s.c.rcp_id)
        .outerjoin(presented, presented.c.session_id == s.c.id)
        .outerjoin(specialties, specialties.c.session_id == s.c.id)
        .outerjoin(missing, missing.c.session_id == s.c.id)
        .outerjoin(required, required.c.rcp_id == s.c.rcp_id)
        .where(in_scope)
        .subquery()
    )
    reached = and_(
        per_session.c.missing_required == 0,
        per_session.c.specialties >= per_session.c.min_specialties,
        per_session.c.specialties >= per_session.c.required,
    )
    is_held = per_session.c.status.in_(pop.HELD_STATUSES)
    row = db.session.execute(
        select(
            func.count().label("planned"),
            func.sum(case((is_held, 1), else_=0)).label("held"),
            func.sum(
                case(
                    (
                        and_(
                            per_session.c.status.in_(pop.NOT_HELD_STATUSES),
                            per_session.c.starts_at < now,
                        ),
                        1,
                    ),
                    else_=0,
                )
            ).label("not_held"),
            func.avg(case((is_held, per_session.c.presented), else_=None)).label("mean"),
            func.max(case((is_held, per_session.c.presented), else_=None)).label("max"),
            func.avg(
                case(
                    (is_held, 100.0 * per_session.c.presented / per_session.c.capacity),
                    else_=None,
                )
            ).label("capacity_use"),
            func.sum(case((and_(is_held, reached), 1), else_=0)).label("quorum"),
        )
    ).one()
    return row._asdict()


def _presented(period: Period, scope: Scope) -> dict:
    flags = pop.flag_columns()
    rows = (
        select(pop.CASES.c.patient_id, pop.DECISIONS.c.seconds_spent, *flags)
        .select_from(pop.presented_join())
        .where(pop.presented_where(period, scope))
        .subquery()
    )
    row = db.session.execute(
        select(
            func.count(func.distinct(rows.c.patient_id)).label("patients"),
            *(func.coalesce(func.sum(rows.c[key]), 0).label(key) for key in pop.FLAGS),
        )
    ).one()
    return row._asdict()


def _postponements(period: Period, scope: Scope) -> dict:
    result = {}
    for kind, name in (("case_postponed", "postponements"), ("case_refused", "refusals")):
        row = db.session.execute(
            select(
                func.count().label("events"),
                func.count(func.distinct(pop.NOTIFICATIONS.c.case_id)).label("cases"),
            ).where(pop.postponement_where(period, scope, kind))
        ).one()
        result[name], result[name + "_cases"] = row.events, row.cases
    return result


def _time_spent(period: Period, scope: Scope):
    """Median minutes spent per presented case (timed ones), overall and by RCP."""
    values = (
        select(
            (pop.DECISIONS.c.seconds_spent / 60.0).label("v"),
            pop.SESSIONS.c.rcp_id.label("g"),
        )
        .select_from(pop.presented_join())
        .where(pop.presented_where(period, scope), pop.DECISIONS.c.seconds_spent > 0)
    )
    overall = db.session.execute(percentiles(values)).one()
    by_rcp = {row.g: row for row in db.session.execute(percentiles(values, group=True))}
    return overall, by_rcp


def _fiche_join():
    return (
        pop.presented_join()
        .join(FICHES, FICHES.c.decision_id == pop.DECISIONS.c.id)
        .join(VERSIONS, and_(VERSIONS.c.fiche_id == FICHES.c.id, VERSIONS.c.version == 1))
    )


DELAYS = {
    "submission_to_session": (
        "Demande → séance",
        "Du jour de la soumission du dossier au jour de la séance où il est présenté.",
    ),
    "session_to_signature": (
        "Séance → signature",
        "De la séance à la validation et signature de la fiche (première version).",
    ),
    "signature_to_gp": (
        "Signature → envoi au médecin traitant",
        "De la signature de la fiche à son premier envoi réussi au médecin traitant.",
    ),
    "signature_to_gp_ack": (
        "Signature → accusé de lecture du médecin traitant",
        "De la signature de la fiche à l'accusé de lecture du médecin traitant.",
    ),
    "diagnosis_to_first_rcp": (
        "Diagnostic → première RCP",
        "De la date de diagnostic (la plus ancienne des tumeurs du dossier) au jour de la "
        "première RCP du patient, pour les patients dont la première RCP tombe dans la période.",
    ),
}


def _delay_values(key: str, period: Period, scope: Scope):
    where = pop.presented_where(period, scope)
    if key == "submission_to_session":
        return (
            select(days_between(pop.SESSIONS.c.starts_at, pop.CASES.c.submitted_at).label("v"))
            .select_from(pop.presented_join())
            .where(where)
        )
    if key == "session_to_signature":
        return (
            select(days_between(VERSIONS.c.validated_at, pop.SESSIONS.c.starts_at).label("v"))
            .select_from(_fiche_join())
            .where(where)
        )
    if key in ("signature_to_gp", "signature_to_gp_ack"):
        # One row per version-1 fiche that reached the GP: its first sending (or receipt),
        # joined and grouped rather than looked up row by row.
        t = TRANSMISSIONS
        column = t.c.sent_at if key == "signature_to_gp" else t.c.acknowledged_at
        return (
            select(days_between(func.min(column), VERSIONS.c.validated_at).label("v"))
            .select_from(
                _fiche_join().join(
                    t,
                    and_(
                        t.c.fiche_version_id == VERSIONS.c.id,
                        t.c.recipient_role == "gp",
                        t.c.kind == "fiche",
                        t.c.status.in_(DELIVERED),
                    ),
                )
            )
            .where(where)
            .group_by(VERSIONS.c.id, VERSIONS.c.validated_at)
        )
    return (
        select(pop.diagnosis_to_session_days().label("v"))
        .select_from(pop.presented_join())
        .where(where, pop.first_presentation())
    )


def _delays(period: Period, scope: Scope) -> dict:
    result = {}
    for key in DELAYS:
        result[key] = db.session.execute(percentiles(_delay_values(key, period, scope))).one()
    return result


def _delay_distribution(period: Period, scope: Scope) -> dict:
    """Per delay, how many cases fall in each bucket (one query per delay)."""
    result = {}
    for key in ("submission_to_session", "session_to_signature", "signature_to_gp"):
        values = _delay_values(key, period, scope).subquery()
        bucket = case(
            *(
                (values.c.v <= bound, literal(label))
                for label, bound in BUCKETS
                if bound is not None
            ),
            else_=literal(BUCKETS[-1][0]),
        )
        rows = db.session.execute(
            select(bucket.label("bucket"), func.count())
            .where(values.c.v.is_not(None))
            .group_by(bucket)
        )
        result[key] = dict(rows.all())
    return result


def _has(period: Period, scope: Scope) -> dict:
    rows = (
        select(
            pop.CASES.c.patient_id,
            case((pop.has_level1(), 1), else_=0).label("level1"),
            case((pop.has_level2(), 1), else_=0).label("level2"),
        )
        .select_from(pop.presented_join())
        .where(pop.presented_where(period, scope), pop.first_presentation())
        .subquery()
    )
    row = db.session.execute(
        select(
            func.count().label("patients"),
            func.coalesce(func.sum(rows.c.level1), 0).label("level1"),
            func.coalesce(func.sum(rows.c.level2), 0).label("level2"),
        )
    ).one()
    return row._asdict()


def _fiches(period: Period, scope: Scope) -> dict:
    row = db.session.execute(
        select(
            func.count().label("fiches"),
            func.coalesce(func.sum(FICHES.c.current_version), 0).label("versions"),
            func.coalesce(func.sum(case((FICHES.c.current_version > 1, 1), else_=0)), 0).label(
                "amended"
            ),
        )
        .select_from(pop.presented_join().join(FICHES, FICHES.c.decision_id == pop.DECISIONS.c.id))
        .where(pop.presented_where(period, scope))
    ).one()
    return row._asdict()


def _transmissions(period: Period, scope: Scope) -> dict:
    """Fiche transmissions of the period's fiches (every version), by recipient and state."""
    t = TRANSMISSIONS
    rows = db.session.execute(
        select(t.c.recipient_role, t.c.status, func.count())
        .select_from(
            pop.presented_join()
            .join(FICHES, FICHES.c.decision_id == pop.DECISIONS.c.id)
            .join(VERSIONS, VERSIONS.c.fiche_id == FICHES.c.id)
            .join(t, t.c.fiche_version_id == VERSIONS.c.id)
        )
        .where(pop.presented_where(period, scope), t.c.kind == "fiche")
        .group_by(t.c.recipient_role, t.c.status)
    )
    result: dict[str, dict[str, int]] = {}
    for role, status, count in rows:
        result.setdefault(role, {})[status] = count
    return result


def _delivered_fiches(period: Period, scope: Scope) -> dict:
    """How many of the period's fiches reached each kind of recipient at least once."""
    t = TRANSMISSIONS
    rows = db.session.execute(
        select(t.c.recipient_role, func.count(func.distinct(FICHES.c.id)))
        .select_from(
            pop.presented_join()
            .join(FICHES, FICHES.c.decision_id == pop.DECISIONS.c.id)
            .join(VERSIONS, VERSIONS.c.fiche_id == FICHES.c.id)
            .join(t, t.c.fiche_version_id == VERSIONS.c.id)
        )
        .where(pop.presented_where(period, scope), t.c.kind == "fiche", t.c.status.in_(DELIVERED))
        .group_by(t.c.recipient_role)
    )
    return dict(rows.all())


# --- tables -----------------------------------------------------------------------------------


def _organ_code():
    c = pop.CASES.c
    return func.coalesce(c.organ_code, c.theme_code, c.appareil_code)


def _monthly_by_organ(period: Period, scope: Scope, labels: dict) -> Table:
    month = month_bucket(pop.SESSIONS.c.starts_at, period)
    organ = _organ_code()
    rows = db.session.execute(
        select(month.label("month"), organ.label("organ"), func.count())
        .select_from(pop.presented_join())
        .where(pop.presented_where(period, scope))
        .group_by(month, organ)
    ).all()
    totals: dict[str, int] = {}
    for _month, code, count in rows:
        totals[code] = totals.get(code, 0) + count
    ranked = sorted(totals, key=lambda code: (-totals[code], labels.get(code or "", "")))
    top = ranked[:TOP_ORGANS]
    names = [labels.get(code, code) if code else UNSPECIFIED for code in top]
    others = len(ranked) > TOP_ORGANS
    grid = {label: [0] * (len(top) + others) for label, *_ in period.months()}
    for month_label, code, count in rows:
        column = top.index(code) if code in top else len(top)
        grid[month_label][column] += count
    return Table(
        "activity.monthly_by_organ",
        "Dossiers présentés par mois et par organe",
        "Dossiers présentés (discutés ou enregistrés) par mois de séance (heure de Paris), "
        f"répartis entre les {TOP_ORGANS} organes ou thèmes les plus fréquents"
        + (" et les autres." if others else "."),
        ("Mois", *names, *([OTHER] if others else [])),
        tuple((label, *grid[label]) for label, *_ in period.months()),
        chart="stacked",
    )


def _sessions_by_month(period: Period, scope: Scope, now: datetime) -> Table:
    s = pop.SESSIONS
    month = month_bucket(s.c.starts_at, period)
    rows = db.session.execute(
        select(
            month.label("month"),
            func.sum(case((s.c.status.in_(pop.HELD_STATUSES), 1), else_=0)),
            func.sum(
                case(
                    (and_(s.c.status.in_(pop.NOT_HELD_STATUSES), s.c.starts_at < now), 1),
                    else_=0,
                )
            ),
        )
        .where(pop.sessions_where(period, scope))
        .group_by(month)
    )
    found = {label: (held, not_held) for label, held, not_held in rows}
    return Table(
        "activity.sessions_by_month",
        "Séances par mois",
        "Séances tenues (en cours ou closes) et séances passées jamais tenues, par mois.",
        ("Mois", "Tenues", "Non tenues"),
        tuple((label, *found.get(label, (0, 0))) for label, *_ in period.months()),
        chart="bar",
    )


def _by_rcp(period: Period, scope: Scope, time_by_rcp: dict) -> Table:
    s = pop.SESSIONS
    presented = (
        select(s.c.rcp_id, s.c.id.label("session_id"), func.count().label("n"))
        .select_from(pop.presented_join())
        .where(pop.presented_where(period, scope))
        .group_by(s.c.rcp_id, s.c.id)
        .subquery()
    )
    held = (
        select(
            s.c.rcp_id,
            s.c.id.label("session_id"),
            s.c.capacity,
            func.coalesce(presented.c.n, 0).label("n"),
        )
        .outerjoin(presented, presented.c.session_id == s.c.id)
        .where(pop.sessions_where(period, scope), s.c.status.in_(pop.HELD_STATUSES))
        .subquery()
    )
    rows = db.session.execute(
        select(
            pop.RCPS.c.id,
            pop.RCPS.c.name,
            func.count(held.c.session_id),
            func.coalesce(func.sum(held.c.n), 0),
            func.avg(held.c.n),
            func.max(held.c.n),
            func.avg(held.c.capacity),
            func.avg(100.0 * held.c.n / held.c.capacity),
        )
        .select_from(pop.RCPS.outerjoin(held, held.c.rcp_id == pop.RCPS.c.id))
        .where(pop.RCPS.c.id.in_(scope.rcp_ids))
        .group_by(pop.RCPS.c.id, pop.RCPS.c.name)
        .order_by(pop.RCPS.c.name)
    )
    body = []
    for rcp_id, name, sessions, cases, mean, most, capacity, use in rows:
        timing = time_by_rcp.get(rcp_id)
        body.append(
            (
                name,
                sessions,
                cases,
                _round(mean),
                most,
                _round(capacity, 0),
                _round(use),
                _round(timing.median if timing else None),
            )
        )
    return Table(
        "activity.by_rcp",
        "Activité par RCP",
        "Par RCP : séances tenues, dossiers présentés, dossiers par séance (moyenne, maximum), "
        "capacité moyenne des séances, taux de remplissage moyen (dossiers présentés ÷ "
        "capacité), temps médian passé par dossier chronométré (minutes).",
        (
            "RCP",
            "Séances tenues",
            "Dossiers présentés",
            "Dossiers par séance (moyenne)",
            "Maximum par séance",
            "Capacité",
            "Remplissage (%)",
            "Temps médian par dossier (min)",
        ),
        tuple(body),
    )


def _count_table(key, title, definition, header, rows, total) -> Table:
    body = tuple((label, count, _rate(count, total)) for label, count in rows)
    return Table(key, title, definition, (header, "Dossiers", "Part (%)"), body)


def _by_organ(period: Period, scope: Scope, labels: dict, total: int) -> Table:
    organ = _organ_code()
    rows = db.session.execute(
        select(organ, func.count())
        .select_from(pop.presented_join())
        .where(pop.presented_where(period, scope))
        .group_by(organ)
        .order_by(func.count().desc())
    ).all()
    named = [(labels.get(code, code) if code else UNSPECIFIED, count) for code, count in rows]
    return _count_table(
        "activity.by_organ",
        "Dossiers présentés par organe ou thème",
        "Dossiers présentés selon l'organe (RCP d'organe) ou le thème (RCP transversale) "
        "indiqué dans le dossier.",
        "Organe ou thème",
        named,
        total,
    )


def _by_establishment(period: Period, scope: Scope, total: int) -> Table:
    requester = pop.PROFESSIONALS.alias("requester")
    name = func.coalesce(ESTABLISHMENTS.c.name, literal(UNSPECIFIED))
    rows = db.session.execute(
        select(name, func.count())
        .select_from(
            pop.presented_join()
            .join(requester, requester.c.id == pop.CASES.c.requester_id)
            .outerjoin(ESTABLISHMENTS, ESTABLISHMENTS.c.id == requester.c.establishment_id)
        )
        .where(pop.presented_where(period, scope))
        .group_by(name)
        .order_by(func.count().desc(), name)
    ).all()
    return _count_table(
        "activity.by_establishment",
        "Dossiers présentés par établissement demandeur",
        "Établissement d'exercice du médecin demandeur du dossier.",
        "Établissement",
        rows,
        total,
    )


def _rates_by_month(period: Period, scope: Scope) -> Table:
    month = month_bucket(pop.SESSIONS.c.starts_at, period)
    rows = db.session.execute(
        select(
            month,
            func.count(),
            func.sum(case((pop.FLAGS["complete_file"].condition(), 1), else_=0)),
            func.sum(case((pop.FLAGS["quorum_case_reached"].condition(), 1), else_=0)),
        )
        .select_from(pop.presented_join())
        .where(pop.presented_where(period, scope))
        .group_by(month)
    )
    found = {label: (total, complete, quorum) for label, total, complete, quorum in rows}
    body = []
    for label, *_ in period.months():
        total, complete, quorum = found.get(label, (0, 0, 0))
        body.append((label, _rate(quorum, total), _rate(complete, total)))
    return Table(
        "quality.rates_by_month",
        "Quorum et complétude des dossiers par mois",
        "Part des dossiers présentés discutés avec le quorum atteint, et part des dossiers "
        "complets à l'inscription, par mois de séance.",
        ("Mois", "Quorum atteint (%)", "Dossier complet (%)"),
        tuple(body),
        chart="line",
        unit="%",
    )


REASON_DEFINITIONS = {
    "case_postponed": "Motifs des reports décidés dans la période (à l'ordre du jour ou en "
    "séance), tels qu'écrits ; une ligne par motif distinct. Un dossier reporté deux fois "
    "compte deux reports.",
    "case_refused": "Motifs des refus décidés dans la période par le secrétariat, tels "
    "qu'écrits ; une ligne par motif distinct.",
}


def _reasons(period: Period, scope: Scope, kind: str, key: str, title: str) -> Table:
    definition = REASON_DEFINITIONS[kind]
    n = pop.NOTIFICATIONS
    reason = func.coalesce(n.c.reason, literal(UNSPECIFIED))
    rows = db.session.execute(
        select(reason, func.count())
        .select_from(n.join(pop.CASES, pop.CASES.c.id == n.c.case_id))
        .where(pop.postponement_where(period, scope, kind))
        .group_by(reason)
        .order_by(func.count().desc(), reason)
    ).all()
    return Table(
        key,
        title,
        definition,
        ("Motif", "Nombre"),
        tuple(tuple(row) for row in rows),
    )


def _attendance(period: Period, scope: Scope, labels: dict, held: int) -> Table:
    a, p, s = pop.ATTENDANCES, pop.PROFESSIONALS, pop.SESSIONS
    rows = db.session.execute(
        select(p.c.specialty_code, func.count(), func.count(func.distinct(a.c.session_id)))
        .select_from(a.join(p, p.c.id == a.c.professional_id).join(s, s.c.id == a.c.session_id))
        .where(pop.sessions_where(period, scope), s.c.status.in_(pop.HELD_STATUSES))
        .group_by(p.c.specialty_code)
        .order_by(func.count().desc(), p.c.specialty_code)
    )
    body = tuple(
        (labels.get(code, code), presences, sessions, _rate(sessions, held))
        for code, presences, sessions in rows
    )
    return Table(
        "quality.attendance_by_specialty",
        "Présence par spécialité",
        "Présences enregistrées aux séances tenues, par spécialité du professionnel, et part "
        "des séances tenues où la spécialité était représentée.",
        ("Spécialité", "Présences", "Séances", "Part des séances (%)"),
        body,
        chart=None,
    )


def _delays_table(delays: dict) -> Table:
    return Table(
        "delays.summary",
        "Délais (jours)",
        "Médiane et 90e centile (interpolation linéaire) de chaque délai, en jours ; "
        "« Dossiers » : nombre de délais mesurés.",
        ("Délai", "Dossiers", "Médiane (j)", "90e centile (j)"),
        tuple(
            (DELAYS[key][0], row.n or 0, _round(row.median), _round(row.p90))
            for key, row in delays.items()
        ),
    )


def _distribution_table(distribution: dict) -> Table:
    keys = list(distribution)
    return Table(
        "delays.distribution",
        "Répartition des délais",
        "Nombre de dossiers par tranche de délai (jours révolus arrondis vers le haut : "
        "un délai de 7,5 jours compte dans « 8 à 14 j »).",
        ("Tranche", *(DELAYS[key][0] for key in keys)),
        tuple((label, *(distribution[key].get(label, 0) for key in keys)) for label, _ in BUCKETS),
        chart="bar",
    )


def _transmissions_table(transmissions: dict) -> Table:
    body = []
    for role, label in ROLES.items():
        states = transmissions.get(role, {})
        if not states or role == "participant":
            continue
        body.append(
            (
                label,
                states.get("sent", 0) + states.get("acknowledged", 0),
                states.get("acknowledged", 0),
                states.get("failed", 0),
                states.get("pending", 0) + states.get("sending", 0),
            )
        )
    return Table(
        "dcc.transmissions",
        "Transmissions des fiches par destinataire",
        "Envois des fiches (toutes versions) des séances de la période : envoyés (accusé de "
        "lecture compris), accusés de lecture reçus, en échec définitif, en attente.",
        ("Destinataire", "Envoyées", "Accusé de lecture", "Échecs", "En attente"),
        tuple(body),
    )


# --- the report -------------------------------------------------------------------------------


def _headline(period: Period, scope: Scope, now: datetime) -> dict:
    """Every figure value of a period, by key (computed for the period and the previous one)."""
    sessions = _sessions(period, scope, now)
    presented = _presented(period, scope)
    moves = _postponements(period, scope)
    time_overall, time_by_rcp = _time_spent(period, scope)
    delays = _delays(period, scope)
    has = _has(period, scope)
    fiches = _fiches(period, scope)
    delivered = _delivered_fiches(period, scope)
    transmissions = _transmissions(period, scope)
    loop_values, loop_delays = closed_loop.headline(period, scope, now)
    total = presented["presented"]
    values = {
        "activity.sessions_planned": sessions["planned"],
        "activity.sessions_held": sessions["held"] or 0,
        "activity.sessions_not_held": sessions["not_held"] or 0,
        "activity.cases_presented": total,
        "activity.patients": presented["patients"],
        "activity.initial": presented["initial"],
        "activity.relapse": presented["relapse"],
        "activity.discussed": presented["discussed"],
        "activity.registered": presented["registered"],
        "activity.cases_per_session_mean": _round(sessions["mean"]),
        "activity.cases_per_session_max": sessions["max"],
        "activity.capacity_use": _round(sessions["capacity_use"]),
        "quality.quorum_sessions": _rate(sessions["quorum"], sessions["held"]),
        "quality.quorum_cases": _rate(presented["quorum_case_reached"], total),
        "quality.complete_file": _rate(presented["complete_file"], total),
        "quality.overridden": presented["overridden"],
        "quality.postponements": moves["postponements"],
        "quality.postponed_cases": moves["postponements_cases"],
        "quality.refusals": moves["refusals"],
        "quality.late": presented["late"],
        "quality.time_per_case": _round(time_overall.median),
        "quality.trial": presented["trial"],
        "quality.trial_rate": _rate(presented["trial"], total),
        "quality.guideline": _rate(presented["guideline"], total),
        "quality.deviation": presented["deviation"],
        "has.patients": has["patients"],
        "has.level1": _rate(has["level1"], has["patients"]),
        "has.level2": _rate(has["level2"], has["patients"]),
        "dcc.fiches": fiches["fiches"],
        "dcc.versions": fiches["versions"],
        "dcc.amended": fiches["amended"],
        "dcc.delivered_dcc": delivered.get("dcc", 0),
        "dcc.delivered_gp": delivered.get("gp", 0),
        "dcc.delivered_record": delivered.get("patient_record", 0),
        "dcc.failed": sum(states.get("failed", 0) for states in transmissions.values()),
    }
    for key, row in delays.items():
        values[f"delays.{key}.median"] = _round(row.median)
        values[f"delays.{key}.p90"] = _round(row.p90)
    values.update(loop_values)
    details = {
        "time_by_rcp": time_by_rcp,
        "delays": delays,
        "transmissions": transmissions,
        "held": sessions["held"] or 0,
        "presented": total,
        "followup_delays": loop_delays,
    }
    return values, details


# (section key, title, [(figure key, label, unit, population, definition)])
SECTIONS = (
    (
        "activity",
        "Activité",
        (
            ("activity.sessions_planned", "Séances prévues", "", None,
             "Séances des RCP retenues dont la date tombe dans la période (heure de Paris)."),
            ("activity.sessions_held", "Séances tenues", "", None,
             "Séances ouvertes en réunion (en cours ou closes)."),
            ("activity.sessions_not_held", "Séances non tenues", "", None,
             "Séances passées jamais ouvertes (annulées, ou sans dossier)."),
            ("activity.cases_presented", "Dossiers présentés", "", "presented",
             "Lignes d'ordre du jour des séances de la période dont la décision est « discuté » "
             "ou « enregistré » ; un dossier reporté compte à la séance où il est présenté."),
            ("activity.patients", "Patients distincts", "", None,
             "Patients dont au moins un dossier a été présenté dans la période."),
            ("activity.initial", "Dossiers en phase initiale", "", "initial",
             "Phase « initiale » sans rechute ni progression renseignée."),
            ("activity.relapse", "Dossiers en rechute ou progression", "", "relapse",
             "Phase « rechute », date de rechute ou progression (locale, régionale, à distance)."),
            ("activity.discussed", "Dossiers discutés", "", "discussed",
             "Dossiers dont la décision est « discuté »."),
            ("activity.registered", "Dossiers enregistrés", "", "registered",
             "Dossiers enregistrés sans discussion (standard de soins référencé)."),
            ("activity.cases_per_session_mean", "Dossiers par séance (moyenne)", "", None,
             "Dossiers présentés ÷ séances tenues."),
            ("activity.cases_per_session_max", "Dossiers par séance (maximum)", "", None,
             "Le plus grand nombre de dossiers présentés en une séance tenue."),
            ("activity.capacity_use", "Remplissage des séances", "%", None,
             "Moyenne, sur les séances tenues, des dossiers présentés ÷ capacité de la séance."),
        ),
    ),
    (
        "quality",
        "Qualité de la réunion",
        (
            ("quality.quorum_sessions", "Séances avec quorum", "%", None,
             "Séances tenues où les membres du quorum présents couvrent au moins le nombre "
             "minimal de spécialités de la RCP, dont chaque spécialité exigée."),
            ("quality.quorum_cases", "Dossiers discutés avec quorum", "%", "quorum_case_reached",
             "Dossiers présentés dont le statut du quorum saisi en séance est « atteint »."),
            ("quality.complete_file", "Dossiers complets à l'inscription", "%", "complete_file",
             "Dossiers présentés inscrits sans dérogation au dossier minimum de la RCP."),
            ("quality.overridden", "Dossiers incomplets inscrits par dérogation", "", "overridden",
             "Dossiers inscrits malgré des pièces manquantes, avec un motif."),
            ("quality.postponements", "Reports", "", "postponed",
             "Reports décidés dans la période (à l'ordre du jour ou en séance) ; un dossier "
             "reporté deux fois compte deux reports."),
            ("quality.postponed_cases", "Dossiers reportés", "", None,
             "Dossiers reportés au moins une fois dans la période."),
            ("quality.refusals", "Dossiers refusés", "", "refused",
             "Dossiers refusés par le secrétariat dans la période, avec leur motif."),
            ("quality.late", "Ajouts tardifs", "", "late",
             "Dossiers présentés inscrits après la date limite d'inscription."),
            ("quality.time_per_case", "Temps médian par dossier", "min", None,
             "Médiane du temps chronométré en séance par dossier présenté (dossiers "
             "chronométrés seulement)."),
            ("quality.trial", "Propositions d'essai clinique", "", "trial",
             "Dossiers présentés pour lesquels un essai clinique a été proposé."),
            ("quality.trial_rate", "Part des dossiers avec essai proposé", "%", "trial",
             "Propositions d'essai ÷ dossiers présentés."),
            ("quality.guideline", "Décisions conformes au référentiel", "%", "guideline",
             "Décisions citant un référentiel (ou enregistrées selon un standard) sans écart "
             "documenté ÷ dossiers présentés."),
            ("quality.deviation", "Écarts au référentiel documentés", "", "deviation",
             "Décisions dont la justification d'écart au référentiel est renseignée."),
        ),
    ),
    (
        "delays",
        "Délais",
        tuple(
            item
            for key, (label, definition) in DELAYS.items()
            for item in (
                (f"delays.{key}.median", f"{label} (médiane)", "j", None, definition),
                (f"delays.{key}.p90", f"{label} (90e centile)", "j", None, definition),
            )
        ),
    ),
    (
        "has",
        "Indicateur HAS de traçabilité de la première RCP",
        (
            ("has.patients", "Patients à leur première RCP", "", "first_rcp",
             "Patients dont la première RCP (toutes RCP confondues) a lieu dans la période, "
             "dans les RCP retenues."),
            ("has.level1", "Niveau 1", "%", "has_level1",
             "Première RCP tracée avec sa date, une proposition de prise en charge et au moins "
             "trois professionnels de spécialités différentes présents."),
            ("has.level2", "Niveau 2", "%", "has_level2",
             "Niveau 1, et RCP tenue avant le premier traitement : aucun traitement réalisé ou "
             "en cours daté d'avant le jour de la séance."),
        ),
    ),
    (
        "dcc",
        "Suivi DCC : fiches produites et transmises",
        (
            ("dcc.fiches", "Fiches signées", "", "fiche",
             "Fiches RCP signées des dossiers présentés dans la période ; une fiche modifiée "
             "compte une fois."),
            ("dcc.versions", "Versions signées", "", None,
             "Versions signées de ces fiches, modificatives comprises."),
            ("dcc.amended", "Fiches modifiées", "", "amended",
             "Fiches ayant au moins une version modificative."),
            ("dcc.delivered_dcc", "Fiches transmises au DCC", "", None,
             "Fiches dont au moins une version a été envoyée au DCC régional."),
            ("dcc.delivered_gp", "Fiches transmises au médecin traitant", "", None,
             "Fiches dont au moins une version a été envoyée au médecin traitant."),
            ("dcc.delivered_record", "Fiches versées au dossier partagé", "", None,
             "Fiches dont au moins une version a été versée au dossier médical partagé."),
            ("dcc.failed", "Transmissions en échec", "", "delivery_failed",
             "Envois de fiches en échec définitif (après toutes les nouvelles tentatives)."),
        ),
    ),
    closed_loop.SECTION,
)  # fmt: skip


def _plain(value):
    """PostgreSQL sums and averages come back as Decimal: a report holds ints and floats only
    (the same values on SQLite, and what JSON, CSV and XLSX write as numbers)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _plain_table(table: Table) -> Table:
    return replace(table, rows=tuple(tuple(_plain(cell) for cell in row) for row in table.rows))


def compute_report(period: Period, scope: Scope, *, now: datetime | None = None) -> Report:
    now = now or utcnow()
    previous_period = period.previous()
    values, details = _headline(period, scope, now)
    previous, _ = _headline(previous_period, scope, now)
    labels = _labels(ORGAN, TRANSVERSAL_THEME, APPAREIL)
    tables = {
        "activity": (
            _monthly_by_organ(period, scope, labels),
            _sessions_by_month(period, scope, now),
            _by_rcp(period, scope, details["time_by_rcp"]),
            _by_organ(period, scope, labels, details["presented"]),
            _by_establishment(period, scope, details["presented"]),
        ),
        "quality": (
            _rates_by_month(period, scope),
            _reasons(period, scope, "case_postponed", "quality.postponement_reasons",
                     "Motifs de report"),
            _reasons(period, scope, "case_refused", "quality.refusal_reasons",
                     "Motifs de refus"),
            _attendance(period, scope, _labels(SPECIALTY), details["held"]),
        ),
        "delays": (
            _delays_table(details["delays"]),
            _distribution_table(_delay_distribution(period, scope)),
        ),
        "has": (),
        "dcc": (_transmissions_table(details["transmissions"]),),
        "followups": closed_loop.tables(period, scope, now, details["followup_delays"]),
    }  # fmt: skip
    sections = tuple(
        Section(
            key,
            title,
            tuple(
                Figure(
                    fkey,
                    label,
                    definition,
                    _plain(values[fkey]),
                    _plain(previous[fkey]),
                    unit,
                    population,
                )
                for fkey, label, unit, population, definition in figures
            ),
            tuple(_plain_table(table) for table in tables[key]),
        )
        for key, title, figures in SECTIONS
    )
    return Report(
        period=period,
        previous_period=previous_period,
        filters=scope.filters,
        sections=sections,
        generated_at=now,
        rcp_names=scope.rcp_names,
    )
