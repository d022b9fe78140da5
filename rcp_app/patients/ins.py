"""Matricule INS (NIR or NIA) checks, per the national identity rules.

Structure (15 characters): sex (1) · birth year (2) · birth month (2) · department (2, "2A"/"2B"
for Corsica) · commune or country (3) · order number (3) · key (2).
Key = 97 − (the 13-character number mod 97), with 2A read as 19 and 2B as 18.
Every refusal raises InsError with a precise French message.
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
_NIA_DIGITS = {"7", "8"}
_DIGITS = frozenset("0123456789")
_SHAPE = re.compile(r"^[123478][0-9]{4}([0-9]{2}|2A|2B)[0-9]{8}$")
# Months 20-42 and 50-99 are pseudo-months (birth month unknown at registration).
_IMPOSSIBLE_MONTHS = {0, *range(13, 20), *range(43, 50)}


class InsError(ValueError):
    """The matricule is refused; the message is French and precise."""


@dataclass(frozen=True)
class Matricule:
    value: str

    @property
    def sex(self) -> str:
        return _SEX_BY_DIGIT[self.value[0]]

    @property
    def is_nia(self) -> bool:
        return self.value[0] in _NIA_DIGITS

    @property
    def year_2digits(self) -> int:
        return int(self.value[1:3])

    @property
    def month(self) -> int:
        return int(self.value[3:5])

    @property
    def department(self) -> str:
        return self.value[5:7]


def normalise(raw: str | None) -> str:
    """Spaces, dots and dashes typed between groups are dropped; letters upper-cased."""
    return re.sub(r"[\s.\-]", "", raw or "").upper()


def compute_key(first13: str) -> int:
    digits = first13[:5] + first13[5:7].replace("2A", "19").replace("2B", "18") + first13[7:]
    return 97 - int(digits) % 97


def _check_characters(value: str) -> None:
    department = value[5:7]
    corsica = department in ("2A", "2B")
    if not corsica and any(char.isalpha() for char in department):
        raise InsError(
            f"Le département de naissance du matricule INS (« {department} ») est invalide : "
            "seuls 2A et 2B (Corse) comportent une lettre."
        )
    for position, char in enumerate(value, start=1):
        if corsica and position in (6, 7):
            continue
        if char not in _DIGITS:
            raise InsError(
                f"Le matricule INS ne doit contenir que des chiffres (lettres admises seulement "
                f"pour la Corse, 2A ou 2B) : « {char} » en position {position}."
            )


def parse(raw: str | None) -> Matricule:
    value = normalise(raw)
    if not value:
        raise InsError("Le matricule INS est vide.")
    if len(value) != 15:
        raise InsError(
            f"Le matricule INS doit comporter 15 caractères (clé comprise) ; {len(value)} saisis."
        )
    _check_characters(value)
    if value[0] not in _SEX_BY_DIGIT:
        raise InsError(
            f"Le premier chiffre du matricule INS (sexe) doit être 1, 2, 3, 4, 7 ou 8 ; "
            f"« {value[0]} » saisi."
        )
    if not _SHAPE.match(value):  # defensive: the checks above cover every other shape
        raise InsError("Le matricule INS n'a pas la forme attendue.")
    if int(value[3:5]) in _IMPOSSIBLE_MONTHS:
        raise InsError(f"Le mois de naissance du matricule INS ({value[3:5]}) est impossible.")
    if int(value[13:]) != compute_key(value[:13]):
        raise InsError(
            f"La clé du matricule INS ({value[13:]}) ne correspond pas aux 13 premiers "
            "caractères : vérifiez la saisie."
        )
    return Matricule(value)


def check_coherence(matricule: Matricule, sex: str | None, birth_date: date | None) -> None:
    """The matricule must agree with the strict traits: sex, birth year and birth month."""
    if sex in ("M", "F") and matricule.sex != sex:
        label = "masculin" if matricule.sex == "M" else "féminin"
        raise InsError(
            f"Le matricule INS désigne une personne de sexe {label}, "
            "ce qui ne correspond pas au sexe saisi."
        )
    if birth_date is None:
        return
    if matricule.year_2digits != birth_date.year % 100:
        raise InsError(
            f"L'année de naissance du matricule INS ({matricule.value[1:3]}) ne correspond pas "
            f"à la date de naissance ({birth_date:%d/%m/%Y})."
        )
    # Pseudo-months (20-42, 50-99) say nothing about the real month.
    if 1 <= matricule.month <= 12 and matricule.month != birth_date.month:
        raise InsError(
            f"Le mois de naissance du matricule INS ({matricule.value[3:5]}) ne correspond pas "
            f"à la date de naissance ({birth_date:%d/%m/%Y})."
        )


def check_oid(oid: str | None, matricule: Matricule | None = None) -> None:
    """The OID must be a known INS root, and agree with the kind of number (NIR or NIA)."""
    if not oid:
        raise InsError("L'OID de l'INS est obligatoire avec un matricule INS.")
    if oid not in INS_OIDS:
        raise InsError(
            f"L'OID de l'INS « {oid} » est inconnu : choisissez INS-NIR, INS-NIA, "
            "ou un OID de test."
        )
    if matricule is None:
        return
    if oid == OID_NIA and not matricule.is_nia:
        raise InsError(
            "L'OID INS-NIA est réservé aux numéros provisoires (NIA) commençant "
            "par 7 ou 8 ; ce matricule est un NIR."
        )
    if oid != OID_NIA and matricule.is_nia:
        raise InsError(
            "Ce matricule commence par 7 ou 8 : c'est un NIA, son OID doit être "
            "INS-NIA (1.2.250.1.213.1.4.9)."
        )


def make_matricule(
    sex_digit: str, year: int, month: int, department: str, commune: str, order: int
) -> str:
    """Build a matricule with its key (demo data and tests)."""
    body = f"{sex_digit}{year % 100:02d}{month:02d}{department}{commune}{order:03d}"
    if len(body) != 15 - 2:
        raise ValueError(body)
    return f"{body}{compute_key(body):02d}"
