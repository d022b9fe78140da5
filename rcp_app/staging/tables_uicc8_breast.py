"""Breast (ICD-O-3 C50), UICC TNM 8th edition (2017): anatomic stage groups.

Typed by hand from the UICC 8th edition stage table (Brierley, Gospodarowicz, Wittekind, eds.,
Wiley-Blackwell 2017, breast chapter). Checked against the NHS Digital / NDRS "cancer staging
guidance sheet" for breast (the TNM 9 sheet reproduces the same grouping, unchanged since
TNM 7) and the RCPath dataset appendix D "TNM classification of tumours of the breast
(UICC TNM 8)". Footnote of the published table: T1 includes T1mi.

One category list serves clinical (cN1, cN2a …) and pathological (pN1mi, pN1a …) values; the
prefix is not used to restrict them.

N1mi (pN1mi, micrometastasis) is a subdivision of pN1, but it is *not* modelled as a
subcategory of N1 here, because the table lists it separately for T0/T1 (stage IB, not IIA).
For T2, T3 and T4 the published rows say "N1", which includes pN1mi, so N1mi is written out
explicitly in those rows (IIB, IIIA, IIIB). An unsubdivided "N1" follows the N1 rows.
"""

from .model import ANY, build_table

T = ("TX", "T0", "Tis", "T1", "T1mi", "T1a", "T1b", "T1c", "T2", "T3",
     "T4", "T4a", "T4b", "T4c", "T4d")  # fmt: skip
N = ("NX", "N0", "N1mi", "N1", "N1a", "N1b", "N1c", "N2", "N2a", "N2b",
     "N3", "N3a", "N3b", "N3c")  # fmt: skip
M = ("M0", "M1")

SUBCATEGORIES = {
    "T1": ("T1mi", "T1a", "T1b", "T1c"),
    "T4": ("T4a", "T4b", "T4c", "T4d"),
    "N1": ("N1a", "N1b", "N1c"),
    "N2": ("N2a", "N2b"),
    "N3": ("N3a", "N3b", "N3c"),
}

GROUPS = ("0", "IA", "IB", "IIA", "IIB", "IIIA", "IIIB", "IIIC", "IV")

# (group, T, N, M) — in the order of the published table.
ROWS = (
    ("0", ("Tis",), ("N0",), ("M0",)),
    ("IA", ("T1",), ("N0",), ("M0",)),
    ("IB", ("T0", "T1"), ("N1mi",), ("M0",)),
    ("IIA", ("T0", "T1"), ("N1",), ("M0",)),
    ("IIA", ("T2",), ("N0",), ("M0",)),
    ("IIB", ("T2",), ("N1mi", "N1"), ("M0",)),
    ("IIB", ("T3",), ("N0",), ("M0",)),
    ("IIIA", ("T0", "T1", "T2"), ("N2",), ("M0",)),
    ("IIIA", ("T3",), ("N1mi", "N1", "N2"), ("M0",)),
    ("IIIB", ("T4",), ("N0", "N1mi", "N1", "N2"), ("M0",)),
    ("IIIC", ANY, ("N3",), ("M0",)),
    ("IV", ANY, ANY, ("M1",)),
)

TABLE = build_table(
    site="breast",
    edition="UICC8",
    grouping="anatomic",
    categories={"T": T, "N": N, "M": M},
    subcategories=SUBCATEGORIES,
    groups=GROUPS,
    rows=ROWS,
    source="UICC TNM 8e édition (2017), sein : groupement par stades anatomiques",
)
