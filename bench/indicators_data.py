"""Five years of activity of 40 RCPs for the statistics benchmark (bench/indicators.py).

Two steps. The plan, in memory and compact: every session (weekly, or fortnightly for the
smaller RCPs; a few past ones never held) and every case's path through the agenda — drafted,
withdrawn, refused, postponed once or twice, presented and decided — with the dates the
indicators read. Then the writing, by COPY (PostgreSQL) or executemany (SQLite) through
bench.bulk, chunk of cases by chunk of cases, so that memory stays bounded whatever the size:
cases, tumours, biomarkers, treatments, agenda lines, decisions, notifications, fiches, their
versions and documents, transmissions. Fixed seed: the same rows for the same "now".

Bench only: each fiche document is a few placeholder bytes (with their true SHA-256 and size)
and each snapshot a short JSON, because the statistics never read them; decisions have no
alternatives, cases no correspondents, and there is no audit log.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from rcp_app.access.models import CoordinatorScope
from rcp_app.attendance.models import Attendance
from rcp_app.auth.models import User
from rcp_app.auth.passwords import hash_password
from rcp_app.cases.models import Biomarker, Case, Treatment, Tumour
from rcp_app.core.timeutil import utcnow
from rcp_app.decisions.models import Decision
from rcp_app.delivery.models import Transmission
from rcp_app.directory.models import Establishment, Professional, Rcp
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche, FicheDocument, FicheVersion
from rcp_app.fiches.operations import CODE_ALPHABET, CODE_GROUP_LENGTH, CODE_GROUPS
from rcp_app.meetings.models import AgendaItem, MeetingSession, Notification
from rcp_app.meetings.operations import local_to_utc
from rcp_app.patients.models import Patient
from rcp_app.terminology.builtin import QUORUM_NOT_REACHED, QUORUM_REACHED

from . import clinical, population
from .bulk import insert_rows, reset_sequences
from .directory import PASSWORD, RCP_KIND, RCP_SPECS, Directory, _user, seed_directory
from .seed import analyze

SEED = 20261204
FULL_CASES = 200_000
YEARS = 5
FUTURE_WEEKS = 8
CHUNK = 10_000  # cases written per round of COPY
# RCPs whose kind weighs less than this (population.KIND_WEIGHTS) meet every two weeks.
FORTNIGHTLY_BELOW = 8
STATISTICS_USERNAME = "bench.statistiques"
MAIL_DOMAIN = "bench.mssante.fr"

# How often things happen (fractions).
NOT_HELD = 0.03  # past sessions never opened
BELOW_QUORUM = 0.06  # held sessions whose attendees cover only two specialties
NOT_QUORUM_MEMBER = 0.01  # attendees who do not count in the quorum (a guest, an intern)
DRAFT, WITHDRAWN, REFUSED, POSTPONED = 0.008, 0.03, 0.02, 0.07
POSTPONED_AGAIN = 0.10
POSTPONED_AT_CLOSE = 0.6  # the others were postponed while the agenda was built
REGISTERED = 0.12
LATE = 0.04
OVERRIDE = 0.06
TREATED = 0.25  # presented cases with a treatment already done or ongoing
GUIDELINE, DEVIATION, TRIAL, UNTIMED, SURVEILLANCE = 0.75, 0.04, 0.07, 0.08, 0.05
SIGNED_LATE = 0.05  # fiches signed weeks after the session
AMENDED = 0.10
FAILED = {"dcc": 0.005, "requester": 0.015, "gp": 0.02}
ACKNOWLEDGED = {"dcc": 0.9, "requester": 0.7, "gp": 0.55}

POSTPONE_REASONS = [
    "TEP-TDM en attente : à rediscuter avec le résultat.",
    "Compte rendu d'anatomopathologie définitif non disponible.",
    "Médecin demandeur absent de la séance.",
    "Séance complète : dossier reporté à la suivante.",
    "Avis du chirurgien référent nécessaire.",
    "Résultats de biologie moléculaire attendus.",
]
REFUSAL_REASONS = [
    "Dossier incomplet : compte rendu opératoire manquant.",
    "Dossier relevant d'une RCP de recours.",
    "Question déjà tranchée par une RCP précédente.",
    "Patient non informé de la présentation de son dossier en RCP.",
]
OVERRIDE_REASONS = [
    "Compte rendu d'anatomopathologie attendu : résultats présentés en séance.",
    "Imagerie récente à projeter en séance.",
    "Urgence thérapeutique.",
]
DEVIATION_REASONS = [
    "Comorbidités contre-indiquant le traitement de référence.",
    "Refus du traitement de référence par le patient.",
    "Âge physiologique : désescalade thérapeutique.",
]
AMENDMENT_REASONS = [
    "Erreur de latéralité corrigée.",
    "Ajout du résultat de biologie moléculaire reçu après la séance.",
    "Correction du médecin traitant.",
    "Précision de la dose de radiothérapie proposée.",
]
# Proposal (TREATMENT_TYPE code) -> what the meeting writes.
PROPOSALS = {
    "387713003": "Chirurgie d'exérèse carcinologique, puis nouvelle présentation en RCP.",
    "C15632": "Chimiothérapie adjuvante, six cycles, réévaluation après trois cycles.",
    "C15313": "Radiothérapie conformationnelle de la loge tumorale.",
    "C547": "Hormonothérapie adjuvante pendant cinq ans.",
    "C93352": "Thérapie ciblée selon le profil moléculaire.",
    "C15262": "Immunothérapie, évaluation à trois mois.",
    "MED-226": "Surveillance clinique et radiologique.",
}
GUIDELINES = {
    "SEIN": "Référentiel régional cancers du sein",
    "GYNECO": "Référentiel régional cancers gynécologiques",
    "DIGESTIF": "Thésaurus national de cancérologie digestive",
    "THORAX": "Référentiel régional cancers thoraciques",
    "URO": "Recommandations du comité de cancérologie urologique",
    "ORL": "Référentiel régional cancers des voies aérodigestives supérieures",
    "ONCOGERIATRIE": "Référentiel régional d'oncogériatrie",
    "DERMATO": "Référentiel régional mélanomes et carcinomes cutanés",
}
TREATMENTS = ["387713003", "C15632", "C15313", "C547"]
TRANSMISSION_ROLES = ("dcc", "requester", "gp")
FAILURE = "550 5.1.1 Boîte aux lettres inconnue (après 6 tentatives)."
RETRY = "421 4.3.2 Service temporairement indisponible : nouvelle tentative prévue."
# Transmissions of the last days still waiting for a retry after a temporary failure.
RETRYING, RETRYING_DAYS = 0.08, 3


# --- the plan ---------------------------------------------------------------------------------


@dataclass(slots=True)
class SessionPlan:
    id: int
    rcp: str  # suffix
    starts_at: datetime
    deadline_at: datetime
    status: str
    published_at: datetime | None
    below_quorum: bool = False
    items: int = 0
    capacity: int = 0

    @property
    def held(self) -> bool:
        return self.status == "closed"


@dataclass(slots=True)
class ItemPlan:
    session: SessionPlan
    position: int
    added_at: datetime
    late: bool
    override: bool
    registered: bool
    id: int = 0
    signed_at: datetime | None = None  # fiche version 1 (None: not signed yet, or no decision)
    amended_at: datetime | None = None  # version 2
    fiche_id: int = 0
    version_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class Move:
    """A notification about the case: scheduled, postponed or refused."""

    kind: str
    at: datetime
    session: SessionPlan
    reason: str | None = None
    id: int = 0


@dataclass(slots=True)
class CasePlan:
    rcp: str
    patient_id: int
    requester_id: int
    created_by: int
    created_at: datetime
    status: str
    session: SessionPlan | None
    submitted_at: datetime | None = None
    is_late: bool = False
    withdrawn_at: datetime | None = None
    item: ItemPlan | None = None
    moves: list[Move] = field(default_factory=list)
    id: int = 0


@dataclass
class RcpFacts:
    id: int
    suffix: str
    establishment_id: int
    coordinator_id: int | None
    required: list[str]
    capacity: int
    # (professional id, specialty): the coordinator and the usual participants
    people: list[tuple[int, str]]


@dataclass
class Filled:
    seconds: float
    coordinator: str  # username: every RCP of both establishments
    physician: str  # username: coordinating physician of ``physician_rcps`` RCPs
    physician_rcps: int
    year: int  # the last complete year


def _log(message: str, started: float) -> None:
    print(f"  {message:<60} {time.perf_counter() - started:7.1f} s", flush=True)


def _hours(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


class Planner:
    """Sessions and case paths for every RCP, then ids in time order."""

    def __init__(self, rng, directory: Directory, facts: dict[str, RcpFacts], cohort, now):
        self.rng, self.directory, self.facts, self.now = rng, directory, facts, now
        self.sessions: list[SessionPlan] = []
        self.cases: list[CasePlan] = []
        self.taken: set[tuple[int, int]] = set()  # (patient, session): one active case each
        by_rcp = {suffix: [] for suffix in facts}  # CaseFactory's own session choice is unused
        self.factory = population.CaseFactory(rng, directory, cohort, by_rcp, now)

    # sessions

    def plan_sessions(self, suffix: str) -> list[SessionPlan]:
        """From five years ago to eight weeks ahead, on the RCP's weekday and time."""
        spec = next(s for s in RCP_SPECS if s.suffix == suffix)
        step = timedelta(weeks=1 if population.RCP_WEIGHTS[suffix] >= FORTNIGHTLY_BELOW else 2)
        today = self.now.date()
        day = today - timedelta(days=365 * YEARS)
        day += timedelta(days=(spec.weekday - day.weekday()) % 7)
        plans = []
        while day <= today + timedelta(weeks=FUTURE_WEEKS):
            starts = local_to_utc(datetime.combine(day, spec.start))
            deadline = starts - timedelta(hours=48)
            plans.append(self._session(suffix, starts, deadline))
            day += step
        self.sessions.extend(plans)
        return plans

    def _session(self, suffix: str, starts: datetime, deadline: datetime) -> SessionPlan:
        rng, now = self.rng, self.now
        published = min(deadline + _hours(rng, 2, 20), starts - timedelta(hours=1))
        if starts >= now:
            status = "agenda_published" if published <= now else "planned"
        else:
            status = "planned" if rng.random() < NOT_HELD else "closed"
        plan = SessionPlan(
            0, suffix, starts, deadline, status, published if status != "planned" else None
        )
        plan.below_quorum = plan.held and rng.random() < BELOW_QUORUM
        return plan

    # cases

    def plan_cases(self, suffix: str, sessions: list[SessionPlan], count: int) -> None:
        """``count`` cases aimed at the RCP's sessions: every held one alike, the coming ones
        less and less (their pools are still filling)."""
        usable = [s for s in sessions if s.held or s.starts_at >= self.now]
        coming = itertools.count()
        weights = [1.0 if s.held else 1.0 / (1 + next(coming)) ** 1.5 for s in usable]
        targets = self.rng.choices(range(len(usable)), weights=weights, k=count)
        for index in sorted(targets):
            self.cases.append(self._case(suffix, usable, index))

    def _case(self, suffix: str, usable: list[SessionPlan], index: int) -> CasePlan:
        rng, first = self.rng, usable[index]
        requester, creator = self._requester(suffix)
        created = min(
            first.deadline_at - _hours(rng, 2, 480),
            self.now - timedelta(minutes=rng.uniform(5, 600)),
        )
        plan = CasePlan(suffix, 0, requester, creator, created, "submitted", first)
        draw = rng.random()
        if draw < DRAFT:
            plan.status = "draft"
        elif draw < DRAFT + WITHDRAWN:
            self._withdraw(plan)
        else:
            self._submit(plan, late=rng.random() < LATE)
            if first.held:
                self._through_meetings(plan, usable, index, draw)
            else:
                self._coming(plan)
        self._choose_patient(plan)
        return plan

    def _requester(self, suffix: str) -> tuple[int, int]:
        order, cumulative = self.factory.requesters[suffix]
        requester = self.factory._pick(cumulative, order)
        creator = self.directory.user_of.get(requester)
        if creator is None or self.rng.random() < 0.15:
            creator = self.directory.secretariat_of[suffix]
        return requester, creator

    def _submit(self, plan: CasePlan, late: bool) -> None:
        rng, deadline = self.rng, plan.session.deadline_at
        if late and deadline + timedelta(hours=41) < self.now:
            plan.submitted_at, plan.is_late = deadline + _hours(rng, 1, 40), True
        else:
            plan.submitted_at = min(deadline, plan.created_at + _hours(rng, 0.1, 48), self.now)

    def _withdraw(self, plan: CasePlan) -> None:
        plan.status = "withdrawn"
        if self.rng.random() < 0.7:
            self._submit(plan, late=False)
        since = plan.submitted_at or plan.created_at
        plan.withdrawn_at = min(since + _hours(self.rng, 1, 72), self.now)

    def _coming(self, plan: CasePlan) -> None:
        """A case for a session still to come: on its published agenda, or in its pool."""
        if plan.session.status == "agenda_published" and self.rng.random() < 0.85:
            self._schedule(plan, plan.session, plan.submitted_at)
        elif self.rng.random() < 0.3:
            plan.status, plan.submitted_at, plan.is_late = "draft", None, False

    def _through_meetings(self, plan, usable, index: int, draw: float) -> None:
        """Refused, or postponed once or twice (at the agenda or at the meeting's close), then
        presented at the first held session that keeps it."""
        rng, session, since = self.rng, usable[index], plan.submitted_at
        if draw < DRAFT + WITHDRAWN + REFUSED:
            at = since + (session.starts_at - since) * rng.random()
            plan.moves.append(Move("case_refused", at, session, rng.choice(REFUSAL_REASONS)))
            plan.status = "refused"
            return
        postponements = 0
        if draw < DRAFT + WITHDRAWN + REFUSED + POSTPONED:
            postponements = 2 if rng.random() < POSTPONED_AGAIN else 1
        for _ in range(postponements):
            if rng.random() < POSTPONED_AT_CLOSE:  # it was on the agenda, then taken off
                self._add_item(plan, session, since, taken_off=True)
                at = min(session.starts_at + _hours(rng, 1, 3), self.now)
            else:
                at = since + (session.starts_at - since) * rng.random()
            index += 1  # there are always sessions to come after a held one
            session, since = usable[index], at
            plan.session = session
            plan.moves.append(Move("case_postponed", at, session, rng.choice(POSTPONE_REASONS)))
            if not session.held:
                plan.status = "postponed"
                return
        self._present(plan, session, since)

    def _add_item(self, plan, session, since, taken_off=False) -> ItemPlan | None:
        """Put the case on ``session``'s agenda; ``taken_off``: only the notification remains
        (the line went when the case was postponed at the close)."""
        rng = self.rng
        published = session.published_at or session.starts_at
        if since >= published:  # submitted late, or postponed after the agenda was out
            added = min(since + _hours(rng, 0.1, 3), session.starts_at - timedelta(minutes=5))
        else:
            added = since + (published - since) * rng.uniform(0.05, 0.95)
        added = min(added, self.now)
        plan.moves.append(Move("case_scheduled", added, session))
        if taken_off:
            return None
        session.items += 1
        return ItemPlan(
            session,
            session.items,
            added,
            late=added > published,
            override=rng.random() < OVERRIDE,
            registered=False,
        )

    def _schedule(self, plan: CasePlan, session: SessionPlan, since: datetime) -> None:
        plan.status, plan.session = "scheduled", session
        plan.item = self._add_item(plan, session, since)

    def _present(self, plan: CasePlan, session: SessionPlan, since: datetime) -> None:
        self._schedule(plan, session, since)
        rng, item = self.rng, plan.item
        item.registered = rng.random() < REGISTERED
        plan.status = "registered" if item.registered else "discussed"
        signed = session.starts_at + timedelta(hours=rng.lognormvariate(math.log(26), 1.0))
        if rng.random() < SIGNED_LATE:
            signed += timedelta(days=rng.uniform(5, 30))
        if signed <= self.now:
            item.signed_at = signed
            amended = signed + timedelta(days=rng.uniform(1, 60))
            if rng.random() < AMENDED and amended <= self.now:
                item.amended_at = amended

    def _choose_patient(self, plan: CasePlan) -> None:
        while True:
            patient = self.factory._patient(plan.rcp)
            if plan.status == "withdrawn" or plan.session is None:
                break
            key = (patient, id(plan.session))
            if key not in self.taken:
                self.taken.add(key)
                break
        plan.patient_id = patient

    # ids

    def number(self) -> None:
        """Ids in the order the application would have given them (creation time)."""
        self.sessions.sort(key=lambda s: (s.starts_at, s.rcp))
        for number, session in enumerate(self.sessions, start=1):
            session.id = number
        self.cases.sort(key=lambda c: c.created_at)
        for number, case in enumerate(self.cases, start=1):
            case.id = number
        items = sorted((c.item for c in self.cases if c.item), key=lambda i: i.added_at)
        for number, item in enumerate(items, start=1):
            item.id = number
        signed = sorted((i for i in items if i.signed_at), key=lambda i: i.signed_at)
        for number, item in enumerate(signed, start=1):
            item.fiche_id = number
        versions = [(i.signed_at, i, 0) for i in signed]
        versions += [(i.amended_at, i, 1) for i in signed if i.amended_at]
        versions.sort(key=lambda v: (v[0], v[1].id))
        ids: dict[int, list[int]] = defaultdict(list)
        for number, (_at, item, _rank) in enumerate(versions, start=1):
            ids[item.id].append(number)
        for item in signed:
            item.version_ids = tuple(ids[item.id])
        moves = sorted((m for c in self.cases for m in c.moves), key=lambda m: m.at)
        for number, move in enumerate(moves, start=1):
            move.id = number
        capacities = self._capacities()
        for session in self.sessions:
            session.capacity = max(session.items, capacities[session.rcp])

    def _capacities(self) -> dict[str, int]:
        """The RCP's capacity, or more: 30 % above its mean agenda, so that a busy RCP's
        sessions are not all full (rounded to 5)."""
        totals, held = defaultdict(int), defaultdict(int)
        for session in self.sessions:
            if session.held:
                totals[session.rcp] += session.items
                held[session.rcp] += 1
        return {
            suffix: max(
                facts.capacity, 5 * math.ceil(1.3 * totals[suffix] / max(1, held[suffix]) / 5)
            )
            for suffix, facts in self.facts.items()
        }


