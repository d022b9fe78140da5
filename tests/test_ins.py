"""Matricule INS checks: structure, key (Corsica included), NIA, coherence, OID."""

from datetime import date

import pytest

from rcp_app.patients import ins


def key_of(body13: str) -> str:
    """Independent key computation: 97 - (number mod 97), 2A -> 19, 2B -> 18."""
    digits = body13[:5] + {"2A": "19", "2B": "18"}.get(body13[5:7], body13[5:7]) + body13[7:]
    return f"{97 - int(digits) % 97:02d}"


@pytest.mark.parametrize(
    "raw",
    [
        "269054958815780",  # Wikipedia example
        "2 69 05 49 588 157 80",  # typed with spaces
        "279035121518989",  # ANS CI-SIS FRCP example (test NIR)
        "1850320004123" + key_of("1850320004123"),  # born before 1976 in Corsica: 20
        "18503" + "2A004123" + key_of("185032A004123"),
        "18503" + "2b004123" + key_of("185032B004123"),  # lower-case b accepted
        "7850399123045" + key_of("7850399123045"),  # NIA, man
        "8850399123045" + key_of("8850399123045"),  # NIA, woman
        "1852099123045" + key_of("1852099123045"),  # pseudo-month 20
        "1854299123045" + key_of("1854299123045"),  # pseudo-month 42
        "1855099123045" + key_of("1855099123045"),  # pseudo-month 50
        "1859999123045" + key_of("1859999123045"),  # pseudo-month 99
        "185037510002397",  # a multiple of 97: the key is 97, not 00
    ],
)
def test_valid_matricules(raw):
    matricule = ins.parse(raw)
    assert len(matricule.value) == 15
    assert matricule.value == ins.normalise(raw)


def test_key_of_a_multiple_of_97_is_97():
    assert 1850375100023 % 97 == 0
    assert ins.compute_key("1850375100023") == 97
    with pytest.raises(ins.InsError):
        ins.parse("185037510002300")


def test_corsica_keys_use_19_and_18():
    assert ins.compute_key("185032A004123") == int(key_of("185032A004123"))
    assert ins.compute_key("185032A004123") == 97 - 1850319004123 % 97
    assert ins.compute_key("185032B004123") == 97 - 1850318004123 % 97
    assert ins.compute_key("185032A004123") != ins.compute_key("185032B004123")


def test_make_matricule_builds_valid_numbers():
    value = ins.make_matricule("2", 1956, 4, "2B", "033", 7)
    assert value.startswith("256042B033007")
    assert ins.parse(value).department == "2B"


def test_matricule_properties():
    nir = ins.parse("279035121518989")
    assert (nir.sex, nir.year_2digits, nir.month, nir.department, nir.is_nia) == (
        "F",
        79,
        3,
        "51",
        False,
    )
    assert ins.parse("7850399123045" + key_of("7850399123045")).is_nia


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "vide"),
        ("26905495881578", "15 caractères (clé comprise) ; 14 saisis"),
        ("2690549588157801", "16 saisis"),
        ("26905495881A780", "« A » en position 12"),
        ("X69054958815780", "« X » en position 1"),
        ("2690549588157.8", "14 saisis"),  # dots are separators, then too short
        ("185032C004123" + "45", "département de naissance du matricule INS (« 2C ») est invalide"),
        ("18503A1004123" + "45", "(« A1 ») est invalide"),
        ("569054958815780", "doit être 1, 2, 3, 4, 7 ou 8 ; « 5 » saisi"),
        ("269054958815781", "La clé du matricule INS (81) ne correspond pas"),
        ("185032B004123" + key_of("185032A004123"), "La clé du matricule INS"),
        (
            "1851399123045" + key_of("1851399123045"),
            "mois de naissance du matricule INS (13) est impossible",
        ),
        ("1850099123045" + key_of("1850099123045"), "(00) est impossible"),
        ("1854599123045" + key_of("1854599123045"), "(45) est impossible"),
    ],
)
def test_invalid_matricules(raw, message):
    with pytest.raises(ins.InsError) as caught:
        ins.parse(raw)
    assert message in str(caught.value)


def test_refusals_are_french_sentences():
    with pytest.raises(
        ins.InsError,
        match=r"^La clé du matricule INS \(81\) ne correspond pas "
        r"aux 13 premiers caractères : vérifiez la saisie\.$",
    ):
        ins.parse("269054958815781")


def test_coherence_accepts_matching_traits():
    matricule = ins.parse("269054958815780")
    ins.check_coherence(matricule, "F", date(1969, 5, 14))
    ins.check_coherence(matricule, "I", date(1969, 5, 14))  # indeterminate sex: not compared
    ins.check_coherence(matricule, "F", None)


def test_coherence_sex():
    with pytest.raises(ins.InsError, match="sexe féminin, ce qui ne correspond pas au sexe saisi"):
        ins.check_coherence(ins.parse("269054958815780"), "M", date(1969, 5, 14))
    nia_man = ins.parse("7850399123045" + key_of("7850399123045"))
    with pytest.raises(ins.InsError, match="sexe masculin"):
        ins.check_coherence(nia_man, "F", date(1985, 3, 1))


def test_coherence_birth_year():
    with pytest.raises(
        ins.InsError,
        match=r"L'année de naissance du matricule INS \(69\) ne "
        r"correspond pas à la date de naissance \(14/05/1968\)",
    ):
        ins.check_coherence(ins.parse("269054958815780"), "F", date(1968, 5, 14))


def test_coherence_birth_month():
    with pytest.raises(
        ins.InsError,
        match=r"Le mois de naissance du matricule INS \(05\) ne "
        r"correspond pas à la date de naissance \(14/06/1969\)",
    ):
        ins.check_coherence(ins.parse("269054958815780"), "F", date(1969, 6, 14))


def test_coherence_pseudo_month_accepts_any_month():
    matricule = ins.parse("1853099123045" + key_of("1853099123045"))
    ins.check_coherence(matricule, "M", date(1985, 11, 30))


@pytest.mark.parametrize("oid", sorted(ins.INS_OIDS))
def test_known_oids(oid):
    ins.check_oid(oid)


def test_oid_refusals():
    with pytest.raises(ins.InsError, match="obligatoire"):
        ins.check_oid(None)
    with pytest.raises(ins.InsError, match=r"« 1\.2\.3 » est inconnu"):
        ins.check_oid("1.2.3")


def test_oid_must_match_nir_or_nia():
    nir = ins.parse("269054958815780")
    nia = ins.parse("8850399123045" + key_of("8850399123045"))
    ins.check_oid(ins.OID_NIR, nir)
    ins.check_oid(ins.OID_TEST_NIR, nir)
    ins.check_oid(ins.OID_NIA, nia)
    with pytest.raises(ins.InsError, match="réservé aux numéros provisoires"):
        ins.check_oid(ins.OID_NIA, nir)
    with pytest.raises(ins.InsError, match="c'est un NIA"):
        ins.check_oid(ins.OID_NIR, nia)
