"""Live stage preview (GET /stade/apercu): what the case form will compute on save, and why not.

Expected groups are read from the published UICC 8th edition tables (as in test_staging.py),
not from the module's tables.
"""

from __future__ import annotations

import pytest

from rcp_app.cases.validation import _stage
from rcp_app.staging import biomarkers

URL = "/stade/apercu"


@pytest.fixture
def physician(login):
    return login("physician")


def ask(client, **params):
    return client.get(URL, query_string=params)


def ok(client, **params) -> dict:
    response = ask(client, **params)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_json
    return response.get_json()


@pytest.mark.parametrize(
    ("params", "group", "basis"),
    [
        # Breast: T2 N1 M0 is IIB; pT1c pN1mi (M from cM0) is IB.
        ({"topographie": "C50.4", "ct": "cT2", "cn": "cN1", "cm": "cM0"}, "IIB", "clinical"),
        (
            {
                "topographie": "C50.4",
                "ct": "T1c",
                "cn": "N0",
                "cm": "M0",
                "pt": "pT1c",
                "pn": "pN1mi",
            },
            "IB",
            "pathological",
        ),
        # Breast, the case: cT1c cN0 cM0 but pT2 pN2a → IIIA from the pTNM.
        (
            {"topographie": "C50.4", "ct": "T1c", "cn": "N0", "cm": "M0", "pt": "T2", "pn": "N2a"},
            "IIIA",
            "pathological",
        ),
        # Lung: T1a N0 M0 is IA1; T2a N2 M0 is IIIA.
        ({"topographie": "C34.1", "ct": "T1a", "cn": "N0", "cm": "M0"}, "IA1", "clinical"),
        ({"topographie": "C34.1", "ct": "T2a", "cn": "N2", "cm": "M0"}, "IIIA", "clinical"),
        # Colorectal: pT3 pN1a M0 is IIIB; T1 N0 M0 is I.
        ({"topographie": "C18.7", "pt": "pT3", "pn": "pN1a", "cm": "cM0"}, "IIIB", "pathological"),
        ({"topographie": "C20", "ct": "T1", "cn": "N0", "cm": "M0"}, "I", "clinical"),
        # Prostate with PSA and ISUP: T2a N0 M0, PSA < 10, grade group 1 is I.
        (
            {"topographie": "C61", "ct": "T2a", "cn": "N0", "cm": "M0", "psa": "6.5", "isup": "1"},
            "I",
            "clinical",
        ),
        # Grade group from Gleason 4 + 3 (= ISUP 3), PSA ≥ 20: T1–2 N0 M0 is IIIA.
        (
            {
                "topographie": "C61",
                "ct": "T1c",
                "cn": "N0",
                "cm": "M0",
                "psa": "25",
                "gleason_majoritaire": "4",
                "gleason_secondaire": "3",
            },
            "IIIA",
            "clinical",
        ),
        # A bare T2 typed in the pathological field is pT2 (not subdivided after
        # prostatectomy): PSA < 10, grade group 1 is I.
        (
            {"topographie": "C61", "pt": "T2", "pn": "N0", "cm": "M0", "psa": "5", "isup": "1"},
            "I",
            "pathological",
        ),
    ],
)
def test_stage_group_and_basis(client, physician, params, group, basis):
    answer = ok(client, **params)
    assert (answer["group"], answer["basis"]) == (group, basis)
    assert answer["text"].startswith(f"Stade {group} (d'après le ")
    assert ("pTNM" if basis == "pathological" else "cTNM") in answer["text"]


def test_sub_stage_not_determined_is_said(client, physician):
    # Colon T4 N0 M0: stage II, but IIB or IIC depends on T4a / T4b.
    answer = ok(client, topographie="C18.2", ct="T4", cn="N0", cm="M0")
    assert answer["group"] == "II"
    assert answer["notes"] == ["Sous-stade non déterminé : T4 doit être précisé (T4a ou T4b)"]


def test_lung_t2_without_letter_says_why(client, physician):
    answer = ok(client, topographie="C34.1", ct="T2", cn="N0", cm="M0")
    assert answer["group"] is None
    assert answer["text"] == "Stade non calculable"
    assert answer["notes"] == ["Stade non calculable : T2 doit être précisé (T2a ou T2b)"]


def test_prostate_without_psa_nor_isup_shows_the_anatomic_group(client, physician):
    answer = ok(client, topographie="C61", ct="T2a", cn="N0", cm="M0")
    assert answer["group"] is None and answer["basis"] is None
    assert answer["anatomic_group"] == "I"  # anatomic: T1, T2a N0 M0
    assert answer["text"].startswith("Groupe anatomique I ")
    assert "stade pronostique non calculable" in answer["text"]
    [note] = answer["notes"]
    assert "le PSA" in note and "groupe ISUP" in note