# --- the rows ---------------------------------------------------------------------------------


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Rows:
    """Every table's rows of one chunk of cases, built from the plan."""

    def __init__(self, rng, planner: Planner, context: dict):
        self.rng, self.now = rng, planner.now
        self.factory = planner.factory
        self.facts: dict[str, RcpFacts] = planner.facts
        self.addresses: dict[int, str] = context["addresses"]  # professional -> MSSanté
        self.dcc: dict[int, str] = context["dcc"]  # establishment -> DCC address
        self.signers: dict[int, str] = context["signers"]  # establishment -> seal subject
        self.validators: dict[str, int] = context["validators"]  # RCP suffix -> user id
        self.codes: set[str] = set()

    def chunk(self, cases: list[CasePlan]) -> dict[type, list[dict]]:
        """Rows by model, in an order that satisfies the foreign keys."""
        tables: dict[type, list[dict]] = {
            model: []
            for model in (
                Case, Tumour, Biomarker, Treatment, AgendaItem, Decision, Notification,
                Fiche, FicheVersion, FicheDocument, Transmission,
            )
        }  # fmt: skip
        for plan in cases:
            self._case(plan, tables)
        return tables

    def _case(self, plan: CasePlan, tables) -> None:
        row = self._case_row(plan)
        tables[Case].append(row)
        batch = population.CaseBatch(tumours=tables[Tumour], biomarkers=tables[Biomarker])
        self.factory._tumour(plan.id, plan.rcp, plan.created_at, batch)
        diagnosed = tables[Tumour][-1]["diagnosis_date"]
        for move in plan.moves:
            tables[Notification].append(self._notification(plan, move))
        item = plan.item
        if item is None:
            return
        tables[AgendaItem].append(self._item(plan, item))
        if not item.session.held:
            return
        if self.rng.random() < TREATED:
            tables[Treatment].append(self._treatment(plan, item, diagnosed))
        tables[Decision].append(self._decision(plan, item))
        if item.signed_at is None:
            return
        tables[Fiche].append(self._fiche(plan, item))
        for rank, version_id in enumerate(item.version_ids):
            version = self._version(plan, item, rank, version_id)
            tables[FicheVersion].append(version)
            tables[FicheDocument].extend(_documents(version))
            tables[Transmission].extend(self._transmissions(plan, row, version))

    def _case_row(self, plan: CasePlan) -> dict:
        rng = self.rng
        row = self.factory._clinical(plan.rcp, rng)
        events = [plan.created_at, plan.submitted_at, plan.withdrawn_at]
        events += [move.at for move in plan.moves]
        row.update(
            id=plan.id, patient_id=plan.patient_id, rcp_id=self.facts[plan.rcp].id,
            session_id=plan.session.id if plan.session else None,
            requester_id=plan.requester_id, created_by_id=plan.created_by, status=plan.status,
            created_at=plan.created_at, updated_at=max(e for e in events if e is not None),
            submitted_at=plan.submitted_at, is_late=plan.is_late,
        )  # fmt: skip
        if plan.submitted_at is not None:
            row.update(self.factory._submission(rng, plan.created_at))
        if plan.status == "withdrawn":
            row.update(
                withdrawn_at=plan.withdrawn_at,
                withdrawal_reason=rng.choice(clinical.WITHDRAWAL_REASONS),
            )
        return row

    def _notification(self, plan: CasePlan, move: Move) -> dict:
        return {
            "id": move.id,
            "kind": move.kind,
            "recipient_id": plan.requester_id,
            "session_id": move.session.id,
            "case_id": plan.id,
            "reason": move.reason,
            "created_at": move.at,
            "status": "sent",
        }

    def _item(self, plan: CasePlan, item: ItemPlan) -> dict:
        return {
            "id": item.id,
            "session_id": item.session.id,
            "case_id": plan.id,
            "position": item.position,
            "mode": "registered" if item.registered else "discussed",
            "guideline": GUIDELINES[RCP_KIND[plan.rcp]] if item.registered else None,
            "estimated_minutes": 2 if item.registered else 5,
            "late_addition": item.late,
            "override_incomplete": item.override,
            "override_reason": self.rng.choice(OVERRIDE_REASONS) if item.override else None,
            "added_at": item.added_at,
        }

    def _treatment(self, plan: CasePlan, item: ItemPlan, diagnosed) -> dict:
        """Begun before the RCP (HAS level 2 then fails): between the diagnosis and the day
        before the session."""
        session_day = item.session.starts_at.date()
        span = max(1, (session_day - diagnosed).days - 1)
        return {
            "id": plan.id,
            "case_id": plan.id,
            "rank": 1,
            "type_code": self.rng.choice(TREATMENTS),
            "status": "done" if self.rng.random() < 0.75 else "ongoing",
            "treatment_date": diagnosed + timedelta(days=self.rng.randrange(span)),
        }

    def _decision(self, plan: CasePlan, item: ItemPlan) -> dict:
        rng, kind = self.rng, RCP_KIND[plan.rcp]
        surveillance = not item.registered and rng.random() < SURVEILLANCE
        proposal = None if surveillance else rng.choice(list(PROPOSALS))
        cited = item.registered or rng.random() < GUIDELINE
        trial = not item.registered and rng.random() < TRIAL
        if item.registered:
            seconds = int(rng.uniform(20, 90))
        else:
            seconds = int(rng.lognormvariate(math.log(300), 0.6))
        if rng.random() < UNTIMED:
            seconds = 0
        spoken = item.session.starts_at + timedelta(minutes=5 * item.position)
        return {
            "id": item.id,
            "item_id": item.id,
            "proposal_code": proposal,
            "proposal_details": PROPOSALS.get(proposal, "Surveillance active."),
            "active_surveillance": surveillance,
            "guideline_name": GUIDELINES[kind] if cited else "",
            "guideline_version": "2025" if cited else "",
            "deviation_reason": rng.choice(DEVIATION_REASONS) if rng.random() < DEVIATION else "",
            "trial_proposed": trial,
            "trial_name": f"Essai BANC-{rng.randint(1, 40):02d}" if trial else "",
            "trial_identifier": f"NCT0{rng.randrange(10**7):07d}" if trial else "",
            "file_complete": not item.override,
            "quorum_status": QUORUM_NOT_REACHED if item.session.below_quorum else QUORUM_REACHED,
            "outcome": "registered" if item.registered else "discussed",
            "state": "validated" if item.signed_at else "ready_for_validation",
            "seconds_spent": seconds,
            "updated_by_id": self.validators[plan.rcp],
            "updated_at": min(spoken, self.now),
        }

    def _fiche(self, plan: CasePlan, item: ItemPlan) -> dict:
        return {
            "id": item.fiche_id,
            "set_id": _uuid(self.rng),
            "decision_id": item.id,
            "case_id": plan.id,
            "patient_id": plan.patient_id,
            "session_id": item.session.id,
            "created_at": item.signed_at,
            "current_version": len(item.version_ids),
            "lock_version": len(item.version_ids),
        }

    def _verification_code(self) -> str:
        length = CODE_GROUPS * CODE_GROUP_LENGTH
        while True:
            raw = "".join(self.rng.choices(CODE_ALPHABET, k=length))
            code = "-".join(
                raw[i : i + CODE_GROUP_LENGTH] for i in range(0, length, CODE_GROUP_LENGTH)
            )
            if code not in self.codes:
                self.codes.add(code)
                return code

    def _version(self, plan: CasePlan, item: ItemPlan, rank: int, version_id: int) -> dict:
        validated = item.amended_at if rank else item.signed_at
        facts = self.facts[plan.rcp]
        return {
            "id": version_id,
            "fiche_id": item.fiche_id,
            "version": rank + 1,
            "document_id": _uuid(self.rng),
            "verification_code": self._verification_code(),
            "snapshot": json.dumps(
                {"banc": "indicateurs", "dossier": plan.id, "version": rank + 1}
            ),
            "validated_at": validated,
            "validated_by_id": self.validators[plan.rcp],
            "amendment_reason": self.rng.choice(AMENDMENT_REASONS) if rank else None,
            "signer": self.signers[facts.establishment_id],
        }

    def _transmissions(self, plan: CasePlan, case_row: dict, version: dict) -> list[dict]:
        establishment = self.facts[plan.rcp].establishment_id
        recipients = [
            ("dcc", None, self.dcc[establishment]),
            ("requester", plan.requester_id, self.addresses[plan.requester_id]),
        ]
        if case_row.get("gp_id"):
            recipients.append(("gp", case_row["gp_id"], self.addresses[case_row["gp_id"]]))
        short = version["document_id"].replace("-", "")[:20]
        rows = []
        for role, professional, address in recipients:
            row = {
                "id": 3 * version["id"] - 2 + TRANSMISSION_ROLES.index(role),
                "message_id": f"<f.{short}.{role}.{professional or 0}@{MAIL_DOMAIN}>",
                "kind": "fiche",
                "channel": "mssante",
                "recipient_role": role,
                "recipient_address": address,
                "professional_id": professional,
                "fiche_version_id": version["id"],
                "patient_id": plan.patient_id,
                "created_at": version["validated_at"],
                "next_attempt_at": version["validated_at"],
            }
            row.update(self._delivery(role, version["validated_at"]))
            rows.append(row)
        return rows

    def _delivery(self, role: str, created: datetime) -> dict:
        """Pending for a few minutes (or, lately, waiting for a retry), then sent (a few after
        hours of retries), acknowledged later by most, or failed for good after six attempts."""
        rng, now = self.rng, self.now
        if created > now - timedelta(minutes=10):
            return {"status": "pending", "attempts": 0}
        if created > now - timedelta(days=RETRYING_DAYS) and rng.random() < RETRYING:
            return {
                "status": "pending", "attempts": rng.randint(1, 3), "last_error": RETRY,
                "next_attempt_at": now + timedelta(minutes=rng.uniform(1, 60)),
            }  # fmt: skip
        if rng.random() < FAILED[role]:
            failed = min(created + _hours(rng, 20, 30), now)
            return {
                "status": "failed", "attempts": 6, "failed_at": failed, "next_attempt_at": failed,
                "last_error": FAILURE,
            }  # fmt: skip
        retried = rng.random() < 0.05
        sent = created + (_hours(rng, 1, 12) if retried else timedelta(seconds=rng.uniform(5, 900)))
        sent = min(sent, now)
        row = {"status": "sent", "attempts": 2 if retried else 1, "sent_at": sent}
        acknowledged = sent + timedelta(hours=rng.lognormvariate(math.log(20), 1.2))
        if rng.random() < ACKNOWLEDGED[role] and acknowledged <= now:
            row.update(status="acknowledged", acknowledged_at=acknowledged)
        return row


