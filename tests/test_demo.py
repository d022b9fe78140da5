"""Demo data: counts, determinism, valid identifiers, working accounts, ``flask rcp setup``."""

from __future__ import annotations

import hashlib
import re
import time
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from rcp_app.access import care_team
from rcp_app.access.models import CoordinatorScope
from rcp_app.auth.models import User
from rcp_app.auth.passwords import password_problem
from rcp_app.cases.models import Case
from rcp_app.core.audit import AuditEntry
from rcp_app.demo import loader
from rcp_app.demo.directory_data import ACCOUNTS, PROFESSIONALS
from rcp_app.demo.identifiers import luhn_valid
from rcp_app.demo.patient_data import PATIENT_COUNT, generate_patients
from rcp_app.directory.models import Establishment, Professional, Rcp
from rcp_app.directory.operations import FINESS_RE, normalise_mssante, normalise_phone
from rcp_app.extensions import db
from rcp_app.patients import ins
from rcp_app.patients.models import Patient
from rcp_app.terminology.builtin import APPAREIL, SPECIALTY, TRANSVERSAL_THEME
from rcp_app.terminology.models import Concept

EXPECTED_COUNTS = {
    "établissements": 2,
    "professionnels": len(PROFESSIONALS),
    "RCP": 7,
    "comptes utilisateurs": 7,
    "patients": PATIENT_COUNT,
    "séances": 42,  # the next 6 sessions of each RCP
    # Six of dr.martin's, one of a patient objecting to sharing, Dr Le Bihan's ORL case.
    "dossiers RCP": 8,
    # Last week's breast RCP session, held and closed, with its fiches signed.
    "séance passée": 1,
    "fiches RCP signées": 9,
    "avenant": 1,
    "fiche à valider": 1,
    # What followed it (demo/aftercare.py): care programmes and follow-ups.
    "PPS validé et signé": 1,
    "PPS en brouillon": 1,
    "suivis renseignés": 6,
    "dossier représenté": 1,
}
SURGERY_CODES = {
    "G15_10/SM05",
    "G15_10/SM10",
    "G15_10/SM11",
    "G15_10/SM12",
    "G15_10/SM14",
    "G15_10/SM20",
    "G15_10/SM31",
    "G15_10/SM34",
}
MSSANTE = re.compile(r"^[a-z0-9-]+\.[a-z0-9-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.mssante\.fr$")


@pytest.fixture
def loaded(app):
    """Load the demo inside the test transaction (rolled back afterwards), without its year of
    history: that signs a hundred fiches and has its own test (test_demo_history.py)."""
    with app.app_context():
        assert loader.database_is_empty()
        started = time.perf_counter()
        counts = loader.load_demo(history=False)
        db.session.commit()
        elapsed = time.perf_counter() - started
    print(f"demo load: {elapsed:.2f} s")
    return counts


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_password_is_acceptable():
    assert password_problem(loader.DEMO_PASSWORD) is None


def test_counts_are_as_announced(app, loaded):
    assert loaded == EXPECTED_COUNTS
    assert 28 <= loaded["professionnels"] <= 34
    with app.app_context():
        assert not loader.database_is_empty()
        assert _count(Establishment) == 2
        assert _count(Professional) == loaded["professionnels"]
        assert _count(Rcp) == 7
        assert _count(User) == len(ACCOUNTS) == 7
        assert _count(Patient) == PATIENT_COUNT
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "demo.load")
        ).all()
        assert len(entries) == 1
        assert entries[0].details_dict() == EXPECTED_COUNTS


def test_generation_is_deterministic():
    first, second = generate_patients(), generate_patients()
    assert first == second
    # A snapshot across processes: no hash-seed or date dependence may creep in.
    assert [(p.birth_name, p.birth_first_names, p.birth_date.isoformat()) for p in first[:3]] == [
        ("Rivière", "Léon", "1955-08-10"),
        ("Roux", "Thierry Sébastien Jean-Luc", "1961-12-24"),
        ("Colonna", "Monique Mireille Ségolène", "1968-08-09"),
    ]


