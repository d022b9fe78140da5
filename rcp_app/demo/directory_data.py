"""Fictional establishments, professionals, RCPs and accounts of the demo.

Everything here is invented; identifiers (FINESS, RPPS) get valid Luhn keys so that they pass
the same checks as real ones. The keys of ``ESTABLISHMENTS`` are internal references only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

# Specialty codes (1.2.250.1.213.1.1.4.5), see terminology/builtin.py.
ONCOLOGY = "G15_10/SM36"
RADIOTHERAPY = "G15_10/SM37"
PATHOLOGY = "G15_10/SM01"
RADIODIAGNOSIS = "G15_10/SM44"
IMAGING = "G15_10/SM74"
NUCLEAR = "G15_10/SM28"
GENERAL_SURGERY = "G15_10/SM05"
DIGESTIVE_SURGERY = "G15_10/SM14"
THORACIC_SURGERY = "G15_10/SM11"
UROLOGY = "G15_10/SM12"
PLASTIC_SURGERY = "G15_10/SM10"
GYNAECOLOGY_SURGERY = "G15_10/SM20"
GYNAECOLOGY_MEDICAL = "G15_10/SM19"
GASTROENTEROLOGY = "G15_10/SM24"
PNEUMOLOGY = "G15_10/SM41"
GERIATRICS = "G15_10/SM18"
GENETICS = "G15_10/SM17"
HAEMATOLOGY = "G15_10/SM21"
GENERAL_PRACTICE = "G15_10/SM26"
ENT_SURGERY = "G15_10/SM34"

# MSSanté domain of the physicians in private practice (the Ordre des médecins' domain).
GP_MSSANTE_DOMAIN = "medecin.mssante.fr"


# National id of the (fictional) regional cancer network the demo RCPs are registered with.
DEMO_NETWORK_ID = "5301"


@dataclass(frozen=True)
class EstablishmentSpec:
    key: str
    name: str
    finess_body: str  # 8 digits; the 9th is a Luhn key
    city: str
    domain: str  # mail domain: <domain>.mssante.fr for MSSanté, <domain>.fr otherwise
    facility_type: str  # JDV_J02 category (directory.models.FACILITY_TYPES)
    rcp_manager_id: str  # national id of the establishment as RCP manager (6 digits)


ESTABLISHMENTS = [
    EstablishmentSpec(
        "chu",
        "Centre hospitalier universitaire de Rivière-Claire",
        "35000412",
        "Rivière-Claire",
        "chu-riviere-claire",
        "SA01",  # Etablissement public de santé
        "530101",
    ),
    EstablishmentSpec(
        "icms",
        "Institut de cancérologie Marie-Sklodowska",
        "35000903",
        "Rivière-Claire",
        "icm-sklodowska",
        "SA36",  # Centre anti-cancer (a CLCC)
        "530102",
    ),
]


@dataclass(frozen=True)
class ProfessionalSpec:
    first_name: str
    last_name: str
    specialty: str
    establishment: str | None  # EstablishmentSpec.key; None = private practice (GP)


PROFESSIONALS = [
    # Institut de cancérologie Marie-Sklodowska
    ProfessionalSpec("Claire", "Martin", ONCOLOGY, "icms"),
    ProfessionalSpec("Julien", "Nguyen", GYNAECOLOGY_SURGERY, "icms"),
    ProfessionalSpec("Benoît", "Lefèvre", RADIOTHERAPY, "icms"),
    ProfessionalSpec("Aïssatou", "N'Diaye", ONCOLOGY, "icms"),
    ProfessionalSpec("Hélène", "Rousseau", PATHOLOGY, "icms"),
    ProfessionalSpec("Chloé", "Garnier", IMAGING, "icms"),
    ProfessionalSpec("Rémi", "Le Gall", NUCLEAR, "icms"),
    ProfessionalSpec("Anaïs", "Dubois-Chevalier", PLASTIC_SURGERY, "icms"),
    ProfessionalSpec("Mathilde", "Faure", GENETICS, "icms"),
    ProfessionalSpec("Inès", "Boucher", GYNAECOLOGY_MEDICAL, "icms"),
    ProfessionalSpec("Gaëlle", "Perrin", RADIOTHERAPY, "icms"),
    ProfessionalSpec("Olivier", "Marchand", GYNAECOLOGY_SURGERY, "icms"),
    # Centre hospitalier universitaire de Rivière-Claire
    ProfessionalSpec("Sébastien", "Caron", GASTROENTEROLOGY, "chu"),
    ProfessionalSpec("Étienne", "Moreau", DIGESTIVE_SURGERY, "chu"),
    ProfessionalSpec("François", "Lemaire", ONCOLOGY, "chu"),
    ProfessionalSpec("Marie-José", "Fontaine", PNEUMOLOGY, "chu"),
    ProfessionalSpec("Jérôme", "Roux", THORACIC_SURGERY, "chu"),
    ProfessionalSpec("Cédric", "Bonnet", UROLOGY, "chu"),
    ProfessionalSpec("Noémie", "Girard", RADIOTHERAPY, "chu"),
    ProfessionalSpec("Karim", "Benali", ONCOLOGY, "chu"),
    ProfessionalSpec("Joëlle", "Mercier", PATHOLOGY, "chu"),
    ProfessionalSpec("Loïc", "Henry", RADIODIAGNOSIS, "chu"),
    ProfessionalSpec("Béatrice", "Lacroix", NUCLEAR, "chu"),
    ProfessionalSpec("Geneviève", "Blanchard", GERIATRICS, "chu"),
    ProfessionalSpec("Timothée", "Lambert", GENERAL_SURGERY, "chu"),
    ProfessionalSpec("Yann", "Kergoat", HAEMATOLOGY, "chu"),
    # General practitioners (médecins traitants), not attached to an establishment
    ProfessionalSpec("Sophie", "Bernard", GENERAL_PRACTICE, None),
    ProfessionalSpec("Yannick", "Le Goff", GENERAL_PRACTICE, None),
    ProfessionalSpec("Maëlle", "Guérin", GENERAL_PRACTICE, None),
    ProfessionalSpec("Hervé", "Dupuis", GENERAL_PRACTICE, None),
    ProfessionalSpec("Fatoumata", "Traoré", GENERAL_PRACTICE, None),
    ProfessionalSpec("Grégoire", "Lebrun-Pagès", GENERAL_PRACTICE, None),
    # Last, so that the RPPS numbers drawn for the others stay the same: the ENT surgeons of
    # the small RCP ORL. Dr Le Bihan belongs to that RCP only, so he is outside the care team
    # of every demo patient but his own.
    ProfessionalSpec("Morgane", "Kerjean", ENT_SURGERY, "chu"),
    ProfessionalSpec("Ronan", "Le Bihan", ENT_SURGERY, "chu"),
]

# The 2023 quorum rule for a standard RCP: a surgeon, a medical oncologist and a radiotherapist.
_TRIAD = (ONCOLOGY, RADIOTHERAPY)


@dataclass(frozen=True)
class RcpSpec:
    suffix: str  # national id = RCP-<FINESS>-<suffix>
    name: str
    establishment: str
    appareil: str | None  # SNOMED code (JDV_RCP_Appareil)
    theme: str | None  # transversal theme code (JDV_TraitementSoins_FRCP)
    coordinator: tuple[str, str]  # (first name, last name) of a ProfessionalSpec
    weekday: int  # 0 = lundi
    start: time
    place: str
    capacity: int
    required: tuple[str, ...]
    # National id of the RCP in the regional network's directory (None: not registered yet).
    registry_id: str | None = None
    recourse: bool = False


# fmt: off
RCPS = [
    RcpSpec("SEIN", "RCP Sénologie", "icms", "76752008", None, ("Claire", "Martin"),
            1, time(12, 30), "Salle Marie-Curie, bâtiment B, 2e étage", 25,
            (GYNAECOLOGY_SURGERY, *_TRIAD), "53010201"),
    RcpSpec("GYNECO", "RCP de recours Cancers gynécologiques", "icms", "53065001", None,
            ("Aïssatou", "N'Diaye"), 3, time(17, 30), "Salle Irène-Joliot-Curie", 15,
            (GYNAECOLOGY_SURGERY, *_TRIAD), "53010202", recourse=True),
    RcpSpec("DIGESTIF", "RCP Oncologie digestive", "chu", "86762007", None,
            ("Sébastien", "Caron"), 3, time(8, 0), "Pavillon Laennec, salle de staff", 30,
            (DIGESTIVE_SURGERY, *_TRIAD), "53010101"),
    RcpSpec("THORAX", "RCP Oncologie thoracique", "chu", "312419003", None,
            ("Marie-José", "Fontaine"), 2, time(13, 0), "Pavillon Laennec, salle 3", 20,
            (THORACIC_SURGERY, *_TRIAD), "53010102"),
    RcpSpec("URO", "RCP Onco-urologie", "chu", "122489005", None, ("Cédric", "Bonnet"),
            0, time(18, 0), "Bâtiment Necker, salle de réunion", 20,
            (UROLOGY, *_TRIAD), "53010103"),
    # Transversal: the geriatrician joins the standard surgeon/oncologist/radiotherapist trio.
    RcpSpec("ONCOGERIATRIE", "RCP Oncogériatrie", "chu", None, "ORG-130",
            ("Geneviève", "Blanchard"), 4, time(14, 0), "Pôle gériatrique, salle Ambroise-Paré",
            10, (GERIATRICS, GENERAL_SURGERY, *_TRIAD), "53010104"),
    # Small, with its own coordinating physician: the RCP of the demo's « outside » physician.
    RcpSpec("ORL", "RCP Cancers ORL et cervico-faciaux", "chu", "119253004", None,
            ("Morgane", "Kerjean"), 0, time(13, 0), "Bâtiment Necker, salle 2", 12,
            (ENT_SURGERY, *_TRIAD), "53010105"),
]
# fmt: on


@dataclass(frozen=True)
class AccountSpec:
    username: str
    role: str
    display_name: str
    email: str
    professional: tuple[str, str] | None = None  # (first name, last name) of a ProfessionalSpec
    # Coordinators: the establishments (EstablishmentSpec.key) whose RCPs they run.
    establishments: tuple[str, ...] = ()


ACCOUNTS = [
    AccountSpec("admin", "admin", "Laurent Perret", "laurent.perret@chu-riviere-claire.fr"),
    AccountSpec(
        "coordination",
        "coordinator",
        "Nathalie Cordier (secrétariat 3C)",
        "nathalie.cordier@chu-riviere-claire.fr",
        # The 3C (cancer coordination centre) runs the RCPs of both demo establishments.
        establishments=("chu", "icms"),
    ),
    AccountSpec(
        "dr.martin",
        "physician",
        "Dr Claire Martin",
        "claire.martin@icm-sklodowska.fr",
        ("Claire", "Martin"),
    ),
    AccountSpec(
        "dr.nguyen",
        "physician",
        "Dr Julien Nguyen",
        "julien.nguyen@icm-sklodowska.fr",
        ("Julien", "Nguyen"),
    ),
    AccountSpec(
        "dr.bernard",
        "gp",
        "Dr Sophie Bernard",
        "sophie.bernard@cabinet-bernard.fr",
        ("Sophie", "Bernard"),
    ),
    AccountSpec(
        "dr.lebihan",
        "physician",
        "Dr Ronan Le Bihan",
        "ronan.lebihan@chu-riviere-claire.fr",
        ("Ronan", "Le Bihan"),
    ),
    AccountSpec(
        "dpo",
        "dpo",
        "Armelle Quéré (déléguée à la protection des données)",
        "dpo@chu-riviere-claire.fr",
    ),
]
