"""PPS snapshots for the document tests, independent of the database.

A PPS snapshot is the JSON-serialisable dict frozen when a personalised care programme version
is validated (rcp_app/pps/snapshot.py builds it from the database); the CDA R2 CANCER-PPS, the
patient PDF and everything sent out are generated from it alone. Same conventions as the fiche
snapshot (tests/fiches/samples.py): days "YYYY-MM-DD", instants "YYYY-MM-DDTHH:MM:SS+01:00"
(Paris offset), a coded value {"code", "system" (OID), "label", "display"}, None when absent.
The keys ``document``, ``custodian``, ``patient`` and ``people.author`` /
``people.legal_authenticator`` have the fiche's shapes, so the header code and the XDM archive
read both alike.
"""

from __future__ import annotations

import copy

from tests.fiches.samples import (
    ANS_ORG,
    CIM10,
    COORDINATOR,
    GP,
    ICDO3,
    NCIT,
    ORGAN_BREAST,
    REQUESTER,
    SNOMED,
    _with,
    coded,
)

LOINC = "2.16.840.1.113883.6.1"

PPS_BREAST = {
    "schema": 1,
    "document": {
        "id": "3f6b1d2e-8a4c-4b7d-9e10-2c3d4e5f6a7b",  # this version (UUID)
        "set_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",  # all versions of the PPS (UUID)
        "version": 1,
        "effective_time": "2026-12-03T10:15:00+01:00",  # validation instant
        "title": "Programme personnalisé de soins",
        "oid_root": "1.2.250.1.999.1",  # RCP_OID_ROOT
        "amendment_reason": None,  # text, for version > 1
        # JDV_MotifMiseAJour_CISIS, for version > 1 (why the programme was updated)
        "update_motive": None,
        "replaces_id": None,  # id (UUID) of the previous version, for version > 1
    },
    "custodian": {
        "name": "Centre hospitalier de Valmont",
        "finess": "750000001",
        "city": "Valmont",
    },
    "patient": copy.deepcopy(ORGAN_BREAST["patient"]),
    "people": {
        "author": REQUESTER,  # the physician who validated this version
        "legal_authenticator": REQUESTER,  # the same
        "referent": REQUESTER,  # the patient's referring physician (médecin référent)
        "gp": GP,  # None: unknown GP
        "rcp_coordinator": COORDINATOR,
    },
    # The RCP fiche (signed version) whose proposal this programme implements.
    "fiche": {
        "document_id": ORGAN_BREAST["document"]["id"],
        "set_id": ORGAN_BREAST["document"]["set_id"],
        "version": 1,
        "rcp_name": "RCP Sénologie",
        "session_date": "2026-11-26",
        "validated_at": "2026-11-26T18:42:00+01:00",
        "proposal": coded("387713003", SNOMED, "intervention chirurgicale"),
        "proposal_details": "Tumorectomie gauche avec ganglion sentinelle.",
    },
    # The cancer, copied from the fiche's tumours (same shape, only these keys).
    "diagnosis": [
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
            "stage": {"group": "IA", "edition": "UICC8", "basis": "clinical"},
        }
    ],
    # The treatment plan, in order. kind: JDV_TypeTraitementPPS_CISIS. source: "proposal" (the
    # RCP's first proposal), "alternative-N" (its alternative N) or "added" (written here).
    "treatments": [
        {
            "kind": coded("387713003", SNOMED, "intervention chirurgicale"),
            "description": "Tumorectomie gauche avec ganglion sentinelle.",
            "planned_start": "2026-12-15",  # or None
            "place": "Centre hospitalier de Valmont — bloc opératoire",
            "team": "Dr NGUYEN Paul (Chirurgie viscérale et digestive)",
            "source": "proposal",
        },
        {
            "kind": coded("C15313", NCIT, "radiothérapie"),
            "description": "Radiothérapie du sein gauche après la chirurgie (environ 3 semaines).",
            "planned_start": None,
            "place": "Centre hospitalier de Valmont — service de radiothérapie",
            "team": "Dr PETIT Anne (Radiothérapie)",
            "source": "added",
        },
    ],
    # Whom the patient calls. referent: the referring physician's phone. nurse / care_centre
    # (the 3C, centre de coordination en cancérologie): {"name", "phone"} or None.
    "contacts": {
        "referent_phone": "01 23 45 67 89",
        "nurse": {
            "name": "Mme GARNIER Sophie, infirmière de coordination",
            "phone": "01 23 45 67 90",
        },
        "care_centre": {"name": "3C du Centre hospitalier de Valmont", "phone": "01 23 45 67 00"},
    },
    # Supportive care proposed. kind: JDV_SoinsOncoDeSupport_CISIS.
    "supportive_care": [
        {
            "kind": coded("ORG-036", ANS_ORG, "Prise en charge diététique et nutritionnelle"),
            "details": "Rendez-vous avec la diététicienne avant la chirurgie.",
        },
        {
            "kind": coded("ORG-175", ANS_ORG, "Activité physique adaptée"),
            "details": "",
        },
    ],
    # Social and professional assessment: free text, and the support proposed
    # (JDV_TypeAccompagnementSocioPro_CISIS).
    "social": {
        "assessment": "Vit seule, secrétaire à temps plein, arrêt de travail prévu.",
        "support": [
            {
                "kind": coded("PAT-024", ANS_ORG, "Aide à domicile"),
                "details": "Aide ménagère pendant la convalescence.",
            }
        ],
    },
    # The next appointments, by date. kind: JDV_TypeDeSuivi_CISIS.
    "appointments": [
        {
            "date": "2026-12-08",
            "time": "09:30",  # or None
            "kind": coded("11429006", SNOMED, "consultation"),
            "description": "Consultation avec le chirurgien",
            "place": "Centre hospitalier de Valmont — consultations, 2e étage",
        },
        {
            "date": "2026-12-10",
            "time": None,
            "kind": coded("MED-091", ANS_ORG, "Examen de biologie"),
            "description": "Prise de sang avant l'opération",
            "place": "Laboratoire de votre choix",
        },
    ],
    "comments": "",
}


