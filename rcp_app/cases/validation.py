"""Checks every value of the case form and returns clean values, or all the problems at once.

``validate(data, context)`` takes the form's data (plain values, the tumour and treatment rows
as lists of dicts) and returns a dict of clean values; problems are collected field by field
(keys are the form's field names, e.g. ``tumour_rows-0-diagnosis_date``) and raised together
as ``CaseInvalid`` so that each message appears next to its field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from ..core.converters import parse_id
from ..core.errors import DomainError
from ..directory.models import Professional, Rcp
from ..extensions import db
from ..meetings.models import MeetingSession
from ..patients.models import Patient
from ..staging import EDITIONS, biomarkers
from ..terminology import builtin as vs
from ..terminology.models import Concept
from . import values
from .models import DISCOVERY, TREATMENT_STATUSES, Case

GP_SPECIALTY = "G15_10/SM26"
NATURES = {"organ": "RCP d'organe", "transversal": "RCP transversale"}
LONG_TEXT = 20_000
SHORT_TEXT = 200

# (form field, label, max length) of the free texts of the case.
TEXTS = (
    ("comorbidities", "Comorbidités", LONG_TEXT),
    ("medical_history", "Antécédents", LONG_TEXT),
    ("exam_results", "Résultats d'examens", LONG_TEXT),
    ("surgery_conclusion", "Conclusion du compte rendu opératoire", LONG_TEXT),
    ("pathology_conclusion", "Conclusion du compte rendu d'anatomopathologie", LONG_TEXT),
    ("molecular_conclusion", "Conclusion du compte rendu de biologie moléculaire", LONG_TEXT),
    ("synthesis", "Synthèse du dossier", LONG_TEXT),
    ("question", "Question posée", LONG_TEXT),
)
LINES = (
    ("surgery_author", "Auteur du compte rendu opératoire", SHORT_TEXT),
    ("pathologist_name", "Nom du pathologiste", SHORT_TEXT),
    ("molecular_author", "Auteur du compte rendu de biologie moléculaire", SHORT_TEXT),
    ("patient_informed_by", "Patient informé par", SHORT_TEXT),
)
DATES = (
    ("relapse_date", "La date de rechute"),
    ("surgery_date", "La date du compte rendu opératoire"),
    ("pathology_date", "La date du compte rendu d'anatomopathologie"),
    ("molecular_date", "La date du compte rendu de biologie moléculaire"),
    ("patient_informed_on", "La date d'information du patient"),
)
FLAGS = (
    "motive_diagnostic",
    "motive_treatment",
    "motive_recourse",
    "motive_paediatric",
    "progression_local",
    "progression_regional",
    "progression_distant",
    "patient_non_opposition",
    "patient_sharing_objection",
)
TUMOUR_TEXT_FIELDS = (
    "diagnosis_date",
    "topography_code",
    "morphology_code",
    "laterality_code",
    "clinical_t",
    "clinical_n",
    "clinical_m",
    "pathological_t",
    "pathological_n",
    "pathological_m",
    "comment",
)


class CaseInvalid(DomainError):
    """Several field problems at once: ``errors`` maps a form field name to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        first = next(iter(errors.values()))[0]
        super().__init__(first)
        self.errors = errors


@dataclass
class Context:
    rcp: Rcp
    patient: Patient
    now: datetime
    case: Case | None = None  # the stored case when editing


@dataclass
class _Errors:
    by_field: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, []).append(message)

    def run(self, name: str, parse, *args, **kwargs):
        try:
            return parse(*args, **kwargs)
        except ValueError as error:
            self.add(name, str(error))
            return None


@dataclass
class _CodeCheck:
    value_set: str
    code: str
    field: str
    message: str
    current: str | None


def _known_codes(checks: list[_CodeCheck]) -> dict[tuple[str, str], Concept]:
    """The concepts named by the checks, in one query per value set."""
    by_set: dict[str, set[str]] = {}
    for check in checks:
        by_set.setdefault(check.value_set, set()).add(check.code)
    found = {}
    for value_set, codes in by_set.items():
        for concept in db.session.scalars(
            select(Concept).where(Concept.value_set == value_set, Concept.code.in_(codes))
        ):
            found[(value_set, concept.code)] = concept
    return found


def _check_codes(checks: list[_CodeCheck], errors: _Errors) -> dict[tuple[str, str], Concept]:
    """A code must be an active concept of its value set, or the value already stored."""
    found = _known_codes(checks)
    for check in checks:
        concept = found.get((check.value_set, check.code))
        if concept is None or (concept.retired_at is not None and check.code != check.current):
            errors.add(check.field, check.message)
    return found