def _documents(version: dict) -> list[dict]:
    """Placeholder bytes (bench only: the statistics never read a document), true digests."""
    rows = []
    for offset, (kind, body) in enumerate(
        (
            ("pdf", f"%PDF-1.7\n% Banc d'essai : fiche fictive {version['document_id']}\n"),
            ("cda", f"<ClinicalDocument><!-- banc d'essai {version['document_id']} -->"),
        )
    ):
        content = body.encode()
        rows.append(
            {
                "id": 2 * version["id"] - 1 + offset,
                "version_id": version["id"],
                "kind": kind,
                "sha256": hashlib.sha256(content).hexdigest(),
                "size_bytes": len(content),
                "content": content,
            }
        )
    return rows


def _attendances(rng: random.Random, sessions: list[SessionPlan], facts: dict[str, RcpFacts]):
    """Held sessions: the coordinator, one or two professionals per required specialty, a few
    more participants; below the quorum, only those of two specialties remain."""
    next_id = itertools.count(1)
    for session in sessions:
        if not session.held:
            continue
        rcp = facts[session.rcp]
        present = _attendees(rng, rcp)
        if session.below_quorum:
            specialties = sorted({specialty for _, specialty in present})
            kept = rng.sample(specialties, min(2, len(specialties)))
            present = [(pro, specialty) for pro, specialty in present if specialty in kept]
        for professional, _specialty in present:
            arrived = session.starts_at + timedelta(minutes=rng.uniform(-5, 15))
            yield {
                "id": next(next_id),
                "session_id": session.id,
                "professional_id": professional,
                "mode": "remote" if rng.random() < 0.3 else "on_site",
                "quorum_member": rng.random() >= NOT_QUORUM_MEMBER,
                "arrived_at": arrived,
                "left_at": arrived + timedelta(minutes=rng.uniform(45, 150)),
            }


