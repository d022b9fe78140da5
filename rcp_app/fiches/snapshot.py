"""The snapshot of a fiche: every data item the documents show, frozen at validation.

The CDA (cda.py) and the PDF (pdf.py) are generated from this JSON-serialisable dict alone, so
later changes to the patient, the case or the directory never alter a validated fiche. Its
shape is documented, with a complete example, in tests/fiches/samples.py.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import current_app
from sqlalchemy import select

from ..attendance.operations import session_attendances
from ..core.timeutil import to_paris
from ..directory.models import Establishment, Professional, facility_type_coded
from ..extensions import db
from ..staging.biomarkers import BY_CODE
from ..terminology import builtin as vs
from ..terminology.models import Concept, ValueSet

SCHEMA_VERSION = 1
CASE_STATUS_OF_OUTCOME = {"discussed": vs.CASE_DISCUSSED, "registered": vs.CASE_REGISTERED}


def instant(value: datetime) -> str:
    """Naive UTC -> '2026-11-26T18:42:00+01:00' (Paris offset, as documents show it)."""
    return to_paris(value).replace(microsecond=0).isoformat()


def day(value: date | None) -> str | None:
    return value.isoformat() if value else None


class Concepts:
    """Coded values {"code", "system", "label", "display"} looked up once per (value set, code).

    ``label`` is what people read (the PDF); ``display`` is the official value set's
    displayName that documents carry (CDA, XDM): the imported label, or for a built-in value
    set whose labels are shortened, the official one kept beside it.
    """

    def __init__(self):
        self._cache: dict[tuple[str, str], dict | None] = {}
        self._imported: dict[str, bool] = {}

    def _is_imported(self, value_set: str) -> bool:
        if value_set not in self._imported:
            source = db.session.scalar(select(ValueSet.source).where(ValueSet.name == value_set))
            self._imported[value_set] = source == "import"
        return self._imported[value_set]

    def coded(self, value_set: str, code: str | None) -> dict | None:
        if not code:
            return None
        key = (value_set, code)
        if key not in self._cache:
            concept = db.session.scalar(
                select(Concept).where(Concept.value_set == value_set, Concept.code == code)
            )
            if concept is None:
                self._cache[key] = {"code": code, "system": "", "label": code, "display": code}
            else:
                official = vs.OFFICIAL_DISPLAY.get(value_set, {}).get(code)
                display = concept.label if self._is_imported(value_set) else official
                self._cache[key] = {
                    "code": concept.code,
                    "system": concept.code_system,
                    "label": concept.label,
                    "display": display or concept.label,
                }
        return self._cache[key]


def _establishment(establishment: Establishment | None) -> dict | None:
    if establishment is None:
        return None
    return {"name": establishment.name, "finess": establishment.finess}


def person(professional: Professional | None, concepts: Concepts) -> dict | None:
    if professional is None:
        return None
    return {
        "rpps": professional.rpps,
        "title": professional.title,
        "last_name": professional.last_name,
        "first_name": professional.first_name,
        "specialty": concepts.coded(vs.SPECIALTY, professional.specialty_code),
        "mssante": professional.mssante_address,
        "establishment": _establishment(professional.establishment),
    }


def patient_identity(patient) -> dict:
    return {
        "birth_name": patient.birth_name,
        "birth_first_names": patient.birth_first_names,
        "first_birth_first_name": patient.first_birth_first_name,
        "used_name": patient.used_name,
        "used_first_name": patient.used_first_name,
        "sex": patient.sex,
        "birth_date": day(patient.birth_date),
        "birthplace_code": patient.birthplace_code,
        "identity_status": patient.identity_status,
        # The INS travels only with a qualified identity (identity rules, DOMAIN.md §2).
        "ins": (
            {"matricule": patient.ins_matricule, "oid": patient.ins_oid}
            if patient.is_qualified
            else None
        ),
        "ipp": patient.ipp,
    }


def _report(text: str, author: str, when: date | None) -> dict | None:
    if not (text or "").strip():
        return None
    return {"text": text, "author": author or "", "date": day(when)}


def _tumour(tumour, concepts: Concepts) -> dict:
    stage = None
    if tumour.stage_group:
        stage = {
            "group": tumour.stage_group,
            "edition": tumour.stage_edition,
            "basis": tumour.stage_basis,
        }
    return {
        "rank": tumour.rank,
        "diagnosis_date": day(tumour.diagnosis_date),
        "topography": concepts.coded(vs.TOPOGRAPHY, tumour.topography_code),
        "morphology": concepts.coded(vs.MORPHOLOGY, tumour.morphology_code),
        "laterality": concepts.coded(vs.LATERALITY, tumour.laterality_code),
        "tnm_edition": tumour.tnm_edition,
        "clinical": {"t": tumour.clinical_t, "n": tumour.clinical_n, "m": tumour.clinical_m},
        "pathological": {
            "t": tumour.pathological_t,
            "n": tumour.pathological_n,
            "m": tumour.pathological_m,
        },
        "stage": stage,
        "other_stagings": [
            {"system": s.system, "version": s.system_version, "value": s.value}
            for s in tumour.stagings
        ],
        "biomarkers": [_biomarker(b) for b in tumour.biomarkers],
        "comment": tumour.comment or "",
    }


def _biomarker(row) -> dict:
    marker = BY_CODE.get(row.code)
    label = marker.label if marker else row.code
    value_label = f"{row.value} {marker.unit}".strip() if marker and marker.unit else row.value
    return {"code": row.code, "label": label, "value": row.value, "value_label": value_label}


def _case(case, concepts: Concepts) -> dict:
    ps = case.performance_status
    return {
        "id": case.id,
        "motives": {
            "diagnostic": case.motive_diagnostic,
            "treatment": case.motive_treatment,
            "recourse": case.motive_recourse,
            "paediatric": case.motive_paediatric,
        },
        "organ": concepts.coded(vs.ORGAN, case.organ_code),
        "discovery_screening": case.discovery_screening,
        "phase": concepts.coded(vs.PHASE, case.phase_code),
        "relapse_date": day(case.relapse_date),
        "progression": {
            "local": case.progression_local,
            "regional": case.progression_regional,
            "distant": case.progression_distant,
        },
        "performance_status": (
            None
            if ps is None
            else {
                "value": ps,
                "coded": concepts.coded(vs.PERFORMANCE_STATUS, vs.PERFORMANCE_STATUS_CODES[ps]),
            }
        ),
        "g8_score": case.g8_score,
        "comorbidities": case.comorbidities or "",
        "medical_history": case.medical_history or "",
        "exam_results": case.exam_results or "",
        "surgery": _report(case.surgery_conclusion, case.surgery_author, case.surgery_date),
        "pathology": _report(case.pathology_conclusion, case.pathologist_name, case.pathology_date),
        "molecular": _report(case.molecular_conclusion, case.molecular_author, case.molecular_date),
        "synthesis": case.synthesis,
        "question": case.question,
        "tumours": [_tumour(t, concepts) for t in case.tumours],
        "treatments": [
            {
                "type": concepts.coded(vs.TREATMENT_TYPE, t.type_code),
                "status": t.status,
                "status_label": t.status_label,
                "date": day(t.treatment_date),
                "comment": t.comment or "",
            }
            for t in case.treatments
        ],
    }


def _decision(decision, outcome: str, validated_at: datetime, concepts: Concepts) -> dict:
    guideline = None
    if decision.guideline_name:
        guideline = {
            "name": decision.guideline_name,
            "version": decision.guideline_version or "",
            "date": day(decision.guideline_date),
        }
    trial = None
    if decision.trial_proposed:
        trial = {"name": decision.trial_name, "identifier": decision.trial_identifier}
    return {
        "outcome": outcome,
        "case_status": concepts.coded(vs.CASE_STATUS, CASE_STATUS_OF_OUTCOME[outcome]),
        "proposal": concepts.coded(vs.TREATMENT_TYPE, decision.proposal_code),
        "proposal_details": decision.proposal_details or "",
        "alternatives": [
            {
                "rank": alt.rank,
                "treatment": concepts.coded(vs.TREATMENT_TYPE, alt.treatment_code),
                "details": alt.details or "",
            }
            for alt in decision.alternatives
        ],
        "active_surveillance": decision.active_surveillance,
        "exams_requested": decision.exams_requested or "",
        "recourse_referral": decision.recourse_referral,
        "recourse_rcp": decision.recourse_rcp or "",
        "guideline": guideline,
        "deviation_reason": decision.deviation_reason or "",
        "trial": trial,
        "file_complete": bool(decision.file_complete),
        "quorum": concepts.coded(vs.QUORUM_STATUS, decision.quorum_status),
        "comments": decision.comments or "",
        "validated_at": instant(validated_at),
    }


def _people(case, session, validator: Professional, concepts: Concepts) -> dict:
    attendances = session_attendances(session)
    members = [a.professional for a in attendances if a.quorum_member]
    others = [a.professional for a in attendances if not a.quorum_member]
    present_ids = {a.professional_id for a in attendances}
    requester = person(case.requester, concepts)
    return {
        "author": person(validator, concepts),
        "legal_authenticator": person(validator, concepts),
        "coordinator": person(session.rcp.coordinator, concepts),
        "requester": requester,
        # The referring physician presents the case when attending the session.
        "presenter": requester if case.requester_id in present_ids else None,
        "gp": person(case.gp, concepts),
        "quorum_members": [person(p, concepts) for p in members],
        "other_attendees": [person(p, concepts) for p in others],
        "copy_recipients": [person(p, concepts) for p in case.correspondents],
    }


def build(
    *,
    decision,
    item,
    validator: Professional,
    validated_at: datetime,
    document_id: str,
    set_id: str,
    version: int,
    verification_code: str,
    amendment_reason: str | None = None,
    replaces_id: str | None = None,
) -> dict:
    """The snapshot of a decision being validated (read-only; no audit row)."""
    case, session = item.case, item.session
    rcp = session.rcp
    concepts = Concepts()
    outcome = decision.outcome if decision.outcome in CASE_STATUS_OF_OUTCOME else item.mode
    config = current_app.config
    establishment = rcp.establishment
    return {
        "schema": SCHEMA_VERSION,
        "document": {
            "id": document_id,
            "set_id": set_id,
            "version": version,
            "effective_time": instant(validated_at),
            "title": "Fiche RCP",
            "oid_root": config["RCP_OID_ROOT"],
            "amendment_reason": amendment_reason,
            "replaces_id": replaces_id,
            "verification_code": verification_code,
            "verification_url": verification_url(verification_code),
        },
        "custodian": {
            "name": establishment.name,
            "finess": establishment.finess,
            "city": establishment.city,
            # JDV_J02 category: CDA healthCareFacility code, XDS healthcareFacilityTypeCode.
            "facility_type": facility_type_coded(establishment.facility_type_code),
        },
        "rcp": {
            "name": rcp.name,
            "national_id": rcp.national_id,
            # National identifiers of the encounter (DSRC, RCP manager, RCP); None if unknown.
            "network_id": rcp.network_id,
            "manager_id": rcp.manager_id,
            "registry_id": rcp.registry_id,
            "nature": concepts.coded(
                vs.NATURE, vs.NATURE_ORGAN if rcp.nature == "organ" else vs.NATURE_TRANSVERSAL
            ),
            "appareil": concepts.coded(vs.APPAREIL, rcp.appareil_code),
            "theme": concepts.coded(vs.TRANSVERSAL_THEME, rcp.theme_code),
            "is_recourse": rcp.is_recourse,
            "is_paediatric": rcp.is_paediatric,
            "establishment": _establishment(establishment),
        },
        "session": {
            "id": session.id,
            "starts_at": instant(session.starts_at),
            "place": session.place or "",
        },
        "patient": patient_identity(case.patient),
        "case": _case(case, concepts),
        "people": _people(case, session, validator, concepts),
        "decision": _decision(decision, outcome, validated_at, concepts),
    }


def verification_url(code: str) -> str:
    base = current_app.config["RCP_PUBLIC_URL"].rstrip("/")
    return f"{base}/verifier?code={code}"
