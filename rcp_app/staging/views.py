"""Live stage preview for the case form: GET /stade/apercu → JSON (no patient data).

The form sends only codes as typed (topography, TNM edition, the six T/N/M values and, for the
prostate, PSA / Gleason / ISUP); the answer is what the save will compute (preview.py), with the
reasons when no stage can be given. Nothing is read from or written to the database.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..access.guards import allowed
from ..core.patient_data import no_patient_data
from . import biomarkers
from .preview import preview
from .registry import EDITIONS

bp = Blueprint("staging", __name__)

MAX_TOPOGRAPHY = 64
MAX_CATEGORY = 32
MAX_MARKER = 20
# query parameter -> (kind, axis)
TNM_PARAMETERS = {
    "ct": ("clinical", "t"),
    "cn": ("clinical", "n"),
    "cm": ("clinical", "m"),
    "pt": ("pathological", "t"),
    "pn": ("pathological", "n"),
    "pm": ("pathological", "m"),
}
# query parameter -> marker code (biomarkers.py): the prostate's staging factors.
MARKER_PARAMETERS = {
    "psa": "prostate.psa",
    "isup": "prostate.isup",
    "gleason_majoritaire": "prostate.gleason_primary",
    "gleason_secondaire": "prostate.gleason_secondary",
}


class BadPreviewRequest(ValueError):
    """A request the form never sends (a French message for the 400 answer)."""


def _text(name: str, limit: int) -> str:
    value = request.args.get(name, "")
    if len(value) > limit:
        raise BadPreviewRequest(
            f"Le paramètre « {name} » est trop long ({limit} caractères au plus)."
        )
    if any(not ch.isprintable() for ch in value):
        raise BadPreviewRequest(f"Le paramètre « {name} » contient des caractères non imprimables.")
    return value.strip()


@bp.route("/stade/apercu")
@no_patient_data
@allowed("clinical")
def stage_preview():
    """GET ?topographie=C50.4&edition=UICC8&ct=&cn=&cm=&pt=&pn=&pm=[&psa=&isup=
    &gleason_majoritaire=&gleason_secondaire=] → {"group", "basis", "text", "notes",
    "anatomic_group"}; 400 {"error"} on a malformed request."""
    try:
        topography = _text("topographie", MAX_TOPOGRAPHY)
        edition = _text("edition", 16) or "UICC8"
        if edition not in EDITIONS:
            raise BadPreviewRequest(
                f"Édition TNM inconnue : « {edition} » (valeurs admises : {', '.join(EDITIONS)})."
            )
        values: dict[str, dict[str, str | None]] = {"clinical": {}, "pathological": {}}
        for name, (kind, axis) in TNM_PARAMETERS.items():
            values[kind][axis] = _text(name, MAX_CATEGORY) or None
        site = biomarkers.site_for_topography(topography)
        markers: dict[str, str] = {}
        for name, code in MARKER_PARAMETERS.items():
            raw = _text(name, MAX_MARKER)
            if not raw:
                continue
            try:
                value = biomarkers.clean_value(biomarkers.BY_CODE[code], raw)
            except ValueError as error:
                raise BadPreviewRequest(str(error)) from None
            if value is not None:
                markers[code] = value
    except BadPreviewRequest as error:
        return jsonify({"error": str(error)}), 400
    # Inconsistent Gleason/ISUP: the form refuses them on save; the preview says why.
    conflicts = list(biomarkers.cross_checks(site, markers).values())
    if conflicts:
        return jsonify(
            {
                "group": None,
                "basis": None,
                "text": "Stade non calculable",
                "notes": conflicts,
                "anatomic_group": None,
            }
        )
    factors = biomarkers.staging_factors(site, markers)
    result = preview(site, edition, values["clinical"], values["pathological"], factors)
    return jsonify(result.as_json())
