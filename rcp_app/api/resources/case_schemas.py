"""The pydantic models of /api/v1/cases: the JSON types of the FRCP data set (the OpenAPI
schemas); the rules themselves are the case form's (case_form.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, create_model
from spectree.model_adapter.pydantic_adapter import BaseFile

from ...cases.models import ATTACHMENT_KINDS
from ...cases.status import STATUS_LABELS
from ...cases.validation import LINES, TEXTS
from ...core.converters import MAX_ID
from ...staging import EDITIONS, biomarkers
from .case_form import MARKER_PREFIX

# --- models ----------------------------------------------------------------------------------

IsoDate = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
    Field(json_schema_extra={"format": "date"}),
]
Rpps = Annotated[str, StringConstraints(pattern=r"^[0-9]{11}$")]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
CaseStatus = Literal[tuple(STATUS_LABELS)]  # type: ignore[valid-type]
_STRICT = ConfigDict(extra="forbid", strict=True)
_TEXT_LABELS = {name: (label, limit) for name, label, limit in (*TEXTS, *LINES)}


def _text(name: str):
    label, limit = _TEXT_LABELS[name]
    return Field(None, description=f"{label} ({limit} caractères au plus)")


class StagingIn(BaseModel):
    """Une autre classification de la tumeur (FIGO, Ann Arbor, ISS, Binet…)."""

    model_config = _STRICT

    system: str | None = Field(None, description="Classification")
    system_version: str | None = Field(None, description="Version")
    value: str | None = Field(None, description="Stade dans cette classification")


def _marker_field(marker: biomarkers.Marker):
    if marker.kind == "choice":
        allowed = ", ".join(f"« {choice} »" for choice in marker.choices)
        return Field(None, description=f"{marker.full_label} : {allowed}")
    unit = f" ({marker.unit})" if marker.unit else ""
    return Field(None, description=f"{marker.full_label}{unit}, nombre écrit en texte")


# One optional text per marker of the registry, as the form has one field per marker.
Biomarkers = create_model(
    "Biomarkers",
    __config__=_STRICT,
    __doc__="Données propres au site de la tumeur (texte, comme saisi dans le formulaire).",
    **{
        marker.field_name.removeprefix(MARKER_PREFIX): (str | None, _marker_field(marker))
        for marker in biomarkers.MARKERS
    },
)


class TumourIn(BaseModel):
    model_config = _STRICT

    diagnosis_date: IsoDate | None = Field(None, description="Date du diagnostic")
    topography_code: str | None = Field(None, description="Topographie CIM-10 (C50.4)")
    morphology_code: str | None = Field(None, description="Morphologie CIM-O-3 (8500/3)")
    laterality_code: str | None = Field(None, description="Latéralité (code SNOMED CT)")
    tnm_edition: str | None = Field(
        None, description="Édition TNM : " + ", ".join(EDITIONS) + " (obligatoire avec un TNM)"
    )
    clinical_t: str | None = Field(None, description="cT (« T2 », « cT2a »)")
    clinical_n: str | None = Field(None, description="cN")
    clinical_m: str | None = Field(None, description="cM")
    pathological_t: str | None = Field(None, description="pT (« pT2 », « ypT1 »)")
    pathological_n: str | None = Field(None, description="pN (« pN0(i+) »)")
    pathological_m: str | None = Field(None, description="pM")
    comment: str | None = Field(None, description="Commentaire (4000 caractères au plus)")
    stagings: list[StagingIn] = Field(default_factory=list)
    biomarkers: Biomarkers = Field(default_factory=Biomarkers)  # type: ignore[valid-type]


class TreatmentIn(BaseModel):
    model_config = _STRICT

    type_code: str | None = Field(None, description="Type de traitement (JDV_TypeTraitement)")
    status: str | None = Field(None, description="done, ongoing ou not_done")
    treatment_date: IsoDate | None = None
    comment: str | None = Field(None, description="Commentaire (4000 caractères au plus)")


class CaseData(BaseModel):
    """Le jeu de données FRCP du dossier, sous les noms du formulaire."""

    model_config = _STRICT

    session_id: Id | None = Field(
        None, description="Séance (obligatoire quand la RCP a des séances planifiées)"
    )
    requester_id: Id | None = Field(None, description="Médecin demandeur (id de l'annuaire)")
    requester_rpps: Rpps | None = Field(None, description="… ou son RPPS")
    motive_diagnostic: bool = Field(False, description="Motif : avis diagnostique")
    motive_treatment: bool = Field(False, description="Motif : proposition thérapeutique")
    motive_recourse: bool = Field(False, description="Motif : recours")
    motive_paediatric: bool = Field(False, description="Motif : pédiatrie")
    nature: str | None = Field(
        None, description="organ ou transversal (par défaut : celle de la RCP)"
    )
    appareil_code: str | None = Field(None, description="Appareil (discussion d'organe)")
    organ_code: str | None = Field(None, description="Organe, de cet appareil")
    theme_code: str | None = Field(None, description="Thème (discussion transversale)")
    phase_code: str | None = Field(None, description="Phase de la maladie")
    relapse_date: IsoDate | None = Field(None, description="Date de la rechute")
    progression_local: bool = False
    progression_regional: bool = False
    progression_distant: bool = False
    discovery_screening: str | None = Field(
        None, description="Découverte par dépistage : yes, no ou unknown"
    )
    performance_status: int | None = Field(None, description="Indice OMS, 0 à 4")
    g8_score: int | None = Field(None, description="Score G8, 0 à 17")
    comorbidities: str | None = _text("comorbidities")
    medical_history: str | None = _text("medical_history")
    exam_results: str | None = _text("exam_results")
    surgery_conclusion: str | None = _text("surgery_conclusion")
    surgery_author: str | None = _text("surgery_author")
    surgery_date: IsoDate | None = None
    pathology_conclusion: str | None = _text("pathology_conclusion")
    pathologist_name: str | None = _text("pathologist_name")
    pathology_date: IsoDate | None = None
    molecular_conclusion: str | None = _text("molecular_conclusion")
    molecular_author: str | None = _text("molecular_author")
    molecular_date: IsoDate | None = None
    synthesis: str | None = _text("synthesis")
    question: str | None = _text("question")
    gp_id: Id | None = Field(None, description="Médecin traitant (médecin généraliste)")
    gp_rpps: Rpps | None = Field(None, description="… ou son RPPS")
    gp_unknown: bool = Field(False, description="Pas de médecin traitant connu")
    correspondent_ids: list[Id] = Field(default_factory=list, description="Correspondants")
    correspondent_rpps: list[Rpps] = Field(default_factory=list, description="… ou leurs RPPS")
    patient_informed_on: IsoDate | None = None
    patient_informed_by: str | None = _text("patient_informed_by")
    patient_non_opposition: bool = Field(
        False, description="Le patient ne s'oppose pas à la présentation de son dossier en RCP"
    )
    patient_sharing_objection: bool = Field(
        False, description="Le patient s'oppose au partage au-delà de l'équipe qui le soigne"
    )
    tumours: list[TumourIn] = Field(default_factory=list)
    treatments: list[TreatmentIn] = Field(default_factory=list)


class CaseChange(CaseData):
    """Remplacement complet des données d'un dossier modifiable (If-Match obligatoire)."""

    submit: bool = Field(False, description="Soumettre à la RCP après l'enregistrement")


