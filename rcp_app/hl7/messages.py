"""HL7 v2 messages read with python-hl7 (``hl7``) into plain values: MSH, PID, MRG.

python-hl7 splits the message into segments, fields, repetitions, components and
subcomponents and unescapes the values; this module only picks the fields the identity feed
reads (README « Flux d'identités HL7 ») and names them. A missing field or component reads as
"" ; the HL7 null ``""`` (« delete this value ») is kept as is for ``mapping`` to interpret.
"""

from __future__ import annotations

from dataclasses import dataclass

import hl7

from .errors import rejected

# MSH-18 → Python codec. PAM FR messages are usually ISO 8859-1; without MSH-18 the frame is
# read as UTF-8 when it is valid UTF-8 (plain ASCII is both), else as ISO 8859-1.
CHARSETS = {
    "ASCII": "ascii",
    "8859/1": "latin-1",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
    "UNICODE": "utf-8",
}
HL7_NULL = '""'


@dataclass(frozen=True)
class Header:
    message_code: str  # MSH-9.1, e.g. ADT
    trigger_event: str  # MSH-9.2, e.g. A28
    control_id: str  # MSH-10
    processing_id: str  # MSH-11.1: P production, T training/test, D debugging
    version: str  # MSH-12.1, e.g. 2.5
    charset: str  # MSH-18 as sent ("" when absent)


@dataclass(frozen=True)
class Identifier:
    """One CX repetition: value, assigning authority (namespace, OID) and identifier type."""

    value: str
    namespace: str
    oid: str
    type_code: str


@dataclass(frozen=True)
class Name:
    """One XPN repetition of PID-5: family name, given name, further given names, type."""

    family: str
    given: str
    further_given: str
    type_code: str


@dataclass(frozen=True)
class Address:
    """One XAD repetition of PID-11: only its type and county/INSEE code are read."""

    type_code: str
    county_code: str


@dataclass(frozen=True)
class PatientSegment:
    identifiers: tuple[Identifier, ...]  # PID-3
    names: tuple[Name, ...]  # PID-5
    birth_date: str  # PID-7.1, HL7 DTM
    sex: str  # PID-8
    addresses: tuple[Address, ...]  # PID-11
    birth_place: str  # PID-23
    reliability_codes: tuple[str, ...]  # PID-32


@dataclass(frozen=True)
class AdtMessage:
    header: Header
    patient: PatientSegment | None
    prior_identifiers: tuple[Identifier, ...] | None  # MRG-1 (A40), None without MRG


def decode(frame: bytes) -> tuple[hl7.Message, str]:
    """The parsed message and the codec its acknowledgement is written with.

    Refuses (AR) what is not an HL7 message beginning with MSH."""
    # MSH is ASCII whatever MSH-18 says, and ISO 8859-1 decodes any byte: read MSH-18 first.
    draft = _parse(frame.decode("latin-1"))
    charset = field_value(draft.segment("MSH"), 18).strip().upper()
    if charset and charset not in CHARSETS:
        raise rejected(
            f"Jeu de caractères « {charset} » (MSH-18) non pris en charge : utilisez 8859/1 "
            "ou UNICODE UTF-8.",
            "102",
        )
    codec = CHARSETS.get(charset) or ("utf-8" if _is_utf8(frame) else "latin-1")
    if codec == "latin-1":
        return draft, codec
    try:
        return _parse(frame.decode(codec)), codec
    except UnicodeDecodeError as error:
        raise rejected(
            f"Le message n'est pas encodé comme l'annonce MSH-18 ({charset}) : octet "
            f"invalide en position {error.start}.",
            "102",
        ) from error


def _is_utf8(frame: bytes) -> bool:
    try:
        frame.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _parse(text: str) -> hl7.Message:
    try:
        message = hl7.parse(text)
        first = str(message[0][0])
    # Untrusted bytes: python-hl7 raises ParseException, IndexError, ValueError… on malformed
    # input; every one of them means « unreadable », answered AR, never a crashed listener.
    except Exception as error:
        raise rejected(
            "Message HL7 illisible : il doit commencer par un segment MSH et ses segments "
            "être séparés par des retours chariot.",
            "100",
        ) from error
    if first != "MSH":
        raise rejected(
            f"Message HL7 illisible : le premier segment est « {first[:3]} », MSH attendu.",
            "100",
        )
    return message


def field_value(segment, field: int, repeat: int = 1, component: int = 1, sub: int = 1) -> str:
    """One value of ``segment`` (unescaped, stripped), "" when the message has none there."""
    try:
        return str(segment.extract_field(1, field, repeat, component, sub)).strip()
    except IndexError:  # the path goes deeper than the value sent: nothing there
        return ""


def _repeats(segment, field: int) -> range:
    count = len(segment(field)) if field < len(segment) else 0
    return range(1, count + 1)


def _segment(message: hl7.Message, name: str):
    try:
        return message.segment(name)
    except KeyError:
        return None


def header(message: hl7.Message) -> Header:
    msh = message.segment("MSH")
    return Header(
        message_code=field_value(msh, 9, 1, 1).upper(),
        trigger_event=field_value(msh, 9, 1, 2).upper(),
        control_id=field_value(msh, 10),
        processing_id=field_value(msh, 11, 1, 1).upper(),
        version=field_value(msh, 12, 1, 1),
        charset=field_value(msh, 18),
    )


def _identifiers(segment, field: int) -> tuple[Identifier, ...]:
    found = []
    for repeat in _repeats(segment, field):
        value = field_value(segment, field, repeat, 1)
        if value:
            found.append(
                Identifier(
                    value=value,
                    namespace=field_value(segment, field, repeat, 4, 1),
                    oid=field_value(segment, field, repeat, 4, 2),
                    type_code=field_value(segment, field, repeat, 5).upper(),
                )
            )
    return tuple(found)


def _names(segment) -> tuple[Name, ...]:
    return tuple(
        Name(
            family=field_value(segment, 5, repeat, 1, 1),
            given=field_value(segment, 5, repeat, 2),
            further_given=field_value(segment, 5, repeat, 3),
            type_code=field_value(segment, 5, repeat, 7).upper(),
        )
        for repeat in _repeats(segment, 5)
        if field_value(segment, 5, repeat, 1, 1) or field_value(segment, 5, repeat, 2)
    )


def _addresses(segment) -> tuple[Address, ...]:
    return tuple(
        Address(
            type_code=field_value(segment, 11, repeat, 7).upper(),
            county_code=field_value(segment, 11, repeat, 9),
        )
        for repeat in _repeats(segment, 11)
    )


def patient_segment(segment) -> PatientSegment:
    return PatientSegment(
        identifiers=_identifiers(segment, 3),
        names=_names(segment),
        birth_date=field_value(segment, 7),
        sex=field_value(segment, 8).upper(),
        addresses=_addresses(segment),
        birth_place=field_value(segment, 23),
        reliability_codes=tuple(
            code
            for repeat in _repeats(segment, 32)
            if (code := field_value(segment, 32, repeat).upper())
        ),
    )


def adt(message: hl7.Message) -> AdtMessage:
    pid = _segment(message, "PID")
    mrg = _segment(message, "MRG")
    return AdtMessage(
        header=header(message),
        patient=patient_segment(pid) if pid is not None else None,
        prior_identifiers=_identifiers(mrg, 1) if mrg is not None else None,
    )
