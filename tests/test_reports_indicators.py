"""Every indicator of the statistics page against a small world counted by hand (issue 14).

The expected values are counted from the definitions (``indicators.SECTIONS``, ``DELAYS``, the
table functions' definitions, ``populations``) and the world below, never copied from the
code's output: a difference means the code, the definition or the count is wrong.

The world (times are naive UTC, as stored; Paris is UTC+1 until 30 March 2025, UTC+2 after):

- RCP A « sein » (minimum 3 specialties, pathologist required) and RCP B « digestif »
  (minimum 2) are in scope; RCP C is not, and its activity must not count.
- First quarter 2025 (the period): A1 14/01 held, A2 31/01 22:30 (23:30 Paris, January) held,
  A3 11/02 held with no case, A4 04/03 never held, A5 25/03 still to come, A6 31/03 22:30
  (00:30 Paris on 1 April, summer time: outside the quarter); B1 31/01 23:30 (00:30 Paris,
  February) held, B2 11/03 in progress, B3 18/02 never held.
- Fourth quarter 2024 (the previous period): PA1 12/11 held, PA2 10/12 never held, PB1 17/12
  held. RCP C: C0 20/11/2024 and C1 05/02/2025, both held.

Medians and 90th percentiles interpolate linearly between ranks (``percentile_cont``): over n
sorted values v[0..n-1], rank h = (n - 1) × p, value = v[⌊h⌋] + (h - ⌊h⌋) × (v[⌊h⌋+1] - v[⌊h⌋]).
"""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest

from rcp_app.cases.models import Treatment, Tumour
from rcp_app.decisions.models import Decision
from rcp_app.delivery.models import Transmission
from rcp_app.extensions import db
from rcp_app.fiches.models import Fiche, FicheVersion
from rcp_app.meetings.models import Notification
from rcp_app.reports import drill
from rcp_app.reports.indicators import TABLE_KEYS, compute_report
from rcp_app.reports.period import Period
from rcp_app.reports.scope import Scope
from rcp_app.terminology.builtin import (
    PHASE_INITIAL,
    PHASE_RELAPSE,
    QUORUM_NOT_REACHED,
    QUORUM_REACHED,
    QUORUM_UNKNOWN,
)

NOW = datetime(2025, 3, 20, 12, 0)  # after A4 and B3 (never held), before A5 and A6
QUARTER = Period.quarter(2025, 1)  # its previous period: the fourth quarter of 2024
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

BREAST = "76752008"  # organ and appareil « sein »
COLORECTAL = "MED-251"  # organ « Colon-Rectum-Anus »
ONCOLOGY = "G15_10/SM36"
RADIOTHERAPY = "G15_10/SM37"
PATHOLOGY = "G15_10/SM01"
SURGERY = "G15_10/SM05"
CHEMOTHERAPY = "C15632"
RADIATION = "C15313"


class _Builder:
    """The factories, plus the rows they do not make (decisions, fiches, transmissions…)."""

    def __init__(self, app, make):
        self.app = app
        self.make = make
        self.author = make.user(role="physician")
        self._serial = itertools.count(1)

    def _add(self, *rows) -> list[int]:
        with self.app.app_context():
            db.session.add_all(rows)
            db.session.commit()
            return [row.id for row in rows]

    def session(self, rcp, starts_at, status, capacity, quorum=(), guests=()):
        """``quorum``: professionals present as quorum members; ``guests``: present, not."""
        session = self.make.session(rcp.id, starts_at=starts_at, status=status, capacity=capacity)
        for professional in quorum:
            self.make.attendance(session.id, professional.id)
        for professional in guests:
            self.make.attendance(session.id, professional.id, quorum_member=False)
        return session

    def waiting_case(self, rcp, patient, requester, status, session_id=None):
        return self.make.submitted_case(
            rcp_id=rcp.id,
            session_id=session_id,
            patient_id=patient.id,
            requester_id=requester.id,
            created_by_id=self.author.id,
            status=status,
            submitted_at=datetime(2025, 1, 2, 9, 0),
        )

    def present(
        self,
        session,
        patient,
        requester,
        *,
        submitted_before,
        organ=BREAST,
        phase=PHASE_INITIAL,
        outcome="discussed",
        case=None,
        item=None,
        decision=None,
        diagnoses=(),
        treatments=(),
    ):
        """A case on the session's agenda with its decision; ``diagnoses``: one tumour per
        date; ``treatments``: (type, status, date)."""
        status = outcome if outcome in ("discussed", "registered") else "scheduled"
        created = self.make.submitted_case(
            rcp_id=session.rcp_id,
            session_id=session.id,
            patient_id=patient.id,
            requester_id=requester.id,
            created_by_id=self.author.id,
            status=status,
            submitted_at=session.starts_at - submitted_before,
            organ_code=organ,
            phase_code=phase,
            **(case or {}),
        )
        line = self.make.agenda_item(session.id, created.id, **(item or {}))
        values = {
            "state": "validated",
            "outcome": outcome,
            "proposal_code": CHEMOTHERAPY,
            "quorum_status": QUORUM_REACHED,
            "updated_at": session.starts_at,
        }
        values.update(decision or {})
        rows = [Decision(item_id=line.id, **values)]
        rows += [
            Tumour(case_id=created.id, rank=rank, diagnosis_date=day)
            for rank, day in enumerate(diagnoses, 1)
        ]
        rows += [
            Treatment(
                case_id=created.id, rank=rank, type_code=code, status=state, treatment_date=day
            )
            for rank, (code, state, day) in enumerate(treatments, 1)
        ]
        decision_id = self._add(*rows)[0]
        return SimpleNamespace(
            case_id=created.id, patient_id=patient.id, session=session, decision_id=decision_id
        )

    def fiche(self, presented, *validated) -> list[int]:
        """The fiche of a presented case, one version per validation time; the version ids."""
        with self.app.app_context():
            fiche = Fiche(
                set_id=str(uuid.uuid4()),
                decision_id=presented.decision_id,
                case_id=presented.case_id,
                patient_id=presented.patient_id,
                session_id=presented.session.id,
                created_at=validated[0],
                current_version=len(validated),
            )
            versions = [
                FicheVersion(
                    fiche=fiche,
                    version=number,
                    document_id=str(uuid.uuid4()),
                    verification_code=f"STAT-{next(self._serial):04d}-TST",
                    snapshot="{}",
                    validated_at=at,
                    validated_by_id=self.author.id,
                    amendment_reason=None if number == 1 else "Erreur de latéralité corrigée",
                    signer="CN=Cachet RCP (TEST)",
                )
                for number, at in enumerate(validated, 1)
            ]
            db.session.add(fiche)
            db.session.add_all(versions)
            db.session.commit()
            return [version.id for version in versions]

    def transmission(self, version_id, role, status, created_at, sent=None, acknowledged=None):
        """A fiche sent to ``role``; ``sent`` and ``acknowledged``: delays after ``created_at``
        (the signature)."""
        self._add(
            Transmission(
                message_id=f"<statistiques-{next(self._serial)}@rcp.test>",
                kind="fiche",
                channel="dmp" if role == "patient_record" else "mssante",
                recipient_role=role,
                recipient_address=f"{role}@rcp.test",
                fiche_version_id=version_id,
                status=status,
                attempts=1,
                next_attempt_at=created_at,
                created_at=created_at,
                sent_at=None if sent is None else created_at + sent,
                acknowledged_at=None if acknowledged is None else created_at + acknowledged,
                failed_at=created_at + HOUR if status == "failed" else None,
            )
        )

    def notify(self, kind, case_id, requester, created_at, reason):
        self._add(
            Notification(
                kind=kind,
                recipient_id=requester.id,
                case_id=case_id,
                reason=reason,
                created_at=created_at,
                status="sent",
            )
        )


