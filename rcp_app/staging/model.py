"""Data model of one stage-group table: one site, one edition, one grouping.

A table module (tables_uicc8_breast.py, …) holds plain data — category tuples, a subcategory
map and rows ``(group, T values, N values, M values[, {factor: values}])`` typed from the
published table — and calls ``build_table``. Adding the 9th edition means adding modules with
new data beside the 8th edition ones and registering them in registry.py; no code changes.

Row semantics:
- a value in a row covers itself and all its subcategories ("T1" covers T1mi, T1a, T1b, T1c),
  exactly as the published tables write "T1*" or "N1";
- ``ANY`` is the published "Any T" / "Any N": every category of the axis, including TX/NX;
- a factor missing from a row's dict means "any value" of that factor;
- a category may exist for one prefix only (prostate, 8th edition: pathological T2 is not
  subdivided). ``prefixed`` maps ``(prefix, category as parsed)`` to the category looked up,
  written as the published table writes it ("pT2"); such a category is only reachable with that
  prefix, has no subcategories and is covered by ``ANY``. ``refused`` maps ``(prefix,
  category)`` to the French reason why that spelling does not exist (e.g. pT2a).
``build_table`` checks at import time that every value exists and that no combination of
categories is covered by two rows giving different groups.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

AXES = ("T", "N", "M")
ANY = "*"


@dataclass(frozen=True)
class Factor:
    """A non-anatomic factor of a grouping (e.g. PSA), classified into the table's bins."""

    name: str
    label: str
    bins: tuple[str, ...]
    classify: Callable[[object], str]  # raises ValueError with a French message
    missing: str  # French reason used when the factor is absent and needed


@dataclass(frozen=True)
class Row:
    group: str
    cover: Mapping[str, frozenset[str]]  # axis or factor name -> accepted values

    def matches(self, point: Mapping[str, str]) -> bool:
        return all(point[key] in accepted for key, accepted in self.cover.items())


@dataclass(frozen=True)
class StageTable:
    site: str
    edition: str
    grouping: str
    categories: Mapping[str, tuple[str, ...]]
    subcategories: Mapping[str, tuple[str, ...]]
    groups: tuple[str, ...]
    rows: tuple[Row, ...]
    coarse_rows: tuple[Row, ...]
    factors: tuple[Factor, ...]
    source: str
    prefixed: Mapping[tuple[str, str], str] = field(default_factory=dict)
    refused: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def prefixed_categories(self, axis: str) -> tuple[str, ...]:
        """Categories reachable with one prefix only ("pT2"), in declaration order."""
        found = [value for (_, source), value in self.prefixed.items() if source[0] == axis]
        return tuple(dict.fromkeys(found))

    def lookup_categories(self, axis: str) -> tuple[str, ...]:
        """Every category the rows may name: the public ones and the prefixed ones."""
        return (*self.categories[axis], *self.prefixed_categories(axis))

    def is_unknown(self, value: str) -> bool:
        """TX / NX: the category could not be assessed."""
        return value[1:] == "X"

    def leaves(self, axis: str) -> list[str]:
        """The most precise assessed categories of an axis (what an unknown value may be)."""
        return [
            value
            for value in self.categories[axis]
            if value not in self.subcategories and not self.is_unknown(value)
        ]

    def descendants(self, value: str) -> list[str]:
        found: list[str] = []
        for child in self.subcategories.get(value, ()):
            found.append(child)
            found.extend(self.descendants(child))
        return found

    def expand(self, axis: str, value: str | None) -> list[str]:
        """Every precise category that ``value`` may stand for (None = not given)."""
        if value is None or self.is_unknown(value):
            return self.leaves(axis)
        if value in self.subcategories:
            return [leaf for leaf in self.descendants(value) if leaf not in self.subcategories]
        return [value]