def test_loaded_patients_are_the_generated_ones(app, loaded):
    # The patients module stores names in capitals (accents kept).
    expected = [
        (p.birth_name.upper(), p.first_birth_first_name, p.ins_matricule, p.ipp)
        for p in generate_patients()
    ]
    with app.app_context():
        rows = db.session.execute(
            select(
                Patient.birth_name,
                Patient.first_birth_first_name,
                Patient.ins_matricule,
                Patient.ipp,
            ).order_by(Patient.id)
        ).all()
    assert [tuple(r) for r in rows] == expected


def test_every_ins_is_valid_and_coherent(app, loaded):
    with app.app_context():
        patients = db.session.scalars(select(Patient)).all()
        with_ins = [p for p in patients if p.ins_matricule]
        for patient in with_ins:
            matricule = ins.parse(patient.ins_matricule)
            ins.check_coherence(matricule, patient.sex, patient.birth_date)
            ins.check_oid(patient.ins_oid)
            department = patient.birthplace_code[:2]
            if department in ("2A", "2B") and patient.birth_date.year < 1976:
                department = "20"  # Corsica was one department until 1976
            assert matricule.department == department
            assert patient.ins_matricule[7:10] == patient.birthplace_code[2:]
        assert len({p.ins_matricule for p in with_ins}) == len(with_ins)
        assert len({p.ipp for p in patients}) == len(patients)
        assert all(p.ins_matricule for p in patients if p.identity_status in ("QUAL", "RECUP"))
        # Mixed statuses, mostly qualified; PROV/VALI mostly without INS.
        statuses = {
            s: sum(p.identity_status == s for p in patients)
            for s in ("QUAL", "VALI", "RECUP", "PROV")
        }
        assert statuses["QUAL"] > len(patients) / 2 and all(statuses.values())
        unqualified = [p for p in patients if p.identity_status in ("PROV", "VALI")]
        assert sum(p.ins_matricule is None for p in unqualified) > len(unqualified) * 0.7
        oids = [p.ins_oid for p in with_ins]
        assert oids.count(ins.OID_DEMO_NIR) > len(oids) / 2
        assert 0 < oids.count(ins.OID_TEST_NIR) < len(oids) / 4
        # Corsica and foreign-born people are represented.
        assert any(p.ins_matricule[5:7] in ("2A", "2B") for p in with_ins)
        assert any(p.birthplace_code.startswith("99") for p in patients)
        # Used names different from birth names (married names), accents, search keys.
        assert sum(1 for p in patients if p.used_name and p.used_name != p.birth_name) >= 20
        assert any("É" in p.birth_name or "È" in p.birth_name for p in patients)
        assert any("é" in p.first_birth_first_name for p in patients)
        assert any("-" in p.first_birth_first_name for p in patients)
        assert all(p.birth_name_key == p.birth_name_key.upper() for p in patients)
        assert all(1930 <= p.birth_date.year <= 2005 for p in patients)


def test_directory_identifiers_and_rules(app, loaded):
    with app.app_context():
        professionals = db.session.scalars(select(Professional)).all()
        for pro in professionals:
            assert re.fullmatch(r"\d{11}", pro.rpps) and luhn_valid(pro.rpps), pro.rpps
            assert MSSANTE.match(pro.mssante_address), pro.mssante_address
            # Already in the form the directory's edit operations store.
            assert normalise_mssante(pro.mssante_address) == pro.mssante_address
            assert normalise_phone(pro.phone) == pro.phone
        assert len({p.rpps for p in professionals}) == len(professionals)
        gps = [p for p in professionals if p.specialty_code == "G15_10/SM26"]
        assert len(gps) >= 5 and all(p.establishment_id is None for p in gps)
        specialties = set(
            db.session.scalars(select(Concept.code).where(Concept.value_set == SPECIALTY))
        )
        assert {p.specialty_code for p in professionals} <= specialties
        assert len({p.specialty_code for p in professionals}) >= 15

        for establishment in db.session.scalars(select(Establishment)):
            assert re.fullmatch(r"\d{9}", establishment.finess)
            assert FINESS_RE.match(establishment.finess)
            assert luhn_valid(establishment.finess)

        rcps = db.session.scalars(select(Rcp)).all()
        appareils = set(
            db.session.scalars(select(Concept.code).where(Concept.value_set == APPAREIL))
        )
        themes = set(
            db.session.scalars(select(Concept.code).where(Concept.value_set == TRANSVERSAL_THEME))
        )
        assert len({r.appareil_code or r.theme_code for r in rcps}) == 7
        assert any(r.nature == "transversal" for r in rcps)
        for rcp in rcps:
            assert (rcp.appareil_code in appareils) or (rcp.theme_code in themes)
            assert re.fullmatch(rf"RCP-{rcp.establishment.finess}-[A-Z]+", rcp.national_id)
            assert (
                rcp.coordinator is not None
                and rcp.coordinator.establishment_id == rcp.establishment_id
            )
            assert rcp.video_url.startswith("https://")
            assert rcp.deadline_hours == 48 and rcp.min_specialties == 3
            assert rcp.weekday is not None and rcp.start_time is not None and rcp.place
            required = set(rcp.required_specialty_codes)
            assert {"G15_10/SM36", "G15_10/SM37"} <= required
            assert required & SURGERY_CODES, rcp.name


