"""What became of the proposals of the year of history (history.py), so that the statistics
page's « Mise en œuvre des propositions » shows believable figures.

The follow-ups opened themselves when the history's fiches were signed. Most get the outcome
their referring physician records (the 3C secretariat records it for the physicians without a
demo account), dated weeks after the validation, through ``followups.operations
.record_outcome``; the recent ones mostly stay pending, a few of the older ones too (overdue).

- A patient presented again later (after surgery, at progression) started what the RCP
  proposed: the later case's completed treatment of the proposed type gives its first day;
  such a patient is never recorded lost or deceased.
- Otherwise the outcome is drawn: mostly started as proposed (now and then the RCP's
  alternative), some other treatment or none with a reason, a few lost or deceased.

Drawn from a generator of its own: the history's draws, and so the history, stay the same.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..auth.models import User
from ..cases.models import Case, Treatment
from ..core.timeutil import to_paris
from ..extensions import db
from ..followups import operations as followups
from ..followups.models import FollowUp
from .aftercare import outcome_day

SEED = 3107
# (fiche age in days, share of its follow-ups recorded): the oldest first.
RECORDED_SHARES = ((60, 0.94), (40, 0.8), (25, 0.5), (0, 0.12))
OUTCOMES = (
    ("started_as_proposed", 74),
    ("started_other", 10),
    ("not_started", 8),
    ("lost", 4),
    ("deceased", 4),
)
ALTERNATIVE_SHARE = 0.15
START_DAYS = (6, 35)  # validation → first day of the treatment
RECORD_DAYS = (18, 50)  # validation → the outcome recorded
# What was started instead, by the proposal's treatment type: (treatment, reason, details).
OTHER_TREATMENTS = {
    "387713003": (
        "Chirurgie plus étendue que proposée (totale plutôt que conservatrice).",
        "patient_choice",
        "Choix de la patiente après la consultation chirurgicale.",
    ),
    "C15632": (
        "Chimiothérapie à doses adaptées, schéma hebdomadaire.",
        "contraindication",
        "Insuffisance rénale (clairance à 35 mL/min) : schéma adapté par l'oncologue.",
    ),
    "C15313": (
        "Radiothérapie hypofractionnée (schéma court).",
        "other",
        "Domicile éloigné du centre de radiothérapie : schéma court retenu avec la patiente.",
    ),
    "C547": (
        "Tamoxifène plutôt qu'un inhibiteur de l'aromatase.",
        "contraindication",
        "Ostéoporose fracturaire : inhibiteur de l'aromatase écarté.",
    ),
}
NOT_STARTED = (
    ("patient_choice", "La patiente souhaite un second avis avant de commencer."),
    (
        "contraindication",
        "Altération de l'état général (OMS 3) : traitement différé, soins de support renforcés.",
    ),
    ("progression", "Progression au bilan pré-thérapeutique : à représenter en RCP."),
)


def record_history_outcomes(after_fiche_id: int, now: datetime) -> int:
    """Record the outcomes of the follow-ups of the fiches above ``after_fiche_id``; returns
    how many were recorded."""
    rng = random.Random(SEED)
    rows = db.session.scalars(
        select(FollowUp).where(FollowUp.fiche_id > after_fiche_id).order_by(FollowUp.id)
    ).all()
    done = _completed_treatments({row.patient_id for row in rows})
    recorders = _recorders()
    recorded = 0
    for follow_up in rows:
        age = (now - follow_up.opened_at).days
        share = next(share for oldest, share in RECORDED_SHARES if age >= oldest)
        if rng.random() >= share:
            continue
        when = follow_up.opened_at + timedelta(days=rng.uniform(*RECORD_DAYS))
        when = min(when, now - timedelta(hours=1))
        data = _outcome(follow_up, rng, to_paris(when).date(), done[follow_up.patient_id])
        user = recorders.get(follow_up.requester_id) or follow_up.case.created_by
        followups.record_outcome(follow_up, user, data, follow_up.version, when)
        recorded += 1
    return recorded


def _completed_treatments(patient_ids: set[int]) -> dict[int, list[tuple[str, date]]]:
    """(type, day) of the completed treatments the patients' cases report, by patient."""
    rows = db.session.execute(
        select(Case.patient_id, Treatment.type_code, Treatment.treatment_date)
        .join(Treatment, Treatment.case_id == Case.id)
        .where(
            Case.patient_id.in_(patient_ids),
            Treatment.status == "done",
            Treatment.treatment_date.is_not(None),
        )
    )
    by_patient: dict[int, list[tuple[str, date]]] = defaultdict(list)
    for patient_id, code, day in rows:
        by_patient[patient_id].append((code, day))
    return by_patient


def _recorders() -> dict[int, User]:
    """The physicians' accounts by their directory professional."""
    users = db.session.scalars(
        select(User).where(User.role == "physician", User.professional_id.is_not(None))
    )
    return {user.professional_id: user for user in users}


def _options(follow_up: FollowUp) -> list[tuple[int, str | None]]:
    """(rank, treatment type) of the proposal (0) and its alternatives."""
    decision = follow_up.decision
    alternatives = sorted(decision.alternatives, key=lambda alt: alt.rank)
    return [(0, decision.proposal_code)] + [(alt.rank, alt.treatment_code) for alt in alternatives]


def _seen_started(follow_up: FollowUp, recorded_on: date, done) -> tuple[int, date] | None:
    """The option a later case of the patient reports done, and its day."""
    start = followups.validation_day(follow_up)
    for rank, code in _options(follow_up):
        days = sorted(day for kind, day in done if kind == code and start <= day <= recorded_on)
        if code and days:
            return rank, days[0]
    return None


def _presented_again(follow_up: FollowUp) -> bool:
    later = select(Case.id).where(
        Case.patient_id == follow_up.patient_id,
        Case.submitted_at > follow_up.opened_at,
    )
    return db.session.scalar(later.limit(1)) is not None


def _outcome(follow_up: FollowUp, rng: random.Random, recorded_on: date, done) -> dict:
    seen = _seen_started(follow_up, recorded_on, done)
    if seen is not None:
        rank, day = seen
        started = f"{day:%d/%m/%Y}"
        return {"state": "started_as_proposed", "option_rank": str(rank), "started_on": started}
    outcomes = OUTCOMES[:3] if _presented_again(follow_up) else OUTCOMES
    state = rng.choices([s for s, _ in outcomes], weights=[w for _, w in outcomes])[0]
    start_day = outcome_day(follow_up, rng.randint(*START_DAYS), recorded_on)
    other = OTHER_TREATMENTS.get(follow_up.decision.proposal_code or "")
    if state == "started_other" and other is not None:
        treatment, reason, details = other
        return {
            "state": state,
            "other_treatment": treatment,
            "deviation_reason": reason,
            "details": details,
            "started_on": start_day,
        }
    if state == "not_started":
        reason, details = rng.choice(NOT_STARTED)
        return {"state": state, "deviation_reason": reason, "details": details}
    if state in ("lost", "deceased"):
        event_day = outcome_day(follow_up, rng.randint(2, 40), recorded_on)
        return {"state": state, "event_on": event_day}
    ranks = [rank for rank, _ in _options(follow_up)]
    rank = rng.choice(ranks[1:]) if len(ranks) > 1 and rng.random() < ALTERNATIVE_SHARE else 0
    return {"state": "started_as_proposed", "option_rank": str(rank), "started_on": start_day}
