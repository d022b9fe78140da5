"""Fiche snapshots for the document tests, independent of the database.

A snapshot is the JSON-serialisable dict frozen when a fiche is validated
(rcp_app/fiches/snapshot.py builds it from the database); the CDA, the PDF and everything sent
out are generated from it alone. Dates are ISO strings: "YYYY-MM-DD" for days,
"YYYY-MM-DDTHH:MM:SS+01:00" (Paris offset) for instants. A coded value is
{"code", "system" (OID), "label"}; an absent one is None.
"""

from __future__ import annotations

import copy

SPECIALTY_SYSTEM = "1.2.250.1.213.1.1.4.5"
ANS_ORG = "1.2.250.1.213.1.1.4.322"
SNOMED = "2.16.840.1.113883.6.96"
NCIT = "2.16.840.1.113883.3.26.1.1"
CIM10 = "2.16.840.1.113883.6.3"
ICDO3 = "2.16.840.1.113883.6.43.1"
TNM_SYSTEM = "2.16.840.1.113883.15.6"


def coded(code: str, system: str, label: str, display: str | None = None) -> dict:
    return {"code": code, "system": system, "label": label, "display": display or label}


def person(rpps, last, first, specialty_code, specialty_label, *, mssante=None, title="Dr"):
    return {
        "rpps": rpps,  # 11 digits; the national id is "8" + rpps (OID 1.2.250.1.71.4.2.1)
        "title": title,
        "last_name": last,
        "first_name": first,
        "specialty": coded(specialty_code, SPECIALTY_SYSTEM, specialty_label),
        "mssante": mssante,
        "establishment": {"name": "Centre hospitalier de Valmont", "finess": "750000001"},
    }


COORDINATOR = person(
    "10000000011",
    "Martin",
    "Claire",
    "G15_10/SM36",
    "Oncologie médicale",
    mssante="claire.martin@ch-valmont.mssante.fr",
)
SURGEON = person("10000000029", "Nguyen", "Paul", "G15_10/SM14", "Chirurgie viscérale et digestive")
RADIOTHERAPIST = person("10000000037", "Petit", "Anne", "G15_10/SM45", "Radiothérapie")
PATHOLOGIST = person(
    "10000000045", "Roux", "Marc", "G15_10/SM01", "Anatomie et cytologie pathologiques"
)
RADIOLOGIST = person(
    "10000000052", "Leroy", "Sophie", "G15_10/SM74", "Radiologie et imagerie médicale"
)
GP = person(
    "10000000060",
    "Bernard",
    "Luc",
    "G15_10/SM26",
    "Médecine générale",
    mssante="luc.bernard@medecin.mssante.fr",
)
REQUESTER = person(
    "10000000078",
    "Durand",
    "Julie",
    "G15_10/SM20",
    "Gynécologie-obstétrique",
    mssante="julie.durand@ch-valmont.mssante.fr",
)


