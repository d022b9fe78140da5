"""Lung (ICD-O-3 C34), UICC TNM 8th edition (2017): stage groups (IASLC proposals).

Typed by hand from the UICC 8th edition stage table (lung chapter; identical to AJCC 8, both
come from the IASLC staging project). Checked against the AJCC 8 table as reproduced by the
NCCN Guidelines for Patients (NSCLC, 2018) and a published 8th-edition table (Egypt J Radiol
Nucl Med 2019, table 1). The published rows list T1a, T1b, T1c with N1–N3 but not T1mi, and
list Tis only with N0: those combinations are "not provided for", not guessed.

"TX N0 M0" is the published "occult carcinoma" (tumour proven by malignant cells in sputum or
washings but not visualised); the group code is "occult".

The published table has no plain "IV" row; ``COARSE_ROWS`` adds IV = IVA ∪ IVB (every M1), used
only when M1 is not subdivided, so that an M1 tumour is at least reported as stage IV.
"""

from .model import ANY, build_table

T = ("TX", "T0", "Tis", "T1", "T1mi", "T1a", "T1b", "T1c", "T2", "T2a", "T2b", "T3", "T4")
N = ("NX", "N0", "N1", "N2", "N3")
M = ("M0", "M1", "M1a", "M1b", "M1c")

SUBCATEGORIES = {
    "T1": ("T1mi", "T1a", "T1b", "T1c"),
    "T2": ("T2a", "T2b"),
    "M1": ("M1a", "M1b", "M1c"),
}

GROUPS = ("occult", "0", "IA1", "IA2", "IA3", "IB", "IIA", "IIB", "IIIA", "IIIB", "IIIC",
          "IV", "IVA", "IVB")  # fmt: skip

T1_T2 = ("T1a", "T1b", "T1c", "T2a", "T2b")

# (group, T, N, M) — in the order of the published table.
ROWS = (
    ("occult", ("TX",), ("N0",), ("M0",)),
    ("0", ("Tis",), ("N0",), ("M0",)),
    ("IA1", ("T1mi", "T1a"), ("N0",), ("M0",)),
    ("IA2", ("T1b",), ("N0",), ("M0",)),
    ("IA3", ("T1c",), ("N0",), ("M0",)),
    ("IB", ("T2a",), ("N0",), ("M0",)),
    ("IIA", ("T2b",), ("N0",), ("M0",)),
    ("IIB", T1_T2, ("N1",), ("M0",)),
    ("IIB", ("T3",), ("N0",), ("M0",)),
    ("IIIA", T1_T2, ("N2",), ("M0",)),
    ("IIIA", ("T3",), ("N1",), ("M0",)),
    ("IIIA", ("T4",), ("N0", "N1"), ("M0",)),
    ("IIIB", T1_T2, ("N3",), ("M0",)),
    ("IIIB", ("T3", "T4"), ("N2",), ("M0",)),
    ("IIIC", ("T3", "T4"), ("N3",), ("M0",)),
    ("IVA", ANY, ANY, ("M1a", "M1b")),
    ("IVB", ANY, ANY, ("M1c",)),
)

COARSE_ROWS = (("IV", ANY, ANY, ("M1",)),)

TABLE = build_table(
    site="lung",
    edition="UICC8",
    grouping="anatomic",
    categories={"T": T, "N": N, "M": M},
    subcategories=SUBCATEGORIES,
    groups=GROUPS,
    rows=ROWS,
    coarse_rows=COARSE_ROWS,
    source="UICC TNM 8e édition (2017), poumon : groupement par stades",
)