def _attendees(rng: random.Random, rcp: RcpFacts) -> list[tuple[int, str]]:
    chosen = {pro: specialty for pro, specialty in rcp.people if pro == rcp.coordinator_id}
    for code in rcp.required:
        pool = [person for person in rcp.people if person[1] == code]
        for pro, specialty in rng.sample(pool, min(len(pool), rng.randint(1, 2))):
            chosen[pro] = specialty
    others = [person for person in rcp.people if person[0] not in chosen]
    for pro, specialty in rng.sample(others, min(len(others), rng.randint(1, 4))):
        chosen[pro] = specialty
    return sorted(chosen.items())


# --- the directory's additions ----------------------------------------------------------------


def _rcp_facts(directory: Directory) -> dict[str, RcpFacts]:
    professionals = db.session.scalars(
        select(Professional).where(Professional.establishment_id.is_not(None))
    ).all()
    facts = {}
    for suffix, rcp_id in directory.rcps.items():
        rcp = db.session.get(Rcp, rcp_id)
        people = {m.professional_id: m.professional.specialty_code for m in rcp.members}
        if rcp.coordinator is not None:
            people[rcp.coordinator_id] = rcp.coordinator.specialty_code
        for code in rcp.required_specialty_codes:
            if code not in people.values():
                people.update(_guest(professionals, code, rcp.establishment_id))
        facts[suffix] = RcpFacts(
            rcp.id, suffix, rcp.establishment_id, rcp.coordinator_id,
            rcp.required_specialty_codes, rcp.capacity, sorted(people.items()),
        )  # fmt: skip
    return facts


