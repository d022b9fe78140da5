"""TNM staging (rcp_app/staging): every published row, normalisation, every problem case.

The expected rows below are typed again from the published UICC 8th edition tables, with the
categories each row covers written out in full; they do not read the module's own tables.
"""

import itertools

import pytest

from rcp_app.staging import EDITIONS, SITES, StageResult, categories, stage
from rcp_app.staging.model import ANY, build_table

E = "UICC8"

# --- the published tables, re-typed --------------------------------------------------------

# Breast. Footnote: T1 includes T1mi. pN1mi belongs to pN1 except where listed apart (IB).
B_T1 = ["T1", "T1mi", "T1a", "T1b", "T1c"]
B_T4 = ["T4", "T4a", "T4b", "T4c", "T4d"]
B_N1 = ["N1", "N1a", "N1b", "N1c"]
B_N2 = ["N2", "N2a", "N2b"]
B_N3 = ["N3", "N3a", "N3b", "N3c"]
B_ANY_T = ["TX", "T0", "Tis", *B_T1, "T2", "T3", *B_T4]
B_ANY_N = ["NX", "N0", "N1mi", *B_N1, *B_N2, *B_N3]
BREAST = [
    ("0", ["Tis"], ["N0"], ["M0"]),
    ("IA", B_T1, ["N0"], ["M0"]),
    ("IB", ["T0", *B_T1], ["N1mi"], ["M0"]),
    ("IIA", ["T0", *B_T1], B_N1, ["M0"]),
    ("IIA", ["T2"], ["N0"], ["M0"]),
    ("IIB", ["T2"], ["N1mi", *B_N1], ["M0"]),
    ("IIB", ["T3"], ["N0"], ["M0"]),
    ("IIIA", ["T0", *B_T1, "T2"], B_N2, ["M0"]),
    ("IIIA", ["T3"], ["N1mi", *B_N1, *B_N2], ["M0"]),
    ("IIIB", B_T4, ["N0", "N1mi", *B_N1, *B_N2], ["M0"]),
    ("IIIC", B_ANY_T, B_N3, ["M0"]),
    ("IV", B_ANY_T, B_ANY_N, ["M1"]),
]
BREAST_PRECISE = {
    "T": ["T0", "Tis", "T1mi", "T1a", "T1b", "T1c", "T2", "T3", "T4a", "T4b", "T4c", "T4d"],
    "N": ["N0", "N1mi", "N1a", "N1b", "N1c", "N2a", "N2b", "N3a", "N3b", "N3c"],
    "M": ["M0", "M1"],
}

# Colon and rectum. N1 includes N1c.
C_N1 = ["N1", "N1a", "N1b", "N1c"]
C_ANY_T = ["TX", "T0", "Tis", "T1", "T2", "T3", "T4", "T4a", "T4b"]
C_ANY_N = ["NX", "N0", *C_N1, "N2", "N2a", "N2b"]
COLORECTAL = [
    ("0", ["Tis"], ["N0"], ["M0"]),
    ("I", ["T1", "T2"], ["N0"], ["M0"]),
    ("IIA", ["T3"], ["N0"], ["M0"]),
    ("IIB", ["T4a"], ["N0"], ["M0"]),
    ("IIC", ["T4b"], ["N0"], ["M0"]),
    ("IIIA", ["T1", "T2"], C_N1, ["M0"]),
    ("IIIA", ["T1"], ["N2a"], ["M0"]),
    ("IIIB", ["T3", "T4a"], C_N1, ["M0"]),
    ("IIIB", ["T2", "T3"], ["N2a"], ["M0"]),
    ("IIIB", ["T1", "T2"], ["N2b"], ["M0"]),
    ("IIIC", ["T4a"], ["N2a"], ["M0"]),
    ("IIIC", ["T3", "T4a"], ["N2b"], ["M0"]),
    ("IIIC", ["T4b"], [*C_N1, "N2", "N2a", "N2b"], ["M0"]),
    ("IVA", C_ANY_T, C_ANY_N, ["M1a"]),
    ("IVB", C_ANY_T, C_ANY_N, ["M1b"]),
    ("IVC", C_ANY_T, C_ANY_N, ["M1c"]),
]
# The coarse groups of the published colorectal table (II, III, IV), where no subdivision
# applies or can be determined.
COLORECTAL_COARSE = [
    ("II", ["T3", "T4", "T4a", "T4b"], ["N0"], ["M0"]),
    ("III", C_ANY_T, [*C_N1, "N2", "N2a", "N2b"], ["M0"]),
    ("IV", C_ANY_T, C_ANY_N, ["M1", "M1a", "M1b", "M1c"]),
]
COLORECTAL_PRECISE = {
    "T": ["T0", "Tis", "T1", "T2", "T3", "T4a", "T4b"],
    "N": ["N0", "N1a", "N1b", "N1c", "N2a", "N2b"],
    "M": ["M0", "M1a", "M1b", "M1c"],
}