def test_accounts_are_linked(app, loaded):
    with app.app_context():
        users = {u.username: u for u in db.session.scalars(select(User))}
        assert set(users) == {a.username for a in ACCOUNTS}
        assert users["admin"].role == "admin" and users["coordination"].role == "coordinator"
        martin = users["dr.martin"].professional
        assert martin.specialty_code == "G15_10/SM36"
        breast = db.session.scalar(select(Rcp).where(Rcp.national_id.like("%-SEIN")))
        assert breast.coordinator_id == martin.id
        assert users["dr.nguyen"].professional.specialty_code in SURGERY_CODES
        bernard = users["dr.bernard"]
        assert bernard.role == "gp" and bernard.professional.specialty_code == "G15_10/SM26"
        assert len({u.session_token for u in users.values()}) == len(ACCOUNTS)
        assert len({u.password_hash for u in users.values()}) == 1


def test_demo_accounts_listing():
    accounts = loader.demo_accounts()
    assert [a[0] for a in accounts] == [
        "admin",
        "coordination",
        "dr.martin",
        "dr.nguyen",
        "dr.bernard",
        "dr.lebihan",
        "dpo",
    ]
    assert all(label and name for _, label, name in accounts)


def test_every_demo_account_logs_in(client, loaded):
    for username, _, _ in loader.demo_accounts():
        response = client.post(
            "/connexion", data={"username": username, "password": loader.DEMO_PASSWORD}
        )
        assert response.status_code == 302, username
        response = client.get("/")
        assert response.status_code == 200, username
        client.post("/deconnexion")


def test_setup_command_loads_demo_once(app, monkeypatch):
    # The test transaction replaces the engine by a single connection, which Alembic's env.py
    # cannot use; the schema is already migrated (test_migrations covers upgrade()).
    upgrades = []
    monkeypatch.setattr("rcp_app.cli.upgrade", lambda: upgrades.append(True))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["rcp", "setup"])
    assert result.exit_code == 0, result.output
    assert upgrades == [True]
    assert "Données de démonstration chargées : 2 établissements" in result.output
    assert "dr.martin" in result.output and loader.DEMO_PASSWORD in result.output
    again = runner.invoke(args=["rcp", "setup"])
    assert again.exit_code == 0, again.output
    assert "Données de démonstration chargées" not in again.output
    with app.app_context():
        assert _count(Patient) == PATIENT_COUNT


def test_demo_has_signed_fiches_that_verify(app, loaded):
    from rcp_app.fiches.models import Fiche, FicheVersion
    from rcp_app.fiches.verification import verify_document

    with app.app_context():
        fiches = db.session.scalars(select(Fiche).order_by(Fiche.id)).all()
        assert [f.current_version for f in fiches] == [2] + [1] * 8
        verdicts = [
            verify_document(v.document("pdf").content)
            for v in db.session.scalars(select(FicheVersion).order_by(FicheVersion.id))
        ]
        assert all(v.authentic for v in verdicts)
        assert sorted((v.version, v.current) for v in verdicts) == [
            (1, False),
            *[(1, True)] * 8,
            (2, True),
        ]


# --- care teams (issue 13) -----------------------------------------------------------------


def _visible_patients(user) -> set[int]:
    return set(db.session.scalars(care_team.clinical_patient_ids(user)))


