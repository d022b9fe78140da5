"""The snapshot of a care programme version: every data item its documents show, frozen.

Same principle as the fiche (fiches/snapshot.py): the CDA and the patient PDF are generated
from this dict alone. The cancer and the RCP's proposal are copied from the fiche version in
force (frozen already); the identity of the patient and the people from today's records. The
shape is documented, with a complete example, in tests/pps/samples.py.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from ..directory.models import Professional, facility_type_coded
from ..extensions import db
from ..fiches import snapshot as fiche_snapshot
from . import values

SCHEMA_VERSION = 1
DIAGNOSIS_KEYS = (
    "rank",
    "diagnosis_date",
    "topography",
    "morphology",
    "laterality",
    "tnm_edition",
    "clinical",
    "pathological",
    "stage",
)


def _coded(value_set: dict, code: str | None) -> dict | None:
    return value_set[code].coded() if code in value_set else None


def _contact(name: str, phone: str) -> dict | None:
    return {"name": name, "phone": phone} if name else None


def build(
    *,
    plan,
    draft: dict,
    fiche_version,
    validator: Professional,
    validated_at: datetime,
    document_id: str,
    version: int,
    amendment_reason: str | None = None,
    update_motive: str | None = None,
    replaces_id: str | None = None,
) -> dict:
    """The snapshot of a programme being validated (read-only)."""
    frozen = fiche_version.snapshot_dict()
    case = plan.case
    concepts = fiche_snapshot.Concepts()
    establishment = fiche_version.fiche.session.rcp.establishment
    referent = db.session.get(Professional, draft["referent_id"]) if draft["referent_id"] else None
    return {
        "schema": SCHEMA_VERSION,
        "document": {
            "id": document_id,
            "set_id": plan.set_id,
            "version": version,
            "effective_time": fiche_snapshot.instant(validated_at),
            "title": "Programme personnalisé de soins",
            "oid_root": current_app.config["RCP_OID_ROOT"],
            "amendment_reason": amendment_reason,
            "update_motive": _coded(values.UPDATE_MOTIVES, update_motive),
            "replaces_id": replaces_id,
        },
        "custodian": {
            "name": establishment.name,
            "finess": establishment.finess,
            "city": establishment.city,
            "facility_type": facility_type_coded(establishment.facility_type_code),
        },
        "patient": fiche_snapshot.patient_identity(case.patient),
        "people": {
            "author": fiche_snapshot.person(validator, concepts),
            "legal_authenticator": fiche_snapshot.person(validator, concepts),
            "referent": fiche_snapshot.person(referent, concepts),
            "gp": fiche_snapshot.person(case.gp, concepts),
            "rcp_coordinator": frozen["people"].get("coordinator"),
        },
        "fiche": {
            "document_id": frozen["document"]["id"],
            "set_id": frozen["document"]["set_id"],
            "version": frozen["document"]["version"],
            "rcp_name": frozen["rcp"]["name"],
            "session_date": frozen["session"]["starts_at"][:10],
            "validated_at": frozen["decision"]["validated_at"],
            "proposal": frozen["decision"]["proposal"],
            "proposal_details": frozen["decision"]["proposal_details"],
        },
        "diagnosis": [
            {key: tumour.get(key) for key in DIAGNOSIS_KEYS} for tumour in frozen["case"]["tumours"]
        ],
        "treatments": [
            {**row, "kind": _coded(values.TREATMENT_KINDS, row["kind"])}
            for row in draft["treatments"]
        ],
        "contacts": {
            "referent_phone": draft["referent_phone"],
            "nurse": _contact(draft["nurse_name"], draft["nurse_phone"]),
            "care_centre": _contact(draft["care_centre_name"], draft["care_centre_phone"]),
        },
        "supportive_care": [
            {"kind": _coded(values.SUPPORTIVE_CARE, row["kind"]), "details": row["details"]}
            for row in draft["supportive_care"]
        ],
        "social": {
            "assessment": draft["social_assessment"],
            "support": [
                {"kind": _coded(values.SOCIAL_SUPPORT, row["kind"]), "details": row["details"]}
                for row in draft["social_support"]
            ],
        },
        "appointments": [
            {**row, "kind": _coded(values.APPOINTMENT_KINDS, row["kind"])}
            for row in draft["appointments"]
        ],
        "comments": draft["comments"],
    }