def _build_world(app, make) -> Scope:
    """The world of the module docstring; each case's comment says what it is there for."""
    w = _Builder(app, make)
    institute = make.establishment(name="Institut de cancérologie du Test")
    requester_a = make.professional(last_name="Demandeuse", establishment_id=institute.id)
    requester_b = make.professional(last_name="Sans-Établissement")  # « Non renseigné »
    onc = make.professional(last_name="Oncologue", specialty_code=ONCOLOGY)
    onc2 = make.professional(last_name="Oncologue-Bis", specialty_code=ONCOLOGY)
    radio = make.professional(last_name="Radiothérapeute", specialty_code=RADIOTHERAPY)
    path = make.professional(last_name="Pathologiste", specialty_code=PATHOLOGY)
    surg = make.professional(last_name="Chirurgien", specialty_code=SURGERY)
    rcp_a = make.rcp(name="RCP A — sein", min_specialties=3, required_specialties=(PATHOLOGY,))
    rcp_b = make.rcp(name="RCP B — digestif", appareil_code="86762007", min_specialties=2)
    rcp_c = make.rcp(name="RCP C — hors périmètre", min_specialties=1)
    p = {name: make.patient() for name in (f"P{n}" for n in range(1, 19))}
    people = SimpleNamespace(
        requester_a=requester_a, requester_b=requester_b, onc=onc, onc2=onc2, radio=radio,
        path=path, surg=surg, rcp_a=rcp_a, rcp_b=rcp_b, rcp_c=rcp_c, patients=p,
    )  # fmt: skip
    _first_quarter_fiches(w, _first_quarter(w, people))
    _fourth_quarter(w, people)
    _out_of_scope(w, people)
    return Scope(rcp_ids=(rcp_a.id, rcp_b.id), rcp_names=(rcp_a.name, rcp_b.name))


