"""Colon and rectum (ICD-O-3 C18–C20), UICC TNM 8th edition (2017): stage groups.

Typed by hand from the UICC 8th edition stage table (colon and rectum chapter). The published
table lists the coarse groups II (T3, T4 N0 M0), III (Any T N1, N2 M0) and IV (Any T Any N M1)
beside their subdivisions; they are kept as ``COARSE_ROWS`` and used only when the
subdivision cannot be determined (e.g. T4 without a/b → II, M1 without a/b/c → IV).
Checked against the NHS Digital / NDRS staging guidance sheet for colon and rectum (TNM 9
sheet, same grouping) and published AJCC/UICC summaries (IIIA–IIIC rows are the same in the
7th and 8th editions; IVC = M1c, peritoneal metastasis, is new in the 8th).
N1 includes N1c (tumour deposits without nodal metastasis).
"""

from .model import ANY, build_table

T = ("TX", "T0", "Tis", "T1", "T2", "T3", "T4", "T4a", "T4b")
N = ("NX", "N0", "N1", "N1a", "N1b", "N1c", "N2", "N2a", "N2b")
M = ("M0", "M1", "M1a", "M1b", "M1c")

SUBCATEGORIES = {
    "T4": ("T4a", "T4b"),
    "N1": ("N1a", "N1b", "N1c"),
    "N2": ("N2a", "N2b"),
    "M1": ("M1a", "M1b", "M1c"),
}

GROUPS = ("0", "I", "II", "IIA", "IIB", "IIC", "III", "IIIA", "IIIB", "IIIC",
          "IV", "IVA", "IVB", "IVC")  # fmt: skip

# (group, T, N, M) — in the order of the published table.
ROWS = (
    ("0", ("Tis",), ("N0",), ("M0",)),
    ("I", ("T1", "T2"), ("N0",), ("M0",)),
    ("IIA", ("T3",), ("N0",), ("M0",)),
    ("IIB", ("T4a",), ("N0",), ("M0",)),
    ("IIC", ("T4b",), ("N0",), ("M0",)),
    ("IIIA", ("T1", "T2"), ("N1",), ("M0",)),
    ("IIIA", ("T1",), ("N2a",), ("M0",)),
    ("IIIB", ("T3", "T4a"), ("N1",), ("M0",)),
    ("IIIB", ("T2", "T3"), ("N2a",), ("M0",)),
    ("IIIB", ("T1", "T2"), ("N2b",), ("M0",)),
    ("IIIC", ("T4a",), ("N2a",), ("M0",)),
    ("IIIC", ("T3", "T4a"), ("N2b",), ("M0",)),
    ("IIIC", ("T4b",), ("N1", "N2"), ("M0",)),
    ("IVA", ANY, ANY, ("M1a",)),
    ("IVB", ANY, ANY, ("M1b",)),
    ("IVC", ANY, ANY, ("M1c",)),
)

COARSE_ROWS = (
    ("II", ("T3", "T4"), ("N0",), ("M0",)),
    ("III", ANY, ("N1", "N2"), ("M0",)),
    ("IV", ANY, ANY, ("M1",)),
)

TABLE = build_table(
    site="colorectal",
    edition="UICC8",
    grouping="anatomic",
    categories={"T": T, "N": N, "M": M},
    subcategories=SUBCATEGORIES,
    groups=GROUPS,
    rows=ROWS,
    coarse_rows=COARSE_ROWS,
    source="UICC TNM 8e édition (2017), côlon et rectum : groupement par stades",
)
