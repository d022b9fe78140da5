"""Site-specific data (biomarkers, grades) of a tumour, driven by a registry.

The site comes from the tumour's topography code (CIM-10): C50 breast, C18–C20 colon/rectum,
C34 lung, C61 prostate. Each marker has a kind that tells how a typed value is checked and
normalised; values are stored as text rows (tumour, code, value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SITE_LABELS = {
    "breast": "Sein",
    "colorectal": "Côlon-rectum",
    "lung": "Poumon",
    "prostate": "Prostate",
}
# Genitive forms for messages: « Statut HER2 du sein ».
SITE_OF = {
    "breast": "du sein",
    "colorectal": "du côlon-rectum",
    "lung": "du poumon",
    "prostate": "de la prostate",
}
_SITE_PREFIXES = (
    ("C50", "breast"),
    ("C18", "colorectal"),
    ("C19", "colorectal"),
    ("C20", "colorectal"),
    ("C34", "lung"),
    ("C61", "prostate"),
)


def site_for_topography(code: str | None) -> str | None:
    """'C50.4' -> 'breast'; None for a site without specific data (or no code)."""
    code = (code or "").strip().upper()
    for prefix, site in _SITE_PREFIXES:
        if code == prefix or code.startswith(prefix + ".") or code.startswith(prefix + "+"):
            return site
    return None


@dataclass(frozen=True)
class Marker:
    code: str
    site: str
    label: str
    kind: str  # "percent", "number", "integer" or "choice"
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    unit: str = ""
    help: str = field(default="", compare=False)

    @property
    def field_name(self) -> str:
        return "bm_" + self.code.replace(".", "_")

    @property
    def full_label(self) -> str:
        return f"{self.label} {SITE_OF[self.site]}"


_POS_NEG = ("positif", "négatif", "non fait")

MARKERS: tuple[Marker, ...] = (
    Marker("breast.er", "breast", "Récepteurs aux œstrogènes (RE)", "percent", unit="%"),
    Marker("breast.pr", "breast", "Récepteurs à la progestérone (RP)", "percent", unit="%"),
    Marker(
        "breast.her2", "breast", "Statut HER2", "choice", ("0", "1+", "2+ ISH−", "2+ ISH+", "3+")
    ),
    Marker("breast.ki67", "breast", "Ki-67", "percent", unit="%"),
    Marker("breast.sbr", "breast", "Grade SBR", "choice", ("1", "2", "3")),
    Marker(
        "colorectal.msi",
        "colorectal",
        "Statut MSI / MMR",
        "choice",
        ("MSS / pMMR", "MSI / dMMR", "non fait"),
    ),
    Marker("colorectal.ras", "colorectal", "Statut RAS", "choice", ("sauvage", "muté", "non fait")),
    Marker(
        "colorectal.braf",
        "colorectal",
        "Statut BRAF",
        "choice",
        ("sauvage", "V600E", "autre mutation", "non fait"),
    ),
    Marker("lung.egfr", "lung", "Mutation EGFR", "choice", _POS_NEG),
    Marker("lung.alk", "lung", "Réarrangement ALK", "choice", _POS_NEG),
    Marker("lung.ros1", "lung", "Réarrangement ROS1", "choice", _POS_NEG),
    Marker("lung.pdl1", "lung", "Expression PD-L1", "percent", unit="% des cellules tumorales"),
    Marker("prostate.psa", "prostate", "PSA", "number", minimum=0, maximum=100000, unit="ng/mL"),
    Marker(
        "prostate.gleason_primary",
        "prostate",
        "Gleason, grade majoritaire",
        "integer",
        minimum=1,
        maximum=5,
    ),
    Marker(
        "prostate.gleason_secondary",
        "prostate",
        "Gleason, grade secondaire",
        "integer",
        minimum=1,
        maximum=5,
    ),
    Marker("prostate.isup", "prostate", "Groupe ISUP", "integer", minimum=1, maximum=5),
)
BY_CODE = {m.code: m for m in MARKERS}


def markers_for(site: str | None) -> list[Marker]:
    return [m for m in MARKERS if m.site == site]


_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)?")


def _number_text(value: float) -> str:
    return f"{value:g}"


def _choice_key(text: str) -> str:
    return text.replace("−", "-").replace(" ", "").casefold()


def clean_value(marker: Marker, raw: str | None) -> str | None:
    """Normalised text of a typed value; None when empty; ValueError (French) when invalid."""
    text = (raw or "").strip()
    if not text:
        return None
    if marker.kind == "choice":
        for choice in marker.choices:
            if _choice_key(choice) == _choice_key(text):
                return choice
        raise ValueError(
            f"{marker.full_label} : valeur « {text} » inconnue ; choisissez parmi "
            + ", ".join(marker.choices)
            + "."
        )
    text = text.removesuffix("%").strip()
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{marker.full_label} : saisissez un nombre (« {text} » n'en est pas un).")
    value = float(text.replace(",", "."))
    low, high = (0, 100) if marker.kind == "percent" else (marker.minimum, marker.maximum)
    if marker.kind == "integer" and not value.is_integer():
        raise ValueError(f"{marker.full_label} : saisissez un nombre entier.")
    if (low is not None and value < low) or (high is not None and value > high):
        unit = " %" if marker.kind == "percent" else (f" {marker.unit}" if marker.unit else "")
        raise ValueError(
            f"{marker.full_label} : la valeur doit être comprise entre "
            f"{_number_text(low)} et {_number_text(high)}{unit}."
        )
    return _number_text(value)


def isup_from_gleason(primary: int, secondary: int) -> int:
    """ISUP grade group (2014) from the Gleason primary and secondary patterns."""
    score = primary + secondary
    if score <= 6:
        return 1
    if score == 7:
        return 2 if primary <= 3 else 3
    if score == 8:
        return 4
    return 5


def cross_checks(site: str | None, values: dict[str, str]) -> dict[str, str]:
    """Consistency between markers of one tumour: {marker code: French message}."""
    problems: dict[str, str] = {}
    if site != "prostate":
        return problems
    primary = values.get("prostate.gleason_primary")
    secondary = values.get("prostate.gleason_secondary")
    if (primary is None) != (secondary is None):
        missing = "prostate.gleason_secondary" if secondary is None else "prostate.gleason_primary"
        problems[missing] = (
            "Score de Gleason incomplet : saisissez le grade majoritaire et le grade secondaire."
        )
        return problems
    isup = values.get("prostate.isup")
    if primary is not None and isup is not None:
        expected = isup_from_gleason(int(primary), int(secondary))
        if int(isup) != expected:
            problems["prostate.isup"] = (
                f"Le groupe ISUP {isup} ne correspond pas au score de Gleason "
                f"{primary} + {secondary} (groupe ISUP {expected})."
            )
    return problems


def staging_factors(site: str | None, values: dict[str, str]) -> dict:
    """Extra factors the stage grouping of the site needs (prostate: PSA and grade group)."""
    if site != "prostate":
        return {}
    factors = {}
    if values.get("prostate.psa") is not None:
        factors["psa"] = float(values["prostate.psa"])
    if values.get("prostate.isup") is not None:
        factors["grade_group"] = int(values["prostate.isup"])
    elif values.get("prostate.gleason_primary") and values.get("prostate.gleason_secondary"):
        factors["grade_group"] = isup_from_gleason(
            int(values["prostate.gleason_primary"]), int(values["prostate.gleason_secondary"])
        )
    return factors
