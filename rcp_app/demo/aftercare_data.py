"""What happened after last week's breast RCP session (aftercare.py makes it happen): the cases
added to that session for their follow-up, what the referring physician recorded for each, and
the care programmes (PPS) written for its first two patients.

Everything is invented. Dates are written relative to the fiche's validation day (``days``) or
to the day of loading (``in_days``), so the demo reads the same whatever the day it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from .case_data import _ago, _tumour

BREAST = "76752008"
SURGERY, CHEMOTHERAPY, RADIOTHERAPY = "387713003", "C15632", "C15313"
HORMONOTHERAPY, TARGETED = "C547", "C93352"
RIGHT, LEFT = "24028007", "7771000"
GUIDELINE = {
    "guideline_name": "Référentiel régional cancers du sein",
    "guideline_version": "2025",
}


@dataclass(frozen=True)
class Aftercare:
    """One case of the session and what became of its proposal.

    ``outcome``: the follow-up form's fields as the referring physician fills them (dates are
    filled in by aftercare.py from ``days``), None when nothing is recorded yet. ``overdue``:
    left pending past its due day. ``represent``: the deviation goes back to the RCP."""

    patient: tuple[str, int, int]  # (sex, youngest, oldest), as past_session.PAST_CASES
    case: dict
    decision: dict
    outcome: dict | None = None
    days: int = 0  # the treatment's first day, or the last news, after the validation day
    overdue: bool = False
    represent: bool = False

    @property
    def spec(self) -> tuple:
        return self.patient, self.case, self.decision


def _breast(**values) -> dict:
    return {
        "motive_treatment": True,
        "organ_code": BREAST,
        "phase_code": "MED-268",
        "performance_status": "0",
        "discovery_screening": "no",
        **values,
    }


CASES = [
    Aftercare(
        ("F", 55, 69),
        _breast(
            synthesis="Tumorectomie et ganglion sentinelle du sein gauche : carcinome canalaire "
            "infiltrant de 14 mm, grade SBR 1, ganglion sentinelle indemne, marges saines.",
            question="Traitement adjuvant ?",
            discovery_screening="yes",
            tumour_rows=[
                _tumour(
                    "C50.2",
                    "8500/3",
                    50,
                    {
                        "clinical_t": "T1c",
                        "clinical_n": "N0",
                        "clinical_m": "M0",
                        "pathological_t": "pT1c",
                        "pathological_n": "pN0",
                        "laterality_code": LEFT,
                    },
                    {"breast.er": "90", "breast.pr": "60", "breast.her2": "1+"},
                )
            ],
        ),
        {
            "outcome": "discussed",
            "proposal_code": HORMONOTHERAPY,
            "proposal_details": "Hormonothérapie adjuvante par létrozole pendant 5 ans, "
            "radiothérapie du sein à suivre.",
            **GUIDELINE,
        },
        outcome={"state": "started_as_proposed", "option_rank": "0"},
        days=3,
    ),
    Aftercare(
        ("F", 32, 45),
        _breast(
            synthesis="Nodule palpable de 28 mm du sein droit, adénopathie axillaire envahie à la "
            "cytoponction ; carcinome triple négatif de grade SBR 3. Antécédent de thyroïdite "
            "auto-immune.",
            question="Chimiothérapie néoadjuvante ? Immunothérapie malgré la thyroïdite ?",
            tumour_rows=[
                _tumour(
                    "C50.4",
                    "8500/3",
                    21,
                    {
                        "clinical_t": "T2",
                        "clinical_n": "N1",
                        "clinical_m": "M0",
                        "laterality_code": RIGHT,
                    },
                    {"breast.er": "0", "breast.pr": "0", "breast.her2": "0"},
                )
            ],
        ),
        {
            "outcome": "discussed",
            "proposal_code": CHEMOTHERAPY,
            "proposal_details": "Chimiothérapie néoadjuvante associée au pembrolizumab, puis "
            "chirurgie.",
            "alt_code_1": CHEMOTHERAPY,
            "alt_details_1": "Chimiothérapie néoadjuvante seule si l'endocrinologue contre-indique "
            "l'immunothérapie.",
            "exams_requested": "Avis endocrinologique ; consultation d'oncogénétique.",
            **GUIDELINE,
        },
        # The endocrinologist advised against immunotherapy: the RCP's alternative started.
        outcome={"state": "started_as_proposed", "option_rank": "1"},
        days=4,
    ),
    Aftercare(
        ("F", 45, 60),
        _breast(
            synthesis="Lésion ACR5 de 17 mm du sein droit au dépistage, microbiopsie : carcinome "
            "infiltrant RH positifs. La patiente redoute la radiothérapie.",
            question="Chirurgie conservatrice ?",
            discovery_screening="yes",
            tumour_rows=[
                _tumour(
                    "C50.8",
                    "8500/3",
                    30,
                    {
                        "clinical_t": "T1c",
                        "clinical_n": "N0",
                        "clinical_m": "M0",
                        "laterality_code": RIGHT,
                    },
                    {"breast.er": "80", "breast.pr": "30", "breast.her2": "0"},
                )
            ],
        ),
        {
            "outcome": "discussed",
            "proposal_code": SURGERY,
            "proposal_details": "Tumorectomie droite et ganglion sentinelle, puis radiothérapie.",
            **GUIDELINE,
        },
        outcome={
            "state": "started_other",
            "other_treatment": "Mastectomie totale droite et ganglion sentinelle, avec "
            "reconstruction immédiate.",
            "deviation_reason": "patient_choice",
            "details": "Après la consultation chirurgicale, la patiente a choisi la mastectomie "
            "pour éviter la radiothérapie.",
        },
        days=5,
    ),
    Aftercare(
        ("F", 36, 50),
        _breast(
            synthesis="Masse de 45 mm du sein gauche avec adénopathies axillaires ; carcinome "
            "infiltrant HER2 positif. Douleurs dorsales récentes, TEP-scanner en attente.",
            question="Traitement néoadjuvant ?",
            tumour_rows=[
                _tumour(
                    "C50.4",
                    "8500/3",
                    18,
                    {
                        "clinical_t": "T3",
                        "clinical_n": "N1",
                        "clinical_m": "M0",
                        "laterality_code": LEFT,
                    },
                    {"breast.er": "20", "breast.pr": "0", "breast.her2": "3+"},
                )
            ],
        ),
        {
            "outcome": "discussed",
            "proposal_code": CHEMOTHERAPY,
            "proposal_details": "Chimiothérapie néoadjuvante associée au trastuzumab et au "
            "pertuzumab, puis chirurgie.",
            "alt_code_1": TARGETED,
            "alt_details_1": "Double blocage HER2 poursuivi un an.",
            **GUIDELINE,
        },
        outcome={
            "state": "not_started",
            "deviation_reason": "progression",
            "details": "Le TEP-scanner montre des métastases osseuses multiples : la maladie est "
            "métastatique d'emblée, le traitement est à rediscuter.",
        },
        represent=True,
    ),
    Aftercare(
        ("F", 50, 65),
        _breast(
            synthesis="Carcinome lobulaire infiltrant de 22 mm du sein gauche, sans adénopathie. "
            "Patiente de passage dans la région, domiciliée à l'étranger.",
            question="Chirurgie première ?",
            tumour_rows=[
                _tumour(
                    "C50.2",
                    "8520/3",
                    25,
                    {
                        "clinical_t": "T2",
                        "clinical_n": "N0",
                        "clinical_m": "M0",
                        "laterality_code": LEFT,
                    },
                    {"breast.er": "95", "breast.pr": "80", "breast.her2": "0"},
                )
            ],
        ),
        {
            "outcome": "discussed",
            "proposal_code": SURGERY,
            "proposal_details": "Tumorectomie gauche et ganglion sentinelle.",
            "alt_code_1": HORMONOTHERAPY,
            "alt_details_1": "Hormonothérapie néoadjuvante si la chirurgie est différée.",
            **GUIDELINE,
        },
        outcome={"state": "lost"},
        days=1,
    ),
    Aftercare(
        ("F", 60, 69),
        _breast(
            phase_code="MED-244",
            relapse_date=_ago(21),
            progression_distant=True,
            performance_status="3",
            synthesis="Rechute hépatique et pleurale massive d'un cancer du sein RH positifs "
            "traité il y a 8 ans ; altération rapide de l'état général, ictère.",
            question="Un traitement spécifique est-il encore envisageable ?",
            tumour_rows=[
                _tumour(
                    "C50.4",
                    "8500/3",
                    2920,
                    {
                        "clinical_t": "T2",
                        "clinical_n": "N1",
                        "clinical_m": "M1",
                        "laterality_code": RIGHT,
                    },
                    {"breast.er": "70", "breast.pr": "10", "breast.her2": "1+"},
                )
            ],
        ),
        {
            "outcome": "discussed",
            "proposal_code": HORMONOTHERAPY,
            "proposal_details": "Fulvestrant si l'état général le permet ; soins palliatifs "
            "renforcés.",
            **GUIDELINE,
        },
        outcome={"state": "deceased"},
        days=4,
    ),
    Aftercare(
        ("F", 40, 60),
        _breast(
            synthesis="Microcalcifications étendues du sein droit, microbiopsie : carcinome "
            "canalaire in situ de haut grade avec foyer infiltrant de 6 mm.",
            question="Mastectomie d'emblée ?",
            discovery_screening="yes",
            tumour_rows=[
                _tumour(
                    "C50.4",
                    "8500/3",
                    28,
                    {
                        "clinical_t": "T1b",
                        "clinical_n": "N0",
                        "clinical_m": "M0",
                        "laterality_code": RIGHT,
                    },
                    {"breast.er": "85", "breast.pr": "50", "breast.her2": "0"},
                )
            ],
        ),
        {
            "outcome": "discussed",
            "proposal_code": SURGERY,
            "proposal_details": "Mastectomie totale droite et ganglion sentinelle, "
            "reconstruction immédiate proposée.",
            **GUIDELINE,
        },
        overdue=True,
    ),
]

# --- the care programmes of the session's first two patients ---------------------------------

NURSE = {
    "nurse_name": "Mme LE GOFF Anne, infirmière de coordination (IDEC)",
    "nurse_phone": "02 99 41 27 63",
    "care_centre_name": "3C de l'Institut Marie-Sklodowska",
    "care_centre_phone": "02 99 41 20 00",
}
# The first patient: surgery, then radiotherapy; (days from today) for the dates.
VALIDATED_PLAN = {
    "treatments": [
        {
            "kind": "387713003",
            "source": "proposal",
            "description": "Opération pour retirer la tumeur du sein droit et le premier "
            "ganglion sous le bras (ganglion sentinelle).",
            "planned_start": 15,
            "place": "Institut Marie-Sklodowska, bloc opératoire (2e étage)",
            "team": "Dr NGUYEN Julien",
        },
        {
            "kind": "C15313",
            "source": "added",
            "description": "Rayons sur le sein droit, 5 jours par semaine pendant 3 semaines, "
            "une fois la cicatrice guérie.",
            "planned_start": 60,
            "place": "Service de radiothérapie de l'Institut",
            "team": "Dr LEFÈVRE Benoît",
        },
    ],
    "supportive_care": [
        {"kind": "ORG-036", "details": "Consultation diététique avant l'opération."},
        {"kind": "ORG-175", "details": "Séances collectives d'activité physique adaptée."},
    ],
    "social_assessment": "Vit en couple, deux enfants au collège. Secrétaire comptable, arrêt de "
    "travail prévu pendant les traitements.",
    "social_support": [
        {
            "kind": "PAT-027",
            "details": "Entretien avec l'assistante sociale pour préparer la "
            "reprise à temps partiel thérapeutique.",
        }
    ],
    "appointments": [
        {
            "date": 4,
            "time": "10:30",
            "kind": "11429006",
            "description": "Consultation d'annonce avec l'infirmière de coordination",
            "place": "Consultations, rez-de-chaussée",
        },
        {
            "date": 9,
            "time": "08:15",
            "kind": "MED-092",
            "description": "IRM des deux seins demandée par la RCP",
            "place": "Imagerie, 1er étage",
        },
    ],
    "comments": "Apporter la liste des médicaments et les anciens examens à chaque rendez-vous.",
}
# Version 2: the operating theatre moved the surgery by a week.
AMENDMENT = {
    "postpone_days": 7,
    "motive": "GEN-176",
    "reason": "Date de l'opération décalée d'une semaine (programme du bloc opératoire).",
}
# The second patient's programme, still being written: the proposal (pre-filled) and the
# contacts carried over from the last programme of the RCP.
DRAFT_PLAN = {
    "treatments": [
        {
            "kind": "C15313",
            "source": "added",
            "description": "Rayons sur le sein gauche après l'opération.",
            "planned_start": 30,
            "place": "Service de radiothérapie de l'Institut",
            "team": "",
        }
    ],
    "social_assessment": "Retraitée, vit seule ; sa fille habite à proximité.",
}