def _first_quarter(w: _Builder, people) -> dict:
    """The period's sessions and cases; the presented cases that get a fiche, by name."""
    p, rcp_a, rcp_b = people.patients, people.rcp_a, people.rcp_b
    requester_a, requester_b = people.requester_a, people.requester_b
    onc, onc2, radio, path, surg = people.onc, people.onc2, people.radio, people.path, people.surg
    # A1: quorum reached (3 quorum specialties ≥ 3, pathologist present); 3 specialties (HAS).
    a1 = w.session(rcp_a, datetime(2025, 1, 14, 13), "closed", 10, quorum=(onc, radio, path))
    # A2: 3 quorum specialties but the required pathologist is not a quorum member: no quorum;
    # 4 specialties present (HAS counts every professional present).
    a2 = w.session(
        rcp_a,
        datetime(2025, 1, 31, 22, 30),
        "closed",
        10,
        quorum=(onc, radio, surg),
        guests=(path,),
    )
    # A3: held, quorum reached, no case at all.
    w.session(rcp_a, datetime(2025, 2, 11, 13), "closed", 10, quorum=(onc, radio, path))
    w.session(rcp_a, datetime(2025, 3, 4, 13), "planned", 10)  # A4: past, never held
    a5 = w.session(rcp_a, datetime(2025, 3, 25, 13), "planned", 10)  # after NOW
    w.session(rcp_a, datetime(2025, 3, 31, 22, 30), "planned", 10)  # A6: 1 April in Paris
    # B1: 00:30 on 1 February in Paris; 3 quorum specialties ≥ 2.
    b1 = w.session(rcp_b, datetime(2025, 1, 31, 23, 30), "closed", 8, quorum=(onc, surg, radio))
    # B2: two oncologists are one specialty (< 2): no quorum; 2 specialties present (HAS).
    b2 = w.session(
        rcp_b, datetime(2025, 3, 11, 13), "in_progress", 6, quorum=(onc, onc2), guests=(surg,)
    )
    w.session(rcp_b, datetime(2025, 2, 18, 13), "agenda_published", 8)  # B3: never held

    # c1: first RCP, HAS levels 1 and 2 (a treatment « not done » does not count).
    c1 = w.present(
        a1, p["P1"], requester_a, submitted_before=10 * DAY,
        decision={"seconds_spent": 600, "guideline_name": "Référentiel sein 2024"},
        diagnoses=(date(2024, 12, 15),),
        treatments=((CHEMOTHERAPY, "not_done", date(2025, 1, 2)),),
    )  # fmt: skip
    # c2: relapse, trial, no guideline; chemotherapy done before the RCP (HAS level 2 fails);
    # the patient P2 is presented again in RCP B (c7); amended fiche.
    c2 = w.present(
        a1, p["P2"], requester_a, submitted_before=5 * DAY, phase=PHASE_RELAPSE,
        decision={
            "seconds_spent": 900, "trial_proposed": True, "trial_name": "PALLAS",
            "trial_identifier": "NCT02513394",
        },
        diagnoses=(date(2025, 1, 2),),
        treatments=((CHEMOTHERAPY, "done", date(2025, 1, 10)),),
    )  # fmt: skip
    # c3: registered as a standard of care (guideline through the mode), late, untimed,
    # not yet signed, no tumour.
    w.present(
        a1, p["P3"], requester_a, submitted_before=1 * DAY, outcome="registered",
        item={"mode": "registered", "guideline": "Standard sein", "late_addition": True},
        decision={"state": "ready_for_validation"},
    )  # fmt: skip
    # c4: incomplete file admitted by override; no proposal (HAS level 1 fails); a tumour
    # without a diagnosis date.
    c4 = w.present(
        a1, p["P15"], requester_a, submitted_before=3 * DAY,
        item={"override_incomplete": True, "override_reason": "Compte rendu opératoire attendu"},
        decision={
            "seconds_spent": 420, "guideline_name": "Référentiel sein 2024",
            "proposal_code": None,
        },
        diagnoses=(None,),
    )  # fmt: skip
    # c5: override; quorum not reached; treatment done on the day of the RCP (not before).
    c5 = w.present(
        a2, p["P4"], requester_a, submitted_before=20 * DAY,
        item={"override_incomplete": True, "override_reason": "Imagerie en attente"},
        decision={
            "seconds_spent": 1200, "guideline_name": "Référentiel sein 2024",
            "quorum_status": QUORUM_NOT_REACHED,
        },
        diagnoses=(date(2025, 1, 1),),
        treatments=((CHEMOTHERAPY, "done", date(2025, 1, 31)),),
    )  # fmt: skip
    # c6: no organ (its appareil « sein » stands in), relapse through its date, documented
    # deviation; P5 had its first RCP in RCP C (C0), so it is no first RCP here.
    c6 = w.present(
        a2, p["P5"], requester_a, submitted_before=7 * DAY + 12 * HOUR, organ=None, phase=None,
        case={"relapse_date": date(2024, 12, 1)},
        decision={
            "seconds_spent": 300, "guideline_name": "Référentiel sein 2024",
            "deviation_reason": "Patiente âgée : chimiothérapie allégée",
            "quorum_status": QUORUM_NOT_REACHED,
        },
        diagnoses=(date(2025, 1, 11), date(2024, 12, 2)),
    )  # fmt: skip
    # c7: P2 again (second RCP: not a first RCP).
    c7 = w.present(
        b1, p["P2"], requester_b, submitted_before=15 * DAY, organ=COLORECTAL,
        decision={"seconds_spent": 480, "guideline_name": "TNCD"},
        diagnoses=(date(2024, 10, 1),),
    )  # fmt: skip
    # c8: trial and guideline; radiotherapy done on 31/01, before the RCP's Paris day (01/02).
    c8 = w.present(
        b1, p["P6"], requester_b, submitted_before=14 * DAY, organ=COLORECTAL,
        decision={
            "seconds_spent": 720, "guideline_name": "TNCD", "trial_proposed": True,
            "trial_name": "PRODIGE 23", "trial_identifier": "NCT01804790",
            "proposal_code": RADIATION,
        },
        diagnoses=(date(2025, 1, 2),),
        treatments=((RADIATION, "done", date(2025, 1, 31)),),
    )  # fmt: skip
    # c9: postponed twice, then presented in B2.
    c9 = w.present(
        b2, p["P7"], requester_b, submitted_before=43 * DAY, organ=COLORECTAL,
        decision={"seconds_spent": 360, "guideline_name": "TNCD", "state": "draft"},
        diagnoses=(date(2025, 1, 10),),
    )  # fmt: skip
    for day in (datetime(2025, 2, 10, 9), datetime(2025, 2, 24, 9)):
        w.notify("case_postponed", c9.case_id, requester_b, day, "Examen d'imagerie manquant")
    # c10: postponed at the meeting: not presented (its timed minutes do not count either).
    w.present(
        b2, p["P8"], requester_b, submitted_before=3 * DAY, organ=COLORECTAL,
        outcome="postponed",
        decision={"postpone_reason": "Patient hospitalisé", "seconds_spent": 240, "state": "draft"},
    )  # fmt: skip
    # c11: registered, no organ nor appareil, no phase, no quorum status, active surveillance.
    w.present(
        b2, p["P9"], requester_b, submitted_before=1 * DAY, organ=None, phase=None,
        case={"appareil_code": None},
        item={"mode": "registered", "guideline": "Standard TNCD", "late_addition": True},
        outcome="registered",
        decision={
            "state": "draft", "quorum_status": None, "proposal_code": None,
            "active_surveillance": True,
        },
        diagnoses=(date(2025, 2, 1), date(2024, 12, 20)),
    )  # fmt: skip
    # c14: quorum status « unknown », no guideline.
    w.present(
        b2, p["P16"], requester_b, submitted_before=2 * DAY + 12 * HOUR, organ=COLORECTAL,
        decision={"seconds_spent": 540, "quorum_status": QUORUM_UNKNOWN, "state": "draft"},
        diagnoses=(date(2025, 2, 25),),
    )  # fmt: skip
    # c15: postponed once, waiting for A5.
    c15 = w.waiting_case(rcp_a, p["P17"], requester_a, "postponed", session_id=a5.id)
    w.notify("case_postponed", c15.id, requester_a, datetime(2025, 3, 18, 9), "Patient hospitalisé")
    # c12: refused by RCP B's secretariat.
    c12 = w.waiting_case(rcp_b, p["P10"], requester_b, "refused")
    w.notify(
        "case_refused", c12.id, requester_b, datetime(2025, 2, 20, 10),
        "Dossier hors champ de la RCP",
    )  # fmt: skip
    return {"c1": c1, "c2": c2, "c4": c4, "c5": c5, "c6": c6, "c7": c7, "c8": c8}


