"""What the case pages show: code labels (one query per value set), the form's initial data,
the reasons a stage group could not be computed, and the one way TNM and biomarkers are
written on every page (registered as Jinja globals: ``tnm_text``, ``biomarker_rows``)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import select

from ..core.text import forbidden_character
from ..core.timeutil import format_date
from ..extensions import db
from ..staging import biomarkers
from ..terminology import builtin as vs
from ..terminology.models import Concept
from .models import Case, Tumour
from .operations import SCALARS

MAX_CODE = Concept.__table__.c.code.type.length
_CASE_CODES = (
    ("appareil_code", vs.APPAREIL),
    ("organ_code", vs.ORGAN),
    ("theme_code", vs.TRANSVERSAL_THEME),
    ("phase_code", vs.PHASE),
)
_TUMOUR_CODES = (
    ("topography_code", vs.TOPOGRAPHY),
    ("morphology_code", vs.MORPHOLOGY),
    ("laterality_code", vs.LATERALITY),
)


class DisplayLabels:
    """Collects (value set, code) pairs, then loads their labels: ``labels[vs][code]``."""

    def __init__(self):
        self._wanted: dict[str, set[str]] = {}
        self._labels: dict[str, dict[str, str]] = {}

    def add(self, value_set: str, code: str | None) -> None:
        # A typed code shown again after a refusal may be anything (NUL, 10 000 characters):
        # only what could be a stored code is looked up (PostgreSQL refuses NUL in a query).
        if code and len(code) <= MAX_CODE and forbidden_character(code) is None:
            self._wanted.setdefault(value_set, set()).add(code)

    def add_case(self, case: Case) -> None:
        for name, value_set in _CASE_CODES:
            self.add(value_set, getattr(case, name))
        for tumour in case.tumours:
            for name, value_set in _TUMOUR_CODES:
                self.add(value_set, getattr(tumour, name))
        for treatment in case.treatments:
            self.add(vs.TREATMENT_TYPE, treatment.type_code)

    def add_form(self, form) -> None:
        for row in form.tumour_rows:
            self.add(vs.TOPOGRAPHY, (row.form.topography_code.data or "").strip())
            self.add(vs.MORPHOLOGY, (row.form.morphology_code.data or "").strip())

    def load(self) -> DisplayLabels:
        for value_set, codes in self._wanted.items():
            rows = db.session.execute(
                select(Concept.code, Concept.label).where(
                    Concept.value_set == value_set, Concept.code.in_(codes)
                )
            )
            self._labels[value_set] = dict(rows.all())
        return self

    def label(self, value_set: str, code: str | None) -> str:
        if not code:
            return ""
        return self._labels.get(value_set, {}).get(code, code)


# --- TNM and biomarkers, as every page writes them ------------------------------------------

TNM_PREFIXES = {"clinical": "c", "pathological": "p"}
# A stored category that already carries its prefix: "cT2a", "ypN0", "rpT1".
_PREFIXED = re.compile(r"^[cpyra]+[TNM]")


def tnm_category(value: str | None, kind: str, axis: str) -> str:
    """One stored category as clinicians write it. Validation stores the prefix ("cT2a",
    "ypN0"), but older rows and imports may hold "T2" or "2": the kind's prefix (and the axis)
    is added to those, never a second time."""
    value = (value or "").strip()
    if not value:
        return ""
    if _PREFIXED.match(value):
        return value
    body = value[1:] if value[:1].upper() == axis else value  # "T2" or "2"
    return TNM_PREFIXES[kind] + axis + body


def tnm_text(source, kind: str) -> str:
    """'cT1c cN0 cM0' for a tumour (``kind``: clinical or pathological) or a {t, n, m} mapping
    (a fiche snapshot); axes not given are left out, "" when none is."""
    if isinstance(source, Mapping):
        values = (source.get("t"), source.get("n"), source.get("m"))
    else:
        values = tuple(getattr(source, f"{kind}_{axis}") for axis in "tnm")
    return " ".join(
        text
        for text in (tnm_category(v, kind, axis) for v, axis in zip(values, "TNM", strict=True))
        if text
    )


def biomarker_text(code: str, value: str | None) -> str:
    """'45 %', '12.5 ng/mL', '3+': the stored value with its marker's unit."""
    value = (value or "").strip()
    marker = biomarkers.BY_CODE.get(code)
    if not value or marker is None or not marker.unit:
        return value
    return f"{value} {marker.unit}"


def _stored_biomarkers(source) -> dict[str, str]:
    rows = source.get("biomarkers") if isinstance(source, Mapping) else source.biomarkers
    return {
        (row["code"] if isinstance(row, Mapping) else row.code): (
            row["value"] if isinstance(row, Mapping) else row.value
        )
        for row in rows or ()
    }


def biomarker_rows(source, with_empty: bool = False) -> list[tuple[str, str]]:
    """(label, text) of a tumour's biomarkers (a Tumour or a fiche snapshot's tumour), in the
    registry's clinical order (RE, RP, HER2, Ki-67…), unknown codes last under their code.
    ``with_empty``: also the site's markers without a value (text ""), to show what is missing.
    """
    stored = _stored_biomarkers(source)
    order = {m.code: i for i, m in enumerate(biomarkers.MARKERS)}
    codes = sorted(stored, key=lambda c: (order.get(c, len(order)), c))
    if with_empty:
        topography = (
            (source.get("topography") or {}).get("code")
            if isinstance(source, Mapping)
            else source.topography_code
        )
        site = biomarkers.markers_for(biomarkers.site_for_topography(topography))
        codes = [m.code for m in site] + [c for c in codes if c not in {m.code for m in site}]
    return [
        (
            biomarkers.BY_CODE[code].label if code in biomarkers.BY_CODE else code,
            biomarker_text(code, stored.get(code)),
        )
        for code in codes
    ]