def build_table(
    *,
    site: str,
    edition: str,
    grouping: str,
    categories: Mapping[str, Sequence[str]],
    subcategories: Mapping[str, Sequence[str]],
    groups: Sequence[str],
    rows: Sequence[tuple],
    coarse_rows: Sequence[tuple] = (),
    factors: Sequence[Factor] = (),
    prefixed: Mapping[tuple[str, str], str] | None = None,
    refused: Mapping[tuple[str, str], str] | None = None,
    source: str,
) -> StageTable:
    cats = {axis: tuple(categories[axis]) for axis in AXES}
    subs = {key: tuple(children) for key, children in subcategories.items()}
    for parent, children in subs.items():
        axis = parent[0]
        for value in (parent, *children):
            if value not in cats[axis]:
                raise ValueError(f"{site}/{edition}: unknown subcategory {value}")
    for (_, source), target in (prefixed or {}).items():
        if source not in cats[source[0]] or target in cats[source[0]] or target in subs:
            raise ValueError(f"{site}/{edition}: bad prefixed category {source} -> {target}")
    for _, source in refused or {}:
        if source not in cats[source[0]]:
            raise ValueError(f"{site}/{edition}: unknown refused category {source}")
    table = StageTable(
        site=site,
        edition=edition,
        grouping=grouping,
        categories=cats,
        subcategories=subs,
        groups=tuple(groups),
        rows=(),
        coarse_rows=(),
        factors=tuple(factors),
        source=source,
        prefixed=dict(prefixed or {}),
        refused=dict(refused or {}),
    )
    built = tuple(_build_row(table, raw) for raw in rows)
    coarse = tuple(_build_row(table, raw) for raw in coarse_rows)
    table = StageTable(**{**table.__dict__, "rows": built, "coarse_rows": coarse})
    _check_no_conflict(table, built)
    _check_no_conflict(table, coarse)
    return table


def _build_row(table: StageTable, raw: tuple) -> Row:
    group, *axis_values = raw[:4]
    conditions: Mapping[str, Sequence[str]] = raw[4] if len(raw) > 4 else {}
    if group not in table.groups:
        raise ValueError(f"{table.site}/{table.edition}: unknown group {group}")
    cover: dict[str, frozenset[str]] = {}
    for axis, values in zip(AXES, axis_values, strict=True):
        if values == ANY:
            cover[axis] = frozenset(table.lookup_categories(axis))
            continue
        accepted: set[str] = set()
        for value in values:
            if value not in table.lookup_categories(axis):
                raise ValueError(f"{table.site}/{table.edition}: unknown category {value}")
            accepted.add(value)
            accepted.update(table.descendants(value))
        cover[axis] = frozenset(accepted)
    factor_bins = {factor.name: factor.bins for factor in table.factors}
    for name, values in conditions.items():
        if name not in factor_bins or not set(values) <= set(factor_bins[name]):
            raise ValueError(f"{table.site}/{table.edition}: bad factor condition {name}")
        cover[name] = frozenset(values)
    return Row(group=group, cover=cover)


def _check_no_conflict(table: StageTable, rows: tuple[Row, ...]) -> None:
    names = [*AXES, *(factor.name for factor in table.factors)]
    domains = [table.lookup_categories(axis) for axis in AXES]
    domains += [factor.bins for factor in table.factors]
    for combo in itertools.product(*domains):
        point = dict(zip(names, combo, strict=True))
        groups = {row.group for row in rows if row.matches(point)}
        if len(groups) > 1:
            raise ValueError(f"{table.site}/{table.edition}: {combo} gives {sorted(groups)}")


def threshold_factor(
    name: str, label: str, unit: str, thresholds: Sequence[float], bins: Sequence[str], missing: str
) -> Factor:
    """A non-negative number split at ``thresholds`` (lower bound inclusive: 10 is "≥10")."""
    if len(bins) != len(thresholds) + 1:
        raise ValueError("one bin more than thresholds expected")

    def classify(raw: object) -> str:
        number = _to_float(raw)
        if number is None or number < 0:
            raise ValueError(f"{label} invalide : « {raw} » (nombre positif attendu, en {unit})")
        for threshold, bin_name in zip(thresholds, bins, strict=False):
            if number < threshold:
                return bin_name
        return bins[-1]

    return Factor(name=name, label=label, bins=tuple(bins), classify=classify, missing=missing)


def choice_factor(name: str, label: str, choices: Sequence[int], missing: str) -> Factor:
    """An integer among ``choices``; its bins are the choices written as strings."""
    bins = tuple(str(choice) for choice in choices)
    allowed = ", ".join(bins[:-1]) + " ou " + bins[-1]

    def classify(raw: object) -> str:
        text = raw.strip() if isinstance(raw, str) else raw
        if isinstance(text, bool) or not isinstance(text, int | str) or str(text) not in bins:
            raise ValueError(f"{label} invalide : « {raw} » (valeurs possibles : {allowed})")
        return str(text)

    return Factor(name=name, label=label, bins=bins, classify=classify, missing=missing)


def _to_float(raw: object) -> float | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        raw = raw.strip().replace(",", ".")
    try:
        number = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
