"""The stage group of one tumour as the case form will compute it on save, with the reasons
when it cannot (for the live preview next to the TNM fields; see views.py).

Same rule as the case validation (cases/validation.py ``_stage``): the pathological TNM when
pT and pN are given (M: pM, else cM), otherwise the clinical TNM when cT, cN and cM are.
Pure: no database, no request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .engine import GROUP_LABELS, categories, refusal, stage
from .normalize import parse_category
from .registry import EDITION_PHRASES, SITE_PHRASES, SITES, groupings

KIND_LABELS = {"clinical": ("clinique", "c"), "pathological": ("pathologique", "p")}
BASIS_TEXT = {"clinical": "d'après le cTNM", "pathological": "d'après le pTNM"}
# Prostate: the prognostic group needs these factors; without them the anatomic group is shown.
FACTOR_NAMES = {"psa": "le PSA", "grade_group": "le groupe ISUP (ou le score de Gleason)"}


@dataclass
class Preview:
    group: str | None = None
    basis: str | None = None  # "clinical" / "pathological"
    text: str = ""  # the French line shown under the TNM fields
    notes: list[str] = field(default_factory=list)  # why no (precise) group
    anatomic_group: str | None = None  # prostate without PSA or ISUP grade

    def as_json(self) -> dict:
        return {
            "group": self.group,
            "basis": self.basis,
            "text": self.text,
            "notes": self.notes,
            "anatomic_group": self.anatomic_group,
        }


def group_text(group: str) -> str:
    return GROUP_LABELS.get(group, f"Stade {group}")


def preview(
    site: str | None,
    edition: str,
    clinical: dict[str, str | None],
    pathological: dict[str, str | None],
    factors: dict,
) -> Preview:
    """``clinical`` / ``pathological``: {"t", "n", "m"} as typed; ``factors``: stage() factors."""
    if site not in SITES:
        return Preview(
            text="Pas de calcul automatique du stade pour cette topographie",
            notes=[
                "Le stade est calculé pour le sein, le côlon-rectum, le poumon et la prostate "
                "(topographie CIM-10 C50, C18-C20, C34, C61)."
            ],
        )
    problems: list[str] = []
    clinical = _as_saved(site, edition, "clinical", clinical, problems)
    pathological = _as_saved(site, edition, "pathological", pathological, problems)
    if problems:
        return Preview(text="Stade non calculable", notes=problems)
    attempts = stage_attempts(clinical, pathological)
    if not attempts:
        return Preview(
            text="Stade non calculé",
            notes=[
                "Saisissez cT, cN et cM, ou pT et pN (M : pM, sinon cM), pour calculer le stade."
            ],
        )
    results = [
        (basis, values, stage(site, edition, *values, **factors)) for basis, values in attempts
    ]
    phrase = EDITION_PHRASES[edition]
    for basis, _, result in results:
        if result.group:
            return Preview(
                group=result.group,
                basis=basis,
                text=f"{group_text(result.group)} ({BASIS_TEXT[basis]}, {phrase})",
                notes=list(result.problems),
            )
    # As the case page does: the reasons of the TNM the stage would have come from.
    basis, values, result = results[0]
    found = Preview(text="Stade non calculable", notes=list(result.problems))
    missing = [
        name for name in FACTOR_NAMES if _needed(site, edition, name) and name not in factors
    ]
    if missing:
        anatomic = stage(site, edition, *values, grouping="anatomic")
        if anatomic.group:
            found.anatomic_group = anatomic.group
            found.text = (
                f"Groupe anatomique {anatomic.group} ({BASIS_TEXT[basis]}) ; stade pronostique "
                "non calculable"
            )
            found.notes = [
                "Le stade pronostique de la prostate demande "
                + " et ".join(FACTOR_NAMES[name] for name in missing)
                + " : renseignez-les dans les données spécifiques de la prostate."
            ]
    return found


def stage_attempts(clinical: dict, pathological: dict) -> list[tuple[str, tuple]]:
    """The TNM a stage group is computed from, in order of preference, as (basis, (T, N, M)):
    the pathological TNM when pT and pN are given (M: pM, else cM), then the clinical TNM when
    cT, cN and cM are. The one rule for the case form's save and for this preview."""
    attempts = []
    p_m = pathological.get("m") or clinical.get("m")
    if pathological.get("t") and pathological.get("n") and p_m:
        attempts.append(("pathological", (pathological["t"], pathological["n"], p_m)))
    if clinical.get("t") and clinical.get("n") and clinical.get("m"):
        attempts.append(("clinical", (clinical["t"], clinical["n"], clinical["m"])))
    return attempts


def _needed(site: str, edition: str, factor: str) -> bool:
    return any(
        factor in {f.name for f in table.factors} for table in groupings(site, edition).values()
    )


def _as_saved(site: str, edition: str, kind: str, values: dict, problems: list[str]) -> dict:
    """The values as the case form stores them (cases/validation.py ``_tnm``): checked against
    the site's categories, with the kind's prefix when none is typed ("T2" in the
    pathological field is pT2, which matters for the prostate); problems in its words."""
    kind_label, default_prefix = KIND_LABELS[kind]
    allowed = categories(site, edition)
    saved: dict[str, str | None] = {}
    for axis in "TNM":
        saved[axis.lower()] = None
        parsed = parse_category(axis, values.get(axis.lower()))
        if parsed is None:
            continue
        prefix = parsed.prefix or default_prefix
        if parsed.error:
            problems.append(f"{axis} {kind_label} : {parsed.error}.")
        elif parsed.value not in allowed[axis]:
            problems.append(
                f"{axis} {kind_label} « {parsed.value} » impossible pour "
                f"{SITE_PHRASES[site]} ({EDITION_PHRASES[edition]}) ; valeurs admises : "
                + ", ".join(allowed[axis])
                + "."
            )
        elif refused := refusal(site, edition, prefix, parsed.value):
            problems.append(f"{axis} {kind_label} : {refused}.")
        else:
            saved[axis.lower()] = (
                prefix + parsed.value + "".join(f"({d})" for d in parsed.descriptors)
            )
    return saved
