"""The CDA of fiches validated through the application (database -> snapshot -> CDA) passes the
XSD and the ANS schematrons, for a varied set of cases."""

from __future__ import annotations

import os
from datetime import date

import pytest

from rcp_app.auth.models import User
from rcp_app.cases.models import Biomarker, Treatment, Tumour
from rcp_app.extensions import db
from rcp_app.fiches import operations as ops
from rcp_app.meetings.models import AgendaItem
from rcp_app.patients.models import Patient
from tests.fiches.conformance import ans_cisis_dir, schematron_failures, xsd_errors
from tests.fiches.support import READY, build_world, version_bytes

pytestmark = pytest.mark.skipif(
    not os.environ.get("CI") and not (ans_cisis_dir() / "schematrons").is_dir(),
    reason="ANS CI-SIS files absent (../shared/ans-cisis); under CI=true these tests fail instead",
)


def _tumour(case_id, rank, topography, morphology, **fields):
    return Tumour(
        case_id=case_id,
        rank=rank,
        topography_code=topography,
        morphology_code=morphology,
        diagnosis_date=date(2026, 10, 2),
        **fields,
    )


def _enrich(app, world, variant: str) -> None:
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        case = item.case
        if variant in ("organ_full", "relapse", "two_tumours"):
            tumour = case.tumours[0]  # build_world's: topography only
            tumour.morphology_code = "8500/3"
            tumour.diagnosis_date = date(2026, 10, 2)
            tumour.laterality_code = "7771000"
            tumour.tnm_edition = "UICC8"
            tumour.clinical_t, tumour.clinical_n, tumour.clinical_m = "cT2", "cN1", "cM0"
            tumour.stage_group, tumour.stage_edition, tumour.stage_basis = (
                "IIB",
                "UICC8",
                "clinical",
            )
            tumour.biomarkers = [Biomarker(code="breast.er", value="90")]
            db.session.add(tumour)
            db.session.add(
                Treatment(
                    case_id=case.id,
                    rank=1,
                    type_code="387713003",
                    status="done",
                    treatment_date=date(2026, 10, 20),
                )
            )
            case.performance_status = 1
            case.pathology_conclusion = "Carcinome canalaire infiltrant grade 2."
            case.pathologist_name = "Dr Roux"
            case.pathology_date = date(2026, 10, 5)
            case.medical_history = "Appendicectomie."
            case.comorbidities = "HTA."
            case.exam_results = "IRM : lésion unifocale."
        if variant == "relapse":
            case.phase_code = "MED-244"
            case.relapse_date = date(2026, 9, 1)
            case.progression_distant = True
        if variant == "two_tumours":
            db.session.add(_tumour(case.id, 2, "C50.1", "8520/3", laterality_code="24028007"))
        if variant == "unqualified":
            db.session.get(Patient, case.patient_id).identity_status = "VALI"
        db.session.commit()


def _world(app, make, variant: str):
    if variant == "registered":
        return build_world(app, make, decision={**READY, "outcome": "registered"})
    if variant != "transversal":
        return build_world(app, make)
    return build_world(
        app,
        make,
        nature="transversal",
        appareil_code=None,
        theme_code="ORG-130",
        rcp_fields={"nature": "transversal", "appareil_code": None, "theme_code": "ORG-130"},
    )


VARIANTS = [
    "minimal",
    "organ_full",
    "relapse",
    "two_tumours",
    "unqualified",
    "registered",
    "transversal",
    "amended",
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_generated_cda_is_conformant(app, make, variant):
    world = _world(app, make, variant)
    _enrich(app, world, variant)
    with app.app_context():
        item = db.session.get(AgendaItem, world.item_id)
        user = db.session.get(User, world.validator_user_id)
        ops.validate(item, user)
        db.session.commit()
        if variant == "amended":
            fiche = ops.fiches_of_session(item.session)[item.case_id]
            ops.amend(fiche, user, {**READY, "exams_requested": "TEP-TDM"}, "Ajout d'un examen", 1)
            db.session.commit()
    version = 2 if variant == "amended" else 1
    cda = version_bytes(app, world.case_id, version, "cda")
    assert xsd_errors(cda) == []
    assert schematron_failures(cda) == []
