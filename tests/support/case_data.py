"""A complete, valid case form (breast RCP) and helpers for the case tests."""

from __future__ import annotations

from datetime import date, timedelta

from rcp_app.extensions import db

BREAST = "76752008"
DIGESTIVE = "86762007"
THORACIC = "312419003"
MALE_GENITAL = "90264002"


def world(app, make, *, birth_date=date(1960, 5, 3), rcp_fields=None, session_fields=None):
    """An RCP (no fixed weekday: no generated sessions) with one planned session, a patient,
    a requester, a GP: their ids."""
    rcp = make.rcp(**{"weekday": None, **(rcp_fields or {})})
    session = make.session(rcp.id, **(session_fields or {}))
    requester = make.professional(last_name="Martin", first_name="Claire")
    gp = make.professional(last_name="Bernard", first_name="Louis", specialty_code="G15_10/SM26")
    patient = make.patient(birth_date=birth_date)
    return {
        "rcp": rcp.id,
        "session": session.id,
        "requester": requester.id,
        "gp": gp.id,
        "patient": patient.id,
    }


def case_form(ids: dict, **overrides) -> dict:
    """The POST body of a complete breast case (ER/PR/HER2, cTNM and pTNM)."""
    diagnosis = (date.today() - timedelta(days=40)).strftime("%d/%m/%Y")
    data = {
        "action": "save",
        "session_id": str(ids["session"]),
        "requester_id": str(ids["requester"]),
        "motive_treatment": "y",
        "nature": "organ",
        "appareil_code": BREAST,
        "organ_code": BREAST,
        "phase_code": "MED-268",
        "discovery_screening": "yes",
        "performance_status": "1",
        "g8_score": "",
        "comorbidities": "HTA traitée.",
        "medical_history": "Appendicectomie.",
        "exam_results": "Mammographie ACR5 gauche.",
        "pathology_conclusion": "Carcinome canalaire infiltrant, grade 2.",
        "pathologist_name": "Dr Durand",
        "pathology_date": diagnosis,
        "synthesis": "Patiente de 66 ans, carcinome du sein gauche opéré.",
        "question": "Indication d'une chimiothérapie adjuvante ?",
        "gp": str(ids["gp"]),
        "patient_informed_on": diagnosis,
        "patient_informed_by": "Dr Martin",
        "patient_non_opposition": "y",
        "tumour_rows-0-diagnosis_date": diagnosis,
        "tumour_rows-0-topography_code": "C50.4",
        "tumour_rows-0-morphology_code": "8500/3",
        "tumour_rows-0-laterality_code": "7771000",
        "tumour_rows-0-tnm_edition": "UICC8",
        "tumour_rows-0-clinical_t": "T2",
        "tumour_rows-0-clinical_n": "N0",
        "tumour_rows-0-clinical_m": "M0",
        "tumour_rows-0-pathological_t": "pT2",
        "tumour_rows-0-pathological_n": "pN1a",
        "tumour_rows-0-pathological_m": "",
        "tumour_rows-0-staging_rows-0-system": "",
        "tumour_rows-0-staging_rows-0-system_version": "",
        "tumour_rows-0-staging_rows-0-value": "",
        "tumour_rows-0-bm_breast_er": "90",
        "tumour_rows-0-bm_breast_pr": "40 %",
        "tumour_rows-0-bm_breast_her2": "1+",
        "tumour_rows-0-bm_breast_ki67": "25",
        "tumour_rows-0-bm_breast_sbr": "2",
        "tumour_rows-0-comment": "",
        "treatment_rows-0-type_code": "387713003",
        "treatment_rows-0-status": "done",
        "treatment_rows-0-treatment_date": diagnosis,
        "treatment_rows-0-comment": "Tumorectomie et ganglion sentinelle.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def new_url(ids: dict) -> str:
    return f"/dossiers/nouveau?patient_id={ids['patient']}&rcp_id={ids['rcp']}"


def only_case_id(app, patient_id: int) -> int:
    from sqlalchemy import select

    from rcp_app.cases.models import Case

    with app.app_context():
        ids = db.session.scalars(select(Case.id).where(Case.patient_id == patient_id)).all()
    assert len(ids) == 1, ids
    return ids[0]
