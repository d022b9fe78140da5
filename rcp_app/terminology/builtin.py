"""The compact built-in value sets, typed in by hand from the CI-SIS tables.

Value-set names are those of the official ``JDV_*`` files so that importing the official
files later (``rcp terminology import``) updates these rows instead of duplicating them.
"""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from .models import Concept

SNOMED = "2.16.840.1.113883.6.96"
NCIT = "2.16.840.1.113883.3.26.1.1"
ANS_ORG = "1.2.250.1.213.1.1.4.322"
SPECIALTY_SYSTEM = "1.2.250.1.213.1.1.4.5"

APPAREIL = "JDV_RCP_Appareil_CISIS"
TRANSVERSAL_THEME = "JDV_TraitementSoins_FRCP_CISIS"
SPECIALTY = "JDV_J01_XdsAuthorSpecialty_CISIS"

BUILTIN: dict[str, tuple[str, list[tuple[str, str]]]] = {
    APPAREIL: (
        SNOMED,
        [
            ("76752008", "sein"),
            ("86762007", "système digestif"),
            ("312419003", "appareil respiratoire et/ou cavité thoracique"),
            ("122489005", "système urinaire"),
            ("90264002", "appareil génital masculin"),
            ("53065001", "appareil génital féminin"),
            ("119253004", "voie aérodigestive supérieure"),
            ("25087005", "système nerveux"),
            ("57171008", "structure du système hématopoïétique"),
            ("39937001", "peau"),
            ("387910009", "glande endocrine"),
            ("272673000", "os"),
            ("87784001", "tissus mous"),
            ("81745001", "œil"),
        ],
    ),
    TRANSVERSAL_THEME: (
        NCIT,
        [
            ("ORG-130", "Oncogériatrie"),
            ("ORG-129", "Oncogénétique"),
            ("C15747", "soins de support"),
            ("C15252", "soins palliatifs"),
            ("C3303", "douleur"),
            ("C3580", "métastases osseuses"),
            ("C63334", "Radiologie interventionnelle"),
            ("C16832", "oncologie médicale"),
            ("C71326", "préservation de la fertilité"),
            ("C7201", "tumeur rare"),
        ],
    ),
    # Medical specialties met in oncology RCPs (labels shortened from the RPPS nomenclature).
    SPECIALTY: (
        SPECIALTY_SYSTEM,
        [
            ("G15_10/SM36", "Oncologie médicale"),
            ("G15_10/SM37", "Oncologie radiothérapie"),
            ("G15_10/SM45", "Radiothérapie"),
            ("G15_10/SM35", "Oncologie, option onco-hématologie"),
            ("G15_10/SM01", "Anatomie et cytologie pathologiques"),
            ("G15_10/SM44", "Radiodiagnostic"),
            ("G15_10/SM74", "Radiologie et imagerie médicale"),
            ("G15_10/SM28", "Médecine nucléaire"),
            ("G15_10/SM05", "Chirurgie générale"),
            ("G15_10/SM14", "Chirurgie viscérale et digestive"),
            ("G15_10/SM11", "Chirurgie thoracique et cardio-vasculaire"),
            ("G15_10/SM12", "Chirurgie urologique"),
            ("G15_10/SM10", "Chirurgie plastique, reconstructrice et esthétique"),
            ("G15_10/SM31", "Neurochirurgie"),
            ("G15_10/SM34", "ORL et chirurgie cervico-faciale"),
            ("G15_10/SM20", "Gynécologie-obstétrique"),
            ("G15_10/SM19", "Gynécologie médicale"),
            ("G15_10/SM24", "Gastro-entérologie et hépatologie"),
            ("G15_10/SM41", "Pneumologie"),
            ("G15_10/SM21", "Hématologie"),
            ("G15_10/SM15", "Dermatologie et vénéréologie"),
            ("G15_10/SM32", "Neurologie"),
            ("G15_10/SM16", "Endocrinologie et métabolisme"),
            ("G15_10/SM18", "Gériatrie"),
            ("G15_10/SM17", "Génétique médicale"),
            ("G15_10/SM40", "Pédiatrie"),
            ("G15_10/SM27", "Médecine interne"),
            ("G15_10/SM02", "Anesthésie-réanimation"),
            ("G15_10/SM26", "Médecine générale"),
        ],
    ),
}


def load_builtin() -> int:
    """Insert the built-in concepts that are missing; returns how many were added."""
    existing = {
        (vs, code) for vs, code in db.session.execute(select(Concept.value_set, Concept.code))
    }
    added = 0
    for value_set, (system, concepts) in BUILTIN.items():
        for order, (code, label) in enumerate(concepts):
            if (value_set, code) in existing:
                continue
            db.session.add(
                Concept(
                    value_set=value_set,
                    code=code,
                    code_system=system,
                    label=label,
                    sort_order=order,
                )
            )
            added += 1
    db.session.flush()
    return added
