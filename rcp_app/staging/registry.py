"""Which table serves which (site, edition, grouping). Add a 9th edition here, beside the 8th."""

from __future__ import annotations

from . import (
    tables_uicc8_breast,
    tables_uicc8_colorectal,
    tables_uicc8_lung,
    tables_uicc8_prostate,
)
from .model import StageTable

SITES = {
    "breast": "sein",
    "colorectal": "côlon-rectum",
    "lung": "poumon",
    "prostate": "prostate",
}
EDITIONS = {"UICC8": "UICC 8e édition (2017)"}

# Used inside French messages: « T5 n'existe pas pour le sein (UICC 8e édition) ».
SITE_PHRASES = {
    "breast": "le sein",
    "colorectal": "le côlon-rectum",
    "lung": "le poumon",
    "prostate": "la prostate",
}
EDITION_PHRASES = {"UICC8": "UICC 8e édition"}

# (site, edition) -> {grouping: table}; the first grouping is the default one.
TABLES: dict[tuple[str, str], dict[str, StageTable]] = {
    ("breast", "UICC8"): {"anatomic": tables_uicc8_breast.TABLE},
    ("colorectal", "UICC8"): {"anatomic": tables_uicc8_colorectal.TABLE},
    ("lung", "UICC8"): {"anatomic": tables_uicc8_lung.TABLE},
    ("prostate", "UICC8"): {
        "prognostic": tables_uicc8_prostate.PROGNOSTIC,
        "anatomic": tables_uicc8_prostate.ANATOMIC,
    },
}


def groupings(site: str, edition: str) -> dict[str, StageTable]:
    """The tables of a site and edition; ValueError for an unknown site or edition."""
    if site not in SITES:
        raise ValueError(f"unknown staging site {site!r} (expected one of {sorted(SITES)})")
    if edition not in EDITIONS:
        raise ValueError(f"unknown TNM edition {edition!r} (expected one of {sorted(EDITIONS)})")
    try:
        return TABLES[(site, edition)]
    except KeyError:
        raise ValueError(f"no {edition} table for site {site!r}") from None


def get_table(site: str, edition: str, grouping: str | None = None) -> StageTable:
    tables = groupings(site, edition)
    if grouping is None:
        return next(iter(tables.values()))
    if grouping not in tables:
        raise ValueError(f"unknown grouping {grouping!r} for {site}/{edition}: {sorted(tables)}")
    return tables[grouping]
