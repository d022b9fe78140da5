"""PID → identity data: the status table and the name rules of PAM FR (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from rcp_app.hl7.errors import Refusal
from rcp_app.hl7.mapping import birth_date, identity_data, identity_status
from rcp_app.hl7.messages import Address, Identifier, Name, PatientSegment

IPP = Identifier("123", "HOP", "1.2.3", "PI")


@pytest.mark.parametrize(
    ("codes", "has_ins", "current", "expected"),
    [
        (("VALI",), True, None, "QUAL"),
        (("VALI",), False, None, "VALI"),
        (("PROV",), True, None, "RECUP"),
        (("PROV",), False, "QUAL", "PROV"),
        (("VIDE",), False, None, "PROV"),
        (("RECUP",), True, None, "RECUP"),
        (("QUAL",), True, None, "QUAL"),
        (("VALI", "HOMD"), True, None, "QUAL"),
        (("DOUTE",), False, "VALI", "PROV"),
        (("FICTI",), False, None, "PROV"),
        ((), True, None, "RECUP"),
        ((), False, None, "PROV"),
        ((), True, "QUAL", "QUAL"),
        ((), False, "VALI", "VALI"),
    ],
)
def test_identity_status(codes, has_ins, current, expected):
    assert identity_status(codes, has_ins, current) == expected


@pytest.mark.parametrize(
    ("codes", "has_ins", "fragment"),
    [
        (("XYZ",), False, "inconnu"),
        (("DOUTE",), True, "douteuse ou fictive"),
        (("PROV", "VALI"), False, "plusieurs statuts"),
    ],
)
def test_identity_status_refusals(codes, has_ins, fragment):
    with pytest.raises(Refusal, match=fragment) as refused:
        identity_status(codes, has_ins, None)
    assert refused.value.location == ("PID", 32)


def _pid(names=(), **fields) -> PatientSegment:
    values = {
        "identifiers": (IPP,),
        "names": names,
        "birth_date": "",
        "sex": "",
        "addresses": (),
        "birth_place": "",
        "reliability_codes": (),
    }
    values.update(fields)
    return PatientSegment(**values)


@pytest.mark.parametrize(
    ("given", "further", "expected"),
    [
        ("Marie", "Marie Hélène", "Marie Hélène"),  # PAM FR: XPN.3 is the whole list
        ("Marie", "Hélène Jeanne", "Marie Hélène Jeanne"),  # HL7: further given names
        ("Marie", "", "Marie"),
        ("Jean", "Jeanne", "Jean Jeanne"),  # a prefix of a word is not the same name
    ],
)
def test_birth_first_names(given, further, expected):
    data = identity_data(_pid((Name("DUPONT", given, further, "L"),)), IPP)
    assert data["birth_first_names"] == expected
    assert data["first_birth_first_name"] == given


def test_sex_birthplace_and_dates():
    pid = _pid(
        sex="U",
        birth_date="195604120830",
        addresses=(Address("H", "75112"), Address("BDL", "2A004")),
    )
    data = identity_data(pid, IPP)
    assert (data["sex"], data["birth_date"], data["birthplace_code"]) == (
        "I",
        date(1956, 4, 12),
        "2A004",
    )
    assert identity_data(_pid(birth_place="99134"), IPP)["birthplace_code"] == "99134"


@pytest.mark.parametrize("raw", ["1956", "19561312", "1956-04-12", "abcdefgh"])
def test_unreadable_birth_dates_are_refused(raw):
    with pytest.raises(Refusal, match="AAAAMMJJ"):
        birth_date(raw)


def test_fields_not_sent_keep_the_current_values():
    current = {"birth_name": "DUPONT", "sex": "F", "birthplace_code": "75056", "used_name": "X"}
    data = identity_data(_pid(), IPP, current)
    assert {k: data[k] for k in current} == current
    assert data["ipp"] == "123" and data["ins_matricule"] is None
