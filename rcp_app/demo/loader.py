"""Demo data: loaded by ``flask rcp setup`` into an empty database.

Deterministic: fixed lists plus a seeded ``random.Random``. ``load_demo`` adds and flushes in
the current transaction and writes one audit row; the caller commits.
"""

from __future__ import annotations

import random
from dataclasses import asdict

from sqlalchemy import select

from ..access.models import CoordinatorScope
from ..auth.models import ROLE_LABELS, User
from ..auth.operations import new_session_token
from ..auth.passwords import hash_password
from ..core import audit
from ..core.text import search_key
from ..core.timeutil import utcnow
from ..directory.models import Establishment, Professional, Rcp, RcpMember, RcpRequiredSpecialty
from ..extensions import db
from ..patients.models import Patient
from ..patients.operations import FIELDS, validate
from .aftercare import add_aftercare
from .case_data import add_demo_cases
from .directory_data import (
    ACCOUNTS,
    DEMO_NETWORK_ID,
    ESTABLISHMENTS,
    GP_MSSANTE_DOMAIN,
    PROFESSIONALS,
    RCPS,
)
from .history import add_history
from .identifiers import mail_local_part, rpps_numbers, with_luhn_key
from .past_session import add_past_session
from .patient_data import generate_patients

DEMO_PASSWORD = "Demo-RCP-2026!"  # noqa: S105  (published demo password, printed by setup)
DEMO_DCC_ADDRESS = "dcc@rcp-demo.mssante.fr"
DIRECTORY_SEED = 1958  # drives RPPS numbers and phone numbers

Name = tuple[str, str]


def database_is_empty() -> bool:
    """True when no user account exists yet (a fresh installation)."""
    return db.session.scalar(select(User.id).limit(1)) is None


def demo_accounts() -> list[tuple[str, str, str]]:
    """(username, French role label, display name) of each demo account."""
    return [(a.username, ROLE_LABELS[a.role], a.display_name) for a in ACCOUNTS]


def load_demo(history: bool = True) -> dict[str, int]:
    """Create the demo directory, accounts and patients; return counts by French label.

    ``history``: also the year of past sessions behind the statistics page (history.py), the
    slow part (each of its fiches is rendered and sealed); tests of the rest leave it out."""
    now = utcnow()
    establishments = _add_establishments()
    professionals = _add_professionals(establishments)
    rcps = _add_rcps(establishments, professionals, now)
    users = _add_accounts(professionals, establishments, now)
    by_username = {user.username: user for user in users}
    # The 3C secretariat registers the patients (the ORL patient excepted, see case_data).
    patients = _add_patients(now, registrar=by_username["coordination"])
    author = by_username["dr.martin"]
    counts = {
        "établissements": len(establishments),
        "professionnels": len(professionals),
        "RCP": len(rcps),
        "comptes utilisateurs": len(users),
        "patients": len(patients),
        **add_demo_cases(patients, rcps, author, outsider=by_username["dr.lebihan"]),
        **add_past_session(rcps[0], patients, author, now),
        **add_aftercare(rcps[0], now),
        # Last: it takes the patients no other demo case uses.
        **(add_history(rcps, patients, by_username, now) if history else {}),
    }
    audit.record("demo.load", details=counts)
    db.session.flush()
    return counts


def finess_of(key: str) -> str:
    spec = next(e for e in ESTABLISHMENTS if e.key == key)
    return with_luhn_key(spec.finess_body)


def _add_establishments() -> dict[str, Establishment]:
    rows = {
        spec.key: Establishment(
            name=spec.name,
            finess=finess_of(spec.key),
            city=spec.city,
            facility_type_code=spec.facility_type,
            # The regional cancer record's (DCC) MSSanté box, here the demo mailbox's.
            dcc_address=DEMO_DCC_ADDRESS,
        )
        for spec in ESTABLISHMENTS
    }
    db.session.add_all(rows.values())
    db.session.flush()
    return rows