def pps_snapshot(**overrides) -> dict:
    """A deep copy of the breast PPS; keyword arguments replace top-level parts."""
    snapshot = copy.deepcopy(PPS_BREAST)
    snapshot.update(copy.deepcopy(overrides))
    return snapshot


# Variants: each changes only what its name says.


def several_treatments_snapshot() -> dict:
    """Surgery, then chemotherapy, radiotherapy and hormone therapy, with an alternative."""
    snapshot = pps_snapshot()
    snapshot["treatments"] += [
        {
            "kind": coded("C15632", NCIT, "chimiothérapie"),
            "description": "Chimiothérapie adjuvante, 4 cures toutes les 3 semaines.",
            "planned_start": "2027-01-12",
            "place": "Hôpital de jour d'oncologie",
            "team": "Dr MARTIN Claire (Oncologie médicale)",
            "source": "alternative-1",
        },
        {
            "kind": coded("C15445", NCIT, "hormonothérapie"),
            "description": "Hormonothérapie par comprimés pendant 5 ans.",
            "planned_start": "2027-04-01",
            "place": "À domicile",
            "team": "Dr MARTIN Claire (Oncologie médicale)",
            "source": "added",
        },
    ]
    return snapshot


def no_supportive_care_snapshot() -> dict:
    """Nothing proposed beyond the treatment: no supportive care, no social support, no
    appointment, no nurse or 3C contact, unknown GP."""
    snapshot = pps_snapshot(supportive_care=[], appointments=[])
    _with(snapshot, "social", assessment="", support=[])
    _with(snapshot, "contacts", nurse=None, care_centre=None)
    return _with(snapshot, "people", gp=None)


def amended_snapshot() -> dict:
    """Version 2, replacing version 1: the calendar changed."""
    snapshot = pps_snapshot()
    _with(
        snapshot,
        "document",
        id="4e7c2f3a-9b5d-4c8e-a1f2-3d4e5f6a7b8c",
        version=2,
        replaces_id=PPS_BREAST["document"]["id"],
        amendment_reason="Date de l'intervention avancée au 11/12/2026.",
        update_motive=coded("GEN-176", ANS_ORG, "Modification de calendrier"),
        effective_time="2026-12-05T14:00:00+01:00",
    )
    snapshot["treatments"][0]["planned_start"] = "2026-12-11"
    return snapshot


def unqualified_identity_snapshot() -> dict:
    """A provisional identity: the INS must not leave the application."""
    snapshot = pps_snapshot()
    return _with(snapshot, "patient", identity_status="PROV", ins=None)


def surveillance_snapshot() -> dict:
    """Active surveillance only (no treatment date, a follow-up imaging appointment)."""
    snapshot = pps_snapshot(
        treatments=[
            {
                "kind": coded("MED-227", ANS_ORG, "Surveillance active"),
                "description": "Surveillance par échographie tous les 6 mois.",
                "planned_start": None,
                "place": "",
                "team": "",
                "source": "proposal",
            }
        ],
        appointments=[
            {
                "date": "2027-06-03",
                "time": "14:00",
                "kind": coded("MED-092", ANS_ORG, "Examen d’imagerie médicale"),
                "description": "Échographie de contrôle",
                "place": "Service d'imagerie",
            }
        ],
    )
    _with(
        snapshot,
        "fiche",
        proposal=coded("MED-227", ANS_ORG, "Surveillance active"),
        proposal_details="Surveillance par échographie tous les 6 mois.",
    )
    return snapshot


VARIANTS = {
    "breast": pps_snapshot,
    "several_treatments": several_treatments_snapshot,
    "no_supportive_care": no_supportive_care_snapshot,
    "amended": amended_snapshot,
    "unqualified_identity": unqualified_identity_snapshot,
    "surveillance": surveillance_snapshot,
}