# Lung.
L_T1_T2 = ["T1a", "T1b", "T1c", "T2", "T2a", "T2b"]
L_ANY_T = ["TX", "T0", "Tis", "T1", "T1mi", "T1a", "T1b", "T1c", "T2", "T2a", "T2b", "T3", "T4"]
L_ANY_N = ["NX", "N0", "N1", "N2", "N3"]
LUNG = [
    ("occult", ["TX"], ["N0"], ["M0"]),
    ("0", ["Tis"], ["N0"], ["M0"]),
    ("IA1", ["T1mi", "T1a"], ["N0"], ["M0"]),
    ("IA2", ["T1b"], ["N0"], ["M0"]),
    ("IA3", ["T1c"], ["N0"], ["M0"]),
    ("IB", ["T2a"], ["N0"], ["M0"]),
    ("IIA", ["T2b"], ["N0"], ["M0"]),
    ("IIB", L_T1_T2, ["N1"], ["M0"]),
    ("IIB", ["T3"], ["N0"], ["M0"]),
    ("IIIA", L_T1_T2, ["N2"], ["M0"]),
    ("IIIA", ["T3"], ["N1"], ["M0"]),
    ("IIIA", ["T4"], ["N0", "N1"], ["M0"]),
    ("IIIB", L_T1_T2, ["N3"], ["M0"]),
    ("IIIB", ["T3", "T4"], ["N2"], ["M0"]),
    ("IIIC", ["T3", "T4"], ["N3"], ["M0"]),
    ("IVA", L_ANY_T, L_ANY_N, ["M1a", "M1b"]),
    ("IVB", L_ANY_T, L_ANY_N, ["M1c"]),
]
LUNG_PRECISE = {
    "T": ["T0", "Tis", "T1mi", "T1a", "T1b", "T1c", "T2a", "T2b", "T3", "T4"],
    "N": ["N0", "N1", "N2", "N3"],
    "M": ["M0", "M1a", "M1b", "M1c"],
}

# Prostate, prognostic groups: (group, T, N, M, PSA values, grade groups).
P_T1 = ["T1", "T1a", "T1b", "T1c"]
P_T1_T2 = [*P_T1, "T2", "T2a", "T2b", "T2c"]
P_T3_T4 = ["T3", "T3a", "T3b", "T4"]
P_ANY_T = ["TX", "T0", *P_T1_T2, *P_T3_T4]
P_M1 = ["M1", "M1a", "M1b", "M1c"]
PSA_LT10, PSA_10_20, PSA_GE20 = [0.5, 4, 9.9], [10, 15, 19.9], [20, 45.5]
PSA_ALL = [*PSA_LT10, *PSA_10_20, *PSA_GE20]
PROSTATE = [
    ("I", [*P_T1, "T2a"], ["N0"], ["M0"], PSA_LT10, [1]),
    ("IIA", [*P_T1, "T2a"], ["N0"], ["M0"], PSA_10_20, [1]),
    ("IIA", ["T2b", "T2c"], ["N0"], ["M0"], [*PSA_LT10, *PSA_10_20], [1]),
    ("IIB", P_T1_T2, ["N0"], ["M0"], [*PSA_LT10, *PSA_10_20], [2]),
    ("IIC", P_T1_T2, ["N0"], ["M0"], [*PSA_LT10, *PSA_10_20], [3, 4]),
    ("IIIA", P_T1_T2, ["N0"], ["M0"], PSA_GE20, [1, 2, 3, 4]),
    ("IIIB", P_T3_T4, ["N0"], ["M0"], PSA_ALL, [1, 2, 3, 4]),
    ("IIIC", P_ANY_T, ["N0"], ["M0"], PSA_ALL, [5]),
    ("IVA", P_ANY_T, ["N1"], ["M0"], PSA_ALL, [1, 2, 3, 4, 5]),
    ("IVB", P_ANY_T, ["NX", "N0", "N1"], P_M1, PSA_ALL, [1, 2, 3, 4, 5]),
]
# Prostate, UICC anatomic stages (T, N, M only).
PROSTATE_ANATOMIC = [
    ("I", [*P_T1, "T2a"], ["N0"], ["M0"]),
    ("II", ["T2b", "T2c"], ["N0"], ["M0"]),
    ("III", P_T3_T4, ["N0"], ["M0"]),
    ("IV", P_ANY_T, ["N1"], ["M0"]),
    ("IV", P_ANY_T, ["NX", "N0", "N1"], P_M1),
]
# Prostate, pathological T2 (8th edition: not subdivided). AJCC 8 prognostic table: pT2 is
# named beside cT1a-c and cT2a in I and IIA, and falls under "T1-2" in IIB, IIC and IIIA.
PROSTATE_PT2 = [
    ("I", ["pT2"], ["pN0"], ["cM0"], PSA_LT10, [1]),
    ("IIA", ["pT2"], ["pN0"], ["cM0"], PSA_10_20, [1]),
    ("IIB", ["pT2"], ["pN0"], ["cM0"], [*PSA_LT10, *PSA_10_20], [2]),
    ("IIC", ["pT2"], ["pN0"], ["cM0"], [*PSA_LT10, *PSA_10_20], [3, 4]),
    ("IIIA", ["pT2"], ["pN0"], ["cM0"], PSA_GE20, [1, 2, 3, 4]),
    ("IIIC", ["pT2"], ["pN0"], ["cM0"], PSA_ALL, [5]),
    ("IVA", ["pT2"], ["pN1"], ["cM0"], PSA_ALL, [1, 2, 3, 4, 5]),
    ("IVB", ["pT2"], ["pNX", "pN0", "pN1"], ["cM1", "pM1a", "pM1b", "pM1c"], PSA_ALL,
     [1, 2, 3, 4, 5]),
]  # fmt: skip
PROSTATE_PRECISE = {
    "T": ["T0", "T1a", "T1b", "T1c", "T2a", "T2b", "T2c", "T3a", "T3b", "T4"],
    "N": ["N0", "N1"],
    "M": ["M0", "M1a", "M1b", "M1c"],
}