def _add_professionals(establishments: dict[str, Establishment]) -> dict[Name, Professional]:
    rng = random.Random(DIRECTORY_SEED)
    domains = {spec.key: spec.domain for spec in ESTABLISHMENTS}
    rows: dict[Name, Professional] = {}
    for spec, rpps in zip(PROFESSIONALS, rpps_numbers(rng, len(PROFESSIONALS)), strict=True):
        domain = (
            f"{domains[spec.establishment]}.mssante.fr" if spec.establishment else GP_MSSANTE_DOMAIN
        )
        phone = f"02 99 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        rows[(spec.first_name, spec.last_name)] = Professional(
            rpps=rpps,
            title="Dr",
            first_name=spec.first_name,
            last_name=spec.last_name,
            last_name_key=search_key(spec.last_name),
            specialty_code=spec.specialty,
            mssante_address=f"{mail_local_part(spec.first_name, spec.last_name)}@{domain}",
            phone=phone,
            establishment=establishments[spec.establishment] if spec.establishment else None,
        )
    db.session.add_all(rows.values())
    db.session.flush()
    return rows


def _add_rcps(
    establishments: dict[str, Establishment], professionals: dict[Name, Professional], now
) -> list[Rcp]:
    domains = {spec.key: spec.domain for spec in ESTABLISHMENTS}
    managers = {spec.key: spec.rcp_manager_id for spec in ESTABLISHMENTS}
    rows = []
    for spec in RCPS:
        rcp = Rcp(
            name=spec.name,
            national_id=f"RCP-{finess_of(spec.establishment)}-{spec.suffix}",
            network_id=DEMO_NETWORK_ID,
            manager_id=managers[spec.establishment],
            registry_id=spec.registry_id,
            establishment=establishments[spec.establishment],
            nature="organ" if spec.appareil else "transversal",
            appareil_code=spec.appareil,
            theme_code=spec.theme,
            is_recourse=spec.recourse,
            coordinator=professionals[spec.coordinator],
            weekday=spec.weekday,
            start_time=spec.start,
            place=spec.place,
            video_url=f"https://visio.{domains[spec.establishment]}.fr/rcp-{spec.suffix.lower()}",
            capacity=spec.capacity,
            deadline_hours=48,
            min_specialties=3,
            created_at=now,
        )
        rcp.required_specialties = [
            RcpRequiredSpecialty(specialty_code=code) for code in sorted(spec.required)
        ]
        # Usual participants: the establishment's physicians of the required specialties.
        rcp.members = [
            RcpMember(professional=p)
            for p in professionals.values()
            if p.specialty_code in spec.required
            and p.establishment is establishments[spec.establishment]
            and p is not rcp.coordinator
        ]
        rows.append(rcp)
    db.session.add_all(rows)
    db.session.flush()
    return rows


def _add_accounts(
    professionals: dict[Name, Professional], establishments: dict[str, Establishment], now
) -> list[User]:
    password_hash = hash_password(DEMO_PASSWORD)  # Argon2 is slow on purpose: hash once
    rows = [
        User(
            username=spec.username,
            email=spec.email,
            display_name=spec.display_name,
            role=spec.role,
            password_hash=password_hash,
            professional=professionals[spec.professional] if spec.professional else None,
            created_at=now,
            session_token=new_session_token(),
        )
        for spec in ACCOUNTS
    ]
    db.session.add_all(rows)
    db.session.flush()
    # Coordinators see only the RCPs they run (rcp_app/access): give each its establishments.
    db.session.add_all(
        CoordinatorScope(user_id=user.id, establishment_id=establishments[key].id)
        for user, spec in zip(rows, ACCOUNTS, strict=True)
        for key in spec.establishments
    )
    db.session.flush()
    return rows


def _add_patients(now, registrar: User) -> list[Patient]:
    """Each identity goes through the patients module's validation (names, traits, INS key and
    coherence, OID, uniqueness) but not its one-audit-row-per-creation: one ``demo.load`` row
    stands for the whole load."""
    rows = []
    for spec in generate_patients():
        values = validate(asdict(spec))
        rows.append(
            Patient(
                **{field: values[field] for field in FIELDS},
                birth_name_key=search_key(values["birth_name"]),
                used_name_key=search_key(values["used_name"]) or None,
                first_name_key=search_key(values["first_birth_first_name"]),
                created_at=now,
                created_by_id=registrar.id,
                updated_at=now,
            )
        )
    db.session.add_all(rows)
    db.session.flush()
    return rows