def _first_quarter_fiches(w: _Builder, cases: dict) -> None:
    """Fiches and their transmissions; delays count from the signature of version 1."""
    c1, c2, c4, c5, c6, c7, c8 = (
        cases[name] for name in ("c1", "c2", "c4", "c5", "c6", "c7", "c8")
    )
    at = c1.session.starts_at + DAY
    v = w.fiche(c1, at)[0]
    w.transmission(v, "gp", "acknowledged", at, sent=2 * DAY, acknowledged=3 * DAY)
    w.transmission(v, "dcc", "sent", at, sent=12 * HOUR)
    w.transmission(v, "requester", "sent", at, sent=HOUR)
    w.transmission(v, "participant", "sent", at, sent=HOUR)
    first, second = w.fiche(c2, datetime(2025, 1, 16, 13), datetime(2025, 1, 20, 13))
    w.transmission(first, "gp", "failed", datetime(2025, 1, 16, 13))
    w.transmission(first, "dcc", "sent", datetime(2025, 1, 16, 13), sent=HOUR)
    w.transmission(second, "gp", "sent", datetime(2025, 1, 20, 13), sent=DAY)
    w.transmission(second, "dcc", "sent", datetime(2025, 1, 20, 13), sent=HOUR)
    w.transmission(second, "patient_record", "sent", datetime(2025, 1, 20, 13), sent=HOUR)
    at = c4.session.starts_at + 12 * HOUR
    v = w.fiche(c4, at)[0]
    w.transmission(v, "gp", "acknowledged", at, sent=36 * HOUR, acknowledged=6 * DAY)
    w.transmission(v, "gp", "sent", at, sent=4 * DAY)  # sent again, later: the first counts
    w.transmission(v, "dcc", "failed", at)
    at = c5.session.starts_at + 3 * DAY
    v = w.fiche(c5, at)[0]
    w.transmission(v, "gp", "acknowledged", at, sent=12 * HOUR, acknowledged=2 * DAY)
    w.transmission(v, "dcc", "sent", at, sent=DAY)
    at = c6.session.starts_at + DAY
    v = w.fiche(c6, at)[0]
    w.transmission(v, "gp", "pending", at)
    w.transmission(v, "dcc", "acknowledged", at, sent=DAY, acknowledged=2 * DAY)
    at = c7.session.starts_at + 2 * DAY
    v = w.fiche(c7, at)[0]
    w.transmission(v, "gp", "acknowledged", at, sent=DAY, acknowledged=5 * DAY)
    w.transmission(v, "dcc", "sent", at, sent=HOUR)
    w.transmission(v, "patient_record", "sent", at, sent=HOUR)
    at = c8.session.starts_at + 4 * DAY
    v = w.fiche(c8, at)[0]
    w.transmission(v, "gp", "sent", at, sent=12 * HOUR)
    w.transmission(v, "dcc", "pending", at)


def _fourth_quarter(w: _Builder, people) -> None:
    """The previous period: PA1 (q1 q2), PA2 never held, PB1 (q3)."""
    p, rcp_a, rcp_b = people.patients, people.rcp_a, people.rcp_b
    requester_a, requester_b = people.requester_a, people.requester_b
    onc, radio, path = people.onc, people.radio, people.path
    pa1 = w.session(rcp_a, datetime(2024, 11, 12, 13), "closed", 10, quorum=(onc, radio, path))
    w.session(rcp_a, datetime(2024, 12, 10, 13), "planned", 10)  # PA2: never held
    pb1 = w.session(rcp_b, datetime(2024, 12, 17, 13), "closed", 4, quorum=(onc,))
    q1 = w.present(
        pa1, p["P12"], requester_a, submitted_before=10 * DAY,
        decision={"seconds_spent": 540, "guideline_name": "Référentiel sein 2024"},
        diagnoses=(date(2024, 10, 13),),
    )  # fmt: skip
    q2 = w.present(
        pa1, p["P13"], requester_a, submitted_before=7 * DAY,
        case={"progression_distant": True},
        item={"override_incomplete": True, "override_reason": "Anatomopathologie attendue"},
        decision={"seconds_spent": 660},
        treatments=((CHEMOTHERAPY, "ongoing", date(2024, 11, 1)),),
    )  # fmt: skip
    q3 = w.present(
        pb1, p["P14"], requester_b, submitted_before=14 * DAY, organ=COLORECTAL,
        outcome="registered",
        item={"mode": "registered", "guideline": "Standard TNCD", "late_addition": True},
        decision={"quorum_status": QUORUM_NOT_REACHED, "state": "ready_for_validation"},
        diagnoses=(date(2024, 11, 27),),
    )  # fmt: skip
    w.notify(
        "case_postponed", q3.case_id, requester_b, datetime(2024, 12, 5, 9),
        "Examen d'imagerie manquant",
    )  # fmt: skip
    at = pa1.starts_at + 2 * DAY
    v = w.fiche(q1, at)[0]
    w.transmission(v, "gp", "sent", at, sent=DAY)
    w.transmission(v, "dcc", "sent", at, sent=HOUR)
    at = pa1.starts_at + DAY
    v = w.fiche(q2, at)[0]
    w.transmission(v, "gp", "failed", at)
    w.transmission(v, "dcc", "acknowledged", at, sent=HOUR, acknowledged=DAY)


