"""PID (IHE PAM, French extension) → the identity data of ``patients.operations``.

The same rules as a user's input then apply (``patients.operations.validate``): this module
only says which HL7 field feeds which identity field, never whether a value is acceptable.

Fields read
    PID-3   identifiers (repeating CX). The IPP: identifier type ``PI`` (with ``--ipp-authority``:
            the one whose assigning authority, namespace or OID, is the one given). The INS:
            identifier type ``INS`` or an assigning-authority OID of the INS (NIR
            1.2.250.1.213.1.4.8, NIA …4.9, test NIR …4.10, demo NIR …4.11); the OID becomes
            ``ins_oid`` (checked against the kind of number by the patient rules).
    PID-5   names (repeating XPN). Type ``L`` (legal = birth name): XPN.1 birth name, XPN.2
            first birth first name, XPN.3 the birth first names — PAM FR sends the whole list
            there; when XPN.3 does not begin with XPN.2 it is read as HL7's « further given
            names » and XPN.2 is put in front. Without type ``L`` the first name without type
            is taken. Type ``D`` (display = used): XPN.1 used name, XPN.2 used first name.
    PID-7   birth date (YYYYMMDD, a time may follow); PID-8 sex (M, F; U, A, O, N → I
            « indéterminé »); PID-11 the address of type ``BDL`` (birth place), XAD.9 = INSEE
            code of the birthplace, else PID-23 when it holds a 5-character code.
    PID-32  identity reliability code, repeating (HL7 table 0445, InteropSanté).

Identity status (RNIV: an INS only ever comes from the national INSi service)
    PID-32 RECUP or QUAL (table 0445 since the RNIV codes were added) → that status.
    PID-32 VALI  + an INS in PID-3  → QUAL  (validated against an ID document, INS retrieved)
    PID-32 VALI, no INS             → VALI
    PID-32 PROV or VIDE + an INS    → RECUP (retrieved, not checked against an ID document)
    PID-32 PROV or VIDE, no INS     → PROV
    PID-32 DOUTE/DOUT or FICTI/FICT (doubtful, fictitious): PROV, and refused with an INS
            (such an identity may not carry one).
    Other attribute codes (homonym HOMD/HOMA, …) are ignored; an unknown code is refused.
    PID-32 empty: a new patient is PROV (RECUP with an INS); a known patient keeps its status.

HL7 update semantics: an empty field changes nothing (the current value is kept); ``""`` (the
HL7 null) erases it; a field sent replaces the whole field (PID-3 sent without an INS removes
the INS, PID-5 sent without a ``D`` name removes the used name).
"""

from __future__ import annotations

from datetime import date

from hl7.datatypes import parse_datetime

from ..patients.ins import INS_OIDS
from .errors import Refusal
from .messages import HL7_NULL, Identifier, Name, PatientSegment

_SEXES = {"M": "M", "F": "F", "U": "I", "A": "I", "O": "I", "N": "I"}
_STATUS_CODES = {"VIDE", "PROV", "VALI", "RECUP", "QUAL"}
_NO_INS_CODES = {"DOUTE", "DOUT", "FICTI", "FICT"}
_IGNORED_CODES = {
    "HOMD", "HOMA", "DOUB", "DPOT", "DOUA", "COLP", "COLV", "FILI", "CACH", "ANOM",
    "IDVER", "RECD", "IDRA", "USUR", "DESA", "INVA",
}  # fmt: skip
_BIRTH_ADDRESS = "BDL"

# Which PID field a refusal of the identity rules points at (ERR-2).
FIELD_LOCATIONS = {
    "birth_name": ("PID", 5),
    "birth_first_names": ("PID", 5),
    "first_birth_first_name": ("PID", 5),
    "used_name": ("PID", 5),
    "used_first_name": ("PID", 5),
    "sex": ("PID", 8),
    "birth_date": ("PID", 7),
    "birthplace_code": ("PID", 11),
    "identity_status": ("PID", 32),
    "ins_matricule": ("PID", 3),
    "ins_oid": ("PID", 3),
    "ipp": ("PID", 3),
}


def find_ipp(identifiers: tuple[Identifier, ...], authority: str | None = None):
    for identifier in identifiers:
        if identifier.type_code != "PI":
            continue
        if authority is None or authority in (identifier.namespace, identifier.oid):
            return identifier
    return None


def find_ins(identifiers: tuple[Identifier, ...]):
    for identifier in identifiers:
        if identifier.type_code == "INS" or identifier.oid in INS_OIDS:
            return identifier
    return None


