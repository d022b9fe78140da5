"""The quorum function: pure, no database (rcp_app/attendance/quorum.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from rcp_app.attendance.quorum import Attendee, QuorumResult, compute_quorum, french_list
from rcp_app.terminology.builtin import (
    BUILTIN,
    QUORUM_NOT_REACHED,
    QUORUM_REACHED,
    QUORUM_STATUS,
    QUORUM_UNKNOWN,
)
from rcp_app.terminology.svs import parse_file

ONCO, RADIO, SURG, PATH, RADIOL = "SM36", "SM45", "SM05", "SM01", "SM44"
LABELS = {
    ONCO: "Oncologie médicale",
    RADIO: "Radiothérapie",
    SURG: "Chirurgie générale",
    PATH: "Anatomie et cytologie pathologiques",
    RADIOL: "Radiodiagnostic",
}


def people(*specialties: str, member: bool = True) -> list[Attendee]:
    return [Attendee(100 + i, code, member) for i, code in enumerate(specialties)]


def q(attendees, **rule) -> QuorumResult:
    rule.setdefault("labels", LABELS)
    return compute_quorum(attendees, **rule)


# (attendee specialties, min, required, extra, reached, counted, missing required, more needed)
TABLE = [
    ((ONCO, RADIO, SURG), 3, (), (), True, 3, (), 0),
    ((ONCO, RADIO), 3, (), (), False, 2, (), 1),
    ((ONCO,), 3, (), (), False, 1, (), 2),
    ((ONCO, ONCO, ONCO), 3, (), (), False, 1, (), 2),
    ((ONCO, RADIO, SURG, PATH), 3, (), (), True, 4, (), 0),
    ((ONCO, RADIO, SURG), 4, (), (), False, 3, (), 1),
    ((ONCO, RADIO, SURG), 1, (), (), True, 3, (), 0),
    ((ONCO, SURG, PATH), 3, (RADIO,), (), False, 3, (RADIO,), 1),
    ((ONCO, SURG), 3, (RADIO,), (), False, 2, (RADIO,), 1),
    ((ONCO,), 3, (RADIO,), (), False, 1, (RADIO,), 2),
    ((ONCO, RADIO, SURG), 3, (ONCO, RADIO, SURG), (), True, 3, (), 0),
    ((ONCO, RADIO, SURG), 3, (ONCO, RADIO, SURG), (PATH,), False, 3, (PATH,), 1),
    ((ONCO, RADIO, SURG, PATH), 3, (ONCO, RADIO, SURG), (PATH,), True, 4, (), 0),
    # Required specialties raise the minimum: 4 required with a minimum of 3 needs 4.
    ((ONCO, RADIO, SURG), 3, (ONCO, RADIO), (SURG, PATH), False, 3, (PATH,), 1),
    ((), 3, (), (), False, 0, (), 3),
    ((), 3, (RADIO, SURG), (), False, 0, (RADIO, SURG), 3),
    # The same specialty required by the RCP and by the case counts once.
    ((ONCO, RADIO, SURG), 3, (RADIO,), (RADIO,), True, 3, (), 0),
    # None means the default minimum (3).
    ((ONCO, RADIO), None, (), (), False, 2, (), 1),
]


@pytest.mark.parametrize(
    "specialties, minimum, required, extra, reached, counted, missing, more", TABLE
)
def test_table(specialties, minimum, required, extra, reached, counted, missing, more):
    result = q(
        people(*specialties), min_specialties=minimum, required=required, extra_required=extra
    )
    assert result.reached is reached
    assert len(result.counted) == counted
    assert set(result.missing_required) == set(missing)
    assert result.more_needed == more
    assert result.others_needed == more - len(missing)
    assert result.status_code == (
        QUORUM_REACHED if reached else QUORUM_UNKNOWN if not specialties else QUORUM_NOT_REACHED
    )
    assert result.message.startswith("Quorum atteint" if reached else "Quorum ")


def test_default_minimum_is_three():
    assert q(people(ONCO, RADIO)).reached is False
    assert q(people(ONCO, RADIO, SURG)).reached is True
    assert q(people(ONCO, RADIO)).minimum == 3


def test_non_quorum_attendees_do_not_count():
    attendees = people(ONCO, RADIO) + [Attendee(900, SURG, False)]
    result = q(attendees)
    assert not result.reached
    assert SURG not in result.counted


def test_a_professional_counts_once():
    # The same professional twice (e.g. a duplicate row): only the first occurrence counts.
    attendees = [Attendee(1, ONCO), Attendee(1, RADIO), Attendee(2, SURG)]
    result = q(attendees)
    assert result.counted == tuple(sorted((ONCO, SURG), key=lambda c: LABELS[c]))
    assert not result.reached


def test_specialties_equal_by_code_and_blank_codes_ignored():
    attendees = [Attendee(1, ONCO), Attendee(2, f" {ONCO} "), Attendee(3, ""), Attendee(4, RADIO)]
    result = q(attendees)
    assert len(result.counted) == 2


def test_reached_message_lists_specialties_by_label():
    result = q(people(SURG, ONCO, RADIO, PATH))
    assert result.message == (
        "Quorum atteint : 4 spécialités distinctes (Anatomie et cytologie pathologiques, "
        "Chirurgie générale, Oncologie médicale, Radiothérapie)"
    )
    assert result.counted_labels[0] == "Anatomie et cytologie pathologiques"


def test_singular_when_one_specialty_is_enough():
    result = q(people(ONCO), min_specialties=1)
    assert result.message == "Quorum atteint : 1 spécialité distincte (Oncologie médicale)"


@pytest.mark.parametrize(
    "specialties, required, message",
    [
        (
            (ONCO,),
            (RADIO,),
            "Quorum non atteint : il manque Radiothérapie et 1 autre spécialité",
        ),
        ((ONCO, SURG), (RADIO,), "Quorum non atteint : il manque Radiothérapie"),
        (
            (ONCO,),
            (RADIO, SURG),
            "Quorum non atteint : il manque Chirurgie générale et Radiothérapie",
        ),
        (
            (RADIOL,),
            (RADIO, SURG, PATH),
            "Quorum non atteint : il manque Anatomie et cytologie pathologiques, "
            "Chirurgie générale et Radiothérapie",
        ),
        ((ONCO, SURG), (), "Quorum non atteint : il manque 1 spécialité"),
        ((ONCO,), (), "Quorum non atteint : il manque 2 spécialités"),
        (
            (RADIOL, PATH),
            (RADIO,),
            "Quorum non atteint : il manque Radiothérapie",
        ),
    ],
)
def test_not_reached_messages(specialties, required, message):
    assert q(people(*specialties), required=required).message == message


def test_two_other_specialties_plural():
    result = q(people(ONCO), min_specialties=4, required=(RADIO,))
    assert result.message == "Quorum non atteint : il manque Radiothérapie et 2 autres spécialités"


def test_no_attendance_is_unknown():
    result = q([], required=(RADIO,))
    assert result.status_code == QUORUM_UNKNOWN
    assert not result.reached
    assert result.message == (
        "Quorum inconnu (aucune présence enregistrée) : il manque Radiothérapie "
        "et 2 autres spécialités"
    )


def test_only_non_members_present_is_not_reached_not_unknown():
    result = q(people(ONCO, RADIO, SURG, member=False))
    assert result.status_code == QUORUM_NOT_REACHED
    assert result.counted == ()


def test_labels_fall_back_to_codes():
    result = compute_quorum(people("X1"), min_specialties=2, required=("X2",))
    assert result.message == "Quorum non atteint : il manque X2"
    assert result.missing_required_labels == ("X2",)


def test_order_of_attendees_does_not_matter():
    attendees = people(ONCO, RADIO, SURG, PATH) + [Attendee(9, ONCO, False)]
    results = {
        q(list(p), required=(RADIO,), extra_required=(PATH,))
        for p in itertools.permutations(attendees)
    }
    assert len(results) == 1


def test_adding_a_quorum_member_never_unreaches():
    """Monotony over every subset of a small pool."""
    pool = [Attendee(i, code) for i, code in enumerate((ONCO, RADIO, SURG, PATH, RADIOL, ONCO))]
    for size in range(len(pool)):
        for subset in itertools.combinations(pool, size):
            before = q(list(subset), required=(RADIO,))
            for extra in pool:
                if extra in subset:
                    continue
                after = q([*subset, extra], required=(RADIO,))
                assert after.more_needed <= before.more_needed
                assert not (before.reached and not after.reached)


@pytest.mark.parametrize(
    "items, text", [([], ""), (["A"], "A"), (["A", "B"], "A et B"), (["A", "B", "C"], "A, B et C")]
)
def test_french_list(items, text):
    assert french_list(items) == text


def test_status_codes_are_the_builtin_value_set():
    codes = {code for code, *_ in BUILTIN[QUORUM_STATUS].concepts}
    assert {QUORUM_REACHED, QUORUM_NOT_REACHED, QUORUM_UNKNOWN} == codes


def test_status_codes_match_the_official_value_set():
    path = (
        Path(__file__).resolve().parents[1]
        / "../shared/ans-cisis/jeuxDeValeurs/JDV_StatutQuorum_CISIS.xml"
    )
    if not path.exists():
        pytest.skip("ANS CI-SIS value sets absent (../shared/ans-cisis)")
    concepts = {c.code: c.label for c in parse_file(path).concepts}
    assert concepts[QUORUM_REACHED] == "Quorum atteint"
    assert concepts[QUORUM_NOT_REACHED] == "Quorum non atteint"
    assert concepts[QUORUM_UNKNOWN] == "Ne sait pas"