class CaseIn(CaseChange):
    """Un nouveau dossier : en brouillon, ou soumis d'emblée (``submit``)."""

    patient_id: Id = Field(description="Patient de l'établissement (POST /api/v1/patients)")
    rcp_id: Id = Field(description="RCP de l'établissement")


class TumourOut(TumourIn):
    stage_group: str | None = Field(description="Stade calculé (lecture seule)")
    stage_edition: str | None
    stage_basis: Literal["clinical", "pathological"] | None


class CaseSession(BaseModel):
    id: int
    starts_at: datetime = Field(description="Début (UTC)")
    deadline_at: datetime = Field(description="Date limite d'inscription (UTC)")
    status: str


class AttachmentOut(BaseModel):
    id: int
    case_id: int
    kind: Literal[tuple(ATTACHMENT_KINDS)]  # type: ignore[valid-type]
    original_name: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


class CaseOut(CaseData):
    id: int
    patient_id: int
    # As the directory stores them (an older entry need not follow today's RPPS format).
    requester_rpps: str
    gp_rpps: str | None
    correspondent_rpps: list[str]
    rcp_id: int
    status: CaseStatus
    status_label: str
    version: int = Field(description="Version (l'ETag la porte ; If-Match pour modifier)")
    session: CaseSession | None
    tumours: list[TumourOut]
    attachments: list[AttachmentOut]
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    is_late: bool = Field(description="Soumis après la date limite d'inscription")
    withdrawn_at: datetime | None
    href: str


class CaseList(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None
    next: str | None


class CaseQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: int | None = Field(None, ge=1, le=MAX_ID)
    rcp_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: CaseStatus | None = None
    cursor: str | None = Field(None, max_length=100)
    limit: int | None = Field(None, ge=1, le=200)


# Whatever a multipart part holds, the view checks it (with the form's messages): a refusal
# by the model would echo an uploaded file into spectree's error list, which is not JSON.
AnyPart = Annotated[object, WithJsonSchema({"type": "string"})]


class AttachmentUpload(BaseModel):
    """multipart/form-data : le document et son type."""

    model_config = ConfigDict(json_schema_extra={"required": ["kind", "file"]})

    kind: AnyPart = Field(None, description="pathology, imaging, letter ou other")
    file: BaseFile = Field(None, description="Le document, un PDF (20 Mo au plus par défaut)")


class CaseProposal(BaseModel):
    rank: int = Field(description="1 : proposition de première ligne ; 2, 3… : alternatives")
    code: str = Field(description="Type de traitement (JDV_TypeTraitement_FRCP)")


class CaseFiche(BaseModel):
    id: int
    version: int = Field(description="Version en vigueur de la fiche signée")
    href: str


class CaseDecision(BaseModel):
    case_id: int
    case_status: CaseStatus
    status: Literal["none", "draft", "ready_for_validation", "validated"] = Field(
        description="none : le dossier n'a pas (encore) été discuté"
    )
    outcome: Literal["discussed", "registered", "postponed"] | None
    proposals: list[CaseProposal]
    fiche: CaseFiche | None = Field(description="La fiche RCP signée, une fois validée")
    decision_href: str | None


# --- reading ---------------------------------------------------------------------------------
