"""Prostate (ICD-O-3 C61), UICC TNM 8th edition (2017): two groupings.

``PROGNOSTIC`` (the default grouping) uses T, N, M, the PSA (ng/mL) and the ISUP grade group:
groups I, IIA, IIB, IIC, IIIA, IIIB, IIIC, IVA, IVB. Typed from the prognostic stage group table
of the 8th edition (UICC 8 reproduces the AJCC 8 prognostic groups, which replaced the
Gleason-based groups of the 7th edition). Checked against public reproductions of the AJCC 8
table (patient-information pages on stage IIIA/IIIB/IIIC, NCI definitions); the UICC book
itself could not be consulted here.

Pathological T2: the 8th edition no longer subdivides organ-confined disease after
prostatectomy (pT2 only; pT2a/b/c do not exist). The AJCC 8 table names pT2 beside
cT1a–c and cT2a in groups I (PSA < 10, grade group 1) and IIA (PSA 10 to < 20, grade group 1),
and within "T1–2" in IIB, IIC and IIIA. Checked against a patient-information reproduction
of the American Cancer Society's stage table (stage I: cT1, cT2a or pT2 with PSA < 10 and grade
group 1; stage IIA: cT2a or pT2 with PSA 10–20 and grade group 1) and an implementation of the
AJCC 8 tables (VA VistA Oncology, routine ONCSGA8B, prostate: T2 with PSA < 10 and grade group
1 → I, T1/T2/T2a with PSA 10–20 and grade group 1 → IIA); the UICC book could not be consulted
for these rows either. Only the "p" prefix reaches the pT2 category: a clinical T2 without a
letter stays undetermined when the letter matters, and yp/rp/ap T2 are looked up like clinical
T2 (not guessed). pT2a, pT2b and pT2c are refused.

AJCC's note that the group "should be determined by T and whichever of PSA or grade group is
available" is *not* applied: a missing factor is reported unless every possible value gives
the same group (e.g. T3 N0 M0 grade group 3 is IIIB whatever the PSA).

``ANATOMIC`` is the UICC stage I–IV (T, N, M only): I = T1, T2a; II = T2b, T2c; III = T3, T4;
IV = N1 or M1. Checked against the NHS Digital / NDRS staging sheet (TNM 9 sheet; the 9th
edition adds an explicit pT2 → II row that the 8th edition does not have, so pT2 N0 M0 is
reported as a combination the anatomic table does not provide for; pT2 N1 or M1 is IV) and
Herden et al., Cancer Epidemiol 2018 (UICC 8 stages SI/SII).

PSA bins: < 10, 10 to < 20, ≥ 20 ng/mL (a PSA of exactly 10 is "≥ 10 and < 20").
"""

from .model import ANY, build_table, choice_factor, threshold_factor

T = ("TX", "T0", "T1", "T1a", "T1b", "T1c", "T2", "T2a", "T2b", "T2c", "T3", "T3a", "T3b", "T4")
N = ("NX", "N0", "N1")
M = ("M0", "M1", "M1a", "M1b", "M1c")

SUBCATEGORIES = {
    "T1": ("T1a", "T1b", "T1c"),
    "T2": ("T2a", "T2b", "T2c"),
    "T3": ("T3a", "T3b"),
    "M1": ("M1a", "M1b", "M1c"),
}

PSA = threshold_factor(
    "psa",
    "PSA",
    unit="ng/mL",
    thresholds=(10, 20),
    bins=("lt10", "10to20", "ge20"),
    missing="le taux de PSA est nécessaire pour le cancer de la prostate",
)
GRADE_GROUP = choice_factor(
    "grade_group",
    "Groupe grade ISUP",
    choices=(1, 2, 3, 4, 5),
    missing="le groupe grade ISUP est nécessaire pour le cancer de la prostate",
)

# Pathological T2 is not subdivided in the 8th edition.
PATHOLOGICAL_T2 = {("p", "T2"): "pT2"}
NO_PT2_SUBDIVISION = {
    ("p", value): "le T2 pathologique n'est pas subdivisé (écrire pT2)"
    for value in ("T2a", "T2b", "T2c")
}

BELOW_20 = ("lt10", "10to20")
GG_1_TO_4 = ("1", "2", "3", "4")

# (group, T, N, M, {factor: accepted bins}) — in the order of the published table.
PROGNOSTIC_ROWS = (
    ("I", ("T1", "T2a", "pT2"), ("N0",), ("M0",), {"psa": ("lt10",), "grade_group": ("1",)}),
    ("IIA", ("T1", "T2a", "pT2"), ("N0",), ("M0",), {"psa": ("10to20",), "grade_group": ("1",)}),
    ("IIA", ("T2b", "T2c"), ("N0",), ("M0",), {"psa": BELOW_20, "grade_group": ("1",)}),
    ("IIB", ("T1", "T2", "pT2"), ("N0",), ("M0",), {"psa": BELOW_20, "grade_group": ("2",)}),
    ("IIC", ("T1", "T2", "pT2"), ("N0",), ("M0",), {"psa": BELOW_20, "grade_group": ("3", "4")}),
    ("IIIA", ("T1", "T2", "pT2"), ("N0",), ("M0",), {"psa": ("ge20",), "grade_group": GG_1_TO_4}),
    ("IIIB", ("T3", "T4"), ("N0",), ("M0",), {"grade_group": GG_1_TO_4}),
    ("IIIC", ANY, ("N0",), ("M0",), {"grade_group": ("5",)}),
    ("IVA", ANY, ("N1",), ("M0",)),
    ("IVB", ANY, ANY, ("M1",)),
)

ANATOMIC_ROWS = (
    ("I", ("T1", "T2a"), ("N0",), ("M0",)),
    ("II", ("T2b", "T2c"), ("N0",), ("M0",)),
    ("III", ("T3", "T4"), ("N0",), ("M0",)),
    ("IV", ANY, ("N1",), ("M0",)),
    ("IV", ANY, ANY, ("M1",)),
)

_COMMON = {
    "site": "prostate",
    "edition": "UICC8",
    "categories": {"T": T, "N": N, "M": M},
    "subcategories": SUBCATEGORIES,
    "prefixed": PATHOLOGICAL_T2,
    "refused": NO_PT2_SUBDIVISION,
}

PROGNOSTIC = build_table(
    **_COMMON,
    grouping="prognostic",
    groups=("I", "IIA", "IIB", "IIC", "IIIA", "IIIB", "IIIC", "IVA", "IVB"),
    rows=PROGNOSTIC_ROWS,
    factors=(PSA, GRADE_GROUP),
    source="UICC TNM 8e édition (2017), prostate : groupes pronostiques (PSA, groupe grade ISUP)",
)

ANATOMIC = build_table(
    **_COMMON,
    grouping="anatomic",
    groups=("I", "II", "III", "IV"),
    rows=ANATOMIC_ROWS,
    source="UICC TNM 8e édition (2017), prostate : stades anatomiques",
)