def test_prostate_with_psa_only_asks_for_the_grade_group_only(client, physician):
    answer = ok(client, topographie="C61", ct="T2b", cn="N0", cm="M0", psa="12")
    assert answer["group"] is None
    assert answer["anatomic_group"] == "II"  # anatomic: T2b N0 M0
    [note] = answer["notes"]
    assert "groupe ISUP" in note and "le PSA" not in note


def test_incomplete_tnm_asks_for_the_missing_values(client, physician):
    answer = ok(client, topographie="C50.1", ct="T2", cn="N1")
    assert answer["group"] is None
    assert answer["notes"] == [
        "Saisissez cT, cN et cM, ou pT et pN (M : pM, sinon cM), pour calculer le stade."
    ]


def test_site_without_tables(client, physician):
    answer = ok(client, topographie="C71.0", ct="T2", cn="N0", cm="M0")
    assert answer["group"] is None
    assert "Pas de calcul automatique" in answer["text"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"topographie": "C50.4", "ct": "T5", "cn": "N0", "cm": "M0"}, "T clinique « T5 »"),
        ({"topographie": "C50.4", "ct": "T2", "cn": "N0", "cm": "Q"}, "M clinique"),
        ({"topographie": "C61", "pt": "pT2a", "pn": "N0", "cm": "M0"}, "pT2a n'existe pas"),
        (
            {"topographie": "C61", "ct": "T2a", "cn": "N0", "cm": "M0", "gleason_majoritaire": "4"},
            "Score de Gleason incomplet",
        ),
        (
            {
                "topographie": "C61",
                "ct": "T2a",
                "cn": "N0",
                "cm": "M0",
                "isup": "1",
                "gleason_majoritaire": "4",
                "gleason_secondaire": "4",
            },
            "ne correspond pas",
        ),
    ],
)
def test_values_the_save_would_refuse_are_explained(client, physician, params, words):
    answer = ok(client, **params)
    assert answer["group"] is None
    assert any(words in note for note in answer["notes"]), answer["notes"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"topographie": "C50.4", "edition": "UICC7"}, "Édition TNM inconnue"),
        ({"topographie": "C50.4", "ct": "T" * 33}, "« ct » est trop long"),
        ({"topographie": "C" * 65}, "« topographie » est trop long"),
        ({"topographie": "C50.4", "cn": "N1\x1b"}, "non imprimables"),
        ({"topographie": "C61", "psa": "beaucoup"}, "PSA"),
        ({"topographie": "C61", "isup": "7"}, "Groupe ISUP"),
        ({"topographie": "C61", "psa": "1" * 21}, "« psa » est trop long"),
    ],
)
def test_malformed_requests_get_400_in_french(client, physician, params, words):
    response = ask(client, **params)
    assert response.status_code == 400
    assert words in response.get_json()["error"]


def test_login_required_and_no_gp(client, login):
    response = ask(client, topographie="C50.4")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]
    login("gp")
    assert ask(client, topographie="C50.4").status_code == 403


COMBINATIONS = [
    ("C50.4", ("cT1c", "cN0", "cM0"), ("pT2", "pN2a", None), {}),
    ("C50.4", ("cT2", "cN1", "cM0"), (None, None, None), {}),
    ("C34.1", ("cT2", "cN0", "cM0"), (None, None, None), {}),
    ("C34.1", ("cT2a", "cN0", "cM0"), ("pT3", "pN1", None), {}),
    ("C18.7", (None, None, "cM0"), ("pT3", "pN1a", None), {}),
    ("C61", ("cT2a", "cN0", "cM0"), (None, None, None), {}),
    (
        "C61",
        ("cT2a", "cN0", "cM0"),
        ("pT2", "pN0", None),
        {"prostate.psa": "5", "prostate.isup": "1"},
    ),
]


@pytest.mark.parametrize(("topography", "clinical", "pathological", "markers"), COMBINATIONS)
def test_preview_says_what_the_save_computes(
    client, physician, topography, clinical, pathological, markers
):
    site = biomarkers.site_for_topography(topography)
    clean = {"tnm_edition": "UICC8"}
    for kind, values in (("clinical", clinical), ("pathological", pathological)):
        clean.update({f"{kind}_{axis}": v for axis, v in zip("tnm", values, strict=True)})
    saved_group, _, saved_basis = _stage(clean, site, biomarkers.staging_factors(site, markers))
    names = {"prostate.psa": "psa", "prostate.isup": "isup"}
    params = {"topographie": topography, **{names[code]: v for code, v in markers.items()}}
    for prefix, values in (("c", clinical), ("p", pathological)):
        params.update({prefix + axis: v or "" for axis, v in zip("tnm", values, strict=True)})
    answer = ok(client, **params)
    assert (answer["group"], answer["basis"]) == (saved_group, saved_basis)