def _current(context: Context, name: str):
    return getattr(context.case, name) if context.case is not None else None


def _session(data: dict, context: Context, errors: _Errors) -> MeetingSession | None:
    raw = str(data.get("session_id") or "").strip()
    current = context.case.session if context.case is not None else None
    if not raw:
        has_sessions = db.session.scalar(
            select(MeetingSession.id)
            .where(
                MeetingSession.rcp_id == context.rcp.id,
                MeetingSession.status == "planned",
                MeetingSession.starts_at > context.now,
            )
            .limit(1)
        )
        if has_sessions:
            errors.add("session_id", "Choisissez la séance à laquelle présenter le dossier.")
        return None
    session_id = parse_id(raw)
    session = db.session.get(MeetingSession, session_id) if session_id is not None else None
    if session is None or session.rcp_id != context.rcp.id:
        errors.add("session_id", "Séance inconnue pour cette RCP : choisissez-la dans la liste.")
        return None
    if session is current and context.case.status != "draft":
        return session  # unchanged; the freeze is checked by the operation
    if session.agenda_frozen:
        errors.add(
            "session_id",
            f"L'ordre du jour de la séance du {session.starts_at:%d/%m/%Y} est déjà publié : "
            "choisissez une séance suivante.",
        )
    elif session.starts_at <= context.now:
        errors.add("session_id", "Cette séance a déjà commencé : choisissez une séance à venir.")
    return session


def _professional(raw, context_current: int | None, errors: _Errors, name: str, message: str):
    if not str(raw or "").strip():
        return None
    pro_id = parse_id(raw)
    pro = db.session.get(Professional, pro_id) if pro_id is not None else None
    if pro is None or not (pro.active or pro.id == context_current):
        errors.add(name, message)
        return None
    return pro


def _people(data: dict, context: Context, errors: _Errors, clean: dict) -> None:
    requester = _professional(
        data.get("requester_id"),
        _current(context, "requester_id"),
        errors,
        "requester_id",
        "Médecin demandeur inconnu ou inactif : choisissez-le dans l'annuaire.",
    )
    if requester is None and "requester_id" not in errors.by_field:
        errors.add("requester_id", "Choisissez le médecin demandeur (qui présente le dossier).")
    clean["requester"] = requester

    gp_raw = str(data.get("gp") or "").strip()
    clean["gp_id"], clean["gp_unknown"] = None, False
    if gp_raw == "unknown":
        clean["gp_unknown"] = True
    elif gp_raw:
        gp = _professional(
            gp_raw,
            _current(context, "gp_id"),
            errors,
            "gp",
            "Médecin traitant inconnu ou inactif : choisissez-le dans l'annuaire, ou « inconnu ».",
        )
        if (
            gp is not None
            and gp.specialty_code != GP_SPECIALTY
            and gp.id != _current(context, "gp_id")
        ):
            errors.add(
                "gp",
                f"{gp.display_name} n'est pas médecin généraliste : choisissez le médecin "
                "traitant parmi les médecins généralistes de l'annuaire.",
            )
        clean["gp_id"] = gp.id if gp is not None else None

    current_ids = {p.id for p in context.case.correspondents} if context.case else set()
    correspondents = []
    for raw in data.get("correspondent_ids") or []:
        pro = _professional(
            raw,
            None,
            errors,
            "correspondent_ids",
            "Correspondant inconnu ou inactif : choisissez-le dans l'annuaire.",
        )
        if pro is None and parse_id(raw) in current_ids:
            pro = db.session.get(Professional, parse_id(raw))
            errors.by_field.pop("correspondent_ids", None)
        if pro is not None and pro not in correspondents:
            correspondents.append(pro)
    clean["correspondents"] = correspondents