def _cells(site, rows):
    for group, ts, ns, ms in rows:
        for t, n, m in itertools.product(ts, ns, ms):
            yield pytest.param(site, t, n, m, group, id=f"{site}-{t}-{n}-{m}")


def _prostate_cells():
    for group, ts, ns, ms, psas, ggs in PROSTATE:
        # Every T, N, M and grade group; PSA values cycled so that each bin is exercised.
        for i, (t, n, m, gg) in enumerate(itertools.product(ts, ns, ms, ggs)):
            psa = psas[i % len(psas)]
            yield pytest.param(t, n, m, psa, gg, group, id=f"{t}-{n}-{m}-psa{psa}-gg{gg}")


def _expected(rows):
    table = {}
    for row in rows:
        group, ts, ns, ms = row[:4]
        for cell in itertools.product(ts, ns, ms):
            assert table.get(cell, group) == group, f"test table conflict at {cell}"
            table[cell] = group
    return table


# --- every row of every table ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "t", "n", "m", "group"),
    [
        *_cells("breast", BREAST),
        *_cells("colorectal", COLORECTAL),
        *_cells("lung", LUNG),
    ],
)
def test_published_row(site, t, n, m, group):
    result = stage(site, E, t, n, m)
    assert (result.group, result.problems) == (group, [])


@pytest.mark.parametrize(("t", "n", "m", "psa", "gg", "group"), list(_prostate_cells()))
def test_prostate_prognostic_row(t, n, m, psa, gg, group):
    result = stage("prostate", E, t, n, m, psa=psa, grade_group=gg)
    assert (result.group, result.problems) == (group, [])


@pytest.mark.parametrize(("t", "n", "m", "psa", "gg"), [
    (t, n, m, psa, gg)
    for group, ts, ns, ms, psas, ggs in PROSTATE
    for t, n, m, psa, gg in itertools.product(ts[:1], ns[:1], ms[:1], psas, ggs)
])  # fmt: skip
def test_prostate_every_psa_value_of_each_row(t, n, m, psa, gg):
    group = next(
        row[0]
        for row in PROSTATE
        if t in row[1] and n in row[2] and m in row[3] and psa in row[4] and gg in row[5]
    )
    assert stage("prostate", E, t, n, m, psa=psa, grade_group=gg).group == group


@pytest.mark.parametrize(
    ("t", "n", "m", "group"),
    [p.values[1:] for p in _cells("prostate", PROSTATE_ANATOMIC)],
)
def test_prostate_anatomic_row(t, n, m, group):
    result = stage("prostate", E, t, n, m, grouping="anatomic", psa=5, grade_group=1)
    assert (result.group, result.problems, result.grouping) == (group, [], "anatomic")


@pytest.mark.parametrize(
    ("site", "rows", "coarse", "precise"),
    [
        ("breast", BREAST, [], BREAST_PRECISE),
        ("colorectal", COLORECTAL, COLORECTAL_COARSE, COLORECTAL_PRECISE),
        ("lung", LUNG, [], LUNG_PRECISE),
    ],
)
def test_no_group_outside_the_published_rows(site, rows, coarse, precise):
    """Every precise combination not in the published rows is refused (or coarse only)."""
    fine, rough = _expected(rows), _expected(coarse)
    for cell in itertools.product(precise["T"], precise["N"], precise["M"]):
        result = stage(site, E, *cell)
        if cell in fine:
            assert result.group == fine[cell], cell
        elif cell in rough:
            assert (result.group, result.problems) == (rough[cell], []), cell
        else:
            assert result.group is None, cell
            assert result.problems[0].startswith("Combinaison non prévue"), cell


def test_prostate_no_group_outside_the_published_rows():
    ggs, psas = [1, 2, 3, 4, 5], [5, 15, 25]
    for t, n, m, psa, gg in itertools.product(*PROSTATE_PRECISE.values(), psas, ggs):
        expected = [
            row[0]
            for row in PROSTATE
            if t in row[1]
            and n in row[2]
            and m in row[3]
            and gg in row[5]
            and _psa_bin(psa) in {_psa_bin(value) for value in row[4]}
        ]
        result = stage("prostate", E, t, n, m, psa=psa, grade_group=gg)
        if expected:
            assert result.group == expected[0], (t, n, m, psa, gg)
        else:
            assert result.group is None, (t, n, m, psa, gg)
            assert result.problems[0].startswith("Combinaison non prévue")
    anatomic = _expected(PROSTATE_ANATOMIC)
    for cell in itertools.product(*PROSTATE_PRECISE.values()):
        result = stage("prostate", E, *cell, grouping="anatomic")
        assert result.group == anatomic.get(cell), cell


def _psa_bin(psa):
    return 0 if psa < 10 else 1 if psa < 20 else 2


