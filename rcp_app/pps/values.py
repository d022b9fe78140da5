"""The coded values a care programme uses: the CI-SIS CANCER-PPS 2022.01 value sets.

Each is a small, stable list of the official codes with their display names (checked against
the ANS value set files by tests/pps/test_values.py). The label people read is the official
one, shortened where it would not fit a list.
"""

from __future__ import annotations

from dataclasses import dataclass

ANS = "1.2.250.1.213.1.1.4.322"  # Terminologie CI-SIS
SNOMED = "2.16.840.1.113883.6.96"
NCIT = "2.16.840.1.113883.3.26.1.1"


@dataclass(frozen=True)
class Code:
    code: str
    system: str
    display: str  # the value set's displayName (documents)
    label: str = ""  # what the screens show, when it differs

    def coded(self) -> dict:
        """The snapshot's coded value {"code", "system", "label", "display"}."""
        return {
            "code": self.code,
            "system": self.system,
            "label": self.label or self.display,
            "display": self.display,
        }


def _by_code(*codes: Code) -> dict[str, Code]:
    return {c.code: c for c in codes}


# JDV_TypeTraitementPPS_CISIS (1.2.250.1.213.1.1.5.478)
TREATMENT_KINDS = _by_code(
    Code("387713003", SNOMED, "intervention chirurgicale", "Chirurgie"),
    Code("C15313", NCIT, "radiothérapie", "Radiothérapie"),
    Code("C15195", NCIT, "curiethérapie", "Curiethérapie"),
    Code("C15632", NCIT, "chimiothérapie", "Chimiothérapie"),
    Code("C93352", NCIT, "thérapie ciblée", "Thérapie ciblée"),
    Code("C15445", NCIT, "hormonothérapie", "Hormonothérapie"),
    Code("C15262", NCIT, "immunothérapie", "Immunothérapie"),
    Code("C63334", NCIT, "Radiologie interventionnelle"),
    Code("C157891", NCIT, "endoscopie interventionnelle", "Endoscopie interventionnelle"),
    Code("MED-232", ANS, "Irathérapie"),
    Code("MED-126", ANS, "Allogreffe / Autogreffe"),
    Code("MED-556", ANS, "Fenêtre thérapeutique"),
    Code("MED-226", ANS, "Surveillance seule"),
    Code("MED-227", ANS, "Surveillance active"),
    Code("GEN-092.03.01", ANS, "Autre(s) traitement(s)"),
)
OTHER_TREATMENT = "GEN-092.03.01"
# The RCP proposes from JDV_TypeTraitement_FRCP; the PPS plans from JDV_TypeTraitementPPS. The
# codes are shared but for these (the others map to themselves when the PPS set has them).
FRCP_TO_PPS = {
    "C547": "C15445",  # Hormonothérapie
    "GEN-092.03.02": OTHER_TREATMENT,  # Autre(s) traitement(s) médicamenteux spécifique(s)
    "C15252": OTHER_TREATMENT,  # soins palliatifs
    "C15747": OTHER_TREATMENT,  # soins de support (as a proposal)
}

# JDV_SoinsOncoDeSupport_CISIS
SUPPORTIVE_CARE = _by_code(
    Code("ORG-035", ANS, "Traitement de la douleur"),
    Code("ORG-036", ANS, "Prise en charge diététique et nutritionnelle"),
    Code("ORG-175", ANS, "Activité physique adaptée"),
    Code("ORG-176", ANS, "Conseil d’hygiène de vie"),
    Code(
        "ORG-037",
        ANS,
        "Soutien psychologique des proches et des aidants des personnes atteintes de cancer",
        "Soutien psychologique des proches et des aidants",
    ),
    Code(
        "MED-051",
        ANS,
        "Soutien à la mise en oeuvre de la préservation de la fertilité",
        "Préservation de la fertilité",
    ),
    Code("MED-562", ANS, "Soutien au sevrage tabagique"),
    Code("MED-563", ANS, "Soutien au sevrage alcoolique"),
    Code("MED-564", ANS, "Soutien au sevrage (autre addiction)"),
    Code("ORG-174", ANS, "Continuité de la scolarité"),
    Code("GEN-092.04.07", ANS, "Autre soins de support", "Autre soin de support"),
)

# JDV_TypeAccompagnementSocioPro_CISIS
SOCIAL_SUPPORT = _by_code(
    Code("PAT-024", ANS, "Aide à domicile"),
    Code(
        "PAT-026",
        ANS,
        "Sortie de l’arrêt de travail (invalidité, retraite, médecine du travail)",
    ),
    Code("PAT-027", ANS, "Reprise du poste ou réinsertion professionnelle"),
    Code("GEN-092.04.08", ANS, "Autre type d'accompagnement socioprofessionnel"),
)

# JDV_TypeDeSuivi_CISIS
APPOINTMENT_KINDS = _by_code(
    Code("11429006", SNOMED, "consultation", "Consultation"),
    Code("MED-091", ANS, "Examen de biologie"),
    Code("MED-092", ANS, "Examen d’imagerie médicale"),
    Code("GEN-092.04.06", ANS, "Autre type de suivi", "Autre rendez-vous"),
)

# JDV_MotifMiseAJour_CISIS: why a new version of the programme is issued.
UPDATE_MOTIVES = _by_code(
    Code("MED-560", ANS, "Réajustement du programme thérapeutique et de suivi"),
    Code("MED-561", ANS, "Réajustement des soins de support et accompagnements"),
    Code("GEN-176", ANS, "Modification de calendrier"),
    Code("GEN-175", ANS, "Modification d’informations administratives"),
    Code("263855007", SNOMED, "rechute", "Rechute"),
    Code("MED-103", ANS, "Non réponse ou évolution sous traitement"),
    Code("MED-104", ANS, "Refus de traitement"),
    Code("MED-105", ANS, "Décision de prise en soins palliatifs"),
    Code("MED-556", ANS, "Fenêtre thérapeutique"),
    Code("GEN-092.08.02", ANS, "Autre motif de mise à jour"),
)

# Where a planned treatment comes from (snapshot "source"): the RCP's proposal, one of its
# alternatives ("alternative-N"), or added by the physician with the patient.
SOURCE_PROPOSAL, SOURCE_ADDED = "proposal", "added"


def choices(value_set: dict[str, Code], empty: str | None = None) -> list[tuple[str, str]]:
    rows = [(c.code, c.label or c.display) for c in value_set.values()]
    return [("", empty), *rows] if empty is not None else rows


def pps_treatment_code(frcp_code: str | None) -> str | None:
    """The PPS treatment kind for an RCP proposal code (None when the proposal has none)."""
    if not frcp_code:
        return None
    code = FRCP_TO_PPS.get(frcp_code, frcp_code)
    return code if code in TREATMENT_KINDS else OTHER_TREATMENT