def _nature(data: dict, context: Context, errors: _Errors, codes: list[_CodeCheck]) -> dict:
    nature = data.get("nature") or context.rcp.nature
    appareil = values.code(data.get("appareil_code"))
    organ = values.code(data.get("organ_code"))
    theme = values.code(data.get("theme_code"))
    if nature not in NATURES:
        errors.add("nature", "Choisissez la nature de la discussion : organe ou transversale.")
    elif nature == "organ":
        if appareil is None:
            errors.add("appareil_code", "Précisez l'appareil concerné.")
        if theme is not None:
            errors.add("theme_code", "Une discussion d'organe n'a pas de thème transversal.")
            theme = None
    else:
        if theme is None:
            errors.add("theme_code", "Précisez le thème de la discussion transversale.")
        if appareil is not None or organ is not None:
            errors.add(
                "appareil_code",
                "Une discussion transversale n'a ni appareil ni organe : laissez-les vides.",
            )
            appareil = organ = None
    for value_set, value, name, message in (
        (vs.APPAREIL, appareil, "appareil_code", "Appareil inconnu : choisissez-le dans la liste."),
        (vs.ORGAN, organ, "organ_code", "Organe inconnu : choisissez-le dans la liste."),
        (vs.TRANSVERSAL_THEME, theme, "theme_code", "Thème inconnu : choisissez-le dans la liste."),
    ):
        if value:
            codes.append(_CodeCheck(value_set, value, name, message, _current(context, name)))
    return {"nature": nature, "appareil_code": appareil, "organ_code": organ, "theme_code": theme}


def _clinical(data: dict, context: Context, errors: _Errors, codes: list[_CodeCheck]) -> dict:
    clean: dict = {name: bool(data.get(name)) for name in FLAGS}
    for name, label, limit in TEXTS:
        clean[name] = errors.run(name, values.text, data.get(name), label, limit) or ""
    for name, label, limit in LINES:
        clean[name] = errors.run(name, values.line, data.get(name), label, limit) or ""
    for name, label in DATES:
        clean[name] = errors.run(name, values.parse_date, data.get(name), label)
    phase = values.code(data.get("phase_code"))
    if phase:
        codes.append(
            _CodeCheck(
                vs.PHASE, phase, "phase_code", "Phase inconnue.", _current(context, "phase_code")
            )
        )
    clean["phase_code"] = phase
    if (
        phase == vs.PHASE_RELAPSE
        and clean["relapse_date"] is None
        and "relapse_date" not in errors.by_field
    ):
        errors.add("relapse_date", "Précisez la date de la rechute.")
    if phase != vs.PHASE_RELAPSE and clean["relapse_date"] is not None:
        errors.add(
            "relapse_date",
            "La date de rechute ne concerne qu'une rechute : choisissez la phase « Rechute » "
            "ou videz la date.",
        )
    discovery = (data.get("discovery_screening") or "").strip() or None
    if discovery is not None and discovery not in DISCOVERY:
        errors.add(
            "discovery_screening", "Découverte par dépistage : répondez oui, non ou inconnu."
        )
        discovery = None
    clean["discovery_screening"] = discovery
    clean["performance_status"] = errors.run(
        "performance_status",
        values.parse_int,
        data.get("performance_status"),
        0,
        4,
        "L'indice de performance OMS est compris entre 0 et 4.",
    )
    clean["g8_score"] = errors.run(
        "g8_score",
        values.parse_int,
        data.get("g8_score"),
        0,
        17,
        "Le score G8 est un nombre entier compris entre 0 et 17.",
    )
    return clean


def _tnm(row: dict, prefix: str, site: str | None, edition: str | None, errors: _Errors) -> dict:
    """T, N, M as typed ("pT2", "2a", "pN0(i+)"), checked against the site's categories and
    stored with their prefix (c or p by default) and descriptors: "cT2a", "pN0(i+)"."""
    from ..staging import SITES, categories, refusal
    from ..staging.normalize import parse_category

    allowed = categories(site, edition) if site in SITES and edition else None
    clean = {}
    for kind, kind_label, default_prefix in (
        ("clinical", "clinique", "c"),
        ("pathological", "pathologique", "p"),
    ):
        for axis in "TNM":
            name = f"{kind}_{axis.lower()}"
            parsed = parse_category(axis, row.get(name))
            value = None
            if parsed is not None and parsed.error:
                errors.add(f"{prefix}{name}", f"{axis} {kind_label} : {parsed.error}.")
            elif parsed is not None:
                given_prefix = parsed.prefix or default_prefix
                refused = refusal(site, edition, given_prefix, parsed.value) if allowed else None
                if allowed is not None and parsed.value not in allowed[axis]:
                    errors.add(
                        f"{prefix}{name}",
                        f"{axis} {kind_label} « {parsed.value} » impossible pour le site "
                        f"« {biomarkers.SITE_LABELS[site].lower()} » ({EDITIONS[edition]}) ; "
                        "valeurs admises : " + ", ".join(allowed[axis]) + ".",
                    )
                elif refused:
                    errors.add(f"{prefix}{name}", f"{axis} {kind_label} : {refused}.")
                else:
                    value = (
                        given_prefix + parsed.value + "".join(f"({d})" for d in parsed.descriptors)
                    )[:16]
            clean[name] = value
    return clean