@pytest.mark.parametrize(("t", "n", "m", "psa", "gg", "group"), [
    pytest.param(t, n, m, psa, gg, group, id=f"{t}-{n}-{m}-psa{psa}-gg{gg}")
    for group, ts, ns, ms, psas, ggs in PROSTATE_PT2
    for t, n, m, psa, gg in itertools.product(ts, ns, ms, psas, ggs)
])  # fmt: skip
def test_prostate_pathological_t2_row(t, n, m, psa, gg, group):
    result = stage("prostate", E, t, n, m, psa=psa, grade_group=gg)
    assert (result.group, result.problems, result.t) == (group, [], "T2")


@pytest.mark.parametrize("t", ["T2", "cT2", "ypT2", "rpT2"])
def test_prostate_t2_without_p_prefix_stays_undetermined_where_the_letter_matters(t):
    # cT2a → I, cT2b/c → IIA: only the pathological T2 (not subdivided) is stage I.
    result = stage("prostate", E, t, "N0", "M0", psa=5, grade_group=1)
    assert (result.group, result.problems) == (
        None,
        ["Stade non calculable : T2 doit être précisé (T2a, T2b ou T2c)"],
    )
    assert stage("prostate", E, "pT2", "N0", "M0", psa=5, grade_group=1).group == "I"


@pytest.mark.parametrize(
    ("t", "written"), [("pT2a", "pT2a"), ("pT2b", "pT2b"), ("pT2c", "pT2c"), ("PT2C", "pT2c")]
)
@pytest.mark.parametrize("grouping", ["prognostic", "anatomic"])
def test_prostate_pathological_t2_subdivisions_do_not_exist(t, written, grouping):
    result = stage("prostate", E, t, "pN0", "cM0", grouping=grouping, psa=5, grade_group=1)
    assert (result.group, result.t) == (None, None)
    assert result.problems == [
        f"{written} n'existe pas pour la prostate (UICC 8e édition) : "
        "le T2 pathologique n'est pas subdivisé (écrire pT2)"
    ]
    # Clinical T2 keeps its subdivisions.
    clinical = "c" + written[1:]
    assert stage("prostate", E, clinical, "N0", "M0", grouping=grouping, psa=5, grade_group=1).group


def test_prostate_pathological_t2_in_the_anatomic_grouping():
    # The 8th edition anatomic table has no pT2 row (the 9th edition adds pT2 → II).
    result = stage("prostate", E, "pT2", "pN0", "cM0", grouping="anatomic")
    assert result.group is None
    assert result.problems == [
        "Combinaison non prévue par la classification : pT2 N0 M0 (prostate, UICC 8e édition)"
    ]
    assert stage("prostate", E, "pT2", "pN1", "cM0", grouping="anatomic").group == "IV"
    assert stage("prostate", E, "pT2", "pNX", "pM1b", grouping="anatomic").group == "IV"


def test_prostate_pathological_t2_missing_factors_are_named():
    result = stage("prostate", E, "pT2", "pN0", "cM0", grade_group=1)
    assert result.problems == [
        "Stade non calculable : le taux de PSA est nécessaire pour le cancer de la prostate"
    ]
    assert stage("prostate", E, "pT2", "pN0", "cM0", grade_group=3).group is None
    assert stage("prostate", E, "pT2", "pN0", "cM0", psa=25, grade_group=None).group is None
    assert stage("prostate", E, "pT2", "pN0", "cM0", grade_group=5).group == "IIIC"


# --- clinically typical examples ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "t", "n", "m", "factors", "group"),
    [
        ("breast", "T2", "N1", "M0", {}, "IIB"),
        ("breast", "pT1c", "pN0(sn)", "cM0", {}, "IA"),
        ("breast", "pT1b", "pN1mi(sn)", "cM0", {}, "IB"),
        ("breast", "pT2", "pN1mi", "cM0", {}, "IIB"),
        ("breast", "cT4d", "cN1", "cM0", {}, "IIIB"),
        ("breast", "ypT0", "ypN1a", "cM0", {}, "IIA"),
        ("colorectal", "T3", "N0", "M0", {}, "IIA"),
        ("colorectal", "pT3", "pN1c", "cM0", {}, "IIIB"),
        ("colorectal", "pT4b", "pN2a", "cM0", {}, "IIIC"),
        ("colorectal", "cT3", "cN1", "pM1c", {}, "IVC"),
        ("lung", "T1b", "N0", "M0", {}, "IA2"),
        ("lung", "cT3", "cN2", "cM0", {}, "IIIB"),
        ("lung", "cT2a", "cN3", "cM1b", {}, "IVA"),
        ("prostate", "T2a", "N0", "M0", {"psa": 8, "grade_group": 1}, "I"),
        ("prostate", "cT1c", "cN0", "cM0", {"psa": 6.2, "grade_group": 2}, "IIB"),
        ("prostate", "cT3a", "cN0", "cM0", {"psa": 30, "grade_group": 4}, "IIIB"),
        ("prostate", "cT2c", "cN1", "cM0", {"psa": 12, "grade_group": 3}, "IVA"),
    ],
)
def test_typical_cases(site, t, n, m, factors, group):
    assert stage(site, E, t, n, m, **factors).group == group


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "prefix"),
    [
        ("T1c", ""), ("t1c", ""), ("T1C", ""), (" T1c ", ""), ("1c", ""), ("cT1c", "c"),
        ("pT1c", "p"), ("ypT1c", "yp"), ("ycT1c", "yc"), ("rT1c", "r"), ("rpT1c", "rp"),
        ("aT1c", "a"), ("PT1C", "p"), ("p T1c", "p"),
    ],
)  # fmt: skip
def test_prefixes_are_stripped_and_kept(raw, prefix):
    result = stage("breast", E, raw, "N0", "M0")
    assert (result.group, result.t, result.prefixes["T"]) == ("IA", "T1c", prefix)