def test_demo_coordinator_runs_every_demo_rcp(app, loaded):
    with app.app_context():
        coordination = db.session.scalar(select(User).where(User.username == "coordination"))
        scopes = db.session.scalars(
            select(CoordinatorScope).where(CoordinatorScope.user_id == coordination.id)
        ).all()
        assert {s.establishment_id for s in scopes} == set(
            db.session.scalars(select(Establishment.id))
        )
        assert all(s.rcp_id is None for s in scopes)
        assert set(db.session.scalars(care_team.scoped_rcp_ids(coordination))) == set(
            db.session.scalars(select(Rcp.id))
        )
        # Every coordinator of the demo has a scope (none would see no case at all).
        for user in db.session.scalars(select(User).where(User.role == "coordinator")):
            assert db.session.scalar(
                select(func.count()).where(CoordinatorScope.user_id == user.id)
            ), user.username


def test_demo_patients_record_who_registered_them(app, loaded):
    with app.app_context():
        users = {u.username: u.id for u in db.session.scalars(select(User))}
        registrars = db.session.execute(
            select(Patient.created_by_id, func.count()).group_by(Patient.created_by_id)
        ).all()
        assert dict(registrars) == {
            users["coordination"]: PATIENT_COUNT - 1,
            users["dr.lebihan"]: 1,
        }


def test_demo_dpo_account(app, loaded):
    with app.app_context():
        dpo = db.session.scalar(select(User).where(User.username == "dpo"))
        assert dpo.role == "dpo" and dpo.professional_id is None
        assert care_team.clinical_patient_ids(dpo) is None  # no clinical data at all
    assert ("dpo", "Délégué à la protection des données") in [
        (name, label) for name, label, _ in loader.demo_accounts()
    ]


def test_outside_physician_sees_only_their_own_patient(app, loaded):
    with app.app_context():
        lebihan = db.session.scalar(select(User).where(User.username == "dr.lebihan"))
        orl = db.session.scalar(select(Rcp).where(Rcp.national_id.like("%-ORL")))
        # A member of the small RCP ORL only, coordinated by someone else.
        assert orl.coordinator_id != lebihan.professional_id
        assert lebihan.professional_id in {m.professional_id for m in orl.members}
        other_rcps = db.session.scalars(select(Rcp).where(Rcp.id != orl.id)).all()
        for rcp in other_rcps:
            assert lebihan.professional_id not in {m.professional_id for m in rcp.members}
            assert rcp.coordinator_id != lebihan.professional_id
        [own] = db.session.scalars(select(Case).where(Case.rcp_id == orl.id)).all()
        assert own.created_by_id == lebihan.id and own.requester_id == lebihan.professional_id
        assert own.status == "submitted"
        assert own.patient.created_by_id == lebihan.id
        assert _visible_patients(lebihan) == {own.patient_id}
        # dr.martin, who registered the other demo cases, is not in this patient's team.
        martin = db.session.scalar(select(User).where(User.username == "dr.martin"))
        seen_by_martin = _visible_patients(martin)
        assert own.patient_id not in seen_by_martin
        # His drafts open themselves only (a draft does not open the patient's record).
        submitted = set(
            db.session.scalars(select(Case.patient_id).where(Case.submitted_at.is_not(None)))
        )
        assert seen_by_martin == submitted - {own.patient_id}


def test_patient_objecting_to_sharing_is_hidden_from_rcp_members(app, loaded):
    with app.app_context():
        [objecting] = db.session.scalars(
            select(Case).where(Case.patient_sharing_objection.is_(True))
        ).all()
        assert objecting.status == "submitted" and objecting.rcp.national_id.endswith("-THORAX")
        thorax_cases = db.session.scalars(
            select(Case).where(Case.rcp_id == objecting.rcp_id, Case.id != objecting.id)
        ).all()
        assert thorax_cases
        # A usual participant of the thoracic RCP (no account in the demo: a stand-in user)…
        member = objecting.rcp.members[0]
        stand_in = SimpleNamespace(id=0, role="physician", professional_id=member.professional_id)
        visible = _visible_patients(stand_in)
        assert {c.patient_id for c in thorax_cases} <= visible
        assert objecting.patient_id not in visible
        # …while its coordinating physician, who runs the meeting, still sees her.
        coordinator = SimpleNamespace(
            id=0, role="physician", professional_id=objecting.rcp.coordinator_id
        )
        assert objecting.patient_id in _visible_patients(coordinator)