def _stage(clean: dict, site: str | None, factors: dict) -> tuple:
    """(group, edition, basis) by the staging rule (``staging.preview.stage_attempts``: pTNM
    first, then cTNM); None when not computable."""
    from ..staging import SITES, stage
    from ..staging.preview import stage_attempts

    edition = clean["tnm_edition"]
    if site not in SITES or not edition:
        return None, None, None
    clinical = {axis: clean[f"clinical_{axis}"] for axis in "tnm"}
    pathological = {axis: clean[f"pathological_{axis}"] for axis in "tnm"}
    for basis, tnm in stage_attempts(clinical, pathological):
        result = stage(site, edition, *tnm, **factors)
        if result.group:
            return result.group, edition, basis
    return None, None, None


def _blank(row: dict, keys) -> bool:
    return not any(str(row.get(k) or "").strip() for k in keys)


def _tumour(row: dict, index: int, context: Context, errors: _Errors, codes) -> dict | None:
    prefix = f"tumour_rows-{index}-"
    marker_fields = [m.field_name for m in biomarkers.MARKERS]
    staging_rows = [
        (i, s)
        for i, s in enumerate(row.get("staging_rows") or [])
        if not s.get("remove") and not _blank(s, ("system", "system_version", "value"))
    ]
    if row.get("remove") or (
        _blank(row, (*TUMOUR_TEXT_FIELDS, *marker_fields)) and not staging_rows
    ):
        return None
    clean = {
        "diagnosis_date": errors.run(
            f"{prefix}diagnosis_date",
            values.parse_date,
            row.get("diagnosis_date"),
            "La date du diagnostic",
        ),
        "topography_code": values.topography_code(row.get("topography_code")),
        "morphology_code": values.morphology_code(row.get("morphology_code")),
        "laterality_code": values.code(row.get("laterality_code")),
        "comment": errors.run(
            f"{prefix}comment", values.text, row.get("comment"), "Commentaire", 4000
        )
        or "",
    }
    edition = values.code(row.get("tnm_edition"))
    if edition is not None and edition not in EDITIONS:
        errors.add(f"{prefix}tnm_edition", "Édition de la classification TNM inconnue.")
        edition = None
    clean["tnm_edition"] = edition
    for value_set, name, message in (
        (
            vs.TOPOGRAPHY,
            "topography_code",
            "Code de topographie CIM-10 inconnu : choisissez-le dans la liste proposée.",
        ),
        (
            vs.MORPHOLOGY,
            "morphology_code",
            "Code de morphologie CIM-O-3 inconnu : choisissez-le dans la liste proposée.",
        ),
        (vs.LATERALITY, "laterality_code", "Latéralité inconnue."),
    ):
        if clean[name]:
            stored = _stored_tumour_value(context, index, name)
            codes.append(_CodeCheck(value_set, clean[name], prefix + name, message, stored))
    site = biomarkers.site_for_topography(clean["topography_code"])
    clean["site"] = site
    markers: dict[str, str] = {}
    for marker in biomarkers.markers_for(site):
        value = errors.run(
            prefix + marker.field_name, biomarkers.clean_value, marker, row.get(marker.field_name)
        )
        if value is not None:
            markers[marker.code] = value
    for code, message in biomarkers.cross_checks(site, markers).items():
        errors.add(prefix + biomarkers.BY_CODE[code].field_name, message)
    clean["biomarkers"] = markers
    tnm = _tnm(row, prefix, site, edition or "UICC8", errors)
    if any(tnm.values()) and edition is None and f"{prefix}tnm_edition" not in errors.by_field:
        errors.add(f"{prefix}tnm_edition", "Précisez l'édition de la classification TNM.")
    clean.update(tnm)
    clean["stagings"] = []
    for i, staging in staging_rows:
        name = f"{prefix}staging_rows-{i}-"
        system = errors.run(
            name + "system", values.line, staging.get("system"), "Classification", 100
        )
        version = errors.run(
            name + "system_version", values.line, staging.get("system_version"), "Version", 50
        )
        value = errors.run(name + "value", values.line, staging.get("value"), "Stade", 50)
        if not system:
            errors.add(name + "system", "Nommez la classification (par exemple FIGO, Ann Arbor).")
        if not value:
            errors.add(name + "value", "Indiquez le stade dans cette classification.")
        clean["stagings"].append(
            {"system": system, "system_version": version or "", "value": value}
        )
    return clean