@pytest.mark.parametrize(
    ("site", "axis", "raw", "value", "descriptors"),
    [
        ("breast", "N", "pN1mi", "N1mi", ()),
        ("breast", "N", "PN1MI", "N1mi", ()),
        ("breast", "N", "pN1mi(sn)", "N1mi", ("sn",)),
        ("breast", "N", "pN1(mi)", "N1mi", ()),
        ("breast", "N", "pN0(i+)", "N0", ("i+",)),
        ("breast", "N", "pN0(i+)(sn)", "N0", ("i+", "sn")),
        ("breast", "N", "pN0(mol-)", "N0", ("mol-",)),
        ("breast", "N", "cN1(f)", "N1", ("f",)),
        ("breast", "N", "Nx", "NX", ()),
        ("breast", "T", "pT2(m)", "T2", ("m",)),
        ("breast", "T", "pT2 (3)", "T2", ("3",)),
        ("breast", "T", "pT(is)", "Tis", ()),
        ("breast", "T", "Tis (DCIS)", "Tis", ("dcis",)),
        ("breast", "T", "pTis(Paget)", "Tis", ("paget",)),
        ("breast", "T", "TIS", "Tis", ()),
        ("breast", "T", "is", "Tis", ()),
        ("breast", "T", "x", "TX", ()),
        ("breast", "T", "cT1MI", "T1mi", ()),
        ("breast", "M", "cM0(i+)", "M0", ("i+",)),
        ("lung", "T", "pT1a(mi)", "T1mi", ()),
        ("lung", "T", "Tis(AIS)", "Tis", ("ais",)),
        ("colorectal", "M", "M1A", "M1a", ()),
        ("colorectal", "M", "pm1c", "M1c", ()),
        ("prostate", "T", "2", "T2", ()),
    ],
)
def test_values_and_descriptors(site, axis, raw, value, descriptors):
    values = {"T": "T1", "N": "N0", "M": "M0"} | {axis: raw}
    result = stage(site, E, values["T"], values["N"], values["M"])
    assert getattr(result, axis.lower()) == value
    assert result.descriptors.get(axis, ()) == descriptors


def test_prefix_flag():
    assert stage("breast", E, "pT2", "pN1a", "cM0").prefix == "p"
    assert stage("breast", E, "ypT2", "ypN1a", "M0").prefix == "yp"
    assert stage("breast", E, "T2", "N1a", "M0").prefix is None
    assert stage("breast", E, "T2", "N1a", "pM1").prefix == "p"
    assert stage("breast", E, "cT2", "pN1a", "M0").prefix is None
    assert stage("breast", E, "cT2", "pN1a", "M0").prefixes == {"T": "c", "N": "p", "M": ""}


# --- problems ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "t", "n", "m", "problem"),
    [
        ("breast", "T5", "N0", "M0", "T5 n'existe pas pour le sein (UICC 8e édition)"),
        ("breast", "pT5", "N0", "M0", "T5 n'existe pas pour le sein (UICC 8e édition)"),
        ("breast", "T2", "N4", "M0", "N4 n'existe pas pour le sein (UICC 8e édition)"),
        ("colorectal", "T1mi", "N0", "M0",
         "T1mi n'existe pas pour le côlon-rectum (UICC 8e édition)"),
        ("lung", "T2", "N1a", "M0", "N1a n'existe pas pour le poumon (UICC 8e édition)"),
        ("prostate", "T2", "N2", "M0", "N2 n'existe pas pour la prostate (UICC 8e édition)"),
        ("breast", "T2", "N0", "MX",
         "MX n'existe pas pour le sein (UICC 8e édition) : la catégorie MX n'est plus "
         "utilisée, laisser M vide si inconnu"),
        ("breast", "N1", "N0", "M0", "« N1 » est une catégorie N, pas une catégorie T"),
        ("breast", "abc", "N0", "M0", "« abc » n'est pas une catégorie T reconnue"),
        ("breast", "T2", "N0", "M0)", "« M0) » n'est pas une catégorie M reconnue"),
        ("breast", "pcT2", "N0", "M0", "Préfixe « pc » non reconnu dans « pcT2 »"),
        ("breast", "T2(zz)", "N0", "M0", "Descripteur « (zz) » non reconnu dans « T2(zz) »"),
        ("breast", "T2", "N0(sn)(x)", "M0",
         "Descripteur « (x) » non reconnu dans « N0(sn)(x) »"),
        ("breast", "T2(DCIS)", "N0", "M0", "« T2(DCIS) » : ce descripteur ne s'applique qu'à Tis"),
        ("breast", "T2(mi)", "N0", "M0", "« T2(mi) » n'est pas une catégorie T reconnue"),
        ("breast", "T(m)", "N0", "M0", "« T(m) » n'est pas une catégorie T reconnue"),
    ],
)  # fmt: skip
def test_unknown_or_malformed_values(site, t, n, m, problem):
    result = stage(site, E, t, n, m)
    assert (result.group, result.problems) == (None, [problem])