def _out_of_scope(w: _Builder, people) -> None:
    """RCP C's activity, in both periods: nothing of it may count."""
    p, requester_a, rcp_c = people.patients, people.requester_a, people.rcp_c
    onc, radio = people.onc, people.radio
    c0_session = w.session(rcp_c, datetime(2024, 11, 20, 13), "closed", 10, quorum=(onc,))
    w.present(c0_session, p["P5"], requester_a, submitted_before=5 * DAY)
    c1_session = w.session(rcp_c, datetime(2025, 2, 5, 13), "closed", 10, quorum=(onc, radio))
    c13 = w.present(c1_session, p["P11"], requester_a, submitted_before=5 * DAY)
    at = c1_session.starts_at + DAY
    w.transmission(w.fiche(c13, at)[0], "gp", "failed", at)
    c16 = w.waiting_case(rcp_c, p["P18"], requester_a, "postponed")
    w.notify("case_postponed", c16.id, requester_a, datetime(2025, 2, 12, 9), "Hors délai")
    c17 = w.waiting_case(rcp_c, p["P3"], requester_a, "refused")
    w.notify("case_refused", c17.id, requester_a, datetime(2025, 2, 12, 9), "Hors champ")


# (value over the first quarter 2025, value over the fourth quarter 2024): counted by hand.
# Presented in Q1: A1 c1 c2 c3 c4, A2 c5 c6, B1 c7 c8, B2 c9 c11 c14 (c10 was postponed);
# in Q4: PA1 q1 q2, PB1 q3.
EXPECTED_FIGURES = {
    # Q1: A1 A2 A3 A4 A5 B1 B2 B3 (A6 is in April in Paris); Q4: PA1 PA2 PB1.
    "activity.sessions_planned": (8, 3),
    # Q1: A1 A2 A3 B1 B2; Q4: PA1 PB1.
    "activity.sessions_held": (5, 2),
    # Q1: A4 and B3 (A5 is still to come); Q4: PA2.
    "activity.sessions_not_held": (2, 1),
    "activity.cases_presented": (11, 3),
    # Q1: P1 P2 P3 P15 P4 P5 P6 P7 P9 P16 (P2 twice); Q4: P12 P13 P14.
    "activity.patients": (10, 3),
    # Q1: c1 c3 c4 c5 c7 c8 c9 c14; Q4: q1 q3 (q2 progresses).
    "activity.initial": (8, 2),
    # Q1: c2 (phase), c6 (relapse date); Q4: q2 (distant progression).
    "activity.relapse": (2, 1),
    "activity.discussed": (9, 2),
    # Q1: c3 c11; Q4: q3.
    "activity.registered": (2, 1),
    # Q1: 11 / 5 held; Q4: 3 / 2.
    "activity.cases_per_session_mean": (2.2, 1.5),
    # Q1: A1 (4); Q4: PA1 (2).
    "activity.cases_per_session_max": (4, 2),
    # Q1: (4/10 + 2/10 + 0/10 + 2/8 + 3/6) / 5 = (40 + 20 + 0 + 25 + 50) / 5;
    # Q4: (2/10 + 1/4) / 2 = (20 + 25) / 2.
    "activity.capacity_use": (27.0, 22.5),
    # Q1: A1 A3 B1 of 5 (A2 lacks its pathologist, B2 has one specialty); Q4: PA1 of 2.
    "quality.quorum_sessions": (60.0, 50.0),
    # Q1: c1 c2 c3 c4 c7 c8 c9 = 7 / 11; Q4: q1 q2 = 2 / 3.
    "quality.quorum_cases": (63.6, 66.7),
    # Q1: 9 / 11 (c4 c5 overridden); Q4: 2 / 3 (q2).
    "quality.complete_file": (81.8, 66.7),
    "quality.overridden": (2, 1),
    # Q1: c9 twice, c15 once (C's c16 is out of scope); Q4: q3.
    "quality.postponements": (3, 1),
    "quality.postponed_cases": (2, 1),
    # Q1: c12 (C's c17 is out of scope).
    "quality.refusals": (1, 0),
    # Q1: c3 c11; Q4: q3.
    "quality.late": (2, 1),
    # Q1 minutes, timed cases only: 5 6 7 8 [9] 10 12 15 20; Q4: 9 11 → 10.
    "quality.time_per_case": (9.0, 10.0),
    # Q1: c2 c8.
    "quality.trial": (2, 0),
    # Q1: 2 / 11; Q4: 0 / 3.
    "quality.trial_rate": (18.2, 0.0),
    # Q1: c1 c3 c4 c5 c7 c8 c9 c11 = 8 / 11 (c2 c14 cite none, c6 deviates); Q4: q1 q3 = 2 / 3.
    "quality.guideline": (72.7, 66.7),
    # Q1: c6.
    "quality.deviation": (1, 0),
    # Q1 days: 1 1 2.5 3 5 [7.5] 10 14 15 20 43: p90 rank 9 → 20; Q4: 7 10 14: median 10,
    # p90 rank 1.8 → 10 + 0.8 × 4 = 13.2.
    "delays.submission_to_session.median": (7.5, 10.0),
    "delays.submission_to_session.p90": (20.0, 13.2),
    # Q1 (version 1): 0.5 1 1 [2] 2 3 4: p90 rank 5.4 → 3 + 0.4 × 1 = 3.4; Q4: 1 2: median
    # 1.5, p90 rank 0.9 → 1 + 0.9 × 1 = 1.9.
    "delays.session_to_signature.median": (2.0, 1.5),
    "delays.session_to_signature.p90": (3.4, 1.9),
    # Q1: c5 0.5, c8 0.5, c7 1, c4 1.5, c1 2 (c2's version 1 failed, c6 pending): median 1,
    # p90 rank 3.6 → 1.5 + 0.6 × 0.5 = 1.8; Q4: q1 1.
    "delays.signature_to_gp.median": (1.0, 1.0),
    "delays.signature_to_gp.p90": (1.8, 1.0),
    # Q1: 2 3 5 6: median rank 1.5 → 4, p90 rank 2.7 → 5 + 0.7 × 1 = 5.7; Q4: none.
    "delays.signature_to_gp_ack.median": (4.0, None),
    "delays.signature_to_gp_ack.p90": (5.7, None),
    # Q1 first RCPs with a dated tumour: c2 12, c14 14, c1 30, c5 30, c8 30 (Paris day
    # 01/02), c9 60, c11 81 (earliest tumour): p90 rank 5.4 → 60 + 0.4 × 21 = 68.4;
    # Q4: q3 20, q1 30: median 25, p90 rank 0.9 → 20 + 0.9 × 10 = 29.
    "delays.diagnosis_to_first_rcp.median": (30.0, 25.0),
    "delays.diagnosis_to_first_rcp.p90": (68.4, 29.0),
    # Q1: P1 P2 P3 P15 P4 P6 P7 P9 P16 (P5 first in RCP C, P2's c7 is its second);
    # Q4: P12 P13 P14.
    "has.patients": (9, 3),
    # Q1: c1 c2 c3 c5 c8 = 5 / 9 (c4 no proposal, B2's cases: 2 specialties);
    # Q4: q1 q2 = 2 / 3 (PB1: 1 specialty).
    "has.level1": (55.6, 66.7),
    # Q1: c1 c3 c5 = 3 / 9 (c2 and c8 treated before); Q4: q1 = 1 / 3 (q2 treated before).
    "has.level2": (33.3, 33.3),
    # Q1: c1 c2 c4 c5 c6 c7 c8; Q4: q1 q2.
    "dcc.fiches": (7, 2),
    # Q1: 6 × 1 + c2's 2.
    "dcc.versions": (8, 2),
    "dcc.amended": (1, 0),
    # Q1: c1 c2 c5 c6 c7 (c4 failed, c8 pending); Q4: q1 q2.
    "dcc.delivered_dcc": (5, 2),
    # Q1: c1 c2 (version 2) c4 c5 c7 c8 (c6 pending); Q4: q1.
    "dcc.delivered_gp": (6, 1),
    # Q1: c2 c7.
    "dcc.delivered_record": (2, 0),
    # Q1: c2's version 1 to the GP, c4 to the DCC (C's c13 is out of scope); Q4: q2 to the GP.
    "dcc.failed": (2, 1),
    # No follow-up in this world (tests/test_reports_followups.py counts them): nothing
    # validated, no share, no delay.
    **{f"followups.{key}": (0, 0) for key in ("validated", "recorded", "pending", "overdue")},
    **{
        f"followups.{key}": (None, None)
        for key in (
            "implemented",
            "implemented_first",
            "implemented_alternative",
            "started_other",
            "not_started",
            "lost",
            "deceased",
            "delay_proposed.median",
            "delay_proposed.p90",
            "delay_other.median",
            "delay_other.p90",
        )
    },  # fmt: skip
}