def _guest(professionals, code: str, establishment_id: int) -> dict[int, str]:
    """A required specialty no usual participant has: a colleague of the site attends, or one
    of the other establishment (remotely); the directory leaves a few such gaps."""
    of_code = [p for p in professionals if p.specialty_code == code]
    local = [p for p in of_code if p.establishment_id == establishment_id]
    return {p.id: code for p in (local or of_code)[:1]}


def _statistics_accounts(now: datetime) -> tuple[str, str, int]:
    """A coordinator (3C) of every RCP of both establishments; and the physician account that
    coordinates the most RCPs (the demo's breast and skin RCPs: Dr Martin)."""
    establishments = db.session.scalars(select(Establishment).order_by(Establishment.id)).all()
    for establishment in establishments:
        establishment.dcc_address = f"dcc.{establishment.finess}@{MAIL_DOMAIN}"
    user = _user(
        STATISTICS_USERNAME, "coordinator", "Centre de coordination en cancérologie (3C)",
        hash_password(PASSWORD), now,
    )  # fmt: skip
    db.session.add(user)
    db.session.flush()
    db.session.add_all(
        CoordinatorScope(user_id=user.id, establishment_id=establishment.id)
        for establishment in establishments
    )
    physician, rcps = db.session.execute(
        select(User.username, func.count(Rcp.id))
        .join(Rcp, Rcp.coordinator_id == User.professional_id)
        .where(User.role == "physician")
        .group_by(User.id, User.username)
        .order_by(func.count(Rcp.id).desc(), User.id)
        .limit(1)
    ).one()
    return user.username, physician, rcps