def test_every_bad_value_is_reported():
    result = stage("breast", E, "T9", "N9", "M9")
    assert result.group is None
    assert [p.split()[0] for p in result.problems] == ["T9", "N9", "M9"]


@pytest.mark.parametrize(
    ("site", "t", "n", "m", "group", "problems"),
    [
        ("breast", "TX", "N0", "M0", None,
         ["Stade non calculable : TX (non évaluable) ne permet pas de déterminer le stade"]),
        ("breast", "T2", "NX", "M0", None,
         ["Stade non calculable : NX (non évaluable) ne permet pas de déterminer le stade"]),
        ("breast", "T2", "N1", None, None,
         ["Stade non calculable : la catégorie M n'est pas renseignée"]),
        ("breast", "", "N1", "M0", None,
         ["Stade non calculable : la catégorie T n'est pas renseignée"]),
        ("breast", "T2", "N1", "  ", None,
         ["Stade non calculable : la catégorie M n'est pas renseignée"]),
        ("lung", "T1", "N0", "M0", None,
         ["Stade non calculable : T1 doit être précisé (T1mi, T1a, T1b ou T1c)"]),
        ("lung", "TX", "N1", "M0", None,
         ["Stade non calculable : TX (non évaluable) ne permet pas de déterminer le stade"]),
        ("lung", "T1", "NX", None, None,
         ["Stade non calculable : T1 doit être précisé (T1mi, T1a, T1b ou T1c)",
          "Stade non calculable : NX (non évaluable) ne permet pas de déterminer le stade",
          "Stade non calculable : la catégorie M n'est pas renseignée"]),
        ("colorectal", "T3", "N2", "M0", "III",
         ["Sous-stade non déterminé : N2 doit être précisé (N2a ou N2b)"]),
        ("colorectal", "TX", "N0", "M0", None,
         ["Stade non calculable : TX (non évaluable) ne permet pas de déterminer le stade"]),
    ],
)  # fmt: skip
def test_incomplete_values(site, t, n, m, group, problems):
    result = stage(site, E, t, n, m)
    assert (result.group, result.problems) == (group, problems)


def test_unknown_value_that_does_not_change_the_group_is_fine():
    # Any T N3 M0 is IIIC and Any T Any N M1 is IV: TX / NX do not matter there.
    assert stage("breast", E, "TX", "N3b", "M0").group == "IIIC"
    assert stage("breast", E, "TX", "NX", "M1").group == "IV"
    assert stage("lung", E, "T2", "N1", "M0").group == "IIB"  # T2a and T2b both IIB
    assert stage("colorectal", E, "T4b", "N2", "M0").group == "IIIC"
    assert stage("colorectal", E, "T1", "N1", "M0").group == "IIIA"


@pytest.mark.parametrize(
    ("t", "n", "m", "factors", "group", "problems"),
    [
        ("T2a", "N0", "M0", {"psa": 8}, None,
         ["Stade non calculable : le groupe grade ISUP est nécessaire pour le cancer de la "
          "prostate"]),
        ("T2a", "N0", "M0", {"grade_group": 2}, None,
         ["Stade non calculable : le taux de PSA est nécessaire pour le cancer de la prostate"]),
        ("T1c", "N0", "M0", {}, None,
         ["Stade non calculable : le taux de PSA est nécessaire pour le cancer de la prostate",
          "Stade non calculable : le groupe grade ISUP est nécessaire pour le cancer de la "
          "prostate"]),
        ("T2", "N0", "M0", {"psa": 5, "grade_group": 1}, None,
         ["Stade non calculable : T2 doit être précisé (T2a, T2b ou T2c)"]),
        ("T3b", "N0", "M0", {"grade_group": 3}, "IIIB", []),
        ("T1c", "N0", "M0", {"grade_group": 5}, "IIIC", []),
        ("T2", "N0", "M0", {"psa": 12, "grade_group": 2}, "IIB", []),
        ("T1c", "N1", "M0", {}, "IVA", []),
        ("TX", "NX", "M1b", {}, "IVB", []),
        ("T1c", "N0", "M0", {"psa": "", "grade_group": None}, None,
         ["Stade non calculable : le taux de PSA est nécessaire pour le cancer de la prostate",
          "Stade non calculable : le groupe grade ISUP est nécessaire pour le cancer de la "
          "prostate"]),
    ],
)  # fmt: skip
def test_prostate_missing_factors(t, n, m, factors, group, problems):
    result = stage("prostate", E, t, n, m, **factors)
    assert (result.group, result.problems) == (group, problems)


@pytest.mark.parametrize(
    ("psa", "gg", "group"),
    [(9.99, 1, "I"), (10, 1, "IIA"), ("10,0", 1, "IIA"), (19.99, 1, "IIA"), (20, 1, "IIIA"),
     ("8.5", "1", "I"), (0, 1, "I")],
)  # fmt: skip
def test_prostate_psa_boundaries_and_text_input(psa, gg, group):
    assert stage("prostate", E, "T1c", "N0", "M0", psa=psa, grade_group=gg).group == group


