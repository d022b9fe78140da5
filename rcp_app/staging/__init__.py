"""TNM stage groups, table-driven, pure Python (no database).

    >>> stage("breast", "UICC8", "pT2", "pN1a", "cM0").group
    'IIB'
    >>> stage("prostate", "UICC8", "cT2a", "cN0", "cM0", psa=8, grade_group=1).group
    'I'

- ``stage(site, edition, t, n, m, *, grouping=None, **factors) -> StageResult``: ``.group``
  ("IIIA", "occult", or None) and ``.problems`` (French messages). See engine.py for the rules
  and normalize.py for the accepted spellings (prefixes c/p/yc/yp/r/a, descriptors (sn), (m),
  (i+), (is) …). Prostate factors: ``psa`` (ng/mL) and ``grade_group`` (ISUP 1–5); prostate has
  a second grouping, ``grouping="anatomic"`` (UICC stages I–IV from T, N, M only).
- ``categories(site, edition)``: the valid T, N and M values, for select boxes;
  ``refusal(site, edition, prefix, value)``: why a value does not exist with that prefix
  (prostate pT2a: pathological T2 is not subdivided in the 8th edition), or None.
- ``SITES`` (site code → French label) and ``EDITIONS`` (edition code → French label).
Unknown site or edition: ValueError.
"""

from .engine import StageResult, categories, refusal, stage
from .registry import EDITIONS, SITES

__all__ = ["EDITIONS", "SITES", "StageResult", "categories", "refusal", "stage"]