EXPECTED_TABLES = {
    "activity.monthly_by_organ": (
        # A1 + A2 in January (A2 at 23:30 Paris); B1 in February (00:30 Paris); B2 in March.
        ("01/2025", 6, 0, 0),
        ("02/2025", 0, 2, 0),
        ("03/2025", 0, 2, 1),
    ),
    "activity.sessions_by_month": (
        ("01/2025", 2, 0),  # A1 A2
        ("02/2025", 2, 1),  # A3 B1; B3
        ("03/2025", 1, 1),  # B2; A4 (A5 to come, A6 in April)
    ),
    "activity.by_rcp": (
        # A: A1 A2 A3, 4 + 2 + 0 cases, capacity 10, (40 + 20 + 0) / 3 %, minutes 5 7 [10] 15 20.
        ("RCP A — sein", 3, 6, 2.0, 4, 10.0, 20.0, 10.0),
        # B: B1 B2, 2 + 3 cases, capacity (8 + 6) / 2, (25 + 50) / 2 %, minutes 6 8 9 12.
        ("RCP B — digestif", 2, 5, 2.5, 3, 7.0, 37.5, 8.5),
    ),
    "activity.by_organ": (
        ("sein", 6, 54.5),  # c1 to c5, c6 through its appareil
        ("Colon-Rectum-Anus", 4, 36.4),  # c7 c8 c9 c14
        ("Non renseigné", 1, 9.1),  # c11
    ),
    "activity.by_establishment": (
        ("Institut de cancérologie du Test", 6, 54.5),  # RCP A's requester
        ("Non renseigné", 5, 45.5),  # RCP B's requester has no establishment
    ),
    "quality.rates_by_month": (
        ("01/2025", 66.7, 66.7),  # quorum c1-c4 of 6; complete 4 of 6 (c4 c5)
        ("02/2025", 100.0, 100.0),  # c7 c8
        ("03/2025", 33.3, 100.0),  # c9 of c9 c11 c14
    ),
    "quality.postponement_reasons": (
        ("Examen d'imagerie manquant", 2),  # c9 twice
        ("Patient hospitalisé", 1),  # c15
    ),
    "quality.refusal_reasons": (("Dossier hors champ de la RCP", 1),),
    "quality.attendance_by_specialty": (
        # Held sessions A1 A2 A3 B1 B2 (5); presences, sessions, sessions ÷ 5.
        ("Oncologie médicale", 6, 5, 100.0),  # one each, two in B2
        ("Oncologie radiothérapie", 4, 4, 80.0),  # A1 A2 A3 B1
        ("Anatomie et cytologie pathologiques", 3, 3, 60.0),  # A1 A2 (not quorum) A3
        ("Chirurgie générale", 3, 3, 60.0),  # A2 B1 B2 (not quorum)
    ),
    "delays.summary": (
        ("Demande → séance", 11, 7.5, 20.0),
        ("Séance → signature", 7, 2.0, 3.4),
        ("Signature → envoi au médecin traitant", 5, 1.0, 1.8),
        ("Signature → accusé de lecture du médecin traitant", 4, 4.0, 5.7),
        ("Diagnostic → première RCP", 7, 30.0, 68.4),
    ),
    "delays.distribution": (
        # submission (1 1 2.5 3 5 | 7.5 10 14 | 15 20 | 43), signature, to the GP.
        ("0 à 7 j", 5, 7, 5),
        ("8 à 14 j", 3, 0, 0),
        ("15 à 21 j", 2, 0, 0),
        ("22 à 30 j", 0, 0, 0),
        ("31 à 60 j", 1, 0, 0),
        ("plus de 60 j", 0, 0, 0),
    ),
    "dcc.transmissions": (
        # sent (acknowledged included), acknowledged, failed, pending; every version.
        ("DCC régional", 6, 1, 1, 1),  # sent c1 c2×2 c5 c7, ack c6; failed c4; pending c8
        ("Médecin demandeur", 1, 0, 0, 0),  # c1
        ("Médecin traitant", 7, 4, 1, 1),  # ack c1 c4 c5 c7, sent c2v2 c4 c8; c2v1; c6
        ("Dossier médical partagé", 2, 0, 0, 0),  # c2v2 c7
    ),
    "followups.delays": (
        ("Validation → début du traitement proposé", 0, None, None),
        ("Validation → début d'un autre traitement", 0, None, None),
    ),
    "followups.deviation_reasons": (),
    "followups.by_rcp": (),
}
# The columns of monthly_by_organ: the organs by decreasing count.
MONTHLY_ORGAN_COLUMNS = ("Mois", "sein", "Colon-Rectum-Anus", "Non renseigné")


