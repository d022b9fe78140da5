"""Generated rows (pure data, no database): patients, sessions, cases, tumours, biomarkers.

Deterministic for a given seed. Patients have realistic French names (accents, compound and
particle names, used names of married women), search keys from ``core.text.search_key`` and
valid, unique INS matricules from ``patients.ins.make_matricule``.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from rcp_app.core.text import search_key
from rcp_app.demo import patient_data as demo
from rcp_app.meetings.operations import local_to_utc
from rcp_app.patients import ins

from . import clinical
from .directory import RCP_KIND, RCP_SPECS, Directory
from .names import LAST_NAMES_BY_RANK

# Zipf-like weights: rank r gets 1 / r**0.8 (a handful of very common names, a long tail).
NAME_WEIGHTS = list(
    itertools.accumulate(1 / (r + 1) ** 0.8 for r in range(len(LAST_NAMES_BY_RANK)))
)
KIND_WEIGHTS = {
    "SEIN": 24, "DIGESTIF": 20, "THORAX": 16, "URO": 14, "GYNECO": 8, "ORL": 7,
    "ONCOGERIATRIE": 6, "DERMATO": 5,
}  # fmt: skip
# Every RCP of a kind gets its kind's weight: 40 RCPs of 5,000 (DERMATO-like) to 24,000
# (SEIN-like) cases for 200,000.
RCP_WEIGHTS = {spec.suffix: KIND_WEIGHTS[RCP_KIND[spec.suffix]] for spec in RCP_SPECS}
FEMALE_ONLY, MALE_ONLY = {"SEIN", "GYNECO"}, {"URO"}
APPAREILS = {spec.suffix: spec.appareil for spec in RCP_SPECS}
HISTORY_WEEKS = 520  # ten years of weekly sessions per RCP
FUTURE_WEEKS = 8


def weighted_name(rng: random.Random) -> str:
    return LAST_NAMES_BY_RANK[bisect.bisect(NAME_WEIGHTS, rng.random() * NAME_WEIGHTS[-1])]


@dataclass
class Cohort:
    rows: list[dict]
    female: list[int] = field(default_factory=list)
    male: list[int] = field(default_factory=list)
    elderly: list[int] = field(default_factory=list)  # born before 1950


def _birth_date(rng: random.Random) -> date:
    """1930-2005, most births around 1952 (cancer patients are mostly 55-85)."""
    start, end, mode = date(1930, 1, 1), date(2005, 12, 31), date(1952, 1, 1)
    return start + timedelta(days=int(rng.triangular(0, (end - start).days, (mode - start).days)))


def _birthplace(rng: random.Random) -> str:
    draw = rng.random()
    pool = (
        demo.CORSICAN_BIRTHPLACES if draw < 0.03
        else demo.FOREIGN_BIRTHPLACES if draw < 0.15
        else demo.FRANCE_BIRTHPLACES
    )  # fmt: skip
    return rng.choice(pool)


def _first_names(rng: random.Random, sex: str) -> list[str]:
    pool = demo.FEMALE_FIRST_NAMES if sex == "F" else demo.MALE_FIRST_NAMES
    while True:
        names = rng.sample(pool, rng.choices([1, 2, 3], weights=[3, 5, 2])[0])
        parts = [part for name in names for part in name.split("-")]
        if len(parts) == len(set(parts)):  # no "Pierre-Yves Pierre"
            return names


def _status(rng: random.Random) -> str:
    draw = rng.random()
    return "QUAL" if draw < 0.70 else "VALI" if draw < 0.82 else "RECUP" if draw < 0.90 else "PROV"


def _matricule(rng, sex: str, born: date, birthplace: str, used: set[str]) -> str:
    department, commune = birthplace[:2], birthplace[2:]
    if department in ("2A", "2B") and born.year < 1976:
        department = "20"  # Corsica was one department until 1976
    while True:
        value = ins.make_matricule(
            "1" if sex == "M" else "2", born.year, born.month, department, commune,
            rng.randint(1, 999),
        )  # fmt: skip
        if value not in used:
            used.add(value)
            return value


def patients(rng: random.Random, count: int) -> Cohort:
    ipps = rng.sample(range(10_000_000, 100_000_000), count)
    used_ins: set[str] = set()
    cohort = Cohort(rows=[])
    for index in range(count):
        pid = index + 1
        sex = "F" if rng.random() < 0.52 else "M"
        born = _birth_date(rng)
        birthplace = _birthplace(rng)
        birth_name = weighted_name(rng)
        if rng.random() < 0.03:
            birth_name = f"{birth_name}-{weighted_name(rng)}"
        first_names = _first_names(rng, sex)
        used_name = used_first = None
        if sex == "F" and born.year < 1995 and rng.random() < 0.35:
            used_name = weighted_name(rng)
        if len(first_names) > 1 and rng.random() < 0.12:
            used_first = first_names[1]
        status = _status(rng)
        has_ins = status in ("QUAL", "RECUP") or (status == "VALI" and rng.random() < 0.2)
        matricule = _matricule(rng, sex, born, birthplace, used_ins) if has_ins else None
        oid = None
        if matricule:
            oid = ins.OID_TEST_NIR if rng.random() < 0.08 else ins.OID_DEMO_NIR
        cohort.rows.append(
            {
                "id": pid,
                "birth_name": birth_name,
                "birth_first_names": " ".join(first_names),
                "first_birth_first_name": first_names[0],
                "used_name": used_name,
                "used_first_name": used_first,
                "sex": sex,
                "birth_date": born,
                "birthplace_code": birthplace,
                "identity_status": status,
                "ins_matricule": matricule,
                "ins_oid": oid,
                "ipp": str(ipps[index]),
                "birth_name_key": search_key(birth_name),
                "used_name_key": search_key(used_name) or None,
                "first_name_key": search_key(first_names[0]),
            }
        )
        (cohort.female if sex == "F" else cohort.male).append(pid)
        if born.year < 1950:
            cohort.elderly.append(pid)
    return cohort


@dataclass(frozen=True)
class SessionInfo:
    id: int
    rcp: str
    starts_at: datetime
    deadline_at: datetime


def sessions(directory: Directory, now: datetime) -> tuple[list[dict], dict[str, list]]:
    """Weekly sessions of every RCP: ten years of closed ones, eight weeks of planned ones."""
    rows, by_rcp = [], {}
    today = now.date()
    for spec in RCP_SPECS:
        first = today + timedelta(days=(spec.weekday - today.weekday()) % 7)
        first -= timedelta(weeks=HISTORY_WEEKS)
        infos = []
        for week in range(HISTORY_WEEKS + FUTURE_WEEKS):
            starts = local_to_utc(datetime.combine(first + timedelta(weeks=week), spec.start))
            info = SessionInfo(len(rows) + 1, spec.suffix, starts, starts - timedelta(hours=48))
            rows.append(
                {
                    "id": info.id,
                    "rcp_id": directory.rcps[spec.suffix],
                    "starts_at": starts,
                    "deadline_at": info.deadline_at,
                    "place": spec.place,
                    "capacity": spec.capacity,
                    "status": "closed" if starts < now else "planned",
                    "created_at": starts - timedelta(weeks=26),
                }
            )
            infos.append(info)
        by_rcp[spec.suffix] = infos
    return rows, by_rcp


def _zipf(rng: random.Random, items: list[int]) -> tuple[list[int], list[float]]:
    order = items[:]
    rng.shuffle(order)
    return order, list(itertools.accumulate(1 / (r + 1) for r in range(len(order))))


@dataclass
class CaseBatch:
    cases: list[dict] = field(default_factory=list)
    tumours: list[dict] = field(default_factory=list)
    biomarkers: list[dict] = field(default_factory=list)


class CaseFactory:
    """Cases spread over RCPs, sessions and requesters, one tumour each (with biomarkers)."""

    def __init__(self, rng: random.Random, directory: Directory, cohort: Cohort, by_rcp, now):
        self.rng, self.directory, self.cohort, self.now = rng, directory, cohort, now
        self.past = {k: [s for s in v if s.starts_at < now] for k, v in by_rcp.items()}
        self.future = {k: [s for s in v if s.starts_at >= now] for k, v in by_rcp.items()}
        self.rcp_names = list(RCP_WEIGHTS)
        self.rcp_cumulative = list(itertools.accumulate(RCP_WEIGHTS.values()))
        self.requesters = {
            suffix: _zipf(rng, directory.specialists[directory.rcp_establishment[suffix]])
            for suffix in RCP_WEIGHTS
        }
        self.stages = {
            id(t): t.stage() for templates in clinical.TUMOURS.values() for t in templates
        }
        self.active: set[tuple[int, int]] = set()
        self.first_case_at: dict[int, datetime] = {}
        self.first_case_by: dict[int, int] = {}  # patient -> who registered them (user id)
        self.next_marker_id = 1

    def _pick(self, cumulative: list[float], items: list):
        return items[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]

    def _patient(self, suffix: str) -> int:
        suffix = RCP_KIND[suffix]
        pool = (
            self.cohort.female if suffix in FEMALE_ONLY
            else self.cohort.male if suffix in MALE_ONLY
            else self.cohort.elderly if suffix == "ONCOGERIATRIE"
            else None
        )  # fmt: skip
        if pool is None:
            return self.rng.randint(1, len(self.cohort.rows))
        return self.rng.choice(pool)

    def _session_and_status(self, suffix: str) -> tuple[SessionInfo | None, str]:
        draw = self.rng.random()
        if draw < 0.01:
            return None, "draft"
        if draw < 0.03:
            session = self.rng.choice(self.future[suffix])
            status_draw = self.rng.random()
            return session, "draft" if status_draw < 0.45 else (
                "submitted" if status_draw < 0.95 else "withdrawn"
            )
        status_draw = self.rng.random()
        status = (
            "submitted" if status_draw < 0.78 else "withdrawn" if status_draw < 0.92 else "draft"
        )
        return self.rng.choice(self.past[suffix]), status

    def case(self, case_id: int, batch: CaseBatch) -> None:
        rng, directory = self.rng, self.directory
        suffix = self._pick(self.rcp_cumulative, self.rcp_names)
        while True:
            session, status = self._session_and_status(suffix)
            patient = self._patient(suffix)
            key = (patient, session.id if session else -case_id)
            if status == "withdrawn" or key not in self.active:
                break
        if status != "withdrawn":
            self.active.add(key)
        order, cumulative = self.requesters[suffix]
        requester = self._pick(cumulative, order)
        creator = directory.user_of.get(requester)
        if creator is None or rng.random() < 0.15:
            # The RCP's secretariat registers on their behalf.
            creator = directory.secretariat_of[suffix]
        deadline = session.deadline_at if session else self.now
        created = min(deadline - timedelta(hours=rng.uniform(2, 480)), self.now - timedelta(
            minutes=rng.uniform(5, 600)
        ))  # fmt: skip
        if created < self.first_case_at.get(patient, created + timedelta(1)):
            self.first_case_at[patient], self.first_case_by[patient] = created, creator
        row = self._clinical(suffix, rng)
        row.update(
            id=case_id, patient_id=patient, rcp_id=directory.rcps[suffix],
            session_id=session.id if session else None, requester_id=requester,
            created_by_id=creator, status=status, created_at=created, updated_at=created,
        )  # fmt: skip
        if status == "submitted" or (status == "withdrawn" and rng.random() < 0.7):
            late = deadline < self.now - timedelta(days=2) and rng.random() < 0.04
            submitted = (
                deadline + timedelta(hours=rng.uniform(1, 40)) if late
                else min(deadline, created + timedelta(hours=rng.uniform(0.1, 48)), self.now)
            )  # fmt: skip
            row.update(submitted_at=submitted, updated_at=submitted, is_late=late)
        if status == "withdrawn":
            row.update(
                withdrawn_at=min(row["updated_at"] + timedelta(hours=rng.uniform(1, 72)), self.now),
                withdrawal_reason=rng.choice(clinical.WITHDRAWAL_REASONS),
            )
            row["updated_at"] = row["withdrawn_at"]
        if status == "submitted" or row.get("submitted_at"):
            row.update(self._submission(rng, created))
        batch.cases.append(row)
        self._tumour(case_id, suffix, created, batch)

    def _clinical(self, suffix: str, rng) -> dict:
        suffix = RCP_KIND[suffix]
        organ = clinical.ORGANS[suffix]
        relapse = rng.random() < 0.2
        row = {
            "motive_treatment": rng.random() < 0.85,
            "motive_diagnostic": rng.random() < 0.2,
            "motive_recourse": suffix == "GYNECO" and rng.random() < 0.3,
            "nature": "transversal" if organ is None else "organ",
            "appareil_code": APPAREILS[suffix],
            "organ_code": organ,
            "theme_code": "ORG-130" if organ is None else None,
            "phase_code": "MED-244" if relapse else "MED-268",
            "progression_distant": relapse and rng.random() < 0.5,
            "discovery_screening": rng.choice(("yes", "no", "unknown", None)),
            "performance_status": rng.choice((0, 0, 1, 1, 2, None)),
            "synthesis": rng.choice(clinical.SYNTHESES),
            "question": rng.choice(clinical.QUESTIONS),
            "comorbidities": rng.choice(("", "Hypertension artérielle.", "Diabète de type 2.")),
        }
        if suffix == "ONCOGERIATRIE":
            row["g8_score"] = rng.randint(8, 16)
        return row

    def _submission(self, rng, created: datetime) -> dict:
        gp_known = rng.random() < 0.8
        return {
            "gp_id": rng.choice(self.directory.gps) if gp_known else None,
            "gp_unknown": not gp_known,
            "patient_informed_on": (created - timedelta(days=rng.randint(1, 10))).date(),
            "patient_informed_by": "Médecin référent",
            "patient_non_opposition": True,
        }

    def _tumour(self, case_id: int, suffix: str, created: datetime, batch: CaseBatch) -> None:
        template = self.rng.choice(clinical.TUMOURS[RCP_KIND[suffix]])
        group, edition, basis = self.stages[id(template)]
        batch.tumours.append(
            {
                "id": case_id,
                "case_id": case_id,
                "rank": 1,
                "diagnosis_date": (created - timedelta(days=self.rng.randint(7, 90))).date(),
                "topography_code": template.topography,
                "morphology_code": template.morphology,
                "laterality_code": template.laterality,
                "tnm_edition": clinical.EDITION,
                **{k: template.tnm.get(k) for k in _TNM_FIELDS},
                "stage_group": group,
                "stage_edition": edition,
                "stage_basis": basis,
            }
        )
        for code, value in sorted(template.markers.items()):
            batch.biomarkers.append(
                {"id": self.next_marker_id, "tumour_id": case_id, "code": code, "value": value}
            )
            self.next_marker_id += 1


_TNM_FIELDS = [f"{kind}_{axis}" for kind in ("clinical", "pathological") for axis in "tnm"]