def _context(rng: random.Random, facts: dict[str, RcpFacts]) -> dict:
    establishments = db.session.scalars(select(Establishment)).all()
    physicians = db.session.execute(
        select(User.id, User.professional_id).where(User.role == "physician").order_by(User.id)
    ).all()
    account_of = {professional: user for user, professional in physicians}
    return {
        "addresses": dict(
            db.session.execute(select(Professional.id, Professional.mssante_address)).all()
        ),
        "dcc": {e.id: e.dcc_address for e in establishments},
        "signers": {e.id: f"CN=Cachet RCP {e.name},O={e.name},C=FR" for e in establishments},
        # Fiches are signed by the coordinating physician when they have an account, otherwise
        # by one of the physician accounts (a validation delegate).
        "validators": {
            suffix: account_of.get(rcp.coordinator_id) or rng.choice(physicians)[0]
            for suffix, rcp in sorted(facts.items())
        },
    }


# --- the whole fill ---------------------------------------------------------------------------


def _patients_rows(cohort, cases: list[CasePlan], rng, directory: Directory, now):
    """A patient is registered just before their first case, by whoever registered it."""
    first: dict[int, CasePlan] = {}
    for plan in cases:  # in creation order
        first.setdefault(plan.patient_id, plan)
    for row in cohort.rows:
        plan = first.get(row["id"])
        if plan is not None:
            row["created_at"] = plan.created_at - _hours(rng, 1, 720)
            row["created_by_id"] = plan.created_by
        else:
            row["created_at"] = now - timedelta(days=rng.uniform(1, 365 * YEARS))
            row["created_by_id"] = directory.coordinator_user
        row["updated_at"] = row["created_at"]
        yield row


