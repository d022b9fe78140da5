"""The benchmark's directory: the demo's establishments, professionals and RCPs, plus enough
generated professionals, more RCPs (40 in all) and user accounts (small: plain ORM inserts).

Care teams (rcp_app/access) as in a regional installation: each physician account is a usual
participant of 3 RCPs of its establishment (the other professionals join every RCP of their
establishment that requires their specialty); each secretariat account runs 2 RCPs and registers
their cases."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time

from rcp_app.access.models import CoordinatorScope
from rcp_app.auth.models import User
from rcp_app.auth.operations import new_session_token
from rcp_app.auth.passwords import hash_password
from rcp_app.core.text import search_key
from rcp_app.demo import directory_data as demo
from rcp_app.demo.identifiers import mail_local_part, rpps_numbers, with_luhn_key
from rcp_app.demo.patient_data import FEMALE_FIRST_NAMES, MALE_FIRST_NAMES
from rcp_app.directory.models import (
    Establishment,
    Professional,
    Rcp,
    RcpMember,
    RcpRequiredSpecialty,
)
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
# The demo has its own RCP ORL now: the benchmark's is only added where the demo has none.
BASE_SPECS = [
    *demo.RCPS,
    *(spec for spec in EXTRA_RCPS if spec.suffix not in {r.suffix for r in demo.RCPS}),
]
RCP_COUNT = 40
MEMBERSHIPS = 3  # RCPs each physician account is a usual participant of
SCOPE_SIZE = 2  # RCPs each secretariat account runs


def _more_rcps(count: int) -> list[demo.RcpSpec]:
    """The same kinds of RCP again, numbered (« RCP Sénologie 2 »…), at either establishment:
    other sites' teams, each with its own agenda. Their coordinators are chosen later."""
    specs = []
    for index in range(count):
        base = BASE_SPECS[index % len(BASE_SPECS)]
        number = index // len(BASE_SPECS) + 2
        specs.append(
            demo.RcpSpec(
                f"{base.suffix}{number}", f"{base.name} {number}",
                ("chu", "icms")[(index + number) % 2], base.appareil, base.theme,
                base.coordinator, (base.weekday + number) % 5, base.start, base.place,
                base.capacity, base.required,
            )
        )  # fmt: skip
    return specs


RCP_SPECS = [*BASE_SPECS, *_more_rcps(RCP_COUNT - len(BASE_SPECS))]
# suffix -> the base RCP whose clinical profile (organs, tumours, sex, weight) it shares
RCP_KIND = {spec.suffix: spec.suffix.rstrip("0123456789") for spec in RCP_SPECS}
PHYSICIAN_ACCOUNTS = 8
NOT_REQUESTERS = {demo.PATHOLOGY, demo.IMAGING, demo.RADIODIAGNOSIS, demo.NUCLEAR, demo.GENETICS}


@dataclass
class Directory:
    rcps: dict[str, int]  # suffix -> id
    rcp_establishment: dict[str, str]  # suffix -> establishment key
    specialists: dict[str, list[int]]  # establishment key -> ids of physicians who refer
    gps: list[int]
    user_of: dict[int, int]  # professional id -> user id (physician accounts)
    coordinator_user: int  # the measured secretariat account (bench.coordination)
    secretariat_of: dict[str, int]  # RCP suffix -> user id of the secretariat running it
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


