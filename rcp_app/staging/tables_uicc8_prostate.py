"""Prostate (ICD-O-3 C61), UICC TNM 8th edition (2017): two groupings.

``PROGNOSTIC`` (the default grouping) uses T, N, M, the PSA (ng/mL) and the ISUP grade group:
groups I, IIA, IIB, IIC, IIIA, IIIB, IIIC, IVA, IVB. Typed from the prognostic stage group table
of the 8th edition (UICC 8 reproduces the AJCC 8 prognostic groups, which replaced the
Gleason-based groups of the 7th edition). Checked against public reproductions of the AJCC 8
table (patient-information pages on stage IIIA/IIIB/IIIC, NCI definitions); the UICC book
itself could not be consulted here. AJCC 8 also lists "pT2" in groups I and IIA (pT2 is not
subdivided in the 8th edition); that row is not included: an unsubdivided T2 with grade
group 1 and PSA < 20 is reported as undetermined (T2a → I, T2b/T2c → IIA).
AJCC's note that the group "should be determined by T and whichever of PSA or grade group is
available" is *not* applied: a missing factor is reported unless every possible value gives
the same group (e.g. T3 N0 M0 grade group 3 is IIIB whatever the PSA).

``ANATOMIC`` is the UICC stage I–IV (T, N, M only): I = T1, T2a; II = T2b, T2c; III = T3, T4;
IV = N1 or M1. Checked against the NHS Digital / NDRS staging sheet (TNM 9 sheet; the 9th
edition adds an explicit pT2 → II row that the 8th edition does not have, so pT2 stays
undetermined here) and Herden et al., Cancer Epidemiol 2018 (UICC 8 stages SI/SII).

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

BELOW_20 = ("lt10", "10to20")
GG_1_TO_4 = ("1", "2", "3", "4")

# (group, T, N, M, {factor: accepted bins}) — in the order of the published table.
PROGNOSTIC_ROWS = (
    ("I", ("T1", "T2a"), ("N0",), ("M0",), {"psa": ("lt10",), "grade_group": ("1",)}),
    ("IIA", ("T1", "T2a"), ("N0",), ("M0",), {"psa": ("10to20",), "grade_group": ("1",)}),
    ("IIA", ("T2b", "T2c"), ("N0",), ("M0",), {"psa": BELOW_20, "grade_group": ("1",)}),
    ("IIB", ("T1", "T2"), ("N0",), ("M0",), {"psa": BELOW_20, "grade_group": ("2",)}),
    ("IIC", ("T1", "T2"), ("N0",), ("M0",), {"psa": BELOW_20, "grade_group": ("3", "4")}),
    ("IIIA", ("T1", "T2"), ("N0",), ("M0",), {"psa": ("ge20",), "grade_group": GG_1_TO_4}),
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
