"""Reading T/N/M values as people write them.

Accepted, case-insensitively and ignoring spaces:
- an optional prefix: c (clinical), p (pathological), y (after treatment: yc, yp), r
  (recurrence: r, rc, rp, ryc, ryp) or a (autopsy: a, ac, ap). It is stripped for the lookup
  and kept in ``Parsed.prefix`` (UICC: prefixes do not change the stage group);
- the axis letter, which may be omitted ("1c" in the T field is T1c);
- the category: "X", "is", a digit with an optional letter or "mi" ("T1c", "N1mi", "M1a");
- descriptors in parentheses, kept in ``Parsed.descriptors`` and ignored for the group:
  (m) or a number = multiple tumours, (sn) = sentinel node, (i+)/(i-)/(mol+)/(mol-) = isolated
  tumour cells (pN0(i+) is N0, cM0(i+) is M0), (f) = nodes confirmed by needle biopsy, and the
  in-situ types (DCIS), (LCIS), (Paget), (AIS), (SCIS), allowed on Tis only.
  Two descriptors are spellings of a category: "T(is)" is Tis, "T1a(mi)" / "T1(mi)" is T1mi and
  "N1(mi)" is N1mi.
Whether the resulting category exists for the site is checked by the engine, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PREFIXES = frozenset(
    {"", "c", "p", "y", "yc", "yp", "r", "rc", "rp", "ry", "ryc", "ryp", "a", "ac", "ap"}
)
_TOKEN = re.compile(r"^(?P<prefix>[cpyra]*)(?P<axis>[tnm])(?P<body>[0-9a-z]*)$")
_BARE = re.compile(r"^(?P<body>x|is|[0-4][a-z]*)$")
_DESCRIPTOR = re.compile(r"\(([^()]*)\)")
_IN_SITU_TYPES = frozenset({"dcis", "lcis", "paget", "ais", "scis"})
_DESCRIPTORS = {
    "T": frozenset({"m", "is", "mi"}) | _IN_SITU_TYPES,
    "N": frozenset({"sn", "i+", "i-", "mol+", "mol-", "f", "mi"}),
    "M": frozenset({"i+"}),
}


@dataclass(frozen=True)
class Parsed:
    value: str | None  # canonical category ("T1c", "NX", "M1a"); None when refused
    prefix: str = ""
    descriptors: tuple[str, ...] = ()
    error: str | None = None  # French message when refused


def parse_category(axis: str, raw: object) -> Parsed | None:
    """Parse one T/N/M value; None when nothing was given."""
    if raw is None:
        return None
    text = re.sub(r"\s+", "", str(raw))
    if not text:
        return None
    descriptors = [d.lower() for d in _DESCRIPTOR.findall(text)]
    core = _DESCRIPTOR.sub("", text).lower()
    if "(" in core or ")" in core:
        return _refused(f"« {raw} » n'est pas une catégorie {axis} reconnue")
    match = _TOKEN.match(core)
    if match:
        prefix, found_axis, body = match["prefix"], match["axis"].upper(), match["body"]
    elif _BARE.match(core):
        prefix, found_axis, body = "", axis, core
    else:
        return _refused(f"« {raw} » n'est pas une catégorie {axis} reconnue")
    if found_axis != axis:
        return _refused(f"« {raw} » est une catégorie {found_axis}, pas une catégorie {axis}")
    if prefix not in _PREFIXES:
        return _refused(f"Préfixe « {prefix} » non reconnu dans « {raw} »")
    kept: list[str] = []
    for descriptor in descriptors:
        multifocal = axis == "T" and descriptor.isascii() and descriptor.isdigit()  # T(3)
        if descriptor in _DESCRIPTORS[axis] or multifocal:
            if descriptor not in ("is", "mi"):
                kept.append(descriptor)
            continue
        return _refused(f"Descripteur « ({descriptor}) » non reconnu dans « {raw} »")
    body = _apply_spelling_descriptors(axis, body, descriptors)
    if body is None or not body:
        return _refused(f"« {raw} » n'est pas une catégorie {axis} reconnue")
    if _IN_SITU_TYPES & set(kept) and body != "is":
        return _refused(f"« {raw} » : ce descripteur ne s'applique qu'à Tis")
    value = axis + ("X" if body == "x" else body)
    return Parsed(value=value, prefix=prefix, descriptors=tuple(kept))


def _apply_spelling_descriptors(axis: str, body: str, descriptors: list[str]) -> str | None:
    if "is" in descriptors:
        if axis != "T" or body not in ("", "is"):
            return None
        body = "is"
    if "mi" in descriptors:
        if (axis, body) in {("T", "1"), ("T", "1a"), ("T", "1mi")}:
            return "1mi"
        if (axis, body) in {("N", "1"), ("N", "1mi")}:
            return "1mi"
        return None
    return body


def _refused(message: str) -> Parsed:
    return Parsed(value=None, error=message)