@pytest.mark.parametrize(
    ("factors", "problem"),
    [
        ({"psa": -1, "grade_group": 1},
         "PSA invalide : « -1 » (nombre positif attendu, en ng/mL)"),
        ({"psa": "abc", "grade_group": 1},
         "PSA invalide : « abc » (nombre positif attendu, en ng/mL)"),
        ({"psa": float("nan"), "grade_group": 1},
         "PSA invalide : « nan » (nombre positif attendu, en ng/mL)"),
        ({"psa": True, "grade_group": 1},
         "PSA invalide : « True » (nombre positif attendu, en ng/mL)"),
        ({"psa": 5, "grade_group": 6},
         "Groupe grade ISUP invalide : « 6 » (valeurs possibles : 1, 2, 3, 4 ou 5)"),
        ({"psa": 5, "grade_group": 2.5},
         "Groupe grade ISUP invalide : « 2.5 » (valeurs possibles : 1, 2, 3, 4 ou 5)"),
        ({"psa": 5, "grade_group": "0"},
         "Groupe grade ISUP invalide : « 0 » (valeurs possibles : 1, 2, 3, 4 ou 5)"),
    ],
)  # fmt: skip
def test_prostate_invalid_factors(factors, problem):
    result = stage("prostate", E, "T1c", "N0", "M0", **factors)
    assert (result.group, result.problems) == (None, [problem])


@pytest.mark.parametrize(
    ("site", "t", "n", "m", "combination"),
    [
        ("breast", "Tis", "N1", "M0", "Tis N1 M0 (sein, UICC 8e édition)"),
        ("breast", "T0", "N0", "M0", "T0 N0 M0 (sein, UICC 8e édition)"),
        ("lung", "T1mi", "N1", "M0", "T1mi N1 M0 (poumon, UICC 8e édition)"),
        ("lung", "Tis", "N2", "M0", "Tis N2 M0 (poumon, UICC 8e édition)"),
        ("colorectal", "T0", "N0", "M0", "T0 N0 M0 (côlon-rectum, UICC 8e édition)"),
    ],
)
def test_combination_not_provided_for(site, t, n, m, combination):
    result = stage(site, E, t, n, m)
    assert result.group is None
    assert result.problems == [f"Combinaison non prévue par la classification : {combination}"]


def test_prostate_combination_not_provided_for_names_the_factors():
    result = stage("prostate", E, "T0", "N0", "M0", psa=5, grade_group=1)
    assert result.problems == [
        "Combinaison non prévue par la classification : T0 N0 M0, PSA 5, groupe grade ISUP 1 "
        "(prostate, UICC 8e édition)"
    ]


# --- M1 is stage IV everywhere; coarse groups ------------------------------------------------


@pytest.mark.parametrize(
    ("site", "m", "group", "problems"),
    [
        ("breast", "M1", "IV", []),
        ("colorectal", "M1a", "IVA", []),
        ("colorectal", "M1b", "IVB", []),
        ("colorectal", "M1c", "IVC", []),
        ("colorectal", "M1", "IV",
         ["Sous-stade non déterminé : M1 doit être précisé (M1a, M1b ou M1c)"]),
        ("lung", "M1a", "IVA", []),
        ("lung", "M1b", "IVA", []),
        ("lung", "M1c", "IVB", []),
        ("lung", "M1", "IV",
         ["Sous-stade non déterminé : M1 doit être précisé (M1a, M1b ou M1c)"]),
        ("prostate", "M1", "IVB", []),
        ("prostate", "M1c", "IVB", []),
    ],
)  # fmt: skip
def test_m1_is_stage_iv(site, m, group, problems):
    for t, n in [("T1", "N0"), ("TX", "NX"), (None, None)]:
        result = stage(site, E, t, n, m)
        assert (result.group, result.problems) == (group, problems), (t, n)
    assert stage("prostate", E, "T2", "N0", "M1", grouping="anatomic").group == "IV"


@pytest.mark.parametrize(
    ("t", "n", "m", "group", "problems"),
    [
        ("T4", "N0", "M0", "II", ["Sous-stade non déterminé : T4 doit être précisé (T4a ou T4b)"]),
        ("T4", "N1", "M0", "III", ["Sous-stade non déterminé : T4 doit être précisé (T4a ou T4b)"]),
        ("TX", "N1a", "M0", "III",
         ["Sous-stade non déterminé : TX (non évaluable) ne permet pas de déterminer le "
          "sous-stade"]),
        ("T0", "N2b", "M0", "III", []),
        ("Tis", "N1", "M0", "III", []),
    ],
)  # fmt: skip
def test_colorectal_coarse_groups(t, n, m, group, problems):
    result = stage("colorectal", E, t, n, m)
    assert (result.group, result.problems) == (group, problems)


# --- API -------------------------------------------------------------------------------------


def test_sites_and_editions():
    assert SITES == {
        "breast": "sein",
        "colorectal": "côlon-rectum",
        "lung": "poumon",
        "prostate": "prostate",
    }
    assert EDITIONS == {"UICC8": "UICC 8e édition (2017)"}