def _stored_tumour_value(context: Context, index: int, name: str):
    if context.case is None or index >= len(context.case.tumours):
        return None
    return getattr(context.case.tumours[index], name)


def _treatment(row: dict, index: int, context: Context, errors: _Errors, codes) -> dict | None:
    keys = ("type_code", "treatment_date", "comment")
    if row.get("remove") or _blank(row, keys):
        return None
    prefix = f"treatment_rows-{index}-"
    type_code = values.code(row.get("type_code"))
    if type_code is None:
        errors.add(prefix + "type_code", "Choisissez le type de traitement.")
    else:
        stored = None
        if context.case is not None and index < len(context.case.treatments):
            stored = context.case.treatments[index].type_code
        codes.append(
            _CodeCheck(
                vs.TREATMENT_TYPE,
                type_code,
                prefix + "type_code",
                "Type de traitement inconnu.",
                stored,
            )
        )
    status = (row.get("status") or "").strip()
    if status not in TREATMENT_STATUSES:
        errors.add(
            prefix + "status", "Précisez si le traitement est réalisé, en cours ou non réalisé."
        )
    when = errors.run(
        prefix + "treatment_date",
        values.parse_date,
        row.get("treatment_date"),
        "La date du traitement",
        past=status in ("done", "ongoing"),
    )
    comment = errors.run(prefix + "comment", values.text, row.get("comment"), "Commentaire", 4000)
    return {
        "type_code": type_code,
        "status": status,
        "treatment_date": when,
        "comment": comment or "",
    }


def validate(data: dict, context: Context) -> dict:
    """Clean values of the whole case, or CaseInvalid with every problem found."""
    errors = _Errors()
    codes: list[_CodeCheck] = []
    clean: dict = {"session": _session(data, context, errors)}
    _people(data, context, errors, clean)
    clean.update(_nature(data, context, errors, codes))
    clean.update(_clinical(data, context, errors, codes))
    tumours = []
    for index, row in enumerate(data.get("tumour_rows") or []):
        tumour = _tumour(row, index, context, errors, codes)
        if tumour is not None:
            tumours.append(tumour)
    treatments = []
    for index, row in enumerate(data.get("treatment_rows") or []):
        treatment = _treatment(row, index, context, errors, codes)
        if treatment is not None:
            treatments.append(treatment)
    found = _check_codes(codes, errors)
    _check_organ_in_appareil(clean, found, errors)
    if errors.by_field:
        raise CaseInvalid(errors.by_field)
    for tumour in tumours:
        factors = biomarkers.staging_factors(tumour["site"], tumour["biomarkers"])
        tumour["stage_group"], tumour["stage_edition"], tumour["stage_basis"] = _stage(
            tumour, tumour["site"], factors
        )
    clean["tumours"] = tumours
    clean["treatments"] = treatments
    return clean


def _check_organ_in_appareil(clean: dict, found: dict, errors: _Errors) -> None:
    organ = found.get((vs.ORGAN, clean.get("organ_code") or ""))
    appareil = clean.get("appareil_code")
    if organ is not None and organ.parent_code and appareil and organ.parent_code != appareil:
        errors.add(
            "organ_code",
            f"L'organe « {organ.label} » ne relève pas de l'appareil choisi : choisissez un "
            "organe de cet appareil.",
        )


def submission_problems(case: Case, g8_required: bool) -> dict[str, list[str]]:
    """What must be present before a case can be submitted (the rest is completeness)."""
    problems: dict[str, list[str]] = {}
    if not (case.question or "").strip():
        problems["question"] = ["La question posée est obligatoire pour soumettre le dossier."]
    if not (case.synthesis or "").strip():
        problems["synthesis"] = ["La synthèse du dossier est obligatoire pour le soumettre."]
    if case.gp_id is None and not case.gp_unknown:
        problems["gp"] = [
            "Indiquez le médecin traitant, ou « inconnu », avant de soumettre le dossier."
        ]
    if g8_required and case.g8_score is None:
        problems["g8_score"] = [
            "Le patient aura 70 ans ou plus le jour de la séance : le score G8 est obligatoire "
            "pour soumettre le dossier."
        ]
    return problems
