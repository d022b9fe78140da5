"""Stage-group lookup: never guesses.

``stage(site, edition, t, n, m, *, grouping=None, **factors)``:
1. each value is normalised (normalize.py) and checked against the site's categories; an
   unknown value or an invalid factor gives ``group=None`` and one French problem each;
2. a category whose meaning depends on its prefix takes the table's name for it (prostate:
   "pT2", pathological T2 not being subdivided in the 8th edition) or is refused ("pT2a");
   the table is then looked up with the values as written (so that lung "TX N0 M0" is the
   occult carcinoma and breast "N1" follows the N1 rows); missing factors stand for all their
   values;
3. otherwise every value that is not precise — TX/NX, a missing value, a category with
   subcategories such as T4 in the colon — is expanded into the precise categories it may stand
   for. If they all lead to the same group, that group is certain and is returned;
4. otherwise, when the published table has a coarse group covering them all (colon II/III/IV,
   lung IV), that group is returned with a « Sous-stade non déterminé » problem;
5. otherwise ``group=None`` with one « Stade non calculable » problem per value that must be
   made precise, or « Combinaison non prévue par la classification » when no row of the table
   covers the combination (e.g. breast Tis N1 M0).
Unknown site, edition or grouping: ValueError (a programming error — forms offer ``SITES``
and ``EDITIONS``). An unexpected factor keyword with a value: TypeError.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass, field

from .model import AXES, Row, StageTable
from .normalize import parse_category
from .registry import EDITION_PHRASES, SITE_PHRASES, SITES, get_table, groupings

GROUP_LABELS = {"occult": "Carcinome occulte"}


@dataclass
class StageResult:
    group: str | None
    problems: list[str]
    edition: str
    site: str
    grouping: str = "anatomic"
    t: str | None = None  # canonical values, prefix and descriptors removed
    n: str | None = None
    m: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)  # {"T": "p", "N": "p", "M": "c"}
    descriptors: dict[str, tuple[str, ...]] = field(default_factory=dict)  # {"N": ("sn",)}

    @property
    def prefix(self) -> str | None:
        """The prefix shared by T and N ("c", "p", "yp" …); M is ignored (pT pN cM0 is usual).

        None when neither carries a prefix (then M's, if any) or when T and N disagree.
        """
        found = {self.prefixes.get(axis, "") for axis in ("T", "N")} - {""}
        if len(found) == 1:
            return found.pop()
        if not found:
            return self.prefixes.get("M") or None
        return None

    @property
    def label(self) -> str | None:
        """French label: « Stade IIIA », « Carcinome occulte »."""
        if self.group is None:
            return None
        return GROUP_LABELS.get(self.group, f"Stade {self.group}")


def categories(site: str, edition: str) -> dict[str, list[str]]:
    """Valid T, N and M values of a site, in display order (for select boxes)."""
    table = get_table(site, edition)
    return {axis: list(table.categories[axis]) for axis in AXES}


def stage(
    site: str,
    edition: str,
    t: str | None = None,
    n: str | None = None,
    m: str | None = None,
    *,
    grouping: str | None = None,
    **factors: object,
) -> StageResult:
    """Stage group of one tumour; see the module docstring for the rules."""
    table = get_table(site, edition, grouping)
    _check_factor_names(site, edition, factors)
    result = StageResult(None, [], edition, site, table.grouping)
    values: dict[str, str | None] = {}
    for axis, raw in zip(AXES, (t, n, m), strict=True):
        values[axis] = _read_value(table, axis, raw, result)
    bins: dict[str, str | None] = {}
    for factor in table.factors:
        raw = factors.get(factor.name)
        bins[factor.name] = None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        try:
            bins[factor.name] = factor.classify(raw)
        except ValueError as error:
            result.problems.append(str(error))
    result.t, result.n, result.m = values["T"], values["N"], values["M"]
    if result.problems:
        return result
    lookup = {
        axis: table.prefixed.get((result.prefixes.get(axis, ""), value), value)
        for axis, value in values.items()
    }
    result.group, result.problems = _resolve(table, lookup, bins, factors)
    return result


def refusal(site: str, edition: str, prefix: str, value: str) -> str | None:
    """Why a category does not exist with this prefix (« pT2a n'existe pas … »), or None."""
    for table in groupings(site, edition).values():
        message = _refusal(table, prefix, value)
        if message:
            return message
    return None


def _refusal(table: StageTable, prefix: str, value: str) -> str | None:
    reason = table.refused.get((prefix, value))
    if not reason:
        return None
    return (
        f"{prefix}{value} n'existe pas pour {SITE_PHRASES[table.site]} "
        f"({EDITION_PHRASES[table.edition]}) : {reason}"
    )


def _check_factor_names(site: str, edition: str, factors: dict) -> None:
    """A factor of another site is a programming error, unless it is left empty (None)."""
    known = {f.name for table in groupings(site, edition).values() for f in table.factors}
    unexpected = sorted(
        name for name, value in factors.items() if name not in known and value is not None
    )
    if unexpected:
        raise TypeError(f"unexpected staging factor(s) for {site}: {', '.join(unexpected)}")


def _read_value(table: StageTable, axis: str, raw: object, result: StageResult) -> str | None:
    parsed = parse_category(axis, raw)
    if parsed is None:
        return None
    if parsed.error:
        result.problems.append(parsed.error)
        return None
    if parsed.value not in table.categories[axis]:
        message = (
            f"{parsed.value} n'existe pas pour {SITE_PHRASES[table.site]} "
            f"({EDITION_PHRASES[table.edition]})"
        )
        if parsed.value == "MX":
            message += " : la catégorie MX n'est plus utilisée, laisser M vide si inconnu"
        result.problems.append(message)
        return None
    refused = _refusal(table, parsed.prefix, parsed.value)
    if refused:
        result.problems.append(refused)
        return None
    result.prefixes[axis] = parsed.prefix
    if parsed.descriptors:
        result.descriptors[axis] = parsed.descriptors
    return parsed.value


# --- resolution ------------------------------------------------------------------------------

Options = dict[str, list[str]]


def _resolve(table, values, bins, raw_factors) -> tuple[str | None, list[str]]:
    factor_options = {
        f.name: [bins[f.name]] if bins[f.name] else list(f.bins) for f in table.factors
    }
    attempts: list[Options] = []
    if all(values[axis] is not None for axis in AXES):
        attempts.append({**{axis: [values[axis]] for axis in AXES}, **factor_options})
    expanded: Options = {axis: table.expand(axis, values[axis]) for axis in AXES}
    expanded.update(factor_options)
    attempts.append(expanded)

    group = _determined(table.rows, attempts)
    if group:
        return group, []
    fine = _outcomes(table.rows, expanded)
    has_fine_groups = any(outcome is not None for outcome in fine.values())
    coarse_group = _determined(table.coarse_rows, attempts)
    if coarse_group:
        if not has_fine_groups:  # e.g. colon T0 N1 M0: only the coarse row "Any T N1" covers it
            return coarse_group, []
        reasons = _reasons(table, values, expanded, fine, "le sous-stade")
        return coarse_group, [f"Sous-stade non déterminé : {reason}" for reason in reasons]
    coarse = _outcomes(table.coarse_rows, expanded)
    if not has_fine_groups and all(outcome is None for outcome in coarse.values()):
        return None, [_not_provided(table, values, raw_factors)]
    both = {key: (fine[key], coarse[key]) for key in fine}
    reasons = _reasons(table, values, expanded, both, "le stade")
    return None, [f"Stade non calculable : {reason}" for reason in reasons]


def _outcomes(rows: tuple[Row, ...], options: Options) -> dict[tuple, str | None]:
    names = list(options)
    found: dict[tuple, str | None] = {}
    for combo in itertools.product(*options.values()):
        point = dict(zip(names, combo, strict=True))
        # build_table guarantees at most one group per combination.
        groups = {row.group for row in rows if row.matches(point)}
        found[combo] = groups.pop() if groups else None
    return found


def _determined(rows: tuple[Row, ...], attempts: list[Options]) -> str | None:
    if not rows:
        return None
    for options in attempts:
        outcomes = set(_outcomes(rows, options).values())
        if len(outcomes) == 1 and None not in outcomes:
            return outcomes.pop()
    return None


def _reasons(table, values, options: Options, outcomes: dict, what: str) -> list[str]:
    """One reason per input whose imprecision changes the outcome."""
    names = list(options)
    reasons = []
    for index, name in enumerate(names):
        if len(options[name]) < 2:
            continue
        buckets: dict[tuple, set] = defaultdict(set)
        for combo, outcome in outcomes.items():
            buckets[combo[:index] + combo[index + 1 :]].add(outcome)
        if any(len(seen) > 1 for seen in buckets.values()):
            reasons.append(_reason(table, name, values.get(name), what))
    return reasons


def _reason(table: StageTable, name: str, value: str | None, what: str) -> str:
    if name not in AXES:
        return next(f.missing for f in table.factors if f.name == name)
    if value is None:
        return f"la catégorie {name} n'est pas renseignée"
    if table.is_unknown(value):
        return f"{value} (non évaluable) ne permet pas de déterminer {what}"
    children = list(table.subcategories[value])
    return f"{value} doit être précisé ({', '.join(children[:-1])} ou {children[-1]})"


def _not_provided(table: StageTable, values, raw_factors) -> str:
    parts = [values[axis] or f"{axis} non renseigné" for axis in AXES]
    text = " ".join(parts)
    for factor in table.factors:
        raw = raw_factors.get(factor.name)
        shown = raw if raw not in (None, "") else "non renseigné"
        text += f", {_lower_first(factor.label)} {shown}"
    return (
        f"Combinaison non prévue par la classification : {text} "
        f"({SITES[table.site]}, {EDITION_PHRASES[table.edition]})"
    )


def _lower_first(label: str) -> str:
    """« Groupe grade ISUP » → « groupe grade ISUP »; acronyms (« PSA ») are kept."""
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]