ORGAN_BREAST = {
    "schema": 1,
    "document": {
        "id": "0d4a2c1e-6f0b-4c8e-9a53-2b1e7f3c9d10",  # this version (UUID)
        "set_id": "5b9e3f7a-1c2d-4e8f-a6b7-c8d9e0f1a2b3",  # all versions of the fiche (UUID)
        "version": 1,
        "effective_time": "2026-11-26T18:42:00+01:00",  # validation instant
        "title": "Fiche RCP",
        "oid_root": "1.2.250.1.999.1",  # RCP_OID_ROOT: our organisation's OID arc
        "amendment_reason": None,  # text, for version > 1
        "replaces_id": None,  # id (UUID) of the previous version, for version > 1
        "verification_code": "K7QF-3MZP-9TXD",
        "verification_url": "https://rcp.example.fr/verifier?code=K7QF-3MZP-9TXD",
    },
    "custodian": {
        "name": "Centre hospitalier de Valmont",
        "finess": "750000001",
        "city": "Valmont",
    },
    "rcp": {
        "name": "RCP Sénologie",
        "national_id": "RCP-75-SEIN-01",
        "nature": coded("ORG-117", ANS_ORG, "RCP Appareil - Organes"),
        "appareil": coded("76752008", SNOMED, "sein"),
        "theme": None,  # coded, JDV_TraitementSoins_FRCP, for a transversal RCP
        "is_recourse": False,
        "is_paediatric": False,
        "establishment": {"name": "Centre hospitalier de Valmont", "finess": "750000001"},
    },
    "session": {"id": 42, "starts_at": "2026-11-26T17:30:00+01:00", "place": "Salle Curie"},
    "patient": {
        "birth_name": "Dupont",
        "birth_first_names": "Marie Louise",
        "first_birth_first_name": "Marie",
        "used_name": "Lefèvre",
        "used_first_name": None,
        "sex": "F",  # M, F, I (administrativeGenderCode M, F, UN)
        "birth_date": "1961-04-12",
        "birthplace_code": "75056",
        "identity_status": "QUAL",  # PROV, RECUP, VALI, QUAL
        # Only for a qualified identity; None otherwise (then only the IPP identifies her).
        "ins": {"matricule": "261047505600123", "oid": "1.2.250.1.213.1.4.8"},
        "ipp": "IPP000123",
    },
    "case": {
        "id": 1234,  # registration id (inFulfillmentOf), under oid_root + ".2"
        "motives": {"diagnostic": False, "treatment": True, "recourse": False, "paediatric": False},
        "organ": coded("76752008", SNOMED, "sein"),  # JDV_RCP_Organe, None if transversal
        "discovery_screening": "yes",  # yes / no / unknown / None
        "phase": coded("MED-268", ANS_ORG, "Phase initiale du cancer"),
        "relapse_date": None,
        "progression": {"local": False, "regional": False, "distant": False},
        "performance_status": {
            "value": 0,
            "coded": coded("MED-240", ANS_ORG, "Echelle de performance OMS Stade 0"),
        },
        "g8_score": None,
        "comorbidities": "HTA traitée.",
        "medical_history": "Appendicectomie (1985).",
        "exam_results": "Mammographie : ACR 5 QSE gauche. IRM : lésion unifocale de 18 mm.",
        "surgery": None,  # {"text", "author", "date"} when given
        "pathology": {
            "text": "Carcinome infiltrant de type non spécifique, grade 2.",
            "author": "Dr ROUX Marc",
            "date": "2026-11-10",
        },
        "molecular": None,
        "synthesis": "Patiente de 65 ans, carcinome canalaire infiltrant du sein gauche.",
        "question": "Chirurgie première ou traitement néoadjuvant ?",
        "tumours": [
            {
                "rank": 1,
                "diagnosis_date": "2026-11-10",
                "topography": coded(
                    "C50.4", CIM10, "Tumeur maligne du quadrant supéro-externe du sein"
                ),
                "morphology": coded(
                    "8500/3", ICDO3, "Adénocarcinome canalaire infiltrant, SAI (C50.-)"
                ),
                "laterality": coded("7771000", SNOMED, "gauche"),
                "tnm_edition": "UICC8",
                "clinical": {"t": "cT1c", "n": "cN0", "m": "cM0"},
                "pathological": {"t": None, "n": None, "m": None},
                "stage": {"group": "IA", "edition": "UICC8", "basis": "clinical"},  # or None
                "other_stagings": [],  # [{"system", "version", "value"}]
                "biomarkers": [
                    {
                        "code": "er",
                        "label": "Récepteurs aux œstrogènes",
                        "value": "positive",
                        "value_label": "Positif",
                    },
                    {
                        "code": "her2",
                        "label": "HER2",
                        "value": "negative",
                        "value_label": "Négatif (score 0)",
                    },
                ],
                "comment": "",
            }
        ],
        "treatments": [
            {
                "type": coded("387713003", SNOMED, "intervention chirurgicale"),
                "status": "not_done",
                "status_label": "Non réalisé",
                "date": None,
                "comment": "",
            },
        ],
    },
    "people": {
        "author": COORDINATOR,  # the validating physician
        "legal_authenticator": COORDINATOR,  # the same, with decision validated_at
        "coordinator": COORDINATOR,
        "requester": REQUESTER,
        "presenter": REQUESTER,  # None when absent
        "gp": GP,  # None: unknown GP (nullFlavor)
        # Attendees of the session who count for the quorum, and the others.
        "quorum_members": [COORDINATOR, SURGEON, RADIOTHERAPIST, PATHOLOGIST],
        "other_attendees": [RADIOLOGIST],
        "copy_recipients": [],  # correspondents of the case
    },
    "decision": {
        "outcome": "discussed",  # discussed / registered
        "case_status": coded("ORG-134", ANS_ORG, "Cas discuté"),  # ORG-128 registered
        "proposal": coded(
            "387713003", SNOMED, "intervention chirurgicale"
        ),  # JDV_TypeTraitement_FRCP
        "proposal_details": "Tumorectomie gauche avec ganglion sentinelle.",
        "alternatives": [  # ranked 1, 2, … after the proposal
            {
                "rank": 1,
                "treatment": coded("C15632", NCIT, "chimiothérapie"),
                "details": "Chimiothérapie néoadjuvante si refus chirurgical.",
            },
        ],
        "active_surveillance": False,
        "exams_requested": "Échographie axillaire.",
        "recourse_referral": False,
        "recourse_rcp": "",
        "guideline": {
            "name": "Référentiel régional sein",
            "version": "2025",
            "date": "2025-01-15",
        },  # None when no guideline is cited
        "deviation_reason": "",
        "trial": None,  # {"name", "identifier"} when a trial is proposed
        "file_complete": True,
        "quorum": coded("ORG-126", ANS_ORG, "Quorum atteint"),
        "comments": "",
        "validated_at": "2026-11-26T18:42:00+01:00",
    },
}