def _same(expected, got) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if isinstance(expected, str) or isinstance(got, str):
        return expected == got
    return abs(float(expected) - float(got)) < 1e-9


def _row_differences(key: str, expected: tuple, got: tuple) -> list[str]:
    if len(expected) != len(got):
        return [f"{key}: {len(got)} rows {got!r}, expected {len(expected)} {expected!r}"]
    return [
        f"{key} row {index}: got {found!r}, expected {wanted!r}"
        for index, (wanted, found) in enumerate(zip(expected, got, strict=True))
        if len(wanted) != len(found)
        or not all(_same(a, b) for a, b in zip(wanted, found, strict=True))
    ]


@pytest.fixture
def scope(app, make):
    return _build_world(app, make)


def test_every_figure_and_table_matches_the_hand_count(app, scope):
    with app.app_context():
        report = compute_report(QUARTER, scope, now=NOW)
    differences = []
    keys = [figure.key for figure in report.figures()]
    differences += [f"{key}: no hand count" for key in keys if key not in EXPECTED_FIGURES]
    differences += [f"{key}: not in the report" for key in EXPECTED_FIGURES if key not in keys]
    for figure in report.figures():
        value, previous = EXPECTED_FIGURES.get(figure.key, (None, None))
        if not _same(value, figure.value):
            differences.append(f"{figure.key}: got {figure.value!r}, expected {value!r}")
        if not _same(previous, figure.previous):
            differences.append(
                f"{figure.key} (previous period): got {figure.previous!r}, expected {previous!r}"
            )
    tables = {table.key: table for table in report.tables()}
    differences += [f"{key}: no hand count" for key in TABLE_KEYS if key not in EXPECTED_TABLES]
    for key, rows in EXPECTED_TABLES.items():
        if key not in tables:
            differences.append(f"{key}: not in the report")
            continue
        differences += _row_differences(key, rows, tables[key].rows)
    columns = tables["activity.monthly_by_organ"].columns
    if columns != MONTHLY_ORGAN_COLUMNS:
        differences.append(f"activity.monthly_by_organ columns: got {columns!r}")
    if report.previous_period != Period.quarter(2024, 4):
        differences.append(f"previous period: got {report.previous_period!r}")
    assert not differences, "\n".join(differences)