def register_template_helpers(app) -> None:
    app.jinja_env.globals.update(tnm_text=tnm_text, biomarker_rows=biomarker_rows)


def _date(value) -> str:
    return format_date(value) if value is not None else ""


def _text(value) -> str:
    return "" if value is None else str(value)


# Stored value -> form data, for the conflict notes (core/conflict.py).
ADAPT = {
    "relapse_date": _date,
    "surgery_date": _date,
    "pathology_date": _date,
    "molecular_date": _date,
    "patient_informed_on": _date,
    "g8_score": _text,
}


def _tumour_data(tumour: Tumour) -> dict:
    data = {
        "diagnosis_date": _date(tumour.diagnosis_date),
        "topography_code": tumour.topography_code or "",
        "morphology_code": tumour.morphology_code or "",
        "laterality_code": tumour.laterality_code or "",
        "tnm_edition": tumour.tnm_edition or "",
        "comment": tumour.comment,
        "staging_rows": [
            {"system": s.system, "system_version": s.system_version, "value": s.value}
            for s in tumour.stagings
        ]
        or [{}],
    }
    for axis in ("t", "n", "m"):
        data[f"clinical_{axis}"] = getattr(tumour, f"clinical_{axis}") or ""
        data[f"pathological_{axis}"] = getattr(tumour, f"pathological_{axis}") or ""
    values = tumour.biomarker_values
    for marker in biomarkers.MARKERS:
        data[marker.field_name] = values.get(marker.code, "")
    return data


def form_data(case: Case | None, *, rcp=None, user=None, session=None) -> dict:
    """Initial data of the case form: the stored case, or a new case's defaults."""
    if case is None:
        return {
            "session_id": str(session.id) if session is not None else "",
            "requester_id": str(user.professional_id or ""),
            "nature": rcp.nature,
            "appareil_code": rcp.appareil_code or "",
            "theme_code": rcp.theme_code or "",
            "motive_recourse": rcp.is_recourse,
            "motive_paediatric": rcp.is_paediatric,
            "tumour_rows": [{}] if rcp.nature == "organ" else [],
            "treatment_rows": [{}],
        }
    data = {name: getattr(case, name) for name in SCALARS}
    for name, adapt in ADAPT.items():
        data[name] = adapt(data[name])
    data["performance_status"] = _text(case.performance_status)
    data["session_id"] = _text(case.session_id)
    data["requester_id"] = _text(case.requester_id)
    data["gp"] = "unknown" if case.gp_unknown else _text(case.gp_id)
    data["correspondent_ids"] = [str(p.id) for p in case.correspondents]
    data["tumour_rows"] = [_tumour_data(t) for t in case.tumours] or [{}]
    data["treatment_rows"] = [
        {
            "type_code": t.type_code,
            "status": t.status,
            "treatment_date": _date(t.treatment_date),
            "comment": t.comment,
        }
        for t in case.treatments
    ] or [{}]
    for name in ("appareil_code", "organ_code", "theme_code", "phase_code"):
        data[name] = data[name] or ""
    data["discovery_screening"] = data["discovery_screening"] or ""
    return data


def stage_notes(tumour: Tumour) -> list[str]:
    """Why no stage group is shown although TNM values are (the staging module's words)."""
    from ..staging import SITES, stage

    if tumour.stage_group or not tumour.tnm_edition:
        return []
    site = biomarkers.site_for_topography(tumour.topography_code)
    if site not in SITES:
        return []
    factors = biomarkers.staging_factors(site, tumour.biomarker_values)
    notes = []
    for t, n, m in (
        (tumour.pathological_t, tumour.pathological_n, tumour.pathological_m or tumour.clinical_m),
        (tumour.clinical_t, tumour.clinical_n, tumour.clinical_m),
    ):
        if t and n and m:
            notes.extend(stage(site, tumour.tnm_edition, t, n, m, **factors).problems)
            break
    return notes


AUDIT_ACTIONS = {
    "case.create": "Création du dossier",
    "case.update": "Modification",
    "case.submit": "Soumission à la RCP",
    "case.withdraw": "Retrait",
    "attachment.upload": "Ajout d'une pièce jointe",
    "attachment.download": "Téléchargement d'une pièce jointe",
    "attachment.integrity_failed": "Pièce jointe endommagée ou introuvable (non transmise)",
    "attachment.withdraw": "Retrait d'une pièce jointe",
}
_EXTRA_LABELS = {
    "session_id": "Séance",
    "requester_id": "Médecin demandeur",
    "gp_id": "Médecin traitant",
    "gp_unknown": "Médecin traitant inconnu",
    "correspondents": "Correspondants",
    "tumours": "Tumeurs",
    "treatments": "Traitements",
}


def field_labels() -> dict[str, str]:
    """Form field name -> French label, for the case's history."""
    from .forms import CaseForm

    form_labels = {
        name: unbound.args[0]
        for name, unbound in vars(CaseForm).items()
        if hasattr(unbound, "field_class") and unbound.args
    }
    return {**form_labels, **_EXTRA_LABELS}


def audit_summary(entry, labels: dict[str, str]) -> str:
    details = entry.details_dict()
    if entry.action == "case.update":
        return ", ".join(labels.get(f, f) for f in details.get("fields", []))
    if entry.action == "case.submit":
        return "hors délai" if details.get("late") else "dans les délais"
    if entry.action == "case.withdraw":
        return details.get("reason", "")
    if entry.action == "attachment.withdraw":
        return details.get("reason", "")
    if entry.action.startswith("attachment."):
        return details.get("name", "")
    return ""