def _session_rows(sessions: list[SessionPlan], facts: dict[str, RcpFacts]):
    places = {spec.suffix: spec.place for spec in RCP_SPECS}
    for session in sessions:
        yield {
            "id": session.id,
            "rcp_id": facts[session.rcp].id,
            "starts_at": session.starts_at,
            "deadline_at": session.deadline_at,
            "place": places[session.rcp],
            "capacity": session.capacity,
            "status": session.status,
            "created_at": session.starts_at - timedelta(weeks=26),
            "published_at": session.published_at,
            "agenda_version": 1 + session.items,
        }


def plan(rng, directory: Directory, facts: dict[str, RcpFacts], cohort, case_count: int, now):
    planner = Planner(rng, directory, facts, cohort, now)
    weights = population.RCP_WEIGHTS
    total = sum(weights.values())
    for suffix in sorted(facts, key=list(weights).index):
        sessions = planner.plan_sessions(suffix)
        planner.plan_cases(suffix, sessions, round(case_count * weights[suffix] / total))
    planner.number()
    return planner


WRITTEN = [
    Patient, MeetingSession, Attendance, Case, Tumour, Biomarker, Treatment, AgendaItem,
    Decision, Notification, Fiche, FicheVersion, FicheDocument, Transmission,
]  # fmt: skip


