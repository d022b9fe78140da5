"""The benchmark's directory: the demo's establishments, professionals and RCPs, plus enough
generated professionals, two more RCPs and a few user accounts (small: plain ORM inserts)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time

from rcp_app.auth.models import User
from rcp_app.auth.operations import new_session_token
from rcp_app.auth.passwords import hash_password
from rcp_app.core.text import search_key
from rcp_app.demo import directory_data as demo
from rcp_app.demo.identifiers import mail_local_part, rpps_numbers, with_luhn_key
from rcp_app.demo.patient_data import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES
from rcp_app.directory.models import Establishment, Professional, Rcp, RcpRequiredSpecialty
from rcp_app.extensions import db

from .names import LAST_NAMES_BY_RANK

PASSWORD = "Bench-RCP-2026!"  # noqa: S105  (throw-away database)
ENT_SURGERY = "G15_10/SM34"
DERMATOLOGY = "G15_10/SM15"
EXTRA_SPECIALTIES = [
    demo.ONCOLOGY, demo.RADIOTHERAPY, demo.DIGESTIVE_SURGERY, demo.GASTROENTEROLOGY,
    demo.PNEUMOLOGY, demo.UROLOGY, demo.GYNAECOLOGY_SURGERY, ENT_SURGERY, DERMATOLOGY,
    demo.PATHOLOGY, demo.IMAGING,
]  # fmt: skip
EXTRA_RCPS = [
    demo.RcpSpec(
        "ORL", "RCP Cancers ORL et cervico-faciaux", "chu", "119253004", None,
        ("Karim", "Benali"), 0, time(13, 0), "Bâtiment Necker, salle 2", 20,
        (ENT_SURGERY, demo.ONCOLOGY, demo.RADIOTHERAPY),
    ),
    demo.RcpSpec(
        "DERMATO", "RCP Onco-dermatologie", "icms", "39937001", None, ("Claire", "Martin"),
        4, time(8, 30), "Salle Marie-Curie", 15, (DERMATOLOGY, demo.ONCOLOGY, demo.PATHOLOGY),
    ),
]  # fmt: skip
RCP_SPECS = [*demo.RCPS, *EXTRA_RCPS]
PHYSICIAN_ACCOUNTS = 8
NOT_REQUESTERS = {demo.PATHOLOGY, demo.IMAGING, demo.RADIODIAGNOSIS, demo.NUCLEAR, demo.GENETICS}


@dataclass
class Directory:
    rcps: dict[str, int]  # suffix -> id
    rcp_establishment: dict[str, str]  # suffix -> establishment key
    specialists: dict[str, list[int]]  # establishment key -> ids of physicians who refer
    gps: list[int]
    user_of: dict[int, int]  # professional id -> user id (physician accounts)
    coordinator_user: int
    usernames: dict[int, str]  # user id -> username (audit rows)
    physician_usernames: list[str] = field(default_factory=list)
    coordinator_username: str = "bench.coordination"
    counts: dict[str, int] = field(default_factory=dict)


def _professionals(rng: random.Random, extra: int, establishments: dict) -> list[Professional]:
    specs = [(p.first_name, p.last_name, p.specialty, p.establishment) for p in demo.PROFESSIONALS]
    for index in range(extra):
        female = rng.random() < 0.5
        first = rng.choice(FEMALE_FIRST_NAMES if female else MALE_FIRST_NAMES)
        last = rng.choice(LAST_NAMES_BY_RANK[:150])
        if index % 6 == 5:
            specs.append((first, last, demo.GENERAL_PRACTICE, None))
        else:
            key = "chu" if index % 2 else "icms"
            specs.append((first, last, EXTRA_SPECIALTIES[index % len(EXTRA_SPECIALTIES)], key))
    rows = []
    for (first, last, specialty, key), rpps in zip(
        specs, rpps_numbers(rng, len(specs)), strict=True
    ):
        domain = f"{key}.bench.mssante.fr" if key else demo.GP_MSSANTE_DOMAIN
        rows.append(
            Professional(
                rpps=rpps,
                title="Dr",
                first_name=first,
                last_name=last,
                last_name_key=search_key(last),
                specialty_code=specialty,
                mssante_address=f"{mail_local_part(first, last)}.{rpps[-4:]}@{domain}",
                establishment=establishments[key] if key else None,
            )
        )
    return rows


def _rcp(spec: demo.RcpSpec, establishments: dict, by_name: dict, now: datetime) -> Rcp:
    finess = establishments[spec.establishment].finess
    rcp = Rcp(
        name=spec.name,
        national_id=f"RCP-{finess}-{spec.suffix}",
        establishment=establishments[spec.establishment],
        nature="organ" if spec.appareil else "transversal",
        appareil_code=spec.appareil,
        theme_code=spec.theme,
        is_recourse=spec.recourse,
        coordinator=by_name[spec.coordinator],
        weekday=spec.weekday,
        start_time=spec.start,
        place=spec.place,
        capacity=spec.capacity,
        deadline_hours=48,
        min_specialties=3,
        created_at=now,
    )
    rcp.required_specialties = [
        RcpRequiredSpecialty(specialty_code=code) for code in sorted(spec.required)
    ]
    return rcp


def seed_directory(rng: random.Random, professionals: int, now: datetime) -> Directory:
    establishments = {
        spec.key: Establishment(
            name=spec.name, finess=with_luhn_key(spec.finess_body), city=spec.city
        )
        for spec in demo.ESTABLISHMENTS
    }
    db.session.add_all(establishments.values())
    pros = _professionals(rng, max(0, professionals - len(demo.PROFESSIONALS)), establishments)
    db.session.add_all(pros)
    db.session.flush()
    by_name = {(p.first_name, p.last_name): p for p in pros}
    rcps = {spec.suffix: _rcp(spec, establishments, by_name, now) for spec in RCP_SPECS}
    db.session.add_all(rcps.values())

    password_hash = hash_password(PASSWORD)  # Argon2: hash once
    # Who registers cases: hospital physicians, not pathologists, radiologists, geneticists.
    doctors = {
        key: [
            p
            for p in pros
            if p.establishment is establishment and p.specialty_code not in NOT_REQUESTERS
        ]
        for key, establishment in establishments.items()
    }
    users = []
    for key in sorted(doctors):
        for pro in doctors[key][: PHYSICIAN_ACCOUNTS // len(doctors)]:
            username = f"bench.dr{len(users) + 1}"
            users.append(_user(username, "physician", pro.display_name, password_hash, now, pro))
    coordinator = _user("bench.coordination", "coordinator", "Secrétariat 3C", password_hash, now)
    db.session.add_all([*users, coordinator])
    db.session.flush()
    directory = Directory(
        rcps={suffix: rcp.id for suffix, rcp in rcps.items()},
        rcp_establishment={spec.suffix: spec.establishment for spec in RCP_SPECS},
        specialists={key: [p.id for p in rows] for key, rows in doctors.items()},
        gps=[p.id for p in pros if p.establishment is None],
        user_of={u.professional_id: u.id for u in users},
        coordinator_user=coordinator.id,
        usernames={u.id: u.username for u in [*users, coordinator]},
        physician_usernames=[u.username for u in users],
    )
    directory.counts = {
        "établissements": len(establishments),
        "professionnels": len(pros),
        "RCP": len(rcps),
        "comptes": len(users) + 1,
    }
    return directory


def _user(username, role, display_name, password_hash, now, professional=None) -> User:
    return User(
        username=username,
        email=f"{username}@bench.invalid",
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        professional=professional,
        created_at=now,
        session_token=new_session_token(),
    )