def organ_snapshot(**overrides) -> dict:
    """A deep copy of the breast fiche; keyword arguments replace top-level parts."""
    snapshot = copy.deepcopy(ORGAN_BREAST)
    snapshot.update(copy.deepcopy(overrides))
    return snapshot


# Variants for the document tests: each changes only what its name says.


def _with(snapshot: dict, part: str, **changes) -> dict:
    snapshot[part] = {**snapshot[part], **copy.deepcopy(changes)}
    return snapshot


def transversal_snapshot() -> dict:
    """A supportive-care (transversal) RCP: a theme instead of an appareil and an organ."""
    snapshot = organ_snapshot()
    _with(
        snapshot,
        "rcp",
        name="RCP Soins de support",
        national_id="RCP-75-SOS-01",
        nature=coded("ORG-132", ANS_ORG, "RCP Transversale et de soins de support"),
        appareil=None,
        theme=coded("C15747", NCIT, "Soins de support"),
    )
    _with(snapshot, "case", organ=None)
    return snapshot


def registered_snapshot() -> dict:
    """A case registered without discussion: the guideline followed is then mandatory."""
    snapshot = organ_snapshot()
    return _with(
        snapshot,
        "decision",
        outcome="registered",
        case_status=coded("ORG-128", ANS_ORG, "Cas enregistré"),
        alternatives=[],
    )


def relapse_snapshot() -> dict:
    snapshot = organ_snapshot()
    return _with(
        snapshot,
        "case",
        phase=coded("MED-244", ANS_ORG, "Rechute du cancer"),
        relapse_date="2026-10-02",
        progression={"local": True, "regional": False, "distant": True},
    )


def multi_tumour_snapshot() -> dict:
    """Bilateral breast cancer: a second tumour with its own morphology and no staging."""
    snapshot = organ_snapshot()
    second = copy.deepcopy(snapshot["case"]["tumours"][0])
    second.update(
        rank=2,
        topography=coded("C50.1", CIM10, "Tumeur maligne de la partie centrale du sein"),
        morphology=coded("8520/3", ICDO3, "Carcinome lobulaire, SAI"),
        laterality=coded("24028007", SNOMED, "droit"),
        clinical={"t": None, "n": None, "m": None},
        stage=None,
        other_stagings=[{"system": "SBR", "version": None, "value": "grade 1"}],
        biomarkers=[],
        comment="Découverte à l'IRM.",
    )
    snapshot["case"]["tumours"].append(second)
    return snapshot