def _rcp(spec: demo.RcpSpec, establishments: dict, coordinator: Professional, now) -> Rcp:
    finess = establishments[spec.establishment].finess
    rcp = Rcp(
        name=spec.name,
        national_id=f"RCP-{finess}-{spec.suffix}",
        establishment=establishments[spec.establishment],
        nature="organ" if spec.appareil else "transversal",
        appareil_code=spec.appareil,
        theme_code=spec.theme,
        is_recourse=spec.recourse,
        coordinator=coordinator,
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


def _coordinators(specs, doctors: dict, by_name: dict, accounts: set[int]) -> dict:
    """The demo's coordinating physicians for its RCPs; for the others, physicians of the site
    without an account in turn (so that the measured accounts' care teams stay as described)."""
    others = {key: [p for p in rows if p.id not in accounts] for key, rows in doctors.items()}
    chosen = {}
    for index, spec in enumerate(specs):
        if spec in BASE_SPECS:
            chosen[spec.suffix] = by_name[spec.coordinator]
        else:
            pool = others[spec.establishment]
            chosen[spec.suffix] = pool[index % len(pool)]
    return chosen


def _members(rng, rcps: dict[str, Rcp], pros, accounts: list[Professional]) -> None:
    """Physician accounts: exactly MEMBERSHIPS RCPs of their site that they do not coordinate.
    Other professionals: every RCP of their site that requires their specialty."""
    account_ids = {p.id for p in accounts}
    for rcp in rcps.values():
        required = set(rcp.required_specialty_codes)
        rcp.members = [
            RcpMember(professional=p)
            for p in pros
            if p.id not in account_ids
            and p.establishment is rcp.establishment
            and p.specialty_code in required
            and p is not rcp.coordinator
        ]
    for pro in accounts:
        eligible = [
            r
            for suffix, r in sorted(rcps.items())
            if r.establishment is pro.establishment and r.coordinator is not pro
        ]
        for rcp in rng.sample(eligible, MEMBERSHIPS):
            rcp.members.append(RcpMember(professional=pro))


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
    # Who registers cases: hospital physicians, not pathologists, radiologists, geneticists.
    doctors = {
        key: [
            p
            for p in pros
            if p.establishment is establishment and p.specialty_code not in NOT_REQUESTERS
        ]
        for key, establishment in establishments.items()
    }
    with_account = [
        pro for key in sorted(doctors) for pro in doctors[key][: PHYSICIAN_ACCOUNTS // len(doctors)]
    ]
    coordinators = _coordinators(RCP_SPECS, doctors, by_name, {p.id for p in with_account})
    rcps = {
        spec.suffix: _rcp(spec, establishments, coordinators[spec.suffix], now)
        for spec in RCP_SPECS
    }
    db.session.add_all(rcps.values())
    db.session.flush()
    _members(rng, rcps, pros, with_account)

    password_hash = hash_password(PASSWORD)  # Argon2: hash once
    users = [
        _user(f"bench.dr{index + 1}", "physician", pro.display_name, password_hash, now, pro)
        for index, pro in enumerate(with_account)
    ]
    # Secretariats: one account per pair of RCPs, in directory order; the first (measured)
    # runs the two busiest-kind RCPs of the breast and gynaecology teams.
    suffixes = [spec.suffix for spec in RCP_SPECS]
    pairs = [suffixes[i : i + SCOPE_SIZE] for i in range(0, len(suffixes), SCOPE_SIZE)]
    secretariats = [
        _user(
            "bench.coordination" if index == 0 else f"bench.coordination{index + 1}",
            "coordinator",
            f"Secrétariat RCP {' / '.join(pair)}",
            password_hash,
            now,
        )
        for index, pair in enumerate(pairs)
    ]
    db.session.add_all([*users, *secretariats])
    db.session.flush()
    db.session.add_all(
        CoordinatorScope(user_id=user.id, rcp_id=rcps[suffix].id)
        for user, pair in zip(secretariats, pairs, strict=True)
        for suffix in pair
    )
    db.session.flush()
    directory = Directory(
        rcps={suffix: rcp.id for suffix, rcp in rcps.items()},
        rcp_establishment={spec.suffix: spec.establishment for spec in RCP_SPECS},
        specialists={key: [p.id for p in rows] for key, rows in doctors.items()},
        gps=[p.id for p in pros if p.establishment is None],
        user_of={u.professional_id: u.id for u in users},
        coordinator_user=secretariats[0].id,
        secretariat_of={
            suffix: user.id
            for user, pair in zip(secretariats, pairs, strict=True)
            for suffix in pair
        },
        usernames={u.id: u.username for u in [*users, *secretariats]},
        physician_usernames=[u.username for u in users],
    )
    directory.counts = {
        "établissements": len(establishments),
        "professionnels": len(pros),
        "RCP": len(rcps),
        "participations": sum(len(r.members) for r in rcps.values()),
        "comptes": len(users) + len(secretariats),
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