# --- after the RCP: care programmes and follow-ups (demo/aftercare.py) ---------------------


def test_demo_has_a_sealed_care_programme_and_a_draft(app, loaded):
    from rcp_app.core.dates import today
    from rcp_app.fiches.signature.bounded import check_signature
    from rcp_app.pps.models import CarePlan

    with app.app_context():
        validated, draft = db.session.scalars(select(CarePlan).order_by(CarePlan.id)).all()
        assert (validated.state, validated.current_version) == ("validated", 2)
        assert [v.version for v in validated.versions] == [1, 2]
        for version in validated.versions:
            for kind in ("pdf", "cda"):
                document = version.document(kind)
                assert document.sha256 == hashlib.sha256(document.content).hexdigest()
            assert b"ClinicalDocument" in version.document("cda").content
            assert check_signature(version.document("pdf").content).authentic
        # Written and signed by the referring physician of the case, then updated.
        writer = validated.versions[0].validated_by
        assert writer.username == "dr.martin"
        assert writer.professional_id == validated.case.requester_id
        assert validated.versions[1].amendment_reason
        snapshot = validated.versions[1].snapshot_dict()
        assert snapshot["document"]["update_motive"]["code"] == "GEN-176"
        assert len(snapshot["treatments"]) == 2 and snapshot["supportive_care"]
        assert snapshot["contacts"]["nurse"]["phone"]
        assert snapshot["contacts"]["care_centre"]["phone"]
        coming = [date.fromisoformat(row["date"]) for row in snapshot["appointments"]]
        assert len(coming) == 2 and all(day > today() for day in coming)
        # The second programme is still a draft; the contacts came from the first.
        assert (draft.state, draft.current_version, draft.versions) == ("draft", 0, [])
        assert draft.fiche.session_id == validated.fiche.session_id
        assert draft.draft_dict()["nurse_phone"] == snapshot["contacts"]["nurse"]["phone"]


def test_demo_has_a_follow_up_in_every_state(app, loaded):
    from rcp_app.core.timeutil import to_paris, utcnow
    from rcp_app.followups.models import STATES, FollowUp
    from rcp_app.followups.operations import validation_day
    from rcp_app.followups.queries import today
    from rcp_app.followups.reminders import due_ids

    with app.app_context():
        rows = db.session.scalars(select(FollowUp).order_by(FollowUp.id)).all()
        by_state = {state: [f for f in rows if f.state == state] for state in STATES}
        assert all(by_state.values()), {state: len(found) for state, found in by_state.items()}
        pending = by_state["pending"]
        overdue = [f for f in pending if f.due_on < today()]
        assert len(overdue) == 1 and any(f.due_on >= today() for f in pending)
        # Moved back as a whole: still due the RCP's delay after it opened, and reminded at
        # the delivery worker's first pass.
        [late] = overdue
        assert late.due_on == to_paris(late.opened_at).date() + timedelta(
            days=late.rcp.follow_up_days
        )
        assert due_ids(utcnow()) == [late.id]
        assert {f.option_rank for f in by_state["started_as_proposed"]} == {0, 1}
        for follow_up in rows:
            if follow_up.state == "pending":
                continue
            # Recorded by the referring physician, through the operation (audited).
            assert follow_up.recorded_by.professional_id == follow_up.requester_id
            assert db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(
                    AuditEntry.action == "followup.record",
                    AuditEntry.object_id == str(follow_up.id),
                )
            )
            if follow_up.started_on:
                assert validation_day(follow_up) <= follow_up.started_on <= today()
            if follow_up.is_deviation:
                assert follow_up.deviation_reason and follow_up.details
        # The deviation sent back to the RCP: a new draft case of the same patient.
        [back] = [f for f in rows if f.represented_case_id]
        assert back.state == "not_started" and back.deviation_reason == "progression"
        case = back.represented_case
        assert case.status == "draft" and case.patient_id == back.patient_id
        assert "écart à la proposition" in case.question