# A period ending on 31/01 keeps A2 (23:30 Paris) and leaves B1 (00:30 Paris on 01/02); the
# summer time of 31/03 puts A6 (22:30 UTC) on 1 April. (period, figure key) → (value, previous).
MIDNIGHT_FIGURES = {
    # January: A1 A2; December 2024: PA2 PB1.
    (Period.month(2025, 1), "activity.sessions_planned"): (2, 2),
    (Period.month(2025, 1), "activity.sessions_held"): (2, 1),
    (Period.month(2025, 1), "activity.cases_presented"): (6, 1),
    (Period.month(2025, 1), "activity.patients"): (6, 1),
    # January's first RCPs: c1 c2 c3 c4 c5; level 1: c1 c2 c3 c5; level 2: c1 c3 c5.
    (Period.month(2025, 1), "has.patients"): (5, 1),
    (Period.month(2025, 1), "has.level1"): (80.0, 0.0),
    (Period.month(2025, 1), "has.level2"): (60.0, 0.0),
    # January: c2 12, c1 30, c5 30; December: q3 20.
    (Period.month(2025, 1), "delays.diagnosis_to_first_rcp.median"): (30.0, 20.0),
    # February: A3 B1 B3 (B1 at 00:30 Paris on 01/02); January: A1 A2.
    (Period.month(2025, 2), "activity.sessions_planned"): (3, 2),
    (Period.month(2025, 2), "activity.sessions_held"): (2, 2),
    (Period.month(2025, 2), "activity.sessions_not_held"): (1, 0),
    (Period.month(2025, 2), "activity.cases_presented"): (2, 6),
    (Period.month(2025, 2), "activity.patients"): (2, 6),
    # February's only first RCP: c8 (P2's first was in January), treated on 31/01, the day
    # before its RCP in Paris: level 1, not level 2; diagnosis 02/01 → 01/02 = 30 days.
    (Period.month(2025, 2), "has.patients"): (1, 5),
    (Period.month(2025, 2), "has.level1"): (100.0, 80.0),
    (Period.month(2025, 2), "has.level2"): (0.0, 60.0),
    (Period.month(2025, 2), "delays.diagnosis_to_first_rcp.median"): (30.0, 30.0),
    # 31/01 alone: A2 (c5 c6); the day before: nothing.
    (Period.custom(date(2025, 1, 31), date(2025, 1, 31)), "activity.sessions_planned"): (1, 0),
    (Period.custom(date(2025, 1, 31), date(2025, 1, 31)), "activity.cases_presented"): (2, 0),
    # 01/02 alone: B1 (c7 c8); the day before: A2.
    (Period.custom(date(2025, 2, 1), date(2025, 2, 1)), "activity.sessions_planned"): (1, 1),
    (Period.custom(date(2025, 2, 1), date(2025, 2, 1)), "activity.cases_presented"): (2, 2),
    # March: A4 A5 B2 (A6 is in April); April: A6.
    (Period.month(2025, 3), "activity.sessions_planned"): (3, 3),
    (Period.month(2025, 4), "activity.sessions_planned"): (1, 3),
}
MIDNIGHT_MONTHS = {
    Period.month(2025, 1): (("01/2025", 2, 0),),
    Period.month(2025, 2): (("02/2025", 2, 1),),
    Period.month(2025, 4): (("04/2025", 0, 0),),  # A6 is still to come
}


def test_periods_cut_at_midnight_paris_time(app, scope):
    differences = []
    with app.app_context():
        reports = {
            period: compute_report(period, scope, now=NOW)
            for period in {period for period, _key in MIDNIGHT_FIGURES} | set(MIDNIGHT_MONTHS)
        }
    for (period, key), (value, previous) in MIDNIGHT_FIGURES.items():
        figure = reports[period].figure(key)
        if not _same(value, figure.value) or not _same(previous, figure.previous):
            differences.append(
                f"{period.label} {key}: got {(figure.value, figure.previous)!r}, "
                f"expected {(value, previous)!r}"
            )
    for period, rows in MIDNIGHT_MONTHS.items():
        table = reports[period].table("activity.sessions_by_month")
        differences += _row_differences(f"{period.label} sessions_by_month", rows, table.rows)
    assert not differences, "\n".join(differences)


# The populations behind the figures, counted by hand over the first quarter 2025: the counts
# themselves, and the numerators of the percentages.
EXPECTED_POPULATIONS = {
    "presented": 11,
    "initial": 8,
    "relapse": 2,
    "discussed": 9,
    "registered": 2,
    "overridden": 2,
    "postponed": 3,
    "refused": 1,
    "late": 2,
    "trial": 2,
    "deviation": 1,
    "first_rcp": 9,
    "fiche": 7,
    "amended": 1,
    "delivery_failed": 2,
    "quorum_case_reached": 7,  # of quality.quorum_cases
    "complete_file": 9,  # of quality.complete_file
    "guideline": 8,  # of quality.guideline
    "has_level1": 5,  # of has.level1
    "has_level2": 3,  # of has.level2
    # No follow-up in this world.
    **dict.fromkeys(
        (
            "followup",
            "followup_recorded",
            "followup_pending",
            "followup_overdue",
            "followup_as_proposed",
            "followup_first",
            "followup_alternative",
            "followup_other",
            "followup_not_started",
            "followup_lost",
            "followup_deceased",
        ),
        0,
    ),  # fmt: skip
}


def _count_or_error(key: str, scope: Scope):
    """The drill-down count, or the error it raised: listed with the other differences rather
    than hiding them."""
    try:
        return drill.count(key, QUARTER, scope)
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0]}"


def test_the_cases_behind_a_count_are_as_many_as_the_count(app, scope):
    differences = []
    with app.app_context():
        report = compute_report(QUARTER, scope, now=NOW)
        counted = [f for f in report.figures() if f.population and f.unit != "%"]
        populations = {f.population for f in report.figures() if f.population}
        found = {key: _count_or_error(key, scope) for key in populations}
    for figure in counted:
        if found[figure.population] != figure.value:
            differences.append(
                f"{figure.key}: drill.count({figure.population!r}) = "
                f"{found[figure.population]!r}, figure = {figure.value!r}"
            )
    for key, expected in EXPECTED_POPULATIONS.items():
        if found.get(key) != expected:
            differences.append(f"drill.count({key!r}) = {found.get(key)!r}, expected {expected}")
    differences += [f"{key}: no hand count" for key in populations - set(EXPECTED_POPULATIONS)]
    assert not differences, "\n".join(differences)