def fill(case_count: int = FULL_CASES, professionals: int = 50) -> Filled:
    """Directory (ORM), then five years of activity ending now (COPY / executemany)."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    now = utcnow()
    directory = seed_directory(rng, professionals, now)
    coordinator, physician, physician_rcps = _statistics_accounts(now)
    facts = _rcp_facts(directory)
    context = _context(rng, facts)
    db.session.commit()
    _log(f"annuaire : {directory.counts}", started)

    cohort = population.patients(rng, max(1000, case_count // 2))
    planner = plan(rng, directory, facts, cohort, case_count, now)
    _log(f"plan : {len(planner.sessions)} séances, {len(planner.cases)} dossiers", started)

    tables = {model: model.__table__ for model in WRITTEN}
    with db.engine.begin() as conn:
        patients = _patients_rows(cohort, planner.cases, rng, directory, now)
        insert_rows(conn, tables[Patient], patients)
        sessions = _session_rows(planner.sessions, facts)
        insert_rows(conn, tables[MeetingSession], sessions)
        insert_rows(conn, tables[Attendance], _attendances(rng, planner.sessions, facts))
        _log("patients, séances, présences", started)
        rows = Rows(rng, planner, context)
        for first in range(0, len(planner.cases), CHUNK):
            for model, chunk in rows.chunk(planner.cases[first : first + CHUNK]).items():
                insert_rows(conn, tables[model], chunk)
        _log("dossiers, ordres du jour, décisions, fiches, transmissions", started)
        reset_sequences(conn, [tables[model] for model in WRITTEN])
    analyze()
    _log("VACUUM ANALYZE", started)
    return Filled(
        time.perf_counter() - started,
        coordinator,
        physician,
        physician_rcps,
        now.year - 1,
    )
