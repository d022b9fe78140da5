"""Matricule INS (NIR or NIA) checks, per the national identity rules.

Structure (15 characters): sex (1) · birth year (2) · birth month (2) · department (2, "2A"/"2B"
for Corsica) · commune or country (3) · order number (3) · key (2).
Key = 97 − (the 13-character number mod 97), with 2A read as 19 and 2B as 18.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

OID_NIR = "1.2.250.1.213.1.4.8"
OID_NIA = "1.2.250.1.213.1.4.9"
OID_TEST_NIR = "1.2.250.1.213.1.4.10"
OID_DEMO_NIR = "1.2.250.1.213.1.4.11"
INS_OIDS = {
    OID_NIR: "INS-NIR",
    OID_NIA: "INS-NIA",
    OID_TEST_NIR: "INS-NIR de test",
    OID_DEMO_NIR: "INS-NIR de démonstration",
}

# First digit: 1/2 for persons registered at birth, 3/4 for foreign-born persons awaiting
# registration (old practice), 7/8 for temporary numbers (NIA). Odd means male.
_SEX_BY_DIGIT = {"1": "M", "2": "F", "3": "M", "4": "F", "7": "M", "8": "F"}
_SHAPE = re.compile(r"^[123478]\d{4}(\d{2}|2A|2B)\d{6}\d{2}$")


class InsError(ValueError):
    """The matricule is refused; the message is French and precise."""


@dataclass(frozen=True)
class Matricule:
    value: str

    @property
    def sex(self) -> str:
        return _SEX_BY_DIGIT[self.value[0]]

    @property
    def year_2digits(self) -> int:
        return int(self.value[1:3])

    @property
    def month(self) -> int:
        return int(self.value[3:5])

    @property
    def department(self) -> str:
        return self.value[5:7]


def normalise(raw: str) -> str:
    return re.sub(r"[\s.\-]", "", raw or "").upper()


def compute_key(first13: str) -> int:
    digits = first13.replace("2A", "19").replace("2B", "18")
    return 97 - int(digits) % 97


def parse(raw: str) -> Matricule:
    value = normalise(raw)
    if len(value) != 15:
        raise InsError(
            f"Le matricule INS doit comporter 15 caractères (clé comprise) ; {len(value)} saisis."
        )
    if value[0] not in _SEX_BY_DIGIT:
        raise InsError("Le premier chiffre du matricule INS (sexe) doit être 1, 2, 3, 4, 7 ou 8.")
    if not _SHAPE.match(value):
        raise InsError(
            "Le matricule INS ne contient que des chiffres, sauf le département de naissance "
            "(2A ou 2B pour la Corse)."
        )
    key = int(value[13:])
    expected = compute_key(value[:13])
    if key != expected:
        raise InsError(f"La clé du matricule INS est incorrecte ({value[13:]} saisie).")
    return Matricule(value)


def check_coherence(matricule: Matricule, sex: str | None, birth_date: date | None) -> None:
    """The matricule must agree with the strict traits: sex, birth year and birth month."""
    if sex in ("M", "F") and matricule.sex != sex:
        label = "masculin" if matricule.sex == "M" else "féminin"
        raise InsError(f"Le matricule INS désigne une personne de sexe {label}, "
                       "ce qui ne correspond pas au sexe saisi.")
    if birth_date is None:
        return
    if matricule.year_2digits != birth_date.year % 100:
        raise InsError(
            f"L'année de naissance du matricule INS ({matricule.value[1:3]}) ne correspond pas "
            f"à la date de naissance ({birth_date:%d/%m/%Y})."
        )
    # Months 20-42 and 50-99 are used when the birth month was unknown at registration.
    if 1 <= matricule.month <= 12 and matricule.month != birth_date.month:
        raise InsError(
            f"Le mois de naissance du matricule INS ({matricule.value[3:5]}) ne correspond pas "
            f"à la date de naissance ({birth_date:%d/%m/%Y})."
        )
    if matricule.month == 0 or 13 <= matricule.month <= 19 or 43 <= matricule.month <= 49:
        raise InsError(f"Le mois de naissance du matricule INS ({matricule.value[3:5]}) est impossible.")


def check_oid(oid: str | None) -> None:
    if oid not in INS_OIDS:
        raise InsError("L'OID de l'INS est inconnu : choisissez INS-NIR, INS-NIA, ou un OID de test.")


def make_matricule(sex_digit: str, year: int, month: int, department: str, commune: str,
                   order: int) -> str:
    """Build a matricule with its key (demo data and tests)."""
    body = f"{sex_digit}{year % 100:02d}{month:02d}{department}{commune}{order:03d}"
    if len(body) != 13:
        raise ValueError(body)
    return f"{body}{compute_key(body):02d}"
