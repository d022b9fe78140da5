"""A past session of the breast RCP, held and closed, whose fiches are validated and signed.

Everything goes through the operations a real meeting uses (case registration, agenda,
publication, attendance, decisions, closing, validation, one amendment), so that the demo
shows signed fiches, their versions and the verification page on a fresh installation.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from ..agenda import operations as agenda
from ..attendance import operations as attendance_ops
from ..auth.models import User
from ..cases import operations as case_ops
from ..decisions import operations as decision_ops
from ..directory.models import Professional, Rcp
from ..extensions import db
from ..fiches import operations as fiche_ops
from ..meetings import operations as sessions_ops
from ..meetings.models import MeetingSession
from ..patients.models import Patient
from .aftercare_data import CASES as AFTERCARE_CASES
from .case_data import _ago, _tumour

SURGERY, CHEMOTHERAPY, HORMONOTHERAPY = "387713003", "C15632", "C547"
# (patient rule, case values, decision values)
PAST_CASES = [
    (
        ("F", 45, 60),
        {
            "motive_treatment": True,
            "organ_code": "76752008",
            "phase_code": "MED-268",
            "discovery_screening": "yes",
            "performance_status": "0",
            "synthesis": "Lésion ACR5 du sein droit découverte au dépistage, biopsie : carcinome "
            "canalaire infiltrant, RH+, HER2 négatif.",
            "question": "Chirurgie première ?",
            "tumour_rows": [
                _tumour(
                    "C50.4",
                    "8500/3",
                    40,
                    {
                        "clinical_t": "T1c",
                        "clinical_n": "N0",
                        "clinical_m": "M0",
                        "laterality_code": "24028007",
                    },
                    {"breast.er": "95", "breast.pr": "70", "breast.her2": "0"},
                )
            ],
        },
        {
            "outcome": "discussed",
            "proposal_code": SURGERY,
            "proposal_details": "Tumorectomie droite et ganglion sentinelle.",
            "alt_code_1": HORMONOTHERAPY,
            "alt_details_1": "Hormonothérapie néoadjuvante si chirurgie différée.",
            "guideline_name": "Référentiel régional cancers du sein",
            "guideline_version": "2025",
        },
    ),
    (
        ("F", 55, 66),
        {
            "motive_treatment": True,
            "organ_code": "76752008",
            "phase_code": "MED-268",
            "discovery_screening": "no",
            "performance_status": "1",
            "synthesis": "Carcinome lobulaire infiltrant du sein gauche opéré : pT2 pN0, RH+.",
            "question": "Hormonothérapie adjuvante seule ?",
            "tumour_rows": [
                _tumour(
                    "C50.2",
                    "8520/3",
                    60,
                    {
                        "clinical_t": "T2",
                        "clinical_n": "N0",
                        "clinical_m": "M0",
                        "pathological_t": "pT2",
                        "pathological_n": "pN0",
                        "laterality_code": "7771000",
                    },
                    {"breast.er": "80", "breast.pr": "40", "breast.her2": "1+"},
                )
            ],
        },
        {
            "outcome": "discussed",
            "proposal_code": HORMONOTHERAPY,
            "proposal_details": "Hormonothérapie adjuvante 5 ans, radiothérapie du sein.",
            "guideline_name": "Référentiel régional cancers du sein",
            "guideline_version": "2025",
        },
    ),
    (
        ("F", 40, 52),
        {
            "motive_treatment": True,
            "organ_code": "76752008",
            "phase_code": "MED-244",
            "relapse_date": _ago(30),
            "progression_local": True,
            "performance_status": "0",
            "synthesis": "Récidive locale isolée 6 ans après tumorectomie et radiothérapie du sein "
            "gauche pour un carcinome canalaire infiltrant RH+.",
            "question": "Mastectomie de rattrapage ?",
            "tumour_rows": [
                _tumour(
                    "C50.4",
                    "8500/3",
                    35,
                    {
                        "clinical_t": "T1c",
                        "clinical_n": "N0",
                        "clinical_m": "M0",
                        "laterality_code": "7771000",
                    },
                    {"breast.er": "90", "breast.pr": "50", "breast.her2": "1+"},
                )
            ],
        },
        {
            "outcome": "discussed",
            "proposal_code": SURGERY,
            "proposal_details": "Mastectomie totale gauche de rattrapage, reconstruction différée.",
            "guideline_name": "Référentiel régional cancers du sein",
            "guideline_version": "2025",
        },
    ),
]
DECIDED = {"file_complete": "yes", "quorum_status": "ORG-126"}
# Last week's session: the first two cases, those whose follow-up the demo shows
# (aftercare.py), and the relapse left ready for the coordinating physician.
SESSION_CASES = [*PAST_CASES[:2], *(a.spec for a in AFTERCARE_CASES), *PAST_CASES[2:]]


def _past_start(rcp: Rcp, now: datetime, weeks_ago: int = 1) -> datetime:
    """A past session time of the RCP (its next one minus whole weeks)."""
    upcoming = sessions_ops.next_start_times(rcp, 1, now)[0]
    return upcoming - timedelta(days=7 * weeks_ago)


def _patients(patients: list[Patient], rules: list[tuple[str | None, int, int]]) -> list[Patient]:
    """One patient per rule (sex or None for any, age range), none already in a case."""
    from ..cases.models import Case

    taken = set(db.session.scalars(select(Case.patient_id)))
    chosen = []
    for sex, low, high in rules:
        for patient in reversed(patients):
            age = datetime.now().year - patient.birth_date.year
            if patient.id in taken or (sex and patient.sex != sex) or not low <= age <= high:
                continue
            taken.add(patient.id)
            chosen.append(patient)
            break
        else:
            raise LookupError(f"no demo patient {sex} aged {low}-{high}")
    return chosen


def hold_session(
    rcp: Rcp,
    patients: list[Patient],
    author: User,
    now: datetime,
    count: int | None = None,
    weeks_ago: int = 1,
    cases: list[tuple] = PAST_CASES,
):
    """A past session of ``rcp`` (last week's by default): ``count`` cases registered (the
    ``cases`` in turn), put on the agenda, published, discussed with a quorum, decided and
    closed; every decision ready for validation. Returns (session, agenda items, the
    validating physician's user)."""
    validator = db.session.scalar(
        select(User).where(User.professional_id == rcp.coordinator_id, User.role == "physician")
    )
    count = len(cases) if count is None else count
    specs = [cases[i % len(cases)] for i in range(count)]
    rules = [spec[0] if count <= len(cases) else (None, 20, 69) for spec in specs]
    # The demo GP's account (dr.bernard) is the GP of these patients: their fiches reach
    # the GP's inbox.
    gp = db.session.scalar(
        select(Professional)
        .join(User, User.professional_id == Professional.id)
        .where(User.role == "gp")
    )
    starts = _past_start(rcp, now, weeks_ago)
    # Cases are registered for sessions to come: the session is created ahead, filled, then
    # set back to last week's date before it is held.
    ahead = now.replace(microsecond=0) + timedelta(days=1, minutes=7)
    session = MeetingSession(
        rcp=rcp,
        starts_at=ahead,
        deadline_at=ahead,
        place=rcp.place,
        capacity=max(rcp.capacity, count),
        status="planned",
        created_at=starts - timedelta(days=21),
    )
    db.session.add(session)
    db.session.flush()
    for patient, (_, values, _) in zip(_patients(patients, rules), specs, strict=True):
        data = {
            "session_id": str(session.id),
            "requester_id": str(author.professional_id),
            "nature": rcp.nature,
            "appareil_code": rcp.appareil_code or "",
            "gp": str(gp.id) if gp else "unknown",
            "patient_informed_on": _ago(14),
            "patient_informed_by": author.professional.display_name,
            "patient_non_opposition": True,
            **values,
        }
        case = case_ops.create_case(patient, rcp, author, data, submit=True)
        agenda.assign(session, case.id, override_reason="Démonstration", now=starts)
    session.starts_at = starts
    session.deadline_at = starts - timedelta(hours=rcp.deadline_hours)
    agenda.publish(session, session.agenda_version, now=starts)
    sessions_ops.change_status(session, "in_progress", session.version)
    _record_attendance(session, validator, starts)
    items = agenda.agenda_items(session)
    for item, (_, _, decision) in zip(items, specs, strict=True):
        decision_ops.save_decision(item, {**DECIDED, **decision}, 0, validator.id, now=starts)
        decision_ops.mark_ready(item, starts)
    decision_ops.close_session(session, {}, session.version, now=starts)
    return session, items, validator


def add_past_session(rcp: Rcp, patients: list[Patient], author: User, now: datetime) -> dict:
    """Hold last week's session of ``rcp`` and sign its fiches but the last one, left ready
    for the coordinating physician to validate in the demo; returns the counts."""
    session, items, validator = hold_session(rcp, patients, author, now, cases=SESSION_CASES)
    end = session.starts_at + timedelta(hours=1)
    versions = [fiche_ops.validate(item, validator, end) for item in items[:-1]]
    first = versions[0].fiche
    fiche_ops.amend(
        first,
        validator,
        {**DECIDED, **PAST_CASES[0][2], "exams_requested": "IRM mammaire bilatérale."},
        "Ajout de l'IRM mammaire demandée en séance, omise dans la version 1.",
        first.current_version,
        end + timedelta(days=1),
    )
    return {
        "séance passée": 1,
        "fiches RCP signées": len(versions),
        "avenant": 1,
        "fiche à valider": len(items) - len(versions),
    }


def _record_attendance(session: MeetingSession, user: User, when: datetime) -> None:
    """The coordinator plus one professional of each required specialty, all quorum members."""
    wanted = list(session.rcp.required_specialty_codes)
    present = [session.rcp.coordinator_id]
    for code in wanted:
        pid = db.session.scalar(
            select(Professional.id)
            .where(Professional.specialty_code == code, Professional.id.not_in(present))
            .order_by(Professional.id)
        )
        if pid is not None:
            present.append(pid)
    for pid in present:
        attendance_ops.record_attendance(session, user, pid, now=when)
