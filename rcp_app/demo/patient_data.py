"""Deterministic generation of fictional patient identities (pure data, no database).

``generate_patients()`` always returns the same list: a ``random.Random`` with a fixed seed
drives every choice, and nothing depends on today's date.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from ..patients import ins

SEED = 20260412
PATIENT_COUNT = 200

# fmt: off
FEMALE_FIRST_NAMES = [
    "Marie", "Jeanne", "Françoise", "Monique", "Hélène", "Chloé", "Élodie", "Anaïs", "Maëlle",
    "Céline", "Sylvie", "Nathalie", "Isabelle", "Brigitte", "Geneviève", "Josiane", "Noémie",
    "Léa", "Zoé", "Agnès", "Thérèse", "Bérénice", "Marie-Thérèse", "Anne-Sophie", "Marie-Hélène",
    "Marie-Claude", "Fatima", "Aïcha", "Yasmine", "Nadège", "Solène", "Gaëlle", "Irène", "Renée",
    "Andrée", "Lucienne", "Odette", "Mireille", "Édith", "Colette", "Danièle", "Véronique",
    "Anne-Laure", "Marie-Noëlle", "Mélanie", "Léonie", "Inès", "Ségolène", "Clémence", "Rosalie",
    "Paulette", "Huguette", "Joséphine", "Germaine",
]
MALE_FIRST_NAMES = [
    "Jean", "Pierre", "Michel", "André", "Jérôme", "Rémi", "Benoît", "François", "Frédéric",
    "Stéphane", "Hervé", "Loïc", "Gaël", "Noël", "Joël", "Jean-Pierre", "Jean-Marc",
    "Jean-François", "Pierre-Yves", "Marc-Antoine", "Mohamed", "Karim", "Youssef", "Mamadou",
    "Thierry", "Patrice", "Raphaël", "Théo", "Lucien", "René", "Gérard", "Émile", "Aurélien",
    "Cédric", "Sébastien", "Jacques", "Bernard", "Alain", "Daniel", "Gilles", "Jean-Luc", "Maxime",
    "Mickaël", "Anthony", "Régis", "Léon", "Gaëtan", "Josselin", "Hugues", "Yves",
]
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry",
    "Roussel", "Perrin", "Morin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine",
    "Chevalier", "Robin", "Masson", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval",
    "Joly", "Roche", "Noël", "Meyer", "Meunier", "Pérez", "Dufour", "Blanchard", "Barbier",
    "Brunet", "Schmitt", "Leroux", "Renard", "Giraud", "Leclerc", "Vidal", "Lemoine", "Picard",
    "Lacroix", "Dupuis", "Da Silva", "Rivière", "Le Gall", "Le Goff", "Le Bihan", "N'Diaye",
    "Diallo", "Traoré", "Benali", "Haddad", "Ben Salah", "Santini", "Paoli", "Casanova",
    "Albertini", "Ménard", "Hébert", "Féraud", "Dupré", "Bénard", "Théron", "Quéré", "Lozac'h",
    "Etcheverry", "d'Aubigné", "Crémieux", "Tran", "Pham", "Kowalski", "Ferreira", "Gomes",
    "Ollivier",
]
CORSICAN_LAST_NAMES = [
    "Santini", "Paoli", "Casanova", "Albertini", "Colonna", "Pietri", "Mattei", "Leca", "Luciani",
    "Filippi",
]

# INSEE codes of birthplaces (communes; Paris, Lyon and Marseille by arrondissement as in the
# NIR). 2A/2B: Corsica. 97x: overseas departments.
FRANCE_BIRTHPLACES = [
    "75111", "75114", "75112", "75118", "75105", "69383", "69387", "13204", "13208", "59350",
    "33063", "31555", "44109", "35238", "29019", "29232", "22278", "56121", "67482", "54395",
    "21231", "63113", "87085", "37261", "76540", "14118", "80021", "51454", "57463", "38185",
    "06088", "34172", "30189", "66136", "64445", "64102", "45234", "49007", "72181", "86194",
    "17300", "25056", "42218", "83137", "84007", "53130", "50502", "61001", "03185", "97209",
    "97120", "97411",
]
CORSICAN_BIRTHPLACES = [
    "2A004", "2A247", "2A272", "2B033", "2B096", "2B050",
]
# Country codes (99xxx) for persons born abroad.
FOREIGN_BIRTHPLACES = [
    "99350", "99351", "99341", "99335", "99139", "99134", "99127", "99109", "99131", "99243",
    "99234", "99132", "99122", "99326", "99322", "99205",
]
# fmt: on

_BIRTH_START = date(1930, 1, 1)
_BIRTH_END = date(2005, 12, 31)


@dataclass(frozen=True)
class PatientSpec:
    birth_name: str
    birth_first_names: str  # space-separated list, the first one first
    first_birth_first_name: str
    used_name: str | None
    used_first_name: str | None
    sex: str
    birth_date: date
    birthplace_code: str
    identity_status: str
    ins_matricule: str | None
    ins_oid: str | None
    ipp: str


def _birth_date(rng: random.Random) -> date:
    span = (_BIRTH_END - _BIRTH_START).days
    # Most cancer patients are 55-85: skew towards births around 1950.
    offset = int(rng.triangular(0, span, (date(1952, 1, 1) - _BIRTH_START).days))
    return _BIRTH_START + timedelta(days=offset)


def _birthplace(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.06:
        return rng.choice(CORSICAN_BIRTHPLACES)
    if draw < 0.18:
        return rng.choice(FOREIGN_BIRTHPLACES)
    return rng.choice(FRANCE_BIRTHPLACES)


def _status(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.75:
        return "QUAL"
    if draw < 0.85:
        return "VALI"
    if draw < 0.93:
        return "RECUP"
    return "PROV"


def _first_names(rng: random.Random, sex: str) -> list[str]:
    pool = FEMALE_FIRST_NAMES if sex == "F" else MALE_FIRST_NAMES
    count = rng.choices([1, 2, 3], weights=[3, 5, 2])[0]
    while True:
        names = rng.sample(pool, count)
        parts = [part for name in names for part in name.split("-")]
        if len(parts) == len(set(parts)):  # no "Pierre-Yves Pierre"
            return names


def _matricule(rng: random.Random, sex: str, born: date, birthplace: str, used: set[str]) -> str:
    department, commune = birthplace[:2], birthplace[2:]
    if department in ("2A", "2B") and born.year < 1976:
        # Corsica was one department (20) until 1976; older NIRs keep that code.
        department = "20"
    while True:
        value = ins.make_matricule(
            "1" if sex == "M" else "2",
            born.year,
            born.month,
            department,
            commune,
            rng.randint(1, 999),
        )
        if value not in used:
            used.add(value)
            return value


def generate_patients(count: int = PATIENT_COUNT, seed: int = SEED) -> list[PatientSpec]:
    rng = random.Random(seed)
    ipps = rng.sample(range(40_000_000, 100_000_000), count)
    used_ins: set[str] = set()
    patients = []
    for index in range(count):
        sex = "F" if rng.random() < 0.52 else "M"
        born = _birth_date(rng)
        birthplace = _birthplace(rng)
        pool = CORSICAN_LAST_NAMES if birthplace[:2] in ("2A", "2B") else LAST_NAMES
        birth_name = rng.choice(pool)
        first_names = _first_names(rng, sex)
        used_name = used_first_name = None
        # Married women often use their spouse's name; some people go by a later first name.
        if sex == "F" and born.year < 1995 and rng.random() < 0.35:
            used_name = rng.choice([n for n in LAST_NAMES if n != birth_name])
        if len(first_names) > 1 and rng.random() < 0.12:
            used_first_name = first_names[1]
        status = _status(rng)
        has_ins = status in ("QUAL", "RECUP") or (status == "VALI" and rng.random() < 0.2)
        matricule = _matricule(rng, sex, born, birthplace, used_ins) if has_ins else None
        oid = None
        if matricule:
            oid = ins.OID_TEST_NIR if rng.random() < 0.08 else ins.OID_DEMO_NIR
        patients.append(
            PatientSpec(
                birth_name=birth_name,
                birth_first_names=" ".join(first_names),
                first_birth_first_name=first_names[0],
                used_name=used_name,
                used_first_name=used_first_name,
                sex=sex,
                birth_date=born,
                birthplace_code=birthplace,
                identity_status=status,
                ins_matricule=matricule,
                ins_oid=oid,
                ipp=str(ipps[index]),
            )
        )
    return patients