def identity_status(codes: tuple[str, ...], has_ins: bool, current: str | None) -> str:
    """Our status (PROV/RECUP/VALI/QUAL) from PID-32 and the presence of an INS (docstring)."""
    unknown = [c for c in codes if c not in _STATUS_CODES | _NO_INS_CODES | _IGNORED_CODES]
    if unknown:
        raise Refusal(
            f"Code de fiabilité de l'identité inconnu (PID-32) : « {unknown[0]} ». Codes lus : "
            "PROV, VALI, RECUP, QUAL, VIDE, DOUTE, FICTI.",
            error_code="103",
            location=("PID", 32),
        )
    if _NO_INS_CODES.intersection(codes):
        if has_ins:
            raise Refusal(
                "Une identité douteuse ou fictive (PID-32) ne peut pas porter de matricule "
                "INS (PID-3).",
                location=("PID", 32),
            )
        return "PROV"
    statuses = [c for c in codes if c in _STATUS_CODES]
    if len(set(statuses)) > 1:
        raise Refusal(
            f"PID-32 porte plusieurs statuts d'identité ({', '.join(statuses)}) : un seul "
            "est attendu.",
            error_code="103",
            location=("PID", 32),
        )
    code = statuses[0] if statuses else None
    if code in ("RECUP", "QUAL"):
        return code
    if code == "VALI":
        return "QUAL" if has_ins else "VALI"
    if code in ("PROV", "VIDE") or current is None:
        return "RECUP" if has_ins else "PROV"
    return current


def birth_date(raw: str) -> date:
    digits = raw[:8]
    try:
        if len(digits) < 8 or not digits.isdigit():
            raise ValueError(raw)
        return parse_datetime(digits).date()
    except ValueError as error:
        raise Refusal(
            f"Date de naissance illisible (PID-7) : « {raw} » ; format attendu AAAAMMJJ.",
            location=("PID", 7),
        ) from error


def _sent(value: str) -> bool:
    return bool(value)


def _erased(value: str) -> bool:
    return value == HL7_NULL


def _text(value: str) -> str | None:
    return None if _erased(value) else value


def _birth_first_names(name: Name) -> str:
    first, listed = _text(name.given) or "", _text(name.further_given) or ""
    if not listed:
        return first
    if not first or listed.casefold() == first.casefold():
        return listed
    if listed.casefold().startswith(first.casefold() + " "):
        return listed
    return f"{first} {listed}"


def _names(names: tuple[Name, ...]) -> dict:
    birth = next((n for n in names if n.type_code == "L"), None)
    if birth is None:
        birth = next((n for n in names if not n.type_code), None)
    used = next((n for n in names if n.type_code == "D"), None)
    values = {"used_name": None, "used_first_name": None}
    if birth is not None:
        values.update(
            birth_name=_text(birth.family),
            first_birth_first_name=_text(birth.given),
            birth_first_names=_birth_first_names(birth) or None,
        )
    else:
        values.update(birth_name=None, first_birth_first_name=None, birth_first_names=None)
    if used is not None:
        values.update(used_name=_text(used.family), used_first_name=_text(used.given))
    return values


def _birthplace(pid: PatientSegment) -> str | None:
    """The INSEE code sent, HL7_NULL to erase it, None when none is sent."""
    for address in pid.addresses:
        if address.type_code == _BIRTH_ADDRESS and address.county_code:
            return address.county_code
    place = pid.birth_place
    if _erased(place) or (len(place) == 5 and place.isalnum()):
        return place
    return None


def identity_data(pid: PatientSegment, ipp: Identifier, current: dict | None = None) -> dict:
    """The dict ``patients.operations`` validates: ``current`` (a known patient's values) with
    what the PID sends laid over it."""
    values = dict(current or {})
    if pid.names:
        values.update(_names(pid.names))
    if _sent(pid.birth_date):
        values["birth_date"] = None if _erased(pid.birth_date) else birth_date(pid.birth_date)
    if _sent(pid.sex):
        values["sex"] = None if _erased(pid.sex) else _SEXES.get(pid.sex, pid.sex)
    place = _birthplace(pid)
    if place is not None:
        values["birthplace_code"] = _text(place)
    ins = find_ins(pid.identifiers)
    values["ipp"] = ipp.value
    values["ins_matricule"] = ins.value if ins else None
    values["ins_oid"] = (ins.oid or None) if ins else None
    values["identity_status"] = identity_status(
        pid.reliability_codes, ins is not None, (current or {}).get("identity_status")
    )
    return values