@pytest.mark.parametrize(
    ("site", "anys"),
    [
        ("breast", (B_ANY_T, B_ANY_N, ["M0", "M1"])),
        ("colorectal", (C_ANY_T, C_ANY_N, ["M0", "M1", "M1a", "M1b", "M1c"])),
        ("lung", (L_ANY_T, L_ANY_N, ["M0", "M1", "M1a", "M1b", "M1c"])),
        ("prostate", (P_ANY_T, ["NX", "N0", "N1"], ["M0", *P_M1])),
    ],
)
def test_categories_list_every_value(site, anys):
    cats = categories(site, E)
    assert list(cats) == ["T", "N", "M"]
    for axis, expected in zip("TNM", anys, strict=True):
        assert sorted(cats[axis]) == sorted(expected)
    cats["T"].append("T9")  # a copy: callers cannot alter the table
    assert "T9" not in categories(site, E)["T"]


@pytest.mark.parametrize("site", list(SITES))
def test_every_listed_category_is_accepted(site):
    cats = categories(site, E)
    for axis in "TNM":
        for value in cats[axis]:
            values = {"T": "TX", "N": "NX", "M": "M0"} | {axis: value}
            result = stage(site, E, values["T"], values["N"], values["M"])
            assert not any("n'existe pas" in p for p in result.problems), value


def test_unknown_site_edition_or_grouping_raise():
    with pytest.raises(ValueError, match="unknown staging site"):
        stage("liver", E, "T1", "N0", "M0")
    with pytest.raises(ValueError, match="unknown TNM edition"):
        stage("breast", "UICC9", "T1", "N0", "M0")
    with pytest.raises(ValueError, match="unknown grouping"):
        stage("breast", E, "T1", "N0", "M0", grouping="prognostic")
    with pytest.raises(ValueError):
        categories("liver", E)
    with pytest.raises(ValueError):
        categories("breast", "AJCC8")


def test_factors():
    with pytest.raises(TypeError, match="psa"):
        stage("lung", E, "T1a", "N0", "M0", psa=5)
    # A factor left empty is accepted for any site (forms pass every field).
    assert stage("lung", E, "T1a", "N0", "M0", psa=None).group == "IA1"


def test_result_shape():
    result = stage("lung", E, "TX", "N0", "M0")
    assert (result.group, result.label, result.site, result.edition) == (
        "occult",
        "Carcinome occulte",
        "lung",
        "UICC8",
    )
    assert stage("lung", E, "T3", "N1", "M0").label == "Stade IIIA"
    assert stage("lung", E, "T3", "N1", None).label is None
    assert stage("prostate", E, "T1c", "N0", "M0", psa=5, grade_group=1).grouping == "prognostic"
    built = StageResult("IIB", [], "UICC8", "breast")
    assert (built.group, built.problems, built.prefix) == ("IIB", [], None)


def test_tables_with_conflicting_rows_are_refused():
    """A future edition typed with overlapping rows fails at import, not at run time."""
    kwargs = {
        "site": "breast",
        "edition": "UICC9",
        "grouping": "anatomic",
        "categories": {"T": ["T1", "T1a", "T2"], "N": ["N0"], "M": ["M0", "M1"]},
        "subcategories": {"T1": ["T1a"]},
        "groups": ["I", "II", "IV"],
        "source": "test",
    }
    build_table(**kwargs, rows=[("I", ["T1"], ["N0"], ["M0"]), ("IV", ANY, ANY, ["M1"])])
    with pytest.raises(ValueError, match="gives"):
        build_table(**kwargs, rows=[("I", ["T1"], ["N0"], ["M0"]), ("II", ["T1a"], ANY, ANY)])
    with pytest.raises(ValueError, match="unknown category"):
        build_table(**kwargs, rows=[("I", ["T3"], ["N0"], ["M0"])])
    with pytest.raises(ValueError, match="unknown group"):
        build_table(**kwargs, rows=[("III", ["T1"], ["N0"], ["M0"])])


def test_prefixed_categories_are_checked_at_import():
    kwargs = {
        "site": "prostate",
        "edition": "UICC9",
        "grouping": "anatomic",
        "categories": {"T": ["T1", "T2", "T2a"], "N": ["N0"], "M": ["M0", "M1"]},
        "subcategories": {"T2": ["T2a"]},
        "groups": ["I", "II", "IV"],
        "source": "test",
    }
    rows = [("I", ["T1", "pT2"], ["N0"], ["M0"]), ("IV", ANY, ANY, ["M1"])]
    table = build_table(**kwargs, rows=rows, prefixed={("p", "T2"): "pT2"})
    assert table.lookup_categories("T") == ("T1", "T2", "T2a", "pT2")
    assert table.categories["T"] == ("T1", "T2", "T2a")  # not offered to forms
    with pytest.raises(ValueError, match="unknown category pT2"):
        build_table(**kwargs, rows=rows)
    with pytest.raises(ValueError, match="bad prefixed category"):
        build_table(**kwargs, rows=rows, prefixed={("p", "T3"): "pT3"})
    with pytest.raises(ValueError, match="bad prefixed category"):
        build_table(**kwargs, rows=rows, prefixed={("p", "T2"): "T2a"})
    with pytest.raises(ValueError, match="unknown refused category"):
        build_table(**kwargs, rows=rows[1:], refused={("p", "T2c"): "non"})