def minimal_snapshot() -> dict:
    """Every optional datum absent: unknown GP, no presenter, no treatment, no biomarker…"""
    snapshot = organ_snapshot()
    tumour = snapshot["case"]["tumours"][0]
    tumour.update(
        laterality=None,
        clinical={"t": None, "n": None, "m": None},
        stage=None,
        tnm_edition=None,
        biomarkers=[],
        other_stagings=[],
        comment="",
    )
    _with(
        snapshot,
        "case",
        discovery_screening=None,
        performance_status=None,
        g8_score=None,
        comorbidities="",
        medical_history="",
        exam_results="",
        pathology=None,
        treatments=[],
    )
    # Professionals the directory knows without an establishment.
    unattached = {**COORDINATOR, "establishment": None}
    _with(
        snapshot,
        "people",
        gp=None,
        presenter=None,
        other_attendees=[],
        author=unattached,
        legal_authenticator=unattached,
        requester={**REQUESTER, "establishment": None},
        quorum_members=[unattached, SURGEON, RADIOTHERAPIST],
    )
    return _with(
        snapshot,
        "decision",
        alternatives=[],
        exams_requested="",
        guideline=None,
        quorum=coded("ORG-133", ANS_ORG, "Quorum non atteint"),
    )


def unqualified_identity_snapshot() -> dict:
    """A provisional identity: the INS must not leave the application."""
    snapshot = organ_snapshot()
    return _with(snapshot, "patient", identity_status="PROV", ins=None)


def amendment_snapshot() -> dict:
    """Version 2 of the fiche, replacing version 1, with copies sent to correspondents."""
    snapshot = organ_snapshot()
    _with(
        snapshot,
        "document",
        id="7c1f0e2d-3b4a-4c5d-8e6f-708192a3b4c5",
        version=2,
        replaces_id=ORGAN_BREAST["document"]["id"],
        amendment_reason="Correction du TNM.",
        effective_time="2026-11-28T09:15:00+01:00",
    )
    _with(snapshot, "people", copy_recipients=[GP, RADIOLOGIST])
    return snapshot


def trial_snapshot() -> dict:
    """A clinical-trial proposal with active surveillance and a recourse referral."""
    snapshot = organ_snapshot()
    trial = {"name": "ESSAI-SEIN-2026", "identifier": "NCT01234567"}
    return _with(
        snapshot,
        "decision",
        trial=trial,
        active_surveillance=True,
        recourse_referral=True,
        recourse_rcp="RCP de recours régionale sein",
        alternatives=[
            {
                "rank": 1,
                "treatment": coded("C15632", NCIT, "chimiothérapie"),
                "details": "Chimiothérapie néoadjuvante.",
            },
            {
                "rank": 2,
                "treatment": coded("C15313", NCIT, "radiothérapie"),
                "details": "Radiothérapie exclusive.",
            },
        ],
    )


def full_clinical_snapshot() -> dict:
    """Every clinical report given: G8 screening, surgery, pathology and molecular conclusions."""
    snapshot = organ_snapshot()
    return _with(
        snapshot,
        "case",
        g8_score=13,
        surgery={
            "text": "Tumorectomie et ganglion sentinelle, marges saines.",
            "author": "Dr NGUYEN Paul",
            "date": "2026-11-18",
        },
        molecular={
            "text": "Pas de mutation BRCA1/2 identifiée.",
            "author": "Dr ROUX Marc",
            "date": "2026-11-20",
        },
        treatments=[
            {
                "type": coded("387713003", SNOMED, "intervention chirurgicale"),
                "status": "done",
                "status_label": "Réalisé",
                "date": "2026-11-18",
                "comment": "Tumorectomie.",
            },
            {
                "type": coded("C15313", NCIT, "radiothérapie"),
                "status": "not_done",
                "status_label": "Non réalisé",
                "date": None,
                "comment": "",
            },
        ],
    )
