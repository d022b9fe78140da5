"""The compact built-in value sets, typed in by hand from the CI-SIS tables.

Value-set names and OIDs are those of the official ``JDV_*`` files, and codes, code systems
and labels are copied exactly, so that importing the official files later
(``flask rcp terminology import``) updates these rows instead of duplicating them.
(Exception: the specialty labels are shortened from the RPPS nomenclature; an import replaces
them with the official ones.)
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ..extensions import db
from . import builtin_clinical as clinical
from .builtin_clinical import ANS_ORG, CIM10, ICDO3, NCIT, SNOMED
from .models import Concept, ValueSet

SPECIALTY_SYSTEM = "1.2.250.1.213.1.1.4.5"

# Value-set names used across the code (the official file names).
APPAREIL = "JDV_RCP_Appareil_CISIS"
ORGAN = "JDV_RCP_Organe_CISIS"
TRANSVERSAL_THEME = "JDV_TraitementSoins_FRCP_CISIS"
SPECIALTY = "JDV_J01_XdsAuthorSpecialty_CISIS"
TREATMENT_TYPE = "JDV_TypeTraitement_FRCP_CISIS"
PERFORMANCE_STATUS = "JDV_OMSEchPerf_CISIS"
PHASE = "JDV_PhaseCancer_CISIS"
CASE_STATUS = "JDV_StatutCasPresente_CISIS"
QUORUM_STATUS = "JDV_StatutQuorum_CISIS"
LATERALITY = "JDV_ModificateurTopographique_CISIS"
TOPOGRAPHY = "JDV_Tumeur_CISIS"
MORPHOLOGY = "JDV_Morphologie_CISIS"
NATURE = "JDV_NatureDiscussion_CISIS"
DOC_STATUS = "JDV_StatutDoc_CISIS"

# Codes the application's logic refers to.
PHASE_INITIAL = "MED-268"
PHASE_RELAPSE = "MED-244"
CASE_REGISTERED = "ORG-128"
CASE_DISCUSSED = "ORG-134"
QUORUM_REACHED = "ORG-126"
QUORUM_NOT_REACHED = "ORG-133"
QUORUM_UNKNOWN = "GEN-010"
NATURE_ORGAN = "ORG-117"
NATURE_TRANSVERSAL = "ORG-132"
# OMS performance status 0..4 → code.
PERFORMANCE_STATUS_CODES = {0: "MED-240", 1: "MED-264", 2: "MED-265", 3: "MED-266", 4: "MED-267"}


@dataclass(frozen=True)
class BuiltinValueSet:
    oid: str
    # (code, code system, label, parent code or None), in display order.
    concepts: list[tuple[str, str, str, str | None]]


def _in(system: str, rows: list[tuple[str, str]]) -> list[tuple[str, str, str, None]]:
    return [(code, system, label, None) for code, label in rows]


BUILTIN: dict[str, BuiltinValueSet] = {
    APPAREIL: BuiltinValueSet(
        "1.2.250.1.213.1.1.5.597",
        _in(
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
    ),
    ORGAN: BuiltinValueSet("1.2.250.1.213.1.1.5.598", list(clinical.ORGANS)),
    TRANSVERSAL_THEME: BuiltinValueSet(
        "1.2.250.1.213.1.1.5.596",
        [
            ("ORG-130", ANS_ORG, "Oncogériatrie", None),
            ("ORG-129", ANS_ORG, "Oncogénétique", None),
            *_in(
                NCIT,
                [
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
        ],
    ),
    # Medical specialties met in oncology RCPs (labels shortened from the RPPS nomenclature).
    SPECIALTY: BuiltinValueSet(
        "1.2.250.1.213.1.1.5.461",
        _in(
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
    ),
    TREATMENT_TYPE: BuiltinValueSet(
        "1.2.250.1.213.1.1.5.595",
        [
            ("387713003", SNOMED, "intervention chirurgicale", None),
            *_in(
                NCIT,
                [
                    ("C15313", "radiothérapie"),
                    ("C15195", "curiethérapie"),
                    ("C15632", "chimiothérapie"),
                    ("C93352", "thérapie ciblée"),
                    ("C547", "Hormonothérapie"),
                    ("C15262", "immunothérapie"),
                    ("C63334", "Radiologie interventionnelle"),
                ],
            ),
            *_in(
                ANS_ORG,
                [
                    ("MED-556", "Fenêtre thérapeutique"),
                    ("MED-226", "Surveillance seule"),
                    ("MED-227", "Surveillance active"),
                ],
            ),
            ("C157891", NCIT, "endoscopie interventionnelle", None),
            *_in(
                ANS_ORG,
                [
                    ("MED-232", "Irathérapie"),
                    ("MED-126", "Allogreffe / Autogreffe"),
                    ("GEN-092.03.01", "Autre(s) traitement(s)"),
                    ("GEN-092.03.02", "Autre(s) traitement(s) médicamenteux spécifique(s)"),
                ],
            ),
            ("C15747", NCIT, "soins de support", None),
            ("C15252", NCIT, "soins palliatifs", None),
        ],
    ),
    PERFORMANCE_STATUS: BuiltinValueSet(
        "1.2.250.1.213.1.1.4.2.281.1",
        _in(
            ANS_ORG,
            [
                (code, f"Echelle de performance OMS Stade {grade}")
                for grade, code in PERFORMANCE_STATUS_CODES.items()
            ],
        ),
    ),
    PHASE: BuiltinValueSet(
        "1.2.250.1.213.1.1.4.2.281.13",
        _in(
            ANS_ORG,
            [(PHASE_INITIAL, "Phase initiale du cancer"), (PHASE_RELAPSE, "Rechute du cancer")],
        ),
    ),
    CASE_STATUS: BuiltinValueSet(
        "1.2.250.1.213.1.1.4.2.281.17",
        _in(ANS_ORG, [(CASE_REGISTERED, "Cas enregistré"), (CASE_DISCUSSED, "Cas discuté")]),
    ),
    QUORUM_STATUS: BuiltinValueSet(
        "1.2.250.1.213.1.1.4.2.281.16",
        _in(
            ANS_ORG,
            [
                (QUORUM_REACHED, "Quorum atteint"),
                (QUORUM_NOT_REACHED, "Quorum non atteint"),
                (QUORUM_UNKNOWN, "Ne sait pas"),
            ],
        ),
    ),
    # The laterality subset of the topographic modifiers.
    LATERALITY: BuiltinValueSet(
        "1.2.250.1.213.1.1.5.688",
        _in(
            SNOMED,
            [
                ("24028007", "droit"),
                ("7771000", "gauche"),
                ("51440002", "bilatéral"),
                ("66459002", "unilatéral(e)"),
                ("260528009", "médian(e)"),
            ],
        ),
    ),
    NATURE: BuiltinValueSet(
        "1.2.250.1.213.1.1.4.2.281.8",
        _in(
            ANS_ORG,
            [
                (NATURE_ORGAN, "RCP Appareil - Organes"),
                (NATURE_TRANSVERSAL, "RCP Transversale et de soins de support"),
            ],
        ),
    ),
    DOC_STATUS: BuiltinValueSet(
        "1.2.250.1.213.1.1.5.93",
        _in(
            SNOMED,
            [
                ("385651009", "en cours d'exécution"),
                ("398166005", "réalisé"),
                ("9571008", "approuvé"),
                ("29179001", "clôturé"),
            ],
        ),
    ),
    TOPOGRAPHY: BuiltinValueSet("1.2.250.1.213.1.1.4.2.281.21", _in(CIM10, clinical.TOPOGRAPHY)),
    MORPHOLOGY: BuiltinValueSet("1.2.250.1.213.1.1.5.585", _in(ICDO3, clinical.MORPHOLOGY)),
}


# The displayName of the official value set, where the built-in label above is shortened for
# the screens: documents (CDA, XDM metadata) must carry the official one. Once the value set
# is imported, its labels are the official ones and this table is no longer consulted.
OFFICIAL_DISPLAY: dict[str, dict[str, str]] = {
    SPECIALTY: {
        "G15_10/SM36": "Médecin - Oncologie, opt médicale (SM)",
        "G15_10/SM37": "Médecin - Oncologie, opt radiothérapie (SM)",
        "G15_10/SM45": "Médecin - Radio-thérapie (SM)",
        "G15_10/SM35": "Médecin - Oncologie, opt Onco-hématologie (SM)",
        "G15_10/SM01": "Médecin - Anatomie et Cytologie pathologiques (SM)",
        "G15_10/SM44": "Médecin - Radio-diagnostic (SM)",
        "G15_10/SM74": "Médecin - Radiologie et imagerie médicale (SM)",
        "G15_10/SM28": "Médecin - Médecine nucléaire (SM)",
        "G15_10/SM05": "Médecin - Chirurgie générale (SM)",
        "G15_10/SM14": "Médecin - Chirurgie viscérale et digestive (SM)",
        "G15_10/SM11": "Médecin - Chirurgie thoracique et cardio-vasculaire (SM)",
        "G15_10/SM12": "Médecin - Chirurgie urologique (SM)",
        "G15_10/SM10": "Médecin - Chirurgie plastique reconstruct et esthétique (SM)",
        "G15_10/SM31": "Médecin - Neuro-chirurgie (SM)",
        "G15_10/SM34": "Médecin - ORL et Chirurgie cervico-faciale (SM)",
        "G15_10/SM20": "Médecin - Gynécologie-obstétrique (SM)",
        "G15_10/SM19": "Médecin - Gynécologie médicale (SM)",
        "G15_10/SM24": "Médecin - Gastro-entérologie et hépatologie (SM)",
        "G15_10/SM41": "Médecin - Pneumologie (SM)",
        "G15_10/SM21": "Médecin - Hématologie (SM)",
        "G15_10/SM15": "Médecin - Dermatologie et Vénéréologie (SM)",
        "G15_10/SM32": "Médecin - Neurologie (SM)",
        "G15_10/SM16": "Médecin - Endocrinologie et métabolisme (SM)",
        "G15_10/SM18": "Médecin - Gériatrie (SM)",
        "G15_10/SM17": "Médecin - Génétique médicale (SM)",
        "G15_10/SM40": "Médecin - Pédiatrie (SM)",
        "G15_10/SM27": "Médecin - Médecine interne (SM)",
        "G15_10/SM02": "Médecin - Anesthésie-réanimation (SM)",
        "G15_10/SM26": "Médecin - Qualifié en Médecine Générale (SM)",
    },
}


def load_builtin() -> int:
    """Add the built-in value sets and concepts that are missing; returns how many concepts
    were added. Rows already present (built in or imported) keep their label and status; only
    a missing ``parent_code`` is filled in. Idempotent."""
    known_sets = set(db.session.scalars(select(ValueSet.name)))
    for name, value_set in BUILTIN.items():
        if name not in known_sets:
            db.session.add(ValueSet(name=name, oid=value_set.oid, source="builtin"))
    db.session.flush()

    existing = {
        (c.value_set, c.code): c
        for c in db.session.scalars(select(Concept).where(Concept.value_set.in_(BUILTIN)))
    }
    added = 0
    for name, value_set in BUILTIN.items():
        for order, (code, system, label, parent) in enumerate(value_set.concepts):
            concept = existing.get((name, code))
            if concept is not None:
                if parent and concept.parent_code is None:
                    concept.parent_code = parent
                continue
            db.session.add(
                Concept(
                    value_set=name,
                    code=code,
                    code_system=system,
                    label=label,
                    parent_code=parent,
                    sort_order=order,
                )
            )
            added += 1
    db.session.flush()
    return added
