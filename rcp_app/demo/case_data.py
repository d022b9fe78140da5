"""Demo cases: a few registered cases, so that the lists, completeness badges, stage groups and
patient timelines show something on a fresh installation.

Each case goes through the cases module's validation and operations (codes, TNM, markers,
stage grouping, duplicate check); the RCPs' upcoming sessions are generated first.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..auth.models import User
from ..cases import operations as case_ops
from ..core.timeutil import PARIS
from ..directory.models import Professional, Rcp
from ..extensions import db
from ..meetings import operations as sessions_ops
from ..patients.models import Patient

GP = "G15_10/SM26"


def _ago(days: int) -> str:
    return (datetime.now(PARIS).date() - timedelta(days=days)).strftime("%d/%m/%Y")


def _tumour(topography: str, morphology: str, diagnosed: int, tnm: dict, markers: dict) -> dict:
    row = {
        "diagnosis_date": _ago(diagnosed),
        "topography_code": topography,
        "morphology_code": morphology,
        "tnm_edition": "UICC8",
        "staging_rows": [],
        **tnm,
    }
    row.update({"bm_" + code.replace(".", "_"): value for code, value in markers.items()})
    return row


# (RCP suffix, patient rule, submit?, form values)
CASES = [
    (
        "SEIN",
        ("F", 40, 69),
        True,
        {
            "motive_treatment": True,
            "organ_code": "76752008",
            "phase_code": "MED-268",
            "discovery_screening": "yes",
            "performance_status": "0",
            "comorbidities": "Aucune.",
            "pathology_conclusion": "Carcinome canalaire infiltrant de grade SBR 2, 22 mm.",
            "pathologist_name": "Dr Joëlle Mercier",
            "pathology_date": _ago(20),
            "synthesis": "Découverte au dépistage organisé d'une lésion ACR5 du sein gauche. "
            "Tumorectomie et ganglion sentinelle : pT2 pN1a.",
            "question": "Indication d'une chimiothérapie adjuvante avant la radiothérapie ?",
            "tumour_rows": [
                _tumour(
                    "C50.4",
                    "8500/3",
                    35,
                    {
                        "clinical_t": "T2",
                        "clinical_n": "N0",
                        "clinical_m": "M0",
                        "pathological_t": "pT2",
                        "pathological_n": "pN1a",
                        "laterality_code": "7771000",
                    },
                    {
                        "breast.er": "90",
                        "breast.pr": "60",
                        "breast.her2": "1+",
                        "breast.ki67": "25",
                        "breast.sbr": "2",
                    },
                )
            ],
            "treatment_rows": [
                {
                    "type_code": "387713003",
                    "status": "done",
                    "treatment_date": _ago(20),
                    "comment": "Tumorectomie et ganglion sentinelle.",
                }
            ],
        },
    ),
    (
        "SEIN",
        ("F", 45, 69),
        False,
        {
            "motive_diagnostic": True,
            "phase_code": "MED-268",
            "synthesis": "Masse du quadrant supéro-interne droit, biopsie en cours d'analyse.",
            "question": "Conduite à tenir diagnostique ?",
            "tumour_rows": [_tumour("C50.2", "8500/3", 10, {"clinical_t": "T1c"}, {})],
        },
    ),
    (
        "DIGESTIF",
        ("M", 50, 69),
        True,
        {
            "motive_treatment": True,
            "organ_code": "MED-251",
            "phase_code": "MED-268",
            "performance_status": "1",
            "pathology_conclusion": "Adénocarcinome lieberkühnien moyennement différencié, "
            "pT3 pN1b (3N+/18), marges saines.",
            "pathologist_name": "Dr Joëlle Mercier",
            "pathology_date": _ago(15),
            "synthesis": "Colectomie gauche pour adénocarcinome du sigmoïde.",
            "question": "Chimiothérapie adjuvante : FOLFOX ou CAPOX, 3 ou 6 mois ?",
            "tumour_rows": [
                _tumour(
                    "C18.7",
                    "8140/3",
                    40,
                    {"pathological_t": "pT3", "pathological_n": "pN1b", "clinical_m": "cM0"},
                    {
                        "colorectal.msi": "MSS / pMMR",
                        "colorectal.ras": "muté",
                        "colorectal.braf": "sauvage",
                    },
                )
            ],
        },
    ),
    (
        "THORAX",
        ("M", 55, 69),
        True,
        {
            "motive_treatment": True,
            "organ_code": "MED-255",
            "phase_code": "MED-268",
            "performance_status": "1",
            "pathology_conclusion": "Adénocarcinome pulmonaire TTF1+.",
            "pathologist_name": "Dr Joëlle Mercier",
            "pathology_date": _ago(12),
            "synthesis": "Nodule lobaire supérieur droit de 35 mm, adénopathie médiastinale "
            "homolatérale en TEP.",
            "question": "Stratégie thérapeutique : radio-chimiothérapie ou chirurgie ?",
            "tumour_rows": [
                _tumour(
                    "C34.1",
                    "8140/3",
                    25,
                    {
                        "clinical_t": "cT2a",
                        "clinical_n": "cN2",
                        "clinical_m": "cM0",
                        "laterality_code": "24028007",
                    },
                    {
                        "lung.egfr": "négatif",
                        "lung.alk": "négatif",
                        "lung.ros1": "non fait",
                        "lung.pdl1": "60",
                    },
                )
            ],
        },
    ),
    (
        "URO",
        ("M", 60, 69),
        True,
        {
            "motive_treatment": True,
            "appareil_code": "90264002",
            "organ_code": "41216001",
            "phase_code": "MED-268",
            "performance_status": "0",
            "synthesis": "PSA à 8,5 ng/mL, biopsies : adénocarcinome Gleason 3 + 4.",
            "question": "Prostatectomie ou radiothérapie ?",
            "tumour_rows": [
                _tumour(
                    "C61",
                    "8140/3",
                    30,
                    {"clinical_t": "cT2a", "clinical_n": "cN0", "clinical_m": "cM0"},
                    {
                        "prostate.psa": "8.5",
                        "prostate.gleason_primary": "3",
                        "prostate.gleason_secondary": "4",
                        "prostate.isup": "2",
                    },
                )
            ],
        },
    ),
    (
        "ONCOGERIATRIE",
        ("F", 78, 95),
        True,
        {
            "motive_treatment": True,
            "phase_code": "MED-244",
            "relapse_date": _ago(30),
            "progression_distant": True,
            "performance_status": "2",
            "g8_score": "11",
            "comorbidities": "Insuffisance cardiaque, diabète de type 2.",
            "synthesis": "Rechute métastatique osseuse d'un cancer du sein traité en 2015.",
            "question": "Une hormonothérapie seule est-elle raisonnable compte tenu du terrain ?",
        },
    ),
]


# A patient who objects to sharing beyond the team treating her: the thoracic RCP's members do
# not see her through this case (rcp_app/access), and the agenda says so.
CASES.append(
    (
        "THORAX",
        ("F", 55, 68),
        True,
        {
            **CASES[3][3],
            "synthesis": "Nodule lobaire supérieur droit de 28 mm découvert sur un scanner de "
            "suivi, adénopathie médiastinale en TEP.",
            "question": "Confirmation histologique de l'adénopathie avant traitement ?",
            "patient_sharing_objection": True,
        },
    )
)

# The one case of the small RCP ORL, registered by Dr Le Bihan (the demo's physician outside
# the other teams): his own patient, the only one he sees.
OUTSIDE_CASE = (
    "ORL",
    ("M", 55, 68),
    True,
    {
        "motive_treatment": True,
        "organ_code": "4596009",
        "phase_code": "MED-268",
        "performance_status": "1",
        "comorbidities": "Tabagisme sevré (40 paquets-années).",
        "synthesis": "Dysphonie depuis trois mois ; laryngoscopie : lésion bourgeonnante de la "
        "corde vocale gauche, biopsie : carcinome épidermoïde.",
        "question": "Radiothérapie exclusive ou laryngectomie partielle ?",
        "tumour_rows": [
            _tumour(
                "C32",
                "8070/3",
                21,
                {"clinical_t": "cT2", "clinical_n": "cN0", "clinical_m": "cM0"},
                {},
            )
        ],
    },
)


def _pick_patient(patients: list[Patient], sex: str, low: int, high: int, used: set[int]):
    today = date.today()
    for patient in patients:
        age = today.year - patient.birth_date.year
        if patient.id not in used and patient.sex == sex and low <= age <= high:
            used.add(patient.id)
            return patient
    raise LookupError(f"no demo patient {sex} aged {low}-{high}")


def add_demo_cases(
    patients: list[Patient], rcps: list[Rcp], author: User, outsider: User | None = None
) -> dict[str, int]:
    """Generate the RCPs' next sessions and register the demo cases (``author``'s, and the ORL
    one by ``outsider``, who also registered that patient); returns the counts."""
    sessions = sum(len(sessions_ops.ensure_upcoming_sessions(rcp)) for rcp in rcps)
    by_suffix = {rcp.national_id.rsplit("-", 1)[-1]: rcp for rcp in rcps}
    gps = db.session.scalars(
        select(Professional).where(Professional.specialty_code == GP).order_by(Professional.id)
    ).all()
    used: set[int] = set()
    count = 0
    specs = [(spec, author) for spec in CASES]
    if outsider is not None:
        specs.append((OUTSIDE_CASE, outsider))
    for index, ((suffix, (sex, low, high), submit, values), by) in enumerate(specs):
        rcp = by_suffix[suffix]
        patient = _pick_patient(patients, sex, low, high, used)
        if by is not author:
            patient.created_by_id = by.id
        session = sessions_ops.default_session(rcp.id)
        data = {
            "session_id": str(session.id) if session else "",
            "requester_id": str(by.professional_id),
            "nature": rcp.nature,
            "appareil_code": rcp.appareil_code or "",
            "theme_code": rcp.theme_code or "",
            "gp": str(gps[index % len(gps)].id) if index % 3 else "unknown",
            "patient_informed_on": _ago(7),
            "patient_informed_by": by.professional.display_name,
            "patient_non_opposition": True,
            **values,
        }
        case = case_ops.create_case(patient, rcp, by, data, submit=submit)
        # Not (yet) a field of the case form: set here, before the flush of the load.
        case.patient_sharing_objection = bool(values.get("patient_sharing_objection"))
        count += 1
    return {"séances": sessions, "dossiers RCP": count}
